"""The visible text of an HTML element: whitespace collapsed, blocks and ``<br>`` as line
breaks, and where each link's text starts (what the embeds' readers and the traversal's
paragraphs are made of)."""

from __future__ import annotations

import re

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from scraper.parse.tree import Element

__all__ = ["BLOCK_TAGS", "HIDDEN_TAGS", "TextBuilder", "element_text"]

# Elements that end a paragraph of text.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "dd", "details",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p",
        "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        "ul",
    }
)  # fmt: skip
# Elements whose content is never shown as text.
HIDDEN_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title", "svg"})
_WALK_EVENTS = ("start", "end", "comment", "pi")
_WS_RE = re.compile(r"\s+")


class TextBuilder:
    """Whitespace-collapsed text with newlines at block boundaries; offsets stay exact."""

    __slots__ = ("length", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, raw: str) -> None:
        """Append text as shown (runs of whitespace as one space)."""
        if raw.isspace():  # most text nodes are indentation: skip the regex
            if self.parts and not self.parts[-1].endswith((" ", "\n")):
                self.parts.append(" ")
                self.length += 1
            return
        text = _WS_RE.sub(" ", raw)
        if not self.parts or self.parts[-1].endswith((" ", "\n")):
            text = text.lstrip(" ")
        if text:
            self.parts.append(text)
            self.length += len(text)

    def newline(self) -> None:
        """End the line (once, without trailing spaces)."""
        while self.parts and self.parts[-1].endswith(" "):  # no space at the end of a line
            last = self.parts.pop()
            trimmed = last.rstrip(" ")
            self.length -= len(last) - len(trimmed)
            if trimmed:
                self.parts.append(trimmed)
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")
            self.length += 1

    def text(self) -> str:
        """What was built so far."""
        return "".join(self.parts)


def element_text(root: Element) -> tuple[str, list[tuple[Element, int]]]:
    """The visible text under ``root`` (blocks and ``<br>`` as newlines) and its links.

    Returns the text and each ``<a>`` with the offset where its text starts. Emoji that
    WordPress turns into ``<img class="emoji" alt="😬">`` keep their character.
    """
    out = TextBuilder()
    anchors: list[tuple[Element, int]] = []
    stack: list[tuple[bool, bool]] = []
    hidden = 0
    for event, element in etree.iterwalk(root, events=_WALK_EVENTS):
        if event == "start":
            tag = element.tag
            is_hidden, block = tag in HIDDEN_TAGS, tag in BLOCK_TAGS
            stack.append((is_hidden, block))
            hidden += is_hidden
            if hidden:
                continue
            if block or tag == "br":
                out.newline()
            elif tag == "img" and "emoji" in (element.get("class") or ""):
                out.add(element.get("alt") or "")
            elif tag == "a":
                anchors.append((element, out.length))
            if element.text:
                out.add(element.text)
            continue
        if event == "end":
            is_hidden, block = stack.pop()
            hidden -= is_hidden
            if element is root:
                break
            if block and not hidden:
                out.newline()
        if element.tail and not hidden:
            out.add(element.tail)
    return out.text().rstrip(), anchors
