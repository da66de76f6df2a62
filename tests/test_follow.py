"""The redirect follower under attack: hostile Retry-After, dripping bodies, dead hosts.

Time-dependent cases run on :mod:`virtual_clock`'s loop: the test moves the clock, so a
deadline fires exactly when the test says and never because the machine was slow.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from resolver_world import RecordingSleep, Reply, SeenRequest, World, world
from virtual_clock import clock, run_virtual

from scraper.config import FetchConfig
from scraper.fetch import Fetcher, FetchResult, make_fetch_client
from scraper.model import Resolution
from scraper.net.breaker import HostBreaker, HostDown
from scraper.net.chain import error_category
from scraper.net.guard import (
    AddressGuard,
    BlockedAddressError,
    DnsLookupError,
    StaticDnsResolver,
    TlsError,
)
from scraper.net.retry import is_retryable
from scraper.net.transport import GuardedTransport
from scraper.resolve.batch import resolve_urls
from scraper.resolve.resolver import Resolver, resolver_client

__all__ = ["world"]  # the fixture, imported for pytest

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def fixed_now() -> datetime:
    return NOW


# -- Retry-After that no date can hold ------------------------------------------------


@pytest.mark.parametrize(
    "value", ["1e12", "1e400", "inf", "Infinity", "Fri, 31 Dec 9999 23:59:59 GMT", "99999999999"]
)
async def test_absurd_retry_after_defers_without_crashing(world: World, value: str) -> None:
    """A Retry-After too large for a date defers its URL (clamped); the others resolve."""
    site = await world.add("site.example")

    async def hostile(request: SeenRequest, reply: Reply) -> None:
        await reply.send(429, [("Retry-After", value)])

    async def fine(request: SeenRequest, reply: Reply) -> None:
        await reply.send(200)

    site.route("/hostile", hostile)
    site.route("/fine", fine)
    sleep = RecordingSleep()
    results = await resolve_urls(
        [site.url("/hostile"), site.url("/fine")],
        world.config(),
        dns=world.dns,
        sleep=sleep,
        now=fixed_now,
    )
    hostile_result, fine_result = results
    assert fine_result.status == "resolved"
    assert hostile_result.status == "pending" and hostile_result.error_category == "http_4xx"
    assert hostile_result.next_attempt_at is not None
    later = datetime.fromisoformat(hostile_result.next_attempt_at)
    assert NOW + timedelta(minutes=1) < later <= NOW + timedelta(days=30)
    assert "Retry-After" in (hostile_result.error or "")
    assert sleep.waits == []  # deferred at once, never waited on


async def test_nan_retry_after_is_ignored(world: World) -> None:
    """``Retry-After: nan`` is no wait at all: the normal backoff applies and the URL resolves."""
    site = await world.add("site.example")
    calls = 0

    async def odd(request: SeenRequest, reply: Reply) -> None:
        nonlocal calls
        calls += 1
        await reply.send(503 if calls == 1 else 200, [("Retry-After", "nan")])

    site.route("/n", odd)
    sleep = RecordingSleep()
    [result] = await resolve_urls([site.url("/n")], world.config(), dns=world.dns, sleep=sleep)
    assert result.status == "resolved" and len(sleep.waits) == 1 and sleep.waits[0] <= 2.0


# -- a destination that sends its head, then drips its body -----------------------------


def test_dripping_body_keeps_the_status_that_arrived() -> None:
    """Headers (200) arrive, the body drips past the deadline: resolved, status kept, noted."""

    async def scenario() -> Resolution:
        fake = World()
        try:
            tco = await fake.add("t.co")
            dest = await fake.add("dest.example")
            ticks: asyncio.Queue[None] = asyncio.Queue()
            dripped = asyncio.Event()

            async def short(request: SeenRequest, reply: Reply) -> None:
                await reply.redirect(dest.url("/slow"))

            async def slow(request: SeenRequest, reply: Reply) -> None:
                await reply.raw(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                    b"Content-Length: 4000\r\n\r\n<html><head>"
                )
                while True:
                    dripped.set()
                    await ticks.get()
                    await reply.raw(b" ")

            tco.route("/s", short)
            dest.route("/slow", slow)
            task = asyncio.create_task(
                resolve_urls(
                    [tco.url("/s")],
                    fake.config(timeout=1.0),
                    dns=fake.dns,
                    sleep=RecordingSleep(),
                    now=fixed_now,
                )
            )
            for _ in range(9):  # 0.9 s of virtual time, one byte every 0.1 s
                await dripped.wait()
                dripped.clear()
                clock().advance(0.1)
                ticks.put_nowait(None)
            await dripped.wait()
            clock().advance(0.2)  # 1.1 s: past the deadline
            ticks.put_nowait(None)
            [result] = await task
            assert dest.requests and dest.requests[0].path == "/slow"
            return result
        finally:
            await fake.close()

    result = run_virtual(scenario)
    assert result.status == "resolved"
    assert result.final_status_code == 200
    assert result.final_url is not None and result.final_url.endswith("/slow")
    assert result.expanded_url == result.final_url
    assert "not read to the end" in (result.error or "")


def test_dripping_head_hits_the_whole_url_deadline() -> None:
    """A server dripping header lines cannot hold a URL past ``timeout`` (virtual clock)."""

    async def scenario() -> tuple[Resolution, list[bool]]:
        fake = World()
        try:
            site = await fake.add("site.example")
            ticks: asyncio.Queue[None] = asyncio.Queue()
            dripped = asyncio.Event()

            async def drip(request: SeenRequest, reply: Reply) -> None:
                await reply.raw(b"HTTP/1.1 200 OK\r\n")
                while True:
                    await reply.raw(b"X-Drip: 1\r\n")
                    dripped.set()
                    await ticks.get()

            site.route("/drip", drip)
            task = asyncio.create_task(
                resolve_urls([site.url("/drip")], fake.config(timeout=0.5), dns=fake.dns)
            )
            done_at: list[bool] = []
            for _ in range(4):  # 0.4 s: still inside the deadline
                await dripped.wait()
                dripped.clear()
                clock().advance(0.1)
                ticks.put_nowait(None)
            await dripped.wait()
            done_at.append(task.done())
            clock().advance(0.2)  # 0.6 s: past it
            ticks.put_nowait(None)
            [result] = await task
            return result, done_at
        finally:
            await fake.close()

    result, done_before = run_virtual(scenario)
    assert done_before == [False]
    assert result.status == "failed" and result.error_category == "timeout"
    assert "deadline" in (result.error or "")


def test_queueing_for_a_host_slot_does_not_count_against_the_deadline() -> None:
    """Six URLs, one slot, each answer 50 ms of virtual time: the last queues 250 ms, past a
    150 ms deadline, and still resolves."""

    async def scenario() -> tuple[list[Resolution], int]:
        fake = World()
        try:
            site = await fake.add("site.example")
            arrived: asyncio.Queue[asyncio.Event] = asyncio.Queue()

            async def slow(request: SeenRequest, reply: Reply) -> None:
                go = asyncio.Event()
                arrived.put_nowait(go)
                await go.wait()
                await reply.send(200)

            site.route("*", slow)
            urls = [site.url(f"/{i}") for i in range(6)]
            config = fake.config(concurrency=6, per_host=1, timeout=0.15)
            task = asyncio.create_task(resolve_urls(urls, config, dns=fake.dns))
            for _ in range(6):
                next_request = asyncio.ensure_future(arrived.get())
                await asyncio.wait({next_request, task}, return_when=asyncio.FIRST_COMPLETED)
                if not next_request.done():  # the URLs ended early (a regression): no hang
                    next_request.cancel()
                    break
                clock().advance(0.05)
                next_request.result().set()
            return await task, site.max_active
        finally:
            await fake.close()

    results, most_at_once = run_virtual(scenario)
    assert [r.status for r in results] == ["resolved"] * 6
    assert most_at_once == 1


# -- dead hosts: one lookup, then a breaker -------------------------------------------


class CountingTransport(httpx.AsyncBaseTransport):
    """A transport that counts the requests it is handed, per host, before passing them on."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Count, then send with the inner transport."""
        self.requests[request.url.host] += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self.inner.aclose()


