"""An event loop whose clock the test moves: deadlines and timers without real waiting.

:class:`VirtualClockLoop` is asyncio's selector loop with ``time()`` answering a virtual
clock that only :meth:`VirtualClockLoop.advance` moves. Every timer asyncio schedules
(``asyncio.timeout``, ``asyncio.sleep``, ``call_later``) and every deadline the code
under test computes from ``loop.time()`` follows that clock, while sockets stay real
(loopback servers answer as fast as they can). A test therefore says exactly how much
time passes between two events, and the outcome does not depend on the machine's speed.

:func:`run_virtual` runs a coroutine on such a loop, with a real-time watchdog so that a
regression that hangs fails the test instead of stalling the suite.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
WATCHDOG_SECONDS = 20.0


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector event loop on a clock that stands still until the test advances it."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1000.0  # any start; asyncio only compares times

    def time(self) -> float:
        """The virtual time: what asyncio's timers and the code under test read."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass; timers now due run at the loop's next turn."""
        self.now += seconds


def clock() -> VirtualClockLoop:
    """The running loop, which must be a :class:`VirtualClockLoop`."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualClockLoop), "run the test with run_virtual()"
    return loop


def run_virtual(scenario: Callable[[], Awaitable[T]]) -> T:
    """Run ``scenario()`` on a fresh :class:`VirtualClockLoop`; fail after 20 real seconds."""
    with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
        loop = runner.get_loop()
        main = loop.create_task(_as_coroutine(scenario))
        # the watchdog counts real seconds: the virtual clock would never run it out
        watchdog = threading.Timer(WATCHDOG_SECONDS, loop.call_soon_threadsafe, [main.cancel])
        watchdog.start()
        try:
            return runner.run(_wait(main))
        finally:
            watchdog.cancel()


async def _as_coroutine(scenario: Callable[[], Awaitable[T]]) -> T:
    return await scenario()


async def _wait(task: asyncio.Task[T]) -> T:
    return await task
