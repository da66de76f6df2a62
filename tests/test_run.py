"""The batch run: the lock, progress reporting, and whole runs against a loopback site."""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from site_server import Page, Site, article_html, build_news_site, serve_site, sitemap_index

from scraper import store
from scraper.cli import cli
from scraper.config import Config, DatabaseConfig, FetchConfig, ResolverConfig, SourcesConfig
from scraper.crawl import Crawl
from scraper.errors import LockHeldError
from scraper.fetch import Fetcher, make_fetch_client
from scraper.lock import RunLock, lock_path
from scraper.net.guard import StaticDnsResolver
from scraper.progress import Progress
from scraper.run import RunCounts, RunOptions, run_batch

# ---------------------------------------------------------------------------- the lock


def test_lock_file_sits_beside_the_database(tmp_path: Path) -> None:
    """The lock is `<db>.lock` and holds the holder's pid; the database file is untouched."""
    db = tmp_path / "sub" / "c.db"
    with RunLock(db) as lock:
        assert lock.path == lock_path(db) == tmp_path / "sub" / "c.db.lock"
        assert lock.path.read_text().strip() == str(os.getpid())
        assert not db.exists()


def test_second_lock_fails_at_once_naming_the_holder(tmp_path: Path) -> None:
    """A second lock on the same database raises LockHeldError with the holder's pid."""
    db = tmp_path / "c.db"
    with RunLock(db), pytest.raises(LockHeldError, match=f"pid {os.getpid()}"):
        RunLock(db).acquire()


def test_lock_is_free_again_after_release(tmp_path: Path) -> None:
    """Releasing the lock lets the next run take it; the lock file stays."""
    db = tmp_path / "c.db"
    with RunLock(db):
        pass
    with RunLock(db) as again:
        assert again.held
    assert lock_path(db).exists()


def test_lock_held_by_other_process_and_freed_by_its_death(tmp_path: Path) -> None:
    """A lock held by a process killed with SIGKILL is free again: no stale lock."""
    db = tmp_path / "c.db"
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from scraper.lock import RunLock; l = RunLock(sys.argv[1]); "
            "l.acquire(); print('locked', flush=True); sys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "locked"
            with pytest.raises(LockHeldError, match=f"pid {holder.pid}"):
                RunLock(db).acquire()
        finally:
            holder.kill()
            holder.wait(timeout=10)
    with RunLock(db) as lock:
        assert lock.held


# ------------------------------------------------------------------------- progress


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_progress_lines_are_periodic(caplog: pytest.LogCaptureFixture) -> None:
    """Off a terminal, a stage logs at most one line per interval, and one at the end."""
    clock = FakeClock()
    progress = Progress(enabled=True, stream=io.StringIO(), interval=10, clock=clock)
    assert not progress.bars
    with caplog.at_level(logging.INFO, logger="scraper.progress"):
        stage = progress.stage("fetch", total=4)
        stage.advance()
        clock.now = 5
        stage.advance()
        clock.now = 11
        stage.advance()
        stage.add_total(2)
        clock.now = 20
        stage.advance()
        progress.close()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["fetch: 3/4 (75%), 0.3/s", "fetch: done, 4/6 (67%), 0.2/s in 20.0 s"]


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_bars_on_a_terminal_unless_disabled() -> None:
    """On a terminal a stage draws a tqdm bar; `--no-progress` (enabled=False) draws none."""
    terminal = FakeTerminal()
    progress = Progress(enabled=True, stream=terminal)
    stage = progress.stage("parse", total=2)
    stage.advance(2)
    progress.close()
    assert "parse" in terminal.getvalue()
    assert "2/2" in terminal.getvalue()
    quiet = FakeTerminal()
    disabled = Progress(enabled=False, stream=quiet)
    disabled.stage("parse", total=2).advance(2)
    disabled.close()
    assert not disabled.bars
    assert quiet.getvalue() == ""


# ------------------------------------------------------------------- whole runs

