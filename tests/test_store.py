"""The store: schema, idempotent article saves, merges, rollbacks, WAL and migrations."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from scraper.errors import ScraperError
from scraper.model import Article, Entity, Hop, Link, Post, Resolution
from scraper.store import (
    SaveResult,
    collect_stats,
    ensure_schema,
    get_article_state,
    is_unchanged,
    open_database,
    save_article,
    save_failed_article,
    save_not_modified,
    save_resolution,
)
from scraper.store.schema import TABLES

FETCHED = "2024-05-01T12:00:00+00:00"
LATER = "2024-05-02T12:00:00+00:00"
# Makes every insert into links fail, as a full disk or a bug midway through a save would.
FAILING_LINKS_TRIGGER = (
    "CREATE TRIGGER fail_links BEFORE INSERT ON links BEGIN SELECT RAISE(ABORT, 'injected'); END"
)
TWEET_TEXT = "Raids in Mississippi today #ICE @someone https://t.co/abc"


def tweet(**overrides: object) -> Post:
    """A fully described tweet, as a blockquote embed gives it."""
    fields: dict[str, object] = {
        "platform": "twitter",
        "kind": "blockquote",
        "post_id": "1159548584488841216",
        "handle": "GirlsReallyRule",
        "display_name": "Amee Vanderpool",
        "date": "2019-08-08",
        "date_text": "August 8, 2019",
        "posted_at": "2019-08-08T19:00:00+00:00",
        "text": TWEET_TEXT,
        "url": "https://twitter.com/GirlsReallyRule/status/1159548584488841216",
        "links": ["https://t.co/abc"],
        "entities": [
            Entity("hashtag", "ICE", 27, 31),
            Entity("mention", "someone", 32, 40),
        ],
    }
    fields.update(overrides)
    return Post(**fields)  # type: ignore[arg-type]


def article(url: str = "https://news.example/raids", **overrides: object) -> Article:
    """An article citing one tweet, with one post link and one body link."""
    fields: dict[str, object] = {
        "source": url,
        "url": url,
        "title": "Immigration raids in Mississippi",
        "published": "2019-08-08",
        "posts": [tweet()],
        "links": [
            Link("https://t.co/abc", "https://t.co/abc", "post", 0, 0),
            Link("https://example.org/report", "the report", "article", None, 1),
        ],
    }
    fields.update(overrides)
    return Article(**fields)  # type: ignore[arg-type]


def save(db: Database, item: Article, fetched_at: str = FETCHED, sha: str = "sha-1") -> SaveResult:
    """save_article with the usual keyword arguments."""
    return save_article(db, item, source=item.source, fetched_at=fetched_at, content_sha256=sha)


def counts(db: Database) -> dict[str, int]:
    """Rows per table."""
    return {name: db.table(name).count for name in TABLES}


def rowids(db: Database) -> dict[str, list[int]]:
    """Every rowid of every table (a delete-and-reinsert would change them)."""
    return {
        name: [row[0] for row in db.execute(f"SELECT rowid FROM [{name}] ORDER BY rowid")]
        for name in TABLES
    }


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A fresh database file."""
    database = open_database(tmp_path / "data" / "citations.db")
    yield database
    database.close()


def test_schema_declares_foreign_keys_indexes_fts_and_view(db: Database) -> None:
    """Every FK is declared and leads some index; FTS and the view exist."""
    for name, spec in TABLES.items():
        table = db.table(name)
        declared = {(fk.column, fk.other_table, fk.other_column) for fk in table.foreign_keys}
        assert declared == set(spec.foreign_keys), name
        leading = {index.columns[0] for index in table.indexes}
        pk = table.pks[0]
        for column, _, _ in spec.foreign_keys:
            assert column in leading or column == pk, f"{name}.{column} is not indexed"
    assert {"status", "host", "url"} <= {i.columns[0] for i in db.table("urls").indexes}
    assert "date" in {i.columns[0] for i in db.table("posts").indexes}
    assert db.table("posts").detect_fts() == "posts_fts"
    assert db.table("articles").detect_fts() == "articles_fts"
    assert "cited_posts" in db.view_names()
    accounts_index = db.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'idx_accounts_platform_handle'"
    ).fetchone()[0]
    assert "lower(handle)" in accounts_index and "UNIQUE" in accounts_index


