"""No silent losses: pages nested too deep keep what lies outside the deep part and get
a warning; empty and binary files are recorded as skipped, never stored as articles."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.config import Config, DatabaseConfig, FetchConfig, ResolverConfig, SourcesConfig
from scraper.parse import parse_document
from scraper.parse.tree import DEPTH_LIMIT, flatten_deep
from scraper.run import RunOptions, run_batch
from scraper.sniff import unreadable_reason
from scraper.store import open_database

BEFORE = (
    '<blockquote class="twitter-tweet"><p>Before the deep part</p>&mdash; A (@a) '
    '<a href="https://twitter.com/a/status/1159486925829051234">August 8, 2019</a></blockquote>'
)
AFTER = (
    '<blockquote class="twitter-tweet"><p>After the deep part</p>&mdash; B (@b) '
    '<a href="https://twitter.com/b/status/1159486925829051299">August 8, 2019</a></blockquote>'
)


def deep_page(depth: int) -> bytes:
    inner = '<p>deep text <a href="https://deep.example/x">deep link</a></p>'
    body = BEFORE + "<div>" * depth + inner + "</div>" * depth + AFTER
    return f"<html><body>{body}<p><a href='https://after.example/'>after</a></p></body></html>".encode()


def test_page_nested_too_deep_keeps_what_lies_outside_and_warns() -> None:
    """Posts and links before and after a 20,000-level nest are all read, with a warning."""
    article = parse_document(deep_page(20_000), source="deep.html")
    assert [p.text for p in article.posts] == ["Before the deep part", "After the deep part"]
    assert [link.url for link in article.links] == [
        "https://twitter.com/a/status/1159486925829051234",
        "https://deep.example/x",
        "https://twitter.com/b/status/1159486925829051299",
        "https://after.example/",
    ]
    assert len(article.warnings) == 1 and "nested deeper" in article.warnings[0]
    assert article.to_json()["warnings"] == article.warnings


def test_ordinary_nesting_has_no_warning() -> None:
    """A page the parser reads whole is left as it is, without a warning."""
    article = parse_document(deep_page(300), source="ok.html")
    assert len(article.posts) == 2 and article.warnings == []


def test_flatten_deep_drops_only_the_deep_tags() -> None:
    """Tags below the limit go (text and links stay); comments and scripts are kept."""
    markup = "<div><div><div><b>x</b><a href=u>y</a></div></div></div><!--<div>--><p>z</p>"
    assert flatten_deep(markup, 2) == "<div><div>x<a href=u>y</a></div></div><!--<div>--><p>z</p>"
    assert DEPTH_LIMIT < 2048  # below libxml2's own limit, or the flattening would not help


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty file"),
        (b" \n\t\r\n", "empty file"),
        (b"\x7fELF\x02\x01\x01" + bytes(100), "binary file (ELF executable)"),
        (b"\x89PNG\r\n\x1a\n" + bytes(50), "binary file (PNG image)"),
        (b"\xff\xd8\xff\xe0" + bytes(50), "binary file (JPEG image)"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "binary file (WebP image)"),
        (bytes(range(256)) * 4, "binary file (control bytes)"),
        (b"<html><body><p>Hi</p></body></html>", None),
        ("<p>Grüße</p>".encode("utf-16"), None),
        ("<p>Grüße, no BOM</p>".encode("utf-16-le"), None),
        ("Plain text — with a dash".encode("cp1252"), None),
    ],
)
def test_unreadable_reason(data: bytes, expected: str | None) -> None:
    """Empty and binary bytes are named; text in any encoding passes."""
    assert unreadable_reason(data) == expected


def test_empty_and_binary_files_are_skipped_with_their_reason(tmp_path: Path) -> None:
    """A run records empty files and images named .html as skipped, with no article content."""
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "empty.html").write_bytes(b"")
    (pages / "photo.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (pages / "good.html").write_bytes(deep_page(3))
    db = tmp_path / "c.db"
    config = Config(
        database=DatabaseConfig(str(db)),
        sources=SourcesConfig(paths=[str(pages)]),
        fetch=FetchConfig(allow_private=True),
        resolver=ResolverConfig(enabled=False, allow_private=True),
    )
    counts = run_batch(config, [], RunOptions(progress=False), stdin=io.BytesIO(b""))
    assert (counts.skipped, counts.new_articles, counts.posts) == (2, 1, 2)
    conn = sqlite3.connect(db)
    try:
        found = {
            Path(source).name: (error, n_posts)
            for source, error, n_posts in conn.execute(
                "select source, error, n_posts from articles"
            )
        }
    finally:
        conn.close()
    assert found == {
        "empty.html": ("skipped: empty file", 0),
        "photo.html": ("skipped: binary file (PNG image)", 0),
        "good.html": (None, 2),
    }


def test_parse_command_skips_unreadable_files(tmp_path: Path) -> None:
    """`scraper parse` says which files it skipped and why, and prints no article for them."""
    (tmp_path / "empty.html").write_bytes(b"")
    (tmp_path / "good.html").write_bytes(deep_page(3))
    result = CliRunner().invoke(cli, ["parse", str(tmp_path)])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 1
    assert "skipped" in result.stderr and "empty.html: empty file" in result.stderr


def test_warnings_are_stored_on_the_article(tmp_path: Path) -> None:
    """The article row keeps the parser's warnings."""
    from scraper.store import save_article

    db = open_database(tmp_path / "c.db")
    article = parse_document(deep_page(5000), source="deep.html")
    save_article(db, article, source="deep.html", fetched_at="2024-07-15T10:00:00+00:00")
    (stored,) = db.execute("select warnings from articles").fetchall()
    assert stored[0] == article.warnings[0]
    db.close()


def test_migration_adds_the_warnings_column_to_older_databases(tmp_path: Path) -> None:
    """A database from before 0008_parse_warnings gains articles.warnings when opened."""
    path = tmp_path / "old.db"
    open_database(path).close()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE articles DROP COLUMN warnings")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0008_parse_warnings'")
    conn.commit()
    conn.close()
    db = open_database(path)
    assert "warnings" in db.table("articles").columns_dict
    db.close()
