"""fan_in: many producers, one bounded stream, failures raised, producers stopped at the end."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

import pytest

from scraper.resolve.fan_in import Emit, fan_in


async def test_every_item_of_every_producer_arrives_once() -> None:
    """Producers share one source; the stream yields each item once and then ends."""
    source = iter(range(100))

    async def produce(emit: Emit[int]) -> None:
        for number in source:
            await asyncio.sleep(0)
            await emit(number)

    got = [n async for n in fan_in(produce, 7, maxsize=3)]
    assert sorted(got) == list(range(100))


async def test_a_producer_failure_ends_the_stream_and_stops_the_others() -> None:
    """The first exception reaches the consumer; the other producers are cancelled."""
    stopped = 0
    counter = itertools.count()

    async def produce(emit: Emit[int]) -> None:
        nonlocal stopped
        try:
            while True:
                number = next(counter)
                if number == 20:
                    raise ValueError("bad item 20")
                await emit(number)
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            stopped += 1
            raise

    with pytest.raises(ValueError, match="bad item 20"):
        [n async for n in fan_in(produce, 4, maxsize=2)]
    assert stopped == 3


async def test_closing_the_stream_early_cancels_the_producers() -> None:
    """A consumer that stops after a few items leaves no producer running."""
    running = 0

    async def produce(emit: Emit[int]) -> None:
        nonlocal running
        running += 1
        try:
            for number in itertools.count():
                await emit(number)
        finally:
            running -= 1

    stream = fan_in(produce, 5, maxsize=1)
    async with contextlib.aclosing(stream):
        async for number in stream:
            if number >= 3:
                break
    assert running == 0
