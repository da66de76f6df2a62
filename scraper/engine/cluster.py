"""Starting a local Dask cluster or joining a running one; who is alive; the dashboard.

Needs the ``dask`` extra (``pip install 'scraper[dask]'``): without it,
:func:`open_client` raises :class:`~scraper.errors.ConfigError` with the install line.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from scraper.engine import EngineSpec
from scraper.errors import ConfigError, ScraperError

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger("scraper.engine")
T = TypeVar("T")

#: seconds to wait for a scheduler (or the local cluster's workers) to answer
CONNECT_TIMEOUT = 60.0


class EngineError(ScraperError):
    """The cluster cannot be reached, or it lost a task too many times."""


@contextlib.contextmanager
def open_client(spec: EngineSpec) -> Iterator[Client]:
    """A Dask client for ``spec``; a local cluster is started here and stopped at the end.

    Local workers are processes with one thread each (parsing holds the GIL), at a lower
    priority than this process (:mod:`scraper.engine.worker_setup`); the dashboard, when
    ``bokeh`` is installed, listens on a free port. Every worker warms the parser first.
    """
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError(
            f"--workers/--scheduler need Dask ({exc}); install: pip install 'scraper[dask]'"
        ) from exc
    from scraper.engine.worker_setup import LOCAL_NICENESS, WorkerSetup

    if spec.workers is not None:
        if spec.workers < 1:
            raise ConfigError("--workers must be at least 1")
        with dask.config.set(_local_config()):
            try:
                # ":0": any free port, so clusters of other users of the machine do not collide
                cluster = LocalCluster(
                    n_workers=spec.workers,
                    processes=True,
                    threads_per_worker=1,
                    dashboard_address=":0",
                )
            except (OSError, RuntimeError) as exc:
                raise EngineError(f"cannot start {spec.describe()}: {exc}") from exc
            with cluster, Client(cluster, timeout=CONNECT_TIMEOUT) as client:
                client.register_plugin(WorkerSetup(niceness=LOCAL_NICENESS))
                yield client
        return
    if spec.scheduler_file and not Path(spec.scheduler_file).is_file():
        # Dask would wait for the file to appear; a user who mistyped it wants to know now
        raise ConfigError(
            f"--scheduler-file {spec.scheduler_file}: no such file (the scheduler writes it "
            "when it starts: dask scheduler --scheduler-file PATH)"
        )
    try:
        if spec.scheduler_file:
            client = Client(scheduler_file=spec.scheduler_file, timeout=CONNECT_TIMEOUT)
        else:
            client = Client(spec.scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, ValueError) as exc:
        raise EngineError(f"cannot reach {spec.describe()}: {exc}") from exc
    with client:
        client.register_plugin(WorkerSetup())
        yield client


def _local_config() -> dict[str, object]:
    """Dask settings for the workers of a local cluster (kept while it runs: a worker
    restarted after a crash is started with them too).

    - Dask starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` so that they hand memory
      back to the system; that setting also stops glibc from adapting its mmap threshold,
      and parsing, which allocates and frees a page's worth of memory for every page,
      then maps and unmaps it every time (measured: about 10% more CPU a page). Our
      workers hold one work unit at a time, so they keep glibc's default.
    - The statistical profiler samples every worker's stack 100 times a second; on a
      machine whose cores the workers already fill, that is CPU taken from parsing.
    - The event loops' tick (every 20 ms), the nannies' memory checks (every 100 ms) and
      the system monitors (every 500 ms) cost an idle 2-worker cluster 9% of a core
      (5% in the client); at 200 ms, 1 s and 2 s they cost 2%.
    """
    return {
        # None unsets a variable of Dask's (one the user exported stays: it is theirs)
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        "distributed.worker.profile.enabled": False,
        "distributed.admin.tick.interval": "200ms",
        "distributed.worker.memory.monitor-interval": "1s",
        "distributed.admin.system-monitor.interval": "2s",
    }


def executor_of(client: Client) -> Executor:
    """A :class:`concurrent.futures.Executor` whose tasks run on the cluster's workers
    (never cached: the same page submitted twice is parsed twice)."""
    return ClusterExecutor(client.get_executor(pure=False))


class ClusterExecutor(Executor):
    """An executor of the cluster whose failures are the run's: a task that killed its
    workers too many times (Dask's ``KilledWorker``) fails as :class:`EngineError`, a
    one-line error, not a traceback."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` on the cluster."""
        outer: Future[T] = Future()
        outer.set_running_or_notify_cancel()

        def settle_outer(done: Future[T]) -> None:
            from distributed import KilledWorker

            try:
                error = done.exception()
                if error is None:
                    outer.set_result(done.result())
                elif isinstance(error, KilledWorker):
                    task = getattr(error, "task", "?")
                    outer.set_exception(
                        EngineError(f"a task killed its workers too many times: {task}")
                    )
                else:
                    outer.set_exception(error)
            except BaseException as exc:  # a callback's error would leave the run waiting
                outer.set_exception(exc)

        self.inner.submit(fn, *args, **kwargs).add_done_callback(settle_outer)
        return outer

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking tasks (the cluster itself lives on)."""
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


def workers_alive(client: Client) -> int:
    """How many workers the scheduler knows now."""
    info = client.scheduler_info()
    return len(info.get("workers", {}))


def dashboard(client: Client) -> str | None:
    """The address of the cluster's dashboard, when it serves one."""
    link = client.dashboard_link
    return link if isinstance(link, str) and link else None
