"""Download article pages, feeds and sitemaps for a run; hand back results, never write the DB.

One :class:`Fetcher` per run, over the network floor the resolver uses too: the guarded
client, and the one redirect follower (:class:`scraper.net.follow.Follower`) with its
slots, per-host limits, host breakers, retry policy, deadlines and error categories.
Every hop connects only to an address the guard checked.

Per URL: robots.txt is asked first (when ``respect_robots``; fetched once per origin per
run), then a conditional GET with the stored ETag and Last-Modified (``304`` ->
``not_modified``), redirects followed hop by hop (``Location`` only, at most
:data:`MAX_REDIRECTS`, each hop guarded and checked against robots.txt), a body cap on
the *decoded* size and a whole-request deadline over the network time of every hop and
attempt. Pages that are not HTML, XHTML or text come back ``skipped`` with their media
type, unread.

robots.txt follows RFC 9309: a 2xx is parsed; a 4xx (or a redirect chain too long) means
no rules (allow); a 5xx means complete disallow for this run (``skipped: robots.txt``).
A server that cannot be reached at all is disallowed too, but the page is recorded as the
failure it met (``dns``, ``connect``, ``tls``, ``blocked``, ``timeout``), not as a skip.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import httpx
from protego import Protego

from scraper.config import FetchConfig
from scraper.net.body import BodyTooLargeError, read_capped
from scraper.net.chain import error_category
from scraper.net.client import make_client
from scraper.net.follow import Followed, Follower, FollowOptions
from scraper.net.guard import DnsResolver, IPNetwork
from scraper.net.limits import DeadlineExceeded, Sleep
from scraper.net.retry import RetryableStatus, RetryDeferred
from scraper.timestamps import utc_now

log = logging.getLogger("scraper.fetch")

MAX_REDIRECTS = 10
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least the first 500 KiB
ROBOTS_MAX_REDIRECTS = 5  # RFC 9309: follow at least five
#: robots.txt failures that mean its server could not be reached: the page is disallowed
#: and recorded with that category (an error), not as a robots.txt skip.
UNREACHABLE = frozenset({"dns", "connect", "tls", "blocked", "timeout"})
#: Media types parsed as articles ("" is a response without a Content-Type: sniffed).
ARTICLE_TYPES = frozenset(
    {"", "text/html", "application/xhtml+xml", "text/plain", "text/markdown", "text/x-markdown"}
)
#: Media types feeds and sitemaps arrive as (besides HTML or text, which are sniffed too).
FEED_TYPES = frozenset(
    {
        "application/xml",
        "text/xml",
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/gzip",
        "application/x-gzip",
        "application/octet-stream",
    }
)
Accept = Literal["article", "any"]
FetchStatus = Literal["ok", "not_modified", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What fetching one URL gave.

    ``status`` is ``ok`` (``body`` holds the decoded bytes), ``not_modified`` (a 304 to
    our conditional GET), ``skipped`` (robots.txt disallows it, or not a parseable type:
    ``error`` says ``skipped: application/pdf``) or ``failed`` (``error`` is
    ``"category: detail"`` with the resolver's categories). ``final_url`` is where the
    redirects ended.
    """

    url: str
    status: FetchStatus
    final_url: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    body: bytes | None = None
    content_sha256: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    redirects: int = 0

    @property
    def media_type(self) -> str:
        """The lowercased media type without parameters (``""`` when none was sent)."""
        return media_type(self.content_type)


def media_type(content_type: str | None) -> str:
    """``text/html; charset=utf-8`` -> ``text/html``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def accepted_types(accept: Accept) -> frozenset[str]:
    """The media types whose body is read for ``accept``."""
    return ARTICLE_TYPES if accept == "article" else ARTICLE_TYPES | FEED_TYPES


def http_error(status_code: int) -> str:
    """``http_4xx: 404 Not Found`` and the like."""
    reason = httpx.codes.get_reason_phrase(status_code)
    family = f"http_{str(status_code)[0]}xx" if 300 <= status_code < 600 else "http"
    return f"{family}: {status_code} {reason}".rstrip()


class RobotsDisallowed(Exception):
    """robots.txt forbids the URL (or its server answered 5xx: complete disallow)."""


class RobotsUnreachable(Exception):
    """robots.txt could not be fetched at all; ``category`` is the failure's."""

    def __init__(self, category: str, detail: str) -> None:
        super().__init__(detail)
        self.category = category


Rules = Protego | bool | RobotsUnreachable


