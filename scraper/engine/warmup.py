"""Workers ready to parse before their first task: parser imported and warmed, settled.

A worker's first page otherwise pays for importing the parser and for dateparser loading
its language data (about a second); done at start-up it overlaps the client's planning,
and :func:`scraper.gc_tuning.settle` then keeps those objects out of every later garbage
collection on the worker.
"""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from scraper.gc_tuning import settle

#: a page whose parse touches every part of the parser that loads data on first use
_WARMUP_PAGE = (
    b"<html lang='en'><head><title>warm-up</title></head><body><p>Roads closed "
    b"\xe2\x80\x94 County Roads (@CountyRoads) May 1, 2020</p>"
    b"<blockquote class='twitter-tweet'><p>Levee holding</p>&mdash; A (@a) "
    b"<a href='https://twitter.com/a/status/1256161438725059584'>1 mai 2020</a>"
    b"</blockquote></body></html>"
)


class ParserWarmup(WorkerPlugin):
    """Registered by the client on every worker (and on workers that join later)."""

    name = "scraper-parser-warmup"

    def setup(self, worker: Any) -> None:
        """Import and warm the parser, then settle the worker's start-up objects."""
        from scraper.parse import parse_document

        parse_document(_WARMUP_PAGE, source="warm-up.html", base_url="https://warm.up/")
        settle()
