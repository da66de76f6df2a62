"""Threads posts: ``blockquote.text-post-media`` and threads.net / threads.com links.

The embed code is ``<blockquote class="text-post-media" data-text-post-permalink=
"https://www.threads.net/@user/post/CODE">`` around a link with boilerplate ("Post by
@user", "View on Threads"): the handle comes from the permalink and there is no text.
Threads moved from threads.net to threads.com in 2025; both, and the early ``/t/CODE``
form, give ``threads:CODE`` at ``https://www.threads.com/@user/post/CODE``.
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

__all__ = ["URLS", "ThreadsDetector", "parse_url", "post_url"]

PLATFORM = "threads"
_CODE_RE = re.compile(r"[A-Za-z0-9_-]{5,64}")
_USER_RE = re.compile(r"@(?P<user>[A-Za-z0-9._]{1,30})")


def post_url(post_id: str) -> str | None:
    """``https://www.threads.com/t/CODE`` (the form without a user), else ``None``."""
    return f"https://www.threads.com/t/{post_id}" if _CODE_RE.fullmatch(post_id) else None


def parse_url(parts: UrlParts) -> StatusRef | None:
    """``/@user/post/CODE`` (also ``/embed``, ``/media``) and ``/t/CODE``."""
    segments = parts.segments()
    if len(segments) >= 2 and segments[0] == "t" and _CODE_RE.fullmatch(segments[1]):
        return StatusRef(PLATFORM, None, segments[1], f"https://www.threads.com/t/{segments[1]}")
    if len(segments) < 3 or segments[1] != "post" or not _CODE_RE.fullmatch(segments[2]):
        return None
    user = _USER_RE.fullmatch(segments[0])
    if user is None:
        return None
    code = segments[2]
    return StatusRef(
        PLATFORM, user["user"], code, f"https://www.threads.com/@{user['user']}/post/{code}"
    )


URLS = PlatformUrls(PLATFORM, frozenset({"threads.net", "threads.com"}), parse_url, post_url)


class ThreadsDetector(EmbedDetector):
    """``blockquote.text-post-media`` (iframes go through the shared frame detector)."""

    platform = PLATFORM
    tags: ClassVar[TagGuards] = {"blockquote": ("text-post-media",)}
    markers = ("text-post-media",)

    def detect(self, element: Element, page: PageContext) -> Post | None:
        """The Threads post ``element`` embeds, or ``None``."""
        if "text-post-media" not in classes(element):
            return None
        candidates = [attr(element, "data-text-post-permalink")]
        candidates += [a.get("href") for a in element.iter("a")]
        for candidate in candidates:
            parts = split_url(candidate) if candidate and "threads" in candidate else None
            ref = parse_url(parts) if parts is not None and parts.host in URLS.hosts else None
            if ref is not None:
                return make_post(
                    PLATFORM, "blockquote", post_id=ref.post_id, url=ref.url, handle=ref.handle
                )
        return None
