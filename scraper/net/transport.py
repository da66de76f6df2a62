"""The httpx transport: aiohttp underneath, connecting only to addresses the guard checked.

Code above this module speaks httpx (``Request``, ``Response``, exceptions); the wire is
aiohttp's (no redirects followed, no decompression, raw header bytes kept). httpx's own
transport (httpcore) cost about 2.7 ms of CPU per request on this workload; aiohttp's
client is a maintained HTTP/1.1 implementation with a C parser. The adaptation is this
module's own (``httpx-aiohttp`` did the same job, but its URL round trip re-quoted URLs
and its error map called every connection error a ``ConnectTimeout``).

What this transport changes from aiohttp's defaults, and why: no cookies kept (URLs must
not share state), no proxy variables or ``.netrc`` read, a link's ``user:password``
never sent as credentials, no immediate resend of a failed request (retries belong to
:mod:`scraper.net.retry`, which counts and backs off: the :func:`no_resend` middleware,
aiohttp >= 3.12), longer header lines accepted. The URL
goes to aiohttp already encoded, so the request line carries httpx's spelling of it,
the one recorded.

The address guard plugs into aiohttp's resolver hook: :class:`GuardResolver` answers the
connector's lookups with the addresses :class:`scraper.net.guard.AddressGuard` checked,
and aiohttp connects to exactly those (TLS SNI and the Host header keep the name), so no
second lookup can be steered elsewhere (DNS rebinding fails). aiohttp skips its resolver
for literal IP hosts, so :class:`GuardedTransport` checks those itself before the request.

Errors come out as the project's httpx exceptions, mapped precisely::

    blocked by the guard              BlockedAddressError   (raised by the guard itself)
    name did not resolve              DnsLookupError
    TLS handshake or certificate      TlsError
    connect timed out                 httpx.ConnectTimeout
    read timed out                    httpx.ReadTimeout
    refused, unreachable              httpx.ConnectError
    reset, closed mid-answer          httpx.ReadError / httpx.RemoteProtocolError
    garbled answer                    httpx.RemoteProtocolError
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator
from typing import NoReturn

import aiohttp
import httpx
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.http_exceptions import HttpProcessingError

from scraper.net.guard import (
    AddressGuard,
    BlockedAddressError,
    DnsLookupError,
    TlsError,
    parse_ip_host,
)

DEFAULT_PORTS = {"http": 80, "https": 443}
BODILESS = frozenset({"GET", "HEAD"})
# Longest status line or header line accepted (aiohttp's default is 8190): tracking
# redirects carry long Locations, and the old transport took 64 KB heads.
MAX_FIELD_SIZE = 64 * 1024


class GuardResolver(AbstractResolver):
    """aiohttp's resolver hook answered by the address guard: only checked addresses."""

    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The guard's addresses for ``host`` (BlockedAddressError, DnsLookupError)."""
        results: list[ResolveResult] = []
        for address in await self.guard.addresses(host, port):
            kind = socket.AF_INET6 if ":" in address else socket.AF_INET
            if family in (socket.AF_UNSPEC, kind):
                # numeric flags: the connector connects to the address, it never looks it up
                results.append(
                    {
                        "hostname": host,
                        "host": address,
                        "port": port,
                        "family": kind,
                        "proto": 0,
                        "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                    }
                )
        if not results:
            raise DnsLookupError(f"{host}: no address of family {family!r}", host=host)
        return results

    async def close(self) -> None:
        """Nothing to release (the guard's DNS resolver holds no connections)."""


class ConnectionDropped(aiohttp.ClientConnectionError):
    """The connection failed before the answer came (``__cause__`` is aiohttp's error)."""


async def no_resend(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """aiohttp middleware: a connection dropped before the answer is reported, not resent.

    A session resends an idempotent request once, at once, when a kept-alive connection
    drops before the answer (aiohttp's only switch for that is private). Retries belong to
    :mod:`scraper.net.retry`, which counts, logs and backs off, so the drop is raised as
    :class:`ConnectionDropped`, an error the session passes on as it is.
    """
    try:
        return await handler(request)
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
        if isinstance(exc, aiohttp.ClientConnectorError):
            raise  # connecting failed: aiohttp never resends those
        raise ConnectionDropped(str(exc) or type(exc).__name__) from exc


def translate_error(exc: BaseException) -> Exception | None:
    """The project's httpx exception for an aiohttp failure; None if ``exc`` is not one."""
    if isinstance(exc, ConnectionDropped) and exc.__cause__ is not None:
        return translate_error(exc.__cause__)
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ClientSSLError):  # certificate and handshake failures alike
        return TlsError(message)
    if isinstance(exc, aiohttp.ClientConnectorDNSError):  # only if a lookup raised OSError
        return DnsLookupError(message, host=exc.host)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)
    if isinstance(exc, aiohttp.NonHttpUrlClientError):
        return httpx.UnsupportedProtocol(message)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.InvalidURL(message)
    if isinstance(
        exc,
        aiohttp.ServerDisconnectedError
        | aiohttp.ClientPayloadError
        | aiohttp.ClientResponseError
        | HttpProcessingError,
    ):
        return httpx.RemoteProtocolError(message)
    if isinstance(exc, aiohttp.ClientConnectionError):  # resets and other socket errors
        return httpx.ReadError(message)
    if isinstance(exc, aiohttp.ClientError):
        return httpx.TransportError(message)
    if isinstance(exc, TimeoutError):  # aiohttp's own timer; our deadlines cancel instead
        return httpx.TimeoutException(message)
    return None


