"""Accounts, posts and their entities: merged in, never overwritten with less.

A post can be cited by many articles, in different forms: a rendered embed gives only its
id, a blockquote its text, a plain-text quote a handle and a date. Each save fills the
fields still empty and keeps the longest text (with the entities of that text), so the
result does not depend on the order the articles arrive in, and re-saving changes nothing.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from scraper.model import Post
from scraper.store.urls import chunked, placeholders

# Columns filled from a later sighting when still NULL (account_id is handled alongside).
FILL_COLUMNS = ("post_id", "account_id", "date", "date_text", "posted_at", "lang", "url")
POST_COLUMNS = (
    "id",
    "platform",
    *FILL_COLUMNS,
    "date_mismatch",
    "text",
    "first_seen_at",
    "updated_at",
)

# SQLite's lower() folds ASCII only; keys computed here must match the accounts index.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

PROFILE_URLS = {
    "twitter": "https://twitter.com/{handle}",
    "x": "https://x.com/{handle}",
    "instagram": "https://www.instagram.com/{handle}/",
    "threads": "https://www.threads.com/@{handle}",
    "tiktok": "https://www.tiktok.com/@{handle}",
    "facebook": "https://www.facebook.com/{handle}",
    "bluesky": "https://bsky.app/profile/{handle}",
    "youtube": "https://www.youtube.com/@{handle}",
    "reddit": "https://www.reddit.com/user/{handle}/",
}

AccountKey = tuple[str, str]


def clean_handle(handle: str | None) -> str | None:
    """The handle without surrounding space or a leading ``@``; ``None`` when empty."""
    if handle is None:
        return None
    handle = handle.strip().lstrip("@").strip()
    return handle or None


def handle_key(handle: str) -> str:
    """The case-folded form accounts are deduplicated on (what SQLite's ``lower`` gives)."""
    return handle.translate(_ASCII_LOWER)


def profile_url(platform: str, handle: str) -> str | None:
    """The account's profile URL, for the platforms where it follows from the handle."""
    if platform == "mastodon" and handle.count("@") == 1:
        user, _, host = handle.partition("@")
        return f"https://{host}/@{user}"
    template = PROFILE_URLS.get(platform)
    return template.format(handle=handle) if template else None


def merge_posts(posts: Iterable[Post]) -> dict[str, Post]:
    """One post per key, in first-seen order; later duplicates fill what earlier ones lack."""
    merged: dict[str, Post] = {}
    for post in posts:
        base = merged.get(post.key)
        if base is None:
            merged[post.key] = dataclasses.replace(post)
            continue
        for name in ("handle", "display_name", "date_text", "posted_at", "lang", "url"):
            if getattr(base, name) is None:
                setattr(base, name, getattr(post, name))
        if base.date is None and post.date is not None:
            base.date, base.date_mismatch = post.date, post.date_mismatch
        if post.text and len(post.text) > len(base.text or ""):
            base.text, base.entities = post.text, list(post.entities)
    return merged


def save_accounts(db: Database, posts: Iterable[Post], seen_at: str) -> dict[AccountKey, int]:
    """Add the posts' accounts (case-insensitive handles) and return their ids by key.

    The first spelling of a handle is kept; ``display_name`` and ``url`` are filled when
    missing. Call inside a transaction.
    """
    wanted: dict[AccountKey, list[Any]] = {}
    for post in posts:
        handle = clean_handle(post.handle)
        if handle is None:
            continue
        key = (post.platform, handle_key(handle))
        row = wanted.setdefault(
            key, [post.platform, handle, None, profile_url(post.platform, handle), seen_at]
        )
        if row[2] is None and post.display_name:
            row[2] = post.display_name
    if not wanted:
        return {}
    db.conn.executemany(
        """
        INSERT INTO accounts (platform, handle, display_name, url, first_seen_at)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (platform, lower(handle)) DO UPDATE SET
          display_name = COALESCE(accounts.display_name, excluded.display_name),
          url = COALESCE(accounts.url, excluded.url)
        WHERE (accounts.display_name IS NULL AND excluded.display_name IS NOT NULL)
           OR (accounts.url IS NULL AND excluded.url IS NOT NULL)
        """,
        list(wanted.values()),
    )
    ids: dict[AccountKey, int] = {}
    by_platform: dict[str, list[str]] = {}
    for platform, folded in wanted:
        by_platform.setdefault(platform, []).append(folded)
    for platform, keys in by_platform.items():
        for part in chunked(keys):
            sql = (
                "SELECT id, lower(handle) FROM accounts WHERE platform = ? "
                f"AND lower(handle) IN ({placeholders(len(part))})"
            )
            for account_id, folded in db.execute(sql, [platform, *part]).fetchall():
                ids[(platform, folded)] = account_id
    return ids


def account_key(post: Post) -> AccountKey | None:
    """The key :func:`save_accounts` files ``post``'s account under, if it has a handle."""
    handle = clean_handle(post.handle)
    return None if handle is None else (post.platform, handle_key(handle))


def save_posts(
    db: Database, posts: dict[str, Post], account_ids: dict[AccountKey, int], seen_at: str
) -> tuple[int, int]:
    """Insert new posts, fill the gaps of known ones; return how many were new and changed.

    Entities follow the text they index: they are added with a post's text and replaced
    when a longer text replaces it. Call inside a transaction.
    """
    existing = _existing_posts(db, list(posts))
    inserts: list[tuple[Any, ...]] = []
    entity_rows: list[tuple[Any, ...]] = []
    replaced: list[str] = []
    changed = 0
    for key, post in posts.items():
        akey = account_key(post)
        row = _post_row(key, post, account_ids.get(akey) if akey else None, seen_at)
        old = existing.get(key)
        if old is None:
            inserts.append(tuple(row[column] for column in POST_COLUMNS))
            entity_rows.extend(_entity_rows(key, post))
            continue
        changes = {c: row[c] for c in FILL_COLUMNS if old[c] is None and row[c] is not None}
        if "date" in changes:
            changes["date_mismatch"] = row["date_mismatch"]
        if post.text and len(post.text) > len(old["text"] or ""):
            changes["text"] = post.text
            replaced.append(key)
            entity_rows.extend(_entity_rows(key, post))
        elif post.text is not None and post.text == old["text"]:
            # Same text: its entities are already there, unless an older version of
            # the tool did not record them; inserting them again is a no-op otherwise.
            entity_rows.extend(_entity_rows(key, post))
        if changes:
            changed += 1
            changes["updated_at"] = seen_at
            assignments = ", ".join(f"[{column}] = ?" for column in changes)
            db.execute(f"UPDATE posts SET {assignments} WHERE id = ?", [*changes.values(), key])
    db.conn.executemany(
        f"INSERT INTO posts ({', '.join(POST_COLUMNS)}) VALUES ({placeholders(len(POST_COLUMNS))})",
        inserts,
    )
    for part in chunked(replaced):
        db.execute(f"DELETE FROM entities WHERE post_id IN ({placeholders(len(part))})", part)
    db.conn.executemany(
        'INSERT INTO entities (post_id, kind, start, value, "end") VALUES (?, ?, ?, ?, ?) '
        "ON CONFLICT DO NOTHING",
        entity_rows,
    )
    return len(inserts), changed


def _existing_posts(db: Database, keys: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    columns = ("id", *FILL_COLUMNS, "text")
    for part in chunked(keys):
        sql = f"SELECT {', '.join(columns)} FROM posts WHERE id IN ({placeholders(len(part))})"
        for values in db.execute(sql, list(part)).fetchall():
            found[values[0]] = dict(zip(columns, values, strict=True))
    return found


def _post_row(key: str, post: Post, account_id: int | None, seen_at: str) -> dict[str, Any]:
    return {
        "id": key,
        "platform": post.platform,
        "post_id": post.post_id,
        "account_id": account_id,
        "date": post.date,
        "date_text": post.date_text,
        "posted_at": post.posted_at,
        "lang": post.lang,
        "url": post.url,
        "date_mismatch": int(post.date_mismatch),
        "text": post.text,
        "first_seen_at": seen_at,
        "updated_at": seen_at,
    }


def _entity_rows(key: str, post: Post) -> list[tuple[Any, ...]]:
    return [(key, e.kind, e.start, e.value, e.end) for e in post.entities]
