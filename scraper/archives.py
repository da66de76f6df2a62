"""WARC archives into the database: work units, reading and parsing them, storing the results.

A WARC is cut into :class:`WarcUnit` byte ranges (:func:`plan_units`; a WARC read to its
end before, same path, size and head, is not read again). :func:`read_unit` reads and
parses one unit: it touches no database, so it runs in this process or on any worker of a
cluster (:mod:`scraper.engine`). :class:`ArchiveWriter` stores the results of the units
in the order they were planned, which makes a cluster's database the same as one
process's; when a file's last unit is stored the file is marked read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scraper import store
from scraper.ingest import RunState, display_path
from scraper.model import Article, pickled_by_fields
from scraper.progress import Stage
from scraper.shorteners import shortener_hosts
from scraper.sources import normalize_url
from scraper.timestamps import iso_utc, utc_now
from scraper.warc import WarcItem, head_digest, iter_warc, plan_slices

log = logging.getLogger("scraper.run")

#: bytes of a gzipped WARC per work unit: a few hundred news pages
UNIT_BYTES = 8_000_000


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class WarcUnit:
    """Records starting in ``[start, end)`` of one WARC; ``last``: the file's final unit."""

    path: str
    source: str
    start: int
    end: int
    last: bool
    size: int
    head_sha256: str


@pickled_by_fields
@dataclass(slots=True)
class Outcome:
    """One record of a unit as read and parsed (the payload itself is not kept)."""

    item: WarcItem
    article: Article | None = None
    digest: str | None = None
    error: str | None = None


@pickled_by_fields
@dataclass(slots=True)
class UnitResult:
    """What reading one unit gave; ``error``: the file could not be read at all."""

    unit: WarcUnit
    outcomes: list[Outcome] = field(default_factory=list)
    error: str | None = None

    @property
    def pages(self) -> int:
        """How many page records the unit held."""
        return sum(1 for outcome in self.outcomes if outcome.item.kind == "page")


def plan_units(
    state: RunState, warcs: Iterable[Path], unit_bytes: int | None = None
) -> Iterator[WarcUnit]:
    """The work units of the run's WARCs, skipping those read to their end before.

    ``unit_bytes`` (default :data:`UNIT_BYTES`) is how much of a gzipped WARC one unit covers.
    """
    unit_bytes = unit_bytes or UNIT_BYTES
    for path in warcs:
        source = display_path(path)
        try:
            size = path.stat().st_size
            head = head_digest(path)
        except OSError as exc:
            state.problem(f"{source}: cannot read WARC: {exc.strerror or exc}")
            continue
        known = store.find_warc_file(state.db, str(path.resolve()))
        if known and known.completed_at and (known.size, known.head_sha256) == (size, head):
            log.info("%s: read to its end on %s, not read again", source, known.completed_at)
            continue
        slices = plan_slices(path, size, unit_bytes)
        for index, (start, end) in enumerate(slices):
            last = index == len(slices) - 1
            yield WarcUnit(str(path.resolve()), source, start, end, last, size, head)


def read_unit(unit: WarcUnit) -> UnitResult:
    """Read and parse the records of ``unit`` (no database: safe on any worker)."""
    from scraper.parse import parse_document

    result = UnitResult(unit)
    try:
        for item in iter_warc(Path(unit.path), unit.start, unit.end):
            if item.kind != "page" or item.body is None:
                result.outcomes.append(Outcome(item))
                continue
            body = item.body
            bare = _without_body(item)
            digest = hashlib.sha256(body).hexdigest()
            try:
                article = parse_document(
                    body, source=unit.source, base_url=item.url, content_type=item.content_type
                )
            except Exception as exc:  # parse promises not to raise: a bug must not end the run
                log.exception("cannot parse %s at %d", unit.source, item.offset)
                error = f"parse: {type(exc).__name__}: {exc}"
                result.outcomes.append(Outcome(bare, digest=digest, error=error))
                continue
            result.outcomes.append(Outcome(bare, article, digest))
    except OSError as exc:
        result.error = f"cannot read WARC: {exc.strerror or exc}"
    return result


