"""What the platform modules share: URL splitting, attribute reading and building a Post.

Every platform module (``bluesky``, ``mastodon``, ...) has a ``parse_url`` that takes the
:class:`UrlParts` made here once per URL, so the host is lower-cased, the port and a
``www.``-like prefix dropped and a Wayback Machine wrapper removed only once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

from scraper.model import Post
from scraper.parse.dates import is_date_mismatch, parse_datetime_iso, parse_shown_date
from scraper.parse.entities import extract_entities
from scraper.parse.html import Element, PageContext
from scraper.parse.text import TextPost
from scraper.parse.tree import text_content
from scraper.parse.urls import StatusRef

__all__ = [
    "CONSENT_RE",
    "LINK_KIND",
    "MAX_PLACEHOLDER_CHARS",
    "SERVICE_ATTRIBUTES",
    "EmbedDetector",
    "PlatformUrls",
    "TagGuards",
    "UrlParts",
    "attr",
    "classes",
    "element_signs",
    "embed_sources",
    "make_post",
    "millis_to_iso",
    "read_shown_date",
    "split_url",
    "time_element_date",
]

#: Element names a detector wants, each with the class words one of which must be there.
TagGuards = Mapping[str, tuple[str, ...]]
#: ``Post.kind`` of a post that the article only links to (a citation, not an embed).
LINK_KIND = "link"
#: What the class, id or ``data-*`` names of a consent or click-to-load placeholder hold.
CONSENT_RE = re.compile(
    r"consent|borlabs|brlbs|didomi|usercentrics|cookiebot|gdpr|privacy|click-to-load"
    r"|two-click|2-click|embed-placeholder|content-blocker"
)
#: Data attributes whose value names the embedded service.
SERVICE_ATTRIBUTES = (
    "data-embed-type", "data-provider", "data-platform", "data-type", "data-service",
    "data-network", "data-embed", "data-source", "data-consent", "data-embed-provider",
)  # fmt: skip
#: A placeholder with more text than this is an article section, not a consent box.
MAX_PLACEHOLDER_CHARS = 1500
# Subdomains that show the same content as the bare host.
_SAME_SITE_PREFIXES = ("www.", "m.", "mobile.", "web.", "old.", "new.", "np.", "music.")
_WAYBACK_RE = re.compile(
    r"(?:(?:https?:)?//)?web\.archive\.org/web/\d{1,14}[a-z_]{0,4}/(?P<url>.+)", re.IGNORECASE
)
_SCHEME_RE = re.compile(r"(?:https?:)?//", re.IGNORECASE)
# Attributes that lazy loaders use instead of src (data-src, data-lazy-src, data-artsrc...;
# consent tools' data-cookieblock-src, data-uc-src...).
_SOURCE_SUFFIX = "src"
# Consent tools that park an iframe's URL in an attribute of another shape (the iframe's
# src is about:blank or a placeholder video until the reader agrees): Borlabs Cookie,
# Complianz, Real Cookie Banner.
_PARKED_SOURCES = frozenset(
    {"src-consent", "data-src-cmplz", "consent-original-src", "consent-original-src-_",
     "consent-click-original-src-_"}
)  # fmt: skip
_MAX_URL_CHARS = 4096
# A display name in a byline is at most this long; longer text is prose, not a name.
MAX_NAME_CHARS = 100


@dataclass(frozen=True, slots=True)
class UrlParts:
    """A URL split once: ``host`` lower-case without port or ``www.``; path and query raw.

    ``full_host`` keeps the ``www.``-like prefix, for platforms (Mastodon) whose every
    host is a different server.
    """

    host: str
    path: str
    query: str
    full_host: str

    def param(self, name: str) -> str | None:
        """The first value of the query parameter ``name`` (percent-decoded), if any."""
        if name + "=" not in self.query:
            return None
        values = parse_qs(self.query).get(name)
        return values[0] if values else None

    def segments(self) -> list[str]:
        """The non-empty path segments, percent-decoded."""
        return [unquote(s) for s in self.path.split("/") if s]


def no_time(post_id: str) -> str | None:
    """For platforms whose post ids carry no time."""
    return None


@dataclass(frozen=True, slots=True)
class PlatformUrls:
    """How one platform's post URLs read: its hosts, the parser and the canonical forms.

    ``parse`` recognises a post (or embed) URL on one of ``hosts``; ``post_url`` gives
    the canonical URL from a bare post id (``None`` when the id alone cannot make one);
    ``posted_at`` the moment the id encodes, as ISO, when it encodes one.
    """

    platform: str
    hosts: frozenset[str]
    parse: Callable[[UrlParts], StatusRef | None]
    post_url: Callable[[str], str | None]
    posted_at: Callable[[str], str | None] = no_time


class EmbedDetector:
    """The base of the platform detectors: no plain-text quotes.

    ``tags`` maps the element names the detector wants to see to the class words one of
    which the element's (lower-cased) class must hold, ``()`` for no class test. The
    dispatcher in :mod:`scraper.parse.platforms` offers the detector nothing else: the
    cheap guard runs once per element for all platforms.
    """

    platform: str = ""
    tags: ClassVar[TagGuards] = {}
    markers: tuple[str, ...] = ()
    quote_markers: tuple[str, ...] = ()

    def detect(self, element: Element, page: PageContext) -> Post | None:
        """The post ``element`` embeds, else ``None``."""
        raise NotImplementedError

    def quoted_posts(self, text: str, links: Sequence[tuple[str, int]]) -> list[TextPost]:
        """Only tweets are quoted as plain text with a recognisable signature."""
        return []


def split_url(url: str) -> UrlParts | None:
    """``url`` (absolute, or without a scheme) as :class:`UrlParts`; ``None`` when it has no host.

    A Wayback Machine copy (``web.archive.org/web/TIMESTAMP/URL``) stands for the URL it
    archived. A scheme-less ``example.com/path`` is read as ``https://example.com/path``.
    """
    text = url.strip()
    if not text or len(text) > _MAX_URL_CHARS:
        return None
    if "web.archive.org/" in text:
        wayback = _WAYBACK_RE.fullmatch(text)
        if wayback is not None:
            text = wayback["url"].strip()
    if not _SCHEME_RE.match(text):
        text = "//" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return None
    if not host:
        return None
    full_host = host = host.rstrip(".")
    for prefix in _SAME_SITE_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    return UrlParts(host, parts.path, parts.query, full_host)


def classes(element: Element) -> str:
    """The element's class attribute, lower-cased (a substring test is the cheap guard)."""
    return str(element.get("class") or "").lower()


