"""The guarded aiohttp transport and the capped body reader, against raw loopback servers."""

from __future__ import annotations

import asyncio
import shutil
import socket
import zlib
from pathlib import Path

import aiohttp
import httpx
import pytest
from resolver_world import Reply, SeenRequest, World, make_tls_pair, world

from scraper.net.body import BodyTooLargeError, read_capped
from scraper.net.chain import error_category
from scraper.net.guard import AddressGuard, BlockedAddressError, DnsLookupError, TlsError
from scraper.net.retry import is_retryable
from scraper.net.transport import GuardedTransport, translate_error
from scraper.resolve.resolver import resolver_client

__all__ = ["world"]  # the fixture, imported for pytest


def client_for(
    world: World, guard: AddressGuard | None = None, **options: object
) -> httpx.AsyncClient:
    guard = guard if guard is not None else AddressGuard(world.dns, allow_private=True)
    transport = GuardedTransport(guard, **options)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, timeout=2.0, trust_env=False)


async def ok(request: SeenRequest, reply: Reply) -> None:
    await reply.send(200, body=b"ok")


class RebindingDns:
    """Answers each lookup with the next address of a list (a rebinding DNS server)."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return [self.answers.pop(0)]


# -- the guard, at connect time -------------------------------------------------------------


async def test_guard_refuses_before_connecting(world: World) -> None:
    """With allow_private off, a loopback answer raises BlockedAddressError and sends nothing."""
    site = await world.add("site.example")
    async with client_for(world, AddressGuard(world.dns)) as client:
        with pytest.raises(BlockedAddressError):
            await client.get(site.url("/"))
    assert site.connections == 0


async def test_rebinding_dns_cannot_steer_a_new_connection(world: World) -> None:
    """Each new connection asks the guard once; a second answer turned private is refused unsent."""
    site = await world.add("rebind.example")  # 127.0.0.2, allowed below as if public

    async def closing(request: SeenRequest, reply: Reply) -> None:
        await reply.send(200, [("Connection", "close")], b"ok")
        reply.keep_open = False

    site.route("*", closing)
    inside_connections = 0

    async def inside(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal inside_connections
        inside_connections += 1
        writer.close()

    # the "internal" server listens on the very port the URL names
    server = await asyncio.start_server(inside, "127.0.0.3", site.port)
    dns = RebindingDns(site.ip, "127.0.0.3")
    guard = AddressGuard(dns, allowed_networks=[f"{site.ip}/32"])
    try:
        async with client_for(world, guard) as client:
            assert (await client.get(site.url("/1"))).text == "ok"
            with pytest.raises(BlockedAddressError):
                await client.get(site.url("/2"))
    finally:
        server.close()
        await server.wait_closed()
    assert dns.lookups == ["rebind.example", "rebind.example"]
    assert inside_connections == 0 and site.paths() == ["/1"]


@pytest.mark.parametrize("host", ["127.0.0.2", "127.2", "0x7f.0.0.2", "2130706434", "[::1]"])
async def test_literal_addresses_are_checked_without_dns(world: World, host: str) -> None:
    """aiohttp skips its resolver for IP literals: the transport checks them (any spelling)."""
    site = await world.add("site.example")
    dns = world.dns
    async with client_for(world, AddressGuard(dns)) as client:
        with pytest.raises(BlockedAddressError):
            await client.get(f"http://{host}:{site.port}/")
    assert dns.lookups == [] and site.connections == 0


async def test_allowed_literal_address_connects(world: World) -> None:
    """A literal inside ``allowed_networks`` is connected to."""
    site = await world.add("site.example")
    site.route("*", ok)
    guard = AddressGuard(world.dns, allowed_networks=[f"{site.ip}/32"])
    async with client_for(world, guard) as client:
        assert (await client.get(f"http://{site.ip}:{site.port}/")).text == "ok"


async def test_unknown_name_is_a_dns_error(world: World) -> None:
    """The guard's DnsLookupError comes out as itself, not as a generic connect error."""
    async with client_for(world) as client:
        with pytest.raises(DnsLookupError) as caught:
            await client.get("http://nowhere.invalid/")
    assert error_category(caught.value) == "dns"


