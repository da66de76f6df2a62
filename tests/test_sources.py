"""Sources: URL lists, normalisation and deduplication, feeds, sitemaps, sniffing."""

from __future__ import annotations

import gzip
from pathlib import Path

import feedparser
import pytest

from scraper.config import SourcesConfig
from scraper.errors import SourceError
from scraper.sources import (
    collect_sources,
    dedupe_urls,
    expand_feed_document,
    lastmod_bound,
    looks_like_url_list,
    maybe_gunzip,
    normalize_url,
    parse_feed,
    parse_sitemap,
    parse_url_list,
    sniff_document,
    unchanged_since,
)

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def test_url_list_skips_comments_and_blank_lines() -> None:
    """A URL list yields its URLs in order; `#` lines and blank lines are ignored."""
    urls, bad = parse_url_list((FIXTURES / "urls.txt").read_text())
    assert urls == [
        "https://news.example.com/a/1?utm_source=x&id=7#top",
        "https://NEWS.example.com:443/a/1?id=7",
        "https://news.example.com/a/2",
    ]
    assert bad == []


def test_url_list_reports_lines_that_are_not_urls() -> None:
    """Lines that are not http(s) URLs come back as bad lines, not as URLs."""
    urls, bad = parse_url_list("https://a.example/1\nftp://x/y\nnot a url\n")
    assert urls == ["https://a.example/1"]
    assert bad == ["ftp://x/y", "not a url"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://News.Example.com/a#top", "https://news.example.com/a"),
        ("https://x.example/a?utm_source=t&utm_medium=s&id=3", "https://x.example/a?id=3"),
        ("https://x.example/a?fbclid=abc&gclid=d", "https://x.example/a"),
        ("HTTP://x.example:80", "http://x.example/"),
        ("https://x.example:8443/a", "https://x.example:8443/a"),
        ("http://[::1]:8080/p?q=1", "http://[::1]:8080/p?q=1"),
        ("https://x.example/a?page=2&ref=home", "https://x.example/a?page=2&ref=home"),
    ],
)
def test_normalize_url_drops_fragment_and_tracking(raw: str, expected: str) -> None:
    """Normalisation drops fragments and tracking parameters, lowercases scheme and host."""
    assert normalize_url(raw) == expected


@pytest.mark.parametrize(
    "raw", ["ftp://x.example/a", "mailto:a@b.c", "https:///nohost", "http://x:99999/", ""]
)
def test_normalize_url_rejects_non_http(raw: str) -> None:
    """Anything but an absolute http(s) URL with a valid host and port is rejected."""
    assert normalize_url(raw) is None


def test_dedupe_urls_after_normalisation_keeps_first_order() -> None:
    """The same article under tracking parameters, case or query order is kept once."""
    urls, invalid = dedupe_urls(
        [
            "https://x.example/b",
            "https://x.example/a?b=2&a=1&utm_campaign=z",
            "https://X.example/a?a=1&b=2#c",
            "https://x.example/b?utm_source=feed",
            "javascript:alert(1)",
        ]
    )
    assert urls == ["https://x.example/b", "https://x.example/a?b=2&a=1"]
    assert invalid == ["javascript:alert(1)"]


def test_rss_feed_links_are_absolute(monkeypatch: pytest.MonkeyPatch) -> None:
    """RSS items give their links (relative ones resolved, guid as fallback); no fetching."""

    def no_network(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("feedparser must not fetch anything")

    monkeypatch.setattr(feedparser.http, "get", no_network)
    links = parse_feed((FIXTURES / "rss.xml").read_bytes(), "https://news.example.com/feed.xml")
    assert links == [
        "https://news.example.com/a/1?utm_source=rss",
        "https://news.example.com/a/2",
        "https://news.example.com/a/3",
    ]


def test_feed_bytes_that_look_like_a_url_are_not_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Feed bytes holding a URL are data, never a location for feedparser to open."""

    def no_network(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("feedparser must not fetch anything")

    monkeypatch.setattr(feedparser.http, "get", no_network)
    assert parse_feed(b"http://127.0.0.1:9/feed.xml") == []


def test_atom_feed_prefers_alternate_links() -> None:
    """Atom entries give their alternate link, relative hrefs resolved against the feed URL."""
    links = parse_feed(
        (FIXTURES / "atom.xml").read_bytes(), "https://news.example.com/feeds/atom.xml"
    )
    assert links == ["https://news.example.com/a/1", "https://news.example.com/feeds/a/2"]


def test_news_sitemap_locs() -> None:
    """A Google News sitemap yields its `<loc>` URLs, whitespace trimmed."""
    entries = parse_sitemap((FIXTURES / "news-sitemap.xml").read_bytes())
    assert entries.kind == "sitemap"
    assert entries.urls == ["https://news.example.com/a/1", "https://news.example.com/a/2"]


def test_sitemap_index_lists_child_sitemaps() -> None:
    """A sitemap index yields child sitemaps, not article URLs."""
    entries = parse_sitemap((FIXTURES / "sitemap-index.xml").read_bytes())
    assert entries.kind == "sitemapindex"
    assert entries.urls == []
    assert entries.sitemaps == [
        "https://news.example.com/sitemaps/1.xml",
        "https://news.example.com/sitemaps/2.xml.gz",
    ]


def test_gzipped_sitemap_is_decompressed() -> None:
    """A gzip'd sitemap (`.xml.gz` served raw) is read like a plain one."""
    data = gzip.compress((FIXTURES / "news-sitemap.xml").read_bytes())
    entries = expand_feed_document(data, None, "application/gzip")
    assert entries.kind == "sitemap"
    assert len(entries.urls) == 2


def test_gzip_bomb_is_cut_off() -> None:
    """Decompression stops at the limit, so a gzip bomb stays small."""
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(maybe_gunzip(bomb, limit=1000)) == 1000


def test_sitemap_external_entities_are_not_resolved() -> None:
    """An XXE entity in a sitemap is never expanded (no file or network read)."""
    entries = parse_sitemap((FIXTURES / "xxe-sitemap.xml").read_bytes())
    assert all("root:" not in url for url in entries.urls)


def test_not_a_sitemap_is_an_error() -> None:
    """An XML document that is not a sitemap raises ValueError naming its root."""
    with pytest.raises(ValueError, match="root element <html>"):
        parse_sitemap(b"<html><body>x</body></html>")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("rss.xml", "feed"),
        ("atom.xml", "feed"),
        ("news-sitemap.xml", "sitemap"),
        ("sitemap-index.xml", "sitemapindex"),
    ],
)
def test_sniff_by_root_element(name: str, kind: str) -> None:
    """Feeds and sitemaps are told apart by their root element, whatever the content type."""
    assert sniff_document((FIXTURES / name).read_bytes(), "text/html") == kind