DNS = StaticDnsResolver({})  # no name resolves: nothing can leave the machine


async def no_sleep(seconds: float) -> None:
    """Retry waits are skipped in tests."""


def make_config(db: Path, **sources: list[str]) -> Config:
    """A config for a loopback site: private addresses allowed, resolver off."""
    return Config(
        database=DatabaseConfig(str(db)),
        sources=SourcesConfig(paths=[], **sources),
        fetch=FetchConfig(allow_private=True, timeout=5, concurrency=4, per_host=4),
        resolver=ResolverConfig(enabled=False, allow_private=True),
    )


def run(config: Config, *arguments: str, stdin: bytes | None = None) -> RunCounts:
    """One batch run without real DNS or real retry waits."""
    return run_batch(
        config,
        list(arguments),
        RunOptions(progress=False),
        stdin=io.BytesIO(stdin) if stdin is not None else None,
        dns=DNS,
        sleep=no_sleep,
    )


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """The rows of a query on the database file."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def table_sizes(db: Path) -> dict[str, int]:
    """Row counts of the content tables."""
    tables = ("articles", "posts", "accounts", "citations", "links", "urls", "entities")
    return {t: int(rows(db, f"select count(*) from [{t}]")[0][0]) for t in tables}


@pytest.fixture
def news() -> Site:
    """A 20-article site with a sitemap index, an RSS feed, robots.txt, a PDF."""
    return build_news_site(20)


@pytest.fixture
def news_base(news: Site) -> Iterator[str]:
    """The news site's base URL."""
    with serve_site(news) as base:
        yield base


def test_feeds_and_sitemaps_are_crawled_once_each(
    news: Site, news_base: str, tmp_path: Path
) -> None:
    """A sitemap index (news + gzip'd sitemaps) and a feed give every article, each fetched once."""
    db = tmp_path / "c.db"
    config = make_config(db, feeds=[news_base + "/sitemap_index.xml", news_base + "/feed.xml"])
    counts = run(config)
    assert (counts.fetched, counts.new_articles, counts.posts, counts.errors) == (20, 20, 20, 0)
    assert counts.links == 20 * 4
    assert all(news.hits[f"/articles/{n}.html"] == 1 for n in range(20))
    assert news.hits["/robots.txt"] == 1
    urls = [r[0] for r in rows(db, "select url from articles")]
    assert all("utm_" not in str(u) for u in urls)
    run_row = rows(db, "select status, sources, fetched, new_articles, errors from runs")
    assert run_row == [("completed", 2, 20, 20, 0)]


def test_second_run_is_conditional_and_changes_nothing(
    news: Site, news_base: str, tmp_path: Path
) -> None:
    """Run twice: the second run gets 304s, parses nothing and adds no rows."""
    db = tmp_path / "c.db"
    config = make_config(db, feeds=[news_base + "/sitemap_index.xml"])
    run(config)
    before = table_sizes(db)
    again = run(config)
    assert (again.not_modified, again.fetched, again.new_articles, again.posts) == (20, 0, 0, 0)
    assert table_sizes(db) == before
    assert [r[0] for r in rows(db, "select not_modified from runs order by id")] == [0, 20]


OTHER_LINKS = (
    "select * from links where article_id != "
    "(select id from articles where url like '%/3.html') order by 1, 2"
)


def test_changed_page_replaces_only_its_own_citations(
    news: Site, news_base: str, tmp_path: Path
) -> None:
    """A changed article replaces its citations and links; the other articles are untouched."""
    db = tmp_path / "c.db"
    config = make_config(db, feeds=[news_base + "/sitemap_index.xml"])
    run(config)
    snapshot = "select id, updated_at, content_sha256 from articles where url not like '%/3.html'"
    others = rows(db, snapshot)
    other_links = rows(db, OTHER_LINKS)
    changed = article_html(3, total=20, version=2).replace(b"/articles/4.html", b"/elsewhere")
    news.pages["/articles/3.html"] = Page(
        changed.replace(b"159000000000000003", b"159000000000009999")
    )
    counts = run(config)
    assert (counts.fetched, counts.not_modified, counts.posts) == (1, 19, 1)
    assert rows(db, snapshot) == others
    assert rows(db, OTHER_LINKS) == other_links
    cited = rows(
        db,
        "select c.post_id from citations c join articles a on a.id = c.article_id "
        "where a.url like '%/3.html'",
    )
    assert cited == [("twitter:1159000000000009999",)]
    assert rows(
        db,
        "select count(*) from links l join urls u on u.id = l.url_id "
        "where u.url like '%/elsewhere'",
    ) == [(1,)]


