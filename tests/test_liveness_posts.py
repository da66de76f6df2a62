"""How each platform's keyless endpoint answer becomes a post state (no I/O: a fake `ask`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scraper.config import LivenessConfig
from scraper.liveness.archives import availability_url, read_availability, wayback_time
from scraper.liveness.posts import (
    check_bluesky,
    check_mastodon,
    check_reddit,
    check_twitter,
    check_youtube,
)
from scraper.model import PostRef

CONFIG = LivenessConfig(reddit="https://reddit.test", youtube_oembed="https://yt.test/oembed")


class Answers:
    """A fake `ask`: a fixed answer per URL prefix, and the URLs asked."""

    def __init__(self, **answers: tuple[int, Any]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, url: str) -> tuple[int, bytes]:
        self.asked.append(url)
        for key, (status, body) in self.answers.items():
            if key in url:
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                return status, raw
        raise AssertionError(f"unexpected request {url}")


@pytest.mark.parametrize(
    ("status", "state"),
    [(200, "available"), (404, "gone"), (403, "restricted"), (400, "unknown")],
)
async def test_mastodon_status_codes(status: int, state: str) -> None:
    """The instance's /api/v1/statuses/ID: 200 available, 404 gone, 403 restricted."""
    post = PostRef("mastodon:x", "mastodon", "1", "a", "https://social.test/@a/1099")
    ask = Answers(statuses=(status, {}))
    verdict = await check_mastodon(post, CONFIG, ask)
    assert verdict.state == state
    assert ask.asked == ["https://social.test/api/v1/statuses/1099"]


@pytest.mark.parametrize(
    ("status", "state"), [(200, "available"), (404, "gone"), (401, "restricted")]
)
async def test_youtube_oembed(status: int, state: str) -> None:
    """YouTube oEmbed: 401 (private) is restricted, 404 gone."""
    post = PostRef("youtube:abc", "youtube", "abcdefghijk", None, None)
    verdict = await check_youtube(post, CONFIG, Answers(oembed=(status, {"title": "t"})))
    assert verdict.state == state


async def test_twitter_200_without_json_is_unknown() -> None:
    """A 200 that is not the oEmbed JSON (a captive page) says nothing about the post."""
    post = PostRef("twitter:1", "twitter", "1159518138349498368", "h", None)
    verdict = await check_twitter(post, CONFIG, Answers(oembed=(200, b"<html>login</html>")))
    assert verdict.state == "unknown"


@pytest.mark.parametrize(
    ("children", "state"),
    [
        ([], "gone"),
        ([{"data": {"author": "x", "selftext": "hi"}}], "available"),
        ([{"data": {"author": "x", "removed_by_category": "moderator"}}], "gone"),
        ([{"data": {"author": "[deleted]", "selftext": "[deleted]"}}], "gone"),
    ],
)
async def test_reddit_info(children: list[dict[str, Any]], state: str) -> None:
    """Reddit's info.json: not listed, removed or deleted is gone."""
    post = PostRef("reddit:t3_abc", "reddit", "t3_abc", None, None)
    ask = Answers(info=(200, {"data": {"children": children}}))
    assert (await check_reddit(post, CONFIG, ask)).state == state
    assert ask.asked == ["https://reddit.test/api/info.json?id=t3_abc"]


async def test_bluesky_handle_that_does_not_resolve_is_unknown() -> None:
    """A handle that no longer resolves may have been renamed: unknown, not gone."""
    post = PostRef("bluesky:x", "bluesky", "at://gone.example/app.bsky.feed.post/3k", None, None)
    ask = Answers(resolveHandle=(400, {"error": "InvalidRequest"}))
    verdict = await check_bluesky(post, CONFIG, ask)
    assert verdict.state == "unknown" and len(ask.asked) == 1


async def test_bluesky_did_is_asked_directly() -> None:
    """An AT URI with a DID needs no handle lookup; an empty list means gone."""
    post = PostRef("bluesky:x", "bluesky", "at://did:plc:abc/app.bsky.feed.post/3k", None, None)
    ask = Answers(getPosts=(200, {"posts": []}))
    assert (await check_bluesky(post, CONFIG, ask)).state == "gone"
    assert "did%3Aplc%3Aabc" in ask.asked[0]


def test_wayback_request_and_answer() -> None:
    """The availability request carries the date; only an available copy is taken."""
    assert availability_url("https://wb.test/av", "https://a.test/x?y=1", "2021-03-04T08:00") == (
        "https://wb.test/av?url=https%3A%2F%2Fa.test%2Fx%3Fy%3D1&timestamp=20210304"
    )
    assert availability_url("https://wb.test/av", "https://a.test/", None).endswith("a.test%2F")
    none = json.dumps({"archived_snapshots": {}}).encode()
    assert read_availability(none) is None
    closest = {"url": "http://web.archive.org/web/20200101000000/x", "timestamp": "20200101000000"}
    unavailable = {"archived_snapshots": {"closest": {**closest, "available": False}}}
    assert read_availability(json.dumps(unavailable).encode()) is None
    available = {"archived_snapshots": {"closest": {**closest, "available": True}}}
    assert read_availability(json.dumps(available).encode()) == (
        closest["url"],
        "2020-01-01T00:00:00+00:00",
    )
    assert wayback_time("20201399000000") is None
