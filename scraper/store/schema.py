"""Opening the database: connection settings, migrations, views and the write check.

The schema itself is declared in :mod:`scraper.store.tables` and built step by step by
:mod:`scraper.store.migrations`; the names below are re-exported for the modules that
read them from here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from scraper.errors import ScraperError
from scraper.store.migrations import MIGRATIONS
from scraper.store.tables import (
    POST_CHECKS_COLUMNS,
    POST_STATES,
    RUN_COUNTS,
    RUN_STATUSES,
    TABLES,
    URL_CHECKS_COLUMNS,
    URL_STATUSES,
    TableSpec,
)
from scraper.views import ensure_views

__all__ = [
    "MIGRATIONS",
    "POST_CHECKS_COLUMNS",
    "POST_STATES",
    "RUN_COUNTS",
    "RUN_STATUSES",
    "TABLES",
    "URL_CHECKS_COLUMNS",
    "URL_STATUSES",
    "TableSpec",
    "check_writable",
    "ensure_schema",
    "open_database",
]

BUSY_TIMEOUT_MS = 5000


def ensure_schema(db: Database) -> None:
    """Bring ``db`` up to the current schema and views; does nothing when already there."""
    MIGRATIONS.apply(db)
    # The reporting views (canned queries read them) are recreated only when their SQL changed.
    ensure_views(db)


def open_database(path: str | Path, *, writable: bool = False) -> Database:
    """Open (or create) the SQLite database at ``path``, ready for writes and readers.

    Creates the parent directory, switches to WAL so a Datasette reader never blocks the
    writer, sets a busy timeout, ``synchronous=NORMAL`` and enforced foreign keys, then
    applies any pending migrations. The connection may be handed to a worker thread
    (``asyncio.to_thread``), one thread at a time. Raises
    :class:`~scraper.errors.ScraperError` when the file cannot be opened as a database,
    or, with ``writable``, cannot be written (checked now, before any work is done).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    except (OSError, sqlite3.Error) as error:
        raise ScraperError(f"cannot open database {path}: {error}") from error
    try:
        db = Database(conn)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        ensure_schema(db)
        if writable:
            check_writable(db)
    except sqlite3.DatabaseError as error:
        conn.close()
        raise ScraperError(f"cannot open database {path}: {error}") from error
    return db


def check_writable(db: Database) -> None:
    """Raise ``sqlite3.OperationalError`` unless ``db`` can be written (a write, rolled back).

    A read-only file opens, reads and even begins a transaction without complaint; only a
    write tells, and a command should learn it before it fetches anything.
    """
    (version,) = db.execute("PRAGMA user_version").fetchone()
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(f"PRAGMA user_version = {int(version)}")
    finally:
        db.execute("ROLLBACK")