def attr(element: Element, name: str) -> str | None:
    """An attribute's value without surrounding space; ``None`` when missing or empty."""
    value = element.get(name)
    if not value:
        return None
    return str(value).strip() or None


def element_signs(element: Element) -> str:
    """The element's class, id and ``data-*`` names and service values, lower-cased."""
    parts = [attr(element, "class") or "", attr(element, "id") or ""]
    for name, value in element.attrib.items():
        if name.startswith("data-"):
            parts.append(name)
            if name in SERVICE_ATTRIBUTES:
                parts.append(value[:60])
    return " ".join(parts).lower()


def embed_sources(element: Element) -> Iterator[str]:
    """The URLs an iframe-like element loads: ``src``, lazy loaders' ``data-*src`` and
    what consent tools park until the reader agrees."""
    for name, value in element.attrib.items():
        if (name.endswith(_SOURCE_SUFFIX) or name in _PARKED_SOURCES) and value and "//" in value:
            yield str(value).strip()


def millis_to_iso(millis: int, *, earliest: datetime) -> str | None:
    """Unix milliseconds as an ISO timestamp, or ``None`` before ``earliest`` or after 2100.

    Ids that encode a time are only trusted within the platform's lifetime: a smaller
    number is an older, sequential id and carries no time.
    """
    try:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
    except OverflowError:
        return None
    if moment < earliest or moment.year >= 2100:
        return None
    return moment.isoformat(timespec="milliseconds")


# A byline's word before its date: "on", "am", "le", "el", "em", "op", "på" (short, lower).
_LEADING_WORD_RE = re.compile(r"[^\W\d_A-Z]{1,4}\s+")
_TRAILING_ZONE_RE = re.compile(r"\s+[A-Z]{2,5}$")


def read_shown_date(text: str | None, lang: str | None) -> tuple[str | None, str | None]:
    """``(ISO date, date as shown)`` from a byline's date part, in any language.

    Bylines put a short word before the date ("on", "am", "le") and sometimes a time
    zone after it ("at 9:24am PDT"): up to two such words are dropped from the shown
    date, and the zone is tried away when the date does not read with it.
    """
    if not text:
        return None, None
    shown = " ".join(text.split())
    for _ in range(2):
        match = _LEADING_WORD_RE.match(shown)
        if match is None or match.end() == len(shown):
            break
        shown = shown[match.end() :]
    for attempt in (shown, _TRAILING_ZONE_RE.sub("", shown)):
        date = parse_shown_date(attempt, lang)
        if date is not None:
            return date, shown
    return None, shown


def make_post(
    platform: str,
    kind: str,
    *,
    post_id: str | None,
    url: str | None,
    posted_at: str | None = None,
    handle: str | None = None,
    display_name: str | None = None,
    date: str | None = None,
    date_text: str | None = None,
    text: str | None = None,
    lang: str | None = None,
) -> Post:
    """A :class:`Post` with entities, and ``date_mismatch`` when the id gives a time."""
    moment = None
    if posted_at:
        try:
            moment = datetime.fromisoformat(posted_at)
        except ValueError:
            moment = None
    text = text.strip() if text else None
    return Post(
        platform=platform,
        kind=kind,
        post_id=post_id,
        handle=handle or None,
        display_name=" ".join(display_name.split()) if display_name else None,
        date=date,
        date_text=date_text,
        posted_at=posted_at,
        date_mismatch=is_date_mismatch(date, moment),
        text=text or None,
        lang=lang,
        url=url,
        entities=extract_entities(text) if text else [],
    )


def time_element_date(element: Element, lang: str | None) -> tuple[str | None, str | None]:
    """``(ISO date, date as shown)`` of the first ``<time>`` under ``element``.

    The shown text is read first (it is the date the reader saw); the ``datetime``
    attribute, a UTC moment, fills in when the text is unreadable.
    """
    time = next(element.iter("time"), None)
    if time is None:
        return None, None
    shown = " ".join(text_content(time).split()) or None
    date = read_shown_date(shown, lang)[0] if shown else None
    if date is None:
        machine = attr(time, "datetime")
        parsed = parse_datetime_iso(machine) if machine else None
        date = parsed[:10] if parsed else None
    return date, shown
