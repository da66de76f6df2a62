"""URL helpers for the parsers: status-URL recognition, tweet-id dates, safe absolute URLs.

Everything here is pure and cheap: :func:`parse_status_url` runs for every link of every
page, so it is one anchored regular expression, not a URL parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from w3lib.url import safe_url_string

__all__ = [
    "FIRST_SNOWFLAKE_ID",
    "TWITTER_EPOCH_MS",
    "StatusRef",
    "absolutize_url",
    "parse_status_url",
    "posted_at_iso",
    "snowflake_to_datetime",
    "url_host",
]

#: Milliseconds since the Unix epoch at Twitter's snowflake epoch (2010-11-04T01:42:54.657Z).
TWITTER_EPOCH_MS = 1288834974657
#: The last sequential (pre-snowflake) tweet id, as used by TweetedAt (oduwsdl/tweetedat).
#: Lower ids were handed out one by one and carry no timestamp; shifting them would give
#: dates seconds after the snowflake epoch, which are wrong.
FIRST_SNOWFLAKE_ID = 29_700_859_247
#: Snowflake ids are 63-bit (signed 64-bit) integers; anything larger is not a tweet id.
_MAX_SNOWFLAKE_ID = 2**63 - 1

# Hosts that serve a tweet at /{handle}/status/{id}. Mirrors and embed fixers (fxtwitter
# and friends) and Nitter instances all keep Twitter's path layout.
_TWITTER_HOSTS = (
    r"twitter\.com|x\.com|fxtwitter\.com|vxtwitter\.com|fixupx\.com|fixvx\.com|twittpr\.com"
)
# Nitter instances whose name does not start with "nitter.".
_NITTER_HOSTS = r"xcancel\.com|lightbrd\.com|twiiit\.com|bird\.trom\.tf"
_STATUS_RE = re.compile(
    r"""
    (?:(?:https?:)?(?://)?web\.archive\.org/web/\d{1,14}[a-z_]{0,4}/)?  # a Wayback copy
    (?:https?:)?(?://)?
    (?:(?:www|mobile|[a-z]{1,2})\.)?  # m., d. (fxtwitter), de., fr. (old language hosts)
    (?:"""
    + _TWITTER_HOSTS
    + "|"
    + _NITTER_HOSTS
    + r"""|nitter\.[a-z0-9.-]{1,100})
    (?::\d{1,5})?
    /(?:\#!/)?
    (?:
        i/(?:web/)?status/
      | statuses/
      | (?!(?:i|intent|search|hashtag|home|explore|share|settings|messages|notifications
            |compose|login|signup)/)
        (?P<handle>[A-Za-z0-9_]{1,20})/status(?:es)?/
    )
    (?P<id>\d{1,20})
    (?:/(?:photo|video)/\d{1,2}|/(?:analytics|retweets|likes|quotes|history))?
    /?
    (?:[?\#].*)?
    """,
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class StatusRef:
    """A post identified by a status URL, with the URL in its one normalised form."""

    platform: str
    handle: str | None
    post_id: str
    url: str


def parse_status_url(url: str) -> StatusRef | None:
    """Recognise a Twitter/X status URL in any of its forms; ``None`` for anything else.

    Accepts twitter.com and x.com (www., mobile., m., language subdomains), Wayback
    Machine copies (``web.archive.org/web/TIMESTAMP/...``), embed fixers (fxtwitter, vxtwitter,
    fixupx, fixvx, twittpr), Nitter instances, ``/statuses/ID``, ``/#!/handle/status/ID``,
    ``/i/web/status/ID``, ``/i/status/ID``, trailing ``/photo/N``, ``/video/N``,
    ``/analytics``, any query or fragment, and a missing scheme. The result's ``url`` is
    ``https://twitter.com/{handle}/status/{id}`` (``/i/web/status/{id}`` without a handle);
    the handle keeps its displayed case.
    """
    match = _STATUS_RE.fullmatch(url.strip())
    if match is None:
        return None
    post_id = match["id"].lstrip("0")
    if not post_id:
        return None
    handle = match["handle"]
    if handle is None:
        return StatusRef("twitter", None, post_id, f"https://twitter.com/i/web/status/{post_id}")
    return StatusRef("twitter", handle, post_id, f"https://twitter.com/{handle}/status/{post_id}")


def snowflake_to_datetime(post_id: str | int, *, now: datetime | None = None) -> datetime | None:
    """The UTC moment encoded in a snowflake tweet id, or ``None`` when the id carries none.

    ``None`` for non-numeric ids, ids below :data:`FIRST_SNOWFLAKE_ID` (sequential ids from
    before November 2010) and ids above 2**63-1. The function stays deterministic: ids
    dated in the future are kept unless ``now`` is given, in which case anything later
    than ``now`` plus one day (clock skew) is rejected as a typo or a non-tweet number.
    """
    if isinstance(post_id, str):
        text = post_id.strip()
        if not text.isascii() or not text.isdigit():
            return None
        number = int(text)
    elif isinstance(post_id, int) and not isinstance(post_id, bool):
        number = post_id
    else:
        return None
    if number < FIRST_SNOWFLAKE_ID or number > _MAX_SNOWFLAKE_ID:
        return None
    millis = (number >> 22) + TWITTER_EPOCH_MS
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
    if now is not None and moment > now + timedelta(days=1):
        return None
    return moment


def posted_at_iso(post_id: str | int | None) -> str | None:
    """:func:`snowflake_to_datetime` as the ISO string stored in ``posts.posted_at``."""
    if post_id is None:
        return None
    moment = snowflake_to_datetime(post_id)
    return moment.isoformat(timespec="milliseconds") if moment else None


# WHATWG URL parsing removes tabs and newlines anywhere and trims C0 controls and spaces.
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_VALID_HOST = re.compile(r"[A-Za-z0-9._\-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")
# An absolute http(s) URL that percent-encoding would leave as it is: lower-case scheme
# and host, no port, only characters URLs may hold unescaped (a quote only in the path).
# Most links on a page are such URLs; they skip the URL parser (checked against it on
# every link of the shared corpus).
_ALREADY_SAFE = re.compile(
    r"https?://[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*"
    r"(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*"
    r"(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@/?%]+)?(?:#[A-Za-z0-9\-._~!$&()*+,;=:@/?%]+)?)?"
)


def absolutize_url(href: str, base: str | None) -> str | None:
    """``href`` made absolute against ``base`` and safely percent-encoded, or ``None``.

    ``None`` for empty hrefs, bare fragments (``#top``), non-http(s) schemes
    (``javascript:``, ``mailto:``, ``data:``, ``tel:``, ``about:``, ``file:``...), relative
    hrefs without a usable base, and anything whose host is not a valid host name.
    Protocol-relative hrefs (``//host/path``) without a base are taken as https. Spaces
    and non-ASCII are percent-encoded and IDN hosts become punycode. Never raises.
    """
    if href.isprintable() and href[:1] != " " and href[-1:] != " ":
        cleaned = href  # no tabs, newlines, controls or spaces to remove (most links)
        if cleaned.startswith(("https://", "http://")):
            return _safe_http_url(cleaned)
    else:
        cleaned = _TAB_NEWLINE.sub("", href).strip(_C0_AND_SPACE).strip()
    if not cleaned or cleaned.startswith("#"):
        return None
    if base and _is_plain_root_path(cleaned):
        origin = _origin(base.strip())
        if origin is not None:  # what urljoin gives, without its two URL parses
            return _safe_http_url(origin + cleaned)
    scheme = _SCHEME.match(cleaned)
    if scheme is not None:
        if scheme.group(1).lower() not in ("http", "https"):
            return None
        absolute = cleaned
    elif not base:
        if not cleaned.startswith("//"):
            return None
        absolute = "https:" + cleaned
    else:
        try:
            absolute = urljoin(base.strip(), cleaned)
        except ValueError:  # a malformed base or href ("http://[::1")
            return None
    return _safe_http_url(absolute)


def _is_plain_root_path(href: str) -> bool:
    """A path from the site's root that urljoin copies as it is: no dot or empty segments,
    no parameters, and no empty query or fragment (which urljoin drops)."""
    if href[:1] != "/" or href[1:2] == "/" or href.endswith(("?", "#")) or "?#" in href:
        return False
    path = href.partition("?")[0].partition("#")[0]
    return "//" not in path and "/." not in path and ";" not in path


@lru_cache(maxsize=64)
def _origin(base: str) -> str | None:
    """``scheme://netloc`` of an http(s) base URL, as urljoin writes it; else ``None``."""
    try:
        parts = urlsplit(base)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def _safe_http_url(url: str) -> str | None:
    """``url`` percent-encoded, if it is an http(s) URL with a valid host; else ``None``."""
    if _ALREADY_SAFE.fullmatch(url) is not None:
        return url
    try:
        safe = safe_url_string(url)
        parts = urlsplit(safe)
        parts.port  # noqa: B018 - raises ValueError for an out-of-range port
    except (ValueError, UnicodeError):
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = parts.netloc.rpartition("@")[2]
    # Drop the port: after "]" for IPv6 literals, after the first ":" otherwise.
    host = host[: host.find("]") + 1] if host.startswith("[") else host.partition(":")[0]
    if not _VALID_HOST.fullmatch(host) or host.strip(".") == "":
        return None
    return safe


def url_host(url: str) -> str | None:
    """The lower-cased host of ``url`` (a missing scheme is allowed), or ``None``."""
    text = url.strip()
    if "://" not in text[:12] and not text.startswith("//"):
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.lower().rstrip(".") or None
