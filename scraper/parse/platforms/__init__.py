"""Embeds of every platform but Twitter, as one plug-in of the HTML traversal.

One module per platform (``bluesky``, ``mastodon``, ``instagram``, ``threads``, ``tiktok``,
``facebook``, ``youtube``, ``reddit``, ``linkedin``), each with its URL rules
(``URLS``: the hosts, ``parse_url``, the canonical URL and the time its ids encode) and,
where the platform has embed markup, a detector. Iframes and WordPress embed blocks of
every platform are read once, in :mod:`scraper.parse.platforms.frames`.

The traversal offers every element to every detector, so :class:`PlatformDetectors`
stands for all of them: it looks at the element's tag once and asks only the detectors
that want that tag (a ``<p>`` or ``<span>`` costs one dictionary look-up).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from scraper.model import Post
from scraper.parse.html import Element, PageContext
from scraper.parse.platforms.bluesky import BlueskyDetector
from scraper.parse.platforms.common import CONSENT_RE, LINK_KIND, EmbedDetector, classes
from scraper.parse.platforms.facebook import FacebookDetector
from scraper.parse.platforms.frames import (
    FRAME_MARKERS,
    FRAME_TAGS,
    IFRAMELY_CLASS,
    OEMBED_URL_ATTRIBUTES,
    detect_consent,
    detect_frame,
    detect_oembed,
    detect_wp_embed,
)
from scraper.parse.platforms.instagram import InstagramDetector
from scraper.parse.platforms.mastodon import MastodonDetector
from scraper.parse.platforms.reddit import RedditDetector
from scraper.parse.platforms.threads import ThreadsDetector
from scraper.parse.platforms.tiktok import TikTokDetector
from scraper.parse.platforms.youtube import YouTubeDetector
from scraper.parse.text import TextPost

__all__ = ["LINK_KIND", "PLATFORM_DETECTORS", "EmbedDetector", "PlatformDetectors"]

#: The platforms' own detectors (embed markup other than a bare iframe).
PLATFORM_DETECTORS: tuple[EmbedDetector, ...] = (
    BlueskyDetector(),
    MastodonDetector(),
    InstagramDetector(),
    ThreadsDetector(),
    TikTokDetector(),
    FacebookDetector(),
    RedditDetector(),
    YouTubeDetector(),
)


def _detect_frame(element: Element, page: PageContext) -> Post | None:
    return detect_frame(element)


def _detect_oembed(element: Element, page: PageContext) -> Post | None:
    return detect_oembed(element)


class PlatformDetectors:
    """One :class:`~scraper.parse.html.PostDetector` for every platform but Twitter.

    Frames (``iframe``, ``embed``, ``amp-iframe``) go to the shared frame reader,
    ``figure.wp-block-embed`` to the WordPress block reader, editors' and embed services'
    placeholders (``oembed``, ``amp-embedly-card``, ``div[data-oembed-url]``,
    ``div.iframely-embed``, consent boxes) to the
    placeholder reader, and every other element to the detectors that listed its tag, in
    the order given.
    """

    platform = "platforms"
    quote_markers: tuple[str, ...] = ()

    def __init__(self, detectors: Sequence[EmbedDetector] = PLATFORM_DETECTORS) -> None:
        by_tag: dict[str, list[tuple[EmbedDetector, tuple[str, ...]]]] = {}
        for detector in detectors:
            for tag, words in detector.tags.items():
                by_tag.setdefault(tag, []).append((detector, words))
        self._by_tag = {tag: tuple(found) for tag, found in by_tag.items()}
        # Tags whose every detector needs a class word: one search rules all of them out.
        self._tag_guards = {
            tag: re.compile("|".join(re.escape(w) for _, words in found for w in words))
            for tag, found in by_tag.items()
            if all(words for _, words in found)
        }
        # One look-up per element: most elements (p, span, a, li...) have no handler.
        self._handlers: dict[str, Callable[[Element, PageContext], Post | None]] = {
            tag: self._detect_markup for tag in by_tag
        }
        self._handlers.update({tag: _detect_frame for tag in FRAME_TAGS})
        self._handlers.update({tag: _detect_oembed for tag in OEMBED_URL_ATTRIBUTES})
        self._handlers["figure"] = self._detect_figure
        self._handlers["div"] = self._detect_div  # a platform's markup or a placeholder
        #: The elements :meth:`detect` may claim, with the class words one of which they
        #: need (``None``: any such element); the traversal offers it no others.
        self.element_names: dict[str, str | None] = dict.fromkeys(self._handlers)
        for tag, found in self._by_tag.items():
            if tag in self._tag_guards and tag not in FRAME_TAGS and tag != "figure":
                self.element_names[tag] = "|".join(
                    re.escape(word) for _, words in found for word in words
                )
        # A div is offered for a platform's class word or a placeholder's name (an editor's,
        # an embed service's, a consent tool's).
        placeholder = "|".join(
            (re.escape(OEMBED_URL_ATTRIBUTES["div"]), re.escape(IFRAMELY_CLASS), CONSENT_RE.pattern)
        )
        if "div" not in by_tag:
            self.element_names["div"] = placeholder
        elif self.element_names["div"] is not None:
            self.element_names["div"] += "|" + placeholder
        markers = [m for d in detectors for m in d.markers] + list(FRAME_MARKERS)
        self.markers: tuple[str, ...] = tuple(dict.fromkeys(markers))

    def detect(self, element: Element, page: PageContext) -> Post | None:
        """The post ``element`` embeds on any platform but Twitter, else ``None``."""
        handler = self._handlers.get(element.tag)
        return handler(element, page) if handler is not None else None

    def _detect_figure(self, element: Element, page: PageContext) -> Post | None:
        return detect_wp_embed(element) or self._detect_markup(element, page)

    def _detect_div(self, element: Element, page: PageContext) -> Post | None:
        return (
            detect_oembed(element) or self._detect_markup(element, page) or detect_consent(element)
        )

    def _detect_markup(self, element: Element, page: PageContext) -> Post | None:
        """Ask the detectors that want this tag, if the element's class may interest them."""
        tag = element.tag
        candidates = self._by_tag.get(tag, ())
        names = classes(element)
        guard = self._tag_guards.get(tag)
        if guard is not None and (not names or guard.search(names) is None):
            return None
        for detector, words in candidates:
            if words and not any(word in names for word in words):
                continue
            post = detector.detect(element, page)
            if post is not None:
                return post
        return None

    def quoted_posts(self, text: str, links: Sequence[tuple[str, int]]) -> list[TextPost]:
        """Only tweets are recognised when quoted as plain text."""
        return []
