"""Paragraphs around text that may quote a post, and the posts quoted in them.

A paragraph is the visible text between block boundaries (block elements, and embeds a
detector claimed), with its links and where their text starts. The traversal
(:mod:`scraper.parse.html`) does not build them as it goes: it only marks text that holds
a quote marker (``(@``) or ends in ``(`` (``(<a>@handle</a>)``). Each marked text's
nearest block is then read here with a start and end event walk, and its paragraphs go to
the detectors' plain-text quote finders. A signature standing alone (``<p>text</p><p>—
Name (@handle) Date</p>``) is read with the paragraph before it, found by reading the
enclosing block when it lies outside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from scraper.parse.sightings import ORDER_SCALE, RawLink, Sighting
from scraper.parse.text import find_text_links
from scraper.parse.tree import Element
from scraper.parse.visible_text import BLOCK_TAGS, HIDDEN_TAGS, TextBuilder

__all__ = ["PageText", "Paragraph", "quoted_sightings"]

_WALK_EVENTS = ("start", "end", "comment", "pi")
_DASHES = ("—", "―", "–", "-")


@dataclass(slots=True)
class PageText:
    """What the traversal leaves for the paragraphs.

    ``claimed``: the elements detectors claimed (their text is the embed's); ``links``:
    links outside embeds by their element's position; ``marked``: text that may quote a
    post, as (node, position of the last element started, whether it is the node's tail);
    ``fragment_counts``: elements of escaped fragments per host position.
    """

    claimed: set[Element] = field(default_factory=set)
    links: dict[int, RawLink] = field(default_factory=dict)
    marked: list[tuple[Element, int, bool]] = field(default_factory=list)
    fragment_counts: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Paragraph:
    """Text between block boundaries, with its links and their offsets."""

    text: str
    order: int
    links: list[tuple[RawLink, int]]


@dataclass(slots=True)
class _Region:
    """A block element read for its paragraphs, and its position in the page."""

    block: Element
    start: int
    paragraphs: list[Paragraph]


def _nearest_block(node: Element | None) -> Element | None:
    """``node`` if it is a block element, else its nearest block ancestor."""
    while node is not None and node.tag not in BLOCK_TAGS:
        node = node.getparent()
    return node


def _start(block: Element, node: Element, position: int) -> int:
    """The position of ``block``, from that of ``node`` inside it (or of the last element
    started before ``node``, when it is a comment)."""
    count = 0
    for found in block.iter():
        if isinstance(found.tag, str):
            count += 1
        if found is node:
            break
    return position - count + 1


def _is_unread(block: Element, page: PageText) -> bool:
    """Whether ``block`` is outside claimed embeds and hidden elements."""
    for element in (block, *block.iterancestors()):
        if element in page.claimed or element.tag in HIDDEN_TAGS:
            return False
    return True


def _read(page: PageText, block: Element, start: int) -> list[Paragraph]:
    """The paragraphs of ``block`` (whose position is ``start``), blank ones left out."""
    paragraphs: list[Paragraph] = []
    run = TextBuilder()
    run_links: list[tuple[RawLink, int]] = []
    run_order = 0
    index = start - 1
    hidden = claimed = 0
    stack: list[tuple[bool, bool, bool]] = []

    def end_run() -> None:
        nonlocal run, run_links
        if not run.parts:
            return
        text = run.text()
        if text.strip():
            paragraphs.append(Paragraph(text, run_order, run_links))
        run = TextBuilder()
        run_links = []

    def add(text: str) -> None:
        nonlocal run_order
        if not run.parts:
            run_order = index * ORDER_SCALE + page.fragment_counts.get(index, 0)
        run.add(text)

    for event, element in etree.iterwalk(block, events=_WALK_EVENTS):
        if event == "start":
            index += 1
            tag = element.tag
            is_claimed = not claimed and element in page.claimed
            is_hidden = tag in HIDDEN_TAGS
            boundary = is_claimed or tag in BLOCK_TAGS
            if boundary:
                end_run()
            elif tag == "br":
                run.newline()
            claimed += is_claimed
            hidden += is_hidden
            stack.append((boundary, is_hidden, is_claimed))
            if tag == "a" and not claimed:
                link = page.links.get(index)
                if link is not None:
                    run_links.append((link, run.length))
            text = element.text
            if text and not (claimed or hidden):
                add(text)
            continue
        if event == "end":
            boundary, is_hidden, is_claimed = stack.pop()
            hidden -= is_hidden
            claimed -= is_claimed
            if boundary:
                end_run()
            if element is block:
                break
        tail = element.tail
        if tail and not (claimed or hidden):
            add(tail)
    end_run()
    return paragraphs


def _regions(page: PageText) -> list[_Region]:
    """The blocks holding marked text, outermost only, in document order."""
    found: dict[Element, int] = {}
    for node, position, is_tail in page.marked:
        block = _nearest_block(node.getparent() if is_tail else node)
        if block is not None and block not in found:
            found[block] = _start(block, node, position)
    regions = []
    for block, start in sorted(found.items(), key=lambda item: item[1]):
        if any(a in found for a in block.iterancestors()) or not _is_unread(block, page):
            continue
        regions.append(_Region(block, start, _read(page, block, start)))
    return regions


def _previous_outside(page: PageText, region: _Region) -> Paragraph | None:
    """The paragraph before ``region``'s first one: read from the enclosing blocks."""
    first = region.paragraphs[0]
    inner, start = region.block, region.start
    while (outer := _nearest_block(inner.getparent())) is not None:
        start = _start(outer, inner, start)
        paragraphs = _read(page, outer, start)
        at = next(
            (
                i
                for i, p in enumerate(paragraphs)
                if p.order == first.order and p.text == first.text
            ),
            None,
        )
        if at is None:
            return None
        if at > 0:
            return paragraphs[at - 1]
        inner = outer
    return None


def quoted_sightings(
    page: PageText,
    detectors: Sequence[Any],
    quote_markers: Sequence[str],
    links: list[RawLink],
) -> list[Sighting]:
    """The posts quoted as plain text around the marked text, as sightings.

    Links inside a quote are given to its sighting; URLs written as text inside it
    ("pic.twitter.com/x") that no ``<a>`` shows are added to ``links``.
    """
    sightings: list[Sighting] = []
    for region in _regions(page):
        for number, paragraph in enumerate(region.paragraphs):
            if not any(marker in paragraph.text for marker in quote_markers):
                continue
            for detector in detectors:
                text, paragraph_links = paragraph.text, paragraph.links
                found = detector.quoted_posts(text, [(k.href, at) for k, at in paragraph_links])
                alone = not found or (len(found) == 1 and not found[0].post.text)
                if alone and text.lstrip().startswith(_DASHES):
                    # "<p>tweet text</p><p>— Name (@handle) Date</p>": the signature alone.
                    if number > 0:
                        previous: Paragraph | None = region.paragraphs[number - 1]
                    else:
                        previous = _previous_outside(page, region)
                    if previous is not None:
                        shift = len(previous.text) + 1
                        text = previous.text + "\n" + text
                        paragraph_links = previous.links + [
                            (link, at + shift) for link, at in paragraph_links
                        ]
                        found = detector.quoted_posts(
                            text, [(k.href, at) for k, at in paragraph_links]
                        )
                for quoted in found:
                    sighting = Sighting(quoted.post, paragraph.order, escaped=False)
                    sightings.append(sighting)
                    spans = []
                    for link, at in paragraph_links:
                        if quoted.start <= at < quoted.end:
                            link.sighting = sighting
                            spans.append((at, at + len(link.text)))
                    # URLs written as text that no <a> shows are links too.
                    for url, anchor, at in find_text_links(
                        text, start=quoted.start, end=quoted.end
                    ):
                        if not any(begin <= at <= stop for begin, stop in spans):
                            links.append(RawLink(url, anchor, paragraph.order, sighting))
    return sightings
