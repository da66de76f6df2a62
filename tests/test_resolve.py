"""The resolver against a fake internet of raw HTTP/1.1 servers on loopback."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from resolver_world import (
    BROWSER_UA,
    RecordingSleep,
    Reply,
    SeenRequest,
    World,
    make_tls_pair,
    world,
)

from scraper.model import Resolution
from scraper.resolve.batch import resolve_iter, resolve_urls
from scraper.resolve.resolver import resolver_client

__all__ = ["world"]  # the fixture, imported for pytest

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
TCO_PAGE = (
    '<head><noscript><META http-equiv="refresh" content="0;URL={url}"></noscript>'
    "<title>{url}</title></head><script>window.opener = null; "
    'location.replace("{escaped}")</script>'
)


def fixed_now() -> datetime:
    return NOW


async def resolve_one(world: World, url: str, **config: object) -> Resolution:
    sleep = RecordingSleep()
    [result] = await resolve_urls(
        [url], world.config(**config), dns=world.dns, sleep=sleep, now=fixed_now
    )
    return result


async def tco_world(world: World) -> tuple[World, str]:
    """t.co answering like the real one: 301 to tools, an HTML page to browsers."""
    tco = await world.add("t.co")
    dest = await world.add("dest.example")

    async def article(request: SeenRequest, reply: Reply) -> None:
        await reply.html("<html><head><title>story</title></head><body>text</body></html>")

    dest.route("/story", article)
    target = dest.url("/story")

    async def short(request: SeenRequest, reply: Reply) -> None:
        if "Mozilla" in request.headers.get("user-agent", ""):
            escaped = target.replace("/", "\\/")
            await reply.html(TCO_PAGE.format(url=target, escaped=escaped))
        else:
            await reply.redirect(target)

    tco.route("/abc", short)
    return world, tco.url("/abc")


async def test_tco_plain_client_gets_301(world: World) -> None:
    """t.co's 301 is followed to the article; the honest User-Agent is sent."""
    _, short = await tco_world(world)
    result = await resolve_one(world, short)
    target = world.hosts["dest.example"].url("/story")
    assert result.status == "resolved"
    assert result.expanded_url == result.final_url == target
    assert result.final_status_code == 200
    assert [(h.status_code, h.via) for h in result.hops] == [(301, "header"), (200, "none")]
    assert result.hops[0].location == target
    agent = world.hosts["t.co"].requests[0].headers["user-agent"]
    assert agent.startswith("scraper/") and "Mozilla" not in agent


async def test_tco_browser_agent_gets_meta_refresh_page(world: World) -> None:
    """To a browser User-Agent t.co answers 200 with meta refresh; it is followed."""
    _, short = await tco_world(world)
    result = await resolve_one(world, short, user_agent=BROWSER_UA)
    target = world.hosts["dest.example"].url("/story")
    assert result.status == "resolved"
    assert result.final_url == target
    assert [(h.status_code, h.via) for h in result.hops] == [(200, "meta-refresh"), (200, "none")]


async def test_script_only_redirect_with_json_escaped_slashes(world: World) -> None:
    """``location.replace("https:\\/\\/...")`` on a shortener page is followed (via js)."""
    tco = await world.add("t.co")
    dest = await world.add("dest.example")
    target = dest.url("/x")
    escaped = target.replace("/", "\\/")

    async def page(request: SeenRequest, reply: Reply) -> None:
        await reply.html(f'<script>location.replace("{escaped}")</script>')

    tco.route("/js", page)
    result = await resolve_one(world, tco.url("/js"))
    assert [h.via for h in result.hops] == ["js", "none"]
    assert result.final_url == target and result.final_status_code == 404


async def test_bitly_chain_with_relative_location(world: World) -> None:
    """bit.ly -> bit.ly (302, relative Location) -> t.co -> destination, every hop kept."""
    bitly = await world.add("bit.ly")
    tco = await world.add("t.co")
    dest = await world.add("dest.example")

    async def first(request: SeenRequest, reply: Reply) -> None:
        await reply.redirect("/second?x=1", 302)

    async def second(request: SeenRequest, reply: Reply) -> None:
        await reply.redirect(tco.url("/t"))

    async def via_tco(request: SeenRequest, reply: Reply) -> None:
        await reply.redirect(dest.url("/end"))

    async def end(request: SeenRequest, reply: Reply) -> None:
        await reply.html("<p>the end</p>")

    bitly.route("/first", first)
    bitly.route("/second", second)
    tco.route("/t", via_tco)
    dest.route("/end", end)
    result = await resolve_one(world, bitly.url("/first"))
    assert result.status == "resolved"
    assert [h.url for h in result.hops] == [
        bitly.url("/first"),
        bitly.url("/second?x=1"),
        tco.url("/t"),
        dest.url("/end"),
    ]
    assert result.hops[0].location == "/second?x=1"
    assert result.expanded_url == dest.url("/end")


