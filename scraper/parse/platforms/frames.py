"""Embeds that are only a URL: iframes (and ``<embed>``) of every platform, WordPress
embed blocks that kept the post's URL but not its markup, and the placeholders editors and
embed services leave for a script to fill (kind ``oembed``): CKEditor 5's ``<oembed url>``
(or ``<div data-oembed-url>`` with no embed markup inside), AMP's
``<amp-embedly-card data-url>`` and Iframely's ``div.iframely-embed`` around a link to the
post. Iframes of oEmbed services (Embedly's, which Medium uses for every embed, and
Iframely's) carry the post's URL as a parameter. A consent or click-to-load placeholder
that keeps one link to the post it replaced (Embed Privacy's "open directly" link) is an
embed of kind ``consent``.

One reader for all platforms: the URL goes to :func:`scraper.parse.post_urls.parse_post_url`,
whose per-platform parsers accept the embed forms (``youtube.com/embed/ID``,
``embed.bsky.app/embed/DID/...``, ``facebook.com/plugins/post.php?href=``,
``tiktok.com/embed/v2/ID``, ``INSTANCE/@user/ID/embed``, ``linkedin.com/embed/feed/update/
URN``...). Twitter's iframes are the Twitter detector's; other URLs (maps, players of
platforms not supported, like buttons, page plugins, playlists) are not posts.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from scraper.model import Post
from scraper.parse import post_urls  # the module: post_urls imports this package too
from scraper.parse.html import Element
from scraper.parse.platforms.common import (
    CONSENT_RE,
    MAX_PLACEHOLDER_CHARS,
    attr,
    classes,
    element_signs,
    embed_sources,
    make_post,
)
from scraper.parse.tree import text_content
from scraper.parse.urls import StatusRef

__all__ = [
    "FRAME_MARKERS",
    "FRAME_TAGS",
    "IFRAMELY_CLASS",
    "OEMBED_URL_ATTRIBUTES",
    "detect_consent",
    "detect_frame",
    "detect_oembed",
    "detect_wp_embed",
    "oembed_url",
    "proxied_urls",
]

FRAME_TAGS = frozenset({"iframe", "embed", "amp-iframe"})
#: Placeholders holding only a post's URL, by element name: the attribute that holds it.
OEMBED_URL_ATTRIBUTES = {"oembed": "url", "amp-embedly-card": "data-url", "div": "data-oembed-url"}
#: Iframely's placeholder: a div of this class around a link to the post.
IFRAMELY_CLASS = "iframely-embed"
# oEmbed services whose iframes carry the post's URL as a query parameter.
_PROXY_HOSTS = frozenset({"cdn.embedly.com", "cdn.iframe.ly", "iframe.ly"})
_PROXY_PARAMETERS = ("url", "src")
# Markup inside a placeholder that is the post itself (read by the inner element).
_EMBED_MARKUP = ("blockquote", "iframe", "embed", "amp-iframe", "amp-twitter", "amp-instagram")
#: Substrings of an escaped iframe (in a script or attribute) worth unescaping for.
FRAME_MARKERS = (
    "youtube.com/embed",
    "youtube-nocookie.com/embed",
    "facebook.com/plugins/",
    "tiktok.com/embed",
    "embed.bsky.app",
    "linkedin.com/embed",
    "embed.reddit.com",
    "redditmedia.com",
)
# Only these platforms' posts come from a frame here (Twitter has its own detector).
_FRAME_PLATFORMS = frozenset(
    {"bluesky", "mastodon", "instagram", "threads", "tiktok", "facebook", "youtube",
     "reddit", "linkedin"}
)  # fmt: skip


def _post(ref: StatusRef, kind: str) -> Post:
    return make_post(
        ref.platform,
        kind,
        post_id=ref.post_id,
        url=ref.url,
        handle=ref.handle,
        posted_at=post_urls.posted_at_for(ref.platform, ref.post_id),
    )


def proxied_urls(source: str) -> list[str]:
    """The URLs an oEmbed service's iframe source carries (``url``, ``src``), else none."""
    if len(source) > 4096:
        return []
    try:
        parts = urlsplit(source if "//" in source else "//" + source)
        host = parts.hostname
    except ValueError:
        return []
    if host not in _PROXY_HOSTS:
        return []
    query = parse_qs(parts.query)
    return [value for name in _PROXY_PARAMETERS for value in query.get(name, [])]


