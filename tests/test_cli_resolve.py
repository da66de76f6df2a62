"""`scraper resolve` and `scraper run` with resolution, end to end against a loopback server."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from scraper.cli import cli


class Handler(BaseHTTPRequestHandler):
    """/s/N -> 301 -> /m/N -> 302 (relative) -> /final/N (200); /dead -> 404."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        if self.path.startswith("/s/"):
            self.answer(301, location=f"http://{self.headers['Host']}/m/{self.path[3:]}")
        elif self.path.startswith("/m/"):
            self.answer(302, location=f"/final/{self.path[3:]}")
        elif self.path.startswith("/final/"):
            self.answer(200, body=b"<html><title>final</title></html>")
        else:
            self.answer(404, body=b"not here")

    def answer(self, status: int, location: str | None = None, body: bytes = b"") -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1; yields its base URL."""
    Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def config(tmp_path: Path, server: str) -> Path:
    """A config that lets the resolver reach loopback and treats it as a shortener."""
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\npath = "{tmp_path / "c.db"}"\n'
        "[sources]\npaths = []\n"
        '[resolver]\nallow_private = true\nshorteners = ["127.0.0.1"]\nretries = 0\n'
        "timeout = 5\n"
    )
    return path


def test_resolve_prints_one_json_line_per_url(server: str, config: Path) -> None:
    """`scraper resolve URL...` follows every hop and prints DESIGN.md's JSON per URL."""
    result = CliRunner().invoke(
        cli, ["resolve", f"{server}/s/1", f"{server}/dead", "--config", str(config)]
    )
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    by_url = {line["url"]: line for line in lines}
    ok = by_url[f"{server}/s/1"]
    assert ok["status"] == "resolved"
    assert ok["final_url"] == f"{server}/final/1"
    assert ok["final_status_code"] == 200
    assert [hop["status_code"] for hop in ok["hops"]][:2] == [301, 302]
    assert ok["hops"][1]["location"] == "/final/1"
    dead = by_url[f"{server}/dead"]
    assert dead["status"] == "failed"
    assert dead["error"].startswith("http_4xx")


def test_run_resolves_and_records_hops(tmp_path: Path, server: str, config: Path) -> None:
    """`scraper run` stores the article, then resolves its short link into urls/redirects."""
    article = tmp_path / "a.html"
    article.write_text(
        f'<html><body><p>See <a href="{server}/s/7">this</a>.</p></body></html>',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["run", str(article), "--config", str(config)])
    assert result.exit_code == 0, result.stderr
    assert "urls 1 resolved, 0 failed" in result.stderr
    conn = sqlite3.connect(tmp_path / "c.db")
    row = conn.execute(
        "select status, final_url, final_status_code from urls where url = ?", [f"{server}/s/7"]
    ).fetchone()
    assert row == ("resolved", f"{server}/final/7", 200)
    hops = conn.execute("select hop, status_code, via from redirects order by hop").fetchall()
    assert [h[1] for h in hops][:2] == [301, 302]
    # a second run has nothing due: the URL is not resolved again
    again = CliRunner().invoke(cli, ["run", str(article), "--config", str(config)])
    assert "nothing changed" in again.stderr
    assert "urls 0 resolved" in again.stderr


def test_blocked_without_allow_private(tmp_path: Path, server: str) -> None:
    """With the default config a loopback URL is blocked, and the server sees no request."""
    path = tmp_path / "config.toml"
    path.write_text("[sources]\npaths = []\n[resolver]\nretries = 0\n")
    result = CliRunner().invoke(cli, ["resolve", f"{server}/s/1", "--config", str(path)])
    assert result.exit_code == 0
    (line,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert line["status"] == "blocked"
    assert line["error"].startswith("blocked")
    assert Handler.seen == []