@pytest.mark.parametrize(
    ("raw", "kept", "expected_path"),
    [
        (b"../other path/a b", "../other path/a b", "/other%20path/a%20b"),
        ("/caf\u00e9?q=\u00e9".encode(), "/caf\u00e9?q=\u00e9", "/caf%C3%A9?q=%C3%A9"),
        (b"/caf\xe9", "/caf\u00e9", "/caf%E9"),
        (b"  /padded\t ", "/padded", "/padded"),
    ],
)
async def test_location_forms_are_joined_and_kept_raw(
    world: World, raw: bytes, kept: str, expected_path: str
) -> None:
    """Relative, spaced, UTF-8 and Latin-1 Locations resolve as browsers do; raw text kept."""
    site = await world.add("site.example")

    async def move(request: SeenRequest, reply: Reply) -> None:
        await reply.send(302, [(b"Location", raw)])

    site.route("/dir/start", move)
    result = await resolve_one(world, site.url("/dir/start"))
    assert result.hops[0].location == kept
    assert result.hops[1].url == site.url(expected_path)
    assert site.paths()[-1] == expected_path


async def test_scheme_relative_and_idn_locations(world: World) -> None:
    """``//host/path`` keeps the scheme; an IDN host becomes punycode."""
    start = await world.add("start.example")
    idn = await world.add("xn--bcher-kva.example")

    async def to_idn(request: SeenRequest, reply: Reply) -> None:
        await reply.redirect(f"//b\u00fccher.example:{idn.port}/buch".encode())

    async def book(request: SeenRequest, reply: Reply) -> None:
        await reply.html("<p>Buch</p>")

    start.route("/go", to_idn)
    idn.route("/buch", book)
    result = await resolve_one(world, start.url("/go"))
    assert result.status == "resolved"
    assert result.final_url == f"http://xn--bcher-kva.example:{idn.port}/buch"
    assert result.hops[0].location == f"//b\u00fccher.example:{idn.port}/buch"
    assert idn.requests[0].headers["host"] == f"xn--bcher-kva.example:{idn.port}"


async def test_unparseable_location_keeps_the_hop(world: World) -> None:
    """A Location that cannot be a URL fails as invalid_url with the hop and raw header kept."""
    site = await world.add("site.example")

    async def bad(request: SeenRequest, reply: Reply) -> None:
        await reply.send(301, [(b"Location", b"http://a/\x01b")])

    site.route("/bad", bad)
    result = await resolve_one(world, site.url("/bad"))
    assert result.status == "failed" and result.error_category == "invalid_url"
    assert result.final_status_code == 301 and result.hops[0].location == "http://a/\x01b"


async def test_redirect_to_another_scheme_is_invalid_url(world: World) -> None:
    """A redirect to mailto: ends the chain as invalid_url, the target kept as final_url."""
    site = await world.add("site.example")

    async def mail(request: SeenRequest, reply: Reply) -> None:
        await reply.redirect("mailto:desk@example.org")

    site.route("/m", mail)
    result = await resolve_one(world, site.url("/m"))
    assert result.error_category == "invalid_url"
    assert result.final_url == "mailto:desk@example.org" and result.final_status_code is None


async def test_refresh_header_is_followed(world: World) -> None:
    """A ``Refresh: 0; url=...`` header on a 200 is a hop via refresh-header."""
    site = await world.add("site.example")

    async def refresh(request: SeenRequest, reply: Reply) -> None:
        await reply.send(200, [("Refresh", "0; url=/there"), ("Content-Type", "text/plain")])

    async def there(request: SeenRequest, reply: Reply) -> None:
        await reply.send(204)

    site.route("/here", refresh)
    site.route("/there", there)
    result = await resolve_one(world, site.url("/here"))
    assert [h.via for h in result.hops] == ["refresh-header", "none"]
    assert result.final_status_code == 204 and result.status == "resolved"