class RobotsCache:
    """robots.txt per origin, fetched once per run (concurrent askers share one fetch)."""

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher
        self._loading: dict[str, asyncio.Task[Rules]] = {}
        self._rules: dict[str, Rules] = {}

    @staticmethod
    def origin(url: httpx.URL) -> str:
        """``scheme://host[:port]`` of ``url``: robots.txt applies per origin."""
        return f"{url.scheme}://{url.netloc.decode('ascii')}"

    def known(self, url: httpx.URL) -> bool | None:
        """The answer for ``url`` if its origin's robots.txt is loaded, else ``None``.

        Raises :class:`RobotsUnreachable` when robots.txt could not be fetched.
        """
        rules = self._rules.get(self.origin(url))
        if rules is None:
            return None
        if isinstance(rules, RobotsUnreachable):
            # a fresh exception per URL: one shared instance would pile up tracebacks
            raise RobotsUnreachable(rules.category, str(rules))
        if isinstance(rules, bool):
            return rules
        return bool(rules.can_fetch(str(url), self._fetcher.config.user_agent))

    async def allowed(self, url: httpx.URL) -> bool:
        """Whether the run's User-Agent may fetch ``url`` (loading robots.txt if need be)."""
        answer = self.known(url)
        if answer is not None:
            return answer
        origin = self.origin(url)
        task = self._loading.get(origin)
        if task is None:
            task = self._loading[origin] = asyncio.ensure_future(self._load(origin))
        # shielded: one asker being cancelled must not cancel the load the others wait for
        self._rules[origin] = await asyncio.shield(task)
        answer = self.known(url)
        assert answer is not None
        return answer

    async def _load(self, origin: str) -> Rules:
        result = await self._fetcher.fetch(
            f"{origin}/robots.txt",
            accept="any",
            max_bytes=ROBOTS_MAX_BYTES,
            robots=False,
            max_redirects=ROBOTS_MAX_REDIRECTS,
            truncate=True,
        )
        if result.status == "ok" and result.body is not None:
            return Protego.parse(result.body.decode("utf-8", errors="replace"))
        category = (result.error or "").split(":", 1)[0]
        if category in UNREACHABLE:
            log.warning(
                "robots.txt of %s unreachable (%s): not fetching there", origin, result.error
            )
            return RobotsUnreachable(category, f"robots.txt unreachable: {result.error}")
        if category in ("loop", "too_many_redirects"):
            return True  # RFC 9309: a redirect chain that does not end means "unavailable"
        code = result.http_status
        if code is not None and 200 <= code < 300:
            return True  # an answer of another media type holds no rules we can read
        if code is not None and 400 <= code < 500:
            return True  # "unavailable": no rules at all
        log.warning("robots.txt of %s unavailable (%s): not fetching there", origin, result.error)
        return False  # 5xx: "unreachable", complete disallow


