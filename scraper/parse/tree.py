"""The one HTML parse: lxml trees of pages and escaped fragments, and their text."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

__all__ = ["Element", "make_tree", "text_content"]

#: An lxml HTML element (lxml ships no type information, hence ``Any``).
Element = Any

_STRING_VALUE = etree.XPath("string()")
# libxml2 drops what follows </body> or </html>; browsers show it, so those tags go.
_DOCUMENT_END_RE = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)


def make_tree(markup: str) -> Element | None:
    """The one parse of a page (or escaped fragment), or ``None`` when nothing is in it.

    lxml's plain elements, not ``lxml.html``'s: those are looked up by a Python function
    for every element touched, which cost more than the parse itself.
    """
    cleaned = _DOCUMENT_END_RE.sub("", markup) if "</" in markup else markup
    # Bytes with an explicit encoding: lxml refuses str that declares its own encoding,
    # and a <meta charset> must not override the decoding already done.
    parser = etree.HTMLParser(encoding="utf-8", huge_tree=True)
    try:
        root = etree.fromstring(cleaned.encode("utf-8", errors="replace"), parser=parser)
    except (etree.LxmlError, ValueError):
        return None
    return root  # None for a document with nothing in it


def text_content(element: Element) -> str:
    """All the text under ``element`` (what ``lxml.html``'s ``text_content()`` gives)."""
    return str(_STRING_VALUE(element))
