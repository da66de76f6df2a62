"""Tweets that publishers wrap in their own markup instead of Twitter's ``twitter-tweet``.

Forms recognised, each with its ``Post.kind``:

- ``wrapped``: a container whose class, id or ``data-*`` attributes name a tweet
  (``embed--twitter``, ``tweet-embed``, ``social-embed--twitter``, ``data-embed-type=
  "twitter"``...) holding one status link and the post's text (and its signature, or a
  ``<time>``, when the markup shows them; parts whose class names them give the text,
  such as ``tweet__text`` or react-tweet's ``tweet-body_root__...`` (the header around it
  is not the text), the author's name and the date shown, as in Substack's tweets);
  without a status link, the id or status URL its ``data-*``
  attributes carry (``data-id``, ``data-url``), for a script to render;
- ``consent``: a consent or click-to-load placeholder (``data-consent``, Borlabs,
  Didomi, "two-click" boxes) that keeps the status link; the placeholder's own text
  ("load content from X?") is not the post's, so only a signature gives it text;
- ``screenshot``: a figure with an image of the post and a link to its status (the
  image's ``alt`` is its text when it holds a sentence);
- publisher-hosted iframes whose URL carries the status id (``?tweetId=ID``,
  ``/tweet.html#ID``, ``?url=`` a status URL) are read by :func:`frame_status` for the
  Twitter detector's ``rendered`` form.

Not posts: containers in page furniture (sidebars, widgets, "most popular" boxes),
timelines, share/follow buttons, containers with more than one status, status links in
running prose. Standard embed markup inside a wrapper is left to the inner element.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from scraper.model import Post
from scraper.parse.entities import extract_entities
from scraper.parse.html import PageContext, element_text
from scraper.parse.platforms.common import (
    CONSENT_RE,
    MAX_PLACEHOLDER_CHARS,
    SERVICE_ATTRIBUTES,
    element_signs,
    read_shown_date,
    time_element_date,
)
from scraper.parse.tree import Element
from scraper.parse.tweet_markup import make_tweet_post, read_tweet_markup, tweet_id
from scraper.parse.urls import parse_status_url, posted_at_iso

__all__ = ["WRAPPER_HINTS", "detect_wrapped", "frame_status", "read_wrapped"]

# "tweet", "twitter" or "x-post" as a word of a class, id or data attribute (not "retweet").
_TWEET_WORD_RE = re.compile(r"(?<![a-z])(?:tweet|twitter|x-post|xpost|x-embed)(?![a-z])")
# Words of containers that carry a tweet word but show no single post.
_NOT_A_POST_RE = re.compile(
    r"timeline|share|follow|intent|button|btn|hashtag|mention|moment|icon|profile|feed-list"
)
# Ancestors whose class marks page furniture: what they hold is not the article's (a
# site's "curated feed" of tweets in the secondary column cites nothing).
_FURNITURE_RE = re.compile(
    r"widget|sidebar|popular|trending|related|footer|nav(?![a-z])|secondary|curated|recirc"
    r"|(?<![a-z])rail"
)
#: What a wrapper's lower-cased class, id or attribute names hold (a cheap first test).
WRAPPER_HINTS = (
    "tweet|twitter|x-post|xpost|x-embed|screenshot|"
    + CONSENT_RE.pattern
    + "|"
    + "|".join(re.escape(name) for name in SERVICE_ATTRIBUTES)
)
_HINT_RE = re.compile(WRAPPER_HINTS)
# Elements inside which the platform's own markup is the post (read by the inner element).
_STANDARD_MARKUP = ("blockquote", "iframe", "amp-twitter", "twitterwidget", "twitter-widget")
#: An image's alt text shorter than this is a label ("Tweet"), not the post's text.
_MIN_ALT_CHARS = 20
_ID_PARAMETERS = ("tweetid", "tweet_id", "tweet-id", "tweet", "statusid", "status_id", "id")
_URL_PARAMETERS = ("url", "src", "href")
# Data attributes that carry a post's id in a tweet-named container ("data-id" and the like).
_ID_ATTRIBUTE_ENDS = ("-id", "-tweetid", "-statusid")
_FRAGMENT_ID_RE = re.compile(r"#(?:id=|tweet-?)?(\d{5,20})$", re.IGNORECASE)
# A wrapper's parts named by their class: the post's text alone ("tweet-text", "tweet__body",
# react-tweet's CSS module "tweet-body_root__x1y2"; the header with name, handle and avatar
# stays out), the author's name ("tweet-author-name", "authorName") and the date shown
# ("tweet-date", Substack's).
_TEXT_PART_RE = re.compile(r"(?<![a-z])tweet[-_]{0,2}(?:body|text|content)(?![a-z])")
_NAME_PART_RE = re.compile(r"(?<![a-z])(?:tweet[-_]{0,2})?author[-_]{0,2}name(?![a-z])")
_DATE_PART_RE = re.compile(r"(?<![a-z])tweet[-_]{0,2}(?:date|time|timestamp)(?![a-z])")


def _status_ids(element: Element) -> dict[str, Element]:
    """The status links under ``element``: the first anchor of each distinct id."""
    found: dict[str, Element] = {}
    for anchor in element.iter("a"):
        href = anchor.get("href")
        ref = parse_status_url(href) if href and "/status" in href.lower() else None
        if ref is not None:
            found.setdefault(ref.post_id, anchor)
    return found


def _holds_standard_markup(element: Element) -> bool:
    if next(element.iterdescendants(*_STANDARD_MARKUP), None) is not None:
        return True
    return any("twitter-tweet" in (inner.get("class") or "") for inner in element.iter("div"))


def _in_furniture(element: Element) -> bool:
    return any(
        _FURNITURE_RE.search((parent.get("class") or "").lower())
        for parent in element.iterancestors()
    )


def _with_time(post: Post, element: Element, page: PageContext) -> Post:
    """A post without a shown date takes the first ``<time>`` of its wrapper."""
    if post.date_text is None:
        date, shown = time_element_date(element, page.lang)
        if shown:
            post.date, post.date_text = date, shown
            if post.text and post.text.endswith(shown):  # the date is not the post's text
                post.text = post.text[: -len(shown)].rstrip() or None
    return post


def _strip_dashes(post: Post) -> Post:
    """A credit line's dash ("— @handle" without a signature) is not the post's text."""
    if post.text:
        post.text = post.text.strip().rstrip("—―–- \n").strip() or None
    return post


def detect_wrapped(element: Element, page: PageContext) -> Post | None:
    """The tweet a publisher's wrapper, placeholder or screenshot shows, else ``None``."""
    if element.tag != "figure":
        # One search over the class, id and data-* names rules out most elements.
        keys = element.keys()
        if not keys:
            return None
        names = f"{element.get('class') or ''} {element.get('id') or ''} {' '.join(keys)}"
        if "data-" in names:
            names += " ".join(element.get(name) or "" for name in SERVICE_ATTRIBUTES)
        if _HINT_RE.search(names.lower()) is None:
            return None
    signs = element_signs(element)
    tweet_word = _TWEET_WORD_RE.search(signs) is not None
    consent = CONSENT_RE.search(signs) is not None
    screenshot = element.tag == "figure" or "screenshot" in signs
    if not (tweet_word or consent or screenshot):
        return None
    if tweet_word and _NOT_A_POST_RE.search(signs):
        return None
    ids = _status_ids(element)
    if len(ids) > 1 or _holds_standard_markup(element) or _in_furniture(element):
        return None
    if not ids:  # rendered by script later: the id may be in a data-* attribute
        return _data_post(element, page, "consent" if consent else "wrapped")
    ((status_id, anchor),) = ids.items()
    if consent:
        return _placeholder(element, page, status_id)
    if screenshot:
        post = _screenshot(element, page, status_id, anchor)
        if post is not None or not tweet_word:
            return post
    return read_wrapped(element, page, status_id, anchor)


