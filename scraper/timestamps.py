"""Timestamps as the database stores them: ISO 8601 in UTC, to the second.

Every timestamp column is compared as text (``next_attempt_at <= :now``), so every
value written must have the one canonical form ``2024-05-01T12:00:00+00:00``.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def iso_utc(value: datetime | str) -> str:
    """``value`` in the canonical stored form; naive datetimes are taken as UTC.

    Raises ``ValueError`` for a string that is not an ISO 8601 date-time.
    """
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def iso_utc_or_none(value: datetime | str | None) -> str | None:
    """:func:`iso_utc`, passing ``None`` through."""
    return None if value is None else iso_utc(value)
