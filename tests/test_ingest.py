"""What a run takes in: URL lists with a bad line, oversized local files, change counts."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from site_server import Site, article_html, build_news_site, serve_site

from scraper.config import Config, DatabaseConfig, FetchConfig, ResolverConfig, SourcesConfig
from scraper.net.guard import StaticDnsResolver
from scraper.run import RunCounts, RunOptions, run_batch
from scraper.sources import looks_like_url_list

DNS = StaticDnsResolver({})  # no name resolves: nothing can leave the machine


async def no_sleep(seconds: float) -> None:
    """Retry waits are skipped in tests."""


def make_config(db: Path, *, max_bytes: int = 10_000_000) -> Config:
    """A config for a loopback site: private addresses allowed, resolver off."""
    return Config(
        database=DatabaseConfig(str(db)),
        sources=SourcesConfig(paths=[]),
        fetch=FetchConfig(
            allow_private=True, timeout=5, concurrency=4, per_host=4, max_bytes=max_bytes
        ),
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


@pytest.fixture
def news() -> Site:
    """A 20-article loopback news site."""
    return build_news_site(20)


@pytest.fixture
def news_base(news: Site) -> Iterator[str]:
    """The news site's base URL."""
    with serve_site(news) as base:
        yield base


# ------------------------------------------------------------------------ URL lists


def test_url_list_with_one_bad_line_on_stdin_is_still_a_list(
    news: Site, news_base: str, tmp_path: Path
) -> None:
    """stdin of URLs with one line that is not a URL: the URLs are fetched, the line warned."""
    db = tmp_path / "c.db"
    listing = f"{news_base}/articles/1.html\nnot a url\n{news_base}/articles/2.html\n"
    counts = run(make_config(db), "-", stdin=listing.encode())
    assert counts.new_articles == 2
    assert news.hits["/articles/1.html"] == news.hits["/articles/2.html"] == 1
    assert counts.errors == 1
    (message,) = rows(db, "select message from runs")[0]
    assert "stdin: not a URL: 'not a url'" in str(message)
    assert rows(db, "select count(*) from articles where source like 'stdin:%'") == [(0,)]


def test_url_list_file_with_one_bad_line_is_still_a_list(
    news: Site, news_base: str, tmp_path: Path
) -> None:
    """A file named on the command line, URLs and one typo: a list, the typo warned."""
    db = tmp_path / "c.db"
    listing = tmp_path / "urls.txt"
    listing.write_text(f"{news_base}/articles/3.html\nhtps://typo.example/x\n", encoding="utf-8")
    listing.write_text(listing.read_text() + f"{news_base}/articles/4.html\n", encoding="utf-8")
    counts = run(make_config(db), str(listing))
    assert counts.new_articles == 2
    assert counts.errors == 1
    (message,) = rows(db, "select message from runs")[0]
    assert "not a URL: 'htps://typo.example/x'" in str(message)


@pytest.mark.parametrize(
    ("text", "is_list"),
    [
        ("https://a.example/1\nhttps://a.example/2\n", True),
        ("https://a.example/1\nnot a url\nhttps://a.example/2\n", True),
        ("# comment\nhttps://a.example/1\n", True),
        ("A headline\nhttps://t.co/abc\n", False),
        ("A headline\n\nSome prose here.\nhttps://t.co/abc\nMore prose.\n", False),
        ("<html><body>https://a.example/1\nhttps://a.example/2</body></html>", False),
        ("https://a.example/1\n<p>hello</p>\nhttps://a.example/2\n", False),
        ("just text\n", False),
    ],
)
def test_url_list_sniffing(text: str, is_list: bool) -> None:
    """A list is mostly URLs (at least twice as many as other lines) and holds no markup."""
    assert looks_like_url_list(text.encode()) is is_list


# ------------------------------------------------------------------- local file size