async def test_refused_connection(world: World) -> None:
    """Nothing listening: ConnectError (category connect, retryable) naming the address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    world.extra_dns["closed.example"] = ["127.0.0.1"]
    async with client_for(world) as client:
        with pytest.raises(httpx.ConnectError, match=r"127\.0\.0\.1") as caught:
            await client.get(f"http://closed.example:{port}/")
    assert type(caught.value) is httpx.ConnectError
    assert error_category(caught.value) == "connect" and is_retryable(caught.value)


async def test_proxy_variables_are_ignored(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP(S)_PROXY and ALL_PROXY never steer the run's client: it goes straight to the site."""
    site = await world.add("site.example")
    proxy = await world.add("proxy.example")
    site.route("*", ok)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://{proxy.ip}:{proxy.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with resolver_client(World.config(), dns=world.dns) as client:
        assert (await client.get(site.url("/"))).text == "ok"
    assert proxy.connections == 0 and site.paths() == ["/"]


# -- HTTP/1.1 as aiohttp speaks it --------------------------------------------------------


async def test_chunked_body_and_keepalive(world: World) -> None:
    """A chunked body (extensions, trailers) is decoded and the connection reused."""
    site = await world.add("site.example")

    async def chunked(request: SeenRequest, reply: Reply) -> None:
        await reply.raw(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n"
        )

    site.route("*", chunked)
    async with client_for(world) as client:
        first = await client.get(site.url("/1"))
        second = await client.get(site.url("/2"))
    assert first.text == second.text == "hello world"
    assert site.connections == 1


