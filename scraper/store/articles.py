"""Saving one parsed article: its row, posts, URLs, citations and links, in one transaction.

Saving is idempotent: the same article again changes no counts and keeps every rowid. An
article whose content or findings changed replaces its own citations and links (they have
no children) and nothing else: posts, accounts and URLs are only ever added or filled in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from scraper.model import Article
from scraper.shorteners import SHORTENER_HOSTS
from scraper.store.posts import merge_posts, save_accounts, save_posts
from scraper.store.transaction import write_transaction
from scraper.store.urls import placeholders, save_urls
from scraper.timestamps import iso_utc

# (post id, kind, position) and (position, url, post id, text, context), as compared and stored.
CitationRow = tuple[str, str, int]
LinkRow = tuple[int, str, str | None, str, str]


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What :func:`save_article` did.

    ``new_article``: the article had never been saved with content before.
    ``changed``: new, or its content hash, citations or links differ from the stored ones.
    ``posts``/``links``: how many the article cites/holds; ``new_posts``/``new_urls``: rows
    added; ``queued_urls``: new URLs the resolver will pick up. ``changed_posts``: known
    posts this save filled in; ``unchanged_posts``: known posts it left as they were.
    ``new_links``/``changed_links``/``unchanged_links``: the article's link rows (keyed by
    position) that are new, differ from (or replace, or remove) a stored one, or are equal.
    """

    article_id: int
    new_article: bool
    changed: bool
    posts: int
    new_posts: int
    links: int
    new_urls: int
    queued_urls: int
    changed_posts: int = 0
    unchanged_posts: int = 0
    new_links: int = 0
    changed_links: int = 0
    unchanged_links: int = 0


@dataclass(frozen=True, slots=True)
class ArticleState:
    """What a conditional GET of a known article needs."""

    url: str
    etag: str | None
    last_modified: str | None
    content_sha256: str | None
    fetched_at: str | None
    http_status: int | None


def save_article(
    db: Database,
    article: Article,
    *,
    source: str,
    fetched_at: str,
    http_status: int | None = None,
    content_type: str | None = None,
    content_sha256: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    shorteners: frozenset[str] = SHORTENER_HOSTS,
    resolve_all: bool = False,
    canonical_url: str | None = None,
    final_url: str | None = None,
) -> SaveResult:
    """Save ``article`` and everything it cites, all or nothing.

    The article is keyed on ``article.url``, else ``source``. Every link URL gets a
    ``urls`` row (``pending``) for the resolver. Raises ``ValueError`` when the article
    has neither a URL nor a source, or ``fetched_at`` is not an ISO timestamp.
    """
    key = (article.url or source or "").strip()
    if not key:
        raise ValueError("an article needs a url or a source to be saved")
    seen_at = iso_utc(fetched_at)
    posts = merge_posts(article.posts)
    post_keys = [post.key for post in article.posts]
    citations = plan_citations(article)
    links = plan_links(article, post_keys)
    with write_transaction(db):
        previous = db.execute(
            "SELECT id, content_sha256, updated_at FROM articles WHERE url = ?", [key]
        ).fetchone()
        if previous is None:
            new_article, children_differ, stored_links = True, True, []
        else:
            new_article = previous[2] is None
            stored_links = _stored_links(db, previous[0])
            children_differ = _children_differ(db, previous[0], citations, links, stored_links)
        changed = (
            new_article
            or children_differ
            or (content_sha256 is not None and content_sha256 != previous[1])
        )
        account_ids = save_accounts(db, posts.values(), seen_at)
        new_posts, changed_posts = save_posts(db, posts, account_ids, seen_at)
        urls = save_urls(
            db,
            (link[1] for link in links),
            seen_at=seen_at,
            shorteners=shorteners,
            resolve_all=resolve_all,
        )
        row = {
            "url": key,
            "source": source,
            "title": article.title,
            "published": article.published,
            "fetched_at": seen_at,
            "http_status": http_status,
            "content_type": content_type,
            "content_sha256": content_sha256,
            "etag": etag,
            "last_modified": last_modified,
            "encoding": article.encoding,
            "canonical_url": canonical_url,
            "final_url": final_url,
            "n_posts": len(citations),
            "n_links": len(links),
            "warnings": "; ".join(article.warnings) or None,
        }
        if previous is None:
            article_id = _insert_article(db, row, seen_at)
        else:
            article_id = previous[0]
            _update_article(db, article_id, row, seen_at if changed else None)
        if children_differ:
            _replace_children(db, article_id, previous is not None, citations, links, urls.ids)
    new_links, changed_links, unchanged_links = compare_links(stored_links, links)
    return SaveResult(
        article_id=article_id,
        new_article=new_article,
        changed=changed,
        posts=len(citations),
        new_posts=new_posts,
        links=len(links),
        new_urls=urls.new,
        queued_urls=urls.queued,
        changed_posts=changed_posts,
        unchanged_posts=len(posts) - new_posts - changed_posts,
        new_links=new_links,
        changed_links=changed_links,
        unchanged_links=unchanged_links,
    )


