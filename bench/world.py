"""The shared loopback world of the comparison benchmarks: short links, their hops, their faults.

Hosts are distinct loopback addresses, so every tool reaches them by literal IP and no
DNS is ever asked (the machine has no network, and no benchmark may send a packet off
the loopback range):

    127.0.0.2  plays t.co        127.0.0.3  plays bit.ly        127.0.0.4  plays ow.ly
    127.0.1.1 ... 127.0.1.20     destination sites

Short URL ``i`` of a run (``http://127.0.0.2:PORT/<token>/s/<i>/0``) takes one to three
shortener hops, then reaches its destination ``http://127.0.1.d:PORT/<token>/d/<i>``.
Its plan (hops, hosts, fault) comes from :func:`plan_for` (seeded, so the server and
the harness agree without sharing a table). Faults, a few percent each: ``429`` (one
hop answers 429 with ``Retry-After: 1`` once, then redirects), ``503`` (one hop answers
503 once, then redirects), ``dead`` (the destination answers 404) and ``timeout`` (one
hop never answers). Every answer waits the run's latency first; the token
(``r3x20``: run 3, 20 ms) carries that latency and keeps each run's one-off faults its
own, so tools can run one after another against the same server.

The server runs in its own process (its CPU is not the client's):
``python bench/world.py --seed 7`` prints the port on its first line and stops when its
stdin closes. This module imports the standard library only: it runs under any
interpreter, including a separate one that holds the competitors.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import functools
import ipaddress
import os
import random
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

SHORTENERS = {"127.0.0.2": "t.co", "127.0.0.3": "bit.ly", "127.0.0.4": "ow.ly"}
DESTINATIONS = tuple(f"127.0.1.{n}" for n in range(1, 21))
HOSTS = (*SHORTENERS, *DESTINATIONS)
DEFAULT_SEED = 7
# share of URLs with each fault (the rest resolve cleanly)
FAULT_RATES = {"429": 0.02, "503": 0.02, "dead": 0.02, "timeout": 0.01}
RETRY_AFTER = 1  # seconds, on the one-off 429s
TOOL_TIMEOUT = 2.0  # seconds: every tool of the comparisons gets this timeout
HANG_SECONDS = 60.0  # a hanging hop drops its connection after this (far past every timeout)
LIFETIME = 3600.0  # the server stops by itself after this many seconds
PAGE = (
    b"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Destination</title></head>"
    b"<body><article><h1>A destination page</h1>"
    + b"<p>Body text of the page the short link leads to.</p>" * 36
    + b"</article></body></html>"
)  # about 2 KB

Fault = Literal["none", "429", "503", "dead", "timeout"]


@dataclass(frozen=True)
class UrlPlan:
    """Where short URL ``index`` goes, and what goes wrong on the way."""

    index: int
    hops: tuple[str, ...]  # the shortener address of each hop, in order
    destination: str
    fault: Fault
    fault_hop: int  # the hop that answers 429/503 or hangs (unused otherwise)


@functools.lru_cache(maxsize=65536)
def plan_for(index: int, seed: int = DEFAULT_SEED) -> UrlPlan:
    """The plan of short URL ``index`` (deterministic in ``seed``)."""
    rng = random.Random(seed * 1_000_003 + index)
    count = 1 + rng.randrange(3)
    names = list(SHORTENERS)
    # most chains start at t.co, as on Twitter; a hop never repeats its predecessor's host
    hops = [names[0] if rng.random() < 0.7 else rng.choice(names[1:])]
    while len(hops) < count:
        hops.append(rng.choice([h for h in names if h != hops[-1]]))
    draw, fault = rng.random(), "none"
    for name, rate in FAULT_RATES.items():
        if draw < rate:
            fault = name
            break
        draw -= rate
    return UrlPlan(
        index,
        tuple(hops),
        rng.choice(DESTINATIONS),
        fault,  # type: ignore[arg-type]  # one of FAULT_RATES' keys or "none"
        rng.randrange(count),
    )


@dataclass(frozen=True)
class Truth:
    """What a correct tool reports for one short URL."""

    url: str
    final_url: str | None  # None: the chain cannot be followed to its end (a hanging hop)
    final_status: int | None
    fault: Fault
    requests: int  # requests a tool needs at least (hops + destination, + one-off faults)


@dataclass(frozen=True)
class World:
    """The URLs of one run against a running server (``token`` keeps runs apart)."""

    port: int
    token: str
    seed: int = DEFAULT_SEED

    def short_url(self, index: int, hop: int = 0) -> str:
        """The URL of hop ``hop`` of short URL ``index``."""
        plan = plan_for(index, self.seed)
        return f"http://{plan.hops[hop]}:{self.port}/{self.token}/s/{index}/{hop}"

    def destination_url(self, index: int) -> str:
        """Where short URL ``index`` ends."""
        plan = plan_for(index, self.seed)
        return f"http://{plan.destination}:{self.port}/{self.token}/d/{index}"

    def urls(self, count: int, start: int = 0) -> list[str]:
        """``count`` short URLs, from index ``start``."""
        return [self.short_url(i) for i in range(start, start + count)]

    def truth(self, index: int) -> Truth:
        """The right answer for short URL ``index``."""
        plan = plan_for(index, self.seed)
        requests = len(plan.hops) + 1 + (plan.fault in ("429", "503"))
        final: str | None = self.destination_url(index)
        status: int | None = 404 if plan.fault == "dead" else 200
        if plan.fault == "timeout":
            final, status = None, None
        return Truth(self.short_url(index), final, status, plan.fault, requests)

    def truth_by_url(self, count: int, start: int = 0) -> dict[str, Truth]:
        """Truth of ``count`` URLs from ``start``, keyed by the short URL."""
        return {t.url: t for t in (self.truth(i) for i in range(start, start + count))}


def latency_of(token: str) -> float:
    """The latency a run token asks for: ``r3x20`` -> 0.02 s."""
    return int(token.rpartition("x")[2]) / 1000


def make_token(run: int, latency: float) -> str:
    """A run token: the run's number and its latency in milliseconds."""
    return f"r{run}x{round(latency * 1000)}"


