"""Per-host breakers: a host that keeps failing to connect is left alone for the rest of the run.

Dead domains are common in old articles, and each of their links used to cost a DNS query
or a connection attempt, retried with backoff. :class:`HostBreaker` counts each host's
consecutive connection failures (the name did not resolve, the connection was refused or
timed out); after :data:`BREAKER_THRESHOLD` of them the host's breaker opens and every
later request to it fails at once with :class:`HostDown`, carrying the real category
(``dns``, ``connect``, ``timeout``). Any answer from the host, whatever its status, resets
the count. A breaker stays open for the run: the URLs it failed are left to a later run
(:data:`RETRY_LATER`), not retried one by one.
"""

from __future__ import annotations

import httpx

from scraper.net.guard import BlockedAddressError, DnsLookupError, TlsError

BREAKER_THRESHOLD = 5
RETRY_LATER = 3600.0  # seconds until a URL failed by an open breaker is due again


class HostDown(httpx.ConnectError):
    """The host's breaker is open: no request was sent. ``category`` is the real failure's."""

    def __init__(self, host: str, category: str, detail: str, failures: int) -> None:
        super().__init__(
            f"{detail} (host down: {failures} connection failures in a row; "
            "not tried again in this run)"
        )
        self.host = host
        self.category = category


def connection_failure(exc: BaseException) -> str | None:
    """The category of ``exc`` if it says the host cannot be reached, else None."""
    if isinstance(exc, HostDown | BlockedAddressError | TlsError):
        return None  # not the host's state: refused by us, or a certificate problem
    if isinstance(exc, DnsLookupError):
        return "dns"
    if isinstance(exc, httpx.ConnectTimeout):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    return None


class HostBreaker:
    """Consecutive connection failures per host, and the hosts given up on for the run."""

    def __init__(self, threshold: int = BREAKER_THRESHOLD) -> None:
        self.threshold = threshold
        self._streaks: dict[str, int] = {}
        self._down: dict[str, tuple[str, str]] = {}  # host -> (category, last failure)

    def check(self, host: str) -> None:
        """Raise :class:`HostDown` if ``host``'s breaker is open."""
        down = self._down.get(host)
        if down is not None:
            raise HostDown(host, down[0], down[1], self.threshold)

    def failed(self, host: str, exc: BaseException) -> None:
        """Count ``exc`` against ``host`` if it is a connection failure."""
        category = connection_failure(exc)
        if category is None:
            return
        streak = self._streaks.get(host, 0) + 1
        self._streaks[host] = streak
        if streak >= self.threshold and host not in self._down:
            self._down[host] = (category, str(exc) or type(exc).__name__)

    def succeeded(self, host: str) -> None:
        """``host`` answered: its count starts again."""
        if self._streaks:
            self._streaks.pop(host, None)

    def is_down(self, host: str) -> bool:
        """Whether ``host``'s breaker is open."""
        return host in self._down