def _reraise(exc: Exception, request: httpx.Request) -> Exception:
    """What to raise for ``exc``: its translation, with ``request`` attached when missing."""
    mapped = translate_error(exc)
    result = mapped if mapped is not None else exc
    if isinstance(result, httpx.RequestError):
        try:
            result.request  # noqa: B018 - raises RuntimeError when unset
        except RuntimeError:
            result.request = request
    return result


def _raise_translated(exc: Exception, request: httpx.Request) -> NoReturn:
    """Raise :func:`_reraise`'s answer for ``exc`` (``exc`` itself if it has no translation)."""
    mapped = _reraise(exc, request)
    if mapped is exc:
        raise exc
    raise mapped from exc


class _ResponseStream(httpx.AsyncByteStream):
    """An aiohttp response body as httpx's stream, aiohttp errors translated."""

    CHUNK_SIZE = 16 * 1024

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(self.CHUNK_SIZE):
                yield chunk
        except Exception as exc:
            _raise_translated(exc, self._request)

    async def aclose(self) -> None:
        """Release the connection (kept alive only if the body was read to its end)."""
        try:
            self._response.release()
            await self._response.wait_for_close()
        except Exception as exc:
            _raise_translated(exc, self._request)


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over one aiohttp session whose every connection is guarded.

    ``max_connections`` bounds the connections in use at once (aiohttp's ``limit``; the
    per-host bound is the callers' :class:`scraper.net.limits.HostLimiter`); idle connections
    are kept ``keepalive_expiry`` seconds. The session is made on the first request
    (aiohttp wants a running loop) and closed by ``aclose``.

    The request goes out as httpx spelled it: the URL is handed to aiohttp already
    encoded (``yarl.URL(..., encoded=True)``), so aiohttp neither re-parses nor re-quotes
    it, and the URL recorded for a hop is the one on the wire.
    """

    def __init__(
        self,
        guard: AddressGuard | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
    ) -> None:
        self.guard = guard if guard is not None else AddressGuard()
        # httpx's verified context (certifi roots); environment variables never steer it
        self.ssl_context = (
            ssl_context if ssl_context is not None else httpx.create_ssl_context(trust_env=False)
        )
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self.client: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            resolver=GuardResolver(self.guard),
            # every new connection asks the guard (its DNS resolver keeps its own cache);
            # aiohttp's cache would skip the guard for names it had seen
            use_dns_cache=False,
            ssl=self.ssl_context,
            limit=self.max_connections,
            keepalive_timeout=self.keepalive_expiry,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            max_line_size=MAX_FIELD_SIZE,
            max_field_size=MAX_FIELD_SIZE,
            auto_decompress=False,  # httpx decodes, and counts decoded bytes against caps
            middlewares=(no_resend,),
        )
        return session

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        """httpx's per-request timeouts in aiohttp's terms (one object per distinct set)."""
        given = request.extensions.get("timeout", {})
        key = (given.get("connect"), given.get("read"), given.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            timeout = aiohttp.ClientTimeout(
                total=None, connect=pool, sock_connect=connect, sock_read=read
            )
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return the response with its body still unread."""
        url = request.url
        if url.scheme not in DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported scheme {url.scheme!r}", request=request)
        literal = parse_ip_host(url.host)
        if literal is not None and not self.guard.is_allowed(literal):
            # aiohttp does not ask the resolver for a literal address: checked here
            raise BlockedAddressError(
                f"{literal} is not a public address", host=url.host, address=str(literal)
            )
        target = yarl.URL(str(url), encoded=True)
        if url.userinfo:
            # aiohttp would send a link's user:password as an Authorization header; a link
            # is never a credential, so the request goes without it
            target = target.with_user(None)
        # aiohttp frames the body itself (Content-Length): a GET never goes out chunked
        headers = [
            (key, value)
            for key, value in request.headers.items()
            if key not in ("transfer-encoding", "content-length")
        ]
        # a GET or HEAD goes without a body (the resolver's and the fetcher's requests)
        body = None if request.method in BODILESS else await request.aread() or None
        if self.client is None:
            self.client = self._new_session()
        try:
            response = await self.client.request(
                request.method,
                target,
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=self._timeout(request),
                server_hostname=request.extensions.get("sni_hostname"),
            )
        except Exception as exc:
            _raise_translated(exc, request)
        extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("latin-1", "replace")
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response, request),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        """Close the session and its connections."""
        if self.client is not None:
            await self.client.close()
