"""Asking each platform's public, keyless endpoint whether a cited post is still there.

One function per platform turns a stored post into the requests to make and reads the
answers into a state. They do no I/O themselves: :mod:`scraper.liveness.checker` makes the
requests (``Ask``) through the network floor, so every request is guarded, rate-limited
per host and retried by the one policy.

| platform | endpoint | available | gone | restricted |
| --- | --- | --- | --- | --- |
| twitter | oEmbed ``{twitter_oembed}?url=…/status/ID`` | 200 | 404 | 403, 401 |
| bluesky | AppView ``app.bsky.feed.getPosts`` | the post listed | an empty list | — |
| mastodon | the instance's ``/api/v1/statuses/ID`` | 200 | 404, 410 | 401, 403 |
| youtube | oEmbed ``{youtube_oembed}?url=…watch?v=ID`` | 200 | 404 | 401, 403 |
| reddit | ``{reddit}/api/info.json?id=t3_ID`` | listed | not listed, removed or deleted | — |

Every other answer (429 after the retries, 5xx, a network failure, JSON that does not
parse) is ``unknown``: never ``gone``. Other platforms have no keyless endpoint that
tells a deleted post from a private one (Instagram, Threads, Facebook, TikTok, LinkedIn):
they are not checked.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from scraper.config import LivenessConfig
from scraper.model import PostRef, PostState

#: Makes one GET; returns the final status and body, or raises for a failure that left no
#: answer (the checker turns that into ``unknown``).
Ask = Callable[[str], Awaitable[tuple[int, bytes]]]

CHECKED_PLATFORMS = frozenset({"twitter", "bluesky", "mastodon", "youtube", "reddit"})


@dataclass(frozen=True, slots=True)
class Verdict:
    """A post's state as one endpoint answered, with the status and a short reason."""

    state: PostState
    http_status: int | None
    detail: str


def _by_status(
    status: int, available: set[int], gone: set[int], restricted: set[int], where: str
) -> Verdict:
    if status in available:
        return Verdict("available", status, f"{where} answered {status}")
    if status in gone:
        return Verdict("gone", status, f"{where} answered {status}: deleted or account removed")
    if status in restricted:
        return Verdict("restricted", status, f"{where} answered {status}: not public")
    return Verdict("unknown", status, f"{where} answered {status}")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


async def check_twitter(post: PostRef, config: LivenessConfig, ask: Ask) -> Verdict:
    """Twitter/X oEmbed: 200 with JSON available, 404 gone, 403 restricted (protected)."""
    if not post.post_id or not post.post_id.isdigit():
        return Verdict("unknown", None, "no status id to ask about")
    status_url = f"https://twitter.com/{post.handle or 'i/web'}/status/{post.post_id}"
    status, body = await ask(f"{config.twitter_oembed}?url={quote(status_url, safe='')}")
    if status == 200 and not isinstance(_json(body), dict):
        return Verdict("unknown", status, "oEmbed answered 200 without JSON")
    return _by_status(status, {200}, {404}, {401, 403}, "oEmbed")


async def check_youtube(post: PostRef, config: LivenessConfig, ask: Ask) -> Verdict:
    """YouTube oEmbed: 200 available, 404 gone, 401/403 private or not embeddable."""
    if not post.post_id:
        return Verdict("unknown", None, "no video id to ask about")
    watch = f"https://www.youtube.com/watch?v={post.post_id}"
    status, _ = await ask(f"{config.youtube_oembed}?format=json&url={quote(watch, safe='')}")
    return _by_status(status, {200}, {404}, {401, 403}, "oEmbed")


async def check_mastodon(post: PostRef, config: LivenessConfig, ask: Ask) -> Verdict:
    """The post's own instance: ``GET /api/v1/statuses/ID`` (404 or 410 once deleted)."""
    parts = urlsplit(post.url or "")
    status_id = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if parts.scheme not in ("http", "https") or not parts.netloc or not status_id.isdigit():
        return Verdict("unknown", None, "no instance and status id to ask about")
    status, _ = await ask(f"{parts.scheme}://{parts.netloc}/api/v1/statuses/{status_id}")
    return _by_status(status, {200}, {404, 410}, {401, 403}, "the instance")


async def check_bluesky(post: PostRef, config: LivenessConfig, ask: Ask) -> Verdict:
    """The public AppView: the post's AT URI (handle resolved to a DID) in ``getPosts``."""
    uri = post.post_id or ""
    authority, _, rest = uri.removeprefix("at://").partition("/")
    if not uri.startswith("at://") or not authority or not rest:
        return Verdict("unknown", None, "no AT URI to ask about")
    base = config.bluesky_appview.rstrip("/")
    if not authority.startswith("did:"):
        status, body = await ask(
            f"{base}/xrpc/com.atproto.identity.resolveHandle?handle={quote(authority)}"
        )
        found = _json(body)
        if status != 200 or not isinstance(found, dict) or not isinstance(found.get("did"), str):
            # a handle that no longer resolves may have been renamed, not deleted
            return Verdict("unknown", status, f"handle {authority} did not resolve ({status})")
        authority = found["did"]
    at_uri = f"at://{authority}/{rest}"
    status, body = await ask(f"{base}/xrpc/app.bsky.feed.getPosts?uris={quote(at_uri, safe='')}")
    answer = _json(body)
    if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get("posts"), list):
        return Verdict("unknown", status, f"getPosts answered {status}")
    if answer["posts"]:
        return Verdict("available", status, "getPosts lists the post")
    return Verdict("gone", status, "getPosts does not list the post: deleted or account removed")


async def check_reddit(post: PostRef, config: LivenessConfig, ask: Ask) -> Verdict:
    """Reddit's ``/api/info.json``: a removed or deleted thing, or none, is gone."""
    if not post.post_id or post.post_id[:3] not in ("t1_", "t3_"):
        return Verdict("unknown", None, "no reddit fullname to ask about")
    base = config.reddit.rstrip("/")
    status, body = await ask(f"{base}/api/info.json?id={quote(post.post_id)}")
    answer = _json(body)
    if status != 200 or not isinstance(answer, dict):
        return Verdict("unknown", status, f"info.json answered {status}")
    children = (answer.get("data") or {}).get("children") or []
    if not children:
        return Verdict("gone", status, "info.json does not list it")
    data = children[0].get("data") or {}
    if data.get("removed_by_category"):
        return Verdict("gone", status, f"removed ({data['removed_by_category']})")
    body_text = data.get("selftext", data.get("body"))
    if data.get("author") == "[deleted]" and body_text in ("[deleted]", "[removed]"):
        return Verdict("gone", status, "deleted by its author")
    return Verdict("available", status, "info.json lists it")


CHECKERS: dict[str, Callable[[PostRef, LivenessConfig, Ask], Awaitable[Verdict]]] = {
    "twitter": check_twitter,
    "bluesky": check_bluesky,
    "mastodon": check_mastodon,
    "youtube": check_youtube,
    "reddit": check_reddit,
}
