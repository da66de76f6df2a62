"""Mastodon posts: ``blockquote.mastodon-embed``, ``/@user/ID/embed`` iframes and post links.

Mastodon is many servers, so its URLs are recognised by their path on any host not
claimed by another platform: ``https://INSTANCE/@user/ID`` (``/embed`` for the iframe the
older embed code gives, with or without ``class="mastodon-embed"``), a remote account's
``/@user@other.server/ID``, ``/users/user/statuses/ID`` and the web UI's ``/web/@user/ID``.
Mastodon 4.3's embed code is ``<blockquote class="mastodon-embed" data-embed-url=
"https://INSTANCE/@user/ID/embed">`` holding a link to the post and boilerplate text.

A status id is unique on its server only (the same post has another id on every server
that shows it), so the id is ``INSTANCE/ID`` (key ``mastodon:mastodon.social/1133...``)
and the handle ``user@instance``. Ids are snowflakes: ``id >> 16`` is Unix milliseconds.
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

__all__ = ["URLS", "MastodonDetector", "parse_url", "post_url", "posted_at"]

PLATFORM = "mastodon"
_USER_RE = re.compile(r"@?(?P<user>[A-Za-z0-9_]{1,30})(?:@(?P<domain>[A-Za-z0-9.-]{1,253}))?")
_ID_RE = re.compile(r"\d{1,20}")
_TAILS = frozenset({"embed", "activity"})
# Snowflake ids arrived with Mastodon 2.0 (2017); older ids were sequential.
_SNOWFLAKE_START = datetime(2016, 3, 1, tzinfo=UTC)


def _ref(host: str, user_part: str, status: str) -> StatusRef | None:
    user = _USER_RE.fullmatch(user_part)
    if user is None or not _ID_RE.fullmatch(status) or not status.lstrip("0"):
        return None
    status = status.lstrip("0")
    domain = (user["domain"] or host).lower()
    shown = user["user"] if user["domain"] is None else f"{user['user']}@{user['domain']}"
    return StatusRef(
        PLATFORM,
        f"{user['user']}@{domain}",
        f"{host}/{status}",
        f"https://{host}/@{shown}/{status}",
    )


def parse_url(parts: UrlParts) -> StatusRef | None:
    """A status URL on any server: ``/@user/ID``, ``/users/user/statuses/ID``, ``/web/@user/ID``."""
    segments = parts.segments()
    if segments and segments[0] == "web":
        segments = segments[1:]
    if len(segments) > 2 and segments[-1] in _TAILS:
        segments = segments[:-1]
    host = parts.full_host
    if len(segments) == 2 and segments[0].startswith("@"):
        return _ref(host, segments[0], segments[1])
    if len(segments) == 4 and segments[0] == "users" and segments[2] == "statuses":
        return _ref(host, segments[1], segments[3])
    return None


def post_url(post_id: str) -> str | None:
    """Mastodon shows a status only under its author's name: an id alone makes no URL."""
    return None


def posted_at(post_id: str) -> str | None:
    """The moment a snowflake status id encodes (``id >> 16`` ms), as ISO."""
    status = post_id.rsplit("/", 1)[-1]
    if not _ID_RE.fullmatch(status):
        return None
    return millis_to_iso(int(status) >> 16, earliest=_SNOWFLAKE_START)


#: No hosts: Mastodon URLs are recognised by their path on hosts no platform claims.
URLS = PlatformUrls(PLATFORM, frozenset(), parse_url, post_url, posted_at)


def _status_ref(element: Element) -> StatusRef | None:
    """The status a Mastodon blockquote embeds: ``data-embed-url``, else its first post link."""
    candidates = [attr(element, "data-embed-url")]
    candidates += [a.get("href") for a in element.iter("a")]
    for candidate in candidates:
        parts = split_url(candidate) if candidate and "/@" in candidate else None
        ref = parse_url(parts) if parts is not None else None
        if ref is not None:
            return ref
    return None


class MastodonDetector(EmbedDetector):
    """``blockquote.mastodon-embed`` (iframes go through the shared frame detector)."""

    platform = PLATFORM
    tags: ClassVar[TagGuards] = {"blockquote": ("mastodon-embed",)}
    markers = ("mastodon-embed",)

    def detect(self, element: Element, page: PageContext) -> Post | None:
        """The Mastodon post ``element`` embeds, or ``None``."""
        if "mastodon-embed" not in classes(element):
            return None
        ref = _status_ref(element)
        if ref is None:
            return None
        # The embed code shows only "Post by @user@server / View on Mastodon"; a CMS
        # that kept the post's own text puts it in paragraphs.
        paragraphs = [element_text(p)[0] for p in element.iter("p")]
        text = "\n".join(p for p in paragraphs if p.strip())
        return make_post(
            PLATFORM,
            "blockquote",
            post_id=ref.post_id,
            url=ref.url,
            posted_at=posted_at(ref.post_id),
            handle=ref.handle,
            text=text,
        )