def compare_links(stored: list[LinkRow], planned: list[LinkRow]) -> tuple[int, int, int]:
    """New, changed and unchanged link rows, by position; a removed row counts as changed."""
    if not stored:  # a new article: no need to index its (possibly very many) rows
        return len(planned), 0, 0
    before = {row[0]: row for row in stored}
    after = {row[0]: row for row in planned}
    new = sum(1 for position in after if position not in before)
    unchanged = sum(1 for position, row in after.items() if before.get(position) == row)
    removed = sum(1 for position in before if position not in after)
    return new, len(after) - new - unchanged + removed, unchanged


def plan_citations(article: Article) -> list[CitationRow]:
    """One citation per post, at its first appearance in the article."""
    rows: dict[str, CitationRow] = {}
    for position, post in enumerate(article.posts):
        rows.setdefault(post.key, (post.key, post.kind, position))
    return list(rows.values())


def plan_links(article: Article, post_keys: list[str]) -> list[LinkRow]:
    """The link rows of ``article``, in order, with a unique position each.

    Links keep the parser's positions unless two collide (then their order is used).
    A URL a post lists in ``Post.links`` but that has no ``Link`` of that post is added
    after the others, so the post's targets are never lost. Empty URLs are skipped.
    """
    usable = [link for link in article.links if link.url.strip()]
    positions = [link.position for link in usable]
    renumber = len(set(positions)) != len(positions)
    rows: list[LinkRow] = []
    covered: set[tuple[str, str]] = set()
    for index, link in enumerate(usable):
        post_index = link.post_index
        post_key = None
        if post_index is not None and 0 <= post_index < len(post_keys):
            post_key = post_keys[post_index]
            covered.add((post_key, link.url.strip()))
        position = index if renumber else link.position
        rows.append((position, link.url.strip(), post_key, link.text, link.context))
    next_position = max((row[0] for row in rows), default=-1) + 1
    for post_key, post in zip(post_keys, article.posts, strict=True):
        for url in (u.strip() for u in post.links):
            if url and (post_key, url) not in covered:
                covered.add((post_key, url))
                rows.append((next_position, url, post_key, "", "post"))
                next_position += 1
    return rows


def _stored_links(db: Database, article_id: int) -> list[LinkRow]:
    rows = db.execute(
        "SELECT l.position, u.url, l.post_id, l.text, l.context "
        "FROM links l JOIN urls u ON u.id = l.url_id WHERE l.article_id = ?",
        [article_id],
    ).fetchall()
    return [tuple(row) for row in rows]


def _children_differ(
    db: Database,
    article_id: int,
    citations: list[CitationRow],
    links: list[LinkRow],
    stored_links: list[LinkRow],
) -> bool:
    stored_citations = db.execute(
        "SELECT post_id, kind, position FROM citations WHERE article_id = ?", [article_id]
    ).fetchall()
    if sorted(stored_citations) != sorted(citations):
        return True
    return sorted(stored_links, key=_position) != sorted(links, key=_position)


def _position(row: LinkRow) -> int:
    return row[0]


def _replace_children(
    db: Database,
    article_id: int,
    existed: bool,
    citations: list[CitationRow],
    links: list[LinkRow],
    url_ids: dict[str, int],
) -> None:
    if existed:
        db.execute("DELETE FROM citations WHERE article_id = ?", [article_id])
        db.execute("DELETE FROM links WHERE article_id = ?", [article_id])
    db.conn.executemany(
        "INSERT INTO citations (article_id, post_id, kind, position) VALUES (?, ?, ?, ?)",
        [(article_id, *row) for row in citations],
    )
    db.conn.executemany(
        "INSERT INTO links (article_id, position, url_id, post_id, text, context) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        # a generator: a page of many links is not copied once more into a list
        (
            (article_id, position, url_ids[url], post_key, text, context)
            for position, url, post_key, text, context in links
        ),
    )


