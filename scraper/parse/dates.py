"""Dates as articles show them: tweet signatures ("August 8, 2019") and page metadata.

English signature dates are read with a regular expression; localised ones ("12. August
2018", "2018年3月21日", "8 de agosto de 2019") go to dateparser, whose answers are cached
because the same few strings repeat across a corpus. Nothing is ever guessed from
today's date: a text without a day, a month and a year is unreadable.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache

__all__ = ["is_date_mismatch", "parse_datetime_iso", "parse_shown_date"]

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
# A time after the date ("May 17, 2025 at 6:54 AM", "· 6:54 PM") is allowed and ignored.
_TIME_TAIL = r"(?:\s*(?:,|at|·|-)?\s*\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp]\.?\s?[Mm]\.?)?)?\s*"
_EN_MDY = re.compile(
    r"(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})"
    + _TIME_TAIL
)
_EN_DMY = re.compile(
    r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>[A-Za-z]{3,9})\.?,?\s+(?P<year>\d{4})"
    + _TIME_TAIL
)
_ISO_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})")
# Chinese/Japanese 年月日 and Korean 년월일.
_CJK_DATE = re.compile(
    r"(?P<year>\d{4})\s*[年년]\s*(?P<month>\d{1,2})\s*[月월]\s*(?P<day>\d{1,2})\s*[日일]"
    + _TIME_TAIL
)
# dateparser is only asked when the text has a year, a day and a word: this keeps out
# relative dates ("yesterday"), yearless dates (which dateparser takes seconds to refuse)
# and numeric dates whose day/month order is ambiguous.
_HAS_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
_HAS_DAY = re.compile(r"(?<!\d)\d{1,2}(?!\d)")
_HAS_WORD = re.compile(r"[^\W\d_]{2,}")
_MAX_DATE_CHARS = 80
# Embed signatures are rendered in the widget's language, one of those Twitter offers.
# Trying only these (not dateparser's 200) halves the one-time cost of an unreadable date.
_TWITTER_LANGUAGES = (
    "en", "ar", "bn", "ca", "cs", "da", "de", "el", "es", "eu", "fa", "fi", "fil", "fr",
    "ga", "gl", "gu", "he", "hi", "hr", "hu", "id", "it", "ja", "kn", "ko", "mr", "ms",
    "nb", "nl", "pl", "pt", "ro", "ru", "sk", "sr", "sv", "ta", "th", "tr", "uk", "ur",
    "vi", "zh",
)  # fmt: skip
_DATEPARSER_SETTINGS = {
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PREFER_DATES_FROM": "past",
    "RETURN_AS_TIMEZONE_AWARE": False,
}


def _ascii_digits(text: str) -> str:
    """``text`` with every decimal digit (Arabic-Indic, full-width...) replaced by 0-9."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def _iso(year: str | int, month: str | int, day: str | int) -> str | None:
    """``YYYY-MM-DD`` for a real calendar date, else ``None``."""
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def parse_shown_date(text: str, lang: str | None = None) -> str | None:
    """The ISO date (``YYYY-MM-DD``) of a date as shown in a tweet signature, or ``None``.

    English forms ("August 8, 2019", "Aug 8, 2019", "8 August 2019", "May 17, 2025 at
    6:54 AM"), ISO dates and 年月日 dates are read directly; other languages ("12. August
    2018", "8 de agosto de 2019", "8 августа 2019 г.", Arabic digits) through dateparser,
    with ``lang`` (an ISO 639-1 code such as ``de``) as a hint when known. A text
    without a year, or with only numbers, gives ``None``.
    """
    cleaned = " ".join(_ascii_digits(text).split())
    if not cleaned or len(cleaned) > _MAX_DATE_CHARS:
        return None
    for pattern in (_EN_MDY, _EN_DMY):
        match = pattern.fullmatch(cleaned)
        if match is not None:
            month = _MONTHS.get(match["month"].lower())
            if month is not None:
                return _iso(match["year"], month, match["day"])
    for pattern in (_ISO_DATE, _CJK_DATE):
        match = pattern.fullmatch(cleaned)
        if match is not None:
            return _iso(match["year"], match["month"], match["day"])
    if not (_HAS_YEAR.search(cleaned) and _HAS_DAY.search(cleaned) and _HAS_WORD.search(cleaned)):
        return None
    language = lang.strip().split("-")[0].split("_")[0].lower() if lang else None
    return _dateparser_date(cleaned, language or None)


@lru_cache(maxsize=4096)
def _dateparser_date(text: str, language: str | None) -> str | None:
    """dateparser's ``YYYY-MM-DD`` for ``text``: the hint first, then Twitter's languages."""
    parsed = _dateparser_parse(text, [language]) if language else None
    if parsed is None:
        parsed = _dateparser_parse(text, list(_TWITTER_LANGUAGES))
    return parsed.date().isoformat() if parsed is not None else None


def _dateparser_parse(text: str, languages: list[str]) -> datetime | None:
    """One dateparser call that never raises (an unknown language is simply no answer)."""
    import dateparser  # deferred: importing it costs a quarter of a second

    try:
        with warnings.catch_warnings():
            # dateparser warns about its own internals (pytz, regex); not our concern.
            warnings.simplefilter("ignore")
            result = dateparser.parse(text, languages=languages, settings=_DATEPARSER_SETTINGS)
    except (ValueError, TypeError, OverflowError, LookupError):
        return None
    return result if isinstance(result, datetime) else None


def is_date_mismatch(date_iso: str | None, posted_at: datetime | None) -> bool:
    """True when a shown date and the id's moment are both known and over a day apart.

    Signatures show the date in the reader's time zone, so a difference of one day is
    normal and not a mismatch. A naive ``posted_at`` is taken as UTC.
    """
    if not date_iso or posted_at is None:
        return False
    try:
        shown = date.fromisoformat(date_iso[:10])
    except ValueError:
        return False
    moment = posted_at if posted_at.tzinfo else posted_at.replace(tzinfo=UTC)
    return abs((shown - moment.astimezone(UTC).date()).days) > 1


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_datetime_iso(text: str) -> str | None:
    """A page-metadata date (``article:published_time``, JSON-LD, ``<time datetime>``) as ISO.

    ISO 8601 input keeps its offset (``Z`` becomes ``+00:00``) and loses sub-seconds; a
    date alone stays a date (``2019-08-08``). RFC 2822 dates and the shown forms that
    :func:`parse_shown_date` reads are accepted too. ``None`` when unreadable.
    """
    cleaned = " ".join(_ascii_digits(text).split())
    if not cleaned or len(cleaned) > _MAX_DATE_CHARS:
        return None
    if _DATE_ONLY.fullmatch(cleaned):
        return _iso(cleaned[:4], cleaned[5:7], cleaned[8:10])
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        moment = None
    if moment is None:
        try:
            moment = parsedate_to_datetime(cleaned)
        except (TypeError, ValueError, IndexError):
            moment = None
    if moment is not None:
        return moment.replace(microsecond=0).isoformat()
    return parse_shown_date(cleaned)
