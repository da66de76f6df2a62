"""Workers ready before their first task: parser imported and warmed, settled, and (on
this machine) yielding the CPU to the client.

A worker's first page otherwise pays for importing the parser and for dateparser loading
its language data (about a second); done at start-up it overlaps the client's planning,
and :func:`scraper.gc_tuning.settle` then keeps those objects out of every later garbage
collection on the worker.

Workers of a local cluster share the machine's cores with the client, whose writer is the
run's one serial stage. At equal priority the writer falls behind, finished units pile up
to the in-flight limit (the workers then wait) and the run ends with the client writing
the backlog alone on one core (3.5 s of a 20 s run on 3,000 pages, 2 cores). Local
workers therefore run at a lower priority (``nice``): the writer takes what it needs and
the workers take every cycle left.
"""

from __future__ import annotations

import os
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


#: how much lower than the client local workers run (Linux: about a tenth of its weight)
LOCAL_NICENESS = 10


class WorkerSetup(WorkerPlugin):
    """Registered by the client on every worker (and on workers that join later).

    ``niceness``: how much to lower the worker's priority (0 for workers on other machines).
    """

    name = "scraper-worker-setup"

    def __init__(self, niceness: int = 0) -> None:
        self.niceness = niceness

    def setup(self, worker: Any) -> None:
        """Lower the priority, import and warm the parser, then settle start-up objects."""
        from scraper.parse import parse_document

        if self.niceness and hasattr(os, "nice"):
            os.nice(self.niceness)

        parse_document(_WARMUP_PAGE, source="warm-up.html", base_url="https://warm.up/")
        settle()