# ---------------------------------------------------------------------------- the server


class _WorldProtocol(asyncio.Protocol):
    """One connection: answers each request after the run's latency, as the plan says."""

    def __init__(self, state: _ServerState) -> None:
        self.state = state
        self.loop = asyncio.get_running_loop()
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.hung = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.hung:
            return  # a hanging hop reads nothing more
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            line = head.split(b"\r\n", 1)[0].split(b" ")
            if len(line) < 3:
                self._write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", True)
                return
            method, target = line[0], line[1].decode("latin-1")
            close = b"connection: close" in head.lower()
            answer = self.state.answer(target, method == b"HEAD")
            if answer is None:  # this hop hangs: no answer, ever
                self.hung = True
                self.loop.call_later(HANG_SECONDS, self._close)
                return
            self.loop.call_later(latency_of_target(target), self._write, answer, close)

    def _write(self, answer: bytes, close: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(answer)
        if close:
            self.transport.close()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def latency_of_target(target: str) -> float:
    """The latency of a request target (``/<token>/...``); 0 for anything else."""
    token = target.split("/", 2)[1] if target.count("/") >= 2 else ""
    try:
        return latency_of(token)
    except ValueError:
        return 0.0


def _response(status: bytes, headers: Sequence[bytes], body: bytes, head_only: bool) -> bytes:
    lines = [b"HTTP/1.1 " + status, *headers, b"Content-Length: %d" % len(body)]
    wire = b"\r\n".join(lines) + b"\r\n\r\n"
    return wire if head_only else wire + body


class _ServerState:
    """The plan lookups and the one-off faults already served (per run token)."""

    def __init__(self, port: int, seed: int) -> None:
        self.port = port
        self.seed = seed
        self.faulted: set[tuple[str, int]] = set()

    def answer(self, target: str, head_only: bool) -> bytes | None:
        """The bytes to send for ``target``; None when the hop hangs."""
        parts = target.split("/")
        try:
            token, kind, index = parts[1], parts[2], int(parts[3])
            hop = int(parts[4]) if kind == "s" else 0
            plan = plan_for(index, self.seed)
            if kind not in ("s", "d") or hop >= len(plan.hops):
                raise ValueError(target)
        except (IndexError, ValueError):
            return _response(b"404 Not Found", [b"Content-Type: text/plain"], b"no", head_only)
        world = World(self.port, token, self.seed)
        if kind == "d":
            if plan.fault == "dead":
                body = b"<html><body>Page not found</body></html>"
                return _response(b"404 Not Found", [b"Content-Type: text/html"], body, head_only)
            html = b"Content-Type: text/html; charset=utf-8"
            return _response(b"200 OK", [html], PAGE, head_only)
        if hop == plan.fault_hop:
            if plan.fault == "timeout":
                return None
            if plan.fault in ("429", "503") and (token, index) not in self.faulted:
                self.faulted.add((token, index))
                if plan.fault == "429":
                    headers = [b"Retry-After: %d" % RETRY_AFTER, b"Content-Type: text/plain"]
                    return _response(b"429 Too Many Requests", headers, b"slow down", head_only)
                text = [b"Content-Type: text/plain"]
                return _response(b"503 Service Unavailable", text, b"try later", head_only)
        following = (
            world.short_url(index, hop + 1)
            if hop + 1 < len(plan.hops)
            else world.destination_url(index)
        )
        location = b"Location: " + following.encode()
        return _response(b"301 Moved Permanently", [location], b"", head_only)


def raise_fd_limit() -> None:
    """Open files up to the hard limit (hundreds of connections on each side)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def _bind(seed: int) -> tuple[list[asyncio.Server], int]:
    """Listen on every world address with one port (the first address picks it)."""
    loop = asyncio.get_running_loop()
    for _ in range(20):
        state = _ServerState(0, seed)
        first = await loop.create_server(
            functools.partial(_WorldProtocol, state), HOSTS[0], 0, backlog=4096
        )
        port = first.sockets[0].getsockname()[1]
        state.port = port
        servers = [first]
        try:
            for host in HOSTS[1:]:
                servers.append(
                    await loop.create_server(
                        functools.partial(_WorldProtocol, state), host, port, backlog=4096
                    )
                )
        except OSError:  # the port is taken on another address: try another one
            for server in servers:
                server.close()
            continue
        return servers, port
    raise OSError(errno.EADDRINUSE, "no port free on every world address")


async def serve(seed: int, lifetime: float) -> None:
    """Serve the world, print the port, stop when stdin closes or after ``lifetime``."""
    servers, port = await _bind(seed)
    print(port, flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = asyncio.Event()

    def watch_stdin() -> None:
        sys.stdin.read()  # returns when the parent closes our stdin, or dies
        loop.call_soon_threadsafe(stdin_closed.set)

    # a daemon thread: after ``lifetime`` the process exits without waiting for it
    threading.Thread(target=watch_stdin, daemon=True).start()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stdin_closed.wait(), lifetime)
    for server in servers:
        server.close()


# ---------------------------------------------------------------------- the harness side


@contextlib.contextmanager
def running_world(seed: int = DEFAULT_SEED) -> Iterator[int]:
    """Start the world server in its own process; yield its port; stop it afterwards."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--seed", str(seed)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        line = process.stdout.readline().strip()
        if not line.isdigit():
            raise RuntimeError(f"the world server did not start: {line!r}")
        yield int(line)
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def install_loopback_guard() -> None:
    """Refuse, in this process, any connection or name lookup off the loopback range.

    Every tool of the benchmark runs under this guard: a tool that tried to reach the
    outside (a suffix list, a version check) gets a connection error instead of
    sending a packet. Only literal loopback addresses and ``localhost`` pass.
    """
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address: Any) -> None:
        if isinstance(address, tuple) and address and isinstance(address[0], str):
            try:
                allowed = ipaddress.ip_address(address[0].split("%", 1)[0]).is_loopback
            except ValueError:
                allowed = False
            if not allowed:
                raise OSError(errno.ENETUNREACH, f"bench guard: {address[0]} is off loopback")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name != "localhost":
            try:
                if not ipaddress.ip_address(name).is_loopback:
                    raise socket.gaierror(socket.EAI_NONAME, f"bench guard: {name}")
            except ValueError:
                raise socket.gaierror(socket.EAI_NONAME, f"bench guard: no DNS ({name})") from None
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo


@dataclass(frozen=True)
class Measured:
    """A child process's exit code, wall seconds and peak resident memory."""

    returncode: int
    wall: float
    max_rss_mb: float
    stderr: str


def run_measured(argv: Sequence[str], *, cwd: str | None = None, timeout: float = 1800) -> Measured:
    """Run ``argv`` in its own process; its peak RSS comes from ``wait4`` (its alone)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = "*"  # belt and braces: no tool may send through a proxy
    started = time.perf_counter()
    process = subprocess.Popen(
        list(argv), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    # a child stuck past ``timeout`` is killed; stderr is read as it comes (a full pipe
    # would block the child), then the child is reaped with wait4
    watchdog = threading.Timer(timeout, process.kill)
    watchdog.start()
    try:
        text = process.stderr.read().decode("utf-8", "replace")
    finally:
        watchdog.cancel()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    return Measured(process.returncode, wall, usage.ru_maxrss / 1024, text)


def main() -> None:
    """Serve the world until stdin closes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--lifetime", type=float, default=LIFETIME)
    options = parser.parse_args()
    raise_fd_limit()
    asyncio.run(serve(options.seed, options.lifetime))


if __name__ == "__main__":
    main()
