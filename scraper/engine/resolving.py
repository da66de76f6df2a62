"""Resolving on the cluster: URLs partitioned by host, each partition on one worker at a time.

A host's URLs all fall in one partition (a stable hash of the host), and a partition has
one task at a time on the cluster, so the per-host limit holds for the whole cluster.
The run's ``concurrency`` is shared between the partitions. Each task resolves a chunk
of its partition with :func:`scraper.resolve.batch.resolve_urls`; results come back
chunk by chunk and the client stores them, so at most a chunk per partition is in flight.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import zlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scraper.config import ResolverConfig
from scraper.engine.cluster import EngineError, workers_alive
from scraper.engine.ordered import TASK_TIMEOUT
from scraper.model import Resolution
from scraper.net.guard import DnsResolver
from scraper.resolve.batch import resolve_urls

if TYPE_CHECKING:
    from distributed import Client, Future

#: URLs per task: results reach the database at least this often per partition
CHUNK_URLS = 500


def host_partition(url: str, partitions: int) -> int:
    """The partition of ``url``'s host (stable across processes and machines)."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        host = ""
    return zlib.crc32(host.encode()) % partitions


def resolve_chunk(
    urls: list[str], config: ResolverConfig, dns: DnsResolver | None = None
) -> list[Resolution]:
    """Resolve one chunk on a worker (its own event loop and HTTP client)."""
    return asyncio.run(resolve_urls(urls, config, dns=dns))


def resolve_on_cluster(
    client: Client,
    urls: Iterable[str],
    config: ResolverConfig,
    *,
    on_result: Callable[[Resolution], None],
    dns: DnsResolver | None = None,
    partitions: int | None = None,
    chunk: int = CHUNK_URLS,
) -> int:
    """Resolve each distinct URL once on the cluster; ``on_result`` sees each result.

    Returns how many URLs were resolved. ``dns`` (tests) must be picklable.
    """
    from distributed import KilledWorker, TimeoutError, as_completed

    count = partitions or max(1, workers_alive(client))
    parts: list[list[str]] = [[] for _ in range(count)]
    for url in dict.fromkeys(urls):
        parts[host_partition(url, count)].append(url)
    share = dataclasses.replace(config, concurrency=max(1, config.concurrency // count))
    queues = [
        collections.deque(part[i : i + chunk] for i in range(0, len(part), chunk)) for part in parts
    ]
    owner: dict[Future[list[Resolution]], int] = {}

    def submit(index: int) -> Future[list[Resolution]]:
        future = client.submit(resolve_chunk, queues[index].popleft(), share, dns, pure=False)
        owner[future] = index
        return future

    done = 0
    stream = as_completed([submit(i) for i, queue in enumerate(queues) if queue])
    for future in stream:
        index = owner.pop(future)
        try:
            results: list[Resolution] = future.result(timeout=TASK_TIMEOUT)
        except KilledWorker as exc:
            raise EngineError(f"a resolving task killed its workers too many times: {exc}") from exc
        except TimeoutError as exc:
            raise EngineError(f"a resolving task took longer than {TASK_TIMEOUT:.0f} s") from exc
        future.release()
        if queues[index]:
            stream.add(submit(index))
        for resolution in results:
            on_result(resolution)
            done += 1
    return done