async def test_wrappers_are_unwrapped_without_a_request(world: World) -> None:
    """twitter.com's unsafe-link page is unwrapped locally; no request goes to twitter.com."""
    dest = await world.add("dest.example")

    async def page(request: SeenRequest, reply: Reply) -> None:
        await reply.html("<p>ok</p>")

    dest.route("/p", page)
    wrapped = str(
        httpx.URL(
            "https://twitter.com/safety/unsafe_link_warning",
            params={"unsafe_link": dest.url("/p")},
        )
    )
    dns = world.dns
    [result] = await resolve_urls([wrapped], world.config(), dns=dns, now=fixed_now)
    assert [(h.via, h.status_code) for h in result.hops] == [("wrapper", None), ("none", 200)]
    assert result.expanded_url == dest.url("/p")  # the wrapper is not where the link goes
    assert result.final_url == dest.url("/p")
    assert "twitter.com" not in dns.lookups


async def test_loop_is_an_error(world: World) -> None:
    """A -> B -> A fails as ``loop`` with the chain kept."""
    site = await world.add("site.example")

    async def a(request: SeenRequest, reply: Reply) -> None:
        await reply.redirect("/b")

    async def b(request: SeenRequest, reply: Reply) -> None:
        await reply.redirect("/a")

    site.route("/a", a)
    site.route("/b", b)
    result = await resolve_one(world, site.url("/a"))
    assert result.status == "failed" and result.error_category == "loop"
    assert [h.url for h in result.hops] == [site.url("/a"), site.url("/b"), site.url("/a")]
    assert site.paths() == ["/a", "/b"]


async def test_endless_chain_stops_at_max_redirects(world: World) -> None:
    """An endless chain fails as too_many_redirects after max_redirects hops."""
    site = await world.add("site.example")

    async def onward(request: SeenRequest, reply: Reply) -> None:
        await reply.redirect(f"/n/{int(request.path.rsplit('/', 1)[1]) + 1}")

    site.route("*", onward)
    result = await resolve_one(world, site.url("/n/0"), max_redirects=5)
    assert result.error_category == "too_many_redirects"
    assert len(site.requests) == 6
    assert result.final_url == site.url("/n/6") and result.final_status_code is None


async def test_redirect_without_location_ends_the_chain(world: World) -> None:
    """A 302 without Location is where the chain stops: resolved, 302 recorded."""
    site = await world.add("site.example")

    async def odd(request: SeenRequest, reply: Reply) -> None:
        await reply.send(302)

    site.route("/odd", odd)
    result = await resolve_one(world, site.url("/odd"))
    assert result.status == "resolved" and result.final_status_code == 302
    assert result.hops == [result.hops[0]] and result.hops[0].location is None


async def test_dead_link_fails_with_final_status(world: World) -> None:
    """A chain ending in 404 is failed http_4xx, final URL and status kept; no retry."""
    bitly = await world.add("bit.ly")
    dest = await world.add("dest.example")

    async def short(request: SeenRequest, reply: Reply) -> None:
        await reply.redirect(dest.url("/gone"))

    bitly.route("/s", short)
    result = await resolve_one(world, bitly.url("/s"))
    assert result.status == "failed" and result.error == "http_4xx: 404 Not Found"
    assert result.final_url == dest.url("/gone") and result.final_status_code == 404
    assert result.expanded_url == dest.url("/gone")
    assert len(dest.requests) == 1


async def test_head_is_never_used(world: World) -> None:
    """A host answering 405 to HEAD resolves: the resolver only sends GET."""
    site = await world.add("site.example")

    async def picky(request: SeenRequest, reply: Reply) -> None:
        if request.method == "HEAD":
            await reply.send(405)
        else:
            await reply.redirect("/ok")

    async def ok(request: SeenRequest, reply: Reply) -> None:
        await reply.html("<p>ok</p>")

    site.route("/picky", picky)
    site.route("/ok", ok)
    result = await resolve_one(world, site.url("/picky"))
    assert result.status == "resolved"
    assert {r.method for r in site.requests} == {"GET"}


