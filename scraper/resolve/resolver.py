"""Expand short links hop by hop, safely, and hand back one :class:`Resolution` per URL.

Each URL is followed one request at a time (``GET``, body streamed and closed early; a
``HEAD`` would miss the HTML redirects and some hosts answer it with 405): ``Location``
headers, a ``Refresh`` header, meta refresh and script redirects, and known link
wrappers (unwrapped without a request). Every hop is recorded. Failures are data: a
``failed`` or ``blocked`` status, an ``error`` of the form ``"category: detail"`` and
the chain up to the failing hop; the chain's last hop is always where it ended.

Limits: ``concurrency`` requests at once, ``per_host`` of them to one host, and a
whole-URL deadline (``timeout``) over every hop's network time. A URL waiting before a
retry holds no request slot, so a few rate-limited links do not idle the run; the URLs
in progress are a fixed pool of ``PARKED_FACTOR * concurrency`` workers, so memory does
not grow with the number of URLs. Retry waits and queueing for a
per-host slot do not count against the deadline: a ``Retry-After`` the policy accepts
(up to ``retry_after_max``) is a wait the server asked for, and counting it would turn
every honoured wait into a timeout; queueing is our own throttling, not the server's.

This module returns results and never writes the database; the caller stores each
result as it arrives through ``on_result``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import httpx

from scraper.config import ResolverConfig
from scraper.model import Hop, HopVia, Resolution, ResolutionStatus
from scraper.net.body import read_capped
from scraper.net.chain import Answer, Chain, error_category
from scraper.net.client import make_client
from scraper.net.guard import (
    BlockedAddressError,
    DnsResolver,
    InvalidUrlError,
    IPNetwork,
    check_url,
)
from scraper.net.limits import Deadline, HostLimiter, Sleep
from scraper.net.redirects import (
    decode_header,
    find_html_redirect,
    join_location,
    parse_refresh,
    unwrap_wrapper,
)
from scraper.net.retry import (
    RETRY_STATUSES,
    RetryableStatus,
    RetryDeferred,
    RetryPolicy,
    check_status,
)
from scraper.shorteners import is_shortener, shortener_hosts
from scraper.timestamps import iso_utc, utc_now

logger = logging.getLogger("scraper.resolve")

SNIFF_BYTES = 64 * 1024  # an HTML redirect sits in the head: never read further than this
JS_PAGE_MAX = 8 * 1024  # a page this small that sets location is a redirect page
HTML_TYPES = ("", "text/html", "application/xhtml+xml")
_NO_BODY = httpx.ByteStream(b"")
# URLs in progress per request slot: the others wait out a Retry-After or a backoff
PARKED_FACTOR = 2


def resolver_client(
    config: ResolverConfig,
    *,
    dns: DnsResolver | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    allowed_networks: Iterable[IPNetwork | str] = (),
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """The resolver's client (:func:`scraper.net.client.make_client` with ``[resolver]``)."""
    return make_client(
        user_agent=config.user_agent,
        timeout=config.timeout,
        concurrency=config.concurrency,
        allow_private=config.allow_private,
        dns=dns,
        transport=transport,
        allowed_networks=allowed_networks,
        ssl_context=ssl_context,
    )


