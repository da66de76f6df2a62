"""The one traversal of an HTML page: metadata, post sightings and links.

The page is parsed once with lxml and its nodes are visited once, in document order, by
lxml's own iterator: no start and end events, and for most elements no Python work beyond
one dictionary look-up on the element's name. On the shared corpus iterating every node
costs about a sixth of the parse, while the earlier event walk, with work on every
element, cost twice the parse. What depends on an element's surroundings (inside a
claimed embed, inside page furniture, inside a hidden element) is known from where that
surrounding ends: the node that follows its subtree.

Elements whose name a :class:`PostDetector` (one per platform, e.g.
``scraper.parse.twitter``) may claim, and whose class, id and attribute names pass that
detector's gate, are offered to the detectors outside embeds already claimed. A detector
that recognises an embed claims the element: the links under it become the post's links.
Metadata elements go to the metadata collector; links are collected. Scripts, attributes
and text that carry escaped embed markup are unescaped, parsed and visited the same way,
their posts marked ``escaped``. Paragraphs (text between block boundaries) are built only
around text that may quote a post (:mod:`scraper.parse.paragraphs`) and go to the
detectors' plain-text quote finders. :mod:`scraper.parse` then merges the sightings into
posts.

Each sighting and link has an ``order``: its element's position in the page times
:data:`ORDER_SCALE`; the elements of an escaped fragment take the numbers after their
host's, so sorting by ``order`` is sorting by document order.

lxml is used directly rather than through BeautifulSoup: on the shared corpus (356
pages) building BeautifulSoup trees alone took 14 s, lxml parsing 0.4 s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from scraper.model import Post
from scraper.parse.encoding import decode_base64_markup, unescape_fragments
from scraper.parse.metadata import OFFERED_TAGS, Metadata, MetadataCollector
from scraper.parse.paragraphs import PageText, quoted_sightings
from scraper.parse.sightings import ORDER_SCALE, RawLink, Sighting
from scraper.parse.tree import Element, make_page_tree, make_tree, text_content
from scraper.parse.visible_text import HIDDEN_TAGS, element_text

__all__ = [
    "ORDER_SCALE",
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
# Elements whose content libxml2 keeps as text (markup in them is text that shows "<").
_TEXT_HOST_TAGS = frozenset(
    {"script", "textarea", "xmp", "iframe", "noembed", "noframes", "plaintext"}
)
# What the traversal does with an element, by its name (bit flags).
_META, _CLAIM, _GATED, _LINK, _CHROME, _CHROME_CLASS, _HIDDEN, _TEXT_HOST, _NOT_ELEMENT = (
    1 << bit for bit in range(9)
)
# Elements that only ask for their class (furniture) and the gate: divs, spans, lists.
_CLASS_ONLY = _CHROME_CLASS | _GATED
# Text and attribute values show "<" only through a character reference (or in a raw-text
# element, or written as it is in an attribute value): pages without one hide no markup
# there. (Explicit classes, not IGNORECASE: this way the search skips ahead to each "&".)
_ESCAPED_LT_RE = re.compile(rb"&(?:[lL][tT]|#0*60|#[xX]0*3[cC])(?![a-zA-Z0-9])")
# A quote's handle follows "(": as text ("(@handle)"), in a link or other inline markup
# ("(<a>@handle</a>)") or as a character reference ("(&#64;handle)"); or the "(" is a
# reference itself. Two searches, each skipping ahead to its first character, rather than
# one that tries both at every position.
_PAREN_BEFORE_HANDLE_RE = re.compile(
    rb"\((?:@|<(?:a|b|strong|span|em|i|u|small|cite|mark|font)\b|&(?:#0*64|#[xX]0*40|commat);)"
)
_PAREN_REFERENCE_RE = re.compile(rb"&(?:#0*40|#[xX]0*28|lpar);")
# Borlabs Cookie, a consent tool of many German WordPress sites, keeps the embed it blocks
# base64-encoded: in an attribute of its container since version 3, before that as the
# text (or a template script) of a hidden element that says it is a content blocker.
# Both are divs or spans that pass the gate ("borlabs" names them), so they are read
# where a gated element was not claimed.
_ENCODED_CONTENT_ATTRIBUTE = "data-borlabs-cookie-content"
_ENCODED_CONTENT_TYPE = ("data-borlabs-cookie-type", "content-blocker")


@dataclass(slots=True)
class PageContext:
    """What a detector may know about the page: its declared language."""

    lang: str | None = None


class PostDetector(Protocol):
    """A platform plug-in, offered the elements of the traversal outside claimed embeds.

    ``markers``: substrings without which a script, attribute or text holds no escaped
    embed of the platform (only strings with one are unescaped and parsed).
    ``quote_markers``: substrings without which a paragraph quotes no post as text; each
    starts with "(" (the parenthesis before a quote's handle).
    A detector may also say which elements it can claim, as a mapping ``element_names``
    from element name to a regular expression that the element's lower-cased name,
    class, id and attribute names must match (``None``: offer every such element). When
    every detector says, the traversal offers them nothing else; a detector without it is
    offered every element.
    """

    platform: str
    markers: tuple[str, ...]
    quote_markers: tuple[str, ...]

    def detect(self, element: Element, page: PageContext) -> Post | None:
        """The post this element embeds (the element is then claimed), else ``None``."""
        ...

    def quoted_posts(self, text: str, links: Sequence[tuple[str, int]]) -> list[Any]:
        """Posts quoted as plain text in a paragraph (``links``: hrefs and their offsets),
        as :class:`scraper.parse.text.TextPost`."""
        ...


@dataclass(slots=True)
class PageFindings:
    """What the traversal found, before sightings are merged into posts."""

    meta: Metadata
    sightings: list[Sighting]
    links: list[RawLink]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a set of detectors needs of the traversal (built once per set)."""

    #: Per element name, what to do with it (the ``_META``... bit flags).
    kinds: dict[Any, int]
    #: What a gated element's name, class, id or attribute names must hold to be offered:
    #: every detector's words for every gated name, in one pattern. A gate only saves
    #: work (detectors check the elements they are offered), so one wider gate gives the
    #: same posts as a gate per name, and is asked once per distinct class on a page.
    gate: re.Pattern[str] | None
    #: Gated element names that hold a gate word themselves.
    named_by_gate: frozenset[str]
    #: Every element may be claimed (a detector did not say which).
    claims_any: bool
    markers: tuple[str, ...]
    quote_markers: tuple[str, ...]


@lru_cache(maxsize=8)
def _plan(detectors: tuple[PostDetector, ...]) -> _Plan:
    names: list[Mapping[str, str | None] | None] = [
        getattr(d, "element_names", None) for d in detectors
    ]
    patterns: dict[str, list[str] | None] = {}
    for mapping in names:
        for tag, pattern in (mapping or {}).items():
            known = patterns.setdefault(tag, [])
            if pattern is None or known is None:
                patterns[tag] = None
            else:
                known.append(pattern)
    words = list(dict.fromkeys(w for found in patterns.values() if found for w in found))
    gate = re.compile("|".join(words)) if words else None
    kinds: dict[Any, int] = {}

    def mark(tags: Iterable[str], flag: int) -> None:
        for tag in tags:
            kinds[tag] = kinds.get(tag, 0) | flag

    mark(OFFERED_TAGS, _META)
    mark((tag for tag, found in patterns.items() if found is None), _CLAIM)
    gated = [tag for tag, found in patterns.items() if found is not None]
    mark(gated, _GATED)
    mark(("a",), _LINK)
    mark(_CHROME_TAGS, _CHROME)
    mark(_CHROME_CLASS_TAGS, _CHROME_CLASS)
    mark(HIDDEN_TAGS, _HIDDEN)
    mark(_TEXT_HOST_TAGS, _TEXT_HOST)
    for not_element in (etree.Comment, etree.ProcessingInstruction, etree.Entity):
        kinds[not_element] = _NOT_ELEMENT
    named = frozenset(tag for tag in gated if gate is not None and gate.search(tag))
    markers = tuple(dict.fromkeys(m for d in detectors for m in d.markers))
    quote_markers = tuple(dict.fromkeys(m for d in detectors for m in d.quote_markers))
    if any(not marker.startswith("(") for marker in quote_markers):
        raise ValueError(f"quote markers must start with '(': {quote_markers}")
    claims_any = any(mapping is None for mapping in names)
    return _Plan(kinds, gate, named, claims_any, markers, quote_markers)


def _after(node: Element, root: Element) -> Element | None:
    """The node that follows ``node``'s subtree in document order, inside ``root``."""
    while node is not root:
        following = node.getnext()
        if following is not None:
            return following
        node = node.getparent()
        if node is None:
            return None
    return None


def _stop_at(stops: dict[Element, list[str]], node: Element, root: Element, what: str) -> None:
    """Make ``what`` (entered at ``node``) end where ``node``'s subtree ends."""
    end = _after(node, root)
    if end is not None:  # else it lasts to the end of the page
        stops.setdefault(end, []).append(what)


def _anchor_text(element: Element) -> str:
    """A link's text, whitespace collapsed (most links hold only text)."""
    if len(element) == 0:
        text = element.text
        return " ".join(text.split()) if text else ""
    return " ".join(text_content(element).split())


@dataclass(slots=True)
class _Walker:
    """The state of one traversal (and of the escaped fragments visited during it)."""

    plan: _Plan
    detectors: Sequence[PostDetector]
    meta: MetadataCollector = field(default_factory=MetadataCollector)
    page: PageContext = field(default_factory=PageContext)
    sightings: list[Sighting] = field(default_factory=list)
    links: list[RawLink] = field(default_factory=list)
    #: Positions of the page's elements, and of the escaped fragments' elements per host.
    index: int = 0
    fragment_counts: dict[int, int] = field(default_factory=dict)
    #: What the paragraphs need: claimed elements, links outside embeds, marked text.
    text: PageText = field(default_factory=PageText)
    gate_answers: dict[str, bool] = field(default_factory=dict)
    gate_word_answers: dict[str, bool] = field(default_factory=dict)
    #: What the page's bytes say may be in it (each saves work on every element).
    look_for_quotes: bool = False
    look_for_escaped_text: bool = False
    look_for_itemprop: bool = False
    #: The characters without which a text or tail holds nothing to look for: "(" (a
    #: quote's handle follows one), "<" (escaped markup), the same one twice when only one
    #: is looked for, ``None`` when nothing is (two ``in`` tests cost less than a search).
    text_triggers: tuple[str, str] | None = None

    def visit(self, root: Element, host: int | None = None) -> None:
        """Visit every node under ``root`` in document order; ``host``: the position of
        the element whose script, attribute or text held ``root`` (an escaped fragment).

        This loop runs for every node of every page: its common paths (elements with
        nothing to do, links, divs and spans asked only for their class, text with
        nothing to look for) are written out here, with local names, rather than spread
        over small methods.
        """
        plan = self.plan
        kinds = plan.kinds
        default_kind = _CLAIM if plan.claims_any else 0
        escaped = host is not None
        # On pages that may quote a post or hide escaped markup in text, text and tails
        # holding one of the trigger characters are looked at (most hold none).
        triggers = None if escaped else self.text_triggers
        first, second = triggers or ("", "")  # read only when there are triggers
        look_for_itemprop = not escaped and self.look_for_itemprop
        gate_answers, named_by_gate = self.gate_answers, plan.named_by_gate
        index = self.index
        fragment_count = self.fragment_counts.get(host, 0) if escaped else 0  # type: ignore[arg-type]
        scope: Sighting | None = None
        chrome = hidden = attributes_read = False
        # Where the current claimed embed, page furniture and hidden element end.
        stops: dict[Element, list[str]] = {}
        for node in root.iter():
            if stops and node in stops:
                for ended in stops.pop(node):
                    if ended == "scope":
                        scope = None
                    elif ended == "chrome":
                        chrome = False
                    else:
                        hidden = False
            kind = kinds.get(node.tag, default_kind)
            if kind & _NOT_ELEMENT:
                if triggers is not None:
                    tail = node.tail
                    if tail and (first in tail or second in tail):
                        self._look_at(node, index, tail, True, scope is None and not hidden)
                continue
            if escaped:
                fragment_count += 1
                order = host * ORDER_SCALE + fragment_count  # type: ignore[operator]
            else:
                index += 1
                order = index * ORDER_SCALE
            if kind == _LINK:  # a link: the next most common element after divs
                self._add_link(node, order, index, scope, escaped, chrome)
                kind = 0
            elif kind and not kind & ~_CLASS_ONLY:  # a div, span, list: only its class
                names = node.get("class")
                if not chrome and kind & _CHROME_CLASS and _is_chrome_class(names):
                    chrome = True
                    _stop_at(stops, node, root, "chrome")
                if (
                    scope is None
                    and kind & _GATED
                    # Most gated elements: a class the page already showed to fail.
                    and not (
                        gate_answers.get(names) is False
                        and node.keys() == ["class"]
                        and node.tag not in named_by_gate
                    )
                    and self._passes_gate(node, names)
                ):
                    self.index = index
                    scope = self._claim(node, order, escaped)
                    if scope is not None:
                        _stop_at(stops, node, root, "scope")
                        if triggers is not None:  # its tail is outside the embed it holds
                            text, tail = node.text, node.tail
                            if text and (first in text or second in text):
                                self._look_at(node, index, text, False, False)
                            if tail and (first in tail or second in tail):
                                self._look_at(node, index, tail, True, not hidden)
                        continue
                    if not escaped:  # a consent box keeps the embed it replaced
                        self._scan_attributes(node)
                        self._scan_encoded(node)
                        attributes_read = True
                kind = 0
            if kind == 0:  # most elements: nothing more to do
                if look_for_itemprop and node.get("itemprop") is not None:
                    self.meta.offer(node)
                if triggers is not None:
                    if self.look_for_escaped_text and scope is None and not attributes_read:
                        self._scan_attributes(node)
                    attributes_read = False
                    text = node.text
                    if text and (first in text or second in text):
                        self._look_at(node, index, text, False, scope is None and not hidden)
                    tail = node.tail
                    if tail and (first in tail or second in tail):
                        self._look_at(node, index, tail, True, scope is None and not hidden)
                continue
            self.index = index
            scope_outside, hidden_outside = scope, hidden
            tag = node.tag
            if not chrome and kind & (_CHROME | _CHROME_CLASS):
                names = node.get("class")
                if kind & _CHROME or _is_chrome_class(names):
                    chrome = True
                    _stop_at(stops, node, root, "chrome")
            if not hidden and kind & _HIDDEN:
                hidden = True
                _stop_at(stops, node, root, "hidden")
            if not escaped and (
                kind & _META or (look_for_itemprop and node.get("itemprop") is not None)
            ):
                self.meta.offer(node)
                if tag == "html":
                    self.page.lang = self.meta.lang
            if scope is None and (
                kind & _CLAIM or (kind & _GATED and self._passes_gate(node, node.get("class")))
            ):
                scope = self._claim(node, order, escaped)
                if scope is not None:
                    _stop_at(stops, node, root, "scope")
            if kind & _LINK:
                self._add_link(node, order, index, scope, escaped, chrome)
            if escaped:
                continue
            if scope is None:
                self._scan_attributes(node)
                if kind & _TEXT_HOST:
                    # Scripts are read hidden or not; raw text only where it shows.
                    text = node.text
                    if text and (tag == "script" or ("<" in text and not hidden)):
                        self._scan_escaped(text)
            if triggers is not None:
                text = node.text
                if text and (first in text or second in text):
                    # Text hosts' text was read above: it is not also text shown.
                    shown = scope is None and not hidden and not kind & _TEXT_HOST
                    self._look_at(node, index, text, False, shown)
                tail = node.tail
                if tail and (first in tail or second in tail):
                    outside = scope_outside is None and not hidden_outside
                    self._look_at(node, index, tail, True, outside)
        if escaped:
            self.fragment_counts[host] = fragment_count  # type: ignore[index]
        else:
            self.index = index

    def _add_link(
        self,
        element: Element,
        order: int,
        index: int,
        scope: Sighting | None,
        escaped: bool,
        chrome: bool,
    ) -> None:
        """Collect an ``<a href>`` (``index``: its position in the page)."""
        href = element.get("href")
        if href is None or (escaped and scope is None):
            return  # escaped copies of the page's own links would count them twice
        link = RawLink(href, _anchor_text(element), order, scope, escaped, chrome)
        self.links.append(link)
        if scope is None and not escaped:
            self.text.links[index] = link

    def _claim(self, element: Element, order: int, escaped: bool) -> Sighting | None:
        """Offer ``element`` to the detectors; the sighting of the first that claims it."""
        for detector in self.detectors:
            post = detector.detect(element, self.page)
            if post is None or (escaped and not post.post_id):
                continue  # escaped junk (templates, code samples) must carry an id
            if escaped:
                post.kind = "escaped"
            sighting = Sighting(post, order, escaped)
            self.sightings.append(sighting)
            if not escaped:
                self.text.claimed.add(element)
            return sighting
        return None

    def _passes_gate(self, element: Element, names: str | None) -> bool:
        """Whether a gate word is in ``element``'s name, class (``names``), id or
        attribute names."""
        keys = element.keys()
        if not keys:
            return False
        if element.tag in self.plan.named_by_gate:
            return True
        if len(keys) == 1 and names is not None:
            return self._holds_gate_word(names)
        if names is not None and self._holds_gate_word(names):
            return True
        if self._holds_gate_word(" ".join(keys)):
            return True
        ident = element.get("id")  # ids differ on every element: asked, not kept
        gate = self.plan.gate
        return ident is not None and gate is not None and gate.search(ident.lower()) is not None

    def _holds_gate_word(self, value: str) -> bool:
        """Whether a gate word is in ``value``, asked once per value and per word of it:
        pages repeat the same few class names, and class names the same few words."""
        known = self.gate_answers.get(value)
        if known is None:
            gate, words = self.plan.gate, self.gate_word_answers
            known = False
            for word in value.split():  # gate words hold no spaces
                answer = words.get(word)
                if answer is None:
                    answer = words[word] = (
                        gate is not None and gate.search(word.lower()) is not None
                    )
                if answer:
                    known = True
                    break
            self.gate_answers[value] = known
        return known

    def _look_at(self, node: Element, index: int, text: str, is_tail: bool, shown: bool) -> None:
        """Text or a tail holding a trigger character: remember it if it may start or
        hold a quoted post (its paragraph is built later); visit the markup escaped in
        it if it is ``shown`` (outside claimed embeds and hidden elements)."""
        if self.look_for_quotes and (
            text.endswith("(") or any(marker in text for marker in self.plan.quote_markers)
        ):
            self.text.marked.append((node, index, is_tail))
        if self.look_for_escaped_text and shown and "<" in text:
            self._scan_escaped(text)

    def _scan_attributes(self, element: Element) -> None:
        """Visit the embed markup in ``element``'s attribute values (a consent box keeps
        the embed it replaced in a ``data-`` attribute)."""
        for value in element.values():
            if "<" in value:
                self._scan_escaped(value)

    def _scan_encoded(self, element: Element) -> None:
        """Visit the embed a consent tool keeps base64-encoded in ``element`` (Borlabs
        Cookie's attribute, or the text of its content blocker)."""
        encoded = element.get(_ENCODED_CONTENT_ATTRIBUTE)
        name, kind = _ENCODED_CONTENT_TYPE
        if encoded is None and element.get(name) == kind:
            encoded = "".join(element.itertext())
        markup = decode_base64_markup(encoded) if encoded else None
        if markup is not None:
            self._scan_escaped(markup)

    def _scan_escaped(self, raw: str) -> None:
        """Visit the embed markup escaped inside ``raw`` (cheap substring test first)."""
        if not any(marker in raw for marker in self.plan.markers):
            return
        for fragment in unescape_fragments(raw):
            tree = make_tree(fragment)
            if tree is not None:
                self.visit(tree, host=self.index)


def _is_chrome_class(names: str | None) -> bool:
    """A class attribute naming a sidebar or a WordPress widget ("widget_twitter")."""
    return names is not None and ("sidebar" in names or "widget_" in names)


def _text_triggers(quotes: bool, escaped_text: bool) -> tuple[str, str] | None:
    """What a text must hold to be looked at: ``(`` (quote markers start with it, and a
    quote's ``(<a>@handle</a>)`` leaves it at a text's end), ``<`` (escaped markup)."""
    if quotes and escaped_text:
        return "(", "<"
    if quotes or escaped_text:
        return ("(", "(") if quotes else ("<", "<")
    return None


def _may_quote(raw: bytes, quote_markers: Sequence[str]) -> bool:
    """Whether a page's bytes may hold a post quoted as text: a quote marker, or a "("
    the quote's handle may follow through markup or a character reference."""
    if not quote_markers:
        return False
    if _PAREN_BEFORE_HANDLE_RE.search(raw) or _PAREN_REFERENCE_RE.search(raw):
        return True
    # Markers the search above covers ("(@") need no search of their own.
    return any(m.encode() in raw for m in quote_markers if not m.startswith("(@"))


def walk_html(markup: str | bytes, detectors: Sequence[PostDetector]) -> PageFindings:
    """Parse ``markup`` (text, or UTF-8 bytes) once and visit it once: metadata, post
    sightings and raw links."""
    plan = _plan(tuple(detectors))
    walker = _Walker(plan, detectors)
    raw = markup.encode("utf-8", errors="replace") if isinstance(markup, str) else markup
    del markup  # the tree is built from the bytes alone
    # Pages rarely hold what the rarer steps look for; their bytes say so at C speed.
    walker.look_for_quotes = _may_quote(raw, plan.quote_markers)
    if plan.markers:
        walker.look_for_escaped_text = _ESCAPED_LT_RE.search(raw) is not None
    walker.look_for_itemprop = b"itemprop" in raw
    walker.text_triggers = _text_triggers(walker.look_for_quotes, walker.look_for_escaped_text)
    tree, warnings = make_page_tree(raw)
    sightings = walker.sightings
    if tree is not None:
        walker.visit(tree)
        if walker.text.marked:
            walker.text.fragment_counts = walker.fragment_counts
            sightings.extend(
                quoted_sightings(walker.text, detectors, plan.quote_markers, walker.links)
            )
    return PageFindings(walker.meta.result(), sightings, walker.links, warnings)
