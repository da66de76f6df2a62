"""The one redirect follower: article fetching and link resolving both walk their hops here.

A URL is followed one request at a time (``GET``; a ``HEAD`` would miss HTML redirects and
some hosts answer it with 405). Per URL, :meth:`Follower.follow`:

- holds one of ``concurrency`` request slots while the URL is on the network, and gives
  it back while the URL waits (a retry backoff, a ``Retry-After``, robots.txt loading);
- runs a whole-URL :class:`~scraper.net.limits.Deadline` over every hop's network time,
  paused while the URL waits on our account (those waits, and queueing for a host);
- per hop: asks the caller's ``permit`` (robots.txt), unwraps known link wrappers without a
  request (with ``html_redirects``), then makes one attempt under the retry policy: the
  host's breaker (:mod:`scraper.net.breaker`), one of the host's ``per_host`` slots, the
  request handed straight to the client's transport, 429/5xx checked (``Retry-After``);
- reads where the answer points: ``Location`` on a 3xx (a 304 is an answer, not a
  redirect) and, with ``html_redirects``, a ``Refresh`` header, a meta refresh or a
  script redirect on a 2xx HTML page (:mod:`scraper.net.redirects`); a final answer goes
  to the caller's ``read_final`` (the fetcher reads its body there);
- records every hop in a :class:`~scraper.net.chain.Chain` (loops, too many redirects).

Fetching and resolving differ only in :class:`FollowOptions` and those two callbacks.
:meth:`Follower.follow` never raises for a bad URL or a bad server: the outcome is a
:class:`Followed`, the chain closed at the hop where it ended, with the exception that
stopped it, if any, and the status whose headers had arrived when it stopped.

Requests go straight to the transport: the client's ``send()`` would build the next
request from ``Location`` itself (and may reject it before the raw header is recorded).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

import httpx

from scraper.model import Hop, HopVia
from scraper.net.body import read_capped
from scraper.net.breaker import HostBreaker
from scraper.net.chain import Answer, Chain
from scraper.net.client import transport_of
from scraper.net.guard import InvalidUrlError, check_url
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
from scraper.shorteners import is_shortener
from scraper.timestamps import utc_now

logger = logging.getLogger("scraper.net.follow")

T = TypeVar("T")
SNIFF_BYTES = 64 * 1024  # an HTML redirect sits in the head: never read further than this
JS_PAGE_MAX = 8 * 1024  # a page this small that sets location is a redirect page
HTML_TYPES = ("", "text/html", "application/xhtml+xml")
_NO_BODY = httpx.ByteStream(b"")

#: Reads a final (non-redirect) answer into the caller's result; runs inside the attempt,
#: so its failures are retried like the request's own.
ReadFinal = Callable[[httpx.URL, httpx.Response], Awaitable[T]]
#: Whether a URL may be requested: None when it may at once, an awaitable to wait for
#: (away from the request slot and the deadline) when it must be found out; raises (or the
#: awaitable raises) to stop the URL.
Permit = Callable[[httpx.URL], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class FollowOptions:
    """How one URL is followed: the only place fetching and resolving differ.

    ``html_redirects``: follow ``Refresh`` headers, meta refresh and script redirects on
    2xx HTML pages (reading at most ``sniff_bytes`` of them) and unwrap known link
    wrappers; ``shorteners`` decides which hosts' pages are always sniffed and trusted
    with script redirects, and what the chain's ``expanded`` hop is. ``headers`` go with
    every request (conditional GET validators).
    """

    timeout: float
    max_redirects: int
    allow_private: bool = False
    html_redirects: bool = False
    shorteners: frozenset[str] = frozenset()
    sniff_bytes: int = SNIFF_BYTES
    headers: tuple[tuple[bytes, bytes], ...] = ()


@dataclass(slots=True)
class Followed(Generic[T]):
    """The outcome of following one URL.

    ``chain`` always ends with the hop where the URL stopped. On success ``answer`` is the
    final answer and ``value`` what ``read_final`` made of it; on failure ``error`` is the
    exception that stopped it, and ``arrived`` the status of the answer whose headers had
    come when it stopped (a body that was still being read), else None.
    """

    chain: Chain
    answer: Answer | None = None
    value: T | None = None
    error: Exception | None = None
    arrived: int | None = None


class _Slot:
    """One URL's hold on a request slot, given back while it waits."""

    __slots__ = ("held", "slots")

    def __init__(self, slots: asyncio.Semaphore) -> None:
        self.slots = slots
        self.held = False

    async def take(self) -> None:
        await self.slots.acquire()
        self.held = True

    def give(self) -> None:
        if self.held:
            self.slots.release()
            self.held = False

    async def away(self, wait: Awaitable[T]) -> T:
        """``await wait`` without the slot; take it back afterwards (not after a failure)."""
        self.give()
        result = await wait
        await self.take()
        return result