def test_unchanged_bytes_are_not_parsed_again(tmp_path: Path) -> None:
    """A server without validators answers 200 again: same SHA-256 -> counted unchanged."""
    site = Site()
    site.add("/robots.txt", Page(b"", "text/plain", status=404))
    site.add("/a.html", Page(article_html(1, total=2), etag=False, last_modified=None))
    with serve_site(site) as base:
        config = make_config(tmp_path / "c.db", urls=[base + "/a.html"])
        first = run(config)
        second = run(config)
    assert (first.new_articles, second.unchanged, second.fetched, second.posts) == (1, 1, 1, 0)


def test_failures_and_skips_are_recorded(news: Site, news_base: str, tmp_path: Path) -> None:
    """Failing pages, PDFs and robots-disallowed pages get an articles row with the reason."""
    listing = tmp_path / "urls.txt"
    listing.write_text(
        f"# to check\n{news_base}/broken.html\n{news_base}/files/report.pdf\n\n"
        f"{news_base}/private/secret.html\n{news_base}/nothing-here.html\n"
    )
    db = tmp_path / "c.db"
    counts = run(make_config(db, url_files=[str(listing)]))
    assert (counts.errors, counts.skipped) == (2, 2)
    errors = dict(rows(db, "select url, error from articles"))
    assert errors == {
        news_base + "/broken.html": "http_5xx: 500 Internal Server Error",
        news_base + "/files/report.pdf": "skipped: application/pdf",
        news_base + "/private/secret.html": "skipped: robots.txt",
        news_base + "/nothing-here.html": "http_4xx: 404 Not Found",
    }


