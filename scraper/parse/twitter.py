"""Twitter/X embeds: the :class:`TwitterDetector` plug-in of the HTML traversal.

Forms recognised (twitter.com and x.com alike), each with its ``Post.kind``:

- ``blockquote`` / ``blockquote-video``: ``blockquote.twitter-tweet`` / ``.twitter-video``,
  the markup twitter.com's "Embed Tweet" gives: text, ``— Name (@handle) <a>Date</a>``;
- ``blockquote-other``: any other blockquote that holds a status link *and* a signature;
- ``rendered``: what widgets.js leaves after it ran (``data-tweet-id`` on iframes,
  ``twitterwidget`` and rendered divs, ``platform.twitter.com/embed/Tweet.html?id=`` iframes);
- ``amp``: ``<amp-twitter data-tweetid>``; ``embed-id``: ``div.embed-twitter[data-embed-id]``;
- ``wp-embed``: a WordPress embed block that holds only the status URL.

Not posts: timelines, moments, follow/share/intent buttons, status links in running text.
The traversal (``scraper.parse.html``) marks posts found in escaped markup ``escaped``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

from scraper.model import Post
from scraper.parse.dates import is_date_mismatch, parse_shown_date
from scraper.parse.entities import extract_entities
from scraper.parse.html import Element, PageContext, element_text
from scraper.parse.text import TextPost, embed_signature, find_text_posts, parse_signature
from scraper.parse.tree import text_content
from scraper.parse.urls import (
    StatusRef,
    parse_status_url,
    posted_at_iso,
    snowflake_to_datetime,
)

__all__ = ["TwitterDetector"]

_EMBED_CLASSES = {"twitter-tweet": "blockquote", "twitter-video": "blockquote-video"}
# Elements that carry a rendered tweet's id in data-tweet-id (or data-tweetid).
_ID_CARRIERS = frozenset(
    {"div", "span", "section", "article", "aside", "figure", "iframe"}
    | {"twitterwidget", "twitter-widget"}
)
_ID_ATTRIBUTES = ("data-tweet-id", "data-tweetid")
# Class words of buttons and widgets that carry a tweet id but show no tweet.
_BUTTON_WORDS = ("button", "share", "intent", "follow", "like", "retweet", "reply")
_EMBED_IFRAME_PATHS = ("/embed/tweet.html", "/embed/index.html")
_EMBED_IFRAME_HOSTS = ("platform.twitter.com", "platform.x.com")
_STATUS_HREF_RE = re.compile(r"/status(?:es)?/\d", re.IGNORECASE)
_HANDLE_PAREN_RE = re.compile(r"\(@[A-Za-z0-9_]{1,15}\)")
_DASH_RE = re.compile(r"—|―|–|--|(?<!\S)-(?!\S)")
#: How far before ``(@handle)`` a signature's dash may be (a display name's length).
_MAX_NAME_CHARS = 120
_MAX_ID_DIGITS = 20


def _classes(element: Element) -> list[str]:
    return str(element.get("class") or "").lower().split()


def _attr(element: Element, name: str) -> str | None:
    value = element.get(name)
    return value.strip() if value else None


def _anchor_text(anchor: Element) -> str:
    return " ".join(text_content(anchor).split())


def _status_anchors(element: Element) -> list[Element]:
    """The ``<a>`` under ``element`` whose href looks like a status URL (cheap test)."""
    return [a for a in element.iter("a") if _STATUS_HREF_RE.search(a.get("href") or "")]


def _tweet_id(raw: str | None) -> str | None:
    """A plausible tweet id (ASCII digits, no leading zeros), else ``None``."""
    if not raw:
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_ID_DIGITS:
        return None
    return text.lstrip("0") or None


def _make_post(
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


def _parse_tweet_blockquote(
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
        anchor_text = _anchor_text(status[1])
        body = text[: status[2]] + text[status[2] + len(anchor_text) :]
    else:
        body = text
    body = body.strip()
    post_id = status[0].post_id if status else None
    post_id = post_id or fallback_id or _tweet_id(_attr(element, "data-tweet-id"))
    handle = (status[0].handle if status else None) or (signature.handle if signature else None)
    if not post_id and not (handle and body):
        return None
    date_text = None
    if status is not None and status in in_signature:
        date_text = _anchor_text(status[1]) or None
    if signature is not None and (date_text is None or not parse_shown_date(date_text)):
        date_text = signature.date_text or date_text
    lang_holder = next(element.iterfind(".//*[@lang]"), None)
    return _make_post(
        kind,
        page,
        post_id=post_id,
        handle=handle,
        display_name=signature.display_name if signature else None,
        date_text=date_text,
        text=body,
        lang=_attr(lang_holder, "lang") if lang_holder is not None else None,
        date_lang=_attr(element, "data-lang"),
    )


def _embed_kind(element: Element) -> str | None:
    """``blockquote`` or ``blockquote-video`` for an element with an embed class."""
    classes = _classes(element)
    return next((kind for name, kind in _EMBED_CLASSES.items() if name in classes), None)


def _blockquote(element: Element, page: PageContext) -> Post | None:
    kind = _embed_kind(element)
    if kind is not None:
        return _parse_tweet_blockquote(element, page, kind)
    if not _status_anchors(element):
        return None  # the cheap test first: most blockquotes are quotations
    if any(_embed_kind(inner) for inner in element.iterdescendants("blockquote")):
        return None  # a wrapper: the embed inside is the post
    return _parse_tweet_blockquote(element, page, "blockquote-other")


def _rendered(element: Element, page: PageContext) -> Post | None:
    """A tweet rendered by widgets.js: the id alone (and a handle, if a link shows it)."""
    post_id = None
    for name in _ID_ATTRIBUTES:
        post_id = post_id or _tweet_id(_attr(element, name))
    if post_id is None and element.tag == "iframe":
        post_id = _iframe_tweet_id(_attr(element, "src") or _attr(element, "data-src"))
    if post_id is None:
        return None
    if any(word in c for c in _classes(element) for word in _BUTTON_WORDS):
        return None
    handle = None
    for anchor in _status_anchors(element):
        ref = parse_status_url(anchor.get("href"))
        if ref is not None and ref.post_id == post_id and ref.handle:
            handle = ref.handle
            break
    return _make_post("rendered", page, post_id=post_id, handle=handle)


def _iframe_tweet_id(src: str | None) -> str | None:
    """The id in ``platform.twitter.com/embed/Tweet.html?...&id=ID`` (or ``index.html``)."""
    if not src or "id=" not in src:
        return None
    try:
        parts = urlsplit(src if "//" in src else "//" + src)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not host.endswith(_EMBED_IFRAME_HOSTS) or not parts.path.lower().endswith(
        _EMBED_IFRAME_PATHS
    ):
        return None
    ids = parse_qs(parts.query).get("id") or []
    return _tweet_id(ids[0]) if ids else None


def _amp(element: Element, page: PageContext) -> Post | None:
    """``<amp-twitter data-tweetid>``, read from its placeholder blockquote when it has one."""
    if "data-momentid" in element.attrib or "data-timeline-source-type" in element.attrib:
        return None
    post_id = _tweet_id(_attr(element, "data-tweetid"))
    if post_id is None:
        return None
    placeholder = next(element.iterdescendants("blockquote"), None)
    if placeholder is not None:
        post = _parse_tweet_blockquote(placeholder, page, "amp", fallback_id=post_id)
        if post is not None and post.post_id == post_id:
            return post
    return _make_post("amp", page, post_id=post_id)


def _wp_embed(element: Element, page: PageContext) -> Post | None:
    """A WordPress embed block holding only the status URL (the blockquote was not kept)."""
    classes = _classes(element)
    if "wp-block-embed-twitter" not in classes and not (
        "wp-block-embed" in classes and "is-provider-twitter" in classes
    ):
        return None
    if next(element.iterdescendants("blockquote"), None) is not None:
        return None  # the embed markup is inside: the blockquote is the post
    wrapper = next(
        (e for e in element.iterdescendants() if "wp-block-embed__wrapper" in _classes(e)), None
    )
    if wrapper is None:
        return None
    ref = parse_status_url(text_content(wrapper).strip())
    if ref is None:
        anchors = _status_anchors(wrapper)
        ref = parse_status_url(anchors[0].get("href")) if len(anchors) == 1 else None
    if ref is None:
        return None
    return _make_post("wp-embed", page, post_id=ref.post_id, handle=ref.handle)


def _embed_div(element: Element, page: PageContext) -> Post | None:
    """A ``div.twitter-tweet`` holding the blockquote's markup (CMSs that rename tags).

    Without a status link it is widgets.js's rendered wrapper: its iframe is the post.
    """
    kind = _embed_kind(element)
    if kind is None or not _status_anchors(element):
        return None
    return _parse_tweet_blockquote(element, page, kind)


def _embed_id(element: Element, page: PageContext) -> Post | None:
    """time.com's ``<div class="embed-twitter" data-embed-id="ID">``."""
    if "embed-twitter" not in _classes(element):
        return None
    post_id = _tweet_id(_attr(element, "data-embed-id"))
    return _make_post("embed-id", page, post_id=post_id) if post_id else None


