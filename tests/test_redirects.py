"""Reading where a response points: Location joining, Refresh, meta refresh, scripts, wrappers."""

from __future__ import annotations

import httpx
import pytest

from scraper.net.guard import InvalidUrlError
from scraper.net.redirects import (
    decode_header,
    find_html_redirect,
    join_location,
    parse_refresh,
    unwrap_wrapper,
)

BASE = httpx.URL("https://short.example/dir/page?x=1")


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/abs", "https://short.example/abs"),
        ("rel", "https://short.example/dir/rel"),
        ("../up", "https://short.example/up"),
        ("?q=2", "https://short.example/dir/page?q=2"),
        ("//other.example/p", "https://other.example/p"),
        ("http://Other.Example:8080/P a", "http://other.example:8080/P%20a"),
        ("https://b\u00fccher.de/x", "https://xn--bcher-kva.de/x"),
        (" /trim\n", "https://short.example/trim"),
        ("/a\tb", "https://short.example/ab"),
    ],
)
def test_join_location_like_a_browser(location: str, expected: str) -> None:
    """Relative, scheme-relative, spaced, IDN and whitespaced targets resolve as browsers do."""
    assert str(join_location(BASE, location)) == expected


def test_raw_header_bytes_are_read_utf8_then_latin1() -> None:
    """UTF-8 bytes are UTF-8; other bytes are Latin-1 and escaped byte for byte."""
    text, encoding = decode_header("/caf\u00e9".encode())
    assert (text, encoding) == ("/caf\u00e9", "utf-8")
    assert str(join_location(BASE, text, encoding)) == "https://short.example/caf%C3%A9"
    text, encoding = decode_header(b"/caf\xe9")
    assert (text, encoding) == ("/caf\u00e9", "latin-1")
    assert str(join_location(BASE, text, encoding)) == "https://short.example/caf%E9"


@pytest.mark.parametrize("location", ["", "   ", "http://a/\x00", "http://a:port/"])
def test_unusable_location_is_invalid(location: str) -> None:
    """Empty or malformed targets raise InvalidUrlError (the caller keeps the hop)."""
    with pytest.raises(InvalidUrlError):
        join_location(BASE, location)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0;URL=https://a.example/", "https://a.example/"),
        ("0; url='https://a.example/q'", "https://a.example/q"),
        ('1, URL="/x"', "/x"),
        ("0;https://a.example/", "https://a.example/"),
        ("  3 ; Url = /spaced  ", "/spaced"),
        ("5", None),
        ("600; url=/later", None),
        ("", None),
    ],
)
def test_parse_refresh(value: str, expected: str | None) -> None:
    """Refresh values in any case and quoting; long delays and bare reloads are not redirects."""
    assert parse_refresh(value) == expected


def test_meta_refresh_any_case_and_inside_noscript() -> None:
    """``<META HTTP-EQUIV=Refresh>`` inside noscript, attributes in any order, entities decoded."""
    page = (
        "<html><head><noscript><META CONTENT='0;URL=https://a.example/?a=1&amp;b=2' "
        "HTTP-EQUIV=Refresh></noscript></head></html>"
    )
    assert find_html_redirect(page, allow_js=False) == (
        "meta-refresh",
        "https://a.example/?a=1&b=2",
    )


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ('<meta http-equiv="refresh" content="0;url=/a?q=a>b">', "/a?q=a>b"),
        ("<meta content='0; url=/x?y=<z>' http-equiv='refresh'><p>after</p>", "/x?y=<z>"),
        ('<meta name="a>b" http-equiv="refresh" content="0;url=/after">', "/after"),
    ],
)
def test_meta_refresh_attribute_values_may_hold_angle_brackets(page: str, expected: str) -> None:
    """A ``>`` inside a quoted attribute value is part of the value, not the tag's end."""
    assert find_html_redirect(page, allow_js=False) == ("meta-refresh", expected)


