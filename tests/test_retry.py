"""The one retry policy: what is retried, how long it waits, what defers to a later run."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from scraper.net.guard import BlockedAddressError, DnsLookupError, InvalidUrlError, TlsError
from scraper.net.retry import (
    MAX_RETRY_AFTER,
    RetryableStatus,
    RetryDeferred,
    RetryPolicy,
    build_retrying,
    check_status,
    is_retryable,
    parse_retry_after,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


class Recorder:
    """A sleep that records its waits."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("Wed, 01 May 2024 12:01:00 GMT", 60.0),
        ("Wed, 01 May 2024 11:00:00 GMT", 0.0),
        ("-3", 0.0),
        ("soon", None),
        ("nan", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    """Delta-seconds and HTTP dates become a wait; past dates none; junk is ignored."""
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    "value", ["1e12", "1e400", "inf", "+Infinity", "Fri, 31 Dec 9999 23:59:59 GMT", "9" * 400]
)
def test_absurd_retry_after_is_clamped(value: str) -> None:
    """A wait no date can hold is clamped to MAX_RETRY_AFTER, and the date after it exists."""
    wait = parse_retry_after(value, NOW)
    assert wait == MAX_RETRY_AFTER
    assert NOW + timedelta(seconds=wait) > NOW
    with pytest.raises(RetryDeferred) as deferred:
        check_status(503, {"retry-after": value}, retry_after_max=60, now=NOW)
    assert deferred.value.retry_after == MAX_RETRY_AFTER


def test_check_status_classifies() -> None:
    """Other statuses pass; 429/5xx retry; a Retry-After past the cap defers."""
    check_status(404, {}, retry_after_max=60, now=NOW)
    check_status(200, {"retry-after": "5"}, retry_after_max=60, now=NOW)
    with pytest.raises(RetryableStatus) as plain:
        check_status(503, {}, retry_after_max=60, now=NOW)
    assert plain.value.retry_after is None and plain.value.status_code == 503
    with pytest.raises(RetryableStatus) as short:
        check_status(429, {"retry-after": "10"}, retry_after_max=60, now=NOW)
    assert short.value.retry_after == 10.0
    with pytest.raises(RetryDeferred) as deferred:
        check_status(429, {"retry-after": "600"}, retry_after_max=60, now=NOW)
    assert deferred.value.retry_after == 600.0


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (RetryableStatus(503), True),
        (httpx.ConnectTimeout("t"), True),
        (httpx.ReadTimeout("t"), True),
        (httpx.ReadError("reset"), True),
        (httpx.ConnectError("refused"), True),
        (httpx.RemoteProtocolError("garbled"), True),
        (DnsLookupError("again", host="h", temporary=True), True),
        (DnsLookupError("nx", host="h"), False),
        (BlockedAddressError("no", host="h", address="10.0.0.1"), False),
        (TlsError("bad cert"), False),
        (InvalidUrlError("bad"), False),
        (httpx.UnsupportedProtocol("ftp"), False),
        (httpx.TooManyRedirects("many"), False),
        (RetryDeferred(429, 600), False),
        (ValueError("bug"), False),
    ],
)
def test_is_retryable(exc: Exception, expected: bool) -> None:
    """Transient trouble is retried; 4xx, blocked, invalid, TLS and NXDOMAIN are not."""
    assert is_retryable(exc) is expected


async def test_transport_errors_back_off_exponentially(caplog: pytest.LogCaptureFixture) -> None:
    """Three timeouts then success: waits grow about 1, 2, 4 s with jitter, each logged."""
    sleep = Recorder()
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise httpx.ReadTimeout("slow")
        return "ok"

    with caplog.at_level(logging.INFO, logger="scraper.net.retry"):
        assert await RetryPolicy(3, 60, sleep).call(attempt, label="https://t.co/x") == "ok"
    assert calls == 4
    assert [int(w) for w in sleep.waits] == [1, 2, 4]
    assert all(0 <= w - 2**i <= 1 for i, w in enumerate(sleep.waits))
    assert caplog.text.count("retrying https://t.co/x") == 3


async def test_retry_after_is_the_wait() -> None:
    """A RetryableStatus carrying Retry-After waits exactly that long."""
    sleep = Recorder()
    answers = [RetryableStatus(429, 12.0), RetryableStatus(503, 3.0)]

    async def attempt() -> int:
        if answers:
            raise answers.pop(0)
        return 200

    assert await RetryPolicy(3, 60, sleep).call(attempt) == 200
    assert sleep.waits == [12.0, 3.0]


async def test_exhausted_retries_raise_the_last_failure() -> None:
    """After retries+1 attempts the last exception comes out unchanged."""
    sleep = Recorder()
    calls = 0

    async def attempt() -> None:
        nonlocal calls
        calls += 1
        raise RetryableStatus(500 + calls)

    with pytest.raises(RetryableStatus) as caught:
        await RetryPolicy(2, 60, sleep).call(attempt)
    assert calls == 3 and caught.value.status_code == 503 and len(sleep.waits) == 2


async def test_non_retryable_failure_is_not_retried() -> None:
    """A blocked address fails at once, with no wait."""
    sleep = Recorder()
    calls = 0

    async def attempt() -> None:
        nonlocal calls
        calls += 1
        raise BlockedAddressError("no", host="h", address="127.0.0.1")

    with pytest.raises(BlockedAddressError):
        await RetryPolicy(3, 60, sleep).call(attempt)
    assert calls == 1 and sleep.waits == []


async def test_zero_retries_means_one_attempt() -> None:
    """retries = 0: a retryable failure is raised after the single attempt."""
    sleep = Recorder()

    async def attempt() -> None:
        raise httpx.ConnectError("refused")

    with pytest.raises(httpx.ConnectError):
        await RetryPolicy(0, 60, sleep).call(attempt)
    assert sleep.waits == []


async def test_build_retrying_is_usable_on_its_own() -> None:
    """The tenacity object works directly (the fetcher's way in)."""
    sleep = Recorder()
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ReadError("reset")
        return "done"

    assert await build_retrying(2, 60, sleep)(attempt) == "done"
    assert len(sleep.waits) == 1