def _identify(post: Post, href: str) -> None:
    """Give a quoted tweet the id of a link to its own status (the signature's date link)."""
    ref = parse_status_url(href)
    if ref is None or post.post_id:
        return
    if ref.handle is not None and ref.handle.casefold() != (post.handle or "").casefold():
        return  # a link to someone else's tweet
    post.post_id = ref.post_id
    post.url = ref.url
    post.posted_at = posted_at_iso(ref.post_id)
    post.date_mismatch = is_date_mismatch(post.date, snowflake_to_datetime(ref.post_id))


class TwitterDetector:
    """Recognises Twitter/X embeds among the elements the HTML traversal offers."""

    platform = "twitter"
    #: Substrings without which a script or attribute holds no escaped tweet embed.
    markers: tuple[str, ...] = ("twitter-tweet", "twitter.com", "amp-twitter", "data-tweet")
    #: The elements :meth:`detect` may claim.
    element_names: frozenset[str] = _ID_CARRIERS | {"blockquote", "amp-twitter"}
    #: A tweet quoted as text ends ``(@handle) Date``.
    quote_markers: tuple[str, ...] = ("(@",)

    def quoted_posts(self, text: str, links: Sequence[tuple[str, int]]) -> list[TextPost]:
        """Tweets quoted as ``text — Name (@handle) Date`` (kind ``text-signature``).

        A link inside the quote to the handle's own status gives the post its id.
        """
        found = find_text_posts(text)
        for quoted in found:
            for href, at in links:
                if quoted.start <= at < quoted.end:
                    _identify(quoted.post, href)
        return found

    def detect(self, element: Element, page: PageContext) -> Post | None:
        """The tweet ``element`` embeds, or ``None`` (the traversal then looks inside it)."""
        name = element.tag
        if name == "blockquote":
            return _blockquote(element, page)
        if name == "amp-twitter":
            return _amp(element, page)
        if name not in _ID_CARRIERS:
            return None
        post = None
        # Every form below names Twitter in a class; most elements can stop here.
        if "twitter" in (element.get("class") or "").lower():
            if name == "figure":
                post = _wp_embed(element, page)
            elif name == "div":
                post = _embed_id(element, page) or _embed_div(element, page)
        return post or _rendered(element, page)
