"""A loopback news site for the batch tests and the benchmark (no network beyond 127.0.0.1).

A :class:`Site` is a table of paths to :class:`Page` objects; :func:`serve_site` serves it
from a small asyncio HTTP/1.1 server (keep-alive, GET and HEAD) on 127.0.0.1, in a
background thread, and yields the base URL. Pages answer
conditional GETs (ETag, Last-Modified) with 304, can be slow (a server-side delay), fail,
redirect or be binary. ``@BASE@`` in a body is replaced by the site's base URL when served,
so feeds and sitemaps can hold absolute URLs.

Run as a script, it serves :func:`build_news_site` until stdin closes and prints the base
URL on its first stdout line: ``python tests/site_server.py --articles 2000``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import hashlib
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path

BASE_MARK = b"@BASE@"
REASONS = {status.value: status.phrase for status in HTTPStatus}
LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)


@dataclass
class Page:
    """One resource of the site and how it answers."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    etag: bool = True
    last_modified: str | None = LAST_MODIFIED
    #: Answer ``fail_status`` (with ``fail_headers``) this many times before answering
    #: normally (a failure that clears).
    fail_first: int = 0
    fail_status: int = 503
    fail_headers: dict[str, str] = field(default_factory=dict)
    #: Serve the body gzip'd as a file (``.xml.gz``), after ``@BASE@`` is filled in.
    gzip_file: bool = False

    def tag(self) -> str:
        """The ETag of the current body (cached: the benchmark asks thousands of times)."""
        cached = self.__dict__.get("_tag")
        if cached is None or cached[0] is not self.body:
            cached = (self.body, '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"')
            self.__dict__["_tag"] = cached
        return str(cached[1])


@dataclass(frozen=True)
class RequestRecord:
    """A request the site received."""

    path: str
    headers: dict[str, str]


class Site:
    """Pages by path (query included), and a record of every request (thread-safe)."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[RequestRecord] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0

    def add(self, path: str, page: Page) -> None:
        """Serve ``page`` at ``path``."""
        self.pages[path] = page

    def hits_for(self, prefix: str) -> int:
        """How many requests asked for a path starting with ``prefix``."""
        with self.lock:
            return sum(n for path, n in self.hits.items() if path.startswith(prefix))

    def record(self, path: str, headers: dict[str, str]) -> None:
        """Count a request."""
        with self.lock:
            self.hits[path] += 1
            self.requests.append(RequestRecord(path, headers))

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Count the requests being answered at once (for concurrency limits)."""
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            yield
        finally:
            with self.lock:
                self.in_flight -= 1


def _not_modified(page: Page, headers: dict[str, str]) -> bool:
    """Whether the request's validators match the page (RFC 9110 section 13.2.2 order)."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if not page.etag:
            return False
        tags = {t.strip() for t in if_none_match.split(",")}
        return page.tag() in tags or "*" in tags
    since = headers.get("if-modified-since")
    if since and page.last_modified:
        if since == page.last_modified:
            return True
        try:
            return parsedate_to_datetime(page.last_modified) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


async def respond(
    site: Site, path: str, headers: dict[str, str], base: str
) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body the site answers to a GET of ``path``."""
    site.record(path, headers)
    page = site.pages.get(path) or site.pages.get(path.split("?", 1)[0])
    if page is None:
        return 404, {"Content-Type": "text/plain"}, b"not found"
    if page.delay:
        await asyncio.sleep(page.delay)  # the server is slow; the client under test must cope
    with site.lock:
        failing = page.fail_first > 0
        if failing:
            page.fail_first -= 1
    if failing:
        return page.fail_status, {"Content-Type": "text/plain", **page.fail_headers}, b"try later"
    extra = {"Content-Type": page.content_type, **page.headers}
    if page.etag:
        extra["ETag"] = page.tag()
    if page.last_modified:
        extra["Last-Modified"] = page.last_modified
    if page.status == 200 and _not_modified(page, headers):
        return 304, extra, b""
    body = page.body.replace(BASE_MARK, base.encode())
    if page.gzip_file:
        body = gzip.compress(body, mtime=0)
    return page.status, extra, body


