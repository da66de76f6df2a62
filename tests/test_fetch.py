"""The fetcher against a real loopback site: robots.txt, 304s, redirects, types, limits."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from resolver_world import Reply, SeenRequest, World
from site_server import Page, Site, article_html, serve_site
from virtual_clock import clock, run_virtual

from scraper.config import FetchConfig
from scraper.fetch import Fetcher, FetchResult, make_fetch_client
from scraper.net.guard import StaticDnsResolver

USER_AGENT = "scraper-test/1.0 (+mailto:test@example.org)"
CONFIG = FetchConfig(
    user_agent=USER_AGENT, allow_private=True, timeout=5, concurrency=8, per_host=2
)
ARTICLE = article_html(1, total=2)


class Sleeps:
    """An injected sleep that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def site() -> Site:
    """A small site: robots.txt, an article, redirects, a PDF, failures."""
    site = Site()
    site.add("/robots.txt", Page(b"User-agent: *\nDisallow: /private/\n", "text/plain"))
    site.add("/a.html", Page(ARTICLE))
    site.add("/private/p.html", Page(ARTICLE))
    site.add("/old", Page(status=301, headers={"Location": "/hop"}))
    site.add("/hop", Page(status=302, headers={"Location": "a.html"}))
    site.add("/to-private", Page(status=302, headers={"Location": "/private/p.html"}))
    site.add("/loop-a", Page(status=302, headers={"Location": "/loop-b"}))
    site.add("/loop-b", Page(status=302, headers={"Location": "/loop-a"}))
    for n in range(12):
        site.add(f"/chain/{n}", Page(status=302, headers={"Location": f"/chain/{n + 1}"}))
    site.add("/report.pdf", Page(b"%PDF-1.7\n" + b"\0" * 100_000, "application/pdf"))
    site.add("/notes.txt", Page(b"Just text.", "text/plain; charset=utf-8"))
    site.add("/big.html", Page(b"<p>" + b"x" * 5000 + b"</p>"))
    site.add("/flaky.html", Page(ARTICLE, fail_first=2))
    site.add("/broken.html", Page(b"no", "text/plain", status=500))
    site.add("/missing.html", Page(b"no", "text/plain", status=404))
    for n in range(6):
        site.add(f"/s/{n}.html", Page(ARTICLE, delay=0.05))
    return site


@pytest.fixture
def base(site: Site) -> Iterator[str]:
    """The site served on 127.0.0.1."""
    with serve_site(site) as url:
        yield url


@pytest.fixture
async def sleeps() -> Sleeps:
    """The waits the retry policy asked for."""
    return Sleeps()


@pytest.fixture
async def fetcher(sleeps: Sleeps) -> AsyncIterator[Fetcher]:
    """A fetcher over the guarded client, allowed on loopback, that never really sleeps."""
    async with make_fetch_client(CONFIG) as client:
        yield Fetcher(CONFIG, client, sleep=sleeps)


async def fetch_with(config: FetchConfig, url: str) -> FetchResult:
    """Fetch one URL with a fetcher made from ``config``."""
    async with make_fetch_client(config) as client:
        return await Fetcher(config, client, sleep=Sleeps()).fetch(url)


async def test_article_is_fetched_with_validators(fetcher: Fetcher, site: Site, base: str) -> None:
    """A page comes back with its body, SHA-256, ETag and Last-Modified; our UA is sent."""
    result = await fetcher.fetch(base + "/a.html")
    assert result.status == "ok"
    assert result.body is not None and b"Article 1" in result.body
    assert result.content_sha256 is not None and len(result.content_sha256) == 64
    assert result.etag == Page(ARTICLE).tag()
    assert result.last_modified is not None
    assert result.media_type == "text/html"
    request = next(r for r in site.requests if r.path == "/a.html")
    assert request.headers["user-agent"] == USER_AGENT


async def test_conditional_get_gives_not_modified(fetcher: Fetcher, site: Site, base: str) -> None:
    """The stored ETag or Last-Modified is sent, and a 304 comes back without a body."""
    first = await fetcher.fetch(base + "/a.html")
    by_tag = await fetcher.fetch(base + "/a.html", etag=first.etag)
    by_date = await fetcher.fetch(base + "/a.html", last_modified=first.last_modified)
    assert (by_tag.status, by_tag.http_status, by_tag.body) == ("not_modified", 304, None)
    assert by_date.status == "not_modified"
    sent = [r.headers for r in site.requests if r.path == "/a.html"]
    assert sent[1]["if-none-match"] == first.etag
    assert sent[2]["if-modified-since"] == first.last_modified


async def test_changed_page_is_fetched_again(fetcher: Fetcher, site: Site, base: str) -> None:
    """When the page changed, the old ETag gets a 200 with the new body."""
    first = await fetcher.fetch(base + "/a.html")
    site.pages["/a.html"] = Page(article_html(1, total=2, version=2))
    again = await fetcher.fetch(base + "/a.html", etag=first.etag)
    assert again.status == "ok"
    assert again.content_sha256 != first.content_sha256


