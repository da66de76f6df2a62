"""Turn the user's SOURCE arguments (or the ``[sources]`` config) into files and URLs to read.

A SOURCE is a file, a directory (searched recursively for article files and WARCs), a
glob, a WARC archive, an http(s) URL, or ``-`` for standard input. This module also reads
what expands into more URLs: URL list files, RSS/Atom feeds and sitemaps (bytes in, URLs
out; the fetching is done by :mod:`scraper.fetch`). Nothing here touches the network or
the database.

Standard input, and a file named on the command line, are *sniffed*: when the lines that
are not blank and not a ``#`` comment are mostly http(s) URLs (at least twice as many as
the other lines) and none is markup, it is a URL list, whose other lines are warned about
one by one; otherwise it is an article document.
"""

from __future__ import annotations

import glob
import io
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from scraper.config import SourcesConfig
from scraper.errors import SourceError

ARTICLE_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".txt", ".md"})
WARC_SUFFIXES = (".warc", ".warc.gz")
STDIN = "-"
#: Query parameters that only track the reader; dropped before deduplication.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ocid",
        "cmpid",
        "s_cid",
        "smid",
        "ref_src",
        "__twitter_impression",
    }
)
TRACKING_PREFIXES = ("utm_", "at_", "pk_")
#: How deep a sitemap index may nest other indexes.
MAX_SITEMAP_DEPTH = 3
#: A decompressed sitemap larger than this is cut off (a gzip bomb stays small).
MAX_SITEMAP_BYTES = 60_000_000
_URL_LINE = re.compile(r"https?://\S+", re.IGNORECASE)
# A file named on the command line is a URL list or not by its first lines: this many bytes.
_LIST_SNIFF_BYTES = 65_536

DocumentKind = Literal["feed", "sitemap", "sitemapindex", "document"]


@dataclass
class SourceSet:
    """The expanded sources of one run: local files, article URLs, list files and feeds.

    ``urls`` are article URLs as given (a URL named on the command line may turn out to be
    a feed or a sitemap once fetched); ``feeds`` are feeds or sitemaps, URLs or local paths.
    """

    files: list[Path] = field(default_factory=list)
    warcs: list[Path] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    url_files: list[Path] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    stdin: bool = False

    @property
    def total(self) -> int:
        """How many sources were named, after expansion."""
        named = len(self.files) + len(self.warcs) + len(self.urls) + len(self.url_files)
        return named + len(self.feeds) + self.stdin


@dataclass
class FeedEntries:
    """What a feed or sitemap document expands into: article URLs and child sitemaps."""

    kind: DocumentKind
    urls: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    #: a sitemap's ``<lastmod>`` of each URL that has one (the text as written)
    modified: dict[str, str] = field(default_factory=dict)


def is_warc_path(path: Path | str) -> bool:
    """Whether a file name is a WARC's (``.warc`` or ``.warc.gz``)."""
    return str(path).lower().endswith(WARC_SUFFIXES)