def encode_response(status: int, headers: dict[str, str], body: bytes, *, head: bool) -> bytes:
    """An HTTP/1.1 response on the wire (no body for HEAD and 304)."""
    reason = REASONS.get(status, "Status")
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if status != 304:
        lines.append(f"Content-Length: {len(body)}")
    wire = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return wire if head or status == 304 else wire + body


class SiteServer:
    """An asyncio HTTP/1.1 server (keep-alive, GET and HEAD) for one :class:`Site`."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.base = ""
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: any free port); return the base URL."""
        self._server = await asyncio.start_server(self._connection, host, port, backlog=512)
        bound = self._server.sockets[0].getsockname()[1]
        self.base = f"http://{host}:{bound}"
        return self.base

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                method, target, _version = request_line.split(" ", 2)
                headers = {}
                for line in lines:
                    name, colon, value = line.partition(":")
                    if colon:
                        headers[name.strip().lower()] = value.strip()
                with self.site.answering():
                    status, extra, body = await respond(self.site, target, headers, self.base)
                writer.write(encode_response(status, extra, body, head=method == "HEAD"))
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # the client hung up (the fetcher closing an unread body)
        except ValueError:
            pass  # a request line we cannot read: drop the connection
        except asyncio.CancelledError:
            pass  # stop() ends open connections; ending quietly keeps asyncio from logging it
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()


@contextlib.contextmanager
def serve_site(site: Site, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``site`` from an event loop in a background thread; yield its base URL."""
    loop = asyncio.new_event_loop()
    server = SiteServer(site)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield asyncio.run_coroutine_threadsafe(server.start(host, port), loop).result(10)
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def article_html(number: int, *, total: int, version: int = 1) -> bytes:
    """An article page citing one tweet (with a t.co link) and linking two other pages."""
    tweet_id = 1_159_000_000_000_000_000 + number
    handle = f"reporter{number % 50}"
    status_url = f"https://twitter.com/{handle}/status/{tweet_id}?ref_src=twsrc%5Etfw"
    following = (number + 1) % max(total, 1)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Article {number} (v{version})</title>
<link rel="canonical" href="@BASE@/articles/{number}.html">
<meta property="article:published_time" content="2024-05-{number % 28 + 1:02d}T08:00:00Z">
</head><body><article>
<h1>Article {number}</h1>
<p>Reporting on event {number}, version {version}. See
<a href="@BASE@/articles/{following}.html">the next article</a> and
<a href="https://example.org/ref/{number}?utm_source=feed">a reference</a>.</p>
<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Update {number} on the event
<a href="https://t.co/ab{number:06d}">https://t.co/ab{number:06d}</a></p>&mdash; Reporter
{number} (@{handle}) <a href="{status_url}">May 1, 2024</a></blockquote>
</article></body></html>
""".encode()


def rss_feed(paths: list[str], title: str = "Loopback News") -> bytes:
    """An RSS 2.0 feed whose items link ``paths`` on this site (with tracking parameters)."""
    items = "".join(
        f"<item><title>{p}</title><link>@BASE@{p}?utm_source=rss&amp;utm_medium=feed</link>"
        f"<guid>@BASE@{p}</guid></item>"
        for p in paths
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>@BASE@/</link>{items}</channel></rss>"
    ).encode()


def atom_feed(paths: list[str]) -> bytes:
    """An Atom feed whose entries link ``paths`` (relative hrefs, resolved against the feed)."""
    entries = "".join(
        f'<entry><title>{p}</title><id>tag:loopback,2024:{p}</id><link rel="alternate" '
        f'href="{p}"/><updated>2024-05-01T00:00:00Z</updated></entry>'
        for p in paths
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Loopback</title><id>tag:loopback,2024:feed</id>"
        f"<updated>2024-05-01T00:00:00Z</updated>{entries}</feed>"
    ).encode()


def sitemap(paths: list[str], *, news: bool = False, lastmod: str | None = None) -> bytes:
    """A sitemap (a Google News sitemap with ``news``) listing ``paths``, each dated
    ``lastmod`` when given."""
    news_ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
    extra = (
        "<news:news><news:publication><news:name>Loopback</news:name>"
        "<news:language>en</news:language></news:publication>"
        "<news:publication_date>2024-05-01</news:publication_date>"
        "<news:title>t</news:title></news:news>"
        if news
        else ""
    )
    dated = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    urls = "".join(f"<url><loc>@BASE@{p}</loc>{dated}{extra}</url>" for p in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{news_ns}>{urls}</urlset>'
    ).encode()


def sitemap_index(paths: list[str]) -> bytes:
    """A sitemap index pointing at the sitemaps at ``paths``."""
    entries = "".join(f"<sitemap><loc>@BASE@{p}</loc></sitemap>" for p in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}'
        "</sitemapindex>"
    ).encode()


