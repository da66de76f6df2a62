"""WARC work units on the cluster: workers read and parse, the client stores in order."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scraper.archives import ArchiveWriter, plan_units, read_unit
from scraper.engine.cluster import dashboard, workers_alive
from scraper.engine.ordered import map_in_order
from scraper.ingest import RunState
from scraper.progress import Stage

if TYPE_CHECKING:
    from distributed import Client

#: units in flight per worker: enough to keep each busy while the client writes
UNITS_PER_WORKER = 3


def ingest_warcs_on_cluster(
    client: Client, state: RunState, warcs: list[Path], records: Stage
) -> None:
    """Read and parse every WARC unit on the cluster; store the results in planned order."""
    writer = ArchiveWriter(state, records)
    workers = max(1, workers_alive(client))
    records.set_note(_note(client, workers))
    window = UNITS_PER_WORKER * workers
    for count, result in enumerate(
        map_in_order(client, read_unit, plan_units(state, warcs), window=window), 1
    ):
        writer.store(result)
        if count % 10 == 0:
            records.set_note(_note(client, workers_alive(client)))


def _note(client: Client, workers: int) -> str:
    link = dashboard(client)
    return f"{workers} workers" + (f", dashboard {link}" if link else "")
