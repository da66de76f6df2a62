"""LinkedIn posts: ``linkedin.com/embed/feed/update/urn:li:...`` iframes and post links.

LinkedIn's embed code is only an iframe, read by the shared frame detector through
:func:`parse_url`. Posts are named by URNs, ``urn:li:share:ID``, ``urn:li:ugcPost:ID`` or
``urn:li:activity:ID``; the URN is the id (key ``linkedin:urn:li:share:7123...``), at
``https://www.linkedin.com/feed/update/URN/``. A post's share and activity URNs differ
and cannot be matched offline. Links of the form ``/posts/USER_slug-activity-ID-xxxx``
give the activity URN and the author's vanity name as handle. ``id >> 22`` is Unix
milliseconds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from scraper.parse.platforms.common import PlatformUrls, UrlParts, millis_to_iso
from scraper.parse.urls import StatusRef

__all__ = ["URLS", "parse_url", "post_url", "posted_at"]

PLATFORM = "linkedin"
_URN_RE = re.compile(r"urn:li:(?P<type>share|ugcPost|activity):(?P<id>\d{6,25})", re.IGNORECASE)
_POSTS_SLUG_RE = re.compile(
    r"(?P<user>[A-Za-z0-9%-]{1,100})_.{0,300}-(?P<type>activity|ugcPost|share)-(?P<id>\d{6,25})(?:-[A-Za-z0-9]{1,8})?",
    re.IGNORECASE | re.DOTALL,
)
_TYPES = {"share": "share", "ugcpost": "ugcPost", "activity": "activity"}
_LINKEDIN_START = datetime(2003, 5, 1, tzinfo=UTC)


def _urn(kind: str, number: str) -> str:
    return f"urn:li:{_TYPES[kind.lower()]}:{number}"


def post_url(post_id: str) -> str | None:
    """``https://www.linkedin.com/feed/update/URN/`` for a post URN, else ``None``."""
    match = _URN_RE.fullmatch(post_id)
    if match is None:
        return None
    return f"https://www.linkedin.com/feed/update/{_urn(match['type'], match['id'])}/"


def posted_at(post_id: str) -> str | None:
    """The moment the URN's number encodes (``id >> 22`` is Unix milliseconds), as ISO."""
    match = _URN_RE.fullmatch(post_id)
    if match is None:
        return None
    return millis_to_iso(int(match["id"]) >> 22, earliest=_LINKEDIN_START)


def parse_url(parts: UrlParts) -> StatusRef | None:
    """``/feed/update/URN``, ``/embed/feed/update/URN`` and ``/posts/USER_slug-activity-ID``."""
    segments = parts.segments()
    if segments and segments[0] == "embed":
        segments = segments[1:]
    if len(segments) >= 3 and segments[:2] == ["feed", "update"]:
        match = _URN_RE.fullmatch(segments[2])
        if match is None:
            return None
        urn = _urn(match["type"], match["id"])
        return StatusRef(PLATFORM, None, urn, f"https://www.linkedin.com/feed/update/{urn}/")
    if len(segments) >= 2 and segments[0] == "posts":
        slug = _POSTS_SLUG_RE.fullmatch(segments[1])
        if slug is None:
            return None
        urn = _urn(slug["type"], slug["id"])
        return StatusRef(
            PLATFORM, slug["user"], urn, f"https://www.linkedin.com/feed/update/{urn}/"
        )
    return None


URLS = PlatformUrls(PLATFORM, frozenset({"linkedin.com"}), parse_url, post_url, posted_at)
