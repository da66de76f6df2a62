"""Mentions, hashtags and cashtags in a post's text, by twitter-text's rules.

The installed ``twitter-text-parser`` only ports twitter-text's URL and tweet-length code,
not its entity extractors, so the extractors are written here from twitter-text's
published regular expressions (``twitter-text/js/src/regexp``: ``validMentionOrList``,
``validHashtag``, ``validCashtag`` and their end checks). Its URL extractor is still used
for the one rule that needs it: an entity that lies inside a URL is not an entity.
Offsets are Python ``str`` indices (code points), as in the conformance suite.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import NamedTuple

from scraper.model import Entity

__all__ = [
    "MentionOrList",
    "extract_cashtags_with_indices",
    "extract_entities",
    "extract_hashtags_with_indices",
    "extract_mentions_or_lists_with_indices",
    "extract_mentions_with_indices",
    "extract_reply_screen_name",
]

# twitter-text's latinAccentChars: a mention followed by one of these is not a mention.
_LATIN_ACCENTS = (
    r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263"
    r"\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF"
)
_SPACES = r"\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
_PUNCT = r"!'#%&'()*+,\\\-./:;<=>?@\[\]^_{|}~$"
# Characters twitter-text allows inside hashtags besides letters, marks and digits
# (ZWNJ/ZWJ, Hebrew geresh and gershayim, wave dashes, Japanese marks, Tibetan tsheg...).
_HASHTAG_SPECIALS = frozenset(
    "_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003"
    "\u0f0b\u0f0c\u00b7"
)

_MENTION_RE = re.compile(
    r"(?P<before>^|[^a-zA-Z0-9_!#$%&*@＠]|(?:^|[^a-zA-Z0-9_+~.\-])(?:rt|RT|rT|Rt):?)"
    r"[@＠](?P<name>[a-zA-Z0-9_]{1,20})(?P<list>/[a-zA-Z][a-zA-Z0-9_\-]{0,24})?",
    re.DOTALL,
)
_MENTION_END_RE = re.compile(r"[@＠" + _LATIN_ACCENTS + r"]|://")
_HASHTAG_END_RE = re.compile(r"[#＃]|://")
_HASH_SIGN_RE = re.compile(r"[#＃]")
_CASHTAG_RE = re.compile(
    r"(?P<before>^|[" + _SPACES + r"])\$"
    r"(?P<tag>[a-zA-Z]{1,6}(?:[._][a-zA-Z]{1,2})?)(?=\Z|\s|[" + _PUNCT + r"])"
)


class MentionOrList(NamedTuple):
    """A ``@screen_name`` or ``@screen_name/list-slug`` (``list_slug`` keeps its slash)."""

    screen_name: str
    list_slug: str
    start: int
    end: int


def _is_hashtag_char(char: str) -> bool:
    """twitter-text's ``hashtagAlphaNumeric``: a letter, mark, decimal digit or special."""
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "Nd" or char in _HASHTAG_SPECIALS


def extract_mentions_or_lists_with_indices(text: str) -> list[MentionOrList]:
    """Every ``@name`` and ``@name/list``, as twitter-text's ``extractMentionsOrListsWithIndices``.

    ``start``/``end`` span the ``@``, the name and the list slug.
    """
    if "@" not in text and "＠" not in text:
        return []
    found: list[MentionOrList] = []
    for match in _MENTION_RE.finditer(text):
        if _MENTION_END_RE.match(text, match.end()):
            continue
        start = match.end("before")
        slug = match["list"] or ""
        found.append(MentionOrList(match["name"], slug, start, match.end()))
    return found


def extract_mentions_with_indices(text: str) -> list[Entity]:
    """Mentions that are not list references, as twitter-text's ``extractMentionsWithIndices``."""
    return [
        Entity("mention", m.screen_name, m.start, m.end)
        for m in extract_mentions_or_lists_with_indices(text)
        if not m.list_slug
    ]


