"""Download article pages, feeds and sitemaps for a run; hand back results, never write the DB.

One :class:`Fetcher` per run, over the same guarded client, retry policy, host limiter and
error categories as the resolver (:mod:`scraper.net.guard`, :mod:`scraper.net.retry`,
:mod:`scraper.resolve`): every hop connects only to an address the guard checked.

Per URL: robots.txt is asked first (when ``respect_robots``; fetched once per origin per
run), then a conditional GET with the stored ETag and Last-Modified (``304`` ->
``not_modified``), redirects followed hop by hop (at most :data:`MAX_REDIRECTS`, each hop
guarded and checked against robots.txt), a body cap on the *decoded* size and a
whole-request deadline over the network time of every hop and attempt. Pages that are
not HTML, XHTML or text come back ``skipped`` with their media type, unread.

robots.txt follows RFC 9309: a 2xx is parsed; a 4xx means no rules (allow); a 5xx or an
unreachable server (network error, timeout) means complete disallow for this run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import httpx
from protego import Protego

from scraper.config import FetchConfig
from scraper.net.body import BodyTooLargeError, read_capped
from scraper.net.chain import error_category
from scraper.net.client import make_client
from scraper.net.guard import DnsResolver, IPNetwork, check_url
from scraper.net.limits import Deadline, HostLimiter, Sleep
from scraper.net.redirects import decode_header, join_location
from scraper.net.retry import RetryableStatus, RetryDeferred, RetryPolicy, check_status
from scraper.timestamps import utc_now

log = logging.getLogger("scraper.fetch")

MAX_REDIRECTS = 10
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least the first 500 KiB
ROBOTS_MAX_REDIRECTS = 5  # RFC 9309: follow at least five
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


class RobotsCache:
    """robots.txt per origin, fetched once per run (concurrent askers share one fetch)."""

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher
        self._loading: dict[str, asyncio.Task[Protego | bool]] = {}
        self._rules: dict[str, Protego | bool] = {}

    @staticmethod
    def origin(url: httpx.URL) -> str:
        """``scheme://host[:port]`` of ``url``: robots.txt applies per origin."""
        return f"{url.scheme}://{url.netloc.decode('ascii')}"

    def known(self, url: httpx.URL) -> bool | None:
        """The answer for ``url`` if its origin's robots.txt is loaded, else ``None``."""
        rules = self._rules.get(self.origin(url))
        if rules is None:
            return None
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

    async def _load(self, origin: str) -> Protego | bool:
        result = await self._fetcher.fetch(
            f"{origin}/robots.txt",
            accept="any",
            max_bytes=ROBOTS_MAX_BYTES,
            robots=False,
            max_redirects=ROBOTS_MAX_REDIRECTS,
            truncate=True,
        )
        code = result.http_status
        if result.status == "ok" and result.body is not None:
            return Protego.parse(result.body.decode("utf-8", errors="replace"))
        if code is not None and 200 <= code < 300:
            return True  # an answer of another media type holds no rules we can read
        if code is not None and 400 <= code < 500:
            return True  # "unavailable": no rules at all
        log.warning("robots.txt of %s unreachable (%s): not fetching there", origin, result.error)
        return False  # 5xx or no answer: "unreachable", complete disallow


