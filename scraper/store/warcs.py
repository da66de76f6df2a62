"""The ``warc_files`` table: WARC files read to their end, so a rerun does not read them again."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from scraper.timestamps import iso_utc


@dataclass(frozen=True, slots=True)
class WarcFile:
    """A WARC file as identified and read: its path, size and head digest, what it held."""

    path: str
    size: int
    head_sha256: str
    records: int = 0
    pages: int = 0
    corrupt: int = 0
    completed_at: str | None = None


def find_warc_file(db: Database, path: str) -> WarcFile | None:
    """The row stored for ``path``, or ``None``."""
    row = db.execute(
        "SELECT path, size, head_sha256, records, pages, corrupt, completed_at "
        "FROM warc_files WHERE path = ?",
        [path],
    ).fetchone()
    return None if row is None else WarcFile(*row)


def save_warc_file(db: Database, warc: WarcFile) -> None:
    """Record ``warc`` (a file read to its end), replacing what was known of its path."""
    completed_at = iso_utc(warc.completed_at) if warc.completed_at else None
    with db.atomic():
        db.execute(
            """
            INSERT INTO warc_files (path, size, head_sha256, records, pages, corrupt, completed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (path) DO UPDATE SET size = excluded.size,
              head_sha256 = excluded.head_sha256, records = excluded.records,
              pages = excluded.pages, corrupt = excluded.corrupt,
              completed_at = excluded.completed_at
            """,
            [
                warc.path,
                warc.size,
                warc.head_sha256,
                warc.records,
                warc.pages,
                warc.corrupt,
                completed_at,
            ],
        )
