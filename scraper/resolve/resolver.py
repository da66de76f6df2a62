"""Expand short links hop by hop, safely, and hand back one :class:`Resolution` per URL.

The hops are walked by the network floor's one redirect follower
(:class:`scraper.net.follow.Follower`), with HTML redirects on: ``Location`` headers, a
``Refresh`` header, meta refresh and script redirects, and known link wrappers (unwrapped
without a request). This module says what the outcome means for a link: failures are
data (a ``failed`` or ``blocked`` status, an ``error`` of the form ``"category: detail"``
and the chain up to the failing hop; the chain's last hop is always where it ended); a
rate limit or a long ``Retry-After`` leaves the URL ``pending`` for a later run; the URLs
of a host whose breaker opened fail at once with the host's failure, due again in an hour.

Limits: ``concurrency`` URLs on the network at once, ``per_host`` requests to one host, and
a whole-URL deadline (``timeout``) over every hop's network time. A URL waiting before a
retry holds no request slot, so a few rate-limited links do not idle the run; the URLs
in progress are a fixed pool of ``PARKED_FACTOR * concurrency`` workers, so memory does
not grow with the number of URLs. A destination that sends its headers and then drips
its body past the deadline is ``resolved`` with the status that arrived, noted in
``error`` (``timeout: body not read to the end ...``): the link is alive.

This module returns results and never writes the database; the caller stores each
result as it arrives through ``on_result``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import httpx

from scraper.config import ResolverConfig
from scraper.model import Resolution, ResolutionStatus
from scraper.net.breaker import RETRY_LATER, HostDown
from scraper.net.chain import Chain, error_category
from scraper.net.client import make_client
from scraper.net.follow import SNIFF_BYTES, Followed, Follower, FollowOptions
from scraper.net.guard import BlockedAddressError, DnsResolver, IPNetwork
from scraper.net.limits import DeadlineExceeded, Sleep
from scraper.net.retry import MAX_RETRY_AFTER, RetryableStatus, RetryDeferred
from scraper.shorteners import shortener_hosts
from scraper.timestamps import iso_utc, utc_now

logger = logging.getLogger("scraper.resolve")

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
        self.follower = Follower(
            client,
            concurrency=config.concurrency,
            per_host=config.per_host,
            retries=config.retries,
            retry_after_max=config.retry_after_max,
            sleep=sleep,
            now=now,
        )
        self.options = FollowOptions(
            timeout=config.timeout,
            max_redirects=config.max_redirects,
            allow_private=config.allow_private,
            html_redirects=True,
            shorteners=self.shorteners,
            sniff_bytes=min(SNIFF_BYTES, config.max_body_bytes),
        )

    async def resolve(self, url: str) -> Resolution:
        """Follow ``url`` to its end; never raises for a bad URL or a bad server."""
        followed: Followed[None] = await self.follower.follow(url, self.options)
        try:
            return self._resolution_of(followed)
        except Exception as exc:  # a bug here must not end the run: this URL fails alone
            logger.exception("recording the resolution of %s failed unexpectedly", url)
            return Resolution(
                url=url,
                status="failed",
                error=f"internal: {type(exc).__name__}: {exc}",
                resolved_at=iso_utc(self.now()),
            )

    def _resolution_of(self, followed: Followed[None]) -> Resolution:
        chain, exc = followed.chain, followed.error
        if exc is None:
            assert followed.answer is not None
            error = followed.answer.error
            code = followed.answer.status_code
            if error is None and code >= 400:
                reason = httpx.codes.get_reason_phrase(code)
                error = f"http_{'4' if code < 500 else '5'}xx: {code} {reason}".rstrip()
            return self._resolution(chain, "failed" if error else "resolved", error)
        arrived = followed.arrived
        if isinstance(exc, DeadlineExceeded) and arrived is not None and 200 <= arrived < 300:
            # the destination answered; only its body was slow: the link is alive
            return self._resolution(chain, "resolved", f"timeout: body not read to the end ({exc})")
        next_attempt: datetime | None = None
        status: ResolutionStatus = "failed"
        if isinstance(exc, RetryDeferred | RetryableStatus):
            code = exc.status_code
            error = f"{'http_4xx' if code < 500 else 'http_5xx'}: {exc}"
            if isinstance(exc, RetryDeferred) or code == 429:
                # rate limited, or asked to come back later: not a dead link
                status = "pending"
                wait = self.config.retry_after_max if exc.retry_after is None else exc.retry_after
                next_attempt = self._later(wait)
        elif isinstance(exc, BlockedAddressError):
            status, error = "blocked", f"blocked: {exc}"
        else:
            category = error_category(exc)
            error = f"{category}: {str(exc) or type(exc).__name__}"
            if isinstance(exc, HostDown):
                next_attempt = self._later(RETRY_LATER)
            elif category == "internal":  # a bug, not a bad server: keep the traceback
                logger.error("resolving %s failed unexpectedly", chain.url, exc_info=exc)
        result = self._resolution(chain, status, error)
        result.next_attempt_at = iso_utc(next_attempt) if next_attempt is not None else None
        return result

    def _later(self, seconds: float) -> datetime:
        """Now plus ``seconds`` (at least one, at most MAX_RETRY_AFTER: the date exists)."""
        return self.now() + timedelta(seconds=min(max(seconds, 1.0), MAX_RETRY_AFTER))

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
