"""The tables as they are now: columns, keys and the constants other modules share.

:data:`TABLES` documents the current schema (and a test checks that the migrations in
:mod:`scraper.store.migrations` build exactly it); each migration keeps its own frozen
copy of what it adds, so this file can grow without changing what an old step did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

URL_STATUSES = ("pending", "resolved", "failed", "blocked")
RUN_STATUSES = ("running", "completed", "failed", "interrupted")
RUN_COUNTS = (
    "sources",
    "fetched",
    "not_modified",
    "unchanged",
    "new_articles",
    "posts",
    "links",
    "urls_resolved",
    "urls_failed",
    "errors",
    "skipped",
    "listed_unchanged",
    "changed_articles",
    "new_posts",
    "changed_posts",
    "unchanged_posts",
    "new_links",
    "changed_links",
    "unchanged_links",
    "records_read",
    "records_corrupt",
)


# The liveness history tables as migration 0006 made them (frozen: later changes add columns).
URL_CHECKS_COLUMNS: tuple[tuple[str, type], ...] = (
    ("id", int),
    ("url_id", int),
    ("checked_at", str),
    ("status", str),
    ("final_url", str),
    ("final_status_code", int),
    ("error_category", str),
)
POST_CHECKS_COLUMNS: tuple[tuple[str, type], ...] = (
    ("id", int),
    ("post_id", str),
    ("checked_at", str),
    ("state", str),
    ("http_status", int),
    ("detail", str),
)
POST_STATES = ("available", "gone", "restricted", "unknown")


@dataclass(frozen=True)
class TableSpec:
    """One table: columns (name -> Python type), primary key, foreign keys, defaults."""

    columns: dict[str, type]
    pk: str | tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...] = ()
    not_null: frozenset[str] = frozenset()
    defaults: dict[str, Any] = field(default_factory=dict)


TABLES: dict[str, TableSpec] = {
    "articles": TableSpec(
        columns={
            "id": int,
            "url": str,
            "source": str,
            "title": str,
            "published": str,
            "fetched_at": str,
            "http_status": int,
            "content_type": str,
            "content_sha256": str,
            "etag": str,
            "last_modified": str,
            "encoding": str,
            "error": str,
            "first_seen_at": str,
            "updated_at": str,
            "n_posts": int,
            "n_links": int,
            "canonical_url": str,
            "final_url": str,
            "warc_offset": int,
            "warc_length": int,
            "warc_truncated": str,
            "warnings": str,
        },
        pk="id",
        not_null=frozenset({"url"}),
        defaults={"n_posts": 0, "n_links": 0},
    ),
    "accounts": TableSpec(
        columns={
            "id": int,
            "platform": str,
            "handle": str,
            "display_name": str,
            "url": str,
            "first_seen_at": str,
        },
        pk="id",
        not_null=frozenset({"platform", "handle"}),
    ),
    "posts": TableSpec(
        columns={
            "id": str,
            "platform": str,
            "post_id": str,
            "account_id": int,
            "date": str,
            "date_text": str,
            "posted_at": str,
            "date_mismatch": int,
            "text": str,
            "lang": str,
            "url": str,
            "first_seen_at": str,
            "updated_at": str,
            "state": str,
            "checked_at": str,
            "archived_url": str,
            "archived_at": str,
            "archive_checked_at": str,
        },
        pk="id",
        foreign_keys=(("account_id", "accounts", "id"),),
        not_null=frozenset({"platform"}),
        defaults={"date_mismatch": 0},
    ),
    "citations": TableSpec(
        columns={"article_id": int, "post_id": str, "kind": str, "position": int},
        pk=("article_id", "post_id"),
        foreign_keys=(("article_id", "articles", "id"), ("post_id", "posts", "id")),
    ),
    "urls": TableSpec(
        columns={
            "id": int,
            "url": str,
            "host": str,
            "is_shortener": int,
            "status": str,
            "expanded_url": str,
            "final_url": str,
            "final_status_code": int,
            "hops": int,
            "error": str,
            "error_category": str,
            "attempts": int,
            "first_seen_at": str,
            "checked_at": str,
            "resolved_at": str,
            "next_attempt_at": str,
            "archived_url": str,
            "archived_at": str,
            "archive_checked_at": str,
        },
        pk="id",
        not_null=frozenset({"url", "status"}),
        defaults={"is_shortener": 0, "status": "pending", "hops": 0, "attempts": 0},
    ),
    "links": TableSpec(
        columns={
            "article_id": int,
            "position": int,
            "post_id": str,
            "url_id": int,
            "text": str,
            "context": str,
        },
        pk=("article_id", "position"),
        foreign_keys=(
            ("article_id", "articles", "id"),
            ("post_id", "posts", "id"),
            ("url_id", "urls", "id"),
        ),
    ),
    "redirects": TableSpec(
        columns={
            "url_id": int,
            "hop": int,
            "url": str,
            "status_code": int,
            "location": str,
            "via": str,
        },
        pk=("url_id", "hop"),
        foreign_keys=(("url_id", "urls", "id"),),
    ),
    "entities": TableSpec(
        columns={"post_id": str, "kind": str, "start": int, "value": str, "end": int},
        pk=("post_id", "kind", "start"),
        foreign_keys=(("post_id", "posts", "id"),),
    ),
    # Summary tables (scraper.store.summaries): refreshed by each run, read by the views.
    "summary_accounts": TableSpec(
        columns={
            "account_id": int,
            "platform": str,
            "handle": str,
            "display_name": str,
            "citations": int,
            "posts": int,
            "articles": int,
            "first_post_date": str,
            "last_post_date": str,
        },
        pk="account_id",
    ),
    "summary_days": TableSpec(
        columns={"date": str, "citations": int, "posts": int, "accounts": int, "articles": int},
        pk="rowid",
    ),
    "summary_articles": TableSpec(
        columns={"article_id": int, "posts": int, "accounts": int, "links": int},
        pk="article_id",
    ),
    "summary_post_targets": TableSpec(
        columns={
            "post_id": str,
            "platform": str,
            "handle": str,
            "post_date": str,
            "post_url": str,
            "url_id": int,
            "link_url": str,
            "link_host": str,
            "is_shortener": int,
            "status": str,
            "expanded_url": str,
            "final_url": str,
            "final_status_code": int,
            "hops": int,
            "error_category": str,
            "target": str,
        },
        pk=("post_id", "url_id"),
    ),
    "summary_target_domains": TableSpec(
        columns={
            "domain": str,
            "links": int,
            "post_links": int,
            "urls": int,
            "posts": int,
            "articles": int,
        },
        pk="rowid",
    ),
    "summary_shortener_hosts": TableSpec(
        columns={
            "host": str,
            "urls": int,
            "resolved": int,
            "failed": int,
            "blocked": int,
            "pending": int,
            "max_hops": int,
            "links": int,
        },
        pk="host",
    ),
    "summary_link_rot": TableSpec(
        columns={"year": str, "links_checked": int, "links_dead": int, "share_dead": float},
        pk="rowid",
    ),
    "runs": TableSpec(
        # in the order the migrations add them: counts that came later follow `message`
        columns={
            "id": int,
            "started_at": str,
            "finished_at": str,
            "status": str,
            **dict.fromkeys(RUN_COUNTS[: RUN_COUNTS.index("skipped")], int),
            "message": str,
            **dict.fromkeys(RUN_COUNTS[RUN_COUNTS.index("skipped") :], int),
        },
        pk="id",
    ),
    "warc_files": TableSpec(
        columns={
            "path": str,
            "size": int,
            "head_sha256": str,
            "records": int,
            "pages": int,
            "corrupt": int,
            "completed_at": str,
        },
        pk="path",
    ),
    "url_checks": TableSpec(
        columns=dict(URL_CHECKS_COLUMNS),
        pk="id",
        foreign_keys=(("url_id", "urls", "id"),),
    ),
    "post_checks": TableSpec(
        columns=dict(POST_CHECKS_COLUMNS),
        pk="id",
        foreign_keys=(("post_id", "posts", "id"),),
    ),
}
