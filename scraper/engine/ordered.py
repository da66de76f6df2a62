"""Mapping a function over many items on the cluster, a bounded window at a time, in order.

At most ``window`` tasks are submitted and not yet collected: the client's memory stays
flat however many items there are. Results come back in input order, so what the client
does with them (writing SQLite) happens in the same order as in one process. A task whose
worker dies is run again on another worker by the scheduler (up to Dask's
``distributed.scheduler.allowed-failures``); then :class:`EngineError` ends the map.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

from scraper.engine.cluster import EngineError

if TYPE_CHECKING:
    from distributed import Client, Future

T = TypeVar("T")
R = TypeVar("R")

#: seconds one task may take before the run gives up on it
TASK_TIMEOUT = 900.0


def map_in_order(
    client: Client,
    func: Callable[[T], R],
    items: Iterable[T],
    *,
    window: int,
    timeout: float = TASK_TIMEOUT,
) -> Iterator[R]:
    """``func(item)`` for each item, computed on the cluster, yielded in input order."""
    from distributed import KilledWorker, TimeoutError

    pending: collections.deque[Future[R]] = collections.deque()

    def collect() -> R:
        future = pending.popleft()
        try:
            result: R = future.result(timeout=timeout)
        except KilledWorker as exc:
            raise EngineError(f"a task killed its workers too many times: {exc}") from exc
        except TimeoutError as exc:
            raise EngineError(f"a task took longer than {timeout:.0f} s") from exc
        future.release()
        return result

    try:
        for item in items:
            # pure=False: the same item twice (a rerun) is computed again, never cached
            pending.append(client.submit(func, item, pure=False))
            if len(pending) >= window:
                yield collect()
        while pending:
            yield collect()
    finally:
        for future in pending:
            future.cancel()
