"""Bluesky posts: ``blockquote.bluesky-embed``, ``embed.bsky.app`` iframes and bsky.app links.

The embed code Bluesky gives is::

    <blockquote class="bluesky-embed" data-bluesky-uri="at://did:plc:.../app.bsky.feed.post/RKEY"
      data-bluesky-cid="..."><p lang="en">text</p>&mdash; Name (<a href=".../profile/DID">
      @handle.bsky.social</a>) <a href=".../profile/DID/post/RKEY">May 17, 2025 at 6:54 AM</a>
    </blockquote>

A post's id is its AT URI, ``at://AUTHORITY/app.bsky.feed.post/RKEY``, which is also the
post's key (``bluesky:at://...``). The authority is the account's DID when it is known
(the embed's ``data-bluesky-uri``, did-based links): DIDs never change. A link written
with the handle (``bsky.app/profile/name.bsky.social/post/RKEY``) gives a handle-based
URI instead: handle and DID cannot be matched without asking the network, so the same
post linked both ways is two rows, except on one page where an embed shows both (then
:func:`scraper.parse.post_urls.post_alias` joins them). The record key of a post is a
TID: its top 53 bits are the microseconds since 1970, which gives ``posted_at``.
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
    read_shown_date,
    split_url,
)
from scraper.parse.text import embed_signature
from scraper.parse.tree import text_content
from scraper.parse.urls import StatusRef

__all__ = ["URLS", "BlueskyDetector", "parse_at_uri", "parse_url", "post_url", "posted_at"]

PLATFORM = "bluesky"
_COLLECTION = "app.bsky.feed.post"
_DID_RE = re.compile(r"did:(?:plc:[a-z2-7]{24}|web:[a-z0-9.-]{1,253})")
_HANDLE_RE = re.compile(
    r"(?=.{3,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}"
)
_RKEY_RE = re.compile(r"[A-Za-z0-9._~:-]{1,512}")
_TID_RE = re.compile(r"[2-7a-j][2-7a-z]{12}")
_TID_ALPHABET = {c: i for i, c in enumerate("234567abcdefghijklmnopqrstuvwxyz")}
_AT_URI_RE = re.compile(
    r"at://(?P<authority>[^/\s]{1,253})/app\.bsky\.feed\.post/(?P<rkey>[^/?#\s]+)"
)
# The signature: "(@handle)" (a domain name) at the end of the embed's text.
_SIGNATURE_HANDLE_RE = re.compile(r"\(\s*@(?P<handle>[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63})\s*\)")
_DASH_RE = re.compile(r"—|―|–|--")
_MAX_NAME_CHARS = 100
# Posts before Bluesky opened: a record key that decodes earlier is not a real TID.
_BLUESKY_START = datetime(2022, 1, 1, tzinfo=UTC)


def _authority(raw: str) -> str | None:
    """A DID or a handle, normalised (handles are case-insensitive); else ``None``."""
    text = raw.strip()
    if _DID_RE.fullmatch(text):
        return text
    lowered = text.lower().lstrip("@")
    return lowered if _HANDLE_RE.fullmatch(lowered) else None


def _ref(authority: str, rkey: str) -> StatusRef | None:
    if not _RKEY_RE.fullmatch(rkey) or rkey in (".", ".."):
        return None
    handle = None if authority.startswith("did:") else authority
    post_id = f"at://{authority}/{_COLLECTION}/{rkey}"
    return StatusRef(PLATFORM, handle, post_id, f"https://bsky.app/profile/{authority}/post/{rkey}")


def parse_at_uri(uri: str) -> StatusRef | None:
    """A post's AT URI (``at://did:plc:.../app.bsky.feed.post/RKEY``), else ``None``."""
    match = _AT_URI_RE.fullmatch(uri.strip())
    if match is None:
        return None
    authority = _authority(match["authority"])
    return _ref(authority, match["rkey"]) if authority else None


def post_url(post_id: str) -> str | None:
    """The ``bsky.app`` URL of a post id (its AT URI), else ``None``."""
    ref = parse_at_uri(post_id)
    return ref.url if ref else None