def test_open_database_sets_wal_foreign_keys_and_busy_timeout(db: Database) -> None:
    """The connection is in WAL mode with enforced foreign keys and a busy timeout."""
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_ensure_schema_is_idempotent(tmp_path: Path) -> None:
    """Opening a database again, or ensuring its schema twice, changes nothing."""
    path = tmp_path / "c.db"
    first = open_database(path)
    schema = first.schema
    ensure_schema(first)
    first.close()
    again = open_database(path)
    assert again.schema == schema
    applied = again.execute("SELECT name FROM _sqlite_migrations").fetchall()
    assert applied == [
        ("0001_initial",),
        ("0002_canonical_final_skipped",),
        ("0003_listed_unchanged",),
        ("0004_change_counts",),
        ("0005_warc",),
        ("0006_liveness",),
        ("0007_datasette_speed",),
        ("0008_parse_warnings",),
    ]
    again.close()


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    """A file that is not SQLite raises ScraperError naming the path."""
    path = tmp_path / "notes.db"
    path.write_text("this is not a database, just text that is long enough " * 20)
    with pytest.raises(ScraperError, match=r"notes\.db"):
        open_database(path)


def test_unopenable_path_is_a_clear_error(tmp_path: Path) -> None:
    """A directory where the database file should be raises ScraperError, not a traceback."""
    (tmp_path / "citations.db").mkdir()
    with pytest.raises(ScraperError, match="cannot open database"):
        open_database(tmp_path / "citations.db")


def test_connection_works_from_a_worker_thread(db: Database) -> None:
    """run may hand the connection to asyncio.to_thread: saves work from another thread."""
    results: list[SaveResult] = []
    worker = threading.Thread(target=lambda: results.append(save(db, article())))
    worker.start()
    worker.join()
    assert results and results[0].new_article
    assert db.table("articles").count == 1


def test_same_article_twice_changes_nothing(db: Database) -> None:
    """Re-saving an article keeps every count and rowid, and search still finds the post."""
    first = save(db, article())
    before_counts, before_rowids = counts(db), rowids(db)
    second = save(db, article(), fetched_at=LATER)
    assert counts(db) == before_counts
    assert rowids(db) == before_rowids
    assert first.new_article and first.changed and first.new_posts == 1 and first.new_urls == 2
    assert not second.new_article and not second.changed
    assert (second.new_posts, second.new_urls, second.posts, second.links) == (0, 0, 1, 2)
    assert [row["id"] for row in db.table("posts").search("Mississippi")] == [
        "twitter:1159548584488841216"
    ]
    assert [row["url"] for row in db.table("articles").search("raids")] == [
        "https://news.example/raids"
    ]
    assert db.table("articles").get(first.article_id)["fetched_at"] == LATER


def test_save_article_counts_and_queue(db: Database) -> None:
    """Links land in urls as pending; only shorteners are queued unless resolve_all."""
    result = save(db, article())
    rows = {row["url"]: row for row in db.table("urls").rows}
    assert rows["https://t.co/abc"]["is_shortener"] == 1
    assert rows["https://example.org/report"]["is_shortener"] == 0
    assert {row["status"] for row in rows.values()} == {"pending"}
    assert result.queued_urls == 1
    other = save_article(
        db,
        article("https://news.example/b", links=[Link("https://x.org/", "x", "article", None, 0)]),
        source="b",
        fetched_at=FETCHED,
        resolve_all=True,
    )
    assert (other.new_urls, other.queued_urls) == (1, 1)
    assert db.table("entities").count == 2
    assert db.table("articles").get(result.article_id)["n_links"] == 2


def test_handles_are_deduplicated_case_insensitively(db: Database) -> None:
    """@GirlsReallyRule and @girlsreallyrule are one account, first spelling kept."""
    save(db, article(posts=[tweet(display_name=None)]))
    second = tweet(post_id="1159999999999999999", handle="@girlsreallyrule", url=None, text="x")
    save(db, article("https://news.example/other", posts=[second], links=[]))
    accounts = list(db.table("accounts").rows)
    assert len(accounts) == 1
    assert accounts[0]["handle"] == "GirlsReallyRule"
    assert accounts[0]["display_name"] == "Amee Vanderpool"  # filled in from the second sighting
    assert accounts[0]["url"] == "https://twitter.com/GirlsReallyRule"
    assert {row["account_id"] for row in db.table("posts").rows} == {accounts[0]["id"]}