class Fetcher:
    """Fetches URLs with one client: robots.txt, then the network floor's follower."""

    def __init__(
        self,
        config: FetchConfig,
        client: httpx.AsyncClient,
        *,
        retries: int = 3,
        retry_after_max: float = 120.0,
        sleep: Sleep = asyncio.sleep,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.client = client
        self.now = now
        self.retry_after_max = retry_after_max
        self.follower = Follower(
            client,
            concurrency=config.concurrency,
            per_host=config.per_host,
            retries=retries,
            retry_after_max=retry_after_max,
            sleep=sleep,
            now=now,
        )
        self.robots = RobotsCache(self) if config.respect_robots else None

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: Accept = "article",
        max_bytes: int | None = None,
        robots: bool = True,
        max_redirects: int = MAX_REDIRECTS,
        truncate: bool = False,
    ) -> FetchResult:
        """Fetch ``url`` (conditionally when validators are given); never raises for bad input.

        ``max_bytes`` overrides the configured body cap; with ``truncate`` a longer body is
        cut there instead of failing (robots.txt).
        """
        headers: list[tuple[bytes, bytes]] = []
        if etag:
            headers.append((b"If-None-Match", etag.encode()))
        if last_modified:
            headers.append((b"If-Modified-Since", last_modified.encode()))
        options = FollowOptions(
            timeout=self.config.timeout,
            max_redirects=max_redirects,
            allow_private=self.config.allow_private,
            headers=tuple(headers),
        )
        cap = max_bytes if max_bytes is not None else self.config.max_bytes
        read = functools.partial(self._read, url, accept, cap, truncate)
        permit = self._permit if robots and self.robots is not None else None
        followed = await self.follower.follow(url, options, read_final=read, permit=permit)
        return self._result_of(url, followed)

    def _permit(self, url: httpx.URL) -> Awaitable[None] | None:
        """None if robots.txt allows ``url`` now; an awaitable when it must be loaded first."""
        assert self.robots is not None
        answer = self.robots.known(url)
        if answer is None:
            return self._ask_robots(url)
        if not answer:
            raise RobotsDisallowed("robots.txt")
        return None

    async def _ask_robots(self, url: httpx.URL) -> None:
        assert self.robots is not None
        if not await self.robots.allowed(url):
            raise RobotsDisallowed("robots.txt")

    def _result_of(self, url: str, followed: Followed[FetchResult]) -> FetchResult:
        """The FetchResult for what following ``url`` gave."""
        chain, exc = followed.chain, followed.error
        redirects = chain.redirects
        final = chain.hops[-1].url if chain.hops else None
        if exc is None:
            answer = followed.answer
            assert answer is not None
            if answer.error is not None or followed.value is None:
                error = answer.error or http_error(answer.status_code)
                return FetchResult(
                    url, "failed", final, answer.status_code, error=error, redirects=redirects
                )
            value = followed.value
            return dataclasses.replace(value, redirects=redirects) if redirects else value
        code: int | None = followed.arrived
        if isinstance(exc, RobotsDisallowed):
            status: FetchStatus = "skipped"
            error = "skipped: robots.txt"
        else:
            status = "failed"
            if isinstance(exc, RobotsUnreachable):
                error = f"{exc.category}: {exc}"
            elif isinstance(exc, RetryableStatus | RetryDeferred):
                code, error = exc.status_code, http_error_detail(exc)
            elif isinstance(exc, BodyTooLargeError):
                error = f"body_too_large: {exc}"
            elif isinstance(exc, httpx.DecodingError):
                error = f"decoding: {exc}"
            else:
                category = error_category(exc)
                if category == "internal":
                    log.error("fetching %s failed unexpectedly", url, exc_info=exc)
                error = f"{category}: {exc}"
                if isinstance(exc, DeadlineExceeded) and code is not None:
                    error += f" ({code} received, body not read to the end)"
        return FetchResult(url, status, final, code, error=error, redirects=redirects)

    async def _read(
        self,
        url: str,
        accept: Accept,
        cap: int,
        truncate: bool,
        target: httpx.URL,
        response: httpx.Response,
    ) -> FetchResult:
        """A final answer (no Location to follow) as a FetchResult, its body read if wanted."""
        code = response.status_code
        content_type = response.headers.get("content-type")
        etag = response.headers.get("etag")
        modified = response.headers.get("last-modified")
        final = str(target)
        if code == 304:
            return FetchResult(
                url, "not_modified", final, code, content_type, etag=etag, last_modified=modified
            )
        if not 200 <= code < 300:
            return FetchResult(url, "failed", final, code, content_type, error=http_error(code))
        kind = media_type(content_type)
        if kind not in accepted_types(accept):
            skipped = f"skipped: {kind or 'no content type'}"
            return FetchResult(url, "skipped", final, code, content_type, error=skipped)
        body, _complete = await read_capped(response, cap, strict=not truncate)
        digest = hashlib.sha256(body).hexdigest()
        return FetchResult(url, "ok", final, code, content_type, body, digest, etag, modified)


def http_error_detail(exc: RetryableStatus | RetryDeferred) -> str:
    """The error text of a status that stayed retryable to the end (429, 5xx)."""
    return f"{http_error(exc.status_code).split(':', 1)[0]}: {exc}"


def make_fetch_client(
    config: FetchConfig,
    *,
    dns: DnsResolver | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    allowed_networks: Iterable[IPNetwork | str] = (),
) -> httpx.AsyncClient:
    """The run's fetch client: the resolver's guarded client, with the ``[fetch]`` settings.

    It is built by :func:`scraper.net.client.make_client` (one guarded transport, no proxy
    variables, no redirects followed by httpx), given the fetch section's User-Agent,
    timeout, concurrency and ``allow_private``.
    """
    return make_client(
        user_agent=config.user_agent,
        timeout=config.timeout,
        concurrency=config.concurrency,
        allow_private=config.allow_private,
        dns=dns,
        transport=transport,
        allowed_networks=allowed_networks,
    )
