"""Time and concurrency limits for network work: a pausable deadline, per-host slots.

Shared by the resolver (and the fetcher when it wants them): :class:`Deadline` bounds
the time one item may spend on the network, whatever the per-read timeouts say, so a
server dripping a byte a second cannot hold a task; :class:`HostLimiter` keeps at most
``per_host`` requests in flight to one host.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

Sleep = Callable[[float], Awaitable[None]]


class DeadlineExceeded(Exception):
    """The whole-URL deadline ran out."""


class Deadline:
    """The whole-URL deadline: one timer per URL, paused while the URL waits on our account.

    Retry waits and queueing for a per-host slot are not the server's time, so the timer
    is stopped during them and restarted with what was left.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._loop = asyncio.get_running_loop()
        self._timeout = asyncio.timeout(seconds)
        self._left = seconds

    async def __aenter__(self) -> None:
        await self._timeout.__aenter__()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self._timeout.__aexit__(kind, exc, tb)
        except TimeoutError:
            raise DeadlineExceeded(f"whole-URL deadline of {self.seconds:g}s exceeded") from None

    def pause(self) -> None:
        """Stop counting (the time left is kept)."""
        when = self._timeout.when()
        if when is not None and not self._timeout.expired():
            self._left = when - self._loop.time()
            self._timeout.reschedule(None)

    def resume(self) -> None:
        """Count again from what was left."""
        if not self._timeout.expired():
            self._timeout.reschedule(self._loop.time() + self._left)

    def excluding(self, sleep: Sleep) -> Sleep:
        """``sleep``, with the deadline paused while it waits."""

        async def paused_sleep(seconds: float) -> None:
            self.pause()
            try:
                await sleep(seconds)
            finally:
                self.resume()

        return paused_sleep


@dataclass(slots=True)
class _HostSlots:
    semaphore: asyncio.Semaphore
    users: int = 0


class HostLimiter:
    """A semaphore per host, created on demand and dropped when nobody uses it."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._hosts: dict[str, _HostSlots] = {}

    async def acquire(self, host: str, deadline: Deadline | None = None) -> None:
        """Wait for one of ``host``'s slots (with ``deadline`` paused if there is a queue)."""
        entry = self._hosts.get(host)
        if entry is None:
            entry = self._hosts[host] = _HostSlots(asyncio.Semaphore(self.per_host))
        entry.users += 1
        paused = deadline if deadline is not None and entry.semaphore.locked() else None
        if paused is not None:
            paused.pause()
        try:
            await entry.semaphore.acquire()
        except BaseException:
            self._drop(host, entry)
            raise
        finally:
            if paused is not None:
                paused.resume()

    def release(self, host: str) -> None:
        """Give the slot back."""
        entry = self._hosts[host]
        entry.semaphore.release()
        self._drop(host, entry)

    def _drop(self, host: str, entry: _HostSlots) -> None:
        entry.users -= 1
        if entry.users == 0:
            del self._hosts[host]
