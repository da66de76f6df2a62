"""Liveness in the database: what is due for a check, and the history of every answer.

Link checks are written by :func:`scraper.store.urls.save_resolution` (a ``url_checks``
row beside the ``urls`` update). This module chooses the links and posts that are due,
records post checks (``post_checks`` plus the post's latest state) and archived copies,
each write in its own short transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from scraper.model import DEAD_CATEGORIES, ArchiveLookup, ArchiveTarget, PostCheck, PostRef
from scraper.store.transaction import write_transaction
from scraper.timestamps import iso_utc

DEAD_SQL = "(status = 'failed' AND error_category IN ({}))".format(
    ", ".join(f"'{category}'" for category in DEAD_CATEGORIES)
)


def select_urls_to_check(
    db: Database, *, now: datetime, ttl_days: float, check_all: bool = False
) -> list[str]:
    """Every link URL (not only shorteners) whose last check is older than ``ttl_days``.

    Never-checked URLs come first. A URL waiting out a ``Retry-After`` is left until its
    time; a ``blocked`` one is never re-checked (the guard would refuse it again).
    ``check_all`` takes every URL now.
    """
    params = {
        "now": iso_utc(now),
        "cutoff": iso_utc(now - timedelta(days=ttl_days)),
        "all": int(check_all),
    }
    sql = """
    SELECT url FROM urls
    WHERE status <> 'blocked'
      AND (:all OR (
        (checked_at IS NULL OR checked_at <= :cutoff)
        AND (next_attempt_at IS NULL OR next_attempt_at <= :now OR status <> 'pending')
      ))
    ORDER BY checked_at IS NOT NULL, checked_at, id
    """
    return [row[0] for row in db.execute(sql, params).fetchall()]


def select_posts_to_check(
    db: Database,
    *,
    now: datetime,
    recheck_days: float,
    platforms: frozenset[str],
    check_all: bool = False,
) -> list[PostRef]:
    """Posts on ``platforms`` never checked, or last answered more than ``recheck_days`` ago.

    A post whose last check was ``unknown`` keeps its old ``checked_at``, so it is due
    again at the next check.
    """
    params = {"cutoff": iso_utc(now - timedelta(days=recheck_days)), "all": int(check_all)}
    marks = ", ".join("?" * len(platforms))
    sql = f"""
    SELECT p.id, p.platform, p.post_id, acc.handle, p.url
    FROM posts p LEFT JOIN accounts acc ON acc.id = p.account_id
    WHERE p.platform IN ({marks})
      AND (? OR p.checked_at IS NULL OR p.checked_at <= ?)
    ORDER BY p.checked_at IS NOT NULL, p.checked_at, p.id
    """
    rows = db.execute(sql, [*sorted(platforms), params["all"], params["cutoff"]]).fetchall()
    return [PostRef(*row) for row in rows]


def save_post_check(db: Database, check: PostCheck) -> str | None:
    """Append ``check`` to ``post_checks``; a definite answer becomes the post's state.

    ``unknown`` is history only: the post keeps its last known state and stays due.
    Returns the post's state before this check.
    """
    with write_transaction(db):
        row = db.execute("SELECT state FROM posts WHERE id = ?", [check.post]).fetchone()
        if row is None:
            raise ValueError(f"no post {check.post!r}")
        db.execute(
            "INSERT INTO post_checks (post_id, checked_at, state, http_status, detail) "
            "VALUES (?, ?, ?, ?, ?)",
            [check.post, check.checked_at, check.state, check.http_status, check.detail],
        )
        if check.state != "unknown":
            db.execute(
                "UPDATE posts SET state = ?, checked_at = ? WHERE id = ?",
                [check.state, check.checked_at, check.post],
            )
    return str(row[0]) if row[0] is not None else None


def select_archive_targets(db: Database) -> list[ArchiveTarget]:
    """Dead links and gone posts whose archived copy has not been looked up yet.

    Each is to be found nearest the date of the earliest article citing it (published,
    else first seen); a post without citing dates uses its own date.
    """
    links = db.execute(
        f"""
        SELECT u.id, u.url,
          (SELECT min(COALESCE(a.published, a.first_seen_at))
           FROM links l JOIN articles a ON a.id = l.article_id WHERE l.url_id = u.id)
        FROM urls u
        WHERE {DEAD_SQL.replace("status", "u.status").replace("error_category", "u.error_category")}
          AND u.archive_checked_at IS NULL
        ORDER BY u.id
        """
    ).fetchall()
    posts = db.execute(
        """
        SELECT p.id, p.url,
          COALESCE(
            (SELECT min(COALESCE(a.published, a.first_seen_at))
             FROM citations c JOIN articles a ON a.id = c.article_id WHERE c.post_id = p.id),
            p.date, p.posted_at)
        FROM posts p
        WHERE p.state = 'gone' AND p.url IS NOT NULL AND p.archive_checked_at IS NULL
        ORDER BY p.id
        """
    ).fetchall()
    return [ArchiveTarget("url", str(key), url, near) for key, url, near in links] + [
        ArchiveTarget("post", str(key), url, near) for key, url, near in posts
    ]


def save_archive_lookup(db: Database, lookup: ArchiveLookup) -> None:
    """Record the copy found for a dead link or gone post (or that there was none)."""
    table = "urls" if lookup.target.kind == "url" else "posts"
    key: int | str = int(lookup.target.key) if table == "urls" else lookup.target.key
    with write_transaction(db):
        db.execute(
            f"UPDATE {table} SET archived_url = COALESCE(?, archived_url), "
            "archived_at = COALESCE(?, archived_at), archive_checked_at = ? WHERE id = ?",
            [lookup.archived_url, lookup.archived_at, lookup.checked_at, key],
        )


def is_dead(status: str | None, error_category: str | None) -> bool:
    """Whether a link's answer counts as dead (see :data:`DEAD_CATEGORIES`)."""
    return status == "failed" and error_category in DEAD_CATEGORIES
