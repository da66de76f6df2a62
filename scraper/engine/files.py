"""Local files on the cluster: workers read and parse batches, the client stores in order."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scraper.engine.cluster import workers_alive
from scraper.engine.ordered import map_in_order
from scraper.file_batches import plan_batches, read_batch, store_batch
from scraper.ingest import RunState

if TYPE_CHECKING:
    from distributed import Client

#: batches in flight per worker: enough to keep each busy while the client writes
BATCHES_PER_WORKER = 3


def ingest_files_on_cluster(client: Client, state: RunState, files: list[Path]) -> None:
    """Read and parse the run's files in batches on the cluster; store them in order.

    The files must be readable at the same paths on every worker (a shared file system).
    """
    workers = max(1, workers_alive(client))
    for result in map_in_order(
        client, read_batch, plan_batches(state, files), window=BATCHES_PER_WORKER * workers
    ):
        store_batch(state, result)
