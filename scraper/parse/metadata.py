"""Page metadata gathered during the single traversal: title, canonical URL, published date.

:class:`MetadataCollector` is offered the elements whose names are in :data:`OFFERED_TAGS`
(and any element with an ``itemprop``) in document order, keeps the first value of each
source, and :meth:`MetadataCollector.result` picks by priority at the end:

- title: ``og:title``, ``twitter:title``, ``<title>``, the first ``<h1>``;
- canonical URL: ``<link rel=canonical>``, ``og:url``;
- published: ``article:published_time``, JSON-LD ``datePublished`` (also inside
  ``@graph``), ``itemprop=datePublished``, the first ``<time datetime>`` inside an
  ``<article>`` (else the first one anywhere), each normalised by ``parse_datetime_iso``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scraper.parse.dates import parse_datetime_iso
from scraper.parse.tree import text_content

#: An lxml HTML element (lxml ships no type information).
Element = Any

__all__ = ["OFFERED_TAGS", "Metadata", "MetadataCollector"]

OFFERED_TAGS = frozenset({"title", "meta", "link", "base", "h1", "time", "script", "html"})
_MAX_TITLE_CHARS = 500
# JSON-LD types whose datePublished is the article's (a WebPage or an Organization's
# founding date is only a fallback).
_ARTICLE_TYPES = ("Article", "Posting", "Report", "Blog", "Story")


@dataclass(slots=True)
class Metadata:
    """What the page says about itself (every field may be missing)."""

    title: str | None = None
    canonical_url: str | None = None
    published: str | None = None
    base_href: str | None = None
    lang: str | None = None


def _text(element: Element) -> str:
    return " ".join(text_content(element).split())


def _attr(element: Element, name: str) -> str | None:
    value = element.get(name)
    return (value.strip() or None) if value else None


def _inside(element: Element, name: str) -> bool:
    return next(element.iterancestors(name), None) is not None


class MetadataCollector:
    """Collects the first value of each metadata source as the traversal offers elements."""

    def __init__(self) -> None:
        self._first: dict[str, str] = {}
        self._time_anywhere: str | None = None

    @property
    def lang(self) -> str | None:
        """The page's declared language (``<html lang>``), once its element was offered."""
        return self._first.get("lang")

    def _keep(self, source: str, value: str | None) -> None:
        if value and source not in self._first:
            self._first[source] = value

    def offer(self, tag: Element) -> None:
        """Look at one element (called in document order)."""
        name = tag.tag
        if name == "meta":
            self._meta(tag)
        elif name == "link":
            if "canonical" in (tag.get("rel") or "").lower().split():
                self._keep("canonical", _attr(tag, "href"))
        elif name == "title" and "title" not in self._first and not _inside(tag, "svg"):
            self._keep("title", _text(tag)[:_MAX_TITLE_CHARS])
        elif name == "h1" and "h1" not in self._first:
            self._keep("h1", _text(tag)[:_MAX_TITLE_CHARS])
        elif name == "base":
            self._keep("base", _attr(tag, "href"))
        elif name == "html":
            self._keep("lang", _attr(tag, "lang") or _attr(tag, "xml:lang"))
        elif name == "time":
            self._time(tag)
        elif name == "script":
            kind = (_attr(tag, "type") or "").lower()
            if kind == "application/ld+json" and "jsonld" not in self._first and tag.text:
                self._keep("jsonld", _json_ld_published(tag.text))
        itemprop = tag.get("itemprop")
        if itemprop and "itemprop" not in self._first and "datePublished" in itemprop.split():
            raw = _attr(tag, "content") or _attr(tag, "datetime") or _text(tag)
            self._keep("itemprop", parse_datetime_iso(raw) if raw else None)

    def _meta(self, tag: Element) -> None:
        key = (_attr(tag, "property") or _attr(tag, "name") or "").lower()
        if not key:
            return
        content = _attr(tag, "content")
        if key in ("og:title", "twitter:title", "og:url"):
            self._keep(key, content[:_MAX_TITLE_CHARS] if content else None)
        elif key == "article:published_time":
            self._keep(key, parse_datetime_iso(content) if content else None)

    def _time(self, tag: Element) -> None:
        if "time_article" in self._first:
            return
        raw = _attr(tag, "datetime")
        value = parse_datetime_iso(raw) if raw else None
        if value is None:
            return
        if self._time_anywhere is None:
            self._time_anywhere = value
        if _inside(tag, "article"):
            self._keep("time_article", value)

    def result(self) -> Metadata:
        """The chosen title, canonical URL, published date, ``<base href>`` and language."""
        first = self._first

        def pick(*sources: str) -> str | None:
            return next((first[s] for s in sources if first.get(s)), None)

        return Metadata(
            title=pick("og:title", "twitter:title", "title", "h1"),
            canonical_url=pick("canonical", "og:url"),
            published=pick("article:published_time", "jsonld", "itemprop", "time_article")
            or self._time_anywhere,
            base_href=first.get("base"),
            lang=first.get("lang"),
        )


def _json_objects(data: Any) -> Iterator[dict[str, Any]]:
    """Every object of a JSON-LD document, ``@graph`` members included, outermost first."""
    queue = [data]
    while queue:
        item = queue.pop(0)
        if isinstance(item, list):
            queue.extend(item)
        elif isinstance(item, dict):
            yield item
            graph = item.get("@graph")
            if isinstance(graph, list | dict):
                queue.append(graph)


def _json_ld_published(raw: str) -> str | None:
    """The ``datePublished`` of the article object of a JSON-LD script, else of any object."""
    try:
        data = json.loads(raw, strict=False)  # strict=False: raw newlines inside strings
    except (ValueError, RecursionError):
        return None
    fallback: str | None = None
    for obj in _json_objects(data):
        value = obj.get("datePublished")
        if not isinstance(value, str):
            continue
        parsed = parse_datetime_iso(value)
        if parsed is None:
            continue
        types = obj.get("@type")
        names = types if isinstance(types, list) else [types]
        if any(isinstance(t, str) and t.endswith(_ARTICLE_TYPES) for t in names):
            return parsed
        fallback = fallback or parsed
    return fallback