def detect_frame(element: Element) -> Post | None:
    """The post an iframe (``src`` or a lazy loader's ``data-src``) shows, directly or
    through an oEmbed service, else ``None``."""
    for source in embed_sources(element):
        for url in (source, *proxied_urls(source)):
            ref = post_urls.parse_post_url(url)
            if ref is not None and ref.platform in _FRAME_PLATFORMS:
                return _post(ref, "iframe")
    return None


def oembed_url(element: Element) -> str | None:
    """The post URL an editor's or embed service's placeholder holds, else ``None``.

    A ``<div data-oembed-url>`` with the provider's markup inside (CKEditor's previews) is
    not read: that markup is the post, and the traversal reads it next.
    """
    name = OEMBED_URL_ATTRIBUTES.get(element.tag)
    url = attr(element, name) if name is not None else None
    if url is None and element.tag == "div" and IFRAMELY_CLASS in classes(element):
        anchor = next(element.iter("a"), None)
        url = attr(anchor, "href") if anchor is not None else None
    if not url or len(url) > 2048:
        return None
    if element.tag == "div" and next(element.iterdescendants(*_EMBED_MARKUP), None) is not None:
        return None
    return url


def detect_oembed(element: Element) -> Post | None:
    """The post of an editor's or embed service's placeholder (not Twitter's: the
    Twitter detector reads those, through :func:`oembed_url` too)."""
    url = oembed_url(element)
    ref = post_urls.parse_post_url(url) if url else None
    if ref is None or ref.platform not in _FRAME_PLATFORMS:
        return None
    return _post(ref, "oembed")


def detect_consent(element: Element) -> Post | None:
    """A consent or click-to-load placeholder that keeps one link to the post it replaced,
    on any platform but Twitter (whose placeholders the Twitter detector reads). The
    placeholder's own words ("load content from YouTube?") are not the post's."""
    if CONSENT_RE.search(element_signs(element)) is None:
        return None
    if next(element.iterdescendants(*_EMBED_MARKUP), None) is not None:
        return None  # the embed itself is inside: read by its element
    if len(" ".join(element.itertext())) > MAX_PLACEHOLDER_CHARS:
        return None  # an article section, not a placeholder
    found: dict[tuple[str, str], StatusRef] = {}
    for anchor in element.iter("a"):
        href = (anchor.get("href") or "").strip()
        ref = post_urls.parse_post_url(href) if href.startswith(("http", "//")) else None
        if ref is not None and ref.post_id:
            found.setdefault((ref.platform, ref.post_id), ref)
    if len(found) != 1:
        return None
    (ref,) = found.values()
    return _post(ref, "consent") if ref.platform in _FRAME_PLATFORMS else None


def detect_wp_embed(element: Element) -> Post | None:
    """A WordPress embed block (``figure.wp-block-embed``) holding only the post's URL.

    With an iframe or blockquote inside, that markup is the post and is read instead.
    """
    if "wp-block-embed" not in classes(element):
        return None
    wrapper = None
    for inner in element.iterdescendants():
        if inner.tag in ("iframe", "blockquote") or inner.tag in FRAME_TAGS:
            return None
        if wrapper is None and "wp-block-embed__wrapper" in classes(inner):
            wrapper = inner
    if wrapper is None:
        return None
    url = " ".join(text_content(wrapper).split())
    if not url:
        anchor = next(wrapper.iter("a"), None)
        url = (attr(anchor, "href") or "") if anchor is not None else ""
    ref = post_urls.parse_post_url(url) if url else None
    if ref is None or ref.platform not in _FRAME_PLATFORMS:
        return None
    return _post(ref, "wp-embed")