@pytest.mark.parametrize("full_first", [False, True])
def test_post_seen_id_only_and_with_text_keeps_everything(db: Database, full_first: bool) -> None:
    """An id-only sighting and a full one merge into one post, whichever comes first."""
    bare = Post(platform="twitter", kind="rendered", post_id="1159548584488841216")
    full = article(posts=[tweet()])
    only_id = article("https://news.example/bare", posts=[bare], links=[])
    for item in [full, only_id] if full_first else [only_id, full]:
        save(db, item)
    post = db.table("posts").get("twitter:1159548584488841216")
    assert post["text"] == TWEET_TEXT
    assert post["date"] == "2019-08-08" and post["account_id"] is not None
    assert db.table("posts").count == 1 and db.table("citations").count == 2
    assert db.table("entities").count == 2
    assert [row["id"] for row in db.table("posts").search("Mississippi")] == [post["id"]]


def test_longer_text_replaces_text_and_its_entities(db: Database) -> None:
    """A later, fuller text of a known post wins, and its entities replace the old ones."""
    short = tweet(text="Raids #ICE", entities=[Entity("hashtag", "ICE", 6, 10)])
    save(db, article(posts=[short]))
    save(db, article("https://news.example/second", posts=[tweet()]))
    assert db.table("posts").get("twitter:1159548584488841216")["text"] == TWEET_TEXT
    starts = sorted(row["start"] for row in db.table("entities").rows)
    assert starts == [27, 32]


def test_changed_article_replaces_only_its_own_children(db: Database) -> None:
    """A changed article swaps its citations and links; other articles and posts stay."""
    save(db, article())
    other = save(db, article("https://news.example/other"))
    other_before = db.execute(
        "SELECT rowid, * FROM links WHERE article_id = ?", [other.article_id]
    ).fetchall()
    new_post = tweet(post_id="1160000000000000000", text="Another", links=[], entities=[])
    changed = save(
        db,
        article(posts=[new_post], links=[Link("https://example.org/new", "n", "article", None, 0)]),
        fetched_at=LATER,
        sha="sha-2",
    )
    assert changed.changed and not changed.new_article
    cited = db.execute(
        "SELECT post_id FROM citations WHERE article_id = ?", [changed.article_id]
    ).fetchall()
    assert cited == [("twitter:1160000000000000000",)]
    links = db.execute(
        "SELECT u.url FROM links l JOIN urls u ON u.id = l.url_id WHERE l.article_id = ?",
        [changed.article_id],
    ).fetchall()
    assert links == [("https://example.org/new",)]
    assert (
        db.execute("SELECT rowid, * FROM links WHERE article_id = ?", [other.article_id]).fetchall()
        == other_before
    )
    # The post the changed article no longer cites, and its URLs, are kept.
    assert db.table("posts").count == 2 and db.table("urls").count == 3
    assert db.table("articles").get(changed.article_id)["updated_at"] == LATER


def test_same_findings_with_new_hash_is_changed_but_keeps_rows(db: Database) -> None:
    """A new content hash marks the article changed without rewriting identical children."""
    save(db, article())
    before = rowids(db)
    result = save(db, article(), sha="sha-2")
    assert result.changed
    assert rowids(db) == before


def test_failing_write_rolls_back_the_whole_article(db: Database) -> None:
    """A write that fails midway leaves no trace of the article, its posts or URLs."""
    db.execute(FAILING_LINKS_TRIGGER)
    with pytest.raises(sqlite3.IntegrityError, match="injected"):
        save(db, article())
    assert all(count == 0 for count in counts(db).values())
    assert db.table("posts_fts").count == 0
    assert not db.conn.in_transaction


def test_failing_write_keeps_the_previous_version(db: Database) -> None:
    """A changed article whose save fails keeps its earlier citations and links."""
    save(db, article())
    before_counts, before_rowids = counts(db), rowids(db)
    db.execute(FAILING_LINKS_TRIGGER)
    changed = article(
        posts=[tweet(post_id="42", text="new")],
        links=[Link("https://example.org/other", "o", "article", None, 0)],
    )
    with pytest.raises(sqlite3.IntegrityError):
        save(db, changed, sha="sha-2")
    assert counts(db) == before_counts and rowids(db) == before_rowids
    assert next(iter(db.table("articles").rows))["content_sha256"] == "sha-1"


def test_bad_link_input_is_saved_without_crashing(db: Database) -> None:
    """Duplicate positions, an out-of-range post index and empty URLs do not break a save."""
    item = article(
        links=[
            Link("https://t.co/abc", "a", "post", 0, 3),
            Link("https://example.org/x", "b", "post", 7, 3),
            Link("   ", "empty", "article", None, 4),
        ]
    )
    result = save(db, item)
    rows = db.execute(
        "SELECT position, post_id FROM links WHERE article_id = ? ORDER BY position",
        [result.article_id],
    ).fetchall()
    assert rows == [(0, "twitter:1159548584488841216"), (1, None)]
    assert save(db, item).changed is False


