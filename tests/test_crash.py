"""Crash safety: `kill -9` a real `scraper run` mid-way, run again, and nothing is lost."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from site_server import build_news_site, serve_site

ARTICLES = 40
DEADLINE = 20.0  # seconds; polling gives up here instead of hanging


def write_config(tmp_path: Path, base: str) -> Path:
    """A config crawling the loopback site's sitemap index, resolver off."""
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[database]
path = "{tmp_path / "c.db"}"
[sources]
paths = []
feeds = ["{base}/sitemap_index.xml"]
[fetch]
allow_private = true
concurrency = 4
per_host = 2
[resolver]
enabled = false
"""
    )
    return config


def start_run(config: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """`python -m scraper run` in a subprocess."""
    return subprocess.Popen(
        [sys.executable, "-m", "scraper", "run", "--config", str(config), "--no-progress"],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stored_articles(db: Path) -> int:
    """How many articles are committed (0 while the database does not exist yet)."""
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return int(conn.execute("select count(*) from articles").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # the schema is not there yet
    finally:
        conn.close()


def wait_for_articles(process: subprocess.Popen[bytes], db: Path, at_least: int) -> int:
    """Poll until ``at_least`` articles are stored; fail if the run ends or time runs out."""
    limit = time.monotonic() + DEADLINE
    while time.monotonic() < limit:
        count = stored_articles(db)
        if count >= at_least:
            return count
        assert process.poll() is None, "the run ended before it could be killed"
        time.sleep(0.01)  # polling interval, bounded by DEADLINE
    raise AssertionError(f"fewer than {at_least} articles after {DEADLINE}s")


@pytest.mark.parametrize("kill_after", [1, 20])
def test_kill_minus_nine_then_rerun_finishes_the_work(tmp_path: Path, kill_after: int) -> None:
    """After SIGKILL mid-run: integrity ok, no duplicates, the next run completes the rest."""
    site = build_news_site(ARTICLES, delay=0.05)
    db = tmp_path / "c.db"
    with serve_site(site) as base:
        config = write_config(tmp_path, base)
        with start_run(config, tmp_path) as first:
            stored = wait_for_articles(first, db, kill_after)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        assert first.returncode == -signal.SIGKILL
        assert stored < ARTICLES
        with start_run(config, tmp_path) as second:
            _, stderr = second.communicate(timeout=60)
        assert second.returncode == 0, stderr.decode()

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
        assert conn.execute("pragma foreign_key_check").fetchall() == []
        assert conn.execute("select count(*), count(distinct url) from articles").fetchone() == (
            ARTICLES,
            ARTICLES,
        )
        assert conn.execute("select count(*) from articles where error is not null").fetchone() == (
            0,
        )
        assert conn.execute("select count(*) from citations").fetchone() == (ARTICLES,)
        assert conn.execute("select count(*) from links").fetchone() == (ARTICLES * 4,)
        assert (
            conn.execute("select count(*), count(distinct url) from urls").fetchone()[0]
            == (conn.execute("select count(distinct url) from urls").fetchone()[0])
        )
        runs = conn.execute("select status, fetched, not_modified from runs order by id").fetchall()
    finally:
        conn.close()
    assert [r[0] for r in runs] == ["interrupted", "completed"]
    fetched, not_modified = runs[1][1], runs[1][2]
    # every article was stored exactly once overall; those the first run stored are 304s now
    assert not_modified >= stored
    assert fetched + not_modified == ARTICLES
