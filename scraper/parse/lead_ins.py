"""Where a post quoted as plain text starts: past a reporter's lead-in in its paragraph.

``One volunteer wrote that the stations ran out within hours:Sandbag station is out of
sand — Name (@handle) Date``: the post is "Sandbag station is out of sand". The lead-in
ends at a colon after a verb of saying, a colon glued to the post's first word, a colon
ending a line of several words, or an opening quotation mark; a post's own colons
("Evacuation update: shelters are open") are kept.
"""

from __future__ import annotations

import re

__all__ = ["CLOSE_QUOTES", "post_start"]

# A reporter's lead-in before a quoted post: a sentence with a verb of saying that ends
# in a colon ("One volunteer wrote that the stations ran out within hours:"). A post may
# hold colons of its own ("Evacuation update: shelters are open"), so a colon alone is
# not a lead-in, except glued to the post's first word ("hours:Sandbag") or ending a
# line of several words.
_SAYING = (
    r"wrote|writes|write|said|says|tweeted|tweets|posted|posts|answered|answers|replied"
    r"|replies|responded|responds|added|adds|warned|warns|noted|notes|explained|explains"
    r"|announced|announces|shared|shares|commented|comments|stated|states|declared|asked"
    r"|asks|quipped|joked|urged|pleaded|reported|reports|claimed|claims|insisted|argued"
    r"|observed|countered|put\s+it|schrieb|twitterte|sagte|erklärte|postete|escribió|dijo"
    r"|tuiteó|écrit|tweeté"
)
_SAYING_RE = re.compile(rf"(?<![^\W_])(?:{_SAYING})(?![^\W_])", re.IGNORECASE)
# A colon that may end a lead-in: followed by space, a line break, a quotation mark, or
# glued to a capital letter; never inside a URL ("https://") or a time ("9:30").
_LEAD_COLON_RE = re.compile(r"(?:(?<=[^\W\d_])|(?<=[)\]”\"'])):(?=\s|[“\"«]|[^\W\d_])")
_GLUED_COLON_RE = re.compile(r"(?<=[^\W\d_]):(?=[“\"«]?[A-ZÀ-ÞĀ-Ž])")
_SENTENCE_END_RE = re.compile(r"[.!?…](?=\s)")
_OPEN_QUOTES = '“"«„'
CLOSE_QUOTES = '”"»“'
#: A colon ending a line of at least this many words ends a lead-in (not a header).
_MIN_LEAD_LINE_WORDS = 5


def _lead_in_end(text: str, start: int, end: int) -> int | None:
    """Where a reporter's lead-in in ``text[start:end]`` ends (after its colon), if any.

    The first colon that ends a sentence with a verb of saying, or that ends a line of
    several words, or that is glued to a capitalised word; the post must follow it.
    """
    for colon in _LEAD_COLON_RE.finditer(text, start, end):
        after = colon.end()
        if not text[after:end].strip():
            return None
        sentence_start = start
        for stop in _SENTENCE_END_RE.finditer(text, start, colon.start()):
            sentence_start = stop.end()
        lead = text[sentence_start : colon.start()]
        line_start = max(text.rfind("\n", start, colon.start()) + 1, start)
        line_end = text.find("\n", after, end)
        ends_line = not text[after : end if line_end < 0 else line_end].strip()
        if (
            _SAYING_RE.search(lead)
            or _GLUED_COLON_RE.match(text, colon.start())
            or (
                (ends_line or text[after] == "\n")
                and len(text[line_start : colon.start()].split()) >= _MIN_LEAD_LINE_WORDS
            )
        ):
            return after + len(text[after:end]) - len(text[after:end].lstrip())
    return None


def post_start(text: str, start: int, end: int) -> tuple[int, bool]:
    """Where the quoted post in ``text[start:end]`` starts, past a reporter's lead-in.

    Returns the start and whether the post is in quotation marks (``wrote, “...”``).
    """
    lead_end = _lead_in_end(text, start, end)
    if lead_end is not None:
        start = lead_end
    body = text[start:end].rstrip()
    if body.endswith(tuple(CLOSE_QUOTES)):
        opening = next((i for i in range(start, end) if text[i] in _OPEN_QUOTES), None)
        before = text[start:opening].rstrip() if opening is not None else ""
        if opening is not None and (
            before.endswith((":", ",")) or _SAYING_RE.search(before[-40:] or "-")
        ):
            return opening + 1, True
        if opening is not None and not before and lead_end is not None:
            return opening + 1, True
    return start, False
