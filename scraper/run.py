"""The batch job: sources -> fetch -> parse -> store -> resolve -> store.

This is the only module that knows the order of the stages. Per-item failures are
recorded in the database and counted; they never end the run.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from scraper import store
from scraper.config import Config
from scraper.model import Resolution
from scraper.parse import parse_document
from scraper.resolve import resolve_urls
from scraper.shorteners import shortener_hosts
from scraper.sources import SourceSet, collect_sources

log = logging.getLogger("scraper.run")


@dataclass
class RunCounts:
    """What one run did; stored in the ``runs`` table and printed as the summary line."""

    sources: int = 0
    fetched: int = 0
    not_modified: int = 0
    unchanged: int = 0
    new_articles: int = 0
    posts: int = 0
    links: int = 0
    urls_resolved: int = 0
    urls_failed: int = 0
    errors: int = 0

    def summary(self) -> str:
        """A one-line human summary."""
        return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in asdict(self).items())


@dataclass(frozen=True)
class RunOptions:
    """Switches of one run (from the command line)."""

    resolve: bool = True
    progress: bool = True
    retry_failed: bool = False


def utc_now() -> datetime:
    """The current time in UTC (a function so tests can replace it)."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 text in UTC with seconds precision."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def display_path(path: Path) -> str:
    """A file's path relative to the working directory when it is inside it, else absolute."""
    absolute = path.resolve()
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_posix()


def ingest_bytes(
    db: sqlite_utils.Database,
    data: bytes,
    *,
    source: str,
    config: Config,
    counts: RunCounts,
    base_url: str | None = None,
    content_type: str | None = None,
    http_status: int | None = None,
) -> None:
    """Parse one document and save it, unless its content is unchanged since the last run."""
    digest = hashlib.sha256(data).hexdigest()
    if store.is_unchanged(db, source, digest):
        counts.unchanged += 1
        return
    article = parse_document(data, source=source, base_url=base_url, content_type=content_type)
    result = store.save_article(
        db,
        article,
        source=source,
        fetched_at=iso(utc_now()),
        http_status=http_status,
        content_type=content_type,
        content_sha256=digest,
        shorteners=shortener_hosts(config.resolver.shorteners),
        resolve_all=config.resolver.resolve == "all",
    )
    counts.new_articles += int(result.new_article)
    counts.posts += result.posts
    counts.links += result.links


def ingest_files(
    db: sqlite_utils.Database, sources: SourceSet, config: Config, counts: RunCounts
) -> None:
    """Read, parse and store every local file (and stdin) of the run."""
    for path in sources.files:
        source = display_path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            counts.errors += 1
            log.error("cannot read %s: %s", source, exc)
            continue
        counts.fetched += 1
        ingest_bytes(db, data, source=source, config=config, counts=counts)


def resolve_into_db(
    db: sqlite_utils.Database,
    config: Config,
    *,
    urls: list[str] | None = None,
    retry_failed: bool = False,
    on_result: Callable[[Resolution], None] | None = None,
) -> list[Resolution]:
    """Resolve ``urls`` (default: the database's pending and due URLs), saving each as it ends."""
    if urls is None:
        urls = store.select_urls_to_resolve(
            db,
            now=utc_now(),
            ttl_days=config.resolver.ttl_days,
            resolve_all=config.resolver.resolve == "all",
            retry_failed=retry_failed,
            max_attempts=config.resolver.max_attempts,
        )
    if not urls:
        return []

    def save(resolution: Resolution) -> None:
        # Written as each URL finishes, so a crash loses at most the URLs in flight.
        store.save_resolution(db, resolution)
        if on_result is not None:
            on_result(resolution)

    return asyncio.run(resolve_urls(urls, config.resolver, on_result=save))


def run_batch(config: Config, arguments: list[str], options: RunOptions) -> RunCounts:
    """Run the whole job once over ``arguments`` (or the config's sources) and record it."""
    sources = collect_sources(arguments, config.sources)
    db = store.open_database(config.database.path)
    counts = RunCounts(sources=sources.total)
    run_id = store.start_run(db, iso(utc_now()))
    status = "failed"
    try:
        ingest_files(db, sources, config, counts)
        remote = len(sources.urls) + len(sources.url_files) + len(sources.feeds) + sources.stdin
        if remote:
            log.warning("skipped %d URL, list, feed or stdin sources: not supported yet", remote)
        if options.resolve and config.resolver.enabled:
            for resolution in resolve_into_db(db, config, retry_failed=options.retry_failed):
                if resolution.status == "resolved":
                    counts.urls_resolved += 1
                elif resolution.status in ("failed", "blocked"):
                    counts.urls_failed += 1
        status = "completed"
    finally:
        store.finish_run(
            db,
            run_id,
            status=status,
            counts=asdict(counts),
            finished_at=iso(utc_now()),
        )
    return counts
