"""The batch job: sources -> fetch -> parse -> store -> resolve -> store.

This is the only module that knows the order of the stages. A run holds the database's
lock (:mod:`scraper.lock`) from start to end and is recorded in the ``runs`` table.
Per-item failures are recorded in the database and counted; they never end the run.

URLs are fetched by :class:`scraper.crawl.Crawl` (a queue and a pool of workers; feeds
and sitemaps expanded as they arrive; every URL fetched at most once per run). Each
fetched article is parsed (on a worker thread) and stored at once, in its own
transaction, so a crash loses at most the pages in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import sqlite_utils

from scraper import store
from scraper.archives import ingest_warcs
from scraper.checking import check_due
from scraper.config import Config
from scraper.crawl import Crawl, Job, Role
from scraper.engine import EngineSpec
from scraper.fetch import make_fetch_client
from scraper.file_batches import ingest_files
from scraper.gc_tuning import settled
from scraper.ingest import RunCounts, RunState, read_stdin
from scraper.ingest_loop import Ingester, PacedFetcher
from scraper.lock import RunLock
from scraper.model import Resolution
from scraper.net.guard import DnsResolver
from scraper.net.limits import Sleep
from scraper.progress import Progress
from scraper.resolve.batch import resolve_urls
from scraper.shorteners import shortener_hosts
from scraper.sources import (
    SourceSet,
    collect_sources,
    expand_feed_document,
    read_url_file,
    unchanged_since,
)
from scraper.timestamps import iso_utc, utc_now

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["RunCounts", "RunOptions", "resolve_into_db", "run_batch", "urls_to_resolve"]


@dataclass(frozen=True)
class RunOptions:
    """Switches of one run (from the command line)."""

    resolve: bool = True
    progress: bool = True
    retry_failed: bool = False
    #: run on a Dask cluster (``--workers``, ``--scheduler``, ``--scheduler-file``)
    engine: EngineSpec | None = None


async def crawl(
    state: RunState,
    jobs: list[tuple[list[str], Role]],
    progress: Progress,
    *,
    dns: DnsResolver | None = None,
    sleep: Sleep = asyncio.sleep,
    engine: Client | None = None,
) -> None:
    """Fetch every job's URLs (and what their feeds list), storing articles as they come.

    With ``engine`` (a Dask client), fetched pages are parsed on its workers: fetching is
    waiting on the network, which this one event loop does for hundreds of requests at a
    time, while parsing is the CPU work that wants many cores.
    """
    config = state.config
    stage = progress.stage("fetch")
    executor = None
    if engine is not None:
        from scraper.engine.cluster import executor_of

        executor = executor_of(engine)

    def validators(url: str) -> tuple[str | None, str | None]:
        known = store.get_article_state(state.db, url)
        return (known.etag, known.last_modified) if known else (None, None)

    def listed_unchanged(job: Job) -> bool:
        # a sitemap that dates the page before our (good) copy saves the request
        if not config.fetch.skip_unchanged or job.listed_modified is None:
            return False
        known = store.get_article_state(state.db, job.url)
        if known is None or known.content_sha256 is None or known.fetched_at is None:
            return False
        if known.http_status not in (200, 304):
            return False
        if not unchanged_since(job.listed_modified, known.fetched_at):
            return False
        state.counts.listed_unchanged += 1
        return True

    # pages are parsed off the loop (scraper.ingest_loop), so fetches in flight keep moving
    async with (
        make_fetch_client(config.fetch, dns=dns) as client,
        Ingester(
            state,
            backlog=2 * config.fetch.concurrency,
            executor=executor,
        ) as ingester,
    ):
        fetcher = PacedFetcher(
            config.fetch,
            client,
            retries=config.resolver.retries,
            retry_after_max=config.resolver.retry_after_max,
            sleep=sleep,
            pace=ingester.room,
        )
        frontier = Crawl(
            fetcher,
            validators=validators,
            deliver=ingester.deliver,
            problem=state.problem,
            per_host=config.fetch.per_host,
            stage=stage,
            listed_unchanged=listed_unchanged,
        )
        for urls, role in jobs:
            frontier.add(urls, role)
        await frontier.run(config.fetch.concurrency)
    stage.close()


def remote_jobs(
    state: RunState, sources: SourceSet, stdin_urls: list[str]
) -> list[tuple[list[str], Role]]:
    """The URL jobs of a run: feeds first (their entries join the queue early), then URLs."""
    feeds: list[str] = []
    local_feeds: list[str] = []
    for feed in sources.feeds:
        (feeds if feed.lower().startswith(("http://", "https://")) else local_feeds).append(feed)
    urls = list(sources.urls) + stdin_urls
    for path in sources.url_files:
        listed, bad = read_url_file(path)
        for line in bad:
            state.problem(f"{path}: not a URL: {line[:200]!r}")
        urls.extend(listed)
    articles: list[str] = []
    for name in local_feeds:
        try:
            entries = expand_feed_document(Path(name).read_bytes(), None)
        except (OSError, ValueError) as exc:
            state.problem(f"{name}: cannot read feed or sitemap: {exc}")
            continue
        if entries.kind == "document":
            state.problem(f"{name}: not a feed or sitemap")
        feeds.extend(entries.sitemaps)
        articles.extend(entries.urls)
    return [(feeds, "feed"), (urls, "any"), (articles, "article")]


def resolve_into_db(
    db: sqlite_utils.Database,
    config: Config,
    *,
    urls: list[str] | None = None,
    retry_failed: bool = False,
    on_result: Callable[[Resolution], None] | None = None,
    dns: DnsResolver | None = None,
    sleep: Sleep = asyncio.sleep,
) -> list[Resolution]:
    """Resolve ``urls`` (default: the database's pending and due URLs), saving each as it ends."""
    if urls is None:
        urls = urls_to_resolve(db, config, retry_failed=retry_failed)
    if not urls:
        return []
    shorteners = shortener_hosts(config.resolver.shorteners)

    def save(resolution: Resolution) -> None:
        # Written as each URL finishes, so a crash loses at most the URLs in flight.
        store.save_resolution(db, resolution, shorteners=shorteners)
        if on_result is not None:
            on_result(resolution)

    return asyncio.run(resolve_urls(urls, config.resolver, on_result=save, dns=dns, sleep=sleep))


def urls_to_resolve(db: sqlite_utils.Database, config: Config, *, retry_failed: bool) -> list[str]:
    """The database's URLs that are due for resolving now."""
    return store.select_urls_to_resolve(
        db,
        now=utc_now(),
        ttl_days=config.resolver.ttl_days,
        resolve_all=config.resolver.resolve == "all",
        retry_failed=retry_failed,
        max_attempts=config.resolver.max_attempts,
    )


def run_stages(
    state: RunState,
    sources: SourceSet,
    options: RunOptions,
    progress: Progress,
    *,
    stdin: BinaryIO | None,
    dns: DnsResolver | None,
    sleep: Sleep,
    client: Client | None = None,
) -> None:
    """Files, WARCs and stdin, then URLs, feeds and sitemaps, then link resolution."""
    if client is None:
        ingest_files(state, sources.files)
    elif sources.files:
        from scraper.engine.files import ingest_files_on_cluster

        ingest_files_on_cluster(client, state, sources.files)
    if sources.warcs:
        records = progress.stage("warc", unit="record")
        if client is None:
            ingest_warcs(state, sources.warcs, records)
        else:
            from scraper.engine.archives import ingest_warcs_on_cluster

            ingest_warcs_on_cluster(client, state, sources.warcs, records)
        records.close()
    stdin_urls = read_stdin(state, stdin or sys.stdin.buffer) if sources.stdin else []
    jobs = remote_jobs(state, sources, stdin_urls)
    if any(urls for urls, _ in jobs):
        asyncio.run(crawl(state, jobs, progress, dns=dns, sleep=sleep, engine=client))
    state.parse_stage.close()
    config = state.config
    if options.resolve and config.resolver.enabled:
        due = urls_to_resolve(state.db, config, retry_failed=options.retry_failed)
        stage = progress.stage("resolve", total=len(due), unit="url")
        counts = state.counts

        def count(resolution: Resolution) -> None:
            stage.advance()
            if resolution.status == "resolved":
                counts.urls_resolved += 1
            elif resolution.status in ("failed", "blocked"):
                counts.urls_failed += 1

        if client is None:
            resolve_into_db(state.db, config, urls=due, on_result=count, dns=dns, sleep=sleep)
        else:
            from scraper.engine.resolving import resolve_on_cluster

            shorteners = shortener_hosts(config.resolver.shorteners)

            def save(resolution: Resolution) -> None:
                store.save_resolution(state.db, resolution, shorteners=shorteners)
                count(resolution)

            resolve_on_cluster(client, due, config.resolver, on_result=save, dns=dns)
        stage.close()
    if options.resolve and config.liveness.enabled:
        summary = asyncio.run(check_due(state.db, config, dns=dns, sleep=sleep))
        state.counts.check = summary.line()


def run_batch(
    config: Config,
    arguments: list[str],
    options: RunOptions,
    *,
    stdin: BinaryIO | None = None,
    dns: DnsResolver | None = None,
    sleep: Sleep = asyncio.sleep,
) -> RunCounts:
    """Run the whole job once over ``arguments`` (or the config's sources) and record it.

    ``stdin`` replaces standard input for ``-``; ``dns`` and ``sleep`` go to the fetcher
    and the resolver (tests inject a fixed DNS table and a sleep that does not wait).

    Raises :class:`~scraper.errors.LockHeldError` at once when another run holds the
    database; :class:`~scraper.errors.SourceError` for a source that cannot be read.
    """
    sources = collect_sources(arguments, config.sources, sniff_lists=True)
    counts = RunCounts(sources=sources.total)
    with RunLock(config.database.path):
        db = store.open_database(config.database.path, writable=True)
        progress = Progress(enabled=options.progress)
        state = RunState(db, config, counts, progress.stage("parse", unit="doc"))
        run_id = store.start_run(db, iso_utc(utc_now()))
        status = "failed"
        try:
            with progress.logging_redirected(), contextlib.ExitStack() as stack:
                client = None
                if options.engine is not None:
                    from scraper.engine.cluster import open_client

                    client = stack.enter_context(open_client(options.engine))
                # start-up (config, schema, a cluster's client and scheduler) is over:
                # its objects are left out of the run's garbage collections
                stack.enter_context(settled())
                run_stages(
                    state,
                    sources,
                    options,
                    progress,
                    stdin=stdin,
                    dns=dns,
                    sleep=sleep,
                    client=client,
                )
            store.refresh_summaries(db)
            status = "completed"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            state.flush()
            progress.close()
            message = "; ".join(state.problems[:20])[:2000] or None
            store.finish_run(
                db,
                run_id,
                status=status,
                counts=counts.stored(),
                message=message,
                finished_at=iso_utc(utc_now()),
            )
            db.close()
    return counts