def test_commented_meta_refresh_is_ignored() -> None:
    """A meta refresh inside an HTML comment does nothing."""
    page = '<!-- <meta http-equiv="refresh" content="0;url=/x"> --><p>hi</p>'
    assert find_html_redirect(page, allow_js=True) is None


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ('location.replace("https:\\/\\/a.example\\/p")', "https://a.example/p"),
        ("window.location = 'https://a.example/w'", "https://a.example/w"),
        ('location.href = "/rel"', "/rel"),
        ("document.location.href='https://a.example/\\u0041'", "https://a.example/A"),
        ('window.location.assign("https://a.example/as")', "https://a.example/as"),
    ],
)
def test_script_redirects(script: str, expected: str) -> None:
    """The script forms redirect pages use, with JS escapes decoded."""
    page = f"<html><body><script>{script}</script></body></html>"
    assert find_html_redirect(page, allow_js=True) == ("js", expected)
    assert find_html_redirect(page, allow_js=False) is None


def test_script_comparisons_are_not_redirects() -> None:
    """``location.href == "..."`` and other location fields are not assignments."""
    page = '<script>if (location.href == "/a") {}; location.search = "?x"</script>'
    assert find_html_redirect(page, allow_js=True) is None


def test_meta_refresh_wins_over_script() -> None:
    """When a page has both (t.co does), the meta refresh is the hop."""
    page = (
        '<meta http-equiv="refresh" content="0;URL=https://a.example/m">'
        '<script>location.replace("https://a.example/j")</script>'
    )
    assert find_html_redirect(page, allow_js=True) == ("meta-refresh", "https://a.example/m")


@pytest.mark.parametrize(
    ("wrapped", "target"),
    [
        (
            "https://twitter.com/safety/unsafe_link_warning?unsafe_link=https%3A%2F%2Fa.example%2Fx",
            "https://a.example/x",
        ),
        ("https://twitter.com/i/redirect?url=https%3A%2F%2Fa.example%2Fi", "https://a.example/i"),
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Fa.example%2Ff&h=AT0", "https://a.example/f"),
        ("https://lm.facebook.com/l.php?u=http%3A%2F%2Fa.example%2Fm", "http://a.example/m"),
        ("https://www.google.com/url?q=https://a.example/g&sa=D", "https://a.example/g"),
        ("https://www.google.co.uk/url?url=https://a.example/u", "https://a.example/u"),
        ("https://www.youtube.com/redirect?q=https%3A%2F%2Fa.example%2Fy", "https://a.example/y"),
        (
            "https://bitly.com/a/warning?hash=x&url=https%3A%2F%2Fa.example%2Fb",
            "https://a.example/b",
        ),
    ],
)
def test_wrappers_unwrap(wrapped: str, target: str) -> None:
    """Each known wrapper gives up its target without a request."""
    assert unwrap_wrapper(httpx.URL(wrapped)) == target


@pytest.mark.parametrize(
    "url",
    [
        "https://twitter.com/someone/status/1",
        "https://l.facebook.com/l.php?u=javascript:alert(1)",
        "https://www.google.com/search?q=https://a.example/",
        "https://example.org/url?q=https://a.example/",
    ],
)
def test_non_wrappers_are_left_alone(url: str) -> None:
    """Ordinary URLs and non-http targets are not unwrapped."""
    assert unwrap_wrapper(httpx.URL(url)) is None


def test_meta_refresh_spelled_with_character_references_is_found() -> None:
    """``http-equiv`` written with character references still names a refresh."""
    page = '<meta http-equiv="&#82;efresh" content="0; url=https://example.org/x">'
    assert find_html_redirect(page, allow_js=False) == ("meta-refresh", "https://example.org/x")


def test_page_without_refresh_or_location_has_no_redirect() -> None:
    """Text that merely mentions a URL is not a redirect, with scripts trusted or not."""
    page = "<html><body><p>Moved to https://example.org/ (see the notice)</p></body></html>"
    assert find_html_redirect(page, allow_js=True) is None