def _raw_hashtags(text: str) -> Iterator[Entity]:
    """Hashtag matches before the URL-overlap check.

    The same as scanning with twitter-text's global ``validHashtag`` regex: ``#`` after
    the start, a variation selector or any character that is neither a hashtag character
    nor ``&`` (and not already consumed by the previous match), then the longest run of
    hashtag characters, which must hold a letter or mark (``hashtagAlpha``).
    """
    if "#" not in text and "＃" not in text:
        return
    consumed = 0
    length = len(text)
    for sign in _HASH_SIGN_RE.finditer(text):
        position = sign.start()
        if position:
            before = text[position - 1]
            if position - 1 < consumed or (
                before not in "\ufe0e\ufe0f" and (before == "&" or _is_hashtag_char(before))
            ):
                continue
        start = end = position + 1
        if start < length and text[start] in "\ufe0f\u20e3":
            continue  # a keycap ("#️⃣"), not a hashtag
        has_alpha = False
        while end < length and _is_hashtag_char(text[end]):
            has_alpha = has_alpha or unicodedata.category(text[end])[0] in "LM"
            end += 1
        if not has_alpha:
            continue
        consumed = end
        if _HASHTAG_END_RE.match(text, end):
            continue
        yield Entity("hashtag", text[start:end], position, end)


def extract_hashtags_with_indices(text: str) -> list[Entity]:
    """Hashtags (value without ``#``), minus those inside URLs, as twitter-text does."""
    return _without_url_overlaps(text, list(_raw_hashtags(text)))


def extract_cashtags_with_indices(text: str) -> list[Entity]:
    """Cashtags such as ``$WMT`` (value without ``$``), as twitter-text's extractor."""
    if "$" not in text:
        return []
    return [
        Entity("cashtag", m["tag"], m.end("before"), m.end()) for m in _CASHTAG_RE.finditer(text)
    ]


def extract_entities(text: str) -> list[Entity]:
    """Mentions, hashtags and cashtags of ``text`` in order, with ``str`` offsets.

    Values carry no ``@``/``#``/``$`` sign. As in twitter-text's ``extractEntitiesWithIndices``,
    overlapping entities are resolved left to right and anything inside a URL is dropped.
    A list reference ``@name/list`` counts as a mention of ``name``.
    """
    entities: list[Entity] = [
        Entity("mention", m.screen_name, m.start, m.start + 1 + len(m.screen_name))
        for m in extract_mentions_or_lists_with_indices(text)
    ]
    entities.extend(_raw_hashtags(text))
    entities.extend(extract_cashtags_with_indices(text))
    return _without_url_overlaps(text, entities)


_TOKEN_RE = re.compile(r"\S+")


def _url_spans(text: str, entities: list[Entity]) -> list[tuple[int, int]]:
    """URL spans (twitter-text's URL extractor) in the tokens that hold an entity.

    URLs never contain whitespace, so only the whitespace-delimited tokens around the
    entities need the (slow) URL extractor, and only tokens with a dot can hold a URL.
    """
    starts = sorted(e.start for e in entities)
    spans: list[tuple[int, int]] = []
    i = 0
    for token in _TOKEN_RE.finditer(text):
        while i < len(starts) and starts[i] < token.start():
            i += 1
        if i == len(starts):
            break
        if starts[i] >= token.end() or "." not in token.group():
            continue
        from twitter_text import extract_urls_with_indices  # deferred: slow to import

        for found in extract_urls_with_indices(token.group()):
            url_start, url_end = found["indices"]
            spans.append((token.start() + url_start, token.start() + url_end))
    return spans


def _without_url_overlaps(text: str, entities: list[Entity]) -> list[Entity]:
    """twitter-text's ``removeOverlappingEntities`` with URLs first; URLs are then dropped."""
    if not entities:
        return []
    urls = _url_spans(text, entities)
    # (start, rank, index): URLs sort before entities at the same start, as in twitter-text.
    ordered = sorted(
        [(start, 0, i) for i, (start, _) in enumerate(urls)]
        + [(e.start, 1, i) for i, e in enumerate(entities)]
    )
    kept: list[Entity] = []
    previous_end = -1
    for start, rank, index in ordered:
        end = urls[index][1] if rank == 0 else entities[index].end
        if start < previous_end:
            continue
        previous_end = end
        if rank == 1:
            kept.append(entities[index])
    return kept


_REPLY_RE = re.compile(
    r"["
    + _SPACES
    + r"\u202A-\u202E\u061C\u200E\u200F\u2066-\u2069]*[@＠](?P<name>[a-zA-Z0-9_]{1,20})"
)


def extract_reply_screen_name(text: str) -> str | None:
    """The screen name a post replies to (a mention at its very start), as twitter-text."""
    match = _REPLY_RE.match(text)
    if match is None or _MENTION_END_RE.match(text, match.end()):
        return None
    return match["name"]
