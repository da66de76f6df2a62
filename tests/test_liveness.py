"""Link rot and deleted posts: checks over time against loopback endpoints, into one database.

A loopback site plays the article's link target, the Twitter oEmbed endpoint, the Bluesky
AppView and the Wayback availability API; the config points every endpoint at it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from site_server import Page, Site, serve_site

from scraper.checking import CheckOptions, CheckSummary, check_due
from scraper.cli import cli
from scraper.config import (
    Config,
    DatabaseConfig,
    LivenessConfig,
    ResolverConfig,
    SourcesConfig,
)
from scraper.lock import RunLock
from scraper.net.guard import StaticDnsResolver
from scraper.run import RunOptions, run_batch
from scraper.store import open_database, refresh_summaries

TWEET_ID = "1159518138349498368"
DID = "did:plc:someoneexample"
RKEY = "3lpgp2la4s22b"
START = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def article(base: str) -> str:
    """An article published 2021-03-04 citing a tweet, a Bluesky post and a story page."""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Flood report</title>
<meta property="article:published_time" content="2021-03-04T08:00:00Z"></head><body>
<p>The story <a href="{base}/story">is here</a>.</p>
<blockquote class="twitter-tweet"><p lang="en" dir="ltr">The river is rising fast.</p>
&mdash; Amee Vanderpool (@girlsreallyrule)
<a href="https://twitter.com/girlsreallyrule/status/{TWEET_ID}">August 8, 2019</a></blockquote>
<p>As <a href="https://bsky.app/profile/someone.example.org/post/{RKEY}">someone wrote</a>.</p>
</body></html>"""


def json_page(data: Any, status: int = 200) -> Page:
    """A JSON answer."""
    return Page(json.dumps(data).encode(), content_type="application/json", status=status)


def snapshot(url: str, stamp: str) -> Page:
    """The Wayback availability API's answer with one available copy."""
    closest = {"url": f"http://web.archive.org/web/{stamp}/{url}", "timestamp": stamp}
    return json_page({"archived_snapshots": {"closest": {**closest, "available": True}}})


class World:
    """The loopback site, a database made by a real run, and the config pointing home."""

    def __init__(self, site: Site, base: str, tmp_path: Path) -> None:
        self.site, self.base = site, base
        self.sleeps: list[float] = []
        articles = tmp_path / "articles"
        articles.mkdir()
        (articles / "flood.html").write_text(article(base), encoding="utf-8")
        self.db_path = tmp_path / "c.db"
        self.config = Config(
            database=DatabaseConfig(str(self.db_path)),
            sources=SourcesConfig(paths=[str(articles)]),
            resolver=ResolverConfig(allow_private=True, retries=1, ttl_days=30),
            liveness=LivenessConfig(
                twitter_oembed=f"{base}/oembed",
                bluesky_appview=base,
                wayback=f"{base}/wayback/available",
                allow_private=True,
                retries=2,
                recheck_days=30,
            ),
        )
        # names that must never be looked up for real: only the loopback site exists
        self.dns = StaticDnsResolver({})
        run_batch(self.config, [], RunOptions(progress=False), dns=self.dns, sleep=self.sleep)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def alive(self) -> None:
        """Everything there: the story page, the tweet, the Bluesky post."""
        self.site.add("/story", Page(b"<html><body>the story</body></html>"))
        self.site.add("/oembed", json_page({"html": "<blockquote>...</blockquote>"}))
        self.site.add("/xrpc/com.atproto.identity.resolveHandle", json_page({"did": DID}))
        post = {"uri": f"at://{DID}/app.bsky.feed.post/{RKEY}", "cid": "bafy"}
        self.site.add("/xrpc/app.bsky.feed.getPosts", json_page({"posts": [post]}))
        self.site.add("/wayback/available", json_page({"archived_snapshots": {}}))

    def died(self) -> None:
        """The story page is gone (404), the tweet deleted, the Bluesky post deleted."""
        self.site.add("/story", Page(b"not here", status=404))
        self.site.add("/oembed", Page(b"", status=404))
        self.site.add("/xrpc/app.bsky.feed.getPosts", json_page({"posts": []}))
        self.site.add("/wayback/available", snapshot(f"{self.base}/story", "20210305101500"))

    def check(self, at: datetime, options: CheckOptions | None = None) -> CheckSummary:
        db = open_database(self.db_path, writable=True)
        try:
            summary = asyncio.run(
                check_due(
                    db,
                    self.config,
                    options or CheckOptions(),
                    dns=self.dns,
                    sleep=self.sleep,
                    now=lambda: at,
                )
            )
            refresh_summaries(db)  # as `scraper check` does: link_rot_by_year is a summary
            return summary
        finally:
            db.close()

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    site = Site()
    with serve_site(site) as base:
        yield World(site, base, tmp_path)


