"""Shown dates (English and localised), date mismatches and metadata dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from scraper.parse import dates
from scraper.parse.dates import is_date_mismatch, parse_datetime_iso, parse_shown_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("August 8, 2019", "2019-08-08"),
        ("Aug 8, 2019", "2019-08-08"),
        ("Sept. 18, 2019", "2019-09-18"),
        ("aug 8 2019", "2019-08-08"),
        ("8 August 2019", "2019-08-08"),
        ("8th August 2019", "2019-08-08"),
        ("  August\u00a08,\n 2019 ", "2019-08-08"),
        ("May 17, 2025 at 6:54 AM", "2025-05-17"),
        ("2019-08-08", "2019-08-08"),
        ("2018年3月21日", "2018-03-21"),
        ("２０１８年３月２１日", "2018-03-21"),
        ("2019년 8월 8일", "2019-08-08"),
    ],
)
def test_parse_shown_date_fast_forms(text: str, expected: str) -> None:
    """English, ISO and 年月日 dates are read without dateparser."""
    assert parse_shown_date(text) == expected


def test_parse_shown_date_fast_path_skips_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    """The English forms never reach dateparser (it would be slow for every signature)."""

    def boom(text: str, language: str | None) -> str | None:
        raise AssertionError(f"dateparser called for {text!r}")

    monkeypatch.setattr(dates, "_dateparser_date", boom)
    assert parse_shown_date("Aug 8, 2019") == "2019-08-08"
    assert parse_shown_date("8 August 2019") == "2019-08-08"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12. August 2018", "2018-08-12"),
        ("3. März 2020", "2020-03-03"),
        ("8 de agosto de 2019", "2019-08-08"),
        ("8 août 2019", "2019-08-08"),
        ("8 августа 2019 г.", "2019-08-08"),
        ("٨ أغسطس ٢٠١٩", "2019-08-08"),
    ],
)
def test_parse_shown_date_localised(text: str, expected: str) -> None:
    """Localised signature dates are read through dateparser."""
    assert parse_shown_date(text) == expected


def test_parse_shown_date_language_hint() -> None:
    """A language hint is used when right and ignored when wrong or unknown."""
    assert parse_shown_date("12. August 2018", lang="de") == "2018-08-12"
    assert parse_shown_date("12. August 2018", lang="ja") == "2018-08-12"
    assert parse_shown_date("8 de agosto de 2019", lang="xx-YY") == "2019-08-08"


def test_parse_shown_date_caches_dateparser() -> None:
    """Repeated localised strings are answered from the cache."""
    parse_shown_date("9. August 2018")
    hits = dates._dateparser_date.cache_info().hits
    assert parse_shown_date("9. August 2018") == "2018-08-09"
    assert dates._dateparser_date.cache_info().hits == hits + 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "August 8",
        "yesterday",
        "3 hours ago",
        "Aug 2019",
        "08/09/2019",
        "February 30, 2019",
        "Smarch 8, 2019",
        "x" * 500,
    ],
)
def test_parse_shown_date_unreadable(text: str) -> None:
    """Texts without a full date (or with an impossible one) give None, never today."""
    assert parse_shown_date(text) is None


@pytest.mark.parametrize(
    ("date_iso", "posted_at", "expected"),
    [
        ("2019-08-08", datetime(2019, 8, 8, 17, 34, tzinfo=UTC), False),
        ("2019-08-09", datetime(2019, 8, 8, 23, 59, tzinfo=UTC), False),
        ("2019-08-07", datetime(2019, 8, 8, 0, 1, tzinfo=UTC), False),
        ("2019-08-10", datetime(2019, 8, 8, 12, 0, tzinfo=UTC), True),
        ("2018-08-08", datetime(2019, 8, 8, 12, 0, tzinfo=UTC), True),
        ("2019-08-10", datetime(2019, 8, 9, 23, 0, tzinfo=timezone(timedelta(hours=-5))), False),
        ("2019-08-10", datetime(2019, 8, 8, 12, 0), True),
        (None, datetime(2019, 8, 8, tzinfo=UTC), False),
        ("2019-08-08", None, False),
        ("not a date", datetime(2019, 8, 8, tzinfo=UTC), False),
    ],
)
def test_is_date_mismatch(date_iso: str | None, posted_at: datetime | None, expected: bool) -> None:
    """Only dates more than one day from the id's moment are mismatches."""
    assert is_date_mismatch(date_iso, posted_at) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-08-08T12:00:00Z", "2019-08-08T12:00:00+00:00"),
        ("2019-08-08T12:00:00.123+0000", "2019-08-08T12:00:00+00:00"),
        ("2019-08-08T08:30:00-04:00", "2019-08-08T08:30:00-04:00"),
        ("2019-08-08 12:00", "2019-08-08T12:00:00"),
        ("2019-08-08", "2019-08-08"),
        (" 2019-08-08\n", "2019-08-08"),
        ("Thu, 08 Aug 2019 12:00:00 GMT", "2019-08-08T12:00:00+00:00"),
        ("August 8, 2019", "2019-08-08"),
        ("2019-13-45", None),
        ("2019-08-08T25:00:00", None),
        ("soon", None),
        ("", None),
    ],
)
def test_parse_datetime_iso(text: str, expected: str | None) -> None:
    """Metadata dates become ISO 8601, keeping the offset, or None when unreadable."""
    assert parse_datetime_iso(text) == expected
