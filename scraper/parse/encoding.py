r"""Decoding: bytes to text the way browsers choose an encoding, and escaped markup back.

:func:`decode_html` tries, in order, a byte-order mark, the HTTP ``charset``, a
``<meta>`` declaration in the first few KB, detection with charset-normalizer, and
UTF-8. As in the WHATWG encoding standard, a declared ``iso-8859-1``/``latin-1``/
``ascii`` is read as ``cp1252`` and legacy labels as their supersets (``shift_jis`` as
``cp932``, ``gb2312`` as ``gb18030``). Bad bytes never raise: they become U+FFFD.

:func:`unescape_fragments` recovers the markup that JavaScript sites keep escaped in
scripts, JSON page state and attributes (``\u003cblockquote class=\"twitter-tweet\"``,
``&lt;blockquote class=&quot;twitter-tweet&quot;``).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import re

from bs4.dammit import EncodingDetector
from charset_normalizer import from_bytes

__all__ = [
    "charset_from_content_type",
    "choose_encoding",
    "decode_base64_markup",
    "decode_html",
    "is_valid_utf8",
    "normalize_encoding",
    "unescape_fragments",
    "utf8_markup",
]

#: How far into the page a ``<meta>`` charset declaration is looked for.
META_SCAN_BYTES = 4096
#: Detection reads at most this much: enough to decide, and bounded on huge pages.
DETECT_BYTES = 200_000
# How much more "chaos" (charset-normalizer's measure of odd characters) cp1252 may show
# than the best guess and still be preferred.
_NEAR_TIE_CHAOS = 0.05
_CONTENT_TYPE_CHARSET_RE = re.compile(
    r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]{1,40})""", re.IGNORECASE
)
# What browsers decode when a page declares these (WHATWG "Encoding", section 4.2).
_WHATWG_SUPERSETS = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "shift_jis": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
}
_EXTRA_LABELS = {"x-sjis": "cp932", "unicode": "utf-16-le", "x-gbk": "gb18030"}
# Codecs Python knows that no page may use: not text encodings, or unsafe (UTF-7).
_REFUSED = {"utf-7", "idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined"}