class Resolver:
    """Resolves URLs with one client; :mod:`scraper.resolve.batch` runs it over many."""

    def __init__(
        self,
        config: ResolverConfig,
        client: httpx.AsyncClient,
        *,
        sleep: Sleep = asyncio.sleep,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.client = client
        self.now = now
        self.shorteners = shortener_hosts(config.shorteners)
        self.limiter = HostLimiter(config.per_host)
        # request slots: a URL holds one while it is on the network, not while it waits
        self.slots = asyncio.Semaphore(config.concurrency)
        self.policy = RetryPolicy(config.retries, config.retry_after_max, sleep)
        self._timeouts = client.timeout.as_dict()
        self._headers = [(k, v) for k, v in client.headers.raw if k.lower() != b"host"]
        self._sniff_limit = min(SNIFF_BYTES, config.max_body_bytes)

    async def resolve(self, url: str) -> Resolution:
        """Follow ``url`` to its end; never raises for a bad URL or a bad server."""
        chain = Chain(url, self.config.max_redirects, self.shorteners)
        await self.slots.acquire()
        holding = True

        async def sleep_without_slot(seconds: float) -> None:
            # a Retry-After or backoff wait lets another URL use the request slot
            nonlocal holding
            self.slots.release()
            holding = False
            try:
                await self.policy.sleep(seconds)
            finally:
                await self.slots.acquire()
                holding = True

        try:
            deadline = Deadline(self.config.timeout)
            # the deadline is paused for the whole wait, getting the slot back included
            sleep = deadline.excluding(sleep_without_slot)
            async with deadline:
                current = check_url(url.strip(), allow_private=self.config.allow_private)
                while True:
                    chain.visit(current)
                    here = chain.end  # str(current)
                    wrapped = unwrap_wrapper(current)
                    if wrapped is not None:
                        target = check_url(wrapped, allow_private=self.config.allow_private)
                        chain.follow(Hop(here, None, wrapped, "wrapper"), target)
                        current = target
                        continue
                    answer = await self.policy.call(
                        functools.partial(self._attempt, current, deadline), label=here, sleep=sleep
                    )
                    if answer.next_url is None:
                        chain.close(answer.status_code, answer.location)
                        return self._finish(chain, answer)
                    hop = Hop(here, answer.status_code, answer.location, answer.via)
                    chain.follow(hop, answer.next_url)
                    current = check_url(answer.next_url, allow_private=self.config.allow_private)
        except Exception as exc:  # every failure becomes data; the chain so far is kept
            return self._failure(chain, exc)
        finally:
            if holding:
                self.slots.release()

    async def _attempt(self, url: httpx.URL, deadline: Deadline) -> Answer:
        """One request for one hop, under the host's slot and the URL's deadline."""
        host = url.host
        await self.limiter.acquire(host, deadline)
        try:
            # stream= skips httpx's body encoding; Host is ours to add then (userinfo in a
            # link is never turned into credentials: there is no auth step here)
            request = httpx.Request(
                "GET",
                url,
                headers=[(b"Host", url.netloc), *self._headers],
                stream=_NO_BODY,
                extensions={"timeout": self._timeouts},
            )
            # Straight to the transport: the client's send() would build (and may reject)
            # the next request from Location itself, losing the raw header we record.
            transport = self.client._transport_for_url(url)
            response = await transport.handle_async_request(request)
            response.request = request
            try:
                if response.status_code in RETRY_STATUSES:
                    check_status(
                        response.status_code,
                        response.headers,
                        retry_after_max=self.config.retry_after_max,
                        now=self.now(),
                    )
                return await self._read_answer(url, response)
            finally:
                await response.aclose()
        finally:
            self.limiter.release(host)

    async def _read_answer(self, url: httpx.URL, response: httpx.Response) -> Answer:
        status = response.status_code
        if 300 <= status < 400:
            raw = _raw_header(response, b"location")
            if raw is None:
                return Answer(status)
            text, encoding = decode_header(raw)
            return self._redirect(url, status, text, "header", encoding)
        if not 200 <= status < 300:
            return Answer(status)
        refresh = response.headers.get("refresh")
        refresh_target = parse_refresh(refresh) if refresh else None
        if refresh_target:
            return self._redirect(url, status, refresh_target, "refresh-header")
        content_type = response.headers.get("content-type", "")
        if not self._worth_sniffing(url, response, content_type):
            return Answer(status)
        try:
            body, complete = await read_capped(response, self._sniff_limit)
        except httpx.DecodingError as exc:
            logger.debug("%s: body not decodable, not sniffed: %s", url, exc)
            return Answer(status)
        page = _decode_page(body, content_type)
        small = complete and len(body) <= JS_PAGE_MAX
        allow_js = small or is_shortener(url.host, self.shorteners)
        found = find_html_redirect(page, allow_js=allow_js)
        if found is None:
            return Answer(status)
        answer = self._redirect(url, status, found[1], found[0])
        target = answer.next_url
        if target is not None and target.copy_with(fragment=None) == url.copy_with(fragment=None):
            return Answer(status)  # a page refreshing itself is not a redirect
        return answer

    def _redirect(
        self, url: httpx.URL, status: int, target: str, via: HopVia, encoding: str = "utf-8"
    ) -> Answer:
        try:
            return Answer(status, target, join_location(url, target, encoding), via)
        except InvalidUrlError as exc:
            return Answer(status, target, None, via, error=f"invalid_url: {exc}")

    def _worth_sniffing(self, url: httpx.URL, response: httpx.Response, content_type: str) -> bool:
        """Could this 2xx be an HTML redirect page? (HTML, and a shortener's or small.)"""
        media = content_type.split(";", 1)[0].strip().lower()
        if media not in HTML_TYPES:
            return False
        if is_shortener(url.host, self.shorteners):
            return True
        length = response.headers.get("content-length", "")
        return not length.isdigit() or int(length) <= SNIFF_BYTES

    def _finish(self, chain: Chain, answer: Answer) -> Resolution:
        status: ResolutionStatus = "resolved"
        error = answer.error
        code = answer.status_code
        if error is None and code >= 400:
            reason = httpx.codes.get_reason_phrase(code)
            error = f"http_{'4' if code < 500 else '5'}xx: {code} {reason}".rstrip()
        if error is not None:
            status = "failed"
        return self._resolution(chain, status, error)

    def _failure(self, chain: Chain, exc: Exception) -> Resolution:
        next_attempt: datetime | None = None
        status: ResolutionStatus = "failed"
        code: int | None = None
        if isinstance(exc, RetryDeferred | RetryableStatus):
            code = exc.status_code
            kind = "http_4xx" if code < 500 else "http_5xx"
            error = f"{kind}: {exc}"
            if isinstance(exc, RetryDeferred) or code == 429:
                # rate limited, or asked to come back later: not a dead link
                status = "pending"
                wait = (
                    exc.retry_after if exc.retry_after is not None else self.config.retry_after_max
                )
                next_attempt = self.now() + timedelta(seconds=max(wait, 1.0))
        elif isinstance(exc, BlockedAddressError):
            status, error = "blocked", f"blocked: {exc}"
        else:
            category = error_category(exc)
            error = f"{category}: {str(exc) or type(exc).__name__}"
            if category == "internal":  # a bug, not a bad server: keep the traceback
                logger.exception("resolving %s failed unexpectedly", chain.url)
        chain.close(code)
        result = self._resolution(chain, status, error)
        result.next_attempt_at = iso_utc(next_attempt) if next_attempt is not None else None
        return result

    def _resolution(self, chain: Chain, status: ResolutionStatus, error: str | None) -> Resolution:
        last = chain.hops[-1] if chain.hops else None
        return Resolution(
            url=chain.url,
            status=status,
            expanded_url=chain.expanded,
            final_url=last.url if last else None,
            final_status_code=last.status_code if last else None,
            error=error,
            hops=chain.hops,
            resolved_at=iso_utc(self.now()),
        )


def _raw_header(response: httpx.Response, name: bytes) -> bytes | None:
    """The first value of header ``name`` (lower case) exactly as received."""
    for key, value in response.headers.raw:
        if key.lower() == name:
            return value
    return None


def _decode_page(body: bytes, content_type: str) -> str:
    """The page as text, in its declared charset when there is a usable one, else UTF-8."""
    charset = content_type.lower().partition("charset=")[2].split(";", 1)[0].strip(" \"'")
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")
