"""Reading a tweet's markup: its text, ``— Name (@handle) Date`` signature and status link.

Shared by every Twitter form (:mod:`scraper.parse.twitter`, the platform's own markup,
and :mod:`scraper.parse.tweet_wrappers`, the markup publishers wrap around it).
"""

from __future__ import annotations

import re

from scraper.model import Post
from scraper.parse.dates import is_date_mismatch, parse_shown_date
from scraper.parse.entities import extract_entities
from scraper.parse.html import PageContext, element_text
from scraper.parse.text import embed_signature, parse_signature
from scraper.parse.tree import Element, text_content
from scraper.parse.urls import StatusRef, parse_status_url, posted_at_iso, snowflake_to_datetime

__all__ = [
    "anchor_text",
    "attr",
    "classes",
    "make_tweet_post",
    "read_tweet_markup",
    "status_anchors",
    "tweet_id",
]

_STATUS_HREF_RE = re.compile(r"/status(?:es)?/\d", re.IGNORECASE)
_HANDLE_PAREN_RE = re.compile(r"\(@[A-Za-z0-9_]{1,15}\)")
_DASH_RE = re.compile(r"—|―|–|--|(?<!\S)-(?!\S)")
#: How far before ``(@handle)`` a signature's dash may be (a display name's length).
_MAX_NAME_CHARS = 120
_MAX_ID_DIGITS = 20


def classes(element: Element) -> list[str]:
    """The class words of ``element``, lower-cased."""
    return str(element.get("class") or "").lower().split()


def attr(element: Element, name: str) -> str | None:
    """An attribute without surrounding space (``None`` when missing or empty)."""
    value = element.get(name)
    return value.strip() if value else None


def anchor_text(anchor: Element) -> str:
    """A link's text with its whitespace collapsed."""
    return " ".join(text_content(anchor).split())


def status_anchors(element: Element) -> list[Element]:
    """The ``<a>`` under ``element`` whose href looks like a status URL (cheap test)."""
    return [a for a in element.iter("a") if _STATUS_HREF_RE.search(a.get("href") or "")]


def tweet_id(raw: str | None) -> str | None:
    """A plausible tweet id (ASCII digits, no leading zeros), else ``None``."""
    if not raw:
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_ID_DIGITS:
        return None
    return text.lstrip("0") or None


def make_tweet_post(
    kind: str,
    page: PageContext,
    *,
    post_id: str | None,
    handle: str | None = None,
    display_name: str | None = None,
    date_text: str | None = None,
    text: str | None = None,
    lang: str | None = None,
    date_lang: str | None = None,
) -> Post:
    """A Post with everything derived: date, ``posted_at``, mismatch, URL, entities."""
    date = parse_shown_date(date_text, date_lang or page.lang) if date_text else None
    url = None
    if post_id:  # the one form parse_status_url normalises every status URL to
        url = f"https://twitter.com/{handle or 'i/web'}/status/{post_id}"
    return Post(
        platform="twitter",
        kind=kind,
        post_id=post_id,
        handle=handle,
        display_name=display_name,
        date=date,
        date_text=date_text,
        posted_at=posted_at_iso(post_id),
        date_mismatch=is_date_mismatch(date, snowflake_to_datetime(post_id) if post_id else None),
        text=text or None,
        lang=lang,
        url=url,
        entities=extract_entities(text) if text else [],
    )


def _signature_start(text: str) -> int | None:
    """Where the ``— Name (@handle) Date`` signature of an embed's text starts, if any.

    The signature's handle is the last ``(@handle)``; its dash is the last one on that
    line within a display name's length before it.
    """
    found = embed_signature(text, _HANDLE_PAREN_RE, _DASH_RE, _MAX_NAME_CHARS)
    if found is None:
        return None
    last, line_start, dash = found
    if dash is not None:
        return dash.start()
    # No dash: only a line that is nothing but "Name (@handle) Date" is a signature.
    return line_start if last.start() - line_start <= _MAX_NAME_CHARS else None


def read_tweet_markup(
    element: Element, page: PageContext, kind: str, fallback_id: str | None = None
) -> Post | None:
    """A tweet's markup (text, signature, status link) read from ``element``.

    ``blockquote-other`` needs both a signature and a status link inside it; the other
    kinds are posts with either an id or a handle and text. Without a status link the id
    is ``fallback_id`` (or the element's ``data-tweet-id``).
    """
    text, anchors = element_text(element)
    sig_start = _signature_start(text)
    refs: list[tuple[StatusRef, Element, int]] = []
    for anchor, at in anchors:
        href = anchor.get("href")
        ref = parse_status_url(href) if href else None
        if ref is not None:
            refs.append((ref, anchor, at))
    in_signature = [r for r in refs if sig_start is not None and r[2] >= sig_start]
    if kind == "blockquote-other" and not in_signature:
        return None
    chosen = in_signature or refs
    status = chosen[-1] if chosen else None
    signature = parse_signature(text[sig_start:]) if sig_start is not None else None
    if signature is not None and sig_start is not None:
        body = text[:sig_start]
    elif status is not None:  # no signature: the bare status link is not tweet text
        shown = anchor_text(status[1])
        body = text[: status[2]] + text[status[2] + len(shown) :]
    else:
        body = text
    body = body.strip()
    post_id = status[0].post_id if status else None
    post_id = post_id or fallback_id or tweet_id(attr(element, "data-tweet-id"))
    handle = (status[0].handle if status else None) or (signature.handle if signature else None)
    if not post_id and not (handle and body):
        return None
    date_text = None
    if status is not None and status in in_signature:
        date_text = anchor_text(status[1]) or None
    if signature is not None and (date_text is None or not parse_shown_date(date_text)):
        date_text = signature.date_text or date_text
    lang_holder = next(element.iterfind(".//*[@lang]"), None)
    return make_tweet_post(
        kind,
        page,
        post_id=post_id,
        handle=handle,
        display_name=signature.display_name if signature else None,
        date_text=date_text,
        text=body,
        lang=attr(lang_holder, "lang") if lang_holder is not None else None,
        date_lang=attr(element, "data-lang"),
    )