class Follower:
    """Follows URLs with one client: slots, per-host limits, breakers, retries, deadlines."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        concurrency: int,
        per_host: int,
        retries: int,
        retry_after_max: float,
        sleep: Sleep = asyncio.sleep,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.transport = transport_of(client)
        self.now = now
        self.retry_after_max = retry_after_max
        self.limiter = HostLimiter(per_host)
        self.breaker = HostBreaker()
        self.slots = asyncio.Semaphore(concurrency)
        self.policy = RetryPolicy(retries, retry_after_max, sleep)
        self._timeouts = client.timeout.as_dict()
        self._headers = [(k, v) for k, v in client.headers.raw if k.lower() != b"host"]

    async def follow(
        self,
        url: str,
        options: FollowOptions,
        *,
        read_final: ReadFinal[T] | None = None,
        permit: Permit | None = None,
    ) -> Followed[T]:
        """Follow ``url`` to its end; never raises for a bad URL or a bad server."""
        chain = Chain(url, options.max_redirects, options.shorteners)
        outcome: Followed[T] = Followed(chain)
        slot = _Slot(self.slots)
        await slot.take()
        try:
            deadline = Deadline(options.timeout)

            async def sleep_away(seconds: float) -> None:
                # a Retry-After or backoff wait lets another URL use the request slot
                await slot.away(self.policy.sleep(seconds))

            # the deadline is paused for the whole wait, getting the slot back included
            sleep = deadline.excluding(sleep_away)
            async with deadline:
                current = check_url(url.strip(), allow_private=options.allow_private)
                while True:
                    chain.visit(current)
                    here = chain.end  # str(current)
                    wrapped = unwrap_wrapper(current) if options.html_redirects else None
                    if wrapped is not None:
                        target = check_url(wrapped, allow_private=options.allow_private)
                        chain.follow(Hop(here, None, wrapped, "wrapper"), target)
                        current = target
                        continue
                    waiting = permit(current) if permit is not None else None
                    if waiting is not None:
                        deadline.pause()
                        try:
                            await slot.away(waiting)
                        finally:
                            deadline.resume()
                    attempt = functools.partial(
                        self._attempt, current, deadline, options, read_final, outcome
                    )
                    answer = await self.policy.call(attempt, label=here, sleep=sleep)
                    if answer.next_url is None:
                        chain.close(answer.status_code, answer.location)
                        outcome.answer = answer
                        return outcome
                    hop = Hop(here, answer.status_code, answer.location, answer.via)
                    chain.follow(hop, answer.next_url)
                    current = check_url(answer.next_url, allow_private=options.allow_private)
        except Exception as exc:  # every failure becomes data; the chain so far is kept
            outcome.error = exc
            code = outcome.arrived
            if isinstance(exc, RetryableStatus | RetryDeferred):
                code = exc.status_code
            chain.close(code)
            return outcome
        finally:
            slot.give()

    async def _attempt(
        self,
        url: httpx.URL,
        deadline: Deadline,
        options: FollowOptions,
        read_final: ReadFinal[T] | None,
        outcome: Followed[T],
    ) -> Answer:
        """One request for one hop, under the host's breaker and slot and the deadline."""
        host = url.host
        outcome.arrived = None
        self.breaker.check(host)
        await self.limiter.acquire(host, deadline)
        try:
            self.breaker.check(host)  # it may have opened while this URL queued for the host
            # stream= skips httpx's body encoding; Host is ours to add then (userinfo in a
            # link is never turned into credentials: there is no auth step here)
            request = httpx.Request(
                "GET",
                url,
                headers=[(b"Host", url.netloc), *self._headers, *options.headers],
                stream=_NO_BODY,
                extensions={"timeout": self._timeouts},
            )
            try:
                response = await self.transport.handle_async_request(request)
            except Exception as exc:
                self.breaker.failed(host, exc)
                raise
            self.breaker.succeeded(host)
            response.request = request
            try:
                status = response.status_code
                if status in RETRY_STATUSES:
                    check_status(
                        status,
                        response.headers,
                        retry_after_max=self.retry_after_max,
                        now=self.now(),
                    )
                outcome.arrived = status
                answer = await self._read_answer(url, response, options)
                if answer.next_url is None and answer.error is None and read_final is not None:
                    outcome.value = await read_final(url, response)
                outcome.arrived = None
                return answer
            finally:
                await response.aclose()
        finally:
            self.limiter.release(host)

    async def _read_answer(
        self, url: httpx.URL, response: httpx.Response, options: FollowOptions
    ) -> Answer:
        """Where ``response`` points next, if anywhere."""
        status = response.status_code
        if 300 <= status < 400 and status != 304:
            raw = _raw_header(response, b"location")
            if raw is None:
                return Answer(status)
            text, encoding = decode_header(raw)
            return _redirect(url, status, text, "header", encoding)
        if not options.html_redirects or not 200 <= status < 300:
            return Answer(status)
        refresh = response.headers.get("refresh")
        refresh_target = parse_refresh(refresh) if refresh else None
        if refresh_target:
            return _redirect(url, status, refresh_target, "refresh-header")
        content_type = response.headers.get("content-type", "")
        shortener = is_shortener(url.host, options.shorteners)
        if not _worth_sniffing(response, content_type, shortener):
            return Answer(status)
        try:
            body, complete = await read_capped(response, options.sniff_bytes)
        except httpx.DecodingError as exc:
            logger.debug("%s: body not decodable, not sniffed: %s", url, exc)
            return Answer(status)
        page = _decode_page(body, content_type)
        small = complete and len(body) <= JS_PAGE_MAX
        found = find_html_redirect(page, allow_js=small or shortener)
        if found is None:
            return Answer(status)
        answer = _redirect(url, status, found[1], found[0])
        target = answer.next_url
        if target is not None and target.copy_with(fragment=None) == url.copy_with(fragment=None):
            return Answer(status)  # a page refreshing itself is not a redirect
        return answer


def _redirect(
    url: httpx.URL, status: int, target: str, via: HopVia, encoding: str = "utf-8"
) -> Answer:
    try:
        return Answer(status, target, join_location(url, target, encoding), via)
    except InvalidUrlError as exc:
        return Answer(status, target, None, via, error=f"invalid_url: {exc}")


def _worth_sniffing(response: httpx.Response, content_type: str, shortener: bool) -> bool:
    """Could this 2xx be an HTML redirect page? (HTML, and a shortener's or small.)"""
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in HTML_TYPES:
        return False
    if shortener:
        return True
    length = response.headers.get("content-length", "")
    return not length.isdigit() or int(length) <= SNIFF_BYTES


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
