"""Twitter/X embeds: the :class:`TwitterDetector` plug-in of the HTML traversal.

Forms recognised (twitter.com and x.com alike), each with its ``Post.kind``:

- ``blockquote`` / ``blockquote-video``: ``blockquote.twitter-tweet`` / ``.twitter-video``,
  the markup twitter.com's "Embed Tweet" gives: text, ``— Name (@handle) <a>Date</a>``;
- ``blockquote-other``: any other blockquote that holds a status link *and* a signature;
- ``rendered``: what widgets.js leaves after it ran (``data-tweet-id`` on iframes,
  ``twitterwidget`` and rendered divs, ``platform.twitter.com/embed/Tweet.html?id=`` iframes);
- ``amp``: ``<amp-twitter data-tweetid>``; ``embed-id``: ``div.embed-twitter[data-embed-id]``
  and Embetty's ``<embetty-tweet status>`` (heise's privacy-friendly embeds);
- ``wp-embed``: a WordPress embed block that holds only the status URL (the block is
  ``wp-block-embed-twitter``, or ``wp-block-embed-x`` since WordPress 7 names the provider
  "x");
- ``oembed``: an editor's or embed service's placeholder holding only the status URL
  (CKEditor's ``<oembed url>`` or ``<div data-oembed-url>``, ``<amp-embedly-card>``,
  Iframely's ``div.iframely-embed``).

Not posts: timelines, moments, follow/share/intent buttons, status links in running text.
The traversal (``scraper.parse.html``) marks posts found in escaped markup ``escaped``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, urlsplit

from scraper.model import Post
from scraper.parse.dates import is_date_mismatch
from scraper.parse.html import Element, PageContext
from scraper.parse.platforms.common import embed_sources
from scraper.parse.platforms.frames import OEMBED_URL_ATTRIBUTES, oembed_url
from scraper.parse.text import TextPost, find_text_posts
from scraper.parse.tree import text_content
from scraper.parse.tweet_markup import (
    attr,
    classes,
    make_tweet_post,
    read_tweet_markup,
    status_anchors,
    tweet_id,
)
from scraper.parse.tweet_wrappers import (
    WRAPPER_HINTS,
    detect_wrapped,
    frame_status,
    read_wrapped,
)
from scraper.parse.urls import (
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
# WordPress embed blocks of Twitter/X: the block's own class, or its provider's (WordPress
# 7 names the provider "x", earlier versions "twitter", whatever the URL's host).
_WP_BLOCK_CLASSES = ("wp-block-embed-twitter", "wp-block-embed-x")
_WP_PROVIDER_CLASSES = ("is-provider-twitter", "is-provider-x")


def _embed_kind(element: Element) -> str | None:
    """``blockquote`` or ``blockquote-video`` for an element with an embed class."""
    names = classes(element)
    return next((kind for name, kind in _EMBED_CLASSES.items() if name in names), None)


def _blockquote(element: Element, page: PageContext) -> Post | None:
    kind = _embed_kind(element)
    if kind is not None:
        return read_tweet_markup(element, page, kind)
    if not status_anchors(element):
        return None  # the cheap test first: most blockquotes are quotations
    if any(_embed_kind(inner) for inner in element.iterdescendants("blockquote")):
        return None  # a wrapper: the embed inside is the post
    return read_tweet_markup(element, page, "blockquote-other")


def _rendered(element: Element, page: PageContext) -> Post | None:
    """A tweet rendered by widgets.js: the id alone (and a handle, if a link shows it)."""
    post_id = handle = None
    for name in _ID_ATTRIBUTES:
        post_id = post_id or tweet_id(attr(element, name))
    if post_id is None and element.tag == "iframe":
        # src first (a publisher's own may be relative), then lazy loaders' and consent
        # tools' parked URLs; a status URL in a parameter (oEmbed services) shows the handle
        for src in (attr(element, "src") or attr(element, "data-src"), *embed_sources(element)):
            post_id = _iframe_tweet_id(src)
            if post_id is None:
                post_id, handle = frame_status(src) or (None, None)
            if post_id is not None:
                break
    if post_id is None:
        return None
    if any(word in c for c in classes(element) for word in _BUTTON_WORDS):
        return None
    for anchor in status_anchors(element):
        ref = parse_status_url(anchor.get("href"))
        if ref is not None and ref.post_id == post_id and ref.handle:
            handle = ref.handle
            # A publisher's wrapper holding the post's own text: read it.
            post = read_wrapped(element, page, post_id, anchor)
            if post is not None:
                return post
            break
    return make_tweet_post("rendered", page, post_id=post_id, handle=handle)


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
    return tweet_id(ids[0]) if ids else None


def _amp(element: Element, page: PageContext) -> Post | None:
    """``<amp-twitter data-tweetid>``, read from its placeholder blockquote when it has one."""
    if "data-momentid" in element.attrib or "data-timeline-source-type" in element.attrib:
        return None
    post_id = tweet_id(attr(element, "data-tweetid"))
    if post_id is None:
        return None
    placeholder = next(element.iterdescendants("blockquote"), None)
    if placeholder is not None:
        post = read_tweet_markup(placeholder, page, "amp", fallback_id=post_id)
        if post is not None and post.post_id == post_id:
            return post
    return make_tweet_post("amp", page, post_id=post_id)


def _wp_embed(element: Element, page: PageContext) -> Post | None:
    """A WordPress embed block holding only the status URL (the blockquote was not kept)."""
    names = classes(element)
    if not any(name in names for name in _WP_BLOCK_CLASSES) and not (
        "wp-block-embed" in names and any(name in names for name in _WP_PROVIDER_CLASSES)
    ):
        return None
    if next(element.iterdescendants("blockquote"), None) is not None:
        return None  # the embed markup is inside: the blockquote is the post
    wrapper = next(
        (e for e in element.iterdescendants() if "wp-block-embed__wrapper" in classes(e)), None
    )
    if wrapper is None:
        return None
    ref = parse_status_url(text_content(wrapper).strip())
    if ref is None:
        anchors = status_anchors(wrapper)
        ref = parse_status_url(anchors[0].get("href")) if len(anchors) == 1 else None
    if ref is None:
        return None
    return make_tweet_post("wp-embed", page, post_id=ref.post_id, handle=ref.handle)


def _embetty(element: Element, page: PageContext) -> Post | None:
    """Embetty's ``<embetty-tweet status="ID">``: the id only, for its script to render."""
    post_id = tweet_id(attr(element, "status"))
    if post_id is None or posted_at_iso(post_id) is None:
        return None
    return make_tweet_post("embed-id", page, post_id=post_id)


