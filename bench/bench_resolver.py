"""Benchmark the resolver against a loopback server that adds latency to every answer.

    .venv/bin/python bench/bench_resolver.py            # the issue's three runs + memory
    .venv/bin/python bench/bench_resolver.py --urls 2000 --concurrency 100 --latency 0.02

The server runs in its own process (so its CPU is not the client's) on 127.0.0.1 and
plays many hosts: ``s0.short`` ... (shorteners) and ``d0.example`` ... (destinations),
all mapped to 127.0.0.1 by an injected DNS table. URL ``i`` takes 1 to 3 redirects
(``1 + i % 3``) across shortener hosts, then the destination answers 200 with a small
HTML page: 2 to 4 requests per URL. Every answer waits ``latency`` seconds first.

Printed per run: wall time; the floor (requests x latency / concurrency, or the
per-host bound when tighter) and the ratio wall/floor; URLs per second (and as a
multiple of minet's 490/s from issue 3); client CPU per request. The machine has 2
cores shared by client, server and whatever else runs: repeat (``--repeat``) and read
the CPU per request beside the wall time.

``--transport aiohttp`` runs a bare aiohttp loop over the same redirects instead of the
resolver: the limit this machine sets for the library under our transport.

Then the peak traced memory while streaming 1,000 and 5,000 URLs through
``resolve_iter`` (flat if nothing piles up per URL) and, for comparison, through
``resolve_urls``, which returns the whole list by contract.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import resource
import socket
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

import httpx

from scraper.config import ResolverConfig
from scraper.net.guard import StaticDnsResolver
from scraper.resolve.batch import resolve_iter, resolve_urls
from scraper.resolve.resolver import resolver_client

HOSTS = 50
# issue 3's measurement of minet on this machine (2,000 URLs, concurrency 100, 20 ms)
MINET_URLS_PER_SECOND = 490.0
SERVER_LIFETIME = 900.0  # the server stops by itself after this many seconds


class _BenchServer(asyncio.Protocol):
    """Answers each request after ``latency``: 301 along the chain, then 200."""

    def __init__(self, latency: float, port: int) -> None:
        self.latency = latency
        self.port = port
        self.loop = asyncio.get_running_loop()
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            target = bytes(self.buffer[:end]).split(b" ", 2)[1]
            del self.buffer[: end + 4]
            self.loop.call_later(self.latency, self._answer, target)

    def _answer(self, target: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        parts = target.decode().split("/")
        if parts[1] == "r":
            left, i = int(parts[2]), int(parts[3])
            if left > 1:
                location = f"http://s{(i + left) % HOSTS}.short:{self.port}/r/{left - 1}/{i}"
            else:
                location = f"http://d{i % HOSTS}.example:{self.port}/a/{i}"
            self.transport.write(
                b"HTTP/1.1 301 Moved Permanently\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n"
                % location.encode()
            )
        else:
            body = b"<html><head><title>article</title></head><body>text</body></html>"
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )


def _raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _serve(latency: float, ready: multiprocessing.SimpleQueue[int]) -> None:
    _raise_fd_limit()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        port_box: list[int] = []
        server = await loop.create_server(
            lambda: _BenchServer(latency, port_box[0]), "127.0.0.1", 0, backlog=4096
        )
        port_box.append(server.sockets[0].getsockname()[1])
        ready.put(port_box[0])
        loop.call_later(SERVER_LIFETIME, server.close)
        async with server:
            with contextlib.suppress(asyncio.CancelledError):  # closed after SERVER_LIFETIME
                await server.serve_forever()

    asyncio.run(main())


@dataclass
class RunResult:
    urls: int
    requests: int
    wall: float
    cpu: float
    statuses: Counter[str]


def _setup(port: int, n: int) -> tuple[list[str], StaticDnsResolver, list[str]]:
    names = [f"s{i}.short" for i in range(HOSTS)]
    table = {name: "127.0.0.1" for name in names}
    table |= {f"d{i}.example": "127.0.0.1" for i in range(HOSTS)}
    urls = [f"http://s{i % HOSTS}.short:{port}/r/{1 + i % 3}/{i}" for i in range(n)]
    return urls, StaticDnsResolver(table), names


def _config(concurrency: int, shorteners: list[str]) -> ResolverConfig:
    return ResolverConfig(
        allow_private=True, concurrency=concurrency, shorteners=shorteners, timeout=60.0
    )


def httpcore_client(config: ResolverConfig) -> httpx.AsyncClient:
    """For comparison: httpx over an httpcore pool (anyio streams), no guard.

    httpx's own transport keeps its pool private, so the pool is wrapped here the way that
    transport wraps it (without its error mapping: the bench's server does not fail).
    """
    import httpcore

    class Loopback(httpcore.AsyncNetworkBackend):
        """Every name is 127.0.0.1 (the bench's DNS table, without the guard)."""

        def __init__(self) -> None:
            self.inner = httpcore.AnyIOBackend()

        async def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
            local_address: str | None = None,
            socket_options: Any = None,
        ) -> httpcore.AsyncNetworkStream:
            return await self.inner.connect_tcp("127.0.0.1", port, timeout=timeout)

        async def sleep(self, seconds: float) -> None:
            await asyncio.sleep(seconds)

    class Body(httpx.AsyncByteStream):
        def __init__(self, stream: Any) -> None:
            self.stream = stream

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in self.stream:
                yield chunk

        async def aclose(self) -> None:
            await self.stream.aclose()

    class PoolTransport(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.pool = httpcore.AsyncConnectionPool(
                max_connections=config.concurrency, network_backend=Loopback()
            )

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            url = request.url
            answer = await self.pool.handle_async_request(
                httpcore.Request(
                    method=request.method,
                    url=httpcore.URL(
                        scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
                    ),
                    headers=request.headers.raw,
                    content=request.stream,
                    extensions=request.extensions,
                )
            )
            return httpx.Response(
                answer.status,
                headers=answer.headers,
                stream=Body(answer.stream),
                extensions=answer.extensions,
            )

        async def aclose(self) -> None:
            await self.pool.aclose()

    return resolver_client(config, transport=PoolTransport())


async def bare_aiohttp_run(port: int, n: int, concurrency: int) -> RunResult:
    """The machine's limit: a plain aiohttp session following the same redirects by hand.

    No guard, no httpx, no retries or deadlines: ``concurrency`` workers, each GETting a
    URL with ``allow_redirects=False`` and following ``Location`` until the 200, whose
    body is read (the resolver reads it too). ``per_host`` connections per host at most.
    """
    import aiohttp
    from aiohttp.abc import AbstractResolver, ResolveResult

    class Loopback(AbstractResolver):
        """Every name is 127.0.0.1 (the bench's DNS table); never a real lookup."""

        async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[ResolveResult]:
            return [
                {
                    "hostname": host,
                    "host": "127.0.0.1",
                    "port": port,
                    "family": socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                }
            ]

        async def close(self) -> None:
            pass

    urls, _, _ = _setup(port, n)
    pending = iter(urls)
    requests = 0

    async def work(session: aiohttp.ClientSession) -> None:
        nonlocal requests
        for url in pending:
            while True:
                async with session.get(url, allow_redirects=False) as response:
                    requests += 1
                    if 300 <= response.status < 400:
                        url = response.headers["Location"]
                        continue
                    await response.read()
                    break

    connector = aiohttp.TCPConnector(
        limit=concurrency, limit_per_host=ResolverConfig().per_host, resolver=Loopback()
    )
    wall, cpu = time.perf_counter(), time.process_time()
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:
        await asyncio.gather(*(work(session) for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return RunResult(n, requests, wall, cpu, Counter({"resolved": n}))


async def timed_run(port: int, n: int, concurrency: int, transport: str = "guarded") -> RunResult:
    if transport == "aiohttp":
        return await bare_aiohttp_run(port, n, concurrency)
    urls, dns, names = _setup(port, n)
    config = _config(concurrency, names)
    client = (
        httpcore_client(config) if transport == "httpcore" else resolver_client(config, dns=dns)
    )
    statuses: Counter[str] = Counter()
    requests = 0
    wall, cpu = time.perf_counter(), time.process_time()
    async with client:
        async for result in resolve_iter(urls, config, client=client):
            statuses[result.status] += 1
            requests += sum(1 for hop in result.hops if hop.status_code is not None)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return RunResult(n, requests, wall, cpu, statuses)


async def peak_memory(port: int, n: int, *, collect: bool) -> int:
    urls, dns, names = _setup(port, n)
    config = _config(100, names)
    tracemalloc.start()
    try:
        if collect:
            await resolve_urls(urls, config, dns=dns)
        else:
            async for _ in resolve_iter(urls, config, dns=dns):
                pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def report(run: RunResult, concurrency: int, latency: float, per_host: int) -> None:
    floor = run.requests * latency / concurrency
    # every host gets about the same share; per_host of them at a time
    per_host_floor = run.requests / (2 * HOSTS) * latency / per_host
    floor = max(floor, per_host_floor)
    print(
        f"urls={run.urls:5d} concurrency={concurrency:3d} latency={latency * 1000:.0f}ms "
        f"requests={run.requests:5d}  wall={run.wall:6.2f}s  floor={floor:5.2f}s  "
        f"ratio={run.wall / floor:4.2f}  {run.urls / run.wall:5.0f} URLs/s "
        f"({run.urls / run.wall / MINET_URLS_PER_SECOND:3.1f}x minet)  "
        f"cpu/request={run.cpu / run.requests * 1e6:4.0f}us  {dict(run.statuses)}"
    )


def with_server(latency: float) -> tuple[BaseProcess, int]:
    context = multiprocessing.get_context("spawn")
    ready: multiprocessing.SimpleQueue[int] = context.SimpleQueue()
    process = context.Process(target=_serve, args=(latency, ready), daemon=True)
    process.start()
    return process, ready.get()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, help="one run with this many URLs")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--repeat", type=int, default=1, help="runs per plan (the box is shared)")
    parser.add_argument(
        "--transport",
        choices=["guarded", "httpcore", "aiohttp"],
        default="guarded",
        help="guarded: the resolver as shipped (httpx over aiohttp, address guard); "
        "httpcore: httpx's default pool, for comparison (slow; use with --urls); "
        "aiohttp: a bare aiohttp loop following the same redirects, the machine's limit",
    )
    args = parser.parse_args()
    _raise_fd_limit()
    per_host = ResolverConfig().per_host
    plans = (
        [(args.urls, args.concurrency, args.latency)]
        if args.urls
        else [(2000, 100, 0.02), (5000, 100, 0.02), (5000, 500, 0.1)]
    )
    for latency in sorted({p[2] for p in plans}):
        process, port = with_server(latency)
        try:
            asyncio.run(timed_run(port, 200, 50))  # warm-up: imports, TLS-free code paths
            for n, concurrency, plan_latency in plans:
                for _ in range(args.repeat if plan_latency == latency else 0):
                    run = asyncio.run(timed_run(port, n, concurrency, args.transport))
                    report(run, concurrency, latency, per_host)
            if not args.urls and latency == 0.02:
                for collect in (False, True):
                    api = "resolve_urls" if collect else "resolve_iter"
                    peaks = [
                        asyncio.run(peak_memory(port, n, collect=collect)) for n in (1000, 5000)
                    ]
                    print(
                        f"peak traced memory, {api}: 1,000 URLs {peaks[0] / 1e6:.1f} MB, "
                        f"5,000 URLs {peaks[1] / 1e6:.1f} MB"
                    )
        finally:
            process.terminate()
            process.join()


if __name__ == "__main__":
    main()