def _data_post(element: Element, page: PageContext, kind: str) -> Post | None:
    """A tweet-named container without a status link whose ``data-*`` attributes carry
    the status URL (``data-url``, ``data-href``) or the id (``data-id``,
    ``data-embed-id``, ``data-status-id``...): the id (and handle) only."""
    if not _TWEET_WORD_RE.search(element_signs(element)):
        return None  # a consent box that does not say it holds a tweet
    for name, value in element.attrib.items():
        if not name.startswith("data-") or not value:
            continue
        ref = parse_status_url(value) if "/status" in value else None
        if ref is not None:
            return make_tweet_post(kind, page, post_id=ref.post_id, handle=ref.handle)
        if name.endswith(_ID_ATTRIBUTE_ENDS):
            found = tweet_id(value)
            if found is not None and posted_at_iso(found) is not None:
                return make_tweet_post(kind, page, post_id=found)
    return None


def read_wrapped(
    element: Element, page: PageContext, status_id: str, anchor: Element
) -> Post | None:
    """The post read from the smallest part of the wrapper around its status link that
    holds text besides the link (a publisher's headline or timestamp stays out)."""
    holder = anchor.getparent()
    while holder is not None:
        post = read_tweet_markup(holder, page, "wrapped", fallback_id=status_id)
        if post is not None and post.post_id == status_id and _strip_dashes(post).text:
            return _with_time(_with_parts(post, holder, page), holder, page)
        if holder is element:
            break
        holder = holder.getparent()
    return None  # a container with a link to a status but no post in it