async def test_interim_response_is_skipped(world: World) -> None:
    """A 100 Continue before the real answer is passed over."""
    site = await world.add("site.example")

    async def interim(request: SeenRequest, reply: Reply) -> None:
        await reply.raw(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")

    site.route("*", interim)
    async with client_for(world) as client:
        assert (await client.get(site.url("/"))).status_code == 204


async def test_conflicting_content_length_is_an_error(world: World) -> None:
    """Two different Content-Length values (a smuggling shape) are refused as garbled."""
    site = await world.add("site.example")

    async def conflicting(request: SeenRequest, reply: Reply) -> None:
        await reply.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")

    site.route("*", conflicting)
    async with client_for(world) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(site.url("/"))


async def test_body_until_close_and_connection_close(world: World) -> None:
    """A body without length ends with the connection, which is then not reused."""
    site = await world.add("site.example")

    async def until_close(request: SeenRequest, reply: Reply) -> None:
        await reply.raw(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
        reply.keep_open = False
        reply.writer.close()

    site.route("*", until_close)
    async with client_for(world) as client:
        assert (await client.get(site.url("/a"))).text == "all of it"
        assert (await client.get(site.url("/b"))).text == "all of it"
    assert site.connections == 2


async def test_head_response_has_no_body(world: World) -> None:
    """A HEAD answer's Content-Length does not make the client wait for a body."""
    site = await world.add("site.example")

    async def head(request: SeenRequest, reply: Reply) -> None:
        await reply.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")

    site.route("*", head)
    async with client_for(world) as client:
        response = await client.head(site.url("/"))
        again = await client.head(site.url("/"))
    assert response.content == b"" and again.status_code == 200 and site.connections == 1


async def test_raw_header_bytes_and_long_lines_are_kept(world: World) -> None:
    """Latin-1 and UTF-8 header bytes arrive unchanged; a 20 KB Location is accepted."""
    site = await world.add("site.example")
    long_target = b"/t?" + b"q" * 20_000

    async def odd(request: SeenRequest, reply: Reply) -> None:
        headers = [
            (b"Location", long_target),
            (b"X-Latin", b"caf\xe9"),
            (b"X-Utf8", b"caf\xc3\xa9"),
        ]
        await reply.send(301, headers)

    site.route("*", odd)
    async with client_for(world) as client:
        response = await client.get(site.url("/"))
    raw = dict(response.headers.raw)
    assert raw[b"Location"] == long_target
    assert raw[b"X-Latin"] == b"caf\xe9" and raw[b"X-Utf8"] == b"caf\xc3\xa9"


async def test_compressed_body_reaches_httpx_undecoded(world: World) -> None:
    """aiohttp does not inflate (body.py caps the decoded size): the raw stream is the gzip."""
    site = await world.add("site.example")
    packed = zlib.compress(b"hello " * 100, wbits=31)

    async def gzipped(request: SeenRequest, reply: Reply) -> None:
        await reply.send(200, [("Content-Encoding", "gzip")], packed)

    site.route("*", gzipped)
    async with client_for(world) as client, client.stream("GET", site.url("/")) as response:
        raw = b"".join([piece async for piece in response.aiter_raw()])
    assert raw == packed


async def test_bodiless_get_sends_no_framing_headers(world: World) -> None:
    """A GET built with an empty in-memory stream (as the resolver does) is sent without a body."""
    site = await world.add("site.example")
    site.route("*", ok)
    transport = GuardedTransport(AddressGuard(world.dns, allow_private=True))
    request = httpx.Request("GET", site.url("/"), stream=httpx.ByteStream(b""))
    try:
        response = await transport.handle_async_request(request)
        await response.aread()
    finally:
        await transport.aclose()
    seen = site.requests[0].headers
    assert "transfer-encoding" not in seen and seen.get("content-length", "0") == "0"


async def test_request_line_carries_the_url_as_recorded(world: World) -> None:
    """The target on the wire is httpx's spelling: escapes are neither decoded nor re-quoted."""
    site = await world.add("site.example")
    site.route("*", ok)
    path = "/a%7Eb/c%3Bd;e%2Ff?q=%7E%20x&r=1%2B1"
    async with client_for(world) as client:
        url = httpx.URL(site.url(path))
        await client.get(url)
    assert site.paths() == [url.raw_path.decode("ascii")] == [path]


async def test_cookies_are_never_kept(world: World) -> None:
    """A Set-Cookie does not come back on the next request (URLs must not share state)."""
    site = await world.add("site.example")

    async def cookie(request: SeenRequest, reply: Reply) -> None:
        await reply.send(200, [("Set-Cookie", "id=1; Path=/")])

    site.route("*", cookie)
    transport = GuardedTransport(AddressGuard(world.dns, allow_private=True))
    try:
        for path in ("/1", "/2"):
            response = await transport.handle_async_request(httpx.Request("GET", site.url(path)))
            await response.aclose()
    finally:
        await transport.aclose()
    assert "cookie" not in site.requests[1].headers


async def test_userinfo_in_a_link_is_never_sent_as_credentials(world: World) -> None:
    """``http://user:secret@host/`` is requested without an Authorization header."""
    site = await world.add("site.example")
    site.route("*", ok)
    transport = GuardedTransport(AddressGuard(world.dns, allow_private=True))
    try:
        url = httpx.URL(site.url("/p")).copy_with(userinfo=b"user:secret")
        response = await transport.handle_async_request(httpx.Request("GET", url))
        await response.aclose()
    finally:
        await transport.aclose()
    assert site.paths() == ["/p"] and "authorization" not in site.requests[0].headers


async def test_stale_keepalive_connection_is_left_to_the_retry_policy(world: World) -> None:
    """A kept-alive connection dropped as the next request arrives: a retryable error, no resend."""
    site = await world.add("site.example")
    served: dict[int, int] = {}

    async def one_per_connection(request: SeenRequest, reply: Reply) -> None:
        count = served[id(reply.writer)] = served.get(id(reply.writer), 0) + 1
        if count == 1:
            await reply.send(200, body=b"ok")
        else:  # the server had given up on this connection: close without a word
            reply.keep_open = False

    site.route("*", one_per_connection)
    async with client_for(world) as client:
        assert (await client.get(site.url("/1"))).text == "ok"
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await client.get(site.url("/2"))
        assert is_retryable(caught.value)
        assert (await client.get(site.url("/3"))).text == "ok"
    assert site.paths() == ["/1", "/2", "/3"] and site.connections == 2


async def test_read_timeout(world: World) -> None:
    """A server that never answers raises ReadTimeout after the read timeout."""
    site = await world.add("site.example")

    async def silent(request: SeenRequest, reply: Reply) -> None:
        await reply.writer.wait_closed()

    site.route("*", silent)
    async with client_for(world) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(site.url("/"), timeout=0.2)


# -- pool: reuse, limits, early close --------------------------------------------------------


async def test_unread_bodies_decide_reuse(world: World) -> None:
    """Closing with a short body already received keeps the connection; a long one drops it."""
    site = await world.add("site.example")

    async def sized(request: SeenRequest, reply: Reply) -> None:
        size = 100 if request.path == "/short" else 50 * 1024 * 1024
        try:
            await reply.send(200, body=b"x" * size)
        except ConnectionError:  # the client hung up mid-body, as it should
            reply.keep_open = False

    site.route("*", sized)
    async with client_for(world) as client:
        for path in ("/short", "/short"):
            async with client.stream("GET", site.url(path)) as response:
                assert response.status_code == 200
        assert site.connections == 1
        async with client.stream("GET", site.url("/long")) as response:
            async for _ in response.aiter_raw():
                break
        async with client.stream("GET", site.url("/short")) as response:
            await response.aread()
    assert site.connections == 2
    assert site.bytes_sent < 10 * 1024 * 1024  # socket buffers at most, not the 50 MB


async def test_max_connections_bounds_requests_in_flight(world: World) -> None:
    """With max_connections=2, a third concurrent request waits for a free connection."""
    site = await world.add("site.example")
    release = asyncio.Event()

    async def held(request: SeenRequest, reply: Reply) -> None:
        await release.wait()
        await reply.send(200, body=b"ok")

    site.route("*", held)
    async with client_for(world, max_connections=2) as client:
        tasks = [asyncio.create_task(client.get(site.url(f"/{i}"))) for i in range(3)]
        for _ in range(10_000):  # bounded: the loopback round trips take a few loop turns
            if len(site.requests) >= 2:
                break
            await asyncio.sleep(0)
        for _ in range(200):  # more turns: a third request would have arrived by now
            await asyncio.sleep(0)
        assert len(site.requests) == 2
        release.set()
        responses = await asyncio.gather(*tasks)
    assert [r.text for r in responses] == ["ok"] * 3 and site.max_active == 2


async def test_closed_transport_closes_its_session(world: World) -> None:
    """aclose() ends the aiohttp session (no unclosed-session warning, no reuse after)."""
    site = await world.add("site.example")
    site.route("*", ok)
    transport = GuardedTransport(AddressGuard(world.dns, allow_private=True))
    response = await transport.handle_async_request(httpx.Request("GET", site.url("/")))
    await response.aclose()
    await transport.aclose()
    assert isinstance(transport.client, aiohttp.ClientSession) and transport.client.closed


# -- error translation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected", "category"),
    [
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError, "connect"),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError, "connect"),
        (aiohttp.ClientPayloadError("cut short"), httpx.RemoteProtocolError, "connect"),
        (aiohttp.ConnectionTimeoutError("slow"), httpx.ConnectTimeout, "timeout"),
        (aiohttp.SocketTimeoutError("slow"), httpx.ReadTimeout, "timeout"),
        (aiohttp.NonHttpUrlClientError("mailto:x"), httpx.UnsupportedProtocol, "invalid_url"),
        (aiohttp.InvalidUrlClientError("http://127.1/"), httpx.InvalidURL, "invalid_url"),
    ],
)
def test_aiohttp_errors_map_to_project_categories(
    error: Exception, expected: type[Exception], category: str
) -> None:
    """Each aiohttp failure becomes the httpx error whose category and retry rule fit it."""
    mapped = translate_error(error)
    assert type(mapped) is expected and error_category(mapped) == category


