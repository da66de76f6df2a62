"""YouTube videos: their URLs and the embed forms other than iframes.

Iframes (``youtube.com/embed/ID``, ``youtube-nocookie.com/embed/ID``, lazy ``data-src``)
are read by the shared frame detector through :func:`parse_url`; this module adds
``<amp-youtube data-videoid>``, ``<lite-youtube videoid>`` and Embetty's ``<embetty-video
type="youtube" video-id>`` (facades that load the player on a click: kind ``lite``) and
lazy-loader placeholders (``div.rll-youtube-player[data-id]`` and the like). Playlists and
live-stream channel embeds name no video and are not posts. A video is ``youtube:ID`` at
``https://www.youtube.com/watch?v=ID``; its id carries no time.
"""

from __future__ import annotations

import re
from typing import ClassVar

from scraper.model import Post
from scraper.parse.html import Element, PageContext
from scraper.parse.platforms.common import (
    EmbedDetector,
    PlatformUrls,
    TagGuards,
    UrlParts,
    attr,
    classes,
    make_post,
    split_url,
)
from scraper.parse.urls import StatusRef

__all__ = ["URLS", "YouTubeDetector", "parse_url", "post_url"]

PLATFORM = "youtube"
_ID_RE = re.compile(r"[A-Za-z0-9_-]{11}")
# Eleven-character path words that are not video ids.
_NOT_IDS = frozenset({"videoseries", "live_stream"})
_PATH_PREFIXES = frozenset({"embed", "v", "e", "shorts", "live"})
# Attributes of lazy-loading placeholders that hold the id or the embed URL.
_PLACEHOLDER_ID_ATTRIBUTES = ("data-id", "data-video-id", "data-videoid", "data-youtube-id")
_PLACEHOLDER_URL_ATTRIBUTES = ("data-src", "data-embed", "data-url")


def _video_id(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = raw.strip()
    return text if _ID_RE.fullmatch(text) and text not in _NOT_IDS else None


def post_url(post_id: str) -> str | None:
    """``https://www.youtube.com/watch?v=ID`` for a video id, else ``None``."""
    video = _video_id(post_id)
    return f"https://www.youtube.com/watch?v={video}" if video else None


def _ref(video: str | None) -> StatusRef | None:
    url = post_url(video) if video else None
    return StatusRef(PLATFORM, None, video, url) if video and url else None


def parse_url(parts: UrlParts) -> StatusRef | None:
    """A video URL: ``watch?v=``, ``youtu.be/ID``, ``/embed/``, ``/shorts/``, ``/live/``, ``/v/``.

    Playlists (``embed/videoseries``), live-stream channel embeds and channels are not.
    """
    if parts.host == "youtu.be":
        segments = parts.segments()
        return _ref(_video_id(segments[0])) if segments else None
    segments = parts.segments()
    if not segments:
        return None
    if segments[0] == "watch":
        if len(segments) == 2:  # /watch/ID, a form the mobile site used
            return _ref(_video_id(segments[1]))
        return _ref(_video_id(parts.param("v")))
    if segments[0] in _PATH_PREFIXES and len(segments) >= 2:
        return _ref(_video_id(segments[1]))
    return None


URLS = PlatformUrls(
    PLATFORM,
    frozenset({"youtube.com", "youtu.be", "youtube-nocookie.com"}),
    parse_url,
    post_url,
)


def _placeholder_id(element: Element) -> str | None:
    """The video a lazy-loading placeholder stands for (its id, or its embed URL's)."""
    for name in _PLACEHOLDER_ID_ATTRIBUTES:
        video = _video_id(attr(element, name))
        if video:
            return video
    for name in _PLACEHOLDER_URL_ATTRIBUTES:
        value = attr(element, name)
        parts = split_url(value) if value and "//" in value else None
        ref = parse_url(parts) if parts is not None and parts.host in URLS.hosts else None
        if ref is not None:
            return ref.post_id
    return None


class YouTubeDetector(EmbedDetector):
    """``amp-youtube``, ``lite-youtube``, ``embetty-video`` and lazy-loader placeholders of
    YouTube videos."""

    platform = PLATFORM
    tags: ClassVar[TagGuards] = {
        "amp-youtube": (),
        "lite-youtube": (),
        "embetty-video": (),
        "div": ("youtube",),
        "span": ("youtube",),
        "figure": ("youtube",),
    }
    markers = ()  # escaped iframes: the frame reader's markers

    def detect(self, element: Element, page: PageContext) -> Post | None:
        """The video ``element`` embeds, or ``None``."""
        tag = element.tag
        if tag == "amp-youtube":
            video, kind = _video_id(attr(element, "data-videoid")), "amp"
        elif tag == "lite-youtube":
            video, kind = _video_id(attr(element, "videoid")), "lite"
        elif tag == "embetty-video":
            if (attr(element, "type") or "").lower() != PLATFORM:
                return None  # Embetty's Vimeo and Facebook videos
            video, kind = _video_id(attr(element, "video-id")), "lite"
        elif "youtube" in classes(element):
            video, kind = _placeholder_id(element), "placeholder"
        else:
            return None
        if video is None:
            return None
        return make_post(PLATFORM, kind, post_id=video, url=post_url(video))
