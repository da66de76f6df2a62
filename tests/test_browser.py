"""A real browser on a real `scraper serve`: the front page, the dashboard and a table page.

Headless Chromium (Debian's ``chromium``, installed by ``.ci/run``) loads each page from a
``scraper serve`` on a loopback port, runs its scripts (the charts are drawn in the page,
from JSON the browser fetches) and dumps the DOM; the tests assert on that DOM and on the
browser's console log. Skipped when no Chromium is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_datasette import build_sample_database

CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed (.ci/run installs it)"),
]
# Console lines Chromium writes with --enable-logging=stderr: `[...:INFO:CONSOLE...] "text"`.
CONSOLE_RE = re.compile(r'INFO:CONSOLE[^\]]*\] "(.*)", source: (\S*)')
# vega-lite's own warnings about the spec datasette-dashboards wraps ours in (a v5 schema
# URL, the container width): console.warn, not errors. Any other console line fails a test.
VEGA_WARNING = re.compile(r"^WARN ")


def render(url: str, profile: Path) -> tuple[str, list[str]]:
    """The DOM of ``url`` after its scripts ran, and the console lines that are not vega's."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1400,1800",
        "--virtual-time-budget=20000",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [
        f"{message} ({source})"
        for message, source in CONSOLE_RE.findall(done.stderr)
        if not VEGA_WARNING.match(message)
    ]
    return done.stdout, console


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`scraper serve` on a free loopback port over a database not named citations.db."""
    with tempfile.TemporaryDirectory() as folder:
        path = build_sample_database(Path(folder) / "newsroom.db")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            [sys.executable, "-m", "scraper", "serve", "--db", str(path), "--port", "0"],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert process.stderr is not None
            line = process.stderr.readline()
            match = re.search(r"(http://127\.0\.0\.1:\d+)/newsroom\b", line)
            assert match, f"no URL in {line!r}"
            yield match.group(1)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()


@pytest.mark.timeout(120)
def test_dashboard_draws_every_chart_with_its_labels(server: str, tmp_path: Path) -> None:
    """Each chart, link rot included, is an SVG with its axis titles; the console is clean."""
    dom, console = render(f"{server}/-/dashboards/newsroom", tmp_path)
    charts = {
        "citations-per-day": ["Day of post", "Citations"],
        "most-cited-accounts": ["Account", "@RiverWatch", "@MayorJane"],
        "top-target-domains": ["Domain", "city.example"],
        "failures-by-category": ["Category", "dns"],
        # the sample's 2024 articles: one of two checked links is dead (bit.ly/dead1)
        "link-rot-by-year": ["Year", "Share of links dead", "2024", "50%"],
    }
    for slug, labels in charts.items():
        start = dom.find(f'id="chart-{slug}"')
        assert start >= 0, f"no chart {slug}"
        block = dom[start : start + 60_000]
        assert "<svg" in block and 'class="marks"' in block, f"{slug} was not drawn"
        for label in labels:
            assert f">{label}<" in block, f"{slug}: no label {label!r}"
    assert console == []


@pytest.mark.timeout(120)
def test_front_page_describes_the_data_and_links_the_dashboard(server: str, tmp_path: Path) -> None:
    """The front page of plain `scraper serve` explains the data and links the charts."""
    dom, console = render(f"{server}/", tmp_path)
    assert "Which social posts do news articles cite" in dom
    assert 'href="/-/dashboards/newsroom"' in dom
    assert 'href="/newsroom/most-cited-accounts"' in dom
    assert console == []


@pytest.mark.timeout(120)
def test_posts_page_shows_handles_and_texts(server: str, tmp_path: Path) -> None:
    """The posts page starts with the account, text and date; column notes are folded."""
    dom, console = render(f"{server}/newsroom/posts", tmp_path)
    assert "One row per cited social post" in dom
    heads = re.findall(r'<th [^>]*data-column="([^"]+)"', dom)
    assert heads[:3] == ["account_id", "text", "date"], heads
    assert "id" in heads[3:]
    folded = re.search(r"<details>\s*<summary>What each column means</summary>\s*<dl", dom)
    assert folded, "column descriptions are not folded"
    assert ">@RiverWatch</a>" in dom
    assert "The river is rising fast" in dom
    assert "2024-05-01" in dom
    assert console == []
