"""Where a response says to go next: Location, Refresh, meta refresh, JavaScript, wrappers.

Pure functions, no I/O: the resolver hands them a URL, a header or the first kilobytes
of a page. ``Location`` is kept as the server sent it and joined the way browsers do:
relative and scheme-relative forms, spaces, UTF-8 bytes, Latin-1 bytes (escaped as the
bytes themselves, as Chromium does) and IDN hosts (to punycode).
"""

from __future__ import annotations

import re

import httpx
from lxml import etree  # type: ignore[import-untyped,unused-ignore]
from w3lib.url import safe_url_string

from scraper.model import HopVia
from scraper.net.guard import InvalidUrlError
from scraper.shorteners import normalize_host

# A refresh later than this is a page reloading itself now and then, not a redirect.
MAX_REFRESH_DELAY = 30.0

_REFRESH_RE = re.compile(r"\s*([0-9.]*)\s*[;,]?\s*(?:url\s*=\s*)?(.*)", re.IGNORECASE | re.DOTALL)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
_JS_STRING = r"""(["'])((?:\\.|(?!\1)[^\\\n])*)\1"""
_JS_CALL_RE = re.compile(r"location\s*\.\s*(?:replace|assign)\s*\(\s*" + _JS_STRING)
_JS_ASSIGN_RE = re.compile(r"\blocation(?:\s*\.\s*href)?\s*=\s*" + _JS_STRING)
_JS_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.DOTALL)
_STRIPPED = re.compile(r"[\t\n\r]")
_ABSOLUTE = re.compile(r"https?://[!-~]+\Z", re.IGNORECASE)  # printable ASCII, no spaces

# host (without www.) -> {path: query parameters that carry the target, in order}
WRAPPERS: dict[str, dict[str, tuple[str, ...]]] = {
    "twitter.com": {"/safety/unsafe_link_warning": ("unsafe_link",), "/i/redirect": ("url",)},
    "x.com": {"/safety/unsafe_link_warning": ("unsafe_link",), "/i/redirect": ("url",)},
    "mobile.twitter.com": {"/i/redirect": ("url",)},
    "l.facebook.com": {"/l.php": ("u",)},
    "lm.facebook.com": {"/l.php": ("u",)},
    "l.messenger.com": {"/l.php": ("u",)},
    "l.instagram.com": {"/": ("u",)},
    "youtube.com": {"/redirect": ("q",)},
    "m.youtube.com": {"/redirect": ("q",)},
    "bitly.com": {"/a/warning": ("url",)},
    "bit.ly": {"/a/warning": ("url",)},
}
GOOGLE_URL_PARAMS = ("q", "url")


def decode_header(raw: bytes) -> tuple[str, str]:
    """A raw header value as text, and the codec that read it (UTF-8, else Latin-1)."""
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def join_location(base: httpx.URL, location: str, encoding: str = "utf-8") -> httpx.URL:
    """Resolve ``location`` against ``base`` as a browser would; InvalidUrlError if it cannot be.

    ``encoding`` is how ``location`` was read from the wire: Latin-1 text is escaped
    byte for byte (``é`` -> ``%E9``) rather than re-encoded as UTF-8.
    """
    text = _STRIPPED.sub("", location).strip(" \x0b\x0c")
    if not text:
        raise InvalidUrlError("empty redirect target")
    if encoding != "utf-8" and not text.isascii():
        text = safe_url_string(text, encoding=encoding, path_encoding=encoding)
    try:
        if _ABSOLUTE.match(text):
            return httpx.URL(text)  # what join() gives for an absolute URL, parsed once not twice
        return base.join(text)
    except (httpx.InvalidURL, ValueError) as exc:
        raise InvalidUrlError(f"bad redirect target {location[:200]!r}: {exc}") from exc


def parse_refresh(value: str) -> str | None:
    """The URL of a ``Refresh`` header or meta refresh ``content``, if it redirects soon."""
    match = _REFRESH_RE.match(value)
    if match is None:  # pragma: no cover - the pattern matches any string
        return None
    delay, target = match.group(1), match.group(2).strip()
    try:
        if delay and float(delay) > MAX_REFRESH_DELAY:
            return None
    except ValueError:
        return None
    if target[:1] in ("'", '"'):
        quote = target[0]
        end = target.find(quote, 1)
        target = target[1:end] if end > 0 else target[1:]
    return target.strip() or None


def find_meta_refresh(page: str) -> str | None:
    """The target of the page's first meta refresh that redirects soon, if any.

    The page goes through lxml's HTML parser, so attribute values are read as a browser
    reads them: quoted values may hold ``>`` or ``<``, character references are decoded,
    names are matched in any case, and markup inside comments or scripts is not markup.
    """
    parser = etree.HTMLParser(
        encoding="utf-8", remove_comments=True, no_network=True, default_doctype=False
    )
    try:
        root = etree.fromstring(page.encode("utf-8", errors="replace"), parser)
    except etree.Error:
        return None
    if root is None:  # nothing but whitespace or comments
        return None
    for meta in root.iter("meta"):
        if (meta.get("http-equiv") or "").strip().lower() == "refresh":
            target = parse_refresh(meta.get("content") or "")
            if target:
                return target
    return None


def _js_unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "ux" and len(code) > 1:
            return chr(int(code[1:], 16))
        return {"n": "\n", "t": "\t", "r": "\r"}.get(code, code)

    return _JS_ESCAPE_RE.sub(replace, text)


def find_html_redirect(page: str, *, allow_js: bool) -> tuple[HopVia, str] | None:
    """A meta refresh (also inside ``<noscript>``) or, with ``allow_js``, a script redirect.

    Returns ``(via, target as written)``; comments are ignored. Script redirects are
    only trusted on pages that are nothing else (the caller decides with ``allow_js``),
    since ordinary pages assign ``location`` in event handlers.
    """
    # most pages have neither: substring tests spare them the regular expressions
    # (an attribute may spell "refresh" with character references: "&#" keeps the scan)
    meta = "refresh" in page.lower() or "&#" in page
    script = allow_js and "location" in page
    if not (meta or script):
        return None
    refresh = find_meta_refresh(page) if meta else None
    if refresh:
        return "meta-refresh", refresh
    if "<!--" in page:
        page = _COMMENT_RE.sub("", page)
    if script:
        for pattern in (_JS_CALL_RE, _JS_ASSIGN_RE):
            found = pattern.search(page)
            if found and found.group(2).strip():
                return "js", _js_unescape(found.group(2)).strip()
    return None


def unwrap_wrapper(url: httpx.URL) -> str | None:
    """The target of a known link wrapper (Twitter, Facebook, Google, YouTube, Bitly), if any.

    Only an absolute http(s) target is returned; anything else is left to a request.
    """
    host = normalize_host(url.host)
    if host == "google.com" or host.startswith("google."):
        names: tuple[str, ...] = GOOGLE_URL_PARAMS if url.path == "/url" else ()
    else:
        names = WRAPPERS.get(host, {}).get(url.path, ())
    for name in names:
        target = str(url.params.get(name) or "")
        if target and target.split(":", 1)[0].lower() in ("http", "https"):
            return target.strip()
    return None
