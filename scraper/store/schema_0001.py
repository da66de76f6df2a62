"""The schema as migration ``0001_initial`` created it, frozen.

A migration must mean the same thing forever: a database made at any past step has to
upgrade to exactly what a fresh database gets. So 0001 does not read the live ``TABLES``
of :mod:`scraper.store.tables` (which grows with every later migration) but this snapshot,
written out as literals. Never edit it: a change to the schema is a new migration.
"""

from __future__ import annotations

from typing import Any

# Keyword arguments of ``schema.TableSpec``, per table.
TABLES: dict[str, dict[str, Any]] = {
    "articles": {
        "columns": {
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
        },
        "pk": "id",
        "not_null": frozenset({"url"}),
        "defaults": {"n_posts": 0, "n_links": 0},
    },
    "accounts": {
        "columns": {
            "id": int,
            "platform": str,
            "handle": str,
            "display_name": str,
            "url": str,
            "first_seen_at": str,
        },
        "pk": "id",
        "not_null": frozenset({"platform", "handle"}),
    },
    "posts": {
        "columns": {
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
        },
        "pk": "id",
        "foreign_keys": (("account_id", "accounts", "id"),),
        "not_null": frozenset({"platform"}),
        "defaults": {"date_mismatch": 0},
    },
    "citations": {
        "columns": {"article_id": int, "post_id": str, "kind": str, "position": int},
        "pk": ("article_id", "post_id"),
        "foreign_keys": (("article_id", "articles", "id"), ("post_id", "posts", "id")),
    },
    "urls": {
        "columns": {
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
        },
        "pk": "id",
        "not_null": frozenset({"url", "status"}),
        "defaults": {"is_shortener": 0, "status": "pending", "hops": 0, "attempts": 0},
    },
    "links": {
        "columns": {
            "article_id": int,
            "position": int,
            "post_id": str,
            "url_id": int,
            "text": str,
            "context": str,
        },
        "pk": ("article_id", "position"),
        "foreign_keys": (
            ("article_id", "articles", "id"),
            ("post_id", "posts", "id"),
            ("url_id", "urls", "id"),
        ),
    },
    "redirects": {
        "columns": {
            "url_id": int,
            "hop": int,
            "url": str,
            "status_code": int,
            "location": str,
            "via": str,
        },
        "pk": ("url_id", "hop"),
        "foreign_keys": (("url_id", "urls", "id"),),
    },
    "entities": {
        "columns": {"post_id": str, "kind": str, "start": int, "value": str, "end": int},
        "pk": ("post_id", "kind", "start"),
        "foreign_keys": (("post_id", "posts", "id"),),
    },
    "runs": {
        "columns": {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "sources": int,
            "fetched": int,
            "not_modified": int,
            "unchanged": int,
            "new_articles": int,
            "posts": int,
            "links": int,
            "urls_resolved": int,
            "urls_failed": int,
            "errors": int,
            "message": str,
        },
        "pk": "id",
    },
}

# (table, columns, unique). Foreign-key columns that lead a primary key (citations.article_id,
# links.article_id, redirects.url_id, entities.post_id) are already indexed by it.
INDEXES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("articles", ("url",), True),
    ("articles", ("published",), False),
    ("posts", ("account_id",), False),
    ("posts", ("date",), False),
    ("citations", ("post_id",), False),
    ("urls", ("url",), True),
    ("urls", ("status",), False),
    ("urls", ("host",), False),
    ("links", ("post_id",), False),
    ("links", ("url_id",), False),
    ("entities", ("kind", "value"), False),
    ("runs", ("status",), False),
)

# Handles are matched case-insensitively; an expression index keeps the handle as first
# displayed while making @GirlsReallyRule and @girlsreallyrule one account.
ACCOUNTS_HANDLE_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_accounts_platform_handle "
    "ON accounts (platform, lower(handle))"
)

FTS_COLUMNS = {"posts": ["text"], "articles": ["title"]}

# One row per citation. `targets` is the post's link targets, space-separated (URLs hold no
# spaces): Datasette turns a lone URL into a link and a CSV export stays one cell per post.
# Targets come from every article that carried the post's links, since an article that only
# shows a rendered embed (id only) has none of its own.
CITED_POSTS_SQL = """
SELECT
  c.article_id,
  a.url AS article_url,
  a.title AS article_title,
  a.published AS article_published,
  p.platform,
  acc.handle,
  acc.display_name,
  p.id AS post_id,
  p.url AS post_url,
  p.date,
  p.date_text,
  p.posted_at,
  p.text,
  c.kind,
  c.position,
  (
    SELECT group_concat(target, ' ')
    FROM (
      SELECT target FROM (
        SELECT COALESCE(u.final_url, u.expanded_url, u.url) AS target,
          l.article_id <> c.article_id AS elsewhere, l.position
        FROM links l JOIN urls u ON u.id = l.url_id
        WHERE l.post_id = p.id
      )
      GROUP BY target
      ORDER BY min(elsewhere), min(position)
    )
  ) AS targets
FROM citations c
JOIN articles a ON a.id = c.article_id
JOIN posts p ON p.id = c.post_id
LEFT JOIN accounts acc ON acc.id = p.account_id
ORDER BY c.article_id, c.position
""".strip()
