"""One URL's redirect chain while it is followed, and how failures are named.

:class:`Chain` records hops and refuses loops and over-long chains; :class:`Answer` is
what one response said; :func:`error_category` maps an exception to the ``error``
category stored with a failed URL.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from scraper.model import Hop, HopVia
from scraper.net.breaker import HostDown
from scraper.net.guard import BlockedAddressError, DnsLookupError, InvalidUrlError, TlsError
from scraper.net.limits import DeadlineExceeded
from scraper.shorteners import is_shortener


class ChainError(Exception):
    """The chain itself went wrong: ``loop`` or ``too_many_redirects``."""

    def __init__(self, category: str, detail: str) -> None:
        super().__init__(detail)
        self.category = category


@dataclass(slots=True)
class Answer:
    """What one hop's response said: its status and where it points next, if anywhere."""

    status_code: int
    location: str | None = None
    next_url: httpx.URL | None = None
    via: HopVia = "none"
    error: str | None = None


class Chain:
    """The hops of one URL so far, with loop and length checks.

    ``expanded`` is the first hop whose host is not a shortener, wrapper hops skipped
    (an interstitial such as twitter.com's link warning is not where a link goes).
    """

    def __init__(self, url: str, max_redirects: int, shorteners: frozenset[str]) -> None:
        self.url = url
        self.max_redirects = max_redirects
        self.shorteners = shorteners
        self.hops: list[Hop] = []
        self.seen: set[str] = set()
        self.redirects = 0
        self.end: str = url  # where the chain points now (not yet a hop)
        self._end_host: str | None = None
        self._end_url: httpx.URL | None = None  # the parsed form of ``end``, once followed
        self.expanded: str | None = None

    def visit(self, url: httpx.URL) -> None:
        """``url`` is about to be requested or unwrapped."""
        if url is not self._end_url:  # follow() has already turned this very URL into text
            self.end = str(url)
        self._end_host = url.host
        self.seen.add(self.end)

    def _add(self, hop: Hop, host: str | None) -> None:
        self.hops.append(hop)
        if (
            self.expanded is None
            and hop.via != "wrapper"
            and host
            and not is_shortener(host, self.shorteners)
        ):
            self.expanded = hop.url

    def follow(self, hop: Hop, target: httpx.URL) -> None:
        """Record the redirect ``hop`` (from the visited URL) to ``target``.

        Raises ChainError on a loop or past ``max_redirects``.
        """
        self._add(hop, self._end_host)
        self.redirects += 1
        self.end = str(target)
        self._end_host = target.host
        self._end_url = target
        if self.end in self.seen:
            raise ChainError("loop", f"{self.end} was already visited")
        if self.redirects > self.max_redirects:
            raise ChainError("too_many_redirects", f"more than {self.max_redirects} redirects")

    def close(self, status_code: int | None, location: str | None = None) -> None:
        """Record the end of the chain (the URL it points to now)."""
        self._add(Hop(self.end, status_code, location, "none"), self._end_host)


def error_category(exc: BaseException) -> str:
    """The ``error`` category for an exception met while resolving."""
    if isinstance(exc, ChainError | HostDown):
        return exc.category
    if isinstance(exc, BlockedAddressError):
        return "blocked"
    if isinstance(exc, InvalidUrlError | httpx.InvalidURL | httpx.UnsupportedProtocol):
        return "invalid_url"
    if isinstance(exc, DnsLookupError):
        return "dns"
    if isinstance(exc, TlsError):
        return "tls"
    if isinstance(exc, DeadlineExceeded | httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.TransportError):
        return "connect"  # refused, reset, or a garbled answer: the connection failed us
    return "internal"
