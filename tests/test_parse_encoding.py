"""Choosing a page's encoding, and unescaping the embed markup JavaScript sites hide."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.parse.encoding import (
    charset_from_content_type,
    decode_html,
    is_valid_utf8,
    normalize_encoding,
    unescape_fragments,
    utf8_markup,
)

FRENCH = "Élève, café, déjà vu — « très » cher ; où est la bibliothèque ? C’était l’été."
JAPANESE = "日本語のテキストです。桜が咲きました。東京は今日晴れです。ニュースをお伝えします。"


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body><p>{body}</p></body></html>"


def test_utf8_bom_wins_over_every_declaration() -> None:
    """A UTF-8 byte-order mark decides, even against the HTTP charset and <meta>."""
    data = b"\xef\xbb\xbf" + page(FRENCH, '<meta charset="iso-8859-1">').encode("utf-8")
    text, encoding = decode_html(data, http_charset="shift_jis")
    assert encoding == "utf-8"
    assert FRENCH in text
    assert not text.startswith("\ufeff")


@pytest.mark.parametrize(
    ("bom", "codec", "name"),
    [(b"\xff\xfe", "utf-16-le", "utf-16-le"), (b"\xfe\xff", "utf-16-be", "utf-16-be")],
)
def test_utf16_with_bom(bom: bytes, codec: str, name: str) -> None:
    """UTF-16 pages with a byte-order mark decode in the right byte order."""
    text, encoding = decode_html(bom + page(JAPANESE).encode(codec))
    assert encoding == name
    assert JAPANESE in text


def test_http_charset_beats_meta() -> None:
    """The Content-Type charset comes before the page's own <meta> declaration."""
    data = page("Привет, мир!", '<meta charset="utf-8">').encode("cp1251")
    text, encoding = decode_html(data, http_charset="windows-1251")
    assert encoding == "cp1251"
    assert "Привет, мир!" in text


def test_declared_latin1_is_read_as_cp1252() -> None:
    """A page that says ISO-8859-1 gets cp1252's curly quotes, as in browsers."""
    data = page("\x93quoted\x94 and \x80 5", '<meta charset="ISO-8859-1">').encode("latin-1")
    text, encoding = decode_html(data)
    assert encoding == "cp1252"
    assert "“quoted” and € 5" in text


def test_meta_http_equiv_shift_jis() -> None:
    """<meta http-equiv=Content-Type content="...; charset=Shift_JIS"> is honoured."""
    head = '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
    text, encoding = decode_html(page(JAPANESE, head).encode("shift_jis"))
    assert encoding == "cp932"
    assert JAPANESE in text


def test_undeclared_shift_jis_is_detected() -> None:
    """Without any declaration, charset-normalizer recognises Shift_JIS."""
    text, encoding = decode_html(page(JAPANESE).encode("shift_jis"))
    assert encoding == "cp932"
    assert JAPANESE in text


def test_meta_claiming_utf8_for_cp1252_bytes_goes_to_detection() -> None:
    """A page labelled UTF-8 whose bytes are cp1252 is detected, not filled with U+FFFD."""
    data = page(FRENCH, "<meta charset='utf-8'>").encode("cp1252")
    text, encoding = decode_html(data)
    assert encoding == "cp1252"
    assert FRENCH in text


def test_meta_claiming_latin1_for_utf8_bytes_reads_utf8() -> None:
    """Valid multi-byte UTF-8 wins over a latin-1 label (a common template mistake)."""
    data = page(FRENCH, '<meta charset="iso-8859-1">').encode("utf-8")
    text, encoding = decode_html(data)
    assert encoding == "utf-8"
    assert FRENCH in text


def test_one_broken_sequence_keeps_utf8() -> None:
    """A UTF-8 page with one truncated character stays UTF-8 (one U+FFFD, no mojibake)."""
    data = page(FRENCH, '<meta charset="utf-8">').encode("utf-8") + b"<p>cut \xc3</p>"
    text, encoding = decode_html(data)
    assert encoding == "utf-8"
    assert FRENCH in text
    assert text.count("\ufffd") == 1


def test_meta_claiming_utf16_on_ascii_bytes_means_utf8() -> None:
    """A UTF-16 <meta> on bytes we could read as ASCII is taken as UTF-8 (WHATWG rule)."""
    text, encoding = decode_html(page(FRENCH, '<meta charset="utf-16">').encode("utf-8"))
    assert encoding == "utf-8"
    assert FRENCH in text