def _one_part(holder: Element, pattern: re.Pattern[str]) -> str | None:
    """The text of the one part of ``holder`` whose class matches ``pattern`` (none when
    no part or several do)."""
    parts = [e for e in holder.iter() if pattern.search(str(e.get("class") or "").lower())]
    return element_text(parts[0])[0].strip() or None if len(parts) == 1 else None


def _with_parts(post: Post, holder: Element, page: PageContext) -> Post:
    """The post's text, author's name and shown date from the parts of ``holder`` that
    their class names, where the markup has them (a ``<time>`` is read after this)."""
    text = _one_part(holder, _TEXT_PART_RE)
    if text is not None:
        post.text, post.entities = text, extract_entities(text)
    if post.display_name is None:
        name = _one_part(holder, _NAME_PART_RE)
        post.display_name = " ".join(name.split()) if name else None
    if post.date_text is None and next(holder.iter("time"), None) is None:
        date, shown = read_shown_date(_one_part(holder, _DATE_PART_RE), page.lang)
        if date is not None:
            post.date, post.date_text = date, shown  # the mismatch is set when posts merge
    return post


def _placeholder(element: Element, page: PageContext, status_id: str) -> Post | None:
    """A consent box: the status link's id and handle; text only from a signature."""
    if len(" ".join(element.itertext())) > MAX_PLACEHOLDER_CHARS:
        return None
    post = read_tweet_markup(element, page, "consent", fallback_id=status_id)
    if post is None or post.post_id != status_id:
        return None
    if post.display_name is None:  # no "— Name (@handle) Date": the box's own words
        post.text, post.entities = None, []
    return post


def _screenshot(
    element: Element, page: PageContext, status_id: str, anchor: Element
) -> Post | None:
    """An image of the post with a link to its status: the link holds the image or the
    caption names the tweet."""
    image = next(element.iter("img"), None)
    if image is None:
        return None
    caption = next(element.iter("figcaption"), None)
    linked_image = next(anchor.iter("img"), None) is not None
    named = caption is not None and _TWEET_WORD_RE.search(" ".join(caption.itertext()).lower())
    if not (linked_image or named or "screenshot" in element_signs(element)):
        return None
    post = read_tweet_markup(element, page, "screenshot", fallback_id=status_id)
    if post is None or post.post_id != status_id:
        return None
    alt = " ".join((image.get("alt") or "").split())
    if post.display_name is None:  # no signature: the caption is the publisher's
        post.text, post.entities = None, []
    if not post.text and len(alt) >= _MIN_ALT_CHARS:
        post.text = alt
    return _with_time(post, element, page)


def frame_status(src: str | None) -> tuple[str, str | None] | None:
    """The status id a publisher-hosted (or oEmbed service's) tweet iframe carries in its
    URL, with the handle when a status URL in its parameters shows one; else ``None``.

    ``?tweetId=ID`` (and ``tweet_id``, ``statusId``...), ``?url=`` a status URL, or, on a
    URL whose host or path names a tweet, ``?id=ID`` or a ``#ID`` fragment.
    """
    if not src or len(src) > 2048:
        return None
    try:
        parts = urlsplit(src if "//" in src else "//" + src)
    except ValueError:
        return None
    query = {key.lower(): values for key, values in parse_qs(parts.query).items()}
    for name in _URL_PARAMETERS:
        for value in query.get(name, []):
            ref = parse_status_url(value)
            if ref is not None:
                return ref.post_id, ref.handle
    named = _TWEET_WORD_RE.search(f"{parts.hostname or ''}{parts.path}".lower()) is not None
    for name in _ID_PARAMETERS:
        if name == "id" and not named:
            continue
        for value in query.get(name, []):
            found = tweet_id(value)
            if found is not None and len(found) >= 5:
                return found, None
    if named and parts.fragment:
        match = _FRAGMENT_ID_RE.search("#" + parts.fragment)
        found = tweet_id(match[1]) if match is not None else None
        if found is not None:
            return found, None
    return None
