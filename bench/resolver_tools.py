"""The child side of ``compare_resolvers.py``: one tool, in its own process, over one URL list.

``compare_resolvers.py --child TOOL ...`` lands in ``child_main``, which installs the
loopback guard, imports the tool (before the clock starts), runs its runner from
``RUNNERS`` over the URLs and writes one JSON line per URL in a common shape
(``_outcome``), then one line of stats (seconds, CPU, version, worker processes).

The competitors' child runs under another interpreter, which may not have ``scraper``
installed: nothing here imports it at module level, only ``world`` (by name, from this
folder).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import world

SENTINELS = {
    "__CLIENT_ERROR__": "sentinel_client_error",
    "__CONNECTIONPOOL_ERROR__": "sentinel_pool",
}


_STARTED = [0.0]  # when the child's tool started resolving (perf_counter)


def _outcome(
    url: str, final: str | None, status: int | None, category: str | None, *, timed: bool = True
) -> dict[str, Any]:
    """One URL's result in the common shape (a final status >= 400 is a failure).

    ``timed``: the result is being handed over now, so its completion time is known
    (urlExpander only returns the whole list at the end).
    """
    if category is None and status is not None and status >= 400:
        category = "http_429" if status == 429 else f"http_{str(status)[0]}xx"
    done = time.perf_counter() - _STARTED[0] if timed else None
    return {"url": url, "final_url": final, "status": status, "category": category, "t": done}


def run_ours(urls: list[str], workers: int, timeout: float) -> list[dict[str, Any]]:
    """Our resolver, as ``scraper run`` uses it (one process)."""
    import asyncio

    from scraper.config import ResolverConfig
    from scraper.resolve.batch import resolve_urls

    config = ResolverConfig(
        allow_private=True,
        concurrency=workers,
        per_host=workers,
        timeout=timeout,
        shorteners=list(world.SHORTENERS),
    )
    outcomes = []

    def collect(result: Any) -> None:
        category = None
        if result.status != "resolved":
            category = (result.error or result.status).split(":", 1)[0]
            if result.final_status_code == 429:
                category = "http_429"
        outcomes.append(_outcome(result.url, result.final_url, result.final_status_code, category))

    asyncio.run(resolve_urls(urls, config, on_result=collect))
    return outcomes


def run_aiohttp(urls: list[str], workers: int, timeout: float) -> list[dict[str, Any]]:
    """A bare aiohttp loop that only follows redirects: the machine's limit."""
    import asyncio

    import aiohttp

    async def resolve_all() -> list[dict[str, Any]]:
        pending = iter(urls)
        outcomes: list[dict[str, Any]] = []
        connector = aiohttp.TCPConnector(limit=workers, limit_per_host=0)
        limits = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=limits) as session:

            async def work() -> None:
                for url in pending:
                    try:
                        async with session.get(url, allow_redirects=True) as response:
                            await response.read()
                            outcomes.append(_outcome(url, str(response.url), response.status, None))
                    except TimeoutError:
                        outcomes.append(_outcome(url, None, None, "timeout"))
                    except aiohttp.TooManyRedirects:
                        outcomes.append(_outcome(url, None, None, "too_many_redirects"))
                    except aiohttp.ClientConnectionError as exc:
                        outcomes.append(_outcome(url, None, None, f"connect:{type(exc).__name__}"))
                    except aiohttp.ClientError as exc:
                        outcomes.append(_outcome(url, None, None, f"other:{type(exc).__name__}"))

            await asyncio.gather(*(work() for _ in range(workers)))
        return outcomes

    return asyncio.run(resolve_all())


def run_minet(urls: list[str], workers: int, timeout: float) -> list[dict[str, Any]]:
    """minet's threaded resolver, configured as ``minet resolve --threads N --throttle 0``."""
    from minet.executors import HTTPThreadPoolExecutor

    outcomes = []
    with HTTPThreadPoolExecutor(max_workers=workers, timeout=timeout, wait=False) as executor:
        results = executor.resolve(
            urls,
            throttle=0.0,
            domain_parallelism=workers,
            resolve_args=lambda payload: {"method": "GET"},  # the CLI's default method
        )
        for result in results:
            if result.error is not None:
                code = result.error_code or type(result.error).__name__
                category = "timeout" if "timeout" in code else f"other:{code}"
                outcomes.append(_outcome(result.url, None, None, category))
            else:
                last = result.stack[-1]
                outcomes.append(_outcome(result.url, last.url, last.status, None))
    return outcomes


def run_urlexpander(urls: list[str], workers: int, timeout: float) -> list[dict[str, Any]]:
    """urlExpander's ``expand`` with ``n_workers`` threads (default chunk size)."""
    import tldextract

    # tldextract would download the public suffix list on first use: use its snapshot
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())
    import urlexpander

    expanded = urlexpander.expand(urls, n_workers=workers, timeout=timeout)
    outcomes = []
    for url, final in zip(urls, expanded, strict=True):
        category = next((name for mark, name in SENTINELS.items() if mark in str(final)), None)
        # expand() returns a URL only after raise_for_status() passed on its final answer:
        # 200 here (the world's only 2xx); a 4xx or 5xx comes back as a sentinel
        status = None if category else 200
        outcomes.append(_outcome(url, None if category else final, status, category, timed=False))
    return outcomes


RUNNERS = {
    "ours": run_ours,
    "aiohttp": run_aiohttp,
    "minet": run_minet,
    "urlexpander": run_urlexpander,
}
DISTRIBUTIONS = {
    "ours": "scraper",
    "aiohttp": "aiohttp",
    "minet": "minet",
    "urlexpander": "urlexpander",
}


# imported before the clock starts (compare_resolvers' "imports excluded")
IMPORTS = {
    "ours": ("scraper.resolve.batch",),
    "aiohttp": ("aiohttp",),
    "minet": ("minet.executors",),
    "urlexpander": ("tldextract", "urlexpander"),
}


def _children_usage() -> tuple[float, float]:
    """CPU seconds and peak RSS (MB) of this process's finished children (ours' workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def child_main(tool: str, workers: int, timeout: float, source: Path, target: Path) -> None:
    """Run one tool over the URLs in ``source``; write outcomes and stats to ``target``.

    CPU counts the tool's own process and any worker processes it started.
    """
    import importlib
    from importlib.metadata import version

    world.install_loopback_guard()
    world.raise_fd_limit()
    for module in IMPORTS[tool]:
        importlib.import_module(module)
    urls = source.read_text().split()
    runner = RUNNERS[tool]
    wall, cpu = time.perf_counter(), time.process_time()
    children_cpu = _children_usage()[0]
    _STARTED[0] = wall
    outcomes = runner(urls, workers, timeout)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    helper_cpu, helper_rss = _children_usage()
    stats = {
        "seconds": wall,
        "cpu": cpu + helper_cpu - children_cpu,
        "version": version(DISTRIBUTIONS[tool]),
        "helper_rss_mb": helper_rss if helper_cpu > children_cpu else 0.0,
        "helpers": 0,  # ours resolves in one process since the home-made pool was removed
    }
    with target.open("w") as out:
        for outcome in outcomes:
            out.write(json.dumps(outcome) + "\n")
        out.write(json.dumps({"stats": stats}) + "\n")
