"""The run summary counts what changed in the database, not what was parsed."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from scraper import store
from scraper.cli import cli
from scraper.model import Article, Link, Post

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "articles"
SEEN = "2024-01-01T00:00:00+00:00"
LATER = "2024-01-02T00:00:00+00:00"


def tweet(post_id: str, text: str | None = "text") -> Post:
    """A tweet with an id, a handle and ``text``."""
    return Post(platform="twitter", kind="blockquote", post_id=post_id, handle="h", text=text)


def article(posts: list[Post], links: list[Link]) -> Article:
    """The article https://news.example/a with ``posts`` and ``links``."""
    return Article(source="a.html", url="https://news.example/a", posts=posts, links=links)


def test_save_article_reports_new_changed_and_unchanged_posts_and_links(tmp_path: Path) -> None:
    """A second save counts the post it filled in as changed, the others by what they are."""
    db = store.open_database(tmp_path / "c.db")
    links = [
        Link("https://t.co/a", "a", "post", 0, 0),
        Link("https://e.example/", "e", "article", None, 1),
    ]
    first = store.save_article(
        db, article([tweet("1", None), tweet("2")], links), source="a.html", fetched_at=SEEN
    )
    assert (first.new_posts, first.changed_posts, first.unchanged_posts) == (2, 0, 0)
    assert (first.new_links, first.changed_links, first.unchanged_links) == (2, 0, 0)
    again = [
        Link("https://t.co/a", "a", "post", 0, 0),
        Link("https://e.example/other", "e", "article", None, 1),
        Link("https://f.example/", "f", "article", None, 2),
    ]
    second = store.save_article(
        db,
        article([tweet("1", "now with text"), tweet("2"), tweet("3")], again),
        source="a.html",
        fetched_at=LATER,
    )
    assert (second.new_posts, second.changed_posts, second.unchanged_posts) == (1, 1, 1)
    assert (second.new_links, second.changed_links, second.unchanged_links) == (1, 1, 1)
    same = store.save_article(
        db,
        article([tweet("1", "now with text"), tweet("2"), tweet("3")], again),
        source="a.html",
        fetched_at=LATER,
    )
    assert (same.new_posts, same.changed_posts, same.unchanged_posts) == (0, 0, 3)
    assert (same.new_links, same.changed_links, same.unchanged_links) == (0, 0, 3)
    assert not same.changed
    db.close()


def run_cli(db: Path, folder: Path) -> str:
    """`scraper run FOLDER --db DB --no-resolve`; returns stderr."""
    result = CliRunner().invoke(
        cli,
        ["run", str(folder), "--db", str(db), "--no-resolve", "--no-progress"],
    )
    assert result.exit_code == 0, result.stderr
    return result.stderr


def summary_line(stderr: str) -> str:
    """The `scraper run:` line of stderr."""
    (line,) = [line for line in stderr.splitlines() if line.startswith("scraper run:")]
    return line


def test_rerun_with_nothing_new_says_nothing_changed(tmp_path: Path) -> None:
    """First run: every article new; rerun: "nothing changed"; one edited file: 1 changed."""
    folder = tmp_path / "articles"
    shutil.copytree(SAMPLE, folder)
    db = tmp_path / "c.db"
    first = summary_line(run_cli(db, folder))
    assert "articles 7 new, 0 changed, 0 unchanged" in first
    assert "nothing changed" not in first
    second = summary_line(run_cli(db, folder))
    assert "nothing changed" in second
    assert "articles 0 new, 0 changed, 7 unchanged" in second
    assert "posts 0 new, 0 changed" in second
    assert "links 0 new, 0 changed" in second
    text = folder / "river-flooding-reactions.txt"
    text.write_text(text.read_text(encoding="utf-8") + "\nSee https://example.org/more\n", "utf-8")
    third = summary_line(run_cli(db, folder))
    assert "nothing changed" not in third
    assert "articles 0 new, 1 changed, 6 unchanged" in third
    assert "links 1 new" in third
    conn = sqlite3.connect(db)
    stored = conn.execute(
        "select new_articles, changed_articles, unchanged, new_links from runs order by id"
    ).fetchall()
    conn.close()
    assert stored[1:] == [(0, 0, 7, 0), (0, 1, 6, 1)]