def build_news_site(
    articles: int,
    *,
    delay: float = 0.0,
    bodies: Sequence[bytes] = (),
    lastmod: str | None = None,
) -> Site:
    """A site of ``articles`` pages, reachable through a sitemap index (a news sitemap and a
    gzip'd one) and an RSS feed of the first ten; plus robots.txt, a PDF, a broken page.

    The pages are :func:`article_html`, or ``bodies`` in turn when given (real pages). With
    ``lastmod`` the sitemaps date every page (``<lastmod>``), as news sites' sitemaps do.
    """
    site = Site()
    paths = [f"/articles/{n}.html" for n in range(articles)]
    for number, path in enumerate(paths):
        body = bodies[number % len(bodies)] if bodies else article_html(number, total=articles)
        site.add(path, Page(body, delay=delay))
    half = len(paths) // 2
    news = sitemap(paths[:half], news=True, lastmod=lastmod)
    site.add("/sitemaps/news.xml", Page(news, "application/xml"))
    site.add(
        "/sitemaps/rest.xml.gz",
        Page(sitemap(paths[half:], lastmod=lastmod), "application/gzip", gzip_file=True),
    )
    site.add(
        "/sitemap_index.xml",
        Page(sitemap_index(["/sitemaps/news.xml", "/sitemaps/rest.xml.gz"]), "text/xml"),
    )
    site.add("/feed.xml", Page(rss_feed(paths[:10]), "application/rss+xml"))
    site.add(
        "/robots.txt",
        Page(b"User-agent: *\nDisallow: /private/\n", "text/plain", etag=False),
    )
    site.add("/private/secret.html", Page(article_html(0, total=1)))
    site.add("/files/report.pdf", Page(b"%PDF-1.7\n" + b"\0" * 2048, "application/pdf"))
    site.add("/broken.html", Page(b"oops", "text/plain", status=500))
    return site


async def serve_until_stdin_closes(site: Site) -> None:
    """Serve ``site``, print the base URL, and stop when stdin reaches its end."""
    server = SiteServer(site)
    print(await server.start(), flush=True)
    # the parent closes our stdin (or dies) to stop us
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop()


def main() -> None:
    """Serve a news site in this process until stdin closes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per article page")
    parser.add_argument("--corpus", type=Path, help="serve these saved pages (*.html) in turn")
    parser.add_argument("--lastmod", help="date every page in the sitemaps (<lastmod>)")
    options = parser.parse_args()
    bodies = (
        [p.read_bytes() for p in sorted(options.corpus.rglob("*.html"))] if options.corpus else []
    )
    site = build_news_site(
        options.articles, delay=options.delay, bodies=bodies, lastmod=options.lastmod
    )
    asyncio.run(serve_until_stdin_closes(site))


if __name__ == "__main__":
    main()