def test_unknown_and_unsafe_labels_are_ignored() -> None:
    """Unknown labels, non-text codecs and UTF-7 are not used to decode pages."""
    assert normalize_encoding("no-such-charset") is None
    assert normalize_encoding("base64") is None
    assert normalize_encoding("utf-7") is None
    text, encoding = decode_html(page(FRENCH).encode("utf-8"), http_charset="rot13")
    assert encoding == "utf-8"
    assert FRENCH in text


def test_undecodable_bytes_never_raise() -> None:
    """Every byte value, undeclared, decodes to text (replacement characters at worst)."""
    text, encoding = decode_html(bytes(range(256)) * 4)
    assert isinstance(text, str)
    assert encoding


def test_charset_from_content_type() -> None:
    """The charset parameter is read from Content-Type values, quoted or not."""
    assert charset_from_content_type('text/html; charset="Shift_JIS"') == "Shift_JIS"
    assert charset_from_content_type("text/html;charset=utf-8") == "utf-8"
    assert charset_from_content_type("text/html") is None
    assert charset_from_content_type(None) is None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.one_of(st.none(), st.text(max_size=20)))
def test_decode_html_never_raises(data: bytes, label: str | None) -> None:
    """Random bytes with random charset labels always decode to some text."""
    text, encoding = decode_html(data, label)
    assert isinstance(text, str)
    assert isinstance(encoding, str)


def test_unescape_json_string_markup() -> None:
    """JSON-escaped markup (\\u003c, \\", \\/ and surrogate pairs) comes back as markup."""
    raw = (
        r'{"html":"\u003cblockquote class=\"twitter-tweet\"\u003e'
        r'\ud83d\ude2c\u003c\/blockquote\u003e"}'
    )
    assert unescape_fragments(raw) == [
        '{"html":"<blockquote class="twitter-tweet">😬</blockquote>"}'
    ]


def test_unescape_double_escaped_json() -> None:
    """JSON inside a JSON string (escaped twice) is unescaped twice."""
    raw = r'"\\u003cblockquote class=\\\"twitter-tweet\\\"\\u003e"'
    assert unescape_fragments(raw) == ['"<blockquote class="twitter-tweet">"']


def test_unescape_entity_escaped_markup() -> None:
    """&lt;blockquote class=&quot;...&quot;&gt; (as in attributes) becomes markup."""
    raw = "&lt;blockquote class=&quot;twitter-tweet&quot;&gt;&amp;mdash; x&lt;/blockquote&gt;"
    assert unescape_fragments(raw)[-1] == '<blockquote class="twitter-tweet">&mdash; x</blockquote>'


def test_unescape_without_markup_gives_nothing() -> None:
    """A string that holds no markup (a CSS rule, a JS selector) yields no fragment."""
    assert unescape_fragments('document.querySelectorAll(".twitter-tweet")') == []


@pytest.mark.parametrize(
    "data",
    [
        page(FRENCH).encode("utf-8"),
        b"\xef\xbb\xbf" + page(FRENCH).encode("utf-8"),
        page(FRENCH, '<meta charset="windows-1252">').encode("cp1252"),
        page(JAPANESE, '<meta charset="shift_jis">').encode("shift_jis"),
        "<p>UTF-16 text</p>".encode("utf-16"),
        page(FRENCH).encode("utf-8")[:-40] + b"\xe2\x80" + b"</p></body></html>",  # cut character
        bytes(range(256)) * 3,
    ],
)
def test_utf8_markup_is_what_decode_html_reads(data: bytes) -> None:
    """The parser's UTF-8 bytes equal decode_html's text encoded, whatever the page's
    encoding (valid UTF-8 passes through unchanged, without its byte order mark)."""
    text, name = decode_html(data)
    markup, markup_name = utf8_markup(data)
    assert (markup, markup_name) == (text.encode("utf-8", errors="replace"), name)


def test_utf8_check_reads_big_pages_in_chunks() -> None:
    """A character split across the 1 MiB chunk boundary is still valid UTF-8."""
    data = b"a" * ((1 << 20) - 1) + "é".encode() + b"b" * 10
    assert is_valid_utf8(data)
    assert not is_valid_utf8(data[: (1 << 20)])  # cut inside the character
