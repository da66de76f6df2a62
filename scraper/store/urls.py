"""The ``urls`` queue: adding link URLs, recording resolutions, choosing what to resolve next.

A URL row is ``pending`` until the resolver reports on it; then ``resolved``, ``failed``
(retried later with a growing delay, up to ``max_attempts``) or ``blocked`` (the address
guard refused it: retried only on request). ``attempts`` counts real attempts: a deferral
(``Resolution.status == "pending"``, e.g. a long ``Retry-After``) only moves
``next_attempt_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import urlsplit

from sqlite_utils import Database

from scraper.model import Resolution
from scraper.shorteners import SHORTENER_HOSTS, is_shortener
from scraper.store.transaction import write_transaction
from scraper.timestamps import iso_utc, iso_utc_or_none, utc_now

# Stay well under SQLite's bound-parameter limit in `IN (...)` lists.
CHUNK = 500
FIRST_BACKOFF = timedelta(hours=1)
MAX_BACKOFF = timedelta(days=30)
DEFERRAL_DELAY = timedelta(hours=1)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SavedUrls:
    """What :func:`save_urls` did: every URL's id, how many rows it added and queued."""

    ids: dict[str, int]
    new: int
    queued: int


def url_host(url: str) -> str | None:
    """The lower-cased host of ``url``, or ``None`` when it has none or cannot be split."""
    try:
        return urlsplit(url).hostname
    except ValueError:  # e.g. an unbalanced "[" in an IPv6 literal
        return None


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def placeholders(count: int) -> str:
    """``?, ?, ?`` for an ``IN (...)`` list of ``count`` values."""
    return ", ".join("?" * count)


def save_urls(
    db: Database,
    urls: Iterable[str],
    *,
    seen_at: str,
    shorteners: frozenset[str] = SHORTENER_HOSTS,
    resolve_all: bool = False,
) -> SavedUrls:
    """Make sure every URL has a ``urls`` row; return their ids.

    New rows are ``pending`` with ``is_shortener`` from the host. Existing rows keep
    everything, except that ``is_shortener`` is raised to 1 when ``shorteners`` has grown
    to include the host (never lowered). ``queued`` counts new rows the resolver will pick
    up: shorteners, or all of them with ``resolve_all``. Call inside a transaction.
    """
    unique = list(dict.fromkeys(urls))
    ids: dict[str, int] = {}
    upgrade: list[int] = []
    for part in chunked(unique):
        sql = (
            f"SELECT id, url, host, is_shortener FROM urls WHERE url IN ({placeholders(len(part))})"
        )
        for url_id, url, host, shortener in db.execute(sql, list(part)).fetchall():
            ids[url] = url_id
            if not shortener and is_shortener(host, shorteners):
                upgrade.append(url_id)
    new_rows = []
    for url in unique:
        if url not in ids:
            host = url_host(url)
            new_rows.append((url, host, int(is_shortener(host, shorteners)), seen_at))
    db.conn.executemany(
        "INSERT INTO urls (url, host, is_shortener, status, hops, attempts, first_seen_at) "
        "VALUES (?, ?, ?, 'pending', 0, 0, ?) ON CONFLICT (url) DO NOTHING",
        new_rows,
    )
    added = [row[0] for row in new_rows]
    for part in chunked(added):
        sql = f"SELECT id, url FROM urls WHERE url IN ({placeholders(len(part))})"
        ids.update((url, url_id) for url_id, url in db.execute(sql, list(part)).fetchall())
    for part_ids in chunked(upgrade):
        db.execute(
            f"UPDATE urls SET is_shortener = 1 WHERE id IN ({placeholders(len(part_ids))})",
            list(part_ids),
        )
    queued = sum(1 for row in new_rows if resolve_all or row[2])
    return SavedUrls(ids=ids, new=len(new_rows), queued=queued)


def failed_backoff(attempts: int) -> timedelta:
    """How long a URL waits after its ``attempts``-th failed attempt: 1 h, 4 h, 16 h ... 30 days."""
    exponent = max(attempts - 1, 0)
    if exponent >= 8:  # 4**8 hours is past the cap already; avoid huge numbers
        return MAX_BACKOFF
    return min(FIRST_BACKOFF * int(4**exponent), MAX_BACKOFF)