async def test_429_retry_after_is_honoured(world: World) -> None:
    """429 with Retry-After: 7 waits exactly 7 s (recorded), then resolves."""
    site = await world.add("site.example")
    calls = 0

    async def limited(request: SeenRequest, reply: Reply) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await reply.send(429, [("Retry-After", "7")])
        else:
            await reply.send(200)

    site.route("/r", limited)
    sleep = RecordingSleep()
    [result] = await resolve_urls([site.url("/r")], world.config(), dns=world.dns, sleep=sleep)
    assert result.status == "resolved"
    assert sleep.waits == [7.0]


async def test_retry_after_beyond_cap_defers_to_a_later_run(world: World) -> None:
    """Retry-After past retry_after_max leaves the URL pending with next_attempt_at."""
    site = await world.add("site.example")

    async def limited(request: SeenRequest, reply: Reply) -> None:
        await reply.send(429, [("Retry-After", "3600")])

    site.route("/r", limited)
    sleep = RecordingSleep()
    [result] = await resolve_urls(
        [site.url("/r")], world.config(), dns=world.dns, sleep=sleep, now=fixed_now
    )
    assert result.status == "pending"
    assert result.next_attempt_at == "2024-05-01T13:00:00+00:00"
    assert sleep.waits == [] and len(site.requests) == 1


async def test_retry_after_http_date(world: World) -> None:
    """Retry-After as an HTTP date is a wait relative to now."""
    site = await world.add("site.example")
    calls = 0

    async def busy(request: SeenRequest, reply: Reply) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await reply.send(503, [("Retry-After", "Wed, 01 May 2024 12:00:30 GMT")])
        else:
            await reply.send(200)

    site.route("/d", busy)
    sleep = RecordingSleep()
    [result] = await resolve_urls(
        [site.url("/d")], world.config(), dns=world.dns, sleep=sleep, now=fixed_now
    )
    assert result.status == "resolved" and sleep.waits == [30.0]