def test_post_links_missing_from_article_links_are_added(db: Database) -> None:
    """A URL a post lists without a matching Link still becomes one of its links."""
    result = save(db, article(links=[]))
    rows = db.execute(
        "SELECT l.post_id, u.url, l.context FROM links l JOIN urls u ON u.id = l.url_id "
        "WHERE l.article_id = ?",
        [result.article_id],
    ).fetchall()
    assert rows == [("twitter:1159548584488841216", "https://t.co/abc", "post")]


def test_grown_shortener_list_marks_known_urls(db: Database) -> None:
    """A host added to the shortener list later raises is_shortener on known URLs."""
    save(db, article())
    save_article(
        db,
        article(),
        source="s",
        fetched_at=LATER,
        shorteners=frozenset({"t.co", "example.org"}),
    )
    assert db.table("urls").get(2)["is_shortener"] == 1


def test_failed_article_keeps_earlier_citations(db: Database) -> None:
    """A page that later fails to fetch keeps its content; a new one is recorded with the error."""
    result = save(db, article())
    failed_id = save_failed_article(
        db,
        source="https://news.example/raids",
        url="https://news.example/raids",
        fetched_at=LATER,
        http_status=503,
        error="http_5xx: 503 Service Unavailable",
    )
    assert failed_id == result.article_id
    row = db.table("articles").get(failed_id)
    assert (row["http_status"], row["title"], row["n_posts"]) == (503, article().title, 1)
    assert row["error"].startswith("http_5xx")
    assert db.table("citations").count == 1
    new_id = save_failed_article(
        db, source="gone.html", url=None, fetched_at=LATER, http_status=None, error="parse: bad"
    )
    assert db.table("articles").get(new_id)["url"] == "gone.html"
    recovered = save(db, article(), fetched_at=LATER)
    assert db.table("articles").get(recovered.article_id)["error"] is None


def test_article_state_for_conditional_get(db: Database) -> None:
    """The stored validators come back for a known URL, None for an unknown one."""
    save_article(
        db,
        article(),
        source="s",
        fetched_at=FETCHED,
        http_status=200,
        etag='"abc"',
        last_modified="Wed, 01 May 2024 10:00:00 GMT",
        content_sha256="sha-1",
    )
    state = get_article_state(db, "https://news.example/raids")
    assert state is not None
    assert (state.etag, state.last_modified, state.content_sha256) == (
        '"abc"',
        "Wed, 01 May 2024 10:00:00 GMT",
        "sha-1",
    )
    assert get_article_state(db, "https://news.example/unknown") is None
    assert save_not_modified(db, url="https://news.example/raids", fetched_at=LATER) is not None
    assert get_article_state(db, "https://news.example/raids").http_status == 304  # type: ignore[union-attr]
    assert save_not_modified(db, url="https://news.example/unknown", fetched_at=LATER) is None


def test_is_unchanged_compares_the_saved_content_hash(db: Database) -> None:
    """Only an article saved from the same bytes is unchanged; failures never are."""
    url = "https://news.example/raids"
    assert not is_unchanged(db, url, "sha-1")
    save_failed_article(db, source=url, url=url, fetched_at=FETCHED, http_status=500, error="x")
    assert not is_unchanged(db, url, "sha-1")
    save(db, article())
    assert is_unchanged(db, url, "sha-1")
    assert not is_unchanged(db, url, "sha-2")


def test_cited_posts_shows_targets_after_resolution(db: Database) -> None:
    """The view gives handle, date, text and the post's resolved link targets."""
    save(db, article())
    bare = Post(platform="twitter", kind="rendered", post_id="1159548584488841216")
    save(db, article("https://news.example/bare", posts=[bare], links=[]))
    rows = list(db.query("SELECT * FROM cited_posts ORDER BY article_id"))
    assert rows[0]["targets"] == "https://t.co/abc"
    save_resolution(
        db,
        Resolution(
            url="https://t.co/abc",
            status="resolved",
            expanded_url="https://www.ice.gov/news",
            final_url="https://www.ice.gov/news/releases/raids",
            final_status_code=200,
            hops=[Hop("https://t.co/abc", 301, "https://www.ice.gov/news", "header")],
        ),
    )
    rows = list(db.query("SELECT * FROM cited_posts ORDER BY article_id"))
    assert len(rows) == 2
    first = rows[0]
    assert first["handle"] == "GirlsReallyRule"
    assert first["date"] == "2019-08-08" and first["text"] == TWEET_TEXT
    assert first["article_title"] == "Immigration raids in Mississippi"
    assert first["kind"] == "blockquote"
    assert first["targets"] == "https://www.ice.gov/news/releases/raids"
    # The id-only sighting borrows the targets the other article recorded for the post.
    assert rows[1]["kind"] == "rendered"
    assert rows[1]["targets"] == "https://www.ice.gov/news/releases/raids"