def _insert_article(db: Database, row: dict[str, Any], seen_at: str) -> int:
    values = {**row, "first_seen_at": seen_at, "updated_at": seen_at}
    cursor = db.execute(
        f"INSERT INTO articles ({', '.join(values)}) VALUES ({placeholders(len(values))})",
        list(values.values()),
    )
    assert cursor.lastrowid is not None  # an INSERT into a rowid table always sets it
    return cursor.lastrowid


def _update_article(
    db: Database, article_id: int, row: dict[str, Any], updated_at: str | None
) -> None:
    # A re-parse that lost the title or date (a changed template) keeps the known ones.
    db.execute(
        """
        UPDATE articles SET source = :source, title = COALESCE(:title, title),
          published = COALESCE(:published, published), fetched_at = :fetched_at,
          http_status = :http_status, content_type = COALESCE(:content_type, content_type),
          content_sha256 = COALESCE(:content_sha256, content_sha256), etag = :etag,
          last_modified = :last_modified, encoding = COALESCE(:encoding, encoding),
          error = NULL, n_posts = :n_posts, n_links = :n_links,
          canonical_url = COALESCE(:canonical_url, canonical_url),
          final_url = COALESCE(:final_url, final_url), warnings = :warnings,
          updated_at = COALESCE(:updated_at, updated_at)
        WHERE id = :id
        """,
        {**row, "updated_at": updated_at, "id": article_id},
    )


def save_failed_article(
    db: Database,
    *,
    source: str,
    url: str | None,
    fetched_at: str,
    http_status: int | None,
    error: str,
    content_type: str | None = None,
) -> int:
    """Record a page that could not be fetched or parsed; return its article id.

    A known article keeps its title, citations and links (the last good content): only
    ``fetched_at``, ``http_status`` and ``error`` change.
    """
    key = (url or source or "").strip()
    if not key:
        raise ValueError("a failed article needs a url or a source to be saved")
    seen_at = iso_utc(fetched_at)
    with write_transaction(db):
        (article_id,) = db.execute(
            """
            INSERT INTO articles
              (url, source, fetched_at, http_status, content_type, error, first_seen_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (url) DO UPDATE SET fetched_at = excluded.fetched_at,
              http_status = excluded.http_status, error = excluded.error
            RETURNING id
            """,
            [key, source, seen_at, http_status, content_type, error, seen_at],
        ).fetchone()
    return int(article_id)


def save_not_modified(
    db: Database, *, url: str, fetched_at: str, http_status: int = 304
) -> int | None:
    """Note that a known article answered "not modified"; return its id (``None`` if unknown)."""
    with write_transaction(db):
        found = db.execute(
            "UPDATE articles SET fetched_at = ?, http_status = ?, error = NULL "
            "WHERE url = ? RETURNING id",
            [iso_utc(fetched_at), http_status, url],
        ).fetchone()
    return None if found is None else int(found[0])


def is_unchanged(db: Database, url: str, content_sha256: str) -> bool:
    """Whether the article stored under ``url`` (or source path) was saved from this content.

    Lets ``run`` skip parsing a document whose bytes have not changed since the last save.
    A page only ever recorded as failed is never unchanged: it has no saved content.
    """
    row = db.execute(
        "SELECT content_sha256, updated_at FROM articles WHERE url = ?", [url]
    ).fetchone()
    return row is not None and row[1] is not None and row[0] == content_sha256


def get_article_state(db: Database, url: str) -> ArticleState | None:
    """The validators stored for ``url`` (for ``If-None-Match``/``If-Modified-Since``).

    ``url`` may also be a file's source path: files are stored under their canonical URL
    when they name one, so the lookup falls back to the ``source`` column.
    """
    row = db.execute(
        "SELECT url, etag, last_modified, content_sha256, fetched_at, http_status "
        "FROM articles WHERE url = :key OR source = :key ORDER BY url = :key DESC LIMIT 1",
        {"key": url},
    ).fetchone()
    return None if row is None else ArticleState(*row)