def is_url(source: str) -> bool:
    """Whether a source argument is an http(s) URL."""
    lowered = source[:8].lower()
    return lowered.startswith(("http://", "https://"))


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def normalize_url(url: str) -> str | None:
    """The URL to fetch and store: fragment and tracking parameters dropped, host lowercased.

    Returns ``None`` for anything that is not an absolute http(s) URL with a host.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        host = f"{userinfo}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not _is_tracking(k)]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def url_key(url: str) -> str:
    """The deduplication key of a normalised URL: its query parameters in sorted order.

    Cheaper than w3lib's ``canonicalize_url`` (which also rewrites escapes), and enough
    for what normalisation leaves: the same page under reordered parameters.
    """
    head, mark, query = url.partition("?")
    if not mark or "&" not in query:
        return url
    return f"{head}?{'&'.join(sorted(query.split('&')))}"


def dedupe_urls(urls: Iterable[str]) -> tuple[list[str], list[str]]:
    """Normalise and deduplicate ``urls`` keeping first-seen order; also return the invalid ones."""
    seen: dict[str, str] = {}
    invalid: list[str] = []
    for raw in urls:
        normal = normalize_url(raw)
        if normal is None:
            invalid.append(raw)
            continue
        seen.setdefault(url_key(normal), normal)
    return list(seen.values()), invalid


def parse_url_list(text: str) -> tuple[list[str], list[str]]:
    """URLs of a list (one per line, ``#`` comments and blank lines ignored) and the bad lines."""
    urls: list[str] = []
    bad: list[str] = []
    for line in text.splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        (urls if _URL_LINE.fullmatch(entry) else bad).append(entry)
    return urls, bad


def looks_like_url_list(data: bytes) -> bool:
    """Whether ``data`` is a URL list: UTF-8 text of mostly URL lines and no markup.

    A list may hold a few lines that are not URLs (a typo, a missing scheme); the run
    warns about each. A text article that quotes a link has more prose than URLs.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    urls, bad = parse_url_list(text)
    if any(line.startswith("<") for line in bad):
        return False
    return bool(urls) and len(urls) >= 2 * len(bad)


def _xml_root_name(data: bytes) -> str | None:
    """The local name of the root element, read from the first few KB without a full parse."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return None
    try:
        for _event, element in etree.iterparse(
            io.BytesIO(data[:65536]),
            events=("start",),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            recover=True,
        ):
            return str(etree.QName(element).localname).lower()
    except (etree.XMLSyntaxError, ValueError):
        return None
    return None


def maybe_gunzip(data: bytes, limit: int = MAX_SITEMAP_BYTES) -> bytes:
    """``data`` decompressed when it is gzip (``.xml.gz`` sitemaps), at most ``limit`` bytes."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        return decoder.decompress(data, limit)
    except zlib.error as exc:
        raise ValueError(f"bad gzip data: {exc}") from exc


def sniff_document(data: bytes, content_type: str | None = None) -> DocumentKind:
    """Whether fetched bytes are an RSS/Atom feed, a sitemap, a sitemap index or a document."""
    data = maybe_gunzip(data[:MAX_SITEMAP_BYTES])
    root = _xml_root_name(data)
    if root in ("rss", "feed", "rdf"):
        return "feed"
    if root == "urlset":
        return "sitemap"
    if root == "sitemapindex":
        return "sitemapindex"
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if root is None and media in ("application/rss+xml", "application/atom+xml"):
        return "feed"  # a feed with junk before its root: feedparser copes
    return "document"


def parse_feed(data: bytes, base_url: str | None = None) -> list[str]:
    """The entry links of an RSS or Atom feed, made absolute against ``base_url``."""
    import feedparser  # on first use: most runs read no feed, and it is slow to import

    headers = {"content-location": base_url} if base_url else None
    # A stream, never a string: feedparser fetches strings that look like URLs.
    parsed = feedparser.parse(
        io.BytesIO(data),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    links: list[str] = []
    for entry in parsed.entries:
        href = entry.get("link")
        if not href:
            alternates = [
                link.get("href")
                for link in entry.get("links", [])
                if link.get("rel", "alternate") == "alternate" and link.get("href")
            ]
            href = alternates[0] if alternates else None
        if not href:
            guid = entry.get("id")
            href = guid if isinstance(guid, str) and is_url(guid) else None
        if href:
            links.append(urljoin(base_url, href) if base_url else href)
    return links


def parse_sitemap(data: bytes, base_url: str | None = None) -> FeedEntries:
    """The ``<loc>`` URLs of a sitemap (news sitemaps too) or the child sitemaps of an index."""
    data = maybe_gunzip(data)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, recover=True, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not a sitemap: {exc}") from exc
    if root is None:
        raise ValueError("not a sitemap: empty document")
    name = str(etree.QName(root).localname).lower()
    if name not in ("urlset", "sitemapindex"):
        raise ValueError(f"not a sitemap: root element <{name}>")
    child = "sitemap" if name == "sitemapindex" else "url"
    locs: list[str] = []
    modified: dict[str, str] = {}
    for element in root.iterchildren("{*}" + child):
        lastmod = next((m.text or "" for m in element.iterchildren("{*}lastmod")), "").strip()
        for loc in element.iterchildren("{*}loc"):
            text = (loc.text or "").strip()
            if text:
                url = urljoin(base_url, text) if base_url else text
                locs.append(url)
                if lastmod:
                    modified[url] = lastmod
    if name == "sitemapindex":
        return FeedEntries("sitemapindex", sitemaps=locs)
    return FeedEntries("sitemap", urls=locs, modified=modified)


def lastmod_bound(text: str) -> datetime | None:
    """The latest moment a sitemap ``<lastmod>`` (W3C Datetime) can mean; None if unusable.

    A date alone means some time that day in some zone: the bound is the day's end plus
    14 hours (the earliest zone's day ends then). A time without a zone gets the same 14
    hours. Years and months alone are too coarse to trust, and so is anything unreadable.
    """
    text = text.strip()
    try:
        if len(text) == 10:  # YYYY-MM-DD
            day = datetime.fromisoformat(text).replace(tzinfo=UTC)
            return day + timedelta(days=1, hours=14)
        if len(text) < 16:  # YYYY, YYYY-MM, or broken
            return None
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC) + timedelta(hours=14)
    return moment.astimezone(UTC)


def unchanged_since(lastmod: str, fetched_at: str) -> bool:
    """Whether a page last modified at ``lastmod`` (a sitemap's) predates our copy fetched
    at ``fetched_at`` (ISO 8601 UTC): then it need not be requested again."""
    bound = lastmod_bound(lastmod)
    if bound is None:
        return False
    try:
        fetched = datetime.fromisoformat(fetched_at)
    except ValueError:
        return False
    if fetched.tzinfo is None:
        fetched = fetched.replace(tzinfo=UTC)
    return bound < fetched


def expand_feed_document(
    data: bytes, base_url: str | None, content_type: str | None = None
) -> FeedEntries:
    """Article URLs and child sitemaps of a feed or sitemap; kind ``document`` if neither."""
    kind = sniff_document(data, content_type)
    if kind == "feed":
        return FeedEntries("feed", urls=parse_feed(data, base_url))
    if kind in ("sitemap", "sitemapindex"):
        return parse_sitemap(data, base_url)
    return FeedEntries("document")


def expand_path(source: str) -> list[Path]:
    """Files named by a path, directory or glob, sorted; SourceError when nothing matches.

    A directory gives its article files and its WARCs (``.warc``, ``.warc.gz``).
    """
    path = Path(source)
    if path.is_dir():
        return sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and (p.suffix.lower() in ARTICLE_SUFFIXES or is_warc_path(p))
        )
    if path.is_file():
        return [path]
    if glob.has_magic(source):
        # Path.glob cannot take absolute patterns, so the glob module it is.
        matches = sorted(Path(p) for p in glob.glob(source, recursive=True))  # noqa: PTH207
        files = [p for p in matches if p.is_file()]
        if files:
            return files
        raise SourceError(f"no files match {source!r}")
    raise SourceError(f"no such file or directory: {source}")


def _is_url_list_file(path: Path) -> bool:
    # Its head decides: reading a whole big article (or list) twice would double its cost.
    try:
        with path.open("rb") as handle:
            head = handle.read(_LIST_SNIFF_BYTES + 1)
    except OSError:
        return False  # reported when the file is read as an article
    if len(head) > _LIST_SNIFF_BYTES:
        head = head[: head.rfind(b"\n", 0, _LIST_SNIFF_BYTES) + 1]  # whole lines only
    return looks_like_url_list(head)


def _is_feed_file(path: Path) -> bool:
    if path.suffix.lower() not in (".xml", ".rss", ".atom", ".gz"):
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError:
        return False
    try:
        return sniff_document(head) != "document"
    except ValueError:
        return False


def collect_sources(
    arguments: list[str], config: SourcesConfig, *, sniff_lists: bool = False
) -> SourceSet:
    """Expand command-line SOURCE arguments, or the config's sources when there are none.

    With ``sniff_lists``, a file named explicitly on the command line (not found through a
    directory or a glob) that holds only URLs is a URL list, and a ``.xml``/``.rss``/
    ``.atom``/``.gz`` file holding a feed or sitemap is a feed.
    """
    found = SourceSet()
    if arguments:
        for source in arguments:
            if source == STDIN:
                found.stdin = True
            elif is_url(source):
                found.urls.append(source)
            elif sniff_lists and Path(source).is_file():
                path = Path(source)
                if is_warc_path(path):
                    found.files.append(path)
                elif _is_feed_file(path):
                    found.feeds.append(source)
                elif _is_url_list_file(path):
                    found.url_files.append(path)
                else:
                    found.files.append(path)
            else:
                found.files.extend(expand_path(source))
    else:
        for source in config.paths:
            found.files.extend(expand_path(source))
        found.urls.extend(config.urls)
        for name in config.url_files:
            if not Path(name).is_file():
                raise SourceError(f"sources.url_files: no such file: {name}")
            found.url_files.append(Path(name))
        found.feeds.extend(config.feeds)
    found.warcs = [path for path in dict.fromkeys(found.files) if is_warc_path(path)]
    found.files = [path for path in dict.fromkeys(found.files) if not is_warc_path(path)]
    found.urls = list(dict.fromkeys(found.urls))
    found.url_files = list(dict.fromkeys(found.url_files))
    found.feeds = list(dict.fromkeys(found.feeds))
    return found


def read_url_file(path: Path) -> tuple[list[str], list[str]]:
    """The URLs of a list file and its bad lines; SourceError when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read URL list {path}: {exc.strerror or exc}") from exc
    return parse_url_list(data.decode("utf-8-sig", errors="replace"))