def test_foreign_errors_are_not_translated() -> None:
    """The guard's own errors and unrelated exceptions pass through unchanged."""
    blocked = BlockedAddressError("no", host="h", address="10.0.0.1")
    assert translate_error(blocked) is None
    assert translate_error(ValueError("x")) is None


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_tls_verifies_the_name_at_the_checked_address(world: World, tmp_path: Path) -> None:
    """HTTPS connects to the guard's address with SNI = name; an unknown CA is TlsError."""
    server_tls, client_tls = make_tls_pair(tmp_path, "secure.test")
    site = await world.add("secure.test", tls=server_tls)
    site.route("*", ok)
    async with client_for(world, ssl_context=client_tls) as client:
        assert (await client.get(site.url("/"))).text == "ok"
    async with client_for(world) as client:  # default roots: the test CA is unknown
        with pytest.raises(TlsError) as caught:
            await client.get(site.url("/"))
    assert error_category(caught.value) == "tls" and not is_retryable(caught.value)


async def test_plain_http_on_an_https_url_is_a_tls_error(world: World) -> None:
    """A server that answers the handshake with plain text fails as tls, not as connect."""

    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(plain, "127.0.0.2", 0)
    port = server.sockets[0].getsockname()[1]
    world.extra_dns["plain.test"] = ["127.0.0.2"]
    try:
        async with client_for(world) as client:
            with pytest.raises(TlsError):
                await client.get(f"https://plain.test:{port}/")
    finally:
        server.close()
        await server.wait_closed()


