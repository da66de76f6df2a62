"""A small fake internet on loopback for the resolver tests (no network beyond 127.0.0.0/8).

Each :class:`FakeHost` is a raw HTTP/1.1 server written on asyncio streams, listening
on its own 127.0.0.x address, so tests control every byte: raw header bytes, drip-fed
answers, resets, endless bodies. Names map to those addresses through an injected
:class:`~scraper.net.guard.StaticDnsResolver` (``t.co`` -> 127.0.0.2, ``bit.ly`` ->
127.0.0.3, ``dest.example`` -> 127.0.0.4, ...). Routes are handlers
``async (request, reply) -> None``; hosts record what they saw (requests, connections,
bytes sent, the most requests served at once).

The ``world`` fixture is imported by the test modules (there is no conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest_asyncio

from scraper.config import ResolverConfig
from scraper.net.guard import StaticDnsResolver

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"


@dataclass
class SeenRequest:
    """One request as the server read it."""

    method: str
    target: str
    headers: dict[str, str]

    @property
    def path(self) -> str:
        """The target without its query."""
        return self.target.split("?", 1)[0]


class Reply:
    """How a handler answers: a whole response, raw bytes, a stream, or a reset."""

    def __init__(self, host: FakeHost, writer: asyncio.StreamWriter) -> None:
        self.host = host
        self.writer = writer
        self.keep_open = True

    async def raw(self, data: bytes) -> None:
        """Send bytes as they are (counted); ConnectionError if the client went away."""
        self.writer.write(data)
        await self.writer.drain()
        self.host.bytes_sent += len(data)

    async def send(
        self,
        status: int,
        headers: Iterable[tuple[str | bytes, str | bytes]] = (),
        body: bytes = b"",
        *,
        reason: str = "Whatever",
    ) -> None:
        """A complete response with a Content-Length."""
        lines = [f"HTTP/1.1 {status} {reason}\r\n".encode()]
        for name, value in headers:
            name_b = name.encode() if isinstance(name, str) else name
            value_b = value.encode() if isinstance(value, str) else value
            lines.append(name_b + b": " + value_b + b"\r\n")
        lines.append(b"Content-Length: %d\r\n\r\n" % len(body))
        await self.raw(b"".join(lines) + body)

    async def redirect(self, location: str | bytes, status: int = 301) -> None:
        """A redirect with a short body, as real servers send."""
        await self.send(status, [("Location", location)], b"<a href=''>moved</a>")

    async def html(self, page: str | bytes, status: int = 200) -> None:
        """An HTML page."""
        body = page.encode() if isinstance(page, str) else page
        await self.send(status, [("Content-Type", "text/html; charset=utf-8")], body)

    def reset(self) -> None:
        """Abort the connection with a TCP RST."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()
        self.keep_open = False


Handler = Callable[[SeenRequest, Reply], Awaitable[None]]


@dataclass
class FakeHost:
    """One named host on one loopback address."""

    name: str
    ip: str
    tls: ssl.SSLContext | None = None
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[SeenRequest] = field(default_factory=list)
    connections: int = 0
    bytes_sent: int = 0
    active: int = 0
    max_active: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def url(self, path: str = "/") -> str:
        """An absolute URL on this host."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.name}:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> None:
        """Answer requests for ``path`` (without query) with ``handler``."""
        self.routes[path] = handler

    def paths(self) -> list[str]:
        """The targets requested, in order."""
        return [r.target for r in self.requests]

    async def start(self) -> None:
        """Listen on an ephemeral port."""
        self._server = await asyncio.start_server(self._serve, self.ip, 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and end every connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                    return
                request = _parse_request(head)
                self.requests.append(request)
                reply = Reply(self, writer)
                handler = self.routes.get(request.path) or self.routes.get("*") or _not_found
                self.active += 1
                self.max_active = max(self.max_active, self.active)
                try:
                    await handler(request, reply)
                except ConnectionError:
                    return
                finally:
                    self.active -= 1
                if not reply.keep_open:
                    return
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            writer.transport.abort()


def _parse_request(head: bytes) -> SeenRequest:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return SeenRequest(method, target, headers)


async def _not_found(request: SeenRequest, reply: Reply) -> None:
    await reply.send(404, [("Content-Type", "text/plain")], b"not here")


class World:
    """The fake hosts and the DNS table naming them."""

    def __init__(self) -> None:
        self.hosts: dict[str, FakeHost] = {}
        self.extra_dns: dict[str, list[str]] = {}
        self._next_ip = 2

    async def add(
        self, name: str, ip: str | None = None, *, tls: ssl.SSLContext | None = None
    ) -> FakeHost:
        """Start a host called ``name`` (on the next free 127.0.0.x unless ``ip`` is given)."""
        if ip is None:
            ip = f"127.0.0.{self._next_ip}"
            self._next_ip += 1
        host = FakeHost(name, ip, tls=tls)
        await host.start()
        self.hosts[name] = host
        return host

    @property
    def dns(self) -> StaticDnsResolver:
        """A resolver for every host, plus ``extra_dns``."""
        table: dict[str, list[str]] = {h.name: [h.ip] for h in self.hosts.values()}
        table.update(self.extra_dns)
        return StaticDnsResolver(table)

    @staticmethod
    def config(**overrides: Any) -> ResolverConfig:
        """A fast resolver config for loopback tests (allow_private on, short timeouts)."""
        values: dict[str, Any] = {
            "allow_private": True,
            "timeout": 3.0,
            "retries": 2,
            "concurrency": 8,
            "per_host": 4,
            "retry_after_max": 60.0,
        }
        values.update(overrides)
        return ResolverConfig(**values)

    async def close(self) -> None:
        """Stop every host."""
        await asyncio.gather(*(h.close() for h in self.hosts.values()))


class RecordingSleep:
    """An async sleep that only records how long it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest_asyncio.fixture
async def world() -> AsyncIterator[World]:
    """A fresh fake internet, shut down after the test."""
    fake = World()
    try:
        yield fake
    finally:
        await fake.close()


def make_tls_pair(directory: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A throwaway CA and a certificate for ``name`` (needs the openssl command).

    Returns (server context, client context trusting only that CA).
    """

    def run(command: str, *extra: str) -> None:
        args = ["openssl", *command.split(), *extra]
        subprocess.run(args, cwd=directory, check=True, capture_output=True)

    ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
    run(
        f"req -x509 {ec} -keyout ca.key -out ca.pem -subj /CN=test-CA",
        *("-addext", "basicConstraints=critical,CA:TRUE"),
        *("-addext", "keyUsage=critical,keyCertSign"),
    )
    run(f"req {ec} -keyout leaf.key -out leaf.csr -subj /CN={name}")
    (directory / "leaf.ext").write_text(
        f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    run(
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem"
        " -days 2 -extfile leaf.ext"
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(directory / "leaf.pem", directory / "leaf.key")
    client = ssl.create_default_context(cafile=str(directory / "ca.pem"))
    return server, client