@pytest.mark.parametrize(
    "data", [b"<!DOCTYPE html><html><body>hi</body></html>", b"plain text", b"\0\xff\xfe", b""]
)
def test_sniff_documents(data: bytes) -> None:
    """HTML, text, binary and empty bytes are documents, never feeds."""
    assert sniff_document(data) == "document"


def test_url_list_sniffing() -> None:
    """Text whose every non-comment line is a URL is a list; anything else is a document."""
    assert looks_like_url_list(b"# list\nhttps://a.example/1\n\nhttp://b.example/\n")
    assert not looks_like_url_list(b"https://a.example/1\nSome prose here.\n")
    assert not looks_like_url_list(b"# only comments\n")
    assert not looks_like_url_list(b"\xff\xfe\x00binary")


def test_named_files_are_sniffed(tmp_path: Path) -> None:
    """With sniffing, a named URL list and a named feed file are routed as such."""
    article = tmp_path / "a.html"
    article.write_text("<p>hi https://x.example/</p>")
    listing = tmp_path / "list.txt"
    listing.write_text("https://x.example/1\n")
    found = collect_sources(
        [str(article), str(listing), str(FIXTURES / "rss.xml")],
        SourcesConfig(),
        sniff_lists=True,
    )
    assert found.files == [article]
    assert found.url_files == [listing]
    assert found.feeds == [str(FIXTURES / "rss.xml")]
    plain = collect_sources([str(listing)], SourcesConfig())
    assert plain.files == [listing]


def test_config_sources_and_missing_url_file(tmp_path: Path) -> None:
    """Config URLs, lists and feeds are collected; a missing list file is a SourceError."""
    listing = tmp_path / "list.txt"
    listing.write_text("https://x.example/1\n")
    config = SourcesConfig(
        paths=[], urls=["https://x.example/2"], url_files=[str(listing)], feeds=["https://f/"]
    )
    found = collect_sources([], config)
    assert (found.urls, found.url_files, found.feeds) == (
        ["https://x.example/2"],
        [listing],
        ["https://f/"],
    )
    assert found.total == 3
    missing = SourcesConfig(paths=[], url_files=[str(tmp_path / "nope.txt")])
    with pytest.raises(SourceError, match="url_files"):
        collect_sources([], missing)


def test_sitemap_lastmod_is_kept_per_url() -> None:
    """Each <url>'s <lastmod> is kept by its (absolute) URL; undated URLs have none."""
    data = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>/a.html</loc><lastmod> 2024-05-01T10:00:00Z </lastmod></url>"
        b"<url><loc>/b.html</loc></url></urlset>"
    )
    entries = parse_sitemap(data, "https://news.example/sitemap.xml")
    assert entries.urls == ["https://news.example/a.html", "https://news.example/b.html"]
    assert entries.modified == {"https://news.example/a.html": "2024-05-01T10:00:00Z"}


@pytest.mark.parametrize(
    ("text", "bound"),
    [
        ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00+00:00"),
        ("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00+00:00"),
        ("2024-05-01T10:00+00:00", "2024-05-01T10:00:00+00:00"),
        ("2024-05-01T10:00:00", "2024-05-02T00:00:00+00:00"),  # no zone: +14 h
        ("2024-05-01", "2024-05-02T14:00:00+00:00"),  # a day, in any zone
        ("2024-05", None),  # too coarse to trust
        ("2024", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_lastmod_bound_is_the_latest_moment_meant(text: str, bound: str | None) -> None:
    """A W3C datetime's latest possible moment, conservatively; None when unusable."""
    found = lastmod_bound(text)
    assert (found.isoformat() if found else None) == bound


def test_unchanged_since_needs_a_copy_fetched_after_the_lastmod() -> None:
    """Only a copy fetched after everything the lastmod could mean is fresh enough."""
    assert unchanged_since("2024-05-01T10:00:00Z", "2024-05-01T10:00:01+00:00")
    assert not unchanged_since("2024-05-01T10:00:00Z", "2024-05-01T10:00:00+00:00")
    assert not unchanged_since("2024-05-01", "2024-05-02T12:00:00+00:00")  # same day somewhere
    assert unchanged_since("2024-05-01", "2024-05-03T00:00:00+00:00")
    assert not unchanged_since("2024-05", "2030-01-01T00:00:00+00:00")
    assert not unchanged_since("2024-05-01", "not a time")
