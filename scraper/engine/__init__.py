"""The engine: Dask distributed for many cores (``--workers N``) or many machines.

Imported by :mod:`scraper.run` only when a run asks for it (``--workers``,
``--scheduler``, ``--scheduler-file``); this package's ``__init__`` imports no Dask, so
that asking costs nothing otherwise. Workers read and parse (:func:`scraper.archives.read_unit`,
:func:`scraper.file_batches.read_batch`, fetched pages) and resolve
(:func:`scraper.resolve.batch.resolve_urls`); only the client writes SQLite.

- :mod:`scraper.engine.cluster`: start a local cluster or join a running one; an executor
  of the cluster for fetched pages.
- :mod:`scraper.engine.worker_setup`: workers warm the parser, settle, and (local) yield.
- :mod:`scraper.engine.ordered`: map a function over many items, a bounded window at a
  time, results in input order.
- :mod:`scraper.engine.archives`: WARC work units on the cluster.
- :mod:`scraper.engine.files`: batches of local files on the cluster.
- :mod:`scraper.engine.resolving`: URLs partitioned by host, resolved on the workers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineSpec:
    """Where to run: ``workers`` local processes, or the scheduler at an address or in a file."""

    workers: int | None = None
    scheduler: str | None = None
    scheduler_file: str | None = None

    def describe(self) -> str:
        """A short human description (for log lines)."""
        if self.scheduler:
            return f"the Dask scheduler at {self.scheduler}"
        if self.scheduler_file:
            return f"the Dask scheduler named in {self.scheduler_file}"
        return f"a local Dask cluster of {self.workers} worker processes"
