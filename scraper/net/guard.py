"""The address guard: which hosts the resolver (and later the fetcher) may connect to.

The guard resolves names itself and hands the transport the very addresses it checked,
so the connection goes to a checked address and no second lookup can be steered
elsewhere (DNS rebinding fails). :class:`scraper.net.transport.GuardResolver`, aiohttp's
resolver hook, calls :meth:`AddressGuard.addresses` for every new connection, at every
hop; :class:`scraper.net.transport.GuardedTransport` checks literal IP hosts the same way.

Refused unless ``allow_private``: loopback, private, link-local, CGNAT (100.64/10),
cloud metadata, multicast, reserved, unspecified and documentation ranges, and the IPv6
forms that embed such an IPv4 address (IPv4-mapped, IPv4-compatible, 6to4, Teredo,
NAT64). Host spellings that ``inet_aton`` accepts (``0``, ``127.1``, ``0x7f.1``,
``2130706433``, ``017700000001``) are read as the address they denote.

A name whose answers mix public and non-public addresses is refused as a whole: such an
answer is either a misconfiguration or an attempt to reach an internal address through
a public name, and picking "the public one" would still let a later lookup pick the other.

Errors::

    InvalidUrlError (ValueError)        not an http(s) URL, or no usable host
    httpx.ConnectError
    ├── BlockedAddressError             the guard refused the address
    ├── DnsLookupError                  the name did not resolve (``temporary`` for EAI_AGAIN)
    └── TlsError                        the TLS handshake failed (raised by the transport)
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})
_HOST_NAME = re.compile(rb"[A-Za-z0-9_.-]+")  # the ASCII (IDNA) form of a DNS name

# Explicit tables rather than ``ipaddress.is_global`` alone: its answers changed between
# Python versions and miss multicast, NAT64 and IPv4-compatible forms.
BLOCKED_V4: tuple[ipaddress.IPv4Network, ...] = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network", includes the unspecified address
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT; holds 100.100.100.200 (Alibaba metadata)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local; holds 169.254.169.254 (cloud metadata)
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes 255.255.255.255
    )
)
BLOCKED_V6: tuple[ipaddress.IPv6Network, ...] = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback and the deprecated IPv4-compatible form
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local; holds fd00:ec2::254 (AWS metadata)
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "100.100.100.200", "fd00:ec2::254")
)


class InvalidUrlError(ValueError):
    """The URL is not http(s), or its host cannot be read."""


class BlockedAddressError(httpx.ConnectError):
    """The address guard refused to connect (a non-public address, ``allow_private`` off)."""

    def __init__(self, message: str, *, host: str, address: str) -> None:
        super().__init__(message)
        self.host = host
        self.address = address


class DnsLookupError(httpx.ConnectError):
    """A host name did not resolve; ``temporary`` when the resolver said "try again"."""

    def __init__(self, message: str, *, host: str, temporary: bool = False) -> None:
        super().__init__(message)
        self.host = host
        self.temporary = temporary


class TlsError(httpx.ConnectError):
    """The TLS handshake failed (certificate, protocol or cipher trouble)."""


class DnsResolver(Protocol):
    """Turns a host name into IP address strings (tests inject a fixed table)."""

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of ``host``, in the order to try them."""
        ...


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4, Teredo or NAT64 address stands for."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's (de-obfuscated) address
    if ip in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


# Both are pure and asked about the same few hosts on every hop: cached.
@functools.lru_cache(maxsize=4096)
def is_public_address(ip: IPAddress) -> bool:
    """Whether ``ip`` is a globally routable unicast address the resolver may connect to."""
    if ip in METADATA_ADDRESSES:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        embedded = _embedded_v4(ip)
        if embedded is not None:
            return is_public_address(embedded)
        if any(ip in net for net in BLOCKED_V6):
            return False
        return ip.is_global
    if any(ip in net for net in BLOCKED_V4):
        return False
    return ip.is_global


@functools.lru_cache(maxsize=4096)
def parse_ip_host(host: str) -> IPAddress | None:
    """Read ``host`` as an IP address the way ``getaddrinfo``/``inet_aton`` would, else None.

    Accepts bracketed or bare IPv6 and the legacy IPv4 spellings: 1 to 4 parts, each
    decimal, octal (leading 0) or hex (0x), the last part filling the remaining bytes.
    Raises :class:`InvalidUrlError` for an IPv6-looking host that does not parse.
    """
    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError as exc:
            raise InvalidUrlError(f"not an IPv6 address: {host!r}") from exc
    text = text.removesuffix(".")
    parts = text.split(".")
    if not text or len(parts) > 4:
        return None
    numbers: list[int] = []
    for part in parts:
        try:
            if part.startswith("0x"):
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            else:
                numbers.append(int(part, 10) if part.isascii() and part.isdigit() else -1)
        except ValueError:
            return None
        if numbers[-1] < 0:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for n in head:
        value = value << 8 | n
    return ipaddress.IPv4Address(value << 8 * (4 - len(head)) | last)