def test_unreachable_robots_is_an_error_not_a_skip(tmp_path: Path) -> None:
    """A page whose robots.txt cannot be reached counts as an error with the real category."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    db = tmp_path / "c.db"
    counts = run(make_config(db, urls=[f"http://127.0.0.1:{port}/story.html"]))
    assert (counts.errors, counts.skipped) == (1, 0)
    [(error,)] = rows(db, "select error from articles")
    assert error.startswith("connect: robots.txt unreachable")


def test_arguments_are_sniffed_feed_or_article(news: Site, news_base: str, tmp_path: Path) -> None:
    """A URL argument that is a feed is expanded; one that is a page is an article."""
    counts = run(
        make_config(tmp_path / "c.db"),
        news_base + "/feed.xml",
        news_base + "/articles/15.html#comments",
    )
    assert counts.new_articles == 11  # the feed's ten, and one more
    assert news.hits["/articles/15.html"] == 1


def test_stdin_url_list_or_document(news_base: str, tmp_path: Path) -> None:
    """stdin holding only URLs is a list to fetch; anything else is one document."""
    db = tmp_path / "c.db"
    listed = run(make_config(db), "-", stdin=f"{news_base}/articles/1.html\n".encode())
    assert listed.new_articles == 1
    document = article_html(7, total=20).replace(b"@BASE@", b"https://example.test")
    piped = run(make_config(db), "-", stdin=document)
    assert (piped.fetched, piped.new_articles, piped.posts) == (1, 1, 1)
    assert rows(db, "select count(*) from articles where source like 'stdin:%'") == [(1,)]


def test_bad_feed_is_counted_and_noted(news_base: str, tmp_path: Path) -> None:
    """A feed that is missing or is not a feed is an error in the run, with a message."""
    db = tmp_path / "c.db"
    counts = run(make_config(db, feeds=[news_base + "/nope.xml", news_base + "/articles/1.html"]))
    assert counts.errors == 2
    (message,) = rows(db, "select message from runs")[0]
    assert "nope.xml: http_4xx: 404" in str(message)
    assert "not a feed or sitemap" in str(message)


def test_sitemap_nesting_is_limited(tmp_path: Path) -> None:
    """Sitemap indexes nested deeper than the limit are not followed (and say so)."""
    site = Site()
    site.add("/robots.txt", Page(b"", "text/plain", status=404))
    for level in range(6):
        site.add(
            f"/index-{level}.xml", Page(sitemap_index([f"/index-{level + 1}.xml"]), "text/xml")
        )
    with serve_site(site) as base:
        db = tmp_path / "c.db"
        counts = run(make_config(db, feeds=[base + "/index-0.xml"]))
    assert site.hits["/index-3.xml"] == 1
    assert site.hits["/index-4.xml"] == 0
    assert counts.errors == 1


def test_resolver_runs_after_storing(news_base: str, tmp_path: Path) -> None:
    """Links are resolved after the pages are stored (no real DNS: t.co fails as dns)."""
    db = tmp_path / "c.db"
    base_config = make_config(db, urls=[news_base + "/articles/2.html"])
    config = dataclasses.replace(
        base_config,
        resolver=ResolverConfig(enabled=True, allow_private=True, shorteners=["127.0.0.1"]),
    )
    counts = run(config)
    assert (counts.urls_resolved, counts.urls_failed) == (1, 1)
    statuses = dict(rows(db, "select url, status from urls where is_shortener = 1"))
    assert statuses == {
        news_base + "/articles/3.html": "resolved",
        "https://t.co/ab000002": "failed",
    }


def test_run_refuses_a_locked_database(news_base: str, tmp_path: Path) -> None:
    """A run on a locked database raises LockHeldError and touches nothing."""
    db = tmp_path / "c.db"
    with RunLock(db), pytest.raises(LockHeldError):
        run(make_config(db, urls=[news_base + "/articles/1.html"]))
    assert not db.exists()


def test_cli_exits_75_when_locked(tmp_path: Path) -> None:
    """`scraper run` on a database another run holds exits 75 with a clear message."""
    db = tmp_path / "c.db"
    with RunLock(db):
        result = CliRunner().invoke(cli, ["run", "--db", str(db), "--no-resolve", "-"], input="")
    assert result.exit_code == 75
    assert "another scraper run" in result.stderr
    assert f"pid {os.getpid()}" in result.stderr


def test_reader_never_blocks_the_run(news_base: str, tmp_path: Path) -> None:
    """A reader holding a read transaction open (Datasette) does not block the run."""
    db = tmp_path / "c.db"
    config = make_config(db, feeds=[news_base + "/sitemap_index.xml"])
    run(
        dataclasses.replace(
            config, sources=SourcesConfig(paths=[], urls=[news_base + "/articles/0.html"])
        )
    )
    reader = sqlite3.connect(db, timeout=0)
    try:
        reader.execute("begin")
        assert reader.execute("select count(*) from articles").fetchone() == (1,)
        counts = run(config)
        assert reader.execute("select count(*) from articles").fetchone() == (1,)  # its snapshot
    finally:
        reader.close()
    assert counts.new_articles == 19


def test_fatal_store_error_ends_the_run_as_failed(
    news_base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database error is fatal: it propagates, and the run is recorded as failed."""

    def broken_save(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    db = tmp_path / "c.db"
    monkeypatch.setattr(store, "save_article", broken_save)
    with pytest.raises(sqlite3.OperationalError):
        run(make_config(db, urls=[news_base + "/articles/1.html"]))
    assert rows(db, "select status from runs") == [("failed",)]


def test_run_logs_plain_progress_off_a_terminal(
    news_base: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Off a terminal a run logs each stage's final progress line (shown with -v)."""
    with caplog.at_level(logging.INFO, logger="scraper.progress"):
        run(make_config(tmp_path / "c.db", feeds=[news_base + "/feed.xml"]))
    lines = [r.getMessage() for r in caplog.records if r.name == "scraper.progress"]
    assert any(line.startswith("fetch: done, 11/11") for line in lines)
    assert any(line.startswith("parse: done, 10,") for line in lines)


async def test_crawl_serves_hosts_in_turn() -> None:
    """A long list from one host does not hold back another host's URLs (per-host queues)."""
    site = Site()
    for n in range(6):
        site.add(f"/a/{n}.html", Page(article_html(n, total=6), delay=0.05))
        site.add(f"/b/{n}.html", Page(article_html(n, total=6), delay=0.05))
    config = FetchConfig(allow_private=True, concurrency=2, per_host=1, respect_robots=False)
    delivered: list[str] = []
    with serve_site(site, "127.0.0.1") as one, serve_site(site, "127.0.0.2") as two:
        async with make_fetch_client(config) as client:
            frontier = Crawl(
                Fetcher(config, client),
                validators=lambda url: (None, None),
                deliver=lambda job, result: delivered.append(job.url),
                problem=lambda message: None,
                per_host=1,
            )
            frontier.add([f"{one}/a/{n}.html" for n in range(6)], "article")
            frontier.add([f"{two}/b/{n}.html" for n in range(2)], "article")
            await frontier.run(workers=2)
    order = [r.path for r in site.requests]
    assert len(delivered) == 8
    assert set(order[:4]) >= {"/b/0.html", "/b/1.html"}
    assert site.max_in_flight == 2


DATED = "2023-11-14T22:13:20+00:00"  # the site's Last-Modified, as a sitemap <lastmod>


def test_sitemap_lastmod_spares_requests_for_unchanged_pages(tmp_path: Path) -> None:
    """A rerun requests only the pages whose sitemap <lastmod> is newer than our copy."""
    news = build_news_site(20, lastmod=DATED)
    db = tmp_path / "c.db"
    with serve_site(news) as base:
        config = make_config(db, feeds=[base + "/sitemap_index.xml"])
        first = run(config)
        assert (first.fetched, first.listed_unchanged) == (20, 0)
        # page 3 changes, and the news sitemap (pages 0-9) dates it after our copy
        news.pages["/articles/3.html"] = Page(article_html(3, total=20, version=2))
        listing = news.pages["/sitemaps/news.xml"]
        entry = b"@BASE@/articles/3.html</loc><lastmod>" + DATED.encode()
        assert entry in listing.body
        dated_later = b"@BASE@/articles/3.html</loc><lastmod>2099-01-01"
        news.pages["/sitemaps/news.xml"] = dataclasses.replace(
            listing, body=listing.body.replace(entry, dated_later)
        )
        again = run(config)
    assert (again.listed_unchanged, again.fetched, again.not_modified) == (19, 1, 0)
    assert news.hits["/articles/3.html"] == 2
    assert all(news.hits[f"/articles/{n}.html"] == 1 for n in range(20) if n != 3)
    assert rows(db, "select listed_unchanged, fetched from runs order by id") == [(0, 20), (19, 1)]


def test_skip_unchanged_off_asks_the_server_every_time(tmp_path: Path) -> None:
    """With ``[fetch] skip_unchanged = false`` a dated sitemap still gets conditional GETs."""
    news = build_news_site(20, lastmod=DATED)
    db = tmp_path / "c.db"
    with serve_site(news) as base:
        config = make_config(db, feeds=[base + "/sitemap_index.xml"])
        config = config.with_overrides("fetch", skip_unchanged=False)
        run(config)
        again = run(config)
    assert (again.listed_unchanged, again.not_modified, again.fetched) == (0, 20, 0)
    assert all(news.hits[f"/articles/{n}.html"] == 2 for n in range(20))
