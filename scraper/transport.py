"""The httpx transport: aiohttp underneath, connecting only to addresses the guard checked.

Code above this module speaks httpx (``Request``, ``Response``, exceptions); the wire is
aiohttp's, through the ``httpx-aiohttp`` adapter (:class:`httpx_aiohttp.AiohttpTransport`:
no redirects followed, no decompression, raw header bytes kept). httpx's own transport
(httpcore) cost about 2.7 ms of CPU per request on this workload; aiohttp's client is a
maintained HTTP/1.1 implementation with a C parser.

What this transport changes from aiohttp's defaults, and why: no cookies kept (URLs must
not share state), no proxy variables or ``.netrc`` read, a link's ``user:password``
never sent as credentials, no immediate resend of a failed request (retries belong to
:mod:`scraper.retry`, which counts and backs off), longer header lines accepted. One
difference remains: aiohttp re-reads the URL with ``yarl``, which normalises some
percent escapes on the wire (``%7E`` -> ``~``, ``%3B`` -> ``;`` in a path, a stray
``%`` -> ``%25``); the URLs recorded are httpx's spelling.

The address guard plugs into aiohttp's resolver hook: :class:`GuardResolver` answers the
connector's lookups with the addresses :class:`scraper.netguard.AddressGuard` checked,
and aiohttp connects to exactly those (TLS SNI and the Host header keep the name), so no
second lookup can be steered elsewhere (DNS rebinding fails). aiohttp skips its resolver
for literal IP hosts, so :class:`GuardedTransport` checks those itself before the request.

Errors come out as the project's httpx exceptions, mapped precisely (the adapter's own
map calls every connection error a ``ConnectTimeout``)::

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

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.http_exceptions import HttpProcessingError
from httpx_aiohttp import AiohttpTransport

from scraper.netguard import AddressGuard, DnsLookupError, TlsError, parse_ip_host

DEFAULT_PORTS = {"http": 80, "https": 443}
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


def translate_error(exc: BaseException) -> Exception | None:
    """The project's httpx exception for an aiohttp failure; None if ``exc`` is not one.

    ``exc`` may be the adapter's coarse httpx exception: its aiohttp cause is mapped again.
    """
    if isinstance(exc, httpx.HTTPError) and isinstance(
        exc.__cause__, aiohttp.ClientError | HttpProcessingError | TimeoutError
    ):
        exc = exc.__cause__
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


class _MappedStream(httpx.AsyncByteStream):
    """The adapter's body stream with aiohttp errors translated (see :func:`translate_error`)."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except Exception as exc:
            mapped = _reraise(exc, self._request)
            if mapped is exc:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        """Release the connection (kept alive only if the body was read to its end)."""
        try:
            await self._inner.aclose()
        except Exception as exc:
            mapped = _reraise(exc, self._request)
            if mapped is exc:
                raise
            raise mapped from exc


class GuardedTransport(AiohttpTransport):
    """An httpx transport over one aiohttp session whose every connection is guarded.

    ``max_connections`` bounds the connections in use at once (aiohttp's ``limit``; the
    per-host bound is the callers' :class:`scraper.limits.HostLimiter`); idle connections
    are kept ``keepalive_expiry`` seconds. The session is made on the first request
    (aiohttp wants a running loop) and closed by ``aclose``.
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
        context = (
            ssl_context if ssl_context is not None else httpx.create_ssl_context(trust_env=False)
        )
        super().__init__(
            verify=context,
            trust_env=False,
            limits=httpx.Limits(max_connections=max_connections, keepalive_expiry=keepalive_expiry),
            client=self._new_session,
        )

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            resolver=GuardResolver(self.guard),
            # every new connection asks the guard (its DNS resolver keeps its own cache);
            # aiohttp's cache would skip the guard for names it had seen
            use_dns_cache=False,
            ssl=self.ssl_context,
            limit=self.limits.max_connections or 0,
            keepalive_timeout=self.limits.keepalive_expiry,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            max_line_size=MAX_FIELD_SIZE,
            max_field_size=MAX_FIELD_SIZE,
        )
        # aiohttp resends an idempotent request once, at once, when the connection drops
        # before the answer; retries belong to scraper.retry (counted, logged, backed off)
        session._retry_connection = False
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return the response with its body still unread."""
        url = request.url
        if url.scheme not in DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported scheme {url.scheme!r}", request=request)
        if parse_ip_host(url.host) is not None:  # aiohttp does not ask the resolver for these
            await self.guard.addresses(url.host, url.port or DEFAULT_PORTS[url.scheme])
        if url.userinfo:
            # aiohttp would send a link's user:password as an Authorization header; a link
            # is never a credential, so the request goes without it
            request = httpx.Request(
                request.method,
                url.copy_with(userinfo=b""),
                headers=request.headers,
                stream=request.stream,
                extensions=request.extensions,
            )
        try:
            request.content  # noqa: B018 - raises RequestNotRead for a stream
        except httpx.RequestNotRead:
            if isinstance(request.stream, httpx.ByteStream):
                # an in-memory body (often empty) goes as bytes: the adapter would send a
                # stream chunked, and a GET must not carry "Transfer-Encoding: chunked"
                request.read()
        try:
            response = await super().handle_async_request(request)
        except Exception as exc:
            mapped = _reraise(exc, request)
            if mapped is exc:
                raise
            raise mapped from exc
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _MappedStream(response.stream, request)
        return response
