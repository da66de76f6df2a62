"""Store writes that read and then write begin with ``BEGIN IMMEDIATE`` (the write lock first)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlite_utils

from scraper import store
from scraper.model import Article, Link, Post, Resolution

SEEN = "2024-01-01T00:00:00+00:00"


def article() -> Article:
    """One article citing one post with one link."""
    return Article(
        source="a.html",
        url="https://news.example/a",
        posts=[Post(platform="twitter", kind="blockquote", post_id="1", handle="h", text="t")],
        links=[Link("https://t.co/x", "t.co/x", "post", 0, 0)],
    )


WRITES: dict[str, Callable[[sqlite_utils.Database], object]] = {
    "save_article": lambda db: store.save_article(db, article(), source="a.html", fetched_at=SEEN),
    "save_failed_article": lambda db: store.save_failed_article(
        db, source="b", url="https://news.example/b", fetched_at=SEEN, http_status=500, error="x"
    ),
    "save_not_modified": lambda db: store.save_not_modified(
        db, url="https://news.example/a", fetched_at=SEEN
    ),
    "save_resolution": lambda db: store.save_resolution(
        db, Resolution(url="https://t.co/x", status="resolved", final_url="https://e.example/")
    ),
    "start_run": lambda db: store.start_run(db, SEEN),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_read_then_write_saves_take_the_write_lock_first(tmp_path: Path, name: str) -> None:
    """Each store write opens its transaction with BEGIN IMMEDIATE, before its first read."""
    db = store.open_database(tmp_path / "c.db")
    store.save_article(db, article(), source="a.html", fetched_at=SEEN)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    WRITES[name](db)
    db.conn.set_trace_callback(None)
    first = next(s.strip().split()[0:2] for s in statements if s.strip())
    assert first == ["BEGIN", "IMMEDIATE"], statements[:3]
    assert not db.conn.in_transaction
    db.close()


def test_a_failed_write_is_rolled_back_whole(tmp_path: Path) -> None:
    """An error inside write_transaction leaves nothing of the transaction behind."""
    db = store.open_database(tmp_path / "c.db")
    with pytest.raises(RuntimeError), store.write_transaction(db):
        db.execute("INSERT INTO runs (started_at, status) VALUES ('x', 'running')")
        raise RuntimeError("boom")
    assert db.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    assert not db.conn.in_transaction
    db.close()
