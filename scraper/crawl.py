"""The URL frontier of a run: a queue of URLs, a pool of workers, feeds expanded on arrival.

Every URL is normalised (:func:`scraper.sources.normalize_url`) and fetched at most once
per run. A user-given URL may turn out to be a feed or a sitemap once fetched: its
entries join the queue. Sitemap indexes are followed :data:`MAX_SITEMAP_DEPTH` levels
deep. URLs wait in a queue per host and workers take them host by host, at most
``per_host`` at a time from one host.

The crawl knows no database and no parser: ``validators`` gives the stored ETag and
Last-Modified of a URL, ``deliver`` receives every article result (and feed failure),
``problem`` every failure that has no article to be recorded on, and ``listed_unchanged``
says whether an article a sitemap dates (``<lastmod>``) can go unrequested.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from scraper.fetch import Fetcher, FetchResult
from scraper.progress import Stage
from scraper.sources import MAX_SITEMAP_DEPTH, expand_feed_document, normalize_url, url_key

log = logging.getLogger("scraper.crawl")

#: Size cap for feeds and sitemaps (the sitemap protocol allows 50 MB uncompressed).
FEED_MAX_BYTES = 60_000_000
Role = Literal["article", "any", "feed"]


@dataclass(frozen=True)
class Job:
    """One URL to fetch: ``article`` (listed by a feed), ``any`` (given by the user: may be
    a feed), or ``feed`` (a feed or sitemap; ``depth`` counts sitemap-index levels)."""

    url: str
    role: Role
    depth: int = 0
    listed_modified: str | None = None  # the sitemap's <lastmod> for this URL, if any


class Crawl:
    """The URL jobs of one run and the workers that fetch them.

    Jobs wait in one queue per host; a worker takes the next job of the next host (round
    robin) that has fewer than ``per_host`` jobs in flight, so a long list from one site
    never keeps the workers from the others.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        validators: Callable[[str], tuple[str | None, str | None]],
        deliver: Callable[[Job, FetchResult], None],
        problem: Callable[[str], None],
        per_host: int,
        stage: Stage | None = None,
        listed_unchanged: Callable[[Job], bool] | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.validators = validators
        self.listed_unchanged = listed_unchanged
        self.deliver = deliver
        self.problem = problem
        self.per_host = per_host
        self.stage = stage
        self.seen: set[str] = set()
        self._waiting: OrderedDict[str, deque[Job]] = OrderedDict()
        self._busy: Counter[str] = Counter()
        self._outstanding = 0
        self._changed = asyncio.Event()

    def add(
        self,
        urls: Iterable[str],
        role: Role,
        depth: int = 0,
        modified: Mapping[str, str] | None = None,
    ) -> int:
        """Queue the URLs not seen yet in this run (normalised); return how many.

        ``modified``: a sitemap's ``<lastmod>`` by URL (as listed).
        """
        modified = modified or {}
        queued = 0
        for raw in urls:
            url = normalize_url(raw)
            if url is None:
                self.problem(f"not an http(s) URL: {raw[:200]!r}")
                continue
            key = url_key(url)
            if key in self.seen:
                continue
            self.seen.add(key)
            host = url.split("/", 3)[2]
            job = Job(url, role, depth, modified.get(raw))
            self._waiting.setdefault(host, deque()).append(job)
            queued += 1
        if queued:
            self._outstanding += queued
            self._changed.set()
            if self.stage is not None:
                self.stage.add_total(queued)
        return queued

    def _take(self) -> tuple[str, Job] | None:
        """The next job of the first host (in turn) with a free slot, if any."""
        # At most `workers` hosts are busy, so this finds a host within a few steps.
        host = next((h for h in self._waiting if self._busy[h] < self.per_host), None)
        if host is None:
            return None
        jobs = self._waiting[host]
        job = jobs.popleft()
        if jobs:
            self._waiting.move_to_end(host)
        else:
            del self._waiting[host]
        self._busy[host] += 1
        return host, job

    async def run(self, workers: int) -> None:
        """Work until every queued job (and every job they queue) is done.

        An exception in a worker (a database error, say) ends the crawl and is raised.
        """
        tasks = [asyncio.create_task(self._work()) for _ in range(workers)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            failure = None if task.cancelled() else task.exception()
            if failure is not None:
                raise failure

    async def _work(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                if self._outstanding == 0:
                    return
                self._changed.clear()
                await self._changed.wait()
                continue
            host, job = taken
            try:
                await self.handle(job)
            finally:
                self._busy[host] -= 1
                self._outstanding -= 1
                self._changed.set()
                if self.stage is not None:
                    self.stage.advance()

    async def handle(self, job: Job) -> None:
        """Fetch one job; queue a feed's entries, or deliver the result."""
        if (
            job.listed_modified is not None
            and self.listed_unchanged is not None
            and self.listed_unchanged(job)
        ):
            return  # its sitemap dates it before our copy: no request
        etag, modified = self.validators(job.url) if job.role != "feed" else (None, None)
        result = await self.fetcher.fetch(
            job.url,
            etag=etag,
            last_modified=modified,
            accept="article" if job.role == "article" else "any",
            max_bytes=FEED_MAX_BYTES if job.role == "feed" else None,
        )
        expandable = job.role != "article" and result.status == "ok"
        if expandable and result.body is not None and self.expand(job, result):
            return
        self.deliver(job, result)

    def expand(self, job: Job, result: FetchResult) -> bool:
        """Queue the entries of a feed or sitemap; False when the body is a document."""
        assert result.body is not None
        try:
            entries = expand_feed_document(result.body, result.final_url, result.content_type)
        except ValueError as exc:
            self.problem(f"{job.url}: unreadable feed or sitemap: {exc}")
            return True
        if entries.kind == "document":
            if job.role == "feed":
                self.problem(f"{job.url}: not a feed or sitemap ({result.media_type})")
                return True
            return False
        if job.depth >= MAX_SITEMAP_DEPTH and entries.sitemaps:
            self.problem(f"{job.url}: sitemap indexes nested deeper than {MAX_SITEMAP_DEPTH}")
        else:
            self.add(entries.sitemaps, "feed", job.depth + 1)
        added = self.add(entries.urls, "article", modified=entries.modified)
        log.info("%s: %s with %d new URLs", job.url, entries.kind, added)
        return True
