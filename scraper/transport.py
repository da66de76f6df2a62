"""An httpx transport that connects only to addresses the guard checked, with a fast pool.

:class:`GuardedTransport` is an ``httpx.AsyncBaseTransport``: code keeps speaking httpx
(``Request``, ``Response``, decoding, exceptions), while connections are opened here.
For every new connection it asks :class:`scraper.netguard.AddressGuard` for the checked
addresses of the host and connects to those addresses themselves (TLS SNI and the Host
header keep the name), so there is no second lookup a rebinding DNS could steer.

Connections are kept alive per (scheme, host, port): an idle one is reused while it is
younger than ``keepalive_expiry``; at most ``max_keepalive_connections`` idle ones are
kept in all (the oldest is closed first). ``max_connections`` bounds the exchanges in
flight. A reused connection that turns out closed is retried once on a fresh one (only
bodiless, idempotent requests reach here in practice: GET and HEAD).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator

import httpx

from scraper.http1 import H1Connection, StaleConnectionError
from scraper.netguard import AddressGuard, TlsError

DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]


def _timeout(timeouts: dict[str, float | None], key: str) -> float | None:
    value = timeouts.get(key)
    return None if value is None else float(value)


def encode_request_head(request: httpx.Request, body_length: int | None) -> bytes:
    """The request line and headers as sent on the wire."""
    lines = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    lines.append(_encode_headers(tuple(request.headers.raw), body_length is not None))
    if body_length:
        lines.append(b"Content-Length: %d\r\n" % body_length)
    lines.append(b"\r\n")
    return b"".join(lines)


@functools.lru_cache(maxsize=256)
def _encode_headers(headers: tuple[tuple[bytes, bytes], ...], has_body: bool) -> bytes:
    # cached: a run sends the same few header sets (only Host differs) thousands of times
    parts: list[bytes] = []
    for name, value in headers:
        if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name:
            raise httpx.LocalProtocolError(f"line break in header {name!r}")
        lowered = name.lower()
        if lowered == b"transfer-encoding" or (lowered == b"content-length" and has_body):
            continue  # the body is sent whole: its length is written by the caller
        parts += [name, b": ", value, b"\r\n"]
    return b"".join(parts)


class _BodyStream(httpx.AsyncByteStream):
    """A response body read from the connection; closing returns it to the pool."""

    def __init__(
        self,
        owner: GuardedTransport,
        origin: Origin,
        conn: H1Connection,
        read_timeout: float | None,
    ) -> None:
        self._owner = owner
        self._origin = origin
        self._conn = conn
        self._timeout = read_timeout
        self._finished = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while True:
                piece = await self._conn.read_body(self._timeout)
                if not piece:
                    break
                yield piece
        except BaseException:
            self._finish(reuse=False)
            raise
        self._finish(reuse=True)

    async def aclose(self) -> None:
        if not self._finished:
            self._finish(reuse=self._conn.drain_buffered())

    def _finish(self, *, reuse: bool) -> None:
        if not self._finished:
            self._finished = True
            self._owner._release(self._origin, self._conn, reuse=reuse)


class GuardedTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over connections opened to guard-checked addresses (see module docstring)."""

    def __init__(
        self,
        guard: AddressGuard | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 100,
        max_keepalive_connections: int = 100,
        keepalive_expiry: float = 5.0,
    ) -> None:
        self.guard = guard if guard is not None else AddressGuard()
        self._ssl_context = ssl_context
        self._slots = asyncio.Semaphore(max_connections)
        self._max_idle = max_keepalive_connections
        self._expiry = keepalive_expiry
        self._idle: dict[Origin, list[H1Connection]] = {}
        self._idle_order: OrderedDict[H1Connection, Origin] = OrderedDict()
        self._closed = False
        self.connections_opened = 0

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            # httpx's verified context (certifi roots); env vars never steer it
            self._ssl_context = httpx.create_ssl_context(trust_env=False)
            self._ssl_context.set_alpn_protocols(["http/1.1"])
        return self._ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return the response with its body still unread."""
        if self._closed:
            raise RuntimeError("the transport is closed")
        url = request.url
        scheme = url.scheme
        if scheme not in DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported scheme {scheme!r}", request=request)
        origin: Origin = (scheme, url.raw_host.decode("ascii"), url.port or DEFAULT_PORTS[scheme])
        timeouts = request.extensions.get("timeout", {})
        try:
            body = request.content
        except httpx.RequestNotRead:  # a streamed upload: gather it (sent whole)
            body = await request.aread()
        data = encode_request_head(request, len(body) if body else None) + body
        if self._slots.locked():  # only a wait needs a timer
            try:
                async with asyncio.timeout(_timeout(timeouts, "pool")):
                    await self._slots.acquire()
            except TimeoutError:
                raise httpx.PoolTimeout("no free connection slot", request=request) from None
        else:
            await self._slots.acquire()
        try:
            conn, head = await self._exchange(request, origin, data, timeouts)
        except BaseException as exc:
            self._slots.release()
            if isinstance(exc, httpx.RequestError):
                try:
                    exc.request  # noqa: B018 - raises RuntimeError when unset
                except RuntimeError:
                    exc.request = request
            raise
        version, status, reason, headers = head
        stream = _BodyStream(self, origin, conn, _timeout(timeouts, "read"))
        return httpx.Response(
            status,
            headers=headers,
            stream=stream,
            extensions={"http_version": version, "reason_phrase": reason},
        )

    async def _exchange(
        self, request: httpx.Request, origin: Origin, data: bytes, timeouts: dict[str, float | None]
    ) -> tuple[H1Connection, tuple[bytes, int, bytes, list[tuple[bytes, bytes]]]]:
        for attempt in range(2):
            conn = self._take_idle(origin)
            reused = conn is not None
            if conn is None:
                conn = await self._connect(origin, _timeout(timeouts, "connect"))
            try:
                await conn.write(data, _timeout(timeouts, "write"))
                head = await conn.read_head(request.method, _timeout(timeouts, "read"))
            except StaleConnectionError:
                conn.abort()
                if reused and attempt == 0:
                    continue
                raise
            except BaseException:
                conn.abort()
                raise
            return conn, head
        raise AssertionError("unreachable")  # pragma: no cover

    async def _connect(self, origin: Origin, seconds: float | None) -> H1Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        deadline = None if seconds is None else loop.time() + seconds
        addresses = await self.guard.addresses(host, port)
        tls = self._tls() if scheme == "https" else None
        errors: list[str] = []
        timed_out = 0
        for index, address in enumerate(addresses):
            # each remaining address gets a fair share of what is left of the timeout
            budget = (
                None
                if deadline is None
                else max(0.0, deadline - loop.time()) / (len(addresses) - index)
            )
            try:
                async with asyncio.timeout(budget):
                    _, conn = await loop.create_connection(
                        H1Connection,
                        host=address,
                        port=port,
                        ssl=tls,
                        server_hostname=host if tls is not None else None,
                    )
            except TimeoutError:
                timed_out += 1
                errors.append(f"{address}: timed out")
            except ssl.SSLError as exc:
                raise TlsError(f"{host}: {exc.reason or exc}") from exc
            except OSError as exc:
                errors.append(f"{address}: {exc.strerror or exc}")
            except OverflowError as exc:  # a port out of range, from a caller that did not check
                raise httpx.ConnectError(f"{host}:{port}: {exc}") from exc
            else:
                self.connections_opened += 1
                return conn
        message = f"{host}:{port}: " + "; ".join(errors)
        if timed_out == len(addresses):
            raise httpx.ConnectTimeout(message)
        raise httpx.ConnectError(message)

    def _take_idle(self, origin: Origin) -> H1Connection | None:
        idle = self._idle.get(origin)
        now = asyncio.get_running_loop().time()
        found = None
        while idle and found is None:
            conn = idle.pop()
            del self._idle_order[conn]
            if conn.is_reusable and now - conn.idle_since < self._expiry:
                found = conn
            else:
                conn.abort()
        if idle is not None and not idle:
            del self._idle[origin]
        return found

    def _release(self, origin: Origin, conn: H1Connection, *, reuse: bool) -> None:
        self._slots.release()
        if not reuse or self._closed or not conn.is_reusable:
            if conn.body_done:
                conn.close()
            else:
                conn.abort()
            return
        conn.idle_since = asyncio.get_running_loop().time()
        self._idle.setdefault(origin, []).append(conn)
        self._idle_order[conn] = origin
        while len(self._idle_order) > self._max_idle:
            oldest, oldest_origin = self._idle_order.popitem(last=False)
            same_origin = self._idle[oldest_origin]
            same_origin.remove(oldest)
            if not same_origin:
                del self._idle[oldest_origin]
            oldest.close()

    async def aclose(self) -> None:
        """Close every idle connection; later requests are refused."""
        self._closed = True
        for conn in self._idle_order:
            conn.close()
        self._idle_order.clear()
        self._idle.clear()