# -- read_capped (scraper.net.body) ---------------------------------------------------------------


def _response(body: bytes, encoding: str | None = None) -> httpx.Response:
    headers = {"Content-Encoding": encoding} if encoding else {}
    return httpx.Response(200, headers=headers, stream=httpx.ByteStream(body))


async def test_read_capped_decodes_gzip_and_both_deflates() -> None:
    """gzip, zlib-wrapped deflate and raw deflate decode to the same bytes."""
    page = b"<html>" + b"a" * 5000 + b"</html>"
    raw_deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    bodies = {
        "gzip": zlib.compress(page, wbits=31),
        "deflate": zlib.compress(page),
    }
    for encoding, body in bodies.items():
        assert await read_capped(_response(body, encoding), 10_000) == (page, True)
    raw = raw_deflate.compress(page) + raw_deflate.flush()
    assert await read_capped(_response(raw, "deflate"), 10_000) == (page, True)


async def test_read_capped_stops_at_the_cap() -> None:
    """Longer bodies are cut at the cap (or refused with strict), compressed or not."""
    big = b"z" * 100_000
    assert await read_capped(_response(big), 1000) == (big[:1000], False)
    data, complete = await read_capped(_response(zlib.compress(big, wbits=31), "gzip"), 1000)
    assert data == big[:1000] and not complete
    with pytest.raises(BodyTooLargeError):
        await read_capped(_response(big), 1000, strict=True)
    assert await read_capped(_response(b"x" * 1000), 1000) == (b"x" * 1000, True)


async def test_read_capped_accepts_an_already_read_response() -> None:
    """A response built with content (as MockTransport handlers do) is cut, not re-read."""
    assert await read_capped(httpx.Response(200, content=b"abcdef"), 4) == (b"abcd", False)
    assert await read_capped(httpx.Response(200, content=b"ab"), 4) == (b"ab", True)


async def test_read_capped_refuses_unknown_or_broken_encodings() -> None:
    """An encoding not asked for, or a corrupt stream, is a DecodingError."""
    with pytest.raises(httpx.DecodingError):
        await read_capped(_response(b"...", "br"), 100)
    with pytest.raises(httpx.DecodingError):
        await read_capped(_response(b"not gzip at all", "gzip"), 100)
