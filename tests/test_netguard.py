"""The address guard: which addresses are public, how hosts are read, what DNS answers pass."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest

from scraper.net.guard import (
    AddressGuard,
    BlockedAddressError,
    DnsLookupError,
    InvalidUrlError,
    StaticDnsResolver,
    SystemDnsResolver,
    check_url,
    is_public_address,
    parse_ip_host,
)

NOT_PUBLIC = [
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # CGNAT
    "100.100.100.200",  # Alibaba metadata
    "0.0.0.0",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.10",  # documentation
    "198.18.0.1",  # benchmarking
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "ff02::1",
    "2001:db8::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::1",  # local-use NAT64
]
PUBLIC = [
    "8.8.8.8",
    "93.184.216.34",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "2002:808:808::1",  # 6to4 of 8.8.8.8
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_are_refused(address: str) -> None:
    """Loopback, private, link-local, CGNAT, metadata, multicast, reserved and their v6 forms."""
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    """Globally routable addresses, also when embedded in a v6 transition form."""
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("0", "0.0.0.0"),
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("10.1.258", "10.1.1.2"),
        ("127.0.0.1.", "127.0.0.1"),
        ("[::1]", "::1"),
        ("::ffff:7f00:1", "::ffff:7f00:1"),
    ],
)
def test_odd_spellings_are_read_like_inet_aton(host: str, expected: str) -> None:
    """Every spelling getaddrinfo would accept is read as the address it means."""
    assert parse_ip_host(host) == ipaddress.ip_address(expected)


@pytest.mark.parametrize(
    "host", ["example.com", "1.2.3.4.5", "256.1.1.1", "08.1.1.1", "1..2", "a1", "١٢٧.0.0.1"]
)
def test_names_are_not_addresses(host: str) -> None:
    """Names and impossible numbers are not read as addresses (they go to DNS)."""
    assert parse_ip_host(host) is None


def test_bad_ipv6_literal_is_invalid() -> None:
    """A bracketed host that is not IPv6 is an invalid URL, not a name."""
    with pytest.raises(InvalidUrlError):
        parse_ip_host("[::zz]")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://0x7f.1/",
        "https://2130706433:8443/x",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://0/",
    ],
)
def test_check_url_blocks_literal_private_hosts(url: str) -> None:
    """Literal non-public hosts are refused before any lookup."""
    with pytest.raises(BlockedAddressError):
        check_url(url)
    assert check_url(url, allow_private=True).host


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/",
        "file:///etc/passwd",
        "example.org/x",
        "http://",
        "http://[bad/",
        "http://exa mple.org/",
        "http://a.example:99999/",
        "http://a.example:0/",
    ],
)
def test_check_url_accepts_only_http_urls_with_a_host(url: str) -> None:
    """Other schemes, host-less URLs, impossible host names and ports are invalid."""
    with pytest.raises(InvalidUrlError):
        check_url(url)


def test_check_url_passes_names_and_public_literals() -> None:
    """Names are left to the transport's lookup; public literals pass."""
    assert check_url("https://t.co/abc").host == "t.co"
    assert check_url("http://8.8.8.8/").host == "8.8.8.8"


async def test_guard_refuses_all_private_answers() -> None:
    """A name whose answers are all private is blocked."""
    guard = AddressGuard(StaticDnsResolver({"evil.test": ["10.0.0.1", "192.168.0.1"]}))
    with pytest.raises(BlockedAddressError) as caught:
        await guard.addresses("evil.test", 80)
    assert caught.value.address == "10.0.0.1"


async def test_guard_refuses_mixed_answers_as_a_whole() -> None:
    """One private answer among public ones blocks the whole name."""
    guard = AddressGuard(StaticDnsResolver({"mixed.test": ["93.184.216.34", "127.0.0.1"]}))
    with pytest.raises(BlockedAddressError):
        await guard.addresses("mixed.test", 443)


async def test_guard_returns_checked_public_answers_in_order() -> None:
    """Public answers come back as given, IPv6 scope ids dropped."""
    dns = StaticDnsResolver({"ok.test": ["93.184.216.34", "2606:4700:4700::1111"]})
    assert await AddressGuard(dns).addresses("ok.test", 80) == [
        "93.184.216.34",
        "2606:4700:4700::1111",
    ]


async def test_guard_literal_needs_no_dns_and_exceptions_apply() -> None:
    """Literals skip DNS; allow_private and allowed_networks widen the policy."""
    dns = StaticDnsResolver({})
    with pytest.raises(BlockedAddressError):
        await AddressGuard(dns).addresses("127.1", 80)
    assert await AddressGuard(dns, allow_private=True).addresses("127.1", 80) == ["127.0.0.1"]
    narrow = AddressGuard(dns, allowed_networks=["127.0.0.7/32"])
    assert await narrow.addresses("127.0.0.7", 80) == ["127.0.0.7"]
    with pytest.raises(BlockedAddressError):
        await narrow.addresses("127.0.0.8", 80)
    assert dns.lookups == []


async def test_guard_reports_unknown_names_and_bad_answers() -> None:
    """No answer, an empty answer or a garbled one is a DNS error."""
    dns = StaticDnsResolver({"empty.test": [], "garbled.test": ["not-an-ip"]})
    for host in ("missing.test", "empty.test", "garbled.test"):
        with pytest.raises(DnsLookupError):
            await AddressGuard(dns).addresses(host, 80)


async def test_system_resolver_caches_and_classifies_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """getaddrinfo answers are cached; EAI_AGAIN is temporary, NXDOMAIN is not."""
    calls: list[str] = []

    async def fake_getaddrinfo(host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
        calls.append(host)
        if host == "again.test":
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure")
        if host == "none.test":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))] * 2

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", fake_getaddrinfo)
    resolver = SystemDnsResolver()
    assert await resolver.resolve("ok.test", 80) == ["93.184.216.34"]
    assert await resolver.resolve("OK.test", 80) == ["93.184.216.34"]
    assert calls == ["ok.test"]
    with pytest.raises(DnsLookupError) as again:
        await resolver.resolve("again.test", 80)
    assert again.value.temporary
    with pytest.raises(DnsLookupError) as missing:
        await resolver.resolve("none.test", 80)
    assert not missing.value.temporary