def test_two_checks_record_a_link_dying_and_posts_deleted(world: World) -> None:
    """Alive at the first check, dead at the next: history rows, states, copies and views."""
    world.alive()
    first = world.check(START)
    assert (first.links_alive, first.posts_available, first.posts_gone) == (1, 2, 0)
    world.died()
    second = world.check(START + timedelta(days=31))
    assert second.links_died == 1 and second.posts_gone == 2 and second.posts_gone_since == 2
    assert second.archives_found >= 1

    story = f"{world.base}/story"
    history = world.rows(
        "SELECT k.status, k.final_status_code, k.error_category FROM url_checks k "
        "JOIN urls u ON u.id = k.url_id WHERE u.url = ? ORDER BY k.checked_at",
        story,
    )
    assert history == [("resolved", 200, None), ("failed", 404, "http_4xx")]
    ((archived_url, archived_at),) = world.rows(
        "SELECT archived_url, archived_at FROM urls WHERE url = ?", story
    )
    assert archived_url == f"http://web.archive.org/web/20210305101500/{story}"
    assert archived_at == "2021-03-05T10:15:00+00:00"
    # the copy asked for is the one nearest the citing article's publication date
    assert any("timestamp=20210304" in r.path for r in world.site.requests if "wayback" in r.path)

    states = world.rows(
        "SELECT k.state, k.http_status FROM post_checks k WHERE k.post_id = ? ORDER BY k.id",
        f"twitter:{TWEET_ID}",
    )
    assert states == [("available", 200), ("gone", 404)]
    assert world.rows("SELECT state FROM posts WHERE id = ?", f"twitter:{TWEET_ID}") == [("gone",)]

    rotted = world.rows("SELECT url, archived_url, articles, first_article_title FROM rotted_links")
    assert rotted == [(story, archived_url, 1, "Flood report")]
    gone = {row[0]: row[1:] for row in world.rows("SELECT post_id, handle, state FROM gone_posts")}
    assert gone[f"twitter:{TWEET_ID}"] == ("girlsreallyrule", "gone")
    assert f"bluesky:at://someone.example.org/app.bsky.feed.post/{RKEY}" in gone or any(
        RKEY in key for key in gone
    )
    by_year = world.rows("SELECT year, links_checked, links_dead, share_dead FROM link_rot_by_year")
    ((year, checked, dead, share),) = by_year
    assert year == "2021" and dead >= 1 and share == round(dead / checked, 3)


def test_nothing_is_due_again_before_its_time(world: World) -> None:
    """A second check the next day asks nothing; `--all` asks everything again."""
    world.alive()
    world.check(START)
    asked = len(world.site.requests)
    again = world.check(START + timedelta(days=1))
    assert (again.links_checked, again.posts_checked) == (0, 0)
    assert len(world.site.requests) == asked
    everything = world.check(START + timedelta(days=1), CheckOptions(check_all=True))
    assert everything.posts_checked == 2 and everything.links_checked >= 1


def test_rate_limit_that_clears_is_waited_out(world: World) -> None:
    """A 429 with Retry-After is honoured (an injected wait), then the answer counts."""
    world.alive()
    oembed = json_page({"html": "<blockquote/>"})
    oembed.fail_first, oembed.fail_status = 1, 429
    oembed.fail_headers = {"Retry-After": "7"}
    world.site.add("/oembed", oembed)
    summary = world.check(START)
    assert 7.0 in world.sleeps
    assert world.rows("SELECT state FROM posts WHERE platform = 'twitter'") == [("available",)]
    assert summary.posts_unknown == 0


def test_rate_limit_that_persists_is_unknown_never_gone(world: World) -> None:
    """Still 429 after the retries: `unknown`, the post keeps its state and stays due."""
    world.alive()
    world.check(START)
    limited = Page(b"slow down", status=429, headers={"Retry-After": "1"})
    world.site.add("/oembed", limited)
    later = START + timedelta(days=31)
    summary = world.check(later)
    assert summary.posts_gone == 0 and summary.posts_unknown >= 1
    tweet = f"twitter:{TWEET_ID}"
    assert world.rows("SELECT state, checked_at FROM posts WHERE id = ?", tweet) == [
        ("available", START.isoformat(timespec="seconds"))
    ]
    last = world.rows(
        "SELECT state, http_status FROM post_checks WHERE post_id = ? ORDER BY id DESC LIMIT 1",
        tweet,
    )
    assert last == [("unknown", 429)]
    again = world.check(later + timedelta(hours=1))  # still due: unknown is no answer
    assert again.posts_checked >= 1


