"""The guarded HTTP/1.1 transport and the capped body reader, against raw loopback servers."""

from __future__ import annotations

import socket
import zlib

import httpx
import pytest
from resolver_world import Reply, SeenRequest, World, world

from scraper.body import BodyTooLargeError, read_capped
from scraper.http1 import parse_head
from scraper.netguard import AddressGuard, BlockedAddressError
from scraper.transport import GuardedTransport

__all__ = ["world"]  # the fixture, imported for pytest


def client_for(world: World, **options: object) -> httpx.AsyncClient:
    guard = AddressGuard(world.dns, allow_private=True)
    transport = GuardedTransport(guard, **options)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, timeout=2.0)


def test_parse_head_is_lenient_like_browsers() -> None:
    """Bare LF line ends, folded lines and junk lines are read; the status line is strict."""
    version, status, reason, headers = parse_head(
        b"HTTP/1.1 301 Moved Permanently\nLocation: /a\n  continued\nthis is junk\nX-Empty:"
    )
    assert (version, status, reason) == (b"HTTP/1.1", 301, b"Moved Permanently")
    assert headers == [(b"Location", b"/a continued"), (b"X-Empty", b"")]
    assert parse_head(b"HTTP/1.0 200")[1:3] == (200, b"")
    for bad in (b"ICY 200 OK", b"HTTP/1.1 2000 Huh", b"HTTP/1.1", b"HTTP/1.1 abc OK"):
        with pytest.raises(httpx.RemoteProtocolError):
            parse_head(bad)


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
    """Two different Content-Length values (a smuggling shape) are refused."""
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


async def test_stale_keepalive_connection_is_retried_once(world: World) -> None:
    """A kept-alive connection closed as the next request arrives: resent on a new one."""
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
        assert (await client.get(site.url("/2"))).text == "ok"
    assert site.paths() == ["/1", "/2", "/2"] and site.connections == 2


async def test_read_timeout(world: World) -> None:
    """A server that never answers raises ReadTimeout after the read timeout."""
    site = await world.add("site.example")

    async def silent(request: SeenRequest, reply: Reply) -> None:
        await reply.writer.wait_closed()

    site.route("*", silent)
    async with client_for(world) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(site.url("/"), timeout=0.2)


async def test_refused_connection(world: World) -> None:
    """Nothing listening: ConnectError naming the address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    world.extra_dns["closed.example"] = ["127.0.0.1"]
    async with client_for(world) as client:
        with pytest.raises(httpx.ConnectError, match=r"127\.0\.0\.1"):
            await client.get(f"http://closed.example:{port}/")


async def test_guard_refuses_before_connecting(world: World) -> None:
    """With allow_private off, a loopback answer raises BlockedAddressError and sends nothing."""
    site = await world.add("site.example")
    transport = GuardedTransport(AddressGuard(world.dns))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(BlockedAddressError):
            await client.get(site.url("/"))
    assert site.connections == 0


async def test_unread_bodies_decide_reuse(world: World) -> None:
    """Closing with a short body already buffered keeps the connection; a long one drops it."""
    site = await world.add("site.example")

    async def sized(request: SeenRequest, reply: Reply) -> None:
        size = 100 if request.path == "/short" else 2_000_000
        await reply.send(200, body=b"x" * size)

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


async def test_idle_connections_are_capped(world: World) -> None:
    """Past max_keepalive_connections idle connections, the oldest is closed."""
    one = await world.add("one.example")
    two = await world.add("two.example")

    async def ok(request: SeenRequest, reply: Reply) -> None:
        await reply.send(200)

    one.route("*", ok)
    two.route("*", ok)
    async with client_for(world, max_keepalive_connections=1) as client:
        await client.get(one.url("/"))
        await client.get(two.url("/"))
        await client.get(one.url("/"))
    assert one.connections == 2 and two.connections == 1


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