class Fetcher:
    """Fetches URLs with one client: limits, robots.txt, retries, redirects, caps."""

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
        self.policy = RetryPolicy(retries, retry_after_max, sleep)
        self.limiter = HostLimiter(config.per_host)
        self.slots = asyncio.Semaphore(config.concurrency)
        self.robots = RobotsCache(self) if config.respect_robots else None
        self._timeouts = client.timeout.as_dict()
        self._headers = list(client.headers.items())

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
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        cap = max_bytes if max_bytes is not None else self.config.max_bytes
        seen: set[str] = set()
        current: httpx.URL | None = None
        try:
            deadline = Deadline(self.config.timeout)
            sleep = deadline.excluding(self.policy.sleep)  # retry waits are not server time
            async with deadline:
                current = check_url(url.strip(), allow_private=self.config.allow_private)
                for hop in range(max_redirects + 1):
                    seen.add(str(current))
                    if robots and not await self._robots_allow(current, deadline):
                        skipped = "skipped: robots.txt"
                        return self._result(url, current, "skipped", hop, error=skipped)
                    attempt = functools.partial(
                        self._attempt, url, current, headers, deadline, accept, cap, truncate
                    )
                    result = await self.policy.call(attempt, label=str(current), sleep=sleep)
                    if not isinstance(result, httpx.URL):
                        return dataclasses.replace(result, redirects=hop) if hop else result
                    current = check_url(result, allow_private=self.config.allow_private)
                    if str(current) in seen:
                        loop = f"loop: {current} was already visited"
                        return self._result(url, current, "failed", hop, error=loop)
            too_many = f"too_many_redirects: more than {max_redirects}"
            return self._result(url, current, "failed", max_redirects, error=too_many)
        except (RetryableStatus, RetryDeferred) as exc:
            return self._result(
                url, current, "failed", 0, code=exc.status_code, error=http_error_detail(exc)
            )
        except BodyTooLargeError as exc:
            return self._result(url, current, "failed", 0, error=f"body_too_large: {exc}")
        except httpx.DecodingError as exc:
            return self._result(url, current, "failed", 0, error=f"decoding: {exc}")
        except Exception as exc:  # every failure is data; the run goes on
            category = error_category(exc)
            if category == "internal":
                log.exception("fetching %s failed unexpectedly", url)
            return self._result(url, current, "failed", 0, error=f"{category}: {exc}")

    async def _robots_allow(self, url: httpx.URL, deadline: Deadline) -> bool:
        """robots.txt's answer for ``url`` (the deadline waits while robots.txt loads)."""
        if self.robots is None:
            return True
        answer = self.robots.known(url)
        if answer is not None:
            return answer
        deadline.pause()
        try:
            return await self.robots.allowed(url)
        finally:
            deadline.resume()

    def _result(
        self,
        url: str,
        current: httpx.URL | None,
        status: FetchStatus,
        redirects: int,
        *,
        error: str,
        code: int | None = None,
    ) -> FetchResult:
        final = str(current) if current is not None else None
        return FetchResult(url, status, final, code, error=error, redirects=redirects)

    async def _attempt(
        self,
        url: str,
        target: httpx.URL,
        headers: dict[str, str],
        deadline: Deadline,
        accept: Accept,
        cap: int,
        truncate: bool,
    ) -> FetchResult | httpx.URL:
        """One request for one hop: a result, or the URL the hop redirects to."""
        host = target.host
        await self.limiter.acquire(host, deadline)
        try:
            queued = self.slots.locked()
            if queued:
                deadline.pause()  # queueing for a global slot is not the server's time
            try:
                await self.slots.acquire()
            finally:
                if queued:
                    deadline.resume()
            try:
                request = httpx.Request(
                    "GET",
                    target,
                    headers=[*self._headers, *headers.items()],
                    extensions={"timeout": self._timeouts},
                )
                # Straight to the transport, as the resolver does: send() would build the
                # next request from Location itself and may reject it before we see it.
                response = await self.client._transport_for_url(target).handle_async_request(
                    request
                )
                response.request = request
                try:
                    return await self._answer(url, target, response, accept, cap, truncate)
                finally:
                    await response.aclose()
            finally:
                self.slots.release()
        finally:
            self.limiter.release(host)

    async def _answer(
        self,
        url: str,
        target: httpx.URL,
        response: httpx.Response,
        accept: Accept,
        cap: int,
        truncate: bool,
    ) -> FetchResult | httpx.URL:
        code = response.status_code
        check_status(code, response.headers, retry_after_max=self.retry_after_max, now=self.now())
        content_type = response.headers.get("content-type")
        etag = response.headers.get("etag")
        modified = response.headers.get("last-modified")
        final = str(target)
        if code == 304:
            return FetchResult(
                url, "not_modified", final, code, content_type, etag=etag, last_modified=modified
            )
        if 300 <= code < 400:
            raw = next((v for k, v in response.headers.raw if k.lower() == b"location"), None)
            if raw is None:
                return FetchResult(url, "failed", final, code, error=http_error(code))
            text, encoding = decode_header(raw)
            return join_location(target, text, encoding)
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