def _without_body(item: WarcItem) -> WarcItem:
    return WarcItem(
        item.kind,
        item.offset,
        item.length,
        item.url,
        item.fetched_at,
        item.content_type,
        item.http_status,
        None,
        item.truncated,
        item.detail,
    )


@dataclass
class ArchiveWriter:
    """Stores unit results (in planned order) and marks each WARC read when its last unit is."""

    state: RunState
    records: Stage
    tallies: dict[str, store.WarcFile] = field(default_factory=dict)

    def store(self, result: UnitResult) -> None:
        """Save every article of ``result`` (one transaction each); count the rest."""
        unit = result.unit
        tally = self.tallies.get(unit.path)
        if tally is None:
            tally = store.WarcFile(unit.path, unit.size, unit.head_sha256)
        if result.error is not None:
            self.state.problem(f"{unit.source}: {result.error}")
            self.tallies.pop(unit.path, None)
            return
        for outcome in result.outcomes:
            self._store_outcome(unit, outcome)
            self.records.advance()
        corrupt = sum(1 for outcome in result.outcomes if outcome.item.kind == "corrupt")
        tally = dataclasses.replace(
            tally,
            records=tally.records + len(result.outcomes),
            pages=tally.pages + result.pages,
            corrupt=tally.corrupt + corrupt,
        )
        self.tallies[unit.path] = tally
        if unit.last:
            done = dataclasses.replace(tally, completed_at=iso_utc(utc_now()))
            store.save_warc_file(self.state.db, done)
            del self.tallies[unit.path]

    def _store_outcome(self, unit: WarcUnit, outcome: Outcome) -> None:
        state, counts, item = self.state, self.state.counts, outcome.item
        counts.records_read += 1
        if item.kind == "corrupt":
            counts.records_corrupt += 1
            state.problem(f"{unit.source}: corrupt record at offset {item.offset}: {item.detail}")
            return
        if item.kind == "revisit":
            counts.unchanged += 1
            return
        if item.kind == "skipped":
            counts.skipped += 1
            return
        counts.fetched += 1
        url = normalize_url(item.url or "")
        if url is None:
            counts.errors += 1
            log.warning("%s: record at %d: not a URL: %r", unit.source, item.offset, item.url)
            return
        fetched_at = _iso_or_now(item.fetched_at)
        if outcome.article is None:
            counts.errors += 1
            store.save_failed_article(
                state.db,
                source=unit.source,
                url=url,
                fetched_at=fetched_at,
                http_status=item.http_status,
                error=outcome.error or "parse failed",
                content_type=item.content_type,
            )
            return
        known = store.get_article_state(state.db, url)
        if known is not None and known.content_sha256 == outcome.digest:
            counts.unchanged += 1
            return
        state.parse_stage.advance()
        article = outcome.article
        canonical_url = article.url
        article.url = url
        config = state.config
        result = store.save_article(
            state.db,
            article,
            source=unit.source,
            fetched_at=fetched_at,
            http_status=item.http_status,
            content_type=item.content_type,
            content_sha256=outcome.digest,
            shorteners=shortener_hosts(config.resolver.shorteners),
            resolve_all=config.resolver.resolve == "all",
            canonical_url=canonical_url,
            warc=store.WarcPlace(item.offset, item.length, item.truncated),
        )
        counts.new_articles += int(result.new_article)
        counts.posts += result.posts
        counts.links += result.links


def _iso_or_now(value: str | None) -> str:
    """A record's ``WARC-Date`` in the stored form (now, when it is missing or unreadable)."""
    if value:
        try:
            return iso_utc(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    return iso_utc(utc_now())


def ingest_warcs(
    state: RunState,
    warcs: list[Path],
    records: Stage,
    *,
    read: Callable[[WarcUnit], UnitResult] = read_unit,
) -> None:
    """Read, parse and store every WARC of the run in this process, unit by unit."""
    writer = ArchiveWriter(state, records)
    for unit in plan_units(state, warcs):
        writer.store(read(unit))
