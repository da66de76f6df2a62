"""Post URLs of every platform: one entry point, :func:`parse_post_url`.

It runs for every link of every page, so it is cheap for the common case (a link to no
platform): one regular expression finds the host, a dictionary names the platform, and
only then is the URL split and the platform's parser run. Twitter/X keeps its own parser
(:func:`scraper.parse.urls.parse_status_url`, every alternative front-end included).
Mastodon has no host of its own: a ``/@user/ID`` or ``/users/user/statuses/ID`` path on
any host no platform claims is read as a Mastodon status.

Each platform's ``parse_url`` accepts its embed URLs too (``youtube.com/embed/ID``,
``instagram.com/p/CODE/embed``...), so the frame detector and link recognition share one
parser per platform and an embed and a link to the same post give the same key.
"""

from __future__ import annotations

import re

from scraper.model import Post
from scraper.parse.platforms import (
    bluesky,
    facebook,
    instagram,
    linkedin,
    mastodon,
    reddit,
    threads,
    tiktok,
    youtube,
)
from scraper.parse.platforms.common import LINK_KIND, PlatformUrls, make_post, split_url
from scraper.parse.urls import StatusRef, parse_status_url, posted_at_iso

__all__ = [
    "PLATFORM_URLS",
    "canonical_post_url",
    "link_post",
    "parse_post_url",
    "post_alias",
    "posted_at_for",
]

#: The URL rules of every platform but Twitter, by platform name.
PLATFORM_URLS: dict[str, PlatformUrls] = {
    urls.platform: urls
    for urls in (
        bluesky.URLS,
        mastodon.URLS,
        instagram.URLS,
        threads.URLS,
        tiktok.URLS,
        facebook.URLS,
        youtube.URLS,
        reddit.URLS,
        linkedin.URLS,
    )
}
_BY_HOST: dict[str, PlatformUrls] = {
    host: urls for urls in PLATFORM_URLS.values() for host in urls.hosts
}
# The host of an absolute (or protocol-relative) URL, before any path, query or port.
_HOST_RE = re.compile(
    r"\s*(?:(?:https?:)?//(?:[^/?#@\s]*@)?)?([A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+)(?=[/?#:]|\s*$)",
    re.IGNORECASE,
)
_MASTODON_PATH_MARKERS = ("/@", "/users/")


def _platform_for(host: str) -> PlatformUrls | None:
    """The platform of a host or of its parent domain (``de-de.facebook.com``)."""
    host = host.lower().rstrip(".")
    found = _BY_HOST.get(host)
    if found is None and host.count(".") >= 2:
        found = _BY_HOST.get(host.split(".", 1)[1])
    if found is None and host.startswith("www."):
        found = _BY_HOST.get(host[4:])
    return found


def parse_post_url(url: str) -> StatusRef | None:
    """The post a URL names on any supported platform, in its canonical form; else ``None``.

    Twitter/X (every form :func:`~scraper.parse.urls.parse_status_url` reads), Bluesky,
    Mastodon, Instagram, Threads, TikTok, Facebook, YouTube, Reddit and LinkedIn, their
    embed URLs included. Like ``parse_status_url`` it accepts a missing scheme
    (``bsky.app/profile/...``): callers that read hrefs must not pass relative ones.
    """
    match = _HOST_RE.match(url)
    if match is None:
        return None
    if "/status" in url:
        ref = parse_status_url(url)
        if ref is not None:
            return ref
    host = match[1].lower()
    parts = None
    if host == "web.archive.org":
        parts = split_url(url)  # the archived URL, out of its wrapper
        if parts is None:
            return None
        host = parts.full_host
    platform = _platform_for(host)
    if platform is None:
        if not any(marker in url for marker in _MASTODON_PATH_MARKERS):
            return None
        platform = mastodon.URLS
    parts = parts or split_url(url)
    return platform.parse(parts) if parts is not None else None


def posted_at_for(platform: str, post_id: str | None) -> str | None:
    """The ISO moment a post id encodes on its platform (Twitter snowflakes, TIDs...)."""
    if not post_id:
        return None
    if platform == "twitter":
        return posted_at_iso(post_id)
    urls = PLATFORM_URLS.get(platform)
    return urls.posted_at(post_id) if urls else None


def canonical_post_url(platform: str, post_id: str) -> str | None:
    """A post's public URL from its platform and bare id alone, where one exists."""
    if platform == "twitter":
        return f"https://twitter.com/i/web/status/{post_id}" if post_id.isdigit() else None
    urls = PLATFORM_URLS.get(platform)
    return urls.post_url(post_id) if urls else None


def link_post(ref: StatusRef) -> Post:
    """The post a link in the article's text cites (``kind`` ``link``): id, handle, URL."""
    return make_post(
        ref.platform,
        LINK_KIND,
        post_id=ref.post_id,
        url=ref.url,
        handle=ref.handle,
        posted_at=posted_at_for(ref.platform, ref.post_id),
    )


def post_alias(post: Post) -> str | None:
    """A second key for a post: platform, handle and the last part of its id.

    It joins a post linked by its handle (``bsky.app/profile/name.bsky.social/post/RKEY``)
    to the same post embedded by its DID on the same page, when the embed shows the handle.
    """
    if not post.post_id or not post.handle:
        return None
    tail = post.post_id.rsplit("/", 1)[-1]
    return f"{post.platform}\x1f{post.handle.casefold()}\x1f{tail}"