def _oembed(element: Element, page: PageContext) -> Post | None:
    """An editor's or embed service's placeholder holding only the status URL."""
    url = oembed_url(element)
    ref = parse_status_url(url) if url else None
    if ref is None:
        return None
    return make_tweet_post("oembed", page, post_id=ref.post_id, handle=ref.handle)


def _embed_div(element: Element, page: PageContext) -> Post | None:
    """A ``div.twitter-tweet`` holding the blockquote's markup (CMSs that rename tags).

    Without a status link it is widgets.js's rendered wrapper: its iframe is the post.
    """
    kind = _embed_kind(element)
    if kind is None or not status_anchors(element):
        return None
    return read_tweet_markup(element, page, kind)


def _embed_id(element: Element, page: PageContext) -> Post | None:
    """time.com's ``<div class="embed-twitter" data-embed-id="ID">``."""
    if "embed-twitter" not in classes(element):
        return None
    post_id = tweet_id(attr(element, "data-embed-id"))
    return make_tweet_post("embed-id", page, post_id=post_id) if post_id else None


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
    #: The elements :meth:`detect` may claim, and what their class, id or attribute
    #: names hold when it may (a Twitter class, a tweet id, a publisher's wrapper).
    element_names: Mapping[str, str | None] = {
        **dict.fromkeys(_ID_CARRIERS, "twitter|" + WRAPPER_HINTS),
        "div": "twitter|data\\-oembed\\-url|iframely\\-embed|" + WRAPPER_HINTS,
        **dict.fromkeys(("blockquote", "amp-twitter", "iframe", "figure"), None),
        **dict.fromkeys(("twitterwidget", "twitter-widget", "embetty-tweet"), None),
        **dict.fromkeys((tag for tag in OEMBED_URL_ATTRIBUTES if tag != "div"), None),
    }
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
        if name == "embetty-tweet":
            return _embetty(element, page)
        if name in OEMBED_URL_ATTRIBUTES and name != "div":
            return _oembed(element, page)
        if name not in _ID_CARRIERS:
            return None
        post = None
        # Every form below names Twitter (or X's WordPress block) in a class; most
        # elements can stop here.
        names = (element.get("class") or "").lower()
        if name == "figure" and ("twitter" in names or "-x" in names):
            post = _wp_embed(element, page)
        elif name == "div" and "twitter" in names:
            post = _embed_id(element, page) or _embed_div(element, page)
        elif name == "div" and (element.get("data-oembed-url") or "iframely" in names):
            post = _oembed(element, page)
        return post or _rendered(element, page) or detect_wrapped(element, page)