def test_local_file_over_max_bytes_is_skipped_with_its_reason(tmp_path: Path) -> None:
    """A local file larger than [fetch] max_bytes is not read: skipped, the reason recorded."""
    db = tmp_path / "c.db"
    small = tmp_path / "small.html"
    small.write_bytes(article_html(1, total=2).replace(b"@BASE@", b"https://news.example"))
    big = tmp_path / "big.html"
    big.write_bytes(article_html(2, total=2).replace(b"@BASE@", b"https://news.example"))
    limit = max(small.stat().st_size, 1000)
    big.write_bytes(big.read_bytes() + b"<!--" + b"x" * limit + b"-->")
    counts = run(make_config(db, max_bytes=limit), str(small), str(big))
    assert (counts.new_articles, counts.skipped) == (1, 1)
    ((error,),) = rows(db, "select error from articles where source like '%big.html'")
    assert (
        error
        == f"skipped: body_too_large: file is {big.stat().st_size} bytes, over max_bytes {limit}"
    )
    assert rows(db, "select count(*) from posts") == [(1,)]


# -------------------------------------------------------------- parsing off the loop


def test_a_slow_parse_does_not_hold_up_the_fetches_in_flight(
    news_base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the first page's parse is stuck, the loop still brings the second page in."""
    from scraper import parse, store

    arrivals: Counter[str] = Counter()
    both_arrived = threading.Event()
    real_state = store.get_article_state
    real_parse = parse.parse_document

    def watching_state(db: Any, url: str) -> Any:
        # looked up once before a page's request (validators) and once when its body is in
        arrivals[url] += 1
        if sum(1 for n in arrivals.values() if n >= 2) >= 2:
            both_arrived.set()
        return real_state(db, url)

    outcomes: list[bool] = []

    def stuck_first_parse(data: bytes, **options: Any) -> Any:
        if not outcomes:
            # an Event, not a timer: returns at once when the loop delivered the other page
            outcomes.append(both_arrived.wait(timeout=20))
        return real_parse(data, **options)

    monkeypatch.setattr(store, "get_article_state", watching_state)
    monkeypatch.setattr(parse, "parse_document", stuck_first_parse)
    counts = run(
        make_config(tmp_path / "c.db"), *(f"{news_base}/articles/{n}.html" for n in (1, 2))
    )
    assert outcomes == [True]
    assert counts.new_articles == 2


async def test_the_parse_backlog_is_bounded(tmp_path: Path) -> None:
    """`room` waits while `backlog` pages are being parsed, and returns when one is stored."""
    from scraper import store
    from scraper.crawl import Job
    from scraper.fetch import FetchResult
    from scraper.ingest import RunState, parse_or_error
    from scraper.ingest_loop import Ingester
    from scraper.progress import Progress

    db = store.open_database(tmp_path / "c.db")
    state = RunState(
        db, make_config(tmp_path / "c.db"), RunCounts(), Progress(enabled=False).stage("p")
    )
    release = threading.Event()

    def held_parse(document: Any) -> Any:
        release.wait(timeout=20)
        return parse_or_error(document)

    async with Ingester(state, backlog=1, parse=held_parse) as ingester:
        body = article_html(3, total=5).replace(b"@BASE@", b"https://news.example")
        result = FetchResult(url="https://news.example/3", status="ok", body=body)
        ingester.deliver(Job("https://news.example/3", "article"), result)
        waiting = asyncio.ensure_future(ingester.room())
        await asyncio.sleep(0)
        assert not waiting.done()
        release.set()
        await waiting
    assert state.counts.new_articles == 1
    db.close()


def test_a_long_url_list_file_is_known_by_its_head(tmp_path: Path) -> None:
    """A URL list bigger than the sniffed head is still a list; a big article is not."""
    from scraper.config import SourcesConfig as Sources
    from scraper.sources import collect_sources

    listing = tmp_path / "urls.txt"
    listing.write_text("".join(f"https://a.example/{n}\n" for n in range(20_000)), "utf-8")
    prose = tmp_path / "article.txt"
    prose.write_text("A long article.\n" * 20_000 + "https://t.co/abc\n", "utf-8")
    found = collect_sources([str(listing), str(prose)], Sources(paths=[]), sniff_lists=True)
    assert (found.url_files, found.files) == ([listing], [prose])
