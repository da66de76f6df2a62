"""TikTok videos: ``blockquote.tiktok-embed``, ``amp-tiktok``, embed iframes and links.

The embed code is ``<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@user/
video/ID" data-video-id="ID"><section><a href="https://www.tiktok.com/@user">@user</a>
<p>caption <a>#tag</a></p><a>♬ sound</a></section></blockquote>``. A creator embed
(``data-embed-type="creator"``, ``cite`` a profile, no video id) shows an account, not a
post. Iframes (``tiktok.com/embed/v2/ID``, ``/player/v1/ID``) go through the shared frame
detector. A video is ``tiktok:ID`` at ``https://www.tiktok.com/@user/video/ID`` (or
``https://www.tiktok.com/embed/v2/ID`` when the user is unknown); the id's top 32 bits
are the Unix seconds of the upload.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import ClassVar

from scraper.model import Post
from scraper.parse.html import Element, PageContext, element_text
from scraper.parse.platforms.common import (
    EmbedDetector,
    PlatformUrls,
    TagGuards,
    UrlParts,
    attr,
    classes,
    make_post,
    millis_to_iso,
    split_url,
)
from scraper.parse.urls import StatusRef

__all__ = ["URLS", "TikTokDetector", "parse_url", "post_url", "posted_at"]

PLATFORM = "tiktok"
_ID_RE = re.compile(r"\d{8,21}")
_USER_RE = re.compile(r"@(?P<user>[A-Za-z0-9._]{1,40})")
_MOBILE_ID_RE = re.compile(r"(?P<id>\d{8,21})\.html")
_TIKTOK_START = datetime(2016, 9, 1, tzinfo=UTC)


def _url(video: str, user: str | None) -> str:
    if user:
        return f"https://www.tiktok.com/@{user}/video/{video}"
    return f"https://www.tiktok.com/embed/v2/{video}"


def post_url(post_id: str) -> str | None:
    """``https://www.tiktok.com/embed/v2/ID`` for a video id, else ``None``."""
    return _url(post_id, None) if _ID_RE.fullmatch(post_id) else None


def posted_at(post_id: str) -> str | None:
    """The upload time a video id encodes (its top 32 bits are Unix seconds), as ISO."""
    if not _ID_RE.fullmatch(post_id):
        return None
    return millis_to_iso((int(post_id) >> 32) * 1000, earliest=_TIKTOK_START)


def _ref(video: str, user: str | None) -> StatusRef | None:
    if not _ID_RE.fullmatch(video):
        return None
    return StatusRef(PLATFORM, user, video, _url(video, user))


def parse_url(parts: UrlParts) -> StatusRef | None:
    """A video URL: ``/@user/video/ID``, ``/@user/photo/ID``, ``/embed/v2/ID``,
    ``/player/v1/ID``, ``/v/ID.html``.

    ``/@/video/ID`` (no user) is accepted too.
    """
    segments = parts.segments()
    if len(segments) >= 3 and segments[1] in ("video", "photo"):
        user = _USER_RE.fullmatch(segments[0])
        if user is not None or segments[0] == "@":
            return _ref(segments[2], user["user"] if user else None)
        return None
    if len(segments) >= 2 and segments[0] == "embed":
        video = segments[2] if segments[1] == "v2" and len(segments) >= 3 else segments[1]
        return _ref(video, None)
    if len(segments) >= 3 and segments[:2] == ["player", "v1"]:
        return _ref(segments[2], None)
    if len(segments) == 2 and segments[0] == "v":
        mobile = _MOBILE_ID_RE.fullmatch(segments[1])
        return _ref(mobile["id"], None) if mobile else None
    return None


URLS = PlatformUrls(PLATFORM, frozenset({"tiktok.com"}), parse_url, post_url, posted_at)


def _cite_ref(url: str | None) -> StatusRef | None:
    parts = split_url(url) if url and "tiktok" in url else None
    return parse_url(parts) if parts is not None and parts.host in URLS.hosts else None


def _handle(element: Element) -> str | None:
    """The ``@user`` that an embed's profile link shows."""
    for anchor in element.iter("a"):
        href = anchor.get("href") or ""
        parts = split_url(href) if "tiktok" in href else None
        segments = parts.segments() if parts is not None else []
        if len(segments) == 1 and (user := _USER_RE.fullmatch(segments[0])):
            return user["user"]
    return None


def _parse_blockquote(element: Element, page: PageContext) -> Post | None:
    if (attr(element, "data-embed-type") or "").lower() == "creator":
        return None
    ref = _cite_ref(attr(element, "cite"))
    video = attr(element, "data-video-id")
    if ref is None and video is not None:
        ref = _ref(video, None)
    if ref is None:
        return None  # a creator (profile) embed
    handle = ref.handle or _handle(element)
    caption = next(element.iter("p"), None)
    return make_post(
        PLATFORM,
        "blockquote",
        post_id=ref.post_id,
        url=_url(ref.post_id, handle),
        posted_at=posted_at(ref.post_id),
        handle=handle,
        text=element_text(caption)[0] if caption is not None else None,
    )


class TikTokDetector(EmbedDetector):
    """``blockquote.tiktok-embed`` and ``amp-tiktok`` (iframes: the frame detector)."""

    platform = PLATFORM
    tags: ClassVar[TagGuards] = {"blockquote": ("tiktok-embed",), "amp-tiktok": ()}
    markers = ("tiktok-embed",)

    def detect(self, element: Element, page: PageContext) -> Post | None:
        """The TikTok video ``element`` embeds, or ``None``."""
        if element.tag == "amp-tiktok":
            source = attr(element, "data-src") or ""
            ref = _cite_ref(source) or _ref(source, None)
            if ref is None:
                return None
            return make_post(
                PLATFORM,
                "amp",
                post_id=ref.post_id,
                url=ref.url,
                posted_at=posted_at(ref.post_id),
                handle=ref.handle,
            )
        if "tiktok-embed" not in classes(element):
            return None
        return _parse_blockquote(element, page)
