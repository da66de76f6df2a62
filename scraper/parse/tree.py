"""The one HTML parse: lxml trees of pages and escaped fragments, and their text."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

__all__ = ["DEPTH_LIMIT", "Element", "make_page_tree", "make_tree", "text_content"]

#: An lxml HTML element (lxml ships no type information, hence ``Any``).
Element = Any

_STRING_VALUE = etree.XPath("string()")
#: Elements nested deeper than this are flattened before parsing a page that libxml2
#: refused to parse whole (it stops at 2048 levels and drops the rest of the page).
DEPTH_LIMIT = 1000
# Tokens of the flattening pre-pass: comments, raw-text elements (kept whole), tags.
_TOKEN_RE = re.compile(
    r"<!--.*?(?:-->|$)|<(script|style|textarea|title)\b.*?(?:</\1\s*>|$)"
    r"|<(/?)([A-Za-z][^\s/>]*)[^>]*>",
    re.IGNORECASE | re.DOTALL,
)
# Elements that never hold others (no end tag), and the links that are kept at any depth.
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
_KEPT_DEEP = frozenset({"a"})
_TOO_DEEP = "nested deeper than the parser reads"
# libxml2 drops what follows </body> or </html>; browsers show it, so those tags go.
_DOCUMENT_END_RE = re.compile(rb"</(?:body|html)\s*>", re.IGNORECASE)
_NOTHING_AFTER_RE = re.compile(rb"(?:\s|</(?:body|html)\s*>)*\Z", re.IGNORECASE)


def make_tree(markup: str | bytes) -> Element | None:
    """The one parse of a page (or escaped fragment), or ``None`` when nothing is in it.

    ``markup`` is text, or UTF-8 bytes. lxml's plain elements, not ``lxml.html``'s: those
    are looked up by a Python function for every element touched, which cost more than
    the parse itself.
    """
    return _parse(markup)[0]


def _without_document_end(data: bytes) -> bytes:
    """``data`` without ``</body>`` and ``</html>`` when something follows them (libxml2
    drops what follows; browsers show it). A page that ends there is not copied."""
    first = _DOCUMENT_END_RE.search(data)
    if first is None or _NOTHING_AFTER_RE.match(data, first.start()) is not None:
        return data
    return _DOCUMENT_END_RE.sub(b"", data)


def _parse(markup: str | bytes) -> tuple[Element | None, bool]:
    """The tree of ``markup`` and whether libxml2 stopped at its nesting limit.

    One ``fromstring`` call, not the feed interface: fed in pieces, libxml2 stops at its
    depth limit without reporting it.
    """
    # Bytes with an explicit encoding: lxml refuses str that declares its own encoding,
    # and a <meta charset> must not override the decoding already done.
    if isinstance(markup, str):
        markup = markup.encode("utf-8", errors="replace")
    data = _without_document_end(markup)
    del markup
    # collect_ids=False: no table of id attributes (nothing looks elements up by id); it
    # saves about a tenth of the parse.
    parser = etree.HTMLParser(encoding="utf-8", huge_tree=True, collect_ids=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except (etree.LxmlError, ValueError):
        return None, False
    last = parser.error_log.last_error
    too_deep = last is not None and last.type_name == "ERR_RESOURCE_LIMIT"
    return root, too_deep  # root is None for a document with nothing in it


def make_page_tree(markup: str | bytes) -> tuple[Element | None, list[str]]:
    """The tree of a whole page, and warnings about what could not be read as written.

    A page nested deeper than libxml2 parses (which drops everything after the deep
    part) is parsed again with the elements below :data:`DEPTH_LIMIT` levels flattened
    (their text and links kept, their nesting not): what lies outside the deep part
    reads as usual, and the article gets a warning.
    """
    root, too_deep = _parse(markup)
    if not too_deep:
        return root, []
    if isinstance(markup, bytes):  # the rare page this happens to is read as text once
        markup = markup.decode("utf-8", errors="replace")
    root, still_too_deep = _parse(flatten_deep(markup, DEPTH_LIMIT))
    warning = f"{_TOO_DEEP}: elements below {DEPTH_LIMIT} levels flattened"
    if still_too_deep:
        warning = f"{_TOO_DEEP}: the page is cut at the deep part"
    return root, [warning]


def flatten_deep(markup: str, limit: int) -> str:
    """``markup`` without the tags of elements nested deeper than ``limit`` (text kept).

    Counts start and end tags as written (void elements, comments and raw-text elements
    aside); links are kept at any depth so the deep part's links still count.
    """
    depth = 0
    out: list[str] = []
    last = 0
    for token in _TOKEN_RE.finditer(markup):
        name = token.group(3)
        if name is None:
            continue  # a comment or a raw-text element: kept as written
        name = name.lower()
        if name in _VOID:
            continue
        closing = token.group(2) == "/"
        if closing:
            drop = depth > limit and name not in _KEPT_DEEP
            depth = max(depth - 1, 0)
        else:
            depth += 1
            drop = depth > limit and name not in _KEPT_DEEP
        if drop:
            out.append(markup[last : token.start()])
            last = token.end()
    out.append(markup[last:])
    return "".join(out)


def text_content(element: Element) -> str:
    """All the text under ``element`` (what ``lxml.html``'s ``text_content()`` gives)."""
    return str(_STRING_VALUE(element))
