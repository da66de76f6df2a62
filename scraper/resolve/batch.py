"""Resolving many URLs in one process: each distinct URL once, bounded.

:func:`resolve_iter` yields results in completion order with flat memory;
:func:`resolve_urls` collects them in input order. Many cores or machines are the Dask
engine's work (``scraper run --workers N``, :mod:`scraper.engine.resolving`), which runs
this on each worker over a partition of the URLs by host.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator
from datetime import datetime

import httpx

from scraper.config import ResolverConfig
from scraper.model import Resolution
from scraper.net.guard import DnsResolver
from scraper.net.limits import Sleep
from scraper.resolve.fan_in import Emit, fan_in
from scraper.resolve.resolver import PARKED_FACTOR, Resolver, resolver_client
from scraper.timestamps import utc_now


def _distinct(urls: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for url in urls:
        if url not in seen:
            seen.add(url)
            yield url


async def resolve_iter(
    urls: Iterable[str],
    config: ResolverConfig,
    *,
    client: httpx.AsyncClient | None = None,
    dns: DnsResolver | None = None,
    sleep: Sleep = asyncio.sleep,
    now: Callable[[], datetime] = utc_now,
) -> AsyncGenerator[Resolution, None]:
    """Resolve each distinct URL once, yielding results as they finish (completion order).

    ``PARKED_FACTOR * concurrency`` workers pull from ``urls`` lazily (at most
    ``concurrency`` of them on the network at once), so neither tasks nor results pile
    up: memory stays flat however many URLs there are. Without ``client``, one is made
    with :func:`resolver_client` (using ``dns``) and closed at the end.
    """
    pending: Iterator[str] = _distinct(urls)
    own = client is None
    active = client if client is not None else resolver_client(config, dns=dns)
    resolver = Resolver(config, active, sleep=sleep, now=now)

    async def work(emit: Emit[Resolution]) -> None:
        for url in pending:  # an exception from the caller's iterable ends the stream
            await emit(await resolver.resolve(url))

    # bounded: workers wait while the caller is still storing earlier results
    stream = fan_in(work, PARKED_FACTOR * config.concurrency, config.concurrency)
    try:
        async with contextlib.aclosing(stream):
            async for result in stream:
                yield result
    finally:
        if own:
            await active.aclose()


async def resolve_urls(
    urls: Iterable[str],
    config: ResolverConfig,
    *,
    client: httpx.AsyncClient | None = None,
    dns: DnsResolver | None = None,
    on_result: Callable[[Resolution], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    now: Callable[[], datetime] = utc_now,
) -> list[Resolution]:
    """Resolve each distinct URL once; ``on_result`` sees each as it finishes.

    Returns one result per distinct URL, in input order (first appearance).
    """
    order = list(_distinct(urls))
    done: dict[str, Resolution] = {}
    stream = resolve_iter(order, config, client=client, dns=dns, sleep=sleep, now=now)
    # aclosing: if on_result raises, the workers stop now, not whenever the generator is collected
    async with contextlib.aclosing(stream):
        async for result in stream:
            done[result.url] = result
            if on_result is not None:
                on_result(result)
    return [done[url] for url in order]