def test_integrity_and_foreign_keys_hold(db: Database) -> None:
    """After saves, changes and resolutions the database passes both SQLite checks."""
    save(db, article())
    save(db, article(posts=[tweet(post_id="7", text="t")]), sha="sha-2")
    save_resolution(db, Resolution(url="https://t.co/abc", status="failed", error="dns: no host"))
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_wal_reader_is_not_blocked_by_an_open_write(db: Database, tmp_path: Path) -> None:
    """A second connection reads the last committed state while a write transaction is open."""
    save(db, article())
    reader = sqlite3.connect(tmp_path / "data" / "citations.db", timeout=0)
    try:
        with db.atomic():
            save_failed_article(
                db, source="x", url="https://news.example/x", fetched_at=FETCHED,
                http_status=500, error="http_5xx: 500",
            )  # fmt: skip
            assert db.conn.in_transaction
            assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
        assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 2
    finally:
        reader.close()


def test_stats_count_everything(db: Database) -> None:
    """collect_stats gives table counts, URLs by status and failed articles."""
    save(db, article())
    save_resolution(db, Resolution(url="https://t.co/abc", status="blocked", error="blocked: ip"))
    stats = collect_stats(db)
    assert (stats["articles"], stats["posts"], stats["accounts"], stats["links"]) == (1, 1, 1, 2)
    assert stats["urls"] == {"pending": 1, "resolved": 0, "failed": 0, "blocked": 1}
    assert (stats["urls_total"], stats["entities"], stats["citations"]) == (2, 2, 1)
    assert stats["articles_failed"] == 0 and stats["runs"] == []


LEGACY_SCHEMA = """
CREATE TABLE articles (id INTEGER PRIMARY KEY, url TEXT, title TEXT, fetched_at TEXT);
CREATE TABLE posts (id TEXT PRIMARY KEY, platform TEXT, post_id TEXT, handle TEXT, text TEXT);
CREATE TABLE citations (article_id INTEGER, post_id TEXT, PRIMARY KEY (article_id, post_id));
CREATE TABLE urls (id INTEGER PRIMARY KEY, url TEXT UNIQUE, status TEXT);
INSERT INTO articles VALUES (1, 'https://old.example/a', 'Old raids story', '2020-01-01');
INSERT INTO posts VALUES ('twitter:1', 'twitter', '1', 'someone', 'An old Mississippi tweet');
INSERT INTO citations VALUES (1, 'twitter:1');
INSERT INTO urls VALUES (1, 'https://t.co/old', NULL);
"""


def test_old_database_is_migrated(tmp_path: Path) -> None:
    """A database made before schema versioning opens, keeps its rows and gains the schema."""
    path = tmp_path / "old.db"
    legacy = sqlite3.connect(path)
    legacy.executescript(LEGACY_SCHEMA)
    legacy.close()
    db = open_database(path)
    for name, spec in TABLES.items():
        assert set(spec.columns) <= set(db.table(name).columns_dict), name
    assert db.table("articles").get(1)["title"] == "Old raids story"
    assert {fk.other_table for fk in db.table("citations").foreign_keys} == {"articles", "posts"}
    legacy_url = db.table("urls").get(1)
    assert (legacy_url["status"], legacy_url["attempts"]) == ("pending", 0)
    assert [row["id"] for row in db.table("posts").search("Mississippi")] == ["twitter:1"]
    assert list(db.query("SELECT post_id FROM cited_posts")) == [{"post_id": "twitter:1"}]
    save(db, article())
    assert db.table("articles").count == 2
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("SELECT name FROM _sqlite_migrations").fetchall() == [
        ("0001_initial",),
        ("0002_canonical_final_skipped",),
        ("0003_listed_unchanged",),
        ("0004_change_counts",),
        ("0005_warc",),
        ("0006_liveness",),
        ("0007_datasette_speed",),
        ("0008_parse_warnings",),
    ]
    assert "listed_unchanged" in db.table("runs").columns_dict
    db.close()