def check_url(url: str | httpx.URL, *, allow_private: bool = False) -> httpx.URL:
    """Parse ``url`` and check what can be checked without DNS; return it as ``httpx.URL``.

    Raises :class:`InvalidUrlError` for another scheme or no host, and
    :class:`BlockedAddressError` when the host is a literal non-public address.
    """
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise InvalidUrlError(f"cannot parse URL: {exc}") from exc
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise InvalidUrlError(
            f"unsupported scheme {parsed.scheme!r}" if parsed.scheme else "no scheme"
        )
    host = parsed.host
    if not host:
        raise InvalidUrlError("no host")
    port = parsed.port
    if port is not None and not 0 < port < 65536:
        raise InvalidUrlError(f"bad port {port}")
    ip = parse_ip_host(host)
    if ip is None and not _HOST_NAME.fullmatch(parsed.raw_host):
        raise InvalidUrlError(f"bad host name {host!r}")
    if ip is not None and not allow_private and not is_public_address(ip):
        raise BlockedAddressError(f"{ip} is not a public address", host=host, address=str(ip))
    return parsed


class AddressGuard:
    """Resolves a host and returns only addresses the policy allows (all or nothing).

    ``allowed_networks`` are exceptions to the policy (say a company proxy's network);
    the tests use them to let one loopback address play a public host.
    """

    def __init__(
        self,
        dns: DnsResolver | None = None,
        *,
        allow_private: bool = False,
        allowed_networks: Iterable[IPNetwork | str] = (),
    ) -> None:
        self.dns: DnsResolver = dns if dns is not None else SystemDnsResolver()
        self.allow_private = allow_private
        self.allowed_networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(n) for n in allowed_networks
        )
        # A guard lives as long as its client, one run: a name that does not exist is
        # asked about once per run, and lookups of one name in flight together are one.
        self._missing: dict[str, str] = {}
        self._lookups: dict[tuple[str, int], asyncio.Future[list[str]]] = {}

    def is_allowed(self, ip: IPAddress) -> bool:
        """Whether the policy lets the transport connect to ``ip``."""
        if self.allow_private or is_public_address(ip):
            return True
        return any(ip.version == net.version and ip in net for net in self.allowed_networks)

    async def addresses(self, host: str, port: int) -> list[str]:
        """The checked addresses to connect to for ``host`` (a name or a literal address).

        Raises :class:`BlockedAddressError` if any answer is refused,
        :class:`DnsLookupError` if the name does not resolve.
        """
        literal = parse_ip_host(host)
        if literal is not None:
            answers: Sequence[IPAddress] = [literal]
        else:
            raw = await self._lookup(host, port)
            try:
                answers = [ipaddress.ip_address(a.split("%", 1)[0]) for a in raw]
            except ValueError as exc:
                raise DnsLookupError(f"{host}: bad DNS answer {raw!r}", host=host) from exc
            if not answers:
                raise DnsLookupError(f"{host}: no addresses", host=host)
        for ip in answers:
            if not self.is_allowed(ip):
                raise BlockedAddressError(
                    f"{host} resolves to {ip}, not a public address", host=host, address=str(ip)
                )
        return [str(ip) for ip in answers]

    async def _lookup(self, host: str, port: int) -> list[str]:
        """``dns.resolve``, once per name in flight; names that do not exist remembered."""
        name = host.lower()
        missing = self._missing.get(name)
        if missing is not None:
            raise DnsLookupError(missing, host=host)
        key = (name, port)
        pending = self._lookups.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self.dns.resolve(host, port))
            self._lookups[key] = pending
            pending.add_done_callback(functools.partial(self._looked_up, key))
        try:
            # shielded: one asker's deadline must not cancel the lookup the others wait for
            return await asyncio.shield(pending)
        except DnsLookupError as exc:
            # a fresh exception per asker: one shared instance would pile up tracebacks
            raise DnsLookupError(str(exc), host=host, temporary=exc.temporary) from None

    def _looked_up(self, key: tuple[str, int], done: asyncio.Future[list[str]]) -> None:
        self._lookups.pop(key, None)
        if done.cancelled():
            return
        failure = done.exception()  # retrieved here, so an unawaited failure is not logged
        if isinstance(failure, DnsLookupError) and not failure.temporary:
            self._missing[key[0]] = str(failure)


class SystemDnsResolver:
    """``getaddrinfo`` in the event loop's thread pool, with a small time-limited cache."""

    def __init__(self, ttl: float = 60.0, max_entries: int = 4096) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._cache: OrderedDict[tuple[str, int], tuple[float, list[str]]] = OrderedDict()

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of ``host``, IPv4 and IPv6, as the system resolver orders them."""
        key = (host.lower(), port)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            temporary = exc.errno == socket.EAI_AGAIN
            raise DnsLookupError(f"{host}: {exc.strerror}", host=host, temporary=temporary) from exc
        except UnicodeError as exc:  # a label the IDNA codec refuses
            raise DnsLookupError(f"{host}: {exc}", host=host) from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        self._cache[key] = (time.monotonic() + self.ttl, addresses)
        self._cache.move_to_end(key)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return addresses


class StaticDnsResolver:
    """A fixed name -> addresses table (tests and benchmarks); unknown names do not resolve."""

    def __init__(self, table: Mapping[str, Sequence[str] | str]) -> None:
        self.table = {
            name.lower(): [value] if isinstance(value, str) else list(value)
            for name, value in table.items()
        }
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        """The table's addresses for ``host``, or :class:`DnsLookupError`."""
        self.lookups.append(host)
        try:
            return list(self.table[host.lower()])
        except KeyError:
            raise DnsLookupError(f"{host}: name not known", host=host) from None
