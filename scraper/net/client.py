"""The run's HTTP clients: one guarded transport, no redirects followed by httpx, no proxies.

Fetching, resolving and checking each open one client per run with :func:`make_client`
and pass it down; tests inject ``transport=`` (an ``httpx.MockTransport``) instead of the
guarded one. Redirects are followed by :mod:`scraper.net.follow`, never by httpx, so the
address guard sees every hop.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpx

from scraper.net.body import ACCEPT_ENCODING
from scraper.net.guard import AddressGuard, DnsResolver, IPNetwork
from scraper.net.transport import GuardedTransport

ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"


class NetClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that keeps its transport in view.

    The redirect follower hands each hop's request straight to ``transport`` (see
    :mod:`scraper.net.follow`); httpx keeps its own reference private, so the client
    built here keeps the one it was given.
    """

    def __init__(self, *, transport: httpx.AsyncBaseTransport, **options: Any) -> None:
        super().__init__(transport=transport, **options)
        self.transport = transport


def transport_of(client: httpx.AsyncClient) -> httpx.AsyncBaseTransport:
    """The transport of a client made by :func:`make_client` (TypeError for any other)."""
    if not isinstance(client, NetClient):
        raise TypeError(
            "the network floor needs a client made by scraper.net.client.make_client "
            f"(pass transport= to it to inject one), not {type(client).__name__}"
        )
    return client.transport


def make_client(
    *,
    user_agent: str,
    timeout: float,
    concurrency: int,
    allow_private: bool = False,
    dns: DnsResolver | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    allowed_networks: Iterable[IPNetwork | str] = (),
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """One client: guarded transport, no redirects followed, no proxy variables.

    ``transport`` replaces the guarded one (tests pass ``httpx.MockTransport``; literal
    addresses are still checked by the callers, names are then not). ``allowed_networks``
    and ``ssl_context`` go to :class:`GuardedTransport` (tests: a loopback "public" host,
    a private CA). Per-host bounds stay with the callers' :class:`HostLimiter`. The client
    is a :class:`NetClient`, an ``httpx.AsyncClient`` that shows its transport.
    """
    if transport is None:
        guard = AddressGuard(dns, allow_private=allow_private, allowed_networks=allowed_networks)
        transport = GuardedTransport(guard, ssl_context=ssl_context, max_connections=concurrency)
    return NetClient(
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
        # No per-read timer: every read happens under the whole-URL deadline, which is
        # never longer than a read timeout would be (and a timer per read costs CPU).
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0), read=None),
    )