class CountingDns:
    """A DNS resolver that takes a turn of the loop per query and counts the queries."""

    def __init__(self, table: dict[str, str]) -> None:
        self.inner = StaticDnsResolver(table)
        self.queries: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        """The table's answer, after yielding once (a query in flight)."""
        self.queries.append(host)
        await asyncio.sleep(0)
        return await self.inner.resolve(host, port)


async def test_dead_domain_costs_a_handful_of_lookups(world: World) -> None:
    """600 URLs on a name that does not resolve: a few DNS queries, each URL failed ``dns``."""
    dns = CountingDns({})
    urls = [f"http://dead.example/{i}" for i in range(600)]
    sleep = RecordingSleep()
    results = await resolve_urls(urls, world.config(), dns=dns, sleep=sleep, now=fixed_now)
    assert len(results) == 600
    assert {r.status for r in results} == {"failed"}
    assert {r.error_category for r in results} == {"dns"}
    assert len(dns.queries) <= 3
    assert sleep.waits == []
    tripped = [r for r in results if r.next_attempt_at is not None]
    assert len(tripped) >= 590  # the breaker opened after a few: due again in a later run
    assert all("host down" in (r.error or "") for r in tripped)


async def test_refusing_host_trips_its_breaker(world: World) -> None:
    """600 URLs on a host that refuses connections: a few attempts, then the rest fail at
    once as ``connect``, marked for a later run; other hosts are not affected."""
    site = await world.add("site.example")

    async def ok(request: SeenRequest, reply: Reply) -> None:
        await reply.send(200)

    site.route("*", ok)
    with socket.socket() as sock:
        sock.bind(("127.0.0.9", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    dns = StaticDnsResolver({"down.example": "127.0.0.9", "site.example": site.ip})
    transport = CountingTransport(GuardedTransport(AddressGuard(dns, allow_private=True)))
    urls = [f"http://down.example:{port}/{i}" for i in range(600)]
    urls += [site.url(f"/{i}") for i in range(20)]
    sleep = RecordingSleep()
    config = world.config()
    async with resolver_client(config, transport=transport) as client:
        results = await resolve_urls(urls, config, client=client, sleep=sleep, now=fixed_now)
    down = [r for r in results if "down.example" in r.url]
    up = [r for r in results if "site.example" in r.url]
    assert {r.status for r in up} == {"resolved"}
    assert {r.status for r in down} == {"failed"}
    assert {r.error_category for r in down} == {"connect"}
    # without the breaker: 600 URLs x 3 attempts; with it, about the first concurrency's worth
    assert transport.requests["down.example"] <= 2 * config.concurrency
    tripped = [r for r in down if r.next_attempt_at is not None]
    assert len(tripped) >= 550
    assert all(datetime.fromisoformat(r.next_attempt_at or "") > NOW for r in tripped)
    assert len(sleep.waits) <= 20


async def test_temporary_dns_failure_is_not_cached(world: World) -> None:
    """A "try again" DNS answer is retried and, once the name resolves, the URL resolves."""
    site = await world.add("site.example")

    async def ok(request: SeenRequest, reply: Reply) -> None:
        await reply.send(200)

    site.route("*", ok)

    class Flaky:
        def __init__(self) -> None:
            self.calls = 0

        async def resolve(self, host: str, port: int) -> list[str]:
            self.calls += 1
            if self.calls == 1:
                raise DnsLookupError(f"{host}: try again", host=host, temporary=True)
            return [site.ip]

    dns = Flaky()
    sleep = RecordingSleep()
    [result] = await resolve_urls([site.url("/x")], world.config(), dns=dns, sleep=sleep)
    assert result.status == "resolved" and dns.calls == 2 and len(sleep.waits) == 1


def test_fetch_of_a_dripping_body_keeps_the_status_that_arrived() -> None:
    """An article whose body drips past the deadline fails as ``timeout`` with its 200 kept."""

    async def scenario() -> FetchResult:
        fake = World()
        try:
            site = await fake.add("news.example")
            ticks: asyncio.Queue[None] = asyncio.Queue()
            dripped = asyncio.Event()

            async def robots(request: SeenRequest, reply: Reply) -> None:
                await reply.send(404)

            async def slow(request: SeenRequest, reply: Reply) -> None:
                await reply.raw(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                    b"Content-Length: 4000\r\n\r\n<html>"
                )
                while True:
                    dripped.set()
                    await ticks.get()
                    await reply.raw(b" ")

            site.route("/robots.txt", robots)
            site.route("/story", slow)
            config = FetchConfig(allow_private=True, timeout=1.0)
            async with make_fetch_client(config, dns=fake.dns) as client:
                fetcher = Fetcher(config, client, sleep=RecordingSleep())
                task = asyncio.create_task(fetcher.fetch(site.url("/story")))
                for _ in range(5):
                    await dripped.wait()
                    dripped.clear()
                    clock().advance(0.2)
                    ticks.put_nowait(None)
                await dripped.wait()
                clock().advance(0.2)
                ticks.put_nowait(None)
                return await task
        finally:
            await fake.close()

    result = run_virtual(scenario)
    assert result.status == "failed" and result.http_status == 200
    assert result.error is not None and result.error.startswith("timeout: ")
    assert "body not read to the end" in result.error
    assert result.final_url is not None and result.final_url.endswith("/story")


async def test_follower_refuses_a_client_it_cannot_see_into() -> None:
    """A client not made by make_client is refused with a clear message, not half used."""
    async with httpx.AsyncClient() as client:
        with pytest.raises(TypeError, match="make_client"):
            Resolver(World.config(), client)


def test_breaker_opens_after_consecutive_connection_failures_only() -> None:
    """Five refusals in a row open a host's breaker; an answer resets the count; TLS,
    blocked addresses and other hosts do not count."""
    breaker = HostBreaker(threshold=5)
    refused = httpx.ConnectError("refused")
    for _ in range(4):
        breaker.failed("a.example", refused)
    breaker.succeeded("a.example")  # any answer: the streak starts again
    for _ in range(4):
        breaker.failed("a.example", refused)
        breaker.failed("a.example", TlsError("bad certificate"))
        breaker.failed("a.example", BlockedAddressError("no", host="a", address="10.0.0.1"))
    breaker.check("a.example")  # still closed: four in a row
    breaker.failed("a.example", refused)
    with pytest.raises(HostDown) as down:
        breaker.check("a.example")
    assert down.value.category == "connect" and error_category(down.value) == "connect"
    assert not is_retryable(down.value)
    breaker.check("b.example")  # other hosts are not affected
    breaker.failed("c.example", httpx.ConnectTimeout("slow"))
    assert not breaker.is_down("c.example")


async def test_guard_shares_one_lookup_per_name_in_flight() -> None:
    """Lookups of one name in flight together are one query; a missing name is asked once."""
    release = asyncio.Event()

    class Slow:
        def __init__(self) -> None:
            self.queries: list[str] = []

        async def resolve(self, host: str, port: int) -> list[str]:
            self.queries.append(host)
            await release.wait()
            if host == "gone.example":
                raise DnsLookupError(f"{host}: name not known", host=host)
            return ["93.184.216.34"]

    dns = Slow()
    guard = AddressGuard(dns)
    asking = [asyncio.ensure_future(guard.addresses("site.example", 80)) for _ in range(20)]
    asking += [asyncio.ensure_future(guard.addresses("gone.example", 80)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    answers = await asyncio.gather(*asking, return_exceptions=True)
    assert answers[:20] == [["93.184.216.34"]] * 20
    assert all(isinstance(a, DnsLookupError) for a in answers[20:])
    assert sorted(dns.queries) == ["gone.example", "site.example"]
    with pytest.raises(DnsLookupError):
        await guard.addresses("GONE.example", 80)  # remembered for the run, any case
    assert await guard.addresses("site.example", 80) == ["93.184.216.34"]
    assert sorted(dns.queries) == ["gone.example", "site.example", "site.example"]
