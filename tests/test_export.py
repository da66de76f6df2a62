"""``export_table``: any table or view as CSV or JSON Lines, equal to what SQLite holds."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from scraper.export import export_table, exportable_names
from scraper.model import Article, Link, Post, Resolution
from scraper.store import open_database, save_article, save_resolution
from scraper.views import ensure_views

POST_TEXT = 'Überschwemmung, "Pegel" steigt\nzweite Zeile 🌊'


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One article citing two posts (text with commas, quotes, a newline, non-ASCII)."""
    path = tmp_path_factory.mktemp("export") / "citations.db"
    db = open_database(path)
    ensure_views(db)
    article = Article(
        source="tests/hochwasser.html",
        url="https://news.example/hochwasser",
        title="Hochwasser: Stimmen",
        published="2024-06-01",
        posts=[
            Post(
                platform="twitter",
                kind="blockquote",
                post_id="1796000000000000001",
                handle="Pegelstand",
                date="2024-06-01",
                text=POST_TEXT,
                url="https://twitter.com/Pegelstand/status/1796000000000000001",
                links=["https://t.co/pegel"],
            ),
            Post(platform="twitter", kind="text-signature", handle="anon", text="no id here"),
        ],
        links=[Link("https://t.co/pegel", "t.co/pegel", "post", 0, 0)],
    )
    save_article(db, article, source=article.source, fetched_at="2024-06-02T08:00:00+00:00")
    save_resolution(
        db,
        Resolution(
            url="https://t.co/pegel",
            status="resolved",
            final_url="https://pegel.example/",
            final_status_code=200,
        ),
    )
    # Export serves any SQLite table, BLOBs included.
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB)")
    db.execute("INSERT INTO notes (body) VALUES (?)", [b"\x00\xffraw"])
    db.conn.commit()
    db.close()
    return path


def rows_of(path: Path, table: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(f"SELECT * FROM [{table}]")]
    finally:
        conn.close()


def as_text(value: Any) -> str:
    """How the csv module writes a value: None as empty, the rest with str()."""
    return "" if value is None else str(value)


def test_csv_export_of_cited_posts_equals_the_view(db_path: Path) -> None:
    """The default export is cited_posts as CSV: a header, then the view's rows, exactly."""
    out = io.StringIO(newline="")
    count = export_table(db_path, out=out)
    expected = rows_of(db_path, "cited_posts")
    assert count == len(expected) == 2
    reader = csv.DictReader(io.StringIO(out.getvalue(), newline=""))
    assert reader.fieldnames == list(expected[0])
    assert list(reader) == [{k: as_text(v) for k, v in row.items()} for row in expected]
    # One quoted cell, inner quotes doubled, the newline kept inside it.
    assert '"' + POST_TEXT.replace('"', '""') + '"' in out.getvalue()


def test_jsonl_export_equals_the_view_with_types_kept(db_path: Path) -> None:
    """JSON Lines: one object per row, integers and nulls kept, non-ASCII left readable."""
    out = io.StringIO()
    count = export_table(db_path, "cited_posts", "jsonl", out)
    lines = out.getvalue().splitlines()
    assert count == len(lines) == 2
    assert [json.loads(line) for line in lines] == rows_of(db_path, "cited_posts")
    assert "Überschwemmung" in lines[0]
    assert json.loads(lines[0])["targets"] == "https://pegel.example/"


@pytest.mark.parametrize("table", ["urls", "posts", "most_cited_accounts", "post_targets"])
def test_any_table_or_view_exports(db_path: Path, table: str) -> None:
    """Tables and views alike export every row in JSON Lines."""
    out = io.StringIO()
    assert export_table(db_path, table, "jsonl", out) == len(rows_of(db_path, table))
    assert [json.loads(line) for line in out.getvalue().splitlines()] == rows_of(db_path, table)


def test_blobs_export_as_base64(db_path: Path) -> None:
    """A BLOB, which neither CSV nor JSON can hold, comes out as base64 text."""
    out = io.StringIO()
    export_table(db_path, "notes", "jsonl", out)
    assert json.loads(out.getvalue()) == {"id": 1, "body": "AP9yYXc="}


def test_unknown_table_is_a_clear_error_listing_the_choices(db_path: Path) -> None:
    """An unknown name raises ValueError naming it and listing what can be exported."""
    with pytest.raises(ValueError, match=r"no table or view named 'citted_posts'") as error:
        export_table(db_path, "citted_posts", "csv", io.StringIO())
    message = str(error.value)
    for name in ("cited_posts", "posts", "urls", "most_cited_accounts"):
        assert name in message
    assert "posts_fts" not in message and "_sqlite_migrations" not in message


def test_internal_tables_are_not_exportable(db_path: Path) -> None:
    """FTS shadow tables, SQLite's and the migration log are not offered or exported."""
    conn = sqlite3.connect(db_path)
    try:
        names = exportable_names(conn)
    finally:
        conn.close()
    assert "cited_posts" in names and "articles" in names
    assert not [n for n in names if "_fts" in n or n.startswith(("sqlite_", "_"))]
    with pytest.raises(ValueError):
        export_table(db_path, "posts_fts", "csv", io.StringIO())


def test_unknown_format_is_refused(db_path: Path) -> None:
    """A format other than csv or jsonl raises ValueError naming the valid ones."""
    with pytest.raises(ValueError, match="csv, jsonl"):
        export_table(db_path, "posts", "xml", io.StringIO())  # type: ignore[arg-type]


def test_missing_database_is_not_created(tmp_path: Path) -> None:
    """Exporting from a path with no database fails and leaves no file behind."""
    with pytest.raises(FileNotFoundError):
        export_table(tmp_path / "nothing.db", "cited_posts", "csv", io.StringIO())
    assert not (tmp_path / "nothing.db").exists()
