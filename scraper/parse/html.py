"""The one traversal of an HTML page: metadata, post sightings and links.

The page is parsed once with lxml and walked once, in document order. Every element is
offered to the metadata collector, to link collection and, outside embeds already
claimed, to each :class:`PostDetector` (one per platform, e.g. ``scraper.parse.twitter``).
A detector that recognises an embed claims the element: the links under it become the
post's links and its text stays out of the paragraphs. Paragraphs (text between block
boundaries) go to the detectors' plain-text quote finders. Scripts, attributes and text
that carry escaped embed markup are unescaped, parsed and walked the same way, their
posts marked ``escaped``. :mod:`scraper.parse` then merges the sightings into posts.

lxml is used directly rather than through BeautifulSoup: on the shared corpus (356
pages) building BeautifulSoup trees alone took 14 s, lxml parsing and walking 2 s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from scraper.model import Post
from scraper.parse.encoding import unescape_fragments
from scraper.parse.metadata import OFFERED_TAGS, Metadata, MetadataCollector
from scraper.parse.text import TextPost, find_text_links
from scraper.parse.tree import Element, make_page_tree, make_tree, text_content
from scraper.parse.visible_text import BLOCK_TAGS, HIDDEN_TAGS, TextBuilder, element_text

__all__ = [
    "Element",
    "PageContext",
    "PageFindings",
    "PostDetector",
    "RawLink",
    "Sighting",
    "element_text",
    "make_tree",
    "text_content",
    "walk_html",
]


# Page furniture around the article (menus, sidebars, footers): links there are not the
# article citing a post. Sidebars and WordPress widgets ("widget_twitter") are often
# plain divs or list items, named in their class.
_CHROME_TAGS = frozenset({"aside", "nav", "footer"})
_CHROME_CLASS_TAGS = frozenset({"div", "section", "ul", "li"})
_WALK_EVENTS = ("start", "end", "comment", "pi")
_DASHES = ("—", "―", "–", "-")


@dataclass(slots=True)
class PageContext:
    """What a detector may know about the page: its declared language."""

    lang: str | None = None


class PostDetector(Protocol):
    """A platform plug-in, offered every element of the traversal outside claimed embeds.

    ``markers``: substrings without which a script, attribute or text holds no escaped
    embed of the platform (only strings with one are unescaped and parsed).
    ``quote_markers``: substrings without which a paragraph quotes no post as text.
    A detector may also say which elements it can claim, as a mapping ``element_names``
    from element name to a regular expression that the element's lower-cased class, id
    and attribute names must match (``None``: offer every such element). When every
    detector says, the traversal offers them nothing else; a detector without it is
    offered every element.
    """

    platform: str
    markers: tuple[str, ...]
    quote_markers: tuple[str, ...]

    def detect(self, element: Element, page: PageContext) -> Post | None:
        """The post this element embeds (the element is then claimed), else ``None``."""
        ...

    def quoted_posts(self, text: str, links: Sequence[tuple[str, int]]) -> list[TextPost]:
        """Posts quoted as plain text in a paragraph (``links``: hrefs and their offsets)."""
        ...


def _is_plain(attrib: Any) -> bool:
    """Attributes that give the traversal nothing to do: no ``itemprop``, no markup."""
    return not attrib or ("itemprop" not in attrib and "<" not in "".join(attrib.values()))


def _is_chrome_class(names: str | None) -> bool:
    """A class attribute naming a sidebar or a WordPress widget ("widget_twitter")."""
    return names is not None and ("sidebar" in names or "widget_" in names)


@dataclass(slots=True, eq=False)
class Sighting:
    """A post as one detector found it (``order``: where), before merging by id."""

    post: Post
    order: int
    escaped: bool


@dataclass(slots=True, eq=False)
class RawLink:
    """An ``<a href>`` as found, with the sighting it belongs to (``None``: the article).

    ``chrome``: the link sits in page furniture (``aside``, ``nav``, ``footer``, a
    sidebar), not in the article's text.
    """

    href: str
    text: str
    order: int
    sighting: Sighting | None
    escaped: bool = False
    chrome: bool = False


@dataclass(slots=True)
class _Paragraph:
    """Text between block boundaries, with its links and their offsets."""

    text: str
    order: int
    links: list[tuple[RawLink, int]]
    previous: _Paragraph | None = None


@dataclass(slots=True)
class _Walker:
    """The state of one traversal (and of the escaped fragments walked during it)."""

    detectors: Sequence[PostDetector]
    meta: MetadataCollector = field(default_factory=MetadataCollector)
    page: PageContext = field(default_factory=PageContext)
    sightings: list[Sighting] = field(default_factory=list)
    links: list[RawLink] = field(default_factory=list)
    paragraphs: list[_Paragraph] = field(default_factory=list)
    order: int = 0
    scope: Sighting | None = None
    hidden: int = 0
    chrome: int = 0
    run: TextBuilder = field(default_factory=TextBuilder)
    run_links: list[tuple[RawLink, int]] = field(default_factory=list)
    run_order: int = 0
    last_paragraph: _Paragraph | None = None
    markers: tuple[str, ...] = ()
    quote_markers: tuple[str, ...] = ()
    #: The element names any detector may claim (``None``: a detector did not say).
    claimable: frozenset[str] | None = None
    #: Per claimable name, what its class, id and attribute names must match to be offered.
    claim_gates: dict[str, re.Pattern[str] | None] = field(default_factory=dict)
    gate_answers: dict[str, bool] = field(default_factory=dict)
    #: Elements that need more than block and ``<br>`` handling, even without attributes.
    slow_tags: frozenset[str] | None = None
    #: Whether the page may quote a post as text (else no paragraphs are built).
    paragraphs_wanted: bool = True

    def __post_init__(self) -> None:
        names: list[Mapping[str, str | None] | None] = [
            getattr(d, "element_names", None) for d in self.detectors
        ]
        mappings = [n for n in names if n is not None]
        if len(mappings) == len(names):
            patterns: dict[str, list[str] | None] = {}
            for mapping in mappings:
                for tag, pattern in mapping.items():
                    known = patterns.setdefault(tag, [])
                    if pattern is None or known is None:
                        patterns[tag] = None
                    else:
                        known.append(pattern)
            self.claim_gates = {
                tag: re.compile("|".join(found)) if found is not None else None
                for tag, found in patterns.items()
            }
            self.claimable = frozenset(patterns)
            self.slow_tags = self.claimable | OFFERED_TAGS | {"a"}
        self.markers = tuple(dict.fromkeys(m for d in self.detectors for m in d.markers))
        self.quote_markers = tuple(
            dict.fromkeys(m for d in self.detectors for m in d.quote_markers)
        )

    def walk(self, root: Element, escaped: bool) -> None:
        """Visit every node under ``root`` in document order.

        The per-element work is kept to tests on the tag: only elements a detector may
        claim are offered to the detectors, only metadata tags to the collector.
        """
        exits: list[tuple[Sighting | None, bool, bool, bool]] = []
        slow = self.slow_tags
        # Paragraphs are only built on pages that may quote a post as text; other pages
        # only look at text that may hold escaped markup (scripts, text showing "<").
        paragraphs = self.paragraphs_wanted and not escaped
        for event, element in etree.iterwalk(root, events=_WALK_EVENTS):
            if event == "start":
                self.order += 1
                previous_scope = self.scope
                tag = element.tag
                is_chrome = tag in _CHROME_TAGS or (
                    tag in _CHROME_CLASS_TAGS and _is_chrome_class(element.get("class"))
                )
                self.chrome += is_chrome
                if slow is not None and tag not in slow and _is_plain(element.attrib):
                    boundary = tag in BLOCK_TAGS
                    if paragraphs:
                        if boundary:
                            if self.run.parts:
                                self.end_paragraph()
                        elif tag == "br":
                            self.run.newline()
                else:
                    boundary = self._enter(element, escaped)
                is_hidden = tag in HIDDEN_TAGS
                self.hidden += is_hidden
                exits.append((previous_scope, boundary, is_hidden, is_chrome))
                text = element.text
                if text and not escaped:
                    if paragraphs:
                        self._text(text, tag)
                    elif tag == "script" or "<" in text:
                        self._scan_text(text, tag)
                continue
            if event == "end":
                self.scope, boundary, is_hidden, is_chrome = exits.pop()
                self.hidden -= is_hidden
                self.chrome -= is_chrome
                if boundary and paragraphs and self.run.parts:
                    self.end_paragraph()
            tail = element.tail
            if tail and not escaped:  # text after an element or comment
                if paragraphs:
                    self._text(tail, None)
                elif "<" in tail:
                    self._scan_text(tail, None)

    def _scan_text(self, text: str, owner: str | None) -> None:
        """Text on a page without quoted posts: only escaped markup is looked for."""
        if self.scope is None and (owner == "script" or not self.hidden):
            self._scan_escaped(text)

    def _enter(self, element: Element, escaped: bool) -> bool:
        """Offer one element to everyone; True when leaving it ends a paragraph."""
        tag = element.tag
        attrib = element.attrib
        boundary = tag in BLOCK_TAGS
        if not escaped:
            if boundary and self.run.parts:
                self.end_paragraph()
            elif tag == "br" and self.paragraphs_wanted:
                self.run.newline()
            if tag in OFFERED_TAGS or "itemprop" in attrib:
                self.meta.offer(element)
                if tag == "html":
                    self.page.lang = self.meta.lang
        if self.scope is None and self._offered(element, tag):
            for detector in self.detectors:
                post = detector.detect(element, self.page)
                if post is None or (escaped and not post.post_id):
                    continue  # escaped junk (templates, code samples) must carry an id
                if escaped:
                    post.kind = "escaped"
                self.scope = Sighting(post, self.order, escaped)
                self.sightings.append(self.scope)
                if not escaped:
                    self.end_paragraph()
                boundary = True
                break
        if tag == "a":
            self._link(element, escaped)
        if not escaped and self.scope is None and self.markers and attrib:
            for value in attrib.values():
                if "<" in value:
                    self._scan_escaped(value)
        return boundary

    def _offered(self, element: Element, tag: str) -> bool:
        """Whether any detector may claim ``element`` (its name, then its attributes)."""
        if self.claimable is None:
            return True
        if tag not in self.claimable:
            return False
        gate = self.claim_gates[tag]
        if gate is None:
            return True
        keys = element.keys()
        if not keys:
            return False
        names = f"{tag} {element.get('class') or ''} {element.get('id') or ''} {' '.join(keys)}"
        known = self.gate_answers.get(names)
        if known is None:  # pages repeat the same few class names many times
            known = self.gate_answers[names] = gate.search(names.lower()) is not None
        return known

    def _link(self, element: Element, escaped: bool) -> None:
        href = element.get("href")
        if href is None or (escaped and self.scope is None):
            return  # escaped copies of the page's own links would count them twice
        anchor = " ".join(text_content(element).split())
        link = RawLink(href, anchor, self.order, self.scope, escaped, self.chrome > 0)
        self.links.append(link)
        if self.scope is None:
            self.run_links.append((link, self.run.length))

    def _text(self, text: str, owner: str | None) -> None:
        """Text inside ``owner`` (an element's text) or after an element (``None``)."""
        if self.scope is not None:
            return
        if owner == "script":
            self._scan_escaped(text)
        elif not self.hidden:
            if not self.run.parts:
                self.run_order = self.order
            self.run.add(text)
            if "<" in text:  # text that shows markup, e.g. in a <textarea>
                self._scan_escaped(text)

    def _scan_escaped(self, raw: str) -> None:
        """Walk the embed markup escaped inside ``raw`` (cheap substring test first)."""
        if not any(marker in raw for marker in self.markers):
            return
        for fragment in unescape_fragments(raw):
            tree = make_tree(fragment)
            if tree is not None:
                self.walk(tree, escaped=True)

    def end_paragraph(self) -> None:
        """Close the current run of text; keep it if it may quote a post."""
        if not self.run.parts:
            return
        text = self.run.text()
        if text.strip():
            paragraph = _Paragraph(text, self.run_order, self.run_links)
            if any(marker in text for marker in self.quote_markers):
                # kept with the paragraph before, in case the signature stands alone
                paragraph.previous = self.last_paragraph
                self.paragraphs.append(paragraph)
            self.last_paragraph = paragraph
        self.run = TextBuilder()
        self.run_links = []


def _quoted_posts(walker: _Walker) -> None:
    """Add the posts quoted as plain text in the page's paragraphs as sightings."""
    for paragraph in walker.paragraphs:
        for detector in walker.detectors:
            text, links = paragraph.text, paragraph.links
            found = detector.quoted_posts(text, [(link.href, at) for link, at in links])
            previous = paragraph.previous
            alone = not found or (len(found) == 1 and not found[0].post.text)
            if alone and previous is not None and text.lstrip().startswith(_DASHES):
                # "<p>tweet text</p><p>— Name (@handle) Date</p>": the signature alone.
                shift = len(previous.text) + 1
                text = previous.text + "\n" + text
                links = previous.links + [(link, at + shift) for link, at in links]
                found = detector.quoted_posts(text, [(link.href, at) for link, at in links])
            for quoted in found:
                sighting = Sighting(quoted.post, paragraph.order, escaped=False)
                walker.sightings.append(sighting)
                spans = []
                for link, at in links:
                    if quoted.start <= at < quoted.end:
                        link.sighting = sighting
                        spans.append((at, at + len(link.text)))
                # URLs written as text ("pic.twitter.com/x") that no <a> shows are links too.
                for url, anchor, at in find_text_links(text, start=quoted.start, end=quoted.end):
                    if not any(begin <= at <= stop for begin, stop in spans):
                        walker.links.append(RawLink(url, anchor, paragraph.order, sighting))


@dataclass(slots=True)
class PageFindings:
    """What the traversal found, before sightings are merged into posts."""

    meta: Metadata
    sightings: list[Sighting]
    links: list[RawLink]
    warnings: list[str] = field(default_factory=list)


def walk_html(markup: str | bytes, detectors: Sequence[PostDetector]) -> PageFindings:
    """Parse ``markup`` (text, or UTF-8 bytes) once and walk it once: metadata, post
    sightings and raw links."""
    walker = _Walker(detectors)
    raw = markup.encode("utf-8", errors="replace") if isinstance(markup, str) else markup
    walker.paragraphs_wanted = any(m.encode() in raw for m in walker.quote_markers)
    del markup  # the tree is built from the bytes alone
    tree, warnings = make_page_tree(raw)
    if tree is not None:
        walker.walk(tree, escaped=False)
        walker.end_paragraph()
    _quoted_posts(walker)
    return PageFindings(walker.meta.result(), walker.sightings, walker.links, warnings)
