"""Tweets quoted as plain text, and plain-text or Markdown articles.

A tweet copied out of an embed reads ``tweet text — Display Name (@handle) August 8,
2019``: the signature is the last dash before ``(@handle)`` and a date. Finding it starts
from the cheap, rare part (``(@handle)`` followed by a date), then looks a short way back
for the dash, so every regular expression here runs in linear time on any input.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from scraper.model import Article, Link, Post
from scraper.parse.dates import is_date_mismatch, parse_shown_date
from scraper.parse.entities import extract_entities
from scraper.parse.lead_ins import CLOSE_QUOTES, post_start
from scraper.parse.urls import (
    absolutize_url,
    parse_status_url,
    posted_at_iso,
    snowflake_to_datetime,
)

__all__ = [
    "Signature",
    "TextPost",
    "find_text_links",
    "find_text_posts",
    "parse_signature",
    "parse_text_article",
]

# An em dash (also as an entity, as "--", or as UTF-8 read as cp1252 / latin-1), and the
# weaker forms used when nothing stronger is there: an en dash or a hyphen between spaces.
_STRONG_DASH_RE = re.compile(r"—|―|--|&mdash;|&#8212;|&#x2014;|â€”|â\x80\x94", re.IGNORECASE)
_WEAK_DASH_RE = re.compile(r"(?<=\s)[–-](?=\s)|â€“|&ndash;")
_SP = r"[^\S\n]{1,3}"
_MONTH_WORD = r"[^\W\d_]{3,12}\.?"
# The shown date: "August 8, 2019", "8 August 2019", "12. August 2018", "8 de agosto de
# 2019", "8 августа 2019 г.", "2018年3月21日", "2019년 8월 8일". It ends at the year, so
# text glued after it ("2019SpaceX is...") is not part of it.
_DATE = (
    rf"{_MONTH_WORD}{_SP}\d{{1,2}}(?:st|nd|rd|th)?,?{_SP}\d{{4}}(?!\d)"
    rf"|\d{{1,2}}\.?(?:er|º)?{_SP}(?:de{_SP})?{_MONTH_WORD}(?:{_SP}de)?,?{_SP}\d{{4}}(?!\d)"
    r"(?:[^\S\n]?г\.)?"
    r"|\d{4}[^\S\n]?[年년][^\S\n]?\d{1,2}[^\S\n]?[月월][^\S\n]?\d{1,2}[^\S\n]?[日일]"
)
_MD_URL = r"(?:[^\s()<>]|\([^\s()<>]{0,200}\)){1,2048}"
_ANCHOR_RE = re.compile(
    r"\(@(?P<handle>[A-Za-z0-9_]{1,15})\)"
    r"[^\S\n]{0,4}(?:\r?\n[^\S\n]{0,4}(?:>[^\S\n]{0,3})?)?"
    rf"(?:\[(?P<mdate>{_DATE})\]\((?P<murl>{_MD_URL})\)|(?P<date>{_DATE}))"
)
_HANDLE_RE = re.compile(r"\(@(?P<handle>[A-Za-z0-9_]{1,15})\)")
_LEADING_DATE_RE = re.compile(
    rf"(?:{_DATE})(?:[^\S\n]*(?:at|·|,)?[^\S\n]*\d{{1,2}}:\d{{2}}[^\S\n]*(?:[AaPp]\.?[Mm]\.?)?)?"
)
_MD_DATE_LINK_RE = re.compile(r"\[(?P<date>[^\[\]\n]{1,80})\]\((?P<url>" + _MD_URL + r")\)")
_BLANK_LINE_RE = re.compile(r"\n[^\S\n]*\n")
_QUOTE_LINE_RE = re.compile(r"[ \t]{0,3}>")
_QUOTE_PREFIX_RE = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)+", re.MULTILINE)
_MD_LINK_TEXT_RE = re.compile(r"!?\[([^\[\]\n]{0,1000})\]\(" + _MD_URL + r"\)")
# A "name" holding another handle, a URL or a line break is prose, not a display name.
_IMPLAUSIBLE_NAME_RE = re.compile(r"\(@|://|\n")
_INVISIBLE = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
#: Display names are at most 50 characters; emoji sequences make them longer in code points.
_MAX_NAME_CHARS = 100
#: A quoted tweet longer than this is prose glued to a tweet; only its end is kept.
_MAX_TWEET_CHARS = 10_000


# Links: a Markdown link (anchor text kept), an http(s) URL, or a bare short link.
_LINK_RE = re.compile(
    r"(?P<md>!?\[(?P<text>[^\[\]\n]{0,1000})\]\([^\S\n]{0,3}<?(?P<mdurl>" + _MD_URL + r")>?"
    r"(?:[^\S\n]{1,3}\"[^\"\n]{0,500}\")?[^\S\n]{0,3}\))"
    r"|(?P<url>(?<![\w@])https?://[^\s<>\"'`{}|\\^\[\]“”‘’«»—–…]{1,4096})"
    r"|(?P<short>(?<![\w@/.\-])(?:t\.co|pic\.twitter\.com|pic\.x\.com)/(?P<slug>[A-Za-z0-9]{1,40}))",
    re.IGNORECASE,
)
_SHORT_HOST_RE = re.compile(
    r"(?:https?://)?(?:t\.co|pic\.twitter\.com|pic\.x\.com)/(?P<slug>[A-Za-z0-9]{1,40})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_TRAILING_PUNCT = ".,;:!?*'\""


@dataclass(frozen=True, slots=True)
class Signature:
    """The parts of ``— Display Name (@handle) Date`` (``status_url`` normalised, if any)."""

    display_name: str | None
    handle: str
    date_text: str | None
    status_url: str | None


@dataclass(slots=True)
class TextPost:
    """A quoted tweet and its span (``text[start:end]``, signature included) in the input."""

    post: Post
    start: int
    end: int


def _last_dash(text: str, start: int, end: int) -> re.Match[str] | None:
    """The last strong dash in ``text[start:end]``, else the last weak one, else ``None``."""
    for pattern in (_STRONG_DASH_RE, _WEAK_DASH_RE):
        last = None
        for last in pattern.finditer(text, start, end):  # noqa: B007 - we want the last one
            pass
        if last is not None:
            return last
    return None


def embed_signature(
    text: str, handle_re: re.Pattern[str], dash_re: re.Pattern[str], max_name: int
) -> tuple[re.Match[str], int, re.Match[str] | None] | None:
    """Where an embed's ``— Name (@handle)`` signature sits in ``text``, if it has one.

    Returns the last ``handle_re`` match (the signature's handle), the start of its line,
    and the last ``dash_re`` match on that line within ``max_name`` characters before the
    handle (``None`` when there is no dash). Embeds of every platform sign off this way.
    """
    last = None
    for last in handle_re.finditer(text):  # noqa: B007 - we want the last one
        pass
    if last is None:
        return None
    line_start = text.rfind("\n", 0, last.start()) + 1
    window = max(line_start, last.start() - max_name)
    dash = None
    for dash in dash_re.finditer(text, window, last.start()):  # noqa: B007 - the last one
        pass
    return last, line_start, dash


def _repair_mojibake(text: str) -> str:
    """UTF-8 text that was read as cp1252 ("didnâ€™t") put back, when it all decodes."""
    if "â€" not in text:
        return text
    try:
        return text.encode("cp1252").decode("utf-8")
    except UnicodeError:  # mixed or not mojibake after all: leave it as found
        return text


def _clean_name(raw: str) -> str | None:
    """A display name with its whitespace collapsed and invisible marks removed."""
    name = " ".join(raw.strip(_INVISIBLE + " \t\r\n").split()).strip(_INVISIBLE)
    return _repair_mojibake(name) or None


def parse_signature(text: str) -> Signature | None:
    """Read a signature such as ``— Amee Vanderpool (@girlsreallyrule) August 8, 2019``.

    The dash may be ``—``, ``--``, ``&mdash;``, mojibake ``â€”`` or missing; the name is
    what follows the last dash before ``(@handle)``. ``date_text`` is the date as shown
    (a leading date and time, else the rest of the text); a Markdown date link
    ``[August 8, 2019](https://twitter.com/...)`` also gives ``status_url``. ``None``
    when there is no ``(@handle)``.
    """
    cleaned = " ".join(text.split())
    match = _HANDLE_RE.search(cleaned)
    if match is None:
        return None
    dash = _last_dash(cleaned, 0, match.start())
    name = _clean_name(cleaned[dash.end() if dash else 0 : match.start()])
    rest = cleaned[match.end() :].strip(_INVISIBLE + " ")
    status_url = None
    date_text: str | None = rest or None
    link = _MD_DATE_LINK_RE.match(rest)
    if link is not None:
        date_text = link["date"].strip()
        ref = parse_status_url(link["url"])
        status_url = ref.url if ref else None
    else:
        leading = _LEADING_DATE_RE.match(rest)
        if leading is not None:
            date_text = leading.group().strip()
    return Signature(name, match["handle"], date_text, status_url)


def _line_start(newlines: list[int], pos: int) -> int:
    """The offset where the line holding ``pos`` starts."""
    index = bisect_left(newlines, pos)
    return newlines[index - 1] + 1 if index else 0


def _quote_start(text: str, newlines: list[int], line_start: int, floor: int) -> int:
    """The first line of the Markdown blockquote that holds the line at ``line_start``."""
    index = bisect_left(newlines, line_start)  # the newline ending the line before
    start = line_start
    while index > 0:
        previous = newlines[index - 2] + 1 if index > 1 else 0
        if previous < floor or not _QUOTE_LINE_RE.match(text, previous):
            break
        start = previous
        index -= 1
    return start


def _tweet_text(raw: str) -> str:
    """The shown tweet text: quote markers and Markdown link syntax removed, CRLF as LF."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = _QUOTE_PREFIX_RE.sub("", text)
    text = _MD_LINK_TEXT_RE.sub(lambda m: m.group(1), text)
    return _repair_mojibake(text.strip())


def find_text_posts(text: str) -> list[TextPost]:
    """Every tweet quoted in ``text`` as ``tweet text — Name (@handle) Date``.

    The tweet text runs from the start of its paragraph (or Markdown blockquote, or the
    end of the previous signature) to the last dash before ``(@handle)``. A Markdown date
    link ``[August 8, 2019](https://twitter.com/h/status/ID)`` gives the post its id,
    URL, ``posted_at`` and ``date_mismatch``. Without both a dash and a readable date,
    ``(@handle)`` is just a mention in prose and yields nothing.
    """
    if "(@" not in text:
        return []
    newlines = [m.start() for m in re.finditer("\n", text)]
    paragraph_starts = [m.end() for m in _BLANK_LINE_RE.finditer(text)]
    found: list[TextPost] = []
    previous_end = 0
    for anchor in _ANCHOR_RE.finditer(text):
        date_text = anchor["mdate"] or anchor["date"]
        date = parse_shown_date(date_text)
        if date is None:
            continue
        line_start = _line_start(newlines, anchor.start())
        window = max(line_start, previous_end, anchor.start() - _MAX_NAME_CHARS)
        dash = _last_dash(text, window, anchor.start())
        if dash is None or _IMPLAUSIBLE_NAME_RE.search(text, dash.end(), anchor.start()):
            continue
        if _QUOTE_LINE_RE.match(text, line_start):
            start = _quote_start(text, newlines, line_start, previous_end)
        else:
            index = bisect_right(paragraph_starts, dash.start())
            start = paragraph_starts[index - 1] if index else 0
        start = max(start, previous_end, dash.start() - _MAX_TWEET_CHARS)
        start, quoted = post_start(text, start, dash.start())
        post = _make_post(text, start, dash, anchor, date_text, date)
        if quoted and post.text:  # the closing quotation mark is not the post's
            post.text = post.text.rstrip(CLOSE_QUOTES + " ").strip() or None
            post.entities = extract_entities(post.text) if post.text else []
        found.append(TextPost(post, start, anchor.end()))
        previous_end = anchor.end()
    return found


def _make_post(
    text: str, start: int, dash: re.Match[str], anchor: re.Match[str], date_text: str, date: str
) -> Post:
    """The Post for one signature found by :func:`find_text_posts`."""
    tweet = _tweet_text(text[start : dash.start()])
    post = Post(
        platform="twitter",
        kind="text-signature",
        handle=anchor["handle"],
        display_name=_clean_name(text[dash.end() : anchor.start()]),
        date=date,
        date_text=" ".join(date_text.split()),
        text=tweet or None,
        links=[url for url, _, _ in find_text_links(text, start=start, end=anchor.end())],
        entities=extract_entities(tweet),
    )
    ref = parse_status_url(anchor["murl"]) if anchor["murl"] else None
    if ref is not None:
        post.post_id = ref.post_id
        post.url = (
            ref.url if ref.handle else f"https://twitter.com/{post.handle}/status/{ref.post_id}"
        )
        post.posted_at = posted_at_iso(ref.post_id)
        post.date_mismatch = is_date_mismatch(date, snowflake_to_datetime(ref.post_id))
    return post


def _normalise_link(raw: str, base_url: str | None) -> str | None:
    """A found URL made absolute; t.co and pic.twitter.com links as ``https://t.co/X``."""
    short = _SHORT_HOST_RE.match(raw)
    if short is not None:
        return f"https://t.co/{short['slug']}"
    return absolutize_url(raw, base_url)


def _trim_url(url: str) -> str:
    """A bare URL without the sentence punctuation or unbalanced bracket that ends it."""
    cut = url.find("â€")  # mojibake punctuation glued to the URL
    if cut > 0:
        url = url[:cut]
    while url:
        unbalanced = url[-1] == ")" and url.count("(") < url.count(")")
        if url[-1] in _TRAILING_PUNCT or unbalanced:
            url = url[:-1]
        else:
            break
    return url


def find_text_links(
    text: str, *, start: int = 0, end: int | None = None, base_url: str | None = None
) -> list[tuple[str, str, int]]:
    """Every link in ``text[start:end]`` as ``(url, anchor text, offset)``, in order.

    Markdown links keep their anchor text; http(s) URLs, bare ``t.co/X`` and
    ``pic.twitter.com/X`` (the same link as ``https://t.co/X``) use the URL as written.
    Relative Markdown links need ``base_url``; links that cannot be made absolute
    http(s) URLs (``mailto:``, ``#top``) are skipped.
    """
    stop = len(text) if end is None else end
    links: list[tuple[str, str, int]] = []
    for match in _LINK_RE.finditer(text, start, stop):
        if match["md"] is not None:
            url = _normalise_link(match["mdurl"], base_url)
            anchor = " ".join(match["text"].split())
        elif match["url"] is not None:
            written = _trim_url(match["url"])
            url = _normalise_link(written, None)
            anchor = written
        else:
            url = f"https://t.co/{match['slug']}"
            anchor = match["short"]
        if url is not None:
            links.append((url, anchor, match.start()))
    return links


_TITLE_END = ".!?…:;,"
_CLOSERS = "\"'”’»)]*_ "
_MAX_TITLE_CHARS = 200


def _find_title(text: str, first_post_start: int | None) -> str | None:
    """The first non-empty line, if it is a Markdown heading or looks like a title."""
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip().lstrip("\ufeff")
        if not stripped:
            offset += len(line)
            continue
        if first_post_start is not None and first_post_start < offset + len(line):
            return None  # the article opens with a quoted tweet, not a title
        heading = re.match(r"#{1,6}[ \t]+(.+?)[ \t#]*$", stripped)
        if heading is not None:
            return heading.group(1).strip() or None
        if len(stripped) > _MAX_TITLE_CHARS or stripped.rstrip(_CLOSERS)[-1:] in _TITLE_END:
            return None
        if "://" in stripped or stripped.startswith((">", "-", "*", "|")):
            return None
        return stripped
    return None


def parse_text_article(text: str, *, source: str, base_url: str | None = None) -> Article:
    """A plain-text or Markdown article: its title, quoted tweets and links.

    Links inside a quoted tweet's span (signature included) get context ``post`` and
    the post's index; each post's ``links`` are exactly the URLs of those links.
    """
    found = find_text_posts(text)
    starts = [tp.start for tp in found]
    links: list[Link] = []
    per_post: list[list[str]] = [[] for _ in found]
    for url, anchor, offset in find_text_links(text, base_url=base_url):
        index = bisect_right(starts, offset) - 1
        if index >= 0 and offset < found[index].end:
            per_post[index].append(url)
            links.append(Link(url, anchor, "post", index, len(links)))
        else:
            links.append(Link(url, anchor, "article", None, len(links)))
    for text_post, urls in zip(found, per_post, strict=True):
        text_post.post.links = urls
    return Article(
        source=source,
        url=base_url,
        title=_find_title(text, starts[0] if starts else None),
        posts=[tp.post for tp in found],
        links=links,
    )
