"""The one retry policy (tenacity), shared by the resolver and the article fetcher.

Retried: transport trouble (timeouts, resets, refused connections, garbled answers, a
DNS server saying "try again") and the statuses 429, 500, 502, 503, 504. Not retried:
other 4xx, invalid URLs, blocked addresses, failed TLS, unknown names, redirect limits.
Waits grow exponentially with jitter; a ``Retry-After`` (seconds or an HTTP date) is
honoured up to ``retry_after_max``, and past it :class:`RetryDeferred` tells the caller
to leave the URL for a later run. A server cannot ask for more than
:data:`MAX_RETRY_AFTER` (``1e400``, ``inf`` or the year 9999 are clamped to it), so the
date of that later run always exists. Every wait is logged on the ``scraper.net.retry`` logger.

The sleep function is injected, so tests record the waits instead of sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base, wait_exponential_jitter

from scraper.net.breaker import HostDown
from scraper.net.guard import BlockedAddressError, DnsLookupError, TlsError
from scraper.net.limits import Sleep

logger = logging.getLogger("scraper.net.retry")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF = 30.0
# The longest wait a Retry-After can ask for (30 days, the longest backoff of a failed
# URL): a later run comes sooner than any answer past it matters, and the date stays valid.
MAX_RETRY_AFTER = 30 * 24 * 3600.0

T = TypeVar("T")


class RetryableStatus(Exception):
    """The server answered with a status worth another try (429 or a 5xx)."""

    def __init__(self, status_code: int, retry_after: float | None = None) -> None:
        detail = f", Retry-After {retry_after:g}s" if retry_after is not None else ""
        super().__init__(f"{status_code} {httpx.codes.get_reason_phrase(status_code)}{detail}")
        self.status_code = status_code
        self.retry_after = retry_after


class RetryDeferred(Exception):
    """The server asked for a wait longer than ``retry_after_max``: try in a later run.

    ``retry_after`` is the wait in seconds (at most :data:`MAX_RETRY_AFTER`); ``given`` is
    the header as the server sent it (cut to 100 characters).
    """

    def __init__(self, status_code: int, retry_after: float, given: str | None = None) -> None:
        shown = given.strip()[:100] if given else f"{retry_after:g}"
        clamped = " (clamped to 30 days)" if retry_after >= MAX_RETRY_AFTER else ""
        super().__init__(f"{status_code} with Retry-After {shown}{clamped}")
        self.status_code = status_code
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP date), else None.

    The answer is between 0 and :data:`MAX_RETRY_AFTER`, whatever the server sent.
    """
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def check_status(
    status_code: int, headers: Mapping[str, str], *, retry_after_max: float, now: datetime
) -> None:
    """Raise :class:`RetryableStatus` or :class:`RetryDeferred` for a status worth retrying."""
    if status_code not in RETRY_STATUSES:
        return
    given = headers.get("retry-after")
    retry_after = parse_retry_after(given, now)
    if retry_after is not None and retry_after > retry_after_max:
        raise RetryDeferred(status_code, retry_after, given)
    raise RetryableStatus(status_code, retry_after)


def is_retryable(exc: BaseException) -> bool:
    """Whether another attempt could succeed where this one failed."""
    if isinstance(exc, RetryableStatus):
        return True
    if isinstance(exc, BlockedAddressError | TlsError | HostDown):
        return False
    if isinstance(exc, DnsLookupError):
        return exc.temporary
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return False
    return isinstance(exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError)


class wait_retry_after(wait_base):  # named like tenacity's own wait strategies
    """The server's ``Retry-After`` when it gave one (capped), else ``fallback``."""

    def __init__(self, fallback: wait_base, cap: float) -> None:
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None and outcome.failed else None
        if isinstance(exc, RetryableStatus) and exc.retry_after is not None:
            return min(exc.retry_after, self.cap)
        return float(self.fallback(retry_state))


def _log_wait(label: str) -> Callable[[RetryCallState], None]:
    def log(retry_state: RetryCallState) -> None:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None and outcome.failed else None
        wait = retry_state.next_action.sleep if retry_state.next_action is not None else 0.0
        logger.info(
            "retrying %s in %.2fs after attempt %d: %s",
            label or "request",
            wait,
            retry_state.attempt_number,
            f"{type(exc).__name__}: {exc}" if exc is not None else "no result",
        )

    return log


def build_retrying(
    retries: int, retry_after_max: float, sleep: Sleep, *, label: str = ""
) -> AsyncRetrying:
    """The tenacity object: ``retries`` extra attempts, backoff with jitter, Retry-After."""
    return AsyncRetrying(
        stop=stop_after_attempt(retries + 1),
        wait=wait_retry_after(wait_exponential_jitter(max=MAX_BACKOFF), retry_after_max),
        retry=retry_if_exception(is_retryable),
        before_sleep=_log_wait(label),
        sleep=sleep,
        reraise=True,
    )


class RetryPolicy:
    """Runs attempts under :func:`build_retrying`'s policy.

    The first attempt runs outside tenacity: most requests succeed at once, and
    tenacity's bookkeeping costs more than the request itself at thousands per second.
    Only after a retryable failure does tenacity take over; it is handed that failure
    as its first attempt, so attempt counts, waits and logs are exactly tenacity's.
    """

    def __init__(self, retries: int, retry_after_max: float, sleep: Sleep) -> None:
        self.retries = retries
        self.retry_after_max = retry_after_max
        self.sleep = sleep

    async def call(
        self, attempt: Callable[[], Awaitable[T]], *, label: str = "", sleep: Sleep | None = None
    ) -> T:
        """``await attempt()``, retried while it fails in a retryable way.

        ``sleep`` replaces the policy's sleep for this call (the resolver pauses its
        deadline during waits this way).
        """
        try:
            return await attempt()
        except Exception as exc:
            if not is_retryable(exc):
                raise
            first: Exception | None = exc
        retrying = build_retrying(
            self.retries, self.retry_after_max, sleep or self.sleep, label=label
        )

        async def replay_then_attempt() -> T:
            nonlocal first
            if first is not None:
                failure, first = first, None
                raise failure
            return await attempt()

        return await retrying(replay_then_attempt)
