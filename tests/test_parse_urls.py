"""Status-URL recognition, snowflake dates, safe absolute URLs and hosts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.parse.urls import (
    FIRST_SNOWFLAKE_ID,
    StatusRef,
    absolutize_url,
    parse_status_url,
    posted_at_iso,
    snowflake_to_datetime,
    url_host,
)

ID = "1159518138349498368"
CANONICAL = f"https://twitter.com/girlsreallyrule/status/{ID}"
WEB = f"https://twitter.com/i/web/status/{ID}"


@pytest.mark.parametrize(
    ("url", "handle", "expected_url"),
    [
        (CANONICAL, "girlsreallyrule", CANONICAL),
        (f"http://twitter.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://www.twitter.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://mobile.twitter.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://m.twitter.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://x.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://www.x.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://mobile.x.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://fxtwitter.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://vxtwitter.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://fixupx.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://fixvx.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://twittpr.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://nitter.net/girlsreallyrule/status/{ID}#m", "girlsreallyrule", CANONICAL),
        (f"https://nitter.poast.org/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://xcancel.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://twitter.com/girlsreallyrule/statuses/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://twitter.com/#!/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"https://twitter.com/girlsreallyrule/status/{ID}/photo/1", "girlsreallyrule", CANONICAL),
        (f"https://twitter.com/girlsreallyrule/status/{ID}/video/2", "girlsreallyrule", CANONICAL),
        (
            f"https://twitter.com/girlsreallyrule/status/{ID}/analytics",
            "girlsreallyrule",
            CANONICAL,
        ),
        (f"https://twitter.com/girlsreallyrule/status/{ID}/", "girlsreallyrule", CANONICAL),
        (
            f"https://twitter.com/girlsreallyrule/status/{ID}?s=20&t=abc",
            "girlsreallyrule",
            CANONICAL,
        ),
        (
            f"https://twitter.com/girlsreallyrule/status/{ID}?ref_src=twsrc%5Etfw",
            "girlsreallyrule",
            CANONICAL,
        ),
        (f"twitter.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"//twitter.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (f"  HTTPS://TWITTER.COM/girlsreallyrule/status/{ID}  ", "girlsreallyrule", CANONICAL),
        (f"https://de.twitter.com/girlsreallyrule/status/{ID}", "girlsreallyrule", CANONICAL),
        (
            f"https://web.archive.org/web/20190808000000/https://twitter.com/girlsreallyrule/status/{ID}",
            "girlsreallyrule",
            CANONICAL,
        ),
        (
            f"http://web.archive.org/web/20190808000000id_/http://x.com/girlsreallyrule/status/{ID}",
            "girlsreallyrule",
            CANONICAL,
        ),
        (f"https://twitter.com/i/web/status/{ID}", None, WEB),
        (f"https://twitter.com/i/status/{ID}", None, WEB),
        (f"https://twitter.com/statuses/{ID}", None, WEB),
        (f"https://x.com/i/web/status/{ID}?s=46", None, WEB),
    ],
)
def test_parse_status_url_forms(url: str, handle: str | None, expected_url: str) -> None:
    """Every known status-URL form normalises to one URL with the same id."""
    assert parse_status_url(url) == StatusRef("twitter", handle, ID, expected_url)


def test_parse_status_url_keeps_handle_case() -> None:
    """The handle keeps the case it was written in."""
    ref = parse_status_url("https://x.com/JuanSaaa/status/1159518138349498368")
    assert ref is not None
    assert ref.handle == "JuanSaaa"
    assert ref.url == "https://twitter.com/JuanSaaa/status/1159518138349498368"


@pytest.mark.parametrize(
    "url",
    [
        "https://twitter.com/girlsreallyrule",
        "https://twitter.com/girlsreallyrule/with_replies",
        "https://twitter.com/i/moments/1159518138349498368",
        "https://twitter.com/i/lists/1159518138349498368",
        "https://twitter.com/hashtag/ICEraids",
        "https://twitter.com/hashtag/status/1159518138349498368",
        "https://twitter.com/search?q=status/1159518138349498368",
        "https://twitter.com/search/status/1159518138349498368",
        "https://twitter.com/intent/tweet?in_reply_to=1159518138349498368",
        "https://twitter.com/intent/status/1159518138349498368",
        "https://twitter.com/home?status=https://example.com/a/status/1159518138349498368",
        "https://web.archive.org/web/2019/https://example.com/a/status/1159518138349498368",
        "https://twitter.com/girlsreallyrule/status/12ab",
        "https://twitter.com/girlsreallyrule/status/",
        "https://twitter.com/girlsreallyrule/status/0",
        "https://twitter.com/girlsreallyrule/status/123/likes/extra",
        "https://nottwitter.com/girlsreallyrule/status/1159518138349498368",
        "https://example.com/twitter.com/girlsreallyrule/status/1159518138349498368",
        "https://t.co/hM7EG8A5YS",
        "ftp://twitter.com/girlsreallyrule/status/1159518138349498368",
        "",
    ],
)
def test_parse_status_url_rejects_non_status(url: str) -> None:
    """Profiles, moments, hashtags, search, intents, other hosts and bad ids are not posts."""
    assert parse_status_url(url) is None


def test_snowflake_to_datetime_real_id() -> None:
    """A real tweet id gives the moment it was posted (2019-08-08 UTC)."""
    moment = snowflake_to_datetime("1159518138349498368")
    assert moment == datetime(2019, 8, 8, 17, 34, 1, 644000, tzinfo=UTC)
    assert snowflake_to_datetime(1159518138349498368) == moment
    assert posted_at_iso("1159518138349498368") == "2019-08-08T17:34:01.644+00:00"


def test_snowflake_to_datetime_cut_off() -> None:
    """Ids before the snowflake era, junk and over-63-bit values give None."""
    assert snowflake_to_datetime(FIRST_SNOWFLAKE_ID) is not None
    assert snowflake_to_datetime(FIRST_SNOWFLAKE_ID - 1) is None
    assert snowflake_to_datetime("20") is None
    for junk in ("", "abc", "12.5", "-5", "１２３４５６７８９０１２３", str(2**63)):
        assert snowflake_to_datetime(junk) is None
    assert posted_at_iso(None) is None


def test_snowflake_to_datetime_future_only_rejected_with_now() -> None:
    """A future id is kept by default, rejected beyond now + 1 day when ``now`` is given."""
    future_id = ((2_000_000_000_000 - 1288834974657) << 22) + 1  # a moment in 2033
    assert snowflake_to_datetime(future_id) is not None
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert snowflake_to_datetime(future_id, now=now) is None
    assert snowflake_to_datetime("1159518138349498368", now=now) is not None


@pytest.mark.parametrize(
    ("href", "base", "expected"),
    [
        ("/a/b?c=d", "https://news.example.com/x/y", "https://news.example.com/a/b?c=d"),
        ("../z", "https://news.example.com/x/y/", "https://news.example.com/x/z"),
        ("//cdn.example.com/p", "http://news.example.com/", "http://cdn.example.com/p"),
        ("//cdn.example.com/p", None, "https://cdn.example.com/p"),
        ("https://t.co/hM7EG8A5YS", None, "https://t.co/hM7EG8A5YS"),
        ("  https://t.co/\nhM7EG8A5YS \t", None, "https://t.co/hM7EG8A5YS"),
        ("https://example.com/a b/ü?q=ä", None, "https://example.com/a%20b/%C3%BC?q=%C3%A4"),
        ("https://bücher.example/x", None, "https://xn--bcher-kva.example/x"),
        ("HTTP://Example.COM/Path", None, "http://example.com/Path"),
        ("page.html", None, None),
        ("page.html", "file:///tmp/article.html", None),
        ("javascript:alert(1)", "https://example.com/", None),
        ("java\nscript:alert(1)", "https://example.com/", None),
        (" JavaScript:void(0)", "https://example.com/", None),
        ("mailto:news@example.com", "https://example.com/", None),
        ("data:text/html,hi", "https://example.com/", None),
        ("tel:+123", "https://example.com/", None),
        ("about:blank", "https://example.com/", None),
        ("ftp://example.com/file", "https://example.com/", None),
        ("#comments", "https://example.com/", None),
        ("", "https://example.com/", None),
        ("   \n ", "https://example.com/", None),
        ("http://[::1", None, None),
        ("https://example.com:99999/", None, None),
        ("http:///nohost", None, None),
        ("https://exa mple.com/", None, None),
    ],
)
def test_absolutize_url(href: str, base: str | None, expected: str | None) -> None:
    """Hrefs resolve against the base, are percent-encoded, and unsafe ones are dropped."""
    assert absolutize_url(href, base) == expected


@settings(max_examples=300, deadline=None)
@given(
    href=st.text(max_size=80)
    | st.builds(
        lambda a, b: a + b,
        st.sampled_from(["http://", "https://", "//", "/", "#"]),
        st.text(max_size=60),
    ),
    base=st.none() | st.sampled_from(["https://example.com/a/b", "http://[::1]/", "nonsense", ""]),
)
def test_absolutize_url_never_raises(href: str, base: str | None) -> None:
    """Hostile hrefs never raise; any result is an http(s) URL without whitespace."""
    result = absolutize_url(href, base)
    if result is not None:
        assert result.lower().startswith(("http://", "https://"))
        assert not any(c.isspace() for c in result)
        assert result.isascii()


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://T.CO/abc", "t.co"),
        ("twitter.com/jack/status/20", "twitter.com"),
        ("https://user:pw@News.Example.com:8080/x", "news.example.com"),
        ("http://[::1]:80/", "::1"),
        ("http://[::1", None),
        ("", None),
    ],
)
def test_url_host(url: str, host: str | None) -> None:
    """The host comes back lower-cased, None when there is none."""
    assert url_host(url) == host


_SAFE_TAIL = st.text(alphabet="abcXYZ019-._~!$&()*+,;=:@/%'", min_size=0, max_size=30)


@settings(max_examples=300, deadline=None)
@given(
    host=st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z0-9]{1,6}){0,3}", fullmatch=True),
    path=_SAFE_TAIL,
    query=st.text(alphabet="abc019-._~!$&()*+,;=:@/?%", max_size=20),
    fragment=st.text(alphabet="abc019-._~!$&()*+,;=:@/?%", max_size=10),
)
def test_already_safe_urls_skip_w3lib_with_the_same_result(
    host: str, path: str, query: str, fragment: str
) -> None:
    """Links kept as they are (the fast path) are exactly what w3lib's quoting gives."""
    from w3lib.url import safe_url_string

    url = f"https://{host}/{path}"
    url += (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")
    assert absolutize_url(url, None) == safe_url_string(url)