async def test_robots_disallow_is_respected_and_fetched_once(
    fetcher: Fetcher, site: Site, base: str
) -> None:
    """robots.txt is fetched once per origin, however many pages ask at once."""
    results = await asyncio.gather(
        fetcher.fetch(base + "/private/p.html"),
        *(fetcher.fetch(base + "/a.html") for _ in range(5)),
    )
    assert (results[0].status, results[0].error) == ("skipped", "skipped: robots.txt")
    assert all(r.status == "ok" for r in results[1:])
    assert site.hits["/robots.txt"] == 1
    assert site.hits["/private/p.html"] == 0


async def test_redirect_into_disallowed_path_is_skipped(
    fetcher: Fetcher, site: Site, base: str
) -> None:
    """Each redirect hop is checked against robots.txt too."""
    result = await fetcher.fetch(base + "/to-private")
    assert result.status == "skipped"
    assert site.hits["/private/p.html"] == 0


@pytest.mark.parametrize(
    ("robots", "expected"),
    [
        (Page(b"gone", "text/plain", status=404), "ok"),
        (Page(b"down", "text/plain", status=503), "skipped"),
    ],
)
async def test_robots_status_rules(robots: Page, expected: str, sleeps: Sleeps) -> None:
    """RFC 9309: robots.txt 4xx allows everything; 5xx (after retries) disallows all."""
    site = Site()
    site.add("/robots.txt", robots)
    site.add("/a.html", Page(ARTICLE))
    with serve_site(site) as base:
        async with make_fetch_client(CONFIG) as client:
            result = await Fetcher(CONFIG, client, sleep=sleeps).fetch(base + "/a.html")
    assert result.status == expected


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens here once closed


@pytest.mark.parametrize("category", ["connect", "dns", "blocked", "tls"])
async def test_unreachable_robots_keeps_the_real_failure(category: str, base: str) -> None:
    """robots.txt out of reach disallows the page (RFC 9309), recorded as the failure it was:
    ``connect``, ``dns``, ``blocked`` or ``tls``, never ``skipped: robots.txt``."""
    port = base.rsplit(":", 1)[1]
    config, url = CONFIG, ""
    dns = StaticDnsResolver({"intranet.test": "127.0.0.1"})
    if category == "connect":
        url = f"http://127.0.0.1:{closed_port()}/a.html"
    elif category == "dns":
        url = f"http://nowhere.test:{port}/a.html"
    elif category == "blocked":
        config, url = (
            dataclasses.replace(CONFIG, allow_private=False),
            f"http://intranet.test:{port}/a.html",
        )

    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    # answers a TLS handshake with plain text
    server = await asyncio.start_server(plain, "127.0.0.1", 0)
    if category == "tls":
        url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/a.html"
    try:
        async with make_fetch_client(config, dns=dns) as client:
            result = await Fetcher(config, client, sleep=Sleeps()).fetch(url)
    finally:
        server.close()
        await server.wait_closed()
    assert result.status == "failed"
    assert result.error is not None and result.error.startswith(f"{category}: ")
    assert "robots.txt" in result.error


async def test_robots_redirect_loop_means_no_rules(sleeps: Sleeps) -> None:
    """RFC 9309: robots.txt whose redirects never end is "unavailable": fetching is allowed."""
    site = Site()
    site.add("/robots.txt", Page(status=302, headers={"Location": "/robots-2.txt"}))
    site.add("/robots-2.txt", Page(status=302, headers={"Location": "/robots.txt"}))
    site.add("/a.html", Page(ARTICLE))
    with serve_site(site) as base:
        async with make_fetch_client(CONFIG) as client:
            result = await Fetcher(CONFIG, client, sleep=sleeps).fetch(base + "/a.html")
    assert result.status == "ok"


async def test_robots_ignored_when_not_respected(site: Site, base: str) -> None:
    """With respect_robots = false, robots.txt is never requested."""
    config = dataclasses.replace(CONFIG, respect_robots=False)
    result = await fetch_with(config, base + "/private/p.html")
    assert result.status == "ok"
    assert site.hits["/robots.txt"] == 0


async def test_redirects_are_followed_to_the_final_url(fetcher: Fetcher, base: str) -> None:
    """301 then a relative 302 are followed; the final URL and hop count are recorded."""
    result = await fetcher.fetch(base + "/old")
    assert result.status == "ok"
    assert result.final_url == base + "/a.html"
    assert result.redirects == 2


async def test_redirect_loop_and_too_many(fetcher: Fetcher, base: str) -> None:
    """A redirect loop fails as `loop`, a chain over 10 hops as `too_many_redirects`."""
    loop = await fetcher.fetch(base + "/loop-a")
    chain = await fetcher.fetch(base + "/chain/0")
    assert loop.status == chain.status == "failed"
    assert loop.error is not None and loop.error.startswith("loop:")
    assert chain.error is not None and chain.error.startswith("too_many_redirects:")