def save_resolution(
    db: Database,
    resolution: Resolution,
    *,
    now: datetime | None = None,
    shorteners: frozenset[str] = SHORTENER_HOSTS,
) -> str | None:
    """Record what the resolver found for one URL, in one short transaction.

    Creates the ``urls`` row when it is missing (``scraper resolve URL --db``). A deferral
    only sets ``next_attempt_at``; any other outcome sets the status, the chain's end, the
    error and its category, counts the attempt, replaces the URL's ``redirects`` and
    appends a ``url_checks`` row (the history; ``urls`` keeps the latest answer), in the
    same transaction so the two never disagree. ``expanded_url`` is never cleared by an
    attempt that did not get that far. Returns the URL's status before this answer.
    """
    checked_at = iso_utc(now or utc_now())
    with write_transaction(db):
        saved = save_urls(db, [resolution.url], seen_at=checked_at, shorteners=shorteners)
        url_id = saved.ids[resolution.url]
        previous, attempts = db.execute(
            "SELECT status, attempts FROM urls WHERE id = ?", [url_id]
        ).fetchone()
        if saved.new:
            previous = None
        if resolution.status == "pending":
            _save_deferral(db, url_id, resolution, checked_at)
            return str(previous) if previous is not None else None
        attempts = (attempts or 0) + 1
        next_attempt_at = None
        if resolution.status == "failed":
            next_attempt_at = iso_utc_or_none(resolution.next_attempt_at) or iso_utc(
                datetime.fromisoformat(checked_at) + failed_backoff(attempts)
            )
        resolved_at = None
        if resolution.status == "resolved":
            resolved_at = iso_utc_or_none(resolution.resolved_at) or checked_at
        db.execute(
            """
            UPDATE urls SET status = ?, expanded_url = COALESCE(?, expanded_url),
              final_url = ?, final_status_code = ?, hops = ?, error = ?, error_category = ?,
              attempts = ?, checked_at = ?, resolved_at = COALESCE(?, resolved_at),
              next_attempt_at = ?
            WHERE id = ?
            """,
            [
                resolution.status,
                resolution.expanded_url,
                resolution.final_url,
                resolution.final_status_code,
                len(resolution.hops),
                resolution.error,
                resolution.error_category,
                attempts,
                checked_at,
                resolved_at,
                next_attempt_at,
                url_id,
            ],
        )
        db.execute("DELETE FROM redirects WHERE url_id = ?", [url_id])
        db.conn.executemany(
            "INSERT INTO redirects (url_id, hop, url, status_code, location, via) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (url_id, number, hop.url, hop.status_code, hop.location, hop.via)
                for number, hop in enumerate(resolution.hops, start=1)
            ],
        )
        db.execute(
            "INSERT INTO url_checks (url_id, checked_at, status, final_url, final_status_code, "
            "error_category) VALUES (?, ?, ?, ?, ?, ?)",
            [
                url_id,
                checked_at,
                resolution.status,
                resolution.final_url,
                resolution.final_status_code,
                resolution.error_category,
            ],
        )
    return str(previous) if previous is not None else None


def _save_deferral(db: Database, url_id: int, resolution: Resolution, checked_at: str) -> None:
    """Move ``next_attempt_at``; a still-pending row also shows why it waits."""
    next_attempt_at = iso_utc_or_none(resolution.next_attempt_at) or iso_utc(
        datetime.fromisoformat(checked_at) + DEFERRAL_DELAY
    )
    db.execute(
        """
        UPDATE urls SET next_attempt_at = ?, checked_at = ?,
          error = CASE WHEN status = 'pending' THEN ? ELSE error END,
          error_category = CASE WHEN status = 'pending' THEN ? ELSE error_category END
        WHERE id = ?
        """,
        [next_attempt_at, checked_at, resolution.error, resolution.error_category, url_id],
    )


def select_urls_to_resolve(
    db: Database,
    *,
    now: datetime,
    ttl_days: float,
    resolve_all: bool,
    retry_failed: bool,
    max_attempts: int,
    limit: int | None = None,
) -> list[str]:
    """The URLs the resolver should try now, never-tried ones first.

    Pending URLs whose ``next_attempt_at`` is due; resolved ones last resolved more than
    ``ttl_days`` ago; failed ones that are due and have had fewer than ``max_attempts``
    attempts. ``retry_failed`` takes every failed and blocked URL regardless. Only
    shortener URLs unless ``resolve_all``.
    """
    if ttl_days < 0 or max_attempts < 0:
        raise ValueError("ttl_days and max_attempts must not be negative")
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    params = {
        "now": iso_utc(now),
        "cutoff": iso_utc(now - timedelta(days=ttl_days)),
        "resolve_all": int(resolve_all),
        "retry_failed": int(retry_failed),
        "max_attempts": max_attempts,
        "limit": -1 if limit is None else limit,
    }
    sql = """
    SELECT url FROM urls
    WHERE (:resolve_all OR is_shortener = 1)
      AND (
        (status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= :now))
        OR (status = 'resolved' AND (resolved_at IS NULL OR resolved_at <= :cutoff)
            AND (next_attempt_at IS NULL OR next_attempt_at <= :now))
        OR (status = 'failed' AND (:retry_failed OR (attempts < :max_attempts
            AND (next_attempt_at IS NULL OR next_attempt_at <= :now))))
        OR (status = 'blocked' AND :retry_failed)
      )
    ORDER BY CASE status WHEN 'pending' THEN 0 WHEN 'failed' THEN 1 ELSE 2 END, id
    LIMIT :limit
    """
    return [row[0] for row in db.execute(sql, params).fetchall()]