async def test_503_that_clears_on_second_try(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A 503 is retried after an exponential wait (logged), and the second answer counts."""
    site = await world.add("site.example")
    calls = 0

    async def flaky(request: SeenRequest, reply: Reply) -> None:
        nonlocal calls
        calls += 1
        await reply.send(503 if calls == 1 else 200)

    site.route("/f", flaky)
    sleep = RecordingSleep()
    with caplog.at_level(logging.INFO, logger="scraper.net.retry"):
        [result] = await resolve_urls([site.url("/f")], world.config(), dns=world.dns, sleep=sleep)
    assert result.status == "resolved" and result.final_status_code == 200
    assert len(sleep.waits) == 1 and 1.0 <= sleep.waits[0] <= 2.0
    assert "retrying" in caplog.text and "503" in caplog.text


async def test_persistent_503_fails_after_retries_with_growing_waits(world: World) -> None:
    """Always 503: retries+1 attempts, waits growing exponentially, then failed http_5xx."""
    site = await world.add("site.example")

    async def down(request: SeenRequest, reply: Reply) -> None:
        await reply.send(503)

    site.route("/down", down)
    sleep = RecordingSleep()
    [result] = await resolve_urls(
        [site.url("/down")], world.config(retries=3), dns=world.dns, sleep=sleep
    )
    assert result.status == "failed" and result.error_category == "http_5xx"
    assert result.final_status_code == 503 and len(site.requests) == 4
    assert [int(w) for w in sleep.waits] == [1, 2, 4]


async def test_connection_reset_is_retried_then_fails_as_connect(world: World) -> None:
    """A server that resets every connection: retried, then failed ``connect``."""
    site = await world.add("site.example")

    async def rude(request: SeenRequest, reply: Reply) -> None:
        reply.reset()

    site.route("/rst", rude)
    sleep = RecordingSleep()
    [result] = await resolve_urls([site.url("/rst")], world.config(), dns=world.dns, sleep=sleep)
    assert result.status == "failed" and result.error_category == "connect"
    assert len(site.requests) == 3 and len(sleep.waits) == 2
    assert result.final_url == site.url("/rst") and result.final_status_code is None


async def test_connection_reset_once_then_fine(world: World) -> None:
    """A single reset is retried and the URL resolves."""
    site = await world.add("site.example")
    calls = 0

    async def once(request: SeenRequest, reply: Reply) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            reply.reset()
        else:
            await reply.send(200)

    site.route("/once", once)
    result = await resolve_one(world, site.url("/once"))
    assert result.status == "resolved"


async def test_huge_body_on_a_redirect_is_not_read(world: World) -> None:
    """A 301 carrying a 50 MB body: the client closes after the head; the server sends little."""
    site = await world.add("site.example")
    size = 50 * 1024 * 1024

    async def heavy(request: SeenRequest, reply: Reply) -> None:
        await reply.raw(
            b"HTTP/1.1 301 Moved\r\nLocation: /light\r\nContent-Length: %d\r\n\r\n" % size
        )
        chunk = b"x" * 65536
        for _ in range(size // len(chunk)):
            await reply.raw(chunk)

    async def light(request: SeenRequest, reply: Reply) -> None:
        await reply.send(200)

    site.route("/heavy", heavy)
    site.route("/light", light)
    result = await resolve_one(world, site.url("/heavy"))
    assert result.status == "resolved" and result.final_url == site.url("/light")
    assert site.bytes_sent < 10 * 1024 * 1024  # socket buffers, not 50 MB


async def test_gzip_bomb_stays_small_in_memory(world: World) -> None:
    """A shortener's 200 page that inflates to 200 MB is read only up to the sniff window."""
    tco = await world.add("t.co")
    # after a full flush each MB of zeros compresses to the same bytes: repeat them
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    first = squeeze.compress(zeros) + squeeze.flush(zlib.Z_FULL_FLUSH)
    block = squeeze.compress(zeros) + squeeze.flush(zlib.Z_FULL_FLUSH)
    bomb = first + block * 199  # 200 MB inflated, about 200 KB on the wire

    async def boom(request: SeenRequest, reply: Reply) -> None:
        headers = [("Content-Type", "text/html"), ("Content-Encoding", "gzip")]
        await reply.send(200, headers, bomb)

    tco.route("/bomb", boom)
    tracemalloc.start()
    try:
        result = await resolve_one(world, tco.url("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.status == "resolved" and result.final_status_code == 200
    assert peak < 4 * 1024 * 1024


async def test_dns_failure_is_recorded(world: World) -> None:
    """A name that does not resolve fails as ``dns`` and is not retried."""
    sleep = RecordingSleep()
    [result] = await resolve_urls(
        ["http://nowhere.invalid/x"], world.config(), dns=world.dns, sleep=sleep
    )
    assert result.status == "failed" and result.error_category == "dns"
    assert sleep.waits == []


@pytest.mark.parametrize("url", ["ftp://example.org/f", "not a url", "http://", "https:///x", ""])
async def test_invalid_urls_fail_cleanly(world: World, url: str) -> None:
    """Unusable input becomes failed invalid_url, never an exception."""
    [result] = await resolve_urls([url], world.config(), dns=world.dns)
    assert result.status == "failed" and result.error_category == "invalid_url"
    assert result.url == url


async def test_each_distinct_url_once_in_input_order(world: World) -> None:
    """Duplicates are resolved once; results come in input order; on_result sees each once."""
    site = await world.add("site.example")

    async def ok(request: SeenRequest, reply: Reply) -> None:
        await reply.send(200)

    site.route("*", ok)
    urls = [site.url(f"/{i % 5}") for i in range(20)]
    seen: list[str] = []
    results = await resolve_urls(
        urls, world.config(), dns=world.dns, on_result=lambda r: seen.append(r.url)
    )
    assert [r.url for r in results] == urls[:5]
    assert sorted(seen) == sorted(urls[:5]) and len(site.requests) == 5


async def test_per_host_limit_and_keepalive(world: World) -> None:
    """No more than ``per_host`` requests at once to one host; connections are reused."""
    site = await world.add("site.example")

    async def slow(request: SeenRequest, reply: Reply) -> None:
        await asyncio.sleep(0.01)
        await reply.send(200)

    site.route("*", slow)
    urls = [site.url(f"/{i}") for i in range(24)]
    results = await resolve_urls(urls, world.config(concurrency=12, per_host=3), dns=world.dns)
    assert {r.status for r in results} == {"resolved"}
    assert site.max_active == 3
    assert site.connections <= 3


async def test_resolve_iter_yields_as_urls_finish(world: World) -> None:
    """The streaming API yields every distinct URL once."""
    site = await world.add("site.example")

    async def ok(request: SeenRequest, reply: Reply) -> None:
        await reply.send(200)

    site.route("*", ok)
    urls = [site.url(f"/{i}") for i in range(10)]
    got = [r.url async for r in resolve_iter(urls + urls, world.config(), dns=world.dns)]
    assert sorted(got) == sorted(urls)


async def test_injected_mock_transport_client(world: World) -> None:
    """A caller-supplied client (MockTransport) is used as is and not closed."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/s":
            return httpx.Response(301, headers={"Location": "https://example.org/final"})
        return httpx.Response(200, headers={"Content-Type": "text/plain"})

    config = world.config(allow_private=False)
    async with resolver_client(config, transport=httpx.MockTransport(handler)) as client:
        [result] = await resolve_urls(["https://bit.ly/s"], config, client=client)
        assert not client.is_closed
    assert result.status == "resolved" and result.final_url == "https://example.org/final"
    assert result.expanded_url == "https://example.org/final"


# -- the address guard, end to end -------------------------------------------------------


async def test_private_answer_is_blocked_and_no_packet_leaves(world: World) -> None:
    """A name resolving to a private address is blocked; the server there sees nothing."""
    inside = await world.add("intranet.test")
    [result] = await resolve_urls(
        [inside.url("/admin")], world.config(allow_private=False), dns=world.dns
    )
    assert result.status == "blocked" and result.error_category == "blocked"
    assert inside.connections == 0 and inside.requests == []


async def test_mixed_public_and_private_answers_block_the_name(world: World) -> None:
    """A name with one public and one private answer is refused as a whole."""
    inside = await world.add("mixed.test")
    world.extra_dns["mixed.test"] = ["93.184.216.34", inside.ip]
    [result] = await resolve_urls(
        [inside.url("/")], world.config(allow_private=False), dns=world.dns
    )
    assert result.status == "blocked" and inside.connections == 0


async def test_public_name_redirecting_to_private_is_blocked_at_the_hop(world: World) -> None:
    """Hop 1 (public) is kept; hop 2 resolves to a private address and is blocked unsent."""
    public = await world.add("public.test")
    inside = await world.add("intranet.test")

    async def to_inside(request: SeenRequest, reply: Reply) -> None:
        await reply.redirect(inside.url("/secret"), 302)

    public.route("/go", to_inside)
    config = world.config(allow_private=False)
    dns = world.dns
    # public.test's loopback address plays a public one; nothing else is allowed
    async with resolver_client(config, dns=dns, allowed_networks=[f"{public.ip}/32"]) as client:
        [result] = await resolve_urls([public.url("/go")], config, client=client)
    assert result.status == "blocked"
    assert [(h.url, h.status_code) for h in result.hops] == [
        (public.url("/go"), 302),
        (inside.url("/secret"), None),
    ]
    assert inside.connections == 0
    assert dns.lookups == ["public.test", "intranet.test"]


@pytest.mark.parametrize("host", ["0x7f.1", "127.1", "2130706433", "017700000001", "0", "[::1]"])
async def test_odd_address_spellings_are_blocked_without_dns(world: World, host: str) -> None:
    """Literal loopback in any spelling is blocked before DNS or a connection."""
    site = await world.add("site.example", ip="127.0.0.1")
    dns = world.dns
    [result] = await resolve_urls(
        [f"http://{host}:{site.port}/"], world.config(allow_private=False), dns=dns
    )
    assert result.status == "blocked" and dns.lookups == []
    assert site.connections == 0


async def test_connects_to_the_checked_address_with_one_lookup(world: World) -> None:
    """One DNS lookup per new connection; the request goes to that address with Host = name."""
    site = await world.add("site.example")

    async def ok(request: SeenRequest, reply: Reply) -> None:
        await reply.send(200)

    site.route("*", ok)
    dns = world.dns
    await resolve_urls([site.url("/a"), site.url("/b")], world.config(concurrency=1), dns=dns)
    assert dns.lookups == ["site.example"]  # the second URL reused the checked connection
    assert site.requests[0].headers["host"] == f"site.example:{site.port}"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_https_connects_to_the_checked_address_and_verifies_the_name(
    world: World, tmp_path: Path
) -> None:
    """HTTPS goes to the checked IP while TLS verifies the host name; an unknown CA fails as tls."""
    server_tls, client_tls = make_tls_pair(tmp_path, "secure.test")
    site = await world.add("secure.test", tls=server_tls)

    async def ok(request: SeenRequest, reply: Reply) -> None:
        await reply.html("<p>secure</p>")

    site.route("/s", ok)
    config = world.config()
    async with resolver_client(config, dns=world.dns, ssl_context=client_tls) as client:
        [good] = await resolve_urls([site.url("/s")], config, client=client)
    assert good.status == "resolved" and good.final_status_code == 200
    sleep = RecordingSleep()
    [bad] = await resolve_urls([site.url("/s")], config, dns=world.dns, sleep=sleep)
    assert bad.status == "failed" and bad.error_category == "tls"
    assert sleep.waits == [] and len(site.requests) == 1


async def test_failing_callback_stops_the_run(world: World) -> None:
    """An exception from on_result ends resolve_urls with that exception, workers stopped."""
    site = await world.add("site.example")

    async def ok(request: SeenRequest, reply: Reply) -> None:
        await reply.send(200)

    site.route("*", ok)

    def explode(result: Resolution) -> None:
        raise RuntimeError("disk full")

    urls = [site.url(f"/{i}") for i in range(50)]
    with pytest.raises(RuntimeError, match="disk full"):
        await resolve_urls(urls, world.config(concurrency=2), dns=world.dns, on_result=explode)
    workers = [t for t in asyncio.all_tasks() if "resolve_iter" in t.get_coro().__qualname__]
    assert workers == [] and len(site.requests) < 10


async def test_failing_input_iterable_is_reported(world: World) -> None:
    """An input iterable that raises surfaces its exception instead of hanging."""

    def urls() -> Iterator[str]:
        yield "http://nowhere.invalid/"
        raise ValueError("bad input file")

    with pytest.raises(ValueError, match="bad input file"):
        async for _ in resolve_iter(urls(), world.config(), dns=world.dns):
            pass


async def test_shortener_to_wrapper_to_destination(world: World) -> None:
    """t.co -> twitter.com/i/redirect -> article: expanded_url is the article, not the wrapper."""
    tco = await world.add("t.co")
    dest = await world.add("dest.example")
    wrapper = str(httpx.URL("https://twitter.com/i/redirect", params={"url": dest.url("/a")}))

    async def short(request: SeenRequest, reply: Reply) -> None:
        await reply.redirect(wrapper)

    async def article(request: SeenRequest, reply: Reply) -> None:
        await reply.html("<p>article</p>")

    tco.route("/w", short)
    dest.route("/a", article)
    result = await resolve_one(world, tco.url("/w"))
    assert [h.via for h in result.hops] == ["header", "wrapper", "none"]
    assert result.expanded_url == result.final_url == dest.url("/a")


async def test_persistent_429_is_pending_not_failed(world: World) -> None:
    """Rate limited on every try: the URL stays pending for a later run, not failed."""
    site = await world.add("site.example")

    async def limited(request: SeenRequest, reply: Reply) -> None:
        await reply.send(429)

    site.route("/r", limited)
    sleep = RecordingSleep()
    [result] = await resolve_urls(
        [site.url("/r")],
        world.config(retry_after_max=90),
        dns=world.dns,
        sleep=sleep,
        now=fixed_now,
    )
    assert result.status == "pending" and result.error_category == "http_4xx"
    assert result.next_attempt_at == "2024-05-01T12:01:30+00:00"
    assert len(site.requests) == 3 and len(sleep.waits) == 2


async def test_a_url_waiting_to_retry_holds_no_request_slot(world: World) -> None:
    """With one slot, a URL waiting out Retry-After lets the next URL go meanwhile."""
    site = await world.add("site.example")
    calls = 0
    fast_seen = asyncio.Event()

    async def limited(request: SeenRequest, reply: Reply) -> None:
        nonlocal calls
        calls += 1
        await reply.send(429 if calls == 1 else 200, [("Retry-After", "5")])

    async def fast(request: SeenRequest, reply: Reply) -> None:
        fast_seen.set()
        await reply.send(200)

    site.route("/slow", limited)
    site.route("/fast", fast)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        # returns only once the other URL got a request out: a held slot would deadlock
        waits.append(seconds)
        await fast_seen.wait()

    async with asyncio.timeout(20):  # a guard: the test fails rather than hangs
        results = await resolve_urls(
            [site.url("/slow"), site.url("/fast")],
            world.config(concurrency=1),
            dns=world.dns,
            sleep=sleep,
        )
    assert [r.status for r in results] == ["resolved", "resolved"]
    assert waits == [5.0]
    assert site.paths() == ["/slow", "/fast", "/slow"]