def normalize_encoding(label: str | None) -> str | None:
    """The Python codec a browser would use for an encoding label, or ``None`` if unknown."""
    if not label:
        return None
    cleaned = label.strip().strip("\"'").lower()
    cleaned = _EXTRA_LABELS.get(cleaned, cleaned)
    try:
        name = codecs.lookup(cleaned).name
        b"a".decode(name, errors="replace")  # refuses bytes-to-bytes codecs like base64
    except (LookupError, ValueError, UnicodeError):
        return None
    if name in _REFUSED:
        return None
    return _WHATWG_SUPERSETS.get(name, name)


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a ``Content-Type`` value, as written, or ``None``."""
    if not content_type:
        return None
    match = _CONTENT_TYPE_CHARSET_RE.search(content_type)
    return match.group(1) if match else None


#: Pages are checked for UTF-8 this many bytes at a time.
_CHUNK_BYTES = 1 << 20


def _meta_encoding(data: bytes) -> str | None:
    # BeautifulSoup's sniffer reads both <meta charset="x"> and the http-equiv form.
    label = EncodingDetector.find_declared_encoding(data[:META_SCAN_BYTES], is_html=True)
    if label is None:
        return None
    name = normalize_encoding(label)
    # We could read the declaration as ASCII, so the page is not UTF-16/32 whatever it
    # says: the WHATWG prescan turns such a declaration into UTF-8.
    if name is not None and name.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return name


def _is_mostly_utf8(data: bytes, valid: bool | None = None) -> bool:
    """True when ``data`` is UTF-8, allowing a few broken sequences among many good ones.

    Text in a single-byte encoding almost never forms valid multi-byte UTF-8 sequences,
    while a UTF-8 page with one truncated character (a cut excerpt) is still UTF-8.
    Read in chunks, so a big page is never held twice as text.
    """
    if valid or (valid is None and is_valid_utf8(data)):  # the common case, at codec speed
        return True
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    errors = good = 0
    view = memoryview(data)
    for start in range(0, len(data), _CHUNK_BYTES):
        last = start + _CHUNK_BYTES >= len(data)
        text = decoder.decode(view[start : start + _CHUNK_BYTES], final=last)
        broken = text.count("\ufffd")
        errors += broken
        good += len(text) - len(text.encode("ascii", errors="ignore")) - broken
    errors -= data.count("\ufffd".encode())
    good += data.count("\ufffd".encode())
    if errors <= 0:
        return True
    return good >= 4 * errors


def is_valid_utf8(data: bytes) -> bool:
    """Whether ``data`` decodes as UTF-8 without a single error (read in chunks)."""
    if data.isascii():
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), _CHUNK_BYTES):
            decoder.decode(
                view[start : start + _CHUNK_BYTES], final=start + _CHUNK_BYTES >= len(data)
            )
    except UnicodeDecodeError:
        return False
    return True


def _detect(data: bytes) -> str | None:
    """charset-normalizer's best guess for ``data``, as a Python codec name.

    On short pages several single-byte encodings read almost equally well; cp1252, by
    far the most common legacy encoding on the web, wins such near ties.
    """
    matches = from_bytes(data[:DETECT_BYTES])
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best.chaos + _NEAR_TIE_CHAOS:
            return "cp1252"
    return normalize_encoding(best.encoding)


def _trust_declared(data: bytes, declared: str, valid: bool | None) -> str:
    """The declared encoding, unless the bytes plainly say otherwise.

    Servers and templates often declare latin-1 for pages that are really UTF-8; bytes
    that are (mostly) valid multi-byte UTF-8 are almost never another encoding by
    accident, so they win. A page declared UTF-8 that is not UTF-8 goes to detection.
    """
    if declared == "utf-8":
        return "utf-8" if _is_mostly_utf8(data, valid) else _detect(data) or "utf-8"
    if declared.startswith(("utf-16", "utf-32")):
        return declared
    if not data.isascii() and _is_mostly_utf8(data, valid):
        return "utf-8"
    return declared


def choose_encoding(
    data: bytes, http_charset: str | None = None, valid_utf8: bool | None = None
) -> tuple[str, bytes]:
    """The encoding :func:`decode_html` reads ``data`` with, and the bytes it decodes
    (without a byte order mark). Never raises. ``valid_utf8``: whether ``data`` is known
    to be valid UTF-8 (``None``: not checked yet)."""
    stripped, bom_encoding = EncodingDetector.strip_byte_order_mark(data)
    if bom_encoding:
        return normalize_encoding(bom_encoding) or "utf-8", stripped
    declared = normalize_encoding(http_charset) or _meta_encoding(data)
    if declared is not None:
        name = _trust_declared(data, declared, valid_utf8)
    elif _is_mostly_utf8(data, valid_utf8):
        name = "utf-8"
    else:
        name = _detect(data) or "utf-8"
    return name, data


def decode_html(data: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """Decode an HTML (or plain-text) page; returns ``(text, encoding name)``. Never raises.

    ``http_charset`` is the ``charset`` of the HTTP ``Content-Type`` (see
    :func:`charset_from_content_type`); unknown labels are ignored. The name returned is
    Python's codec name (``utf-8``, ``cp1252``, ``cp932``, ``utf-16-le``...).
    """
    name, body = choose_encoding(data, http_charset)
    return body.decode(name, errors="replace"), name


def utf8_markup(data: bytes, http_charset: str | None = None) -> tuple[bytes, str]:
    """An HTML page as UTF-8 bytes for the parser (what :func:`decode_html` reads, encoded
    again), and the encoding it was read with. Valid UTF-8 is passed on as it is, so a big
    page is never held as text."""
    valid = is_valid_utf8(data)
    name, body = choose_encoding(data, http_charset, valid)
    if name == "utf-8" and (valid if body is data else is_valid_utf8(body)):
        return body, name
    decoder = codecs.getincrementaldecoder(name)(errors="replace")
    view = memoryview(body)
    pieces = []
    for start in range(0, len(body), _CHUNK_BYTES):
        last = start + _CHUNK_BYTES >= len(body)
        text = decoder.decode(view[start : start + _CHUNK_BYTES], final=last)
        pieces.append(text.encode("utf-8", errors="replace"))
    return b"".join(pieces), name


# Escaped markup as found in script strings and JSON: \u003c, \" and friends.
_JSON_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[\"\\/bfnrt'])")
_JSON_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
                "t": "\t", "'": "'"}  # fmt: skip
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# Explicit cases rather than IGNORECASE, which makes the search try every position of
# a long script; the non-ASCII letters are those IGNORECASE folds onto a-z.
_LETTER = "[A-Za-z\u0130\u0131\u017f\u212a]"
_ENTITY_MARKUP_RE = re.compile("&(?:[aA][mM][pP];)?[lL][tT];" + _LETTER)
_MARKUP_RE = re.compile("<" + _LETTER)


def _json_unescape(text: str) -> str:
    surrogates = not text.isascii() and _has_surrogates(text)

    def replace(match: re.Match[str]) -> str:
        nonlocal surrogates
        code = match.group(1)
        if len(code) > 1:  # \uXXXX or \xXX
            value = int(code[1:], 16)
            surrogates = surrogates or 0xD800 <= value <= 0xDFFF
            return chr(value)
        return _JSON_SIMPLE[code]

    out = _JSON_ESCAPE_RE.sub(replace, text)
    if surrogates:  # JSON writes astral characters as surrogate pairs
        out = out.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return out


def _has_surrogates(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (UTF-8 cannot encode one): a codec's pass
    over the text, rather than a regular expression trying every character."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE_RE.search(text) is not None
    return False


#: Base64 longer than this (an embed is a few KB) is not decoded.
_MAX_BASE64_CHARS = 2_000_000


def decode_base64_markup(value: str) -> str | None:
    """Markup kept base64-encoded (consent tools keep a blocked embed so until the reader
    agrees), decoded as UTF-8; ``None`` when ``value`` is not base64 or holds no markup."""
    value = "".join(value.split())
    if not value or len(value) > _MAX_BASE64_CHARS:
        return None
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return None
    return text if _MARKUP_RE.search(text) else None


def unescape_fragments(raw: str) -> list[str]:
    """The markup hidden in a script, JSON or attribute string, unescaped; maybe none.

    JSON string escapes are undone (up to three levels deep), then entity escaping
    (``&lt;blockquote class=&quot;...``) when the markup is entity-escaped; each
    version that holds markup is returned.
    """
    text = raw
    for _ in range(3):
        if "\\u003" not in text and "\\U003" not in text and '\\"' not in text:
            break
        text = _json_unescape(text)
    found = [text] if _MARKUP_RE.search(text) else []
    for _ in range(2):
        if not _ENTITY_MARKUP_RE.search(text):
            break
        text = html.unescape(text)
        found.append(text)
    return found
