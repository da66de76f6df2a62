"""Local files in batches: read and parsed anywhere, stored in order by the one writer.

A run's files are cut into :class:`FileBatch` es of :data:`FILES_PER_BATCH`.
:func:`read_batch` reads and parses one batch without touching the database, so it runs in
this process or on any worker of a cluster (:mod:`scraper.engine`); each batch carries the
digest stored for each file last time, so an unchanged file is not parsed again anywhere.
:func:`store_batch` then records every file as one process does: oversized and unreadable
files as skipped, read errors as errors, unchanged files as unchanged, the rest as
articles. One process and a cluster run the same two functions, in the same order.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from scraper import store
from scraper.ingest import (
    Document,
    RunState,
    display_path,
    parse_or_error,
    save_parse_failure,
    save_parsed,
    skip_oversized,
)
from scraper.model import Article, pickled_by_fields
from scraper.sniff import unreadable_reason
from scraper.timestamps import iso_utc, utc_now

log = logging.getLogger("scraper.run")

#: files per work unit: a few hundred pages, as many as a WARC unit holds
FILES_PER_BATCH = 200

FileKind = Literal["page", "unchanged", "oversized", "unreadable", "unread", "unparsed"]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class FileBatch:
    """Files to read (``paths``), shown as ``sources``, with their stored digests (or ``None``)."""

    paths: tuple[str, ...]
    sources: tuple[str, ...]
    known_digests: tuple[str | None, ...]
    max_bytes: int


@pickled_by_fields
@dataclass(slots=True)
class FileOutcome:
    """One file as read: what it is, why (``detail``), its digest and article."""

    path: str
    source: str
    kind: FileKind
    detail: str | None = None
    digest: str | None = None
    article: Article | None = None


@pickled_by_fields
@dataclass(slots=True)
class BatchResult:
    """What reading one batch gave, file by file in order."""

    outcomes: list[FileOutcome] = field(default_factory=list)


def plan_batches(
    state: RunState, files: Iterable[Path], size: int | None = None
) -> Iterator[FileBatch]:
    """The run's files in batches of ``size`` (default :data:`FILES_PER_BATCH`)."""
    size = size or FILES_PER_BATCH
    cap = state.config.fetch.max_bytes
    paths: list[Path] = []
    for path in files:
        paths.append(path)
        if len(paths) >= size:
            yield _batch(state, paths, cap)
            paths = []
    if paths:
        yield _batch(state, paths, cap)


def _batch(state: RunState, paths: list[Path], cap: int) -> FileBatch:
    sources = tuple(display_path(path) for path in paths)
    known = []
    for source in sources:
        stored = store.get_article_state(state.db, source)
        known.append(stored.content_sha256 if stored is not None else None)
    # absolute: a worker of a cluster runs in another directory
    return FileBatch(tuple(str(path.resolve()) for path in paths), sources, tuple(known), cap)


def read_batch(batch: FileBatch) -> BatchResult:
    """Read and parse the files of ``batch`` (no database: safe on any worker)."""
    result = BatchResult()
    for path, source, known in zip(batch.paths, batch.sources, batch.known_digests, strict=True):
        result.outcomes.append(_read_file(Path(path), source, known, batch.max_bytes))
    return result


def _read_file(path: Path, source: str, known: str | None, cap: int) -> FileOutcome:
    try:
        with path.open("rb") as handle:
            # one byte more than the cap tells an oversized file (even a growing one)
            data = handle.read(cap + 1)
    except OSError as exc:
        return FileOutcome(str(path), source, "unread", str(exc.strerror or exc))
    if len(data) > cap:
        return FileOutcome(str(path), source, "oversized")
    reason = unreadable_reason(data)
    if reason is not None:
        return FileOutcome(str(path), source, "unreadable", reason)
    digest = hashlib.sha256(data).hexdigest()
    if digest == known:
        return FileOutcome(str(path), source, "unchanged", digest=digest)
    parsed = parse_or_error(Document(data, source, digest))
    if isinstance(parsed, Exception):
        detail = f"{type(parsed).__name__}: {parsed}"
        return FileOutcome(str(path), source, "unparsed", detail, digest)
    return FileOutcome(str(path), source, "page", digest=digest, article=parsed)


def store_batch(state: RunState, result: BatchResult) -> None:
    """Record every file of a read batch, in order (the client's side)."""
    counts = state.counts
    for outcome in result.outcomes:
        source = outcome.source
        if outcome.kind == "unread":
            counts.errors += 1
            log.error("cannot read %s: %s", source, outcome.detail)
        elif outcome.kind == "oversized":
            skip_oversized(state, Path(outcome.path), source, state.config.fetch.max_bytes)
        elif outcome.kind == "unreadable":
            counts.skipped += 1
            log.info("%s: skipped: %s", source, outcome.detail)
            store.save_failed_article(
                state.db,
                source=source,
                url=None,
                fetched_at=iso_utc(utc_now()),
                http_status=None,
                error=f"skipped: {outcome.detail}",
            )
        elif outcome.kind == "unchanged":
            counts.fetched += 1
            counts.unchanged += 1
            known = store.get_article_state(state.db, source)
            state.touch(known.url if known is not None else source, 200)
        else:
            counts.fetched += 1
            document = Document(b"", source, outcome.digest or "")
            if outcome.article is None:  # the parser raised (a bug): its message came back
                save_parse_failure(state, document, outcome.detail or "parse failed")
            else:
                save_parsed(state, document, outcome.article)


def ingest_files(state: RunState, files: Iterable[Path]) -> None:
    """Read, parse and store every local file of the run in this process, batch by batch.

    A file larger than ``[fetch] max_bytes`` (the cap on fetched pages) is skipped, not
    read: it is recorded with a ``skipped: body_too_large`` error and counted as skipped.
    """
    for batch in plan_batches(state, files):
        store_batch(state, read_batch(batch))