def posted_at(post_id: str) -> str | None:
    """The moment a TID record key encodes (microseconds in its top 53 bits), as ISO."""
    rkey = post_id.rsplit("/", 1)[-1]
    if not _TID_RE.fullmatch(rkey):
        return None
    value = 0
    for char in rkey:
        value = value * 32 + _TID_ALPHABET[char]
    return millis_to_iso((value >> 10) // 1000, earliest=_BLUESKY_START)


def parse_url(parts: UrlParts) -> StatusRef | None:
    """``bsky.app/profile/{handle or DID}/post/{rkey}`` and ``embed.bsky.app/embed/DID/...``."""
    segments = parts.segments()
    if parts.host == "embed.bsky.app":
        if len(segments) >= 4 and segments[0] == "embed" and segments[2] == _COLLECTION:
            authority = _authority(segments[1])
            return _ref(authority, segments[3]) if authority else None
        return None
    if len(segments) >= 4 and segments[0] == "profile" and segments[2] == "post":
        authority = _authority(segments[1])
        return _ref(authority, segments[3]) if authority else None
    return None


URLS = PlatformUrls(
    PLATFORM,
    frozenset({"bsky.app", "embed.bsky.app", "staging.bsky.app"}),
    parse_url,
    post_url,
    posted_at,
)


def _signature(text: str) -> tuple[int, re.Match[str]] | None:
    """Where the ``— Name (@handle)`` signature starts, and its handle match."""
    found = embed_signature(text, _SIGNATURE_HANDLE_RE, _DASH_RE, _MAX_NAME_CHARS)
    if found is None:
        return None
    last, line_start, dash = found
    return (dash.start() if dash else line_start), last


def _parse_blockquote(element: Element, page: PageContext) -> Post | None:
    """Text, signature and date of an embed; its id from ``data-bluesky-uri`` or its links."""
    uri = attr(element, "data-bluesky-uri")
    ref = parse_at_uri(uri) if uri else None
    text, anchors = element_text(element)
    self_links: list[tuple[int, str]] = []  # links to the post itself: offset, text
    for anchor, at in anchors:
        href = anchor.get("href") or ""
        parts = split_url(href) if "bsky" in href else None
        found = parse_url(parts) if parts is not None else None
        if found is None or (ref is not None and _rkey(found) != _rkey(ref)):
            continue
        ref = ref or found
        self_links.append((at, " ".join(text_content(anchor).split())))
    if ref is None:
        return None
    signature = _signature(text)
    start = signature[0] if signature is not None else len(text)
    body, name, handle, date_text = text[:start], None, ref.handle, None
    if signature is not None:
        match = signature[1]
        name = text[start : match.start()].lstrip("—―–- ").strip() or None
        handle = match["handle"].lower()
        dated = [shown for at, shown in self_links if at >= start and shown]
        date_text = dated[-1] if dated else (text[match.end() :].strip() or None)
    for at, shown in reversed(self_links):  # "[image or embed]": a link, not text
        if at + len(shown) <= len(body):
            body = body[:at] + body[at + len(shown) :]
    date, date_shown = read_shown_date(date_text, page.lang)
    lang_holder = next(element.iterfind(".//*[@lang]"), None)
    return make_post(
        PLATFORM,
        "blockquote",
        post_id=ref.post_id,
        url=ref.url,
        posted_at=posted_at(ref.post_id),
        handle=handle,
        display_name=name,
        date=date,
        date_text=date_shown,
        text=body,
        lang=attr(lang_holder, "lang") if lang_holder is not None else None,
    )


def _rkey(ref: StatusRef) -> str:
    return ref.post_id.rsplit("/", 1)[-1]


class BlueskyDetector(EmbedDetector):
    """``blockquote.bluesky-embed`` (iframes go through the shared frame detector)."""

    platform = PLATFORM
    tags: ClassVar[TagGuards] = {"blockquote": ("bluesky-embed",)}
    markers = ("bluesky-embed",)

    def detect(self, element: Element, page: PageContext) -> Post | None:
        """The Bluesky post ``element`` embeds, or ``None``."""
        if "bluesky-embed" not in classes(element):
            return None
        return _parse_blockquote(element, page)
