"""Many concurrent producers, one stream of what they produce, in arrival order.

The resolver runs a fixed pool of workers (tasks in one process, or worker processes)
that each hand over results; the caller iterates one async stream and can stop it at
any time. :func:`fan_in` is that pattern once: a bounded queue (producers wait while
the consumer is busy, so results never pile up), the first producer failure raised to
the consumer, and every producer cancelled when the stream ends or is closed early.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar, cast

T = TypeVar("T")

Emit = Callable[[T], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Failed:
    error: Exception


_DONE = object()  # a producer finished


async def fan_in(
    producer: Callable[[Emit[T]], Awaitable[None]], count: int, maxsize: int
) -> AsyncGenerator[T, None]:
    """Run ``count`` copies of ``producer`` (each given the function that emits an item)
    and yield their items as they come; a producer's exception is raised here."""
    queue: asyncio.Queue[T | _Failed | object] = asyncio.Queue(maxsize)

    async def run() -> None:
        try:
            await producer(queue.put)
        except Exception as exc:  # handed to the consumer: it ends the stream
            await queue.put(_Failed(exc))
        else:
            await queue.put(_DONE)

    tasks = [asyncio.create_task(run()) for _ in range(count)]
    try:
        running = count
        while running:
            item = await queue.get()
            if item is _DONE:
                running -= 1
            elif isinstance(item, _Failed):
                raise item.error
            else:
                yield cast(T, item)  # neither marker: a producer's item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
