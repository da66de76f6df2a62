"""Resolving on several cores: one :mod:`scraper.resolve.worker` process per share.

Following a redirect costs the resolver about half a millisecond of CPU, so one event
loop tops out near a thousand requests a second: with fast hosts and high concurrency
the run is CPU-bound. :func:`resolve_in_processes` splits the work over ``processes``
worker processes and streams their results back in completion order, exactly as
:func:`scraper.resolve.batch.resolve_iter` does in one process.

The run's limits are split, not multiplied: each worker gets a share of
``concurrency`` and of ``per_host`` (so there are never more workers than ``per_host``
allows), and the parent hands each worker at most ``PARKED_FACTOR * its concurrency``
URLs at a time, pulling lazily from the caller's iterable.

A worker that dies (killed, out of memory, a crash in a C library) is replaced; the
URLs it had in hand go to the new one. A URL that was in hand at two deaths comes back
as a ``failed`` result with an ``internal`` error rather than being tried forever;
after ``MAX_RESTARTS`` deaths of one share the run stops with :class:`ResolverPoolError`
(results already handed over are kept by the caller).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import functools
import json
import logging
import os
import sys
from collections.abc import AsyncGenerator, Iterator
from datetime import UTC, datetime

from scraper.config import ResolverConfig
from scraper.errors import ScraperError
from scraper.model import Resolution
from scraper.resolve.fan_in import Emit, fan_in
from scraper.resolve.resolver import PARKED_FACTOR
from scraper.resolve.worker import LINE_LIMIT, config_to_wire, resolution_from_wire

logger = logging.getLogger("scraper.resolve")

MAX_AUTO_PROCESSES = 4  # beyond this the parent's storing becomes the bottleneck
MAX_RESTARTS = 3  # deaths of one share's worker before the run gives up
DEATHS_PER_URL = 2  # a URL in hand at this many deaths is reported, not retried


class ResolverPoolError(ScraperError):
    """The resolver processes keep dying: the run cannot go on."""


def pool_size(config: ResolverConfig, cpus: int | None = None) -> int:
    """How many processes to resolve with: ``processes``, 0 meaning one per core (≤ 4).

    Never more than ``per_host``, so that each process keeps at least one request per
    host and the per-host bound still holds across them.
    """
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    wanted = config.processes or min(cpus or 1, MAX_AUTO_PROCESSES)
    return max(1, min(wanted, config.per_host, config.concurrency))


def share_of(config: ResolverConfig, processes: int) -> ResolverConfig:
    """One worker's config: its part of ``concurrency`` and ``per_host``."""
    return dataclasses.replace(
        config,
        concurrency=max(1, -(-config.concurrency // processes)),  # rounded up
        per_host=max(1, config.per_host // processes),  # rounded down: the bound holds
        processes=1,
    )


class _Work:
    """The URLs still to hand out, shared by every worker's driver."""

    def __init__(self, urls: Iterator[str]) -> None:
        self._urls = urls
        self.returned: collections.deque[str] = collections.deque()  # from a dead worker
        self.deaths: collections.Counter[str] = collections.Counter()

    def take(self) -> str | None:
        """The next URL (those a dead worker left first), None when there are no more."""
        if self.returned:
            return self.returned.popleft()
        return next(self._urls, None)


async def _start_worker(config: ResolverConfig) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scraper.resolve.worker",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=LINE_LIMIT,
    )
    assert process.stdin is not None
    level = logging.getLogger("scraper").getEffectiveLevel()
    process.stdin.write(config_to_wire(config, level))
    return process


def _lost(url: str, code: int | None) -> Resolution:
    """The result for a URL that was in hand each time a worker died."""
    return Resolution(
        url=url,
        status="failed",
        error=(
            f"internal: a resolver process died {DEATHS_PER_URL} times while resolving "
            f"this URL (last exit code {code}); `scraper resolve --retry-failed` tries again"
        ),
        resolved_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


class _Worker:
    """One worker process and the URLs it has in hand."""

    def __init__(self, process: asyncio.subprocess.Process, work: _Work, in_hand_max: int) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self.stdin = process.stdin
        self.stdout = process.stdout
        self.work = work
        self.in_hand_max = in_hand_max
        self.in_hand: set[str] = set()
        self.closed = False  # no more URLs: its stdin is closed

    def feed(self) -> None:
        """Hand the worker URLs up to its share; close its stdin when there are no more."""
        while not self.closed and len(self.in_hand) < self.in_hand_max:
            url = self.work.take()
            if url is None:
                self.stdin.close()
                self.closed = True
            else:
                self.in_hand.add(url)
                self.stdin.write(json.dumps(url).encode() + b"\n")

    async def run(self, emit: Emit[Resolution]) -> int:
        """Feed the worker and pass its results on until it is done or dies; its exit code."""
        try:
            self.feed()
            while self.in_hand or not self.closed:
                if not self.closed:  # a closed pipe's drain() raises
                    try:
                        await self.stdin.drain()
                    except (BrokenPipeError, ConnectionResetError):
                        # it died: no more URLs to it, but the results it wrote before
                        # are still in the pipe, and they are read to its end
                        self.stdin.close()
                        self.closed = True
                line = await self.stdout.readline()
                if not line.endswith(b"\n"):
                    break  # the worker is gone (mid-line, if it died writing)
                result = resolution_from_wire(line)
                self.in_hand.discard(result.url)
                await emit(result)
                self.feed()
        finally:
            if self.process.returncode is None and self.in_hand:
                self.process.kill()  # it stopped answering with URLs in hand
        return await self.process.wait()


async def _drive(
    config: ResolverConfig,
    work: _Work,
    emit: Emit[Resolution],
) -> None:
    """Keep one worker process fed until the work runs out; replace it if it dies."""
    deaths = 0
    while True:
        worker = _Worker(await _start_worker(config), work, PARKED_FACTOR * config.concurrency)
        try:
            code = await worker.run(emit)
        finally:
            if worker.process.returncode is None:  # cancelled: the run is stopping
                worker.process.kill()
                await worker.process.wait()
        if code == 0 and worker.closed and not worker.in_hand:
            return
        deaths += 1
        logger.warning(
            "a resolver process exited with code %s holding %d URLs (%d of %d restarts used)",
            code,
            len(worker.in_hand),
            deaths,
            MAX_RESTARTS,
        )
        for url in sorted(worker.in_hand):
            work.deaths[url] += 1
            if work.deaths[url] >= DEATHS_PER_URL:
                await emit(_lost(url, code))
            else:
                work.returned.append(url)
        if deaths > MAX_RESTARTS:
            raise ResolverPoolError(
                f"resolver processes keep dying (last exit code {code}); the log above says "
                "why. Set [resolver] processes = 1 to resolve in one process."
            )


async def resolve_in_processes(
    urls: Iterator[str], config: ResolverConfig, processes: int
) -> AsyncGenerator[Resolution, None]:
    """Resolve ``urls`` (distinct) in ``processes`` workers; yield results as they finish."""
    share = share_of(config, processes)
    work = _Work(urls)
    stream = fan_in(functools.partial(_drive, share, work), processes, config.concurrency)
    async with contextlib.aclosing(stream):
        async for result in stream:
            yield result
