"""Turning documents into stored articles: parse, save, count (one transaction each).

:func:`ingest_bytes` is the step every document goes through, whether it was read from a
file, from stdin or fetched: unless its bytes are the ones stored last time, it is
parsed and saved in one transaction (:mod:`scraper.ingest_loop` does the same for fetched
pages with the parse off the event loop). :func:`record_fetch` routes a fetch result that
is not a page (a 304, a skip or a failure) to the right store call. :class:`RunState` is what the
stages of a run share: the database, the config, the counts and the progress.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

import sqlite_utils

from scraper import store
from scraper.config import Config
from scraper.crawl import Job
from scraper.fetch import FetchResult
from scraper.model import Article
from scraper.progress import Stage
from scraper.shorteners import shortener_hosts
from scraper.sources import looks_like_url_list, parse_url_list
from scraper.store.schema import RUN_COUNTS
from scraper.timestamps import iso_utc, utc_now

log = logging.getLogger("scraper.run")

#: Unchanged pages only get their ``fetched_at`` updated: that many per transaction, since
#: a commit per page would cost an incremental run more than its requests do.
TOUCH_BATCH = 500


@dataclass
class RunCounts:
    """What one run did; stored in the ``runs`` table and printed as the summary line.

    ``fetched``/``posts``/``links`` count what was read and parsed; the rest count what
    changed in the database. Articles: ``new_articles``, ``changed_articles`` (content or
    findings differ) and ``unchanged`` (same bytes, or parsed to what was stored);
    ``not_modified`` (a 304) and ``listed_unchanged`` (known articles not requested at all,
    their sitemap ``<lastmod>`` being older than our copy) are unchanged too. Posts and
    links: new rows, rows changed (a post filled in; a link row replaced or removed) and
    rows left as they were. ``skipped``: pages not parsed because robots.txt forbids them,
    they are not articles (PDFs, images) or too large; each is also in ``articles.error``.
    ``records_read``: WARC response, resource and revisit records read;
    ``records_corrupt``: unreadable records or gzip members.
    """

    sources: int = 0
    fetched: int = 0
    not_modified: int = 0
    unchanged: int = 0
    new_articles: int = 0
    changed_articles: int = 0
    posts: int = 0
    new_posts: int = 0
    changed_posts: int = 0
    unchanged_posts: int = 0
    links: int = 0
    new_links: int = 0
    changed_links: int = 0
    unchanged_links: int = 0
    urls_resolved: int = 0
    urls_failed: int = 0
    errors: int = 0
    skipped: int = 0
    #: the check stage's summary line, when ``[liveness] enabled`` ran it (not stored)
    check: str = ""
    listed_unchanged: int = 0
    records_read: int = 0
    records_corrupt: int = 0

    def stored(self) -> dict[str, int]:
        """The counts the ``runs`` table records."""
        return {k: v for k, v in asdict(self).items() if k in RUN_COUNTS}

    @property
    def nothing_changed(self) -> bool:
        """Whether the run left articles, posts, links and resolutions as they were."""
        return not (
            self.new_articles
            or self.changed_articles
            or self.new_posts
            or self.changed_posts
            or self.new_links
            or self.changed_links
            or self.urls_resolved
        )

    def summary(self) -> str:
        """A one-line human summary: what changed first, then what was read."""
        unchanged = self.unchanged + self.not_modified + self.listed_unchanged
        parts = ["nothing changed"] if self.nothing_changed else []
        parts += [
            f"articles {self.new_articles} new, {self.changed_articles} changed, "
            f"{unchanged} unchanged",
            f"posts {self.new_posts} new, {self.changed_posts} changed, "
            f"{self.unchanged_posts} unchanged",
            f"links {self.new_links} new, {self.changed_links} changed, "
            f"{self.unchanged_links} unchanged",
            f"urls {self.urls_resolved} resolved, {self.urls_failed} failed",
            f"read: sources {self.sources}, fetched {self.fetched}, "
            f"not modified {self.not_modified}, listed unchanged {self.listed_unchanged}, "
            f"skipped {self.skipped}, errors {self.errors}",
        ]
        if self.records_read or self.records_corrupt:
            parts.append(f"warc: records read {self.records_read}, corrupt {self.records_corrupt}")
        if self.check:
            parts.append(f"check: {self.check}")
        return "; ".join(parts)


def display_path(path: Path) -> str:
    """A file's path relative to the working directory when it is inside it, else absolute."""
    absolute = path.resolve()
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_posix()