def test_endpoints_that_are_down_lose_nothing(world: World, tmp_path: Path) -> None:
    """oEmbed and Wayback unreachable: `unknown`, no archive recorded, nothing marked gone."""
    world.alive()
    world.check(START)
    world.died()
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens there
    world.config = Config(
        database=world.config.database,
        sources=world.config.sources,
        resolver=world.config.resolver,
        liveness=LivenessConfig(
            twitter_oembed=f"{closed}/oembed",
            bluesky_appview=closed,
            wayback=f"{closed}/wayback/available",
            allow_private=True,
            retries=1,
        ),
    )
    summary = world.check(START + timedelta(days=31))
    assert summary.posts_gone == 0 and summary.posts_unknown == 2
    assert summary.archives_found == 0 and summary.links_died == 1
    story = f"{world.base}/story"
    assert world.rows("SELECT archived_url, archive_checked_at FROM urls WHERE url = ?", story) == [
        (None, None)
    ]
    details = world.rows("SELECT detail FROM post_checks WHERE state = 'unknown'")
    assert details and all("connect" in detail for (detail,) in details)


def test_check_command_prints_a_summary_and_respects_the_lock(world: World) -> None:
    """`scraper check` takes the run lock (exit 75 when held) and prints one summary line."""
    world.alive()
    # checked just now (with the loopback-only DNS), so the command finds nothing due and
    # never looks up the article's twitter.com and bsky.app links for real
    world.check(datetime.now(UTC))
    config_file = world.db_path.parent / "config.toml"
    config_file.write_text(
        f"""
[database]
path = "{world.db_path}"
[resolver]
allow_private = true
[liveness]
twitter_oembed = "{world.base}/oembed"
bluesky_appview = "{world.base}"
wayback = "{world.base}/wayback/available"
allow_private = true
""",
        encoding="utf-8",
    )
    runner = CliRunner()
    with RunLock(world.db_path):
        held = runner.invoke(cli, ["check", "--config", str(config_file)])
    assert held.exit_code == 75
    done = runner.invoke(cli, ["check", "--config", str(config_file)])
    assert done.exit_code == 0, done.output
    assert "scraper check: links checked 0: 0 alive" in done.stderr
    assert "posts checked 0" in done.stderr


def test_datasette_shows_the_gone_posts_and_link_rot(world: World) -> None:
    """After a link dies and posts are deleted, the canned queries show them in Datasette."""
    from scraper.serve import build_datasette

    world.alive()
    world.check(START)
    world.died()
    world.check(START + timedelta(days=31))

    async def fetch(path: str) -> Any:
        ds = build_datasette(world.db_path)
        await ds.invoke_startup()
        response = await ds.client.get(path)
        assert response.status_code == 200, response.text[:300]
        return response.json()

    name = world.db_path.stem
    gone = asyncio.run(fetch(f"/{name}/gone-posts.json?_shape=array"))
    assert {row["handle"] for row in gone} >= {"girlsreallyrule"}
    assert all(row["state"] == "gone" for row in gone)
    rotted = asyncio.run(fetch(f"/{name}/rotted-links.json?_shape=array"))
    assert [row["url"] for row in rotted] == [f"{world.base}/story"]
    by_year = asyncio.run(fetch(f"/{name}/link-rot-by-year.json?_shape=array"))
    assert by_year[0]["year"] == "2021" and by_year[0]["percent_dead"] > 0


def test_run_checks_what_is_due_when_enabled(world: World) -> None:
    """`[liveness] enabled`: `scraper run` ends with the check stage and says what it found."""
    world.alive()
    config = dataclasses.replace(
        world.config, liveness=dataclasses.replace(world.config.liveness, enabled=True)
    )
    counts = run_batch(config, [], RunOptions(progress=False), dns=world.dns, sleep=world.sleep)
    assert "check: links checked" in counts.summary()
    assert world.rows("SELECT count(*) FROM post_checks WHERE state = 'available'") == [(2,)]