async def test_pdf_is_skipped_with_its_type_unread(fetcher: Fetcher, base: str) -> None:
    """Binary types are skipped (`skipped: application/pdf`) and their body is not kept."""
    result = await fetcher.fetch(base + "/report.pdf")
    assert (result.status, result.error, result.body) == (
        "skipped",
        "skipped: application/pdf",
        None,
    )


async def test_plain_text_is_an_article(fetcher: Fetcher, base: str) -> None:
    """text/plain pages are fetched for parsing."""
    result = await fetcher.fetch(base + "/notes.txt")
    assert (result.status, result.body) == ("ok", b"Just text.")


async def test_body_cap(base: str) -> None:
    """A page larger than max_bytes fails as `body_too_large`."""
    result = await fetch_with(dataclasses.replace(CONFIG, max_bytes=1000), base + "/big.html")
    assert result.status == "failed"
    assert result.error is not None and result.error.startswith("body_too_large:")


def test_whole_request_deadline() -> None:
    """A page that never answers fails as `timeout` once the deadline has passed (virtual
    clock: not a moment before), and the deadline is not retried."""

    async def scenario() -> tuple[FetchResult, bool]:
        fake = World()
        try:
            site = await fake.add("news.example")
            asked = asyncio.Event()

            async def robots(request: SeenRequest, reply: Reply) -> None:
                await reply.send(404)

            async def silent(request: SeenRequest, reply: Reply) -> None:
                asked.set()
                await asyncio.Event().wait()  # never answers

            site.route("/robots.txt", robots)
            site.route("/slow.html", silent)
            config = dataclasses.replace(CONFIG, timeout=0.3)
            async with make_fetch_client(config, dns=fake.dns) as client:
                task = asyncio.create_task(
                    Fetcher(config, client, sleep=Sleeps()).fetch(site.url("/slow.html"))
                )
                await asked.wait()
                clock().advance(0.25)
                await asyncio.sleep(0)
                early = task.done()
                clock().advance(0.1)
                result = await task
            assert [r.path for r in site.requests] == ["/robots.txt", "/slow.html"]
            return result, early
        finally:
            await fake.close()

    result, done_early = run_virtual(scenario)
    assert not done_early
    assert result.status == "failed"
    assert result.error is not None and result.error.startswith("timeout:")


async def test_retry_policy_is_applied(
    fetcher: Fetcher, site: Site, base: str, sleeps: Sleeps
) -> None:
    """503s that clear are retried with backoff; a 500 that stays fails as http_5xx."""
    flaky = await fetcher.fetch(base + "/flaky.html")
    broken = await fetcher.fetch(base + "/broken.html")
    assert flaky.status == "ok"
    assert site.hits["/flaky.html"] == 3
    assert (broken.status, broken.http_status) == ("failed", 500)
    assert broken.error == "http_5xx: 500 Internal Server Error"
    assert site.hits["/broken.html"] == 4  # one try and three retries
    assert len(sleeps.waits) == 2 + 3


async def test_client_errors_are_not_retried(fetcher: Fetcher, site: Site, base: str) -> None:
    """A 404 fails at once as http_4xx."""
    result = await fetcher.fetch(base + "/missing.html")
    assert (result.status, result.error) == ("failed", "http_4xx: 404 Not Found")
    assert site.hits["/missing.html"] == 1


async def test_address_guard_blocks_loopback(site: Site, base: str) -> None:
    """Without allow_private, loopback is refused and no request reaches the site."""
    result = await fetch_with(dataclasses.replace(CONFIG, allow_private=False), base + "/a.html")
    assert result.status == "failed"
    assert result.error is not None and result.error.startswith("blocked:")
    assert site.requests == []


async def test_invalid_url_is_data(fetcher: Fetcher) -> None:
    """A URL that is not http(s) fails as invalid_url instead of raising."""
    result = await fetcher.fetch("ftp://example.org/file")
    assert result.status == "failed"
    assert result.error is not None and result.error.startswith("invalid_url:")


async def test_per_host_limit(fetcher: Fetcher, site: Site, base: str) -> None:
    """No more than per_host requests reach one host at once."""
    await fetcher.fetch(base + "/a.html")  # robots.txt out of the way
    results = await asyncio.gather(*(fetcher.fetch(f"{base}/s/{n}.html") for n in range(6)))
    assert all(r.status == "ok" for r in results)
    assert site.max_in_flight == CONFIG.per_host


async def test_global_limit_across_hosts(site: Site) -> None:
    """No more than `concurrency` requests are in flight across all hosts."""
    config = dataclasses.replace(CONFIG, concurrency=3, per_host=3, respect_robots=False)
    with serve_site(site, "127.0.0.1") as one, serve_site(site, "127.0.0.2") as two:
        async with make_fetch_client(config) as client:
            fetcher = Fetcher(config, client, sleep=Sleeps())
            urls = [f"{b}/s/{n}.html" for b in (one, two) for n in range(6)]
            results = await asyncio.gather(*(fetcher.fetch(u) for u in urls))
    assert all(r.status == "ok" for r in results)
    assert site.max_in_flight == 3
