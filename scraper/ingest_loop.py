"""Fetched pages into the store without stalling the event loop: parsing on a worker thread.

A crawl's fetches share one event loop; a page that takes a second to parse would hold
every fetch in flight for that second and eat their deadlines. So :class:`Ingester` hands
each fetched page's parse to one worker thread (``parse`` is pure) and stores the result
back on the loop, where every database call of the run is made (one connection, one
thread at a time). A thread, not a process: BeautifulSoup is mostly Python and lxml lets
go of the GIL only in parts, so a thread adds no parsing speed, but the interpreter
switches threads every few milliseconds, which is all the loop needs to keep its fetches
moving, and no page or article has to be pickled (``bench/bench_parse_offloop.py``).

The parse backlog is bounded: :class:`PacedFetcher` waits for room before each request,
so a slow parser slows the crawl down instead of piling fetched bodies up in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from types import TracebackType
from typing import Any

from scraper.crawl import Job
from scraper.fetch import Fetcher, FetchResult
from scraper.ingest import (
    Document,
    RunState,
    parse_or_error,
    prepare_document,
    record_fetch,
    save_parsed,
)
from scraper.model import Article

Parse = Callable[[Document], Article | Exception]


class Ingester:
    """Receives a crawl's results on the loop; parses pages off it; stores them on it.

    Use as an async context manager; :meth:`deliver` is the crawl's ``deliver`` callback,
    :meth:`room` its pace. Leaving the block waits for every page delivered (and raises
    the first error a store call raised, like the synchronous path would).
    """

    def __init__(
        self,
        state: RunState,
        *,
        backlog: int = 16,
        parse: Parse = parse_or_error,
        executor: Executor | None = None,
    ) -> None:
        self.state = state
        self.backlog = max(1, backlog)
        self.parse = parse
        self._own_executor = executor is None
        self.executor = executor or ThreadPoolExecutor(1, thread_name_prefix="scraper-parse")
        self.pending: set[asyncio.Task[None]] = set()
        self.failure: BaseException | None = None
        self._changed = asyncio.Event()

    def deliver(self, job: Job, result: FetchResult) -> None:
        """Take one fetch result: a page is parsed off the loop, anything else stored now."""
        self._raise_failure()
        if result.status != "ok" or result.body is None:
            record_fetch(self.state, job, result)
            return
        self.state.counts.fetched += 1
        document = prepare_document(
            self.state,
            result.body,
            source=job.url,
            url=job.url,
            base_url=result.final_url,
            content_type=result.content_type,
            fetched=result,
        )
        if document is None:
            return
        task = asyncio.get_running_loop().create_task(self._ingest(document))
        self.pending.add(task)
        task.add_done_callback(self._finished)

    async def _ingest(self, document: Document) -> None:
        loop = asyncio.get_running_loop()
        parsed = await loop.run_in_executor(self.executor, self.parse, document)
        save_parsed(self.state, document, parsed)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.pending.discard(task)
        if not task.cancelled() and task.exception() is not None and self.failure is None:
            self.failure = task.exception()
        self._changed.set()

    def _raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure

    async def room(self) -> None:
        """Wait until fewer than ``backlog`` pages wait for their parse or store."""
        while len(self.pending) >= self.backlog:
            self._changed.clear()
            await self._changed.wait()
        self._raise_failure()

    async def drain(self) -> None:
        """Wait for every delivered page to be stored; raise the first store error."""
        while self.pending:
            await asyncio.wait(set(self.pending))
        self._raise_failure()

    async def __aenter__(self) -> Ingester:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc is None:
                await self.drain()
            else:
                for task in self.pending:
                    task.cancel()
                await asyncio.gather(*self.pending, return_exceptions=True)
        finally:
            if self._own_executor:
                self.executor.shutdown(wait=True)


class PacedFetcher(Fetcher):
    """A :class:`~scraper.fetch.Fetcher` that awaits ``pace`` before every request."""

    def __init__(self, *args: Any, pace: Callable[[], Awaitable[None]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pace = pace

    async def fetch(self, url: str, **options: Any) -> FetchResult:
        """Wait for room (``pace``), then fetch as :meth:`Fetcher.fetch` does."""
        await self.pace()
        return await super().fetch(url, **options)