@dataclass
class RunState:
    """What the stages of one run share: the database, config, counts and progress."""

    db: sqlite_utils.Database
    config: Config
    counts: RunCounts
    parse_stage: Stage
    problems: list[str] = field(default_factory=list)
    touched: list[tuple[str, int]] = field(default_factory=list)

    def touch(self, url: str, http_status: int) -> None:
        """Note that a known article was checked and had not changed (written in batches)."""
        self.touched.append((url, http_status))
        if len(self.touched) >= TOUCH_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the pending "checked, not changed" notes in one short transaction."""
        if not self.touched:
            return
        batch, self.touched = self.touched, []
        now = iso_utc(utc_now())
        with store.write_transaction(self.db):
            for url, code in batch:
                store.save_not_modified(self.db, url=url, fetched_at=now, http_status=code)

    def problem(self, message: str) -> None:
        """Log and remember a failure that has no ``articles`` row (a feed, a list)."""
        log.warning("%s", message)
        self.counts.errors += 1
        self.problems.append(message)


@dataclass(frozen=True, slots=True)
class Document:
    """A document on its way to the store: its bytes, where it came from, its SHA-256."""

    data: bytes
    source: str
    digest: str
    url: str | None = None
    base_url: str | None = None
    content_type: str | None = None
    fetched: FetchResult | None = None


def ingest_bytes(
    state: RunState,
    data: bytes,
    *,
    source: str,
    url: str | None = None,
    base_url: str | None = None,
    content_type: str | None = None,
    fetched: FetchResult | None = None,
) -> None:
    """Parse one document and save it, unless its bytes are those stored last time.

    ``url`` (fetched pages) is the article's key, so the next run finds its validators
    under the URL it fetches; files are keyed by their canonical URL, else their path.
    """
    document = prepare_document(
        state,
        data,
        source=source,
        url=url,
        base_url=base_url,
        content_type=content_type,
        fetched=fetched,
    )
    if document is not None:
        save_parsed(state, document, parse_or_error(document))


def prepare_document(
    state: RunState,
    data: bytes,
    *,
    source: str,
    url: str | None = None,
    base_url: str | None = None,
    content_type: str | None = None,
    fetched: FetchResult | None = None,
) -> Document | None:
    """The document to parse, or ``None`` when its bytes are those stored last time."""
    digest = fetched.content_sha256 if fetched and fetched.content_sha256 else None
    digest = digest or hashlib.sha256(data).hexdigest()
    known = store.get_article_state(state.db, url or source)
    if known is not None and known.content_sha256 == digest:
        state.counts.unchanged += 1
        state.touch(known.url, (fetched.http_status if fetched else None) or 200)
        return None
    return Document(data, source, digest, url, base_url, content_type, fetched)


def parse_or_error(document: Document) -> Article | Exception:
    """Parse ``document`` (pure: safe on a worker thread); an exception is returned, not raised."""
    # Imported on first use: an incremental run that parses nothing starts faster.
    from scraper.parse import parse_document

    try:
        return parse_document(
            document.data,
            source=document.source,
            base_url=document.base_url,
            content_type=document.content_type,
        )
    except Exception as exc:  # parse promises not to raise: a bug must not end the run
        log.debug("cannot parse %s", document.source, exc_info=True)
        return exc


def save_parse_failure(state: RunState, document: Document, reason: str) -> None:
    """Record that ``document`` could not be parsed (``reason``: the exception, as text)."""
    state.counts.errors += 1
    log.error("cannot parse %s: %s", document.source, reason)
    store.save_failed_article(
        state.db,
        source=document.source,
        url=document.url,
        fetched_at=iso_utc(utc_now()),
        http_status=None,
        error=f"parse: {reason}",
    )


def save_parsed(state: RunState, document: Document, parsed: Article | Exception) -> None:
    """Save a parsed document (or record why it could not be parsed) and count the changes."""
    counts = state.counts
    source, url, fetched = document.source, document.url, document.fetched
    now = iso_utc(utc_now())
    if isinstance(parsed, Exception):
        save_parse_failure(state, document, f"{type(parsed).__name__}: {parsed}")
        return
    state.parse_stage.advance()
    article = parsed
    canonical_url = article.url
    if url is not None:
        article = _keyed_on(article, url)
    config = state.config
    result = store.save_article(
        state.db,
        article,
        source=source,
        fetched_at=now,
        http_status=fetched.http_status if fetched else None,
        content_type=document.content_type,
        content_sha256=document.digest,
        etag=fetched.etag if fetched else None,
        last_modified=fetched.last_modified if fetched else None,
        shorteners=shortener_hosts(config.resolver.shorteners),
        resolve_all=config.resolver.resolve == "all",
        canonical_url=canonical_url,
        final_url=fetched.final_url if fetched else None,
    )
    counts.new_articles += int(result.new_article)
    counts.changed_articles += int(result.changed and not result.new_article)
    counts.unchanged += int(not result.changed)
    counts.posts += result.posts
    counts.new_posts += result.new_posts
    counts.changed_posts += result.changed_posts
    counts.unchanged_posts += result.unchanged_posts
    counts.links += result.links
    counts.new_links += result.new_links
    counts.changed_links += result.changed_links
    counts.unchanged_links += result.unchanged_links


def _keyed_on(article: Article, url: str) -> Article:
    """``article`` stored under the URL it was fetched from (not its canonical URL)."""
    article.url = url
    return article


def skip_oversized(state: RunState, path: Path, source: str, cap: int) -> None:
    """Record a local file over the size cap as skipped, with its size in the reason."""
    try:
        size = str(path.stat().st_size)
    except OSError:
        size = "more than"
    error = f"skipped: body_too_large: file is {size} bytes, over max_bytes {cap}"
    state.counts.skipped += 1
    log.warning("%s: %s", source, error)
    store.save_failed_article(
        state.db,
        source=source,
        url=None,
        fetched_at=iso_utc(utc_now()),
        http_status=None,
        error=error,
    )


def read_stdin(state: RunState, stream: BinaryIO) -> list[str]:
    """Standard input: a URL list (returned, to fetch) or one document (stored now).

    A list's lines that are not URLs are warned about, one problem each. A document read
    from stdin is stored under ``stdin:<first 12 hex of its SHA-256>`` unless it names its
    canonical URL, so two different piped documents never collide.
    """
    data = stream.read()
    if looks_like_url_list(data):
        urls, bad = parse_url_list(data.decode("utf-8-sig"))
        for line in bad:
            state.problem(f"stdin: not a URL: {line[:200]!r}")
        return urls
    if not data.strip():
        state.problem("stdin: empty, nothing to read")
        return []
    state.counts.fetched += 1
    source = f"stdin:{hashlib.sha256(data).hexdigest()[:12]}"
    ingest_bytes(state, data, source=source)
    return []


def record_fetch(state: RunState, job: Job, result: FetchResult) -> None:
    """Store what fetching an article gave when it is not a page: a 304, a skip, a failure.

    Pages go through :class:`scraper.ingest_loop.Ingester`, which parses them off the loop.
    """
    counts = state.counts
    now = iso_utc(utc_now())
    if result.status == "ok" and result.body is not None:
        raise ValueError(f"{job.url}: a page is ingested, not recorded")
    if result.status == "not_modified":
        counts.not_modified += 1
        state.touch(job.url, 304)
    elif job.role == "feed":
        state.problem(f"{job.url}: {result.error}")
    else:
        if result.status == "skipped":
            counts.skipped += 1
            log.info("%s: %s", job.url, result.error)
        else:
            counts.errors += 1
            log.warning("%s: %s", job.url, result.error)
        store.save_failed_article(
            state.db,
            source=job.url,
            url=job.url,
            fetched_at=now,
            http_status=result.http_status,
            error=result.error or result.status,
            content_type=result.content_type,
        )
