"""Export a table or view as CSV or JSON Lines, for people who do not use Datasette.

Rows stream from SQLite to the output one at a time, so a large table never sits in
memory. The database is opened read-only: exporting never creates or changes it.
:func:`export_to_file` checks everything (the table, that the target is not the database)
before it writes, and writes a temporary file beside the target that replaces it only when
complete, so a failed export leaves yesterday's file as it was.

CSV cells that begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a
leading ``'`` (the OWASP rule against spreadsheet formula injection: a post's text is
written by strangers); JSON Lines keeps every value exact.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import sqlite3
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TextIO

from scraper.errors import ScraperError

ExportFormat = Literal["csv", "jsonl"]
FORMATS: tuple[str, ...] = ("csv", "jsonl")
#: What a spreadsheet reads as the start of a formula (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The files SQLite keeps beside a database, and the run lock's.
COMPANION_SUFFIXES = ("", "-wal", "-shm", "-journal", ".lock")


class OutputError(ScraperError):
    """The export's output file cannot be written (missing or unwritable directory)."""


def _connect_read_only(db_path: str | Path) -> sqlite3.Connection:
    path = Path(db_path)
    if not path.is_file():
        raise FileNotFoundError(f"no database at {path}")
    # mode=ro: a mistyped path must not leave an empty database behind.
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        conn.close()
        raise ScraperError(f"cannot read database {path}: {error}") from error
    return conn


def is_database_file(db_path: str | Path, target: str | Path) -> bool:
    """Whether ``target`` is the database at ``db_path`` or one of its companion files.

    Compared by resolved path (symlinks and ``..`` followed) and, for files that exist,
    by device and inode (hard links).
    """
    database = Path(db_path).resolve()
    candidate = Path(target).resolve()
    companions = [Path(f"{database}{suffix}") for suffix in COMPANION_SUFFIXES]
    if candidate in companions:
        return True
    if not candidate.exists():
        return False
    return any(c.exists() and c.samefile(candidate) for c in companions)


def neutralise_formula(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, prefixed with ``'``; others as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def exportable_names(conn: sqlite3.Connection) -> list[str]:
    """The tables and views a user may export: not SQLite's, FTS or migration internals."""
    rows = conn.execute(
        "SELECT name, type, sql FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
    ).fetchall()
    virtual = [name for name, _, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL")]
    return [
        name
        for name, _, _ in rows
        if not name.startswith(("sqlite_", "_"))
        and name not in virtual
        # FTS keeps its index in shadow tables named after the virtual table.
        and not any(name.startswith(f"{table}_") for table in virtual)
    ]


def _plain(value: Any) -> Any:
    """A value JSON and CSV can hold: BLOBs become base64 text."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def iter_rows(conn: sqlite3.Connection, table: str) -> tuple[list[str], Iterator[Sequence[Any]]]:
    """The column names of ``table`` and an iterator over its rows (in its natural order).

    Raises ``ValueError`` listing the available names when ``table`` is not one of them.
    """
    available = exportable_names(conn)
    if table not in available:
        raise ValueError(
            f"no table or view named {table!r}; available: {', '.join(available) or 'none'}"
        )
    quoted = '"' + table.replace('"', '""') + '"'
    cursor = conn.execute(f"SELECT * FROM {quoted}")
    columns = [description[0] for description in cursor.description]
    return columns, iter(cursor)


def export_table(
    db_path: str | Path,
    table: str = "cited_posts",
    fmt: ExportFormat = "csv",
    out: TextIO | None = None,
) -> int:
    """Write every row of ``table`` (a table or view) to ``out`` (stdout by default).

    ``fmt`` is ``csv`` (a header line, then one line per row) or ``jsonl`` (one JSON object
    per row, keys in column order). Returns the number of rows written. Raises
    ``ValueError`` for an unknown table or format (the message lists the valid ones) and
    ``FileNotFoundError`` when there is no database at ``db_path``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    stream = out if out is not None else sys.stdout
    conn = _connect_read_only(db_path)
    try:
        columns, rows = iter_rows(conn, table)
        return _write_rows(columns, rows, fmt, stream)
    except sqlite3.DatabaseError as error:
        raise ScraperError(f"cannot read database {db_path}: {error}") from error
    finally:
        conn.close()


def export_to_file(db_path: str | Path, table: str, fmt: ExportFormat, output: str | Path) -> int:
    """Export ``table`` into the file ``output``, replacing it only once the export is whole.

    Everything is checked before the output is touched: ``ValueError`` when ``output`` is
    the database (or its -wal/-shm/-journal/lock file) or ``table`` is unknown;
    :class:`OutputError` when the output's directory is missing or cannot be written. The
    rows go to a temporary file in the output's directory, renamed over ``output`` at the
    end (an existing file's permissions are kept).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    target = Path(output)
    if is_database_file(db_path, target):
        raise ValueError(f"refusing to export over the database itself: {output}")
    conn = _connect_read_only(db_path)
    try:
        columns, rows = iter_rows(conn, table)
        try:
            fd, temporary = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".part"
            )
        except OSError as error:
            raise OutputError(f"cannot write {output}: {error.strerror or error}") from error
        try:
            Path(temporary).chmod(_file_mode(target))
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
                count = _write_rows(columns, rows, fmt, stream)
            Path(temporary).replace(target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except sqlite3.DatabaseError as error:
        raise ScraperError(f"cannot read database {db_path}: {error}") from error
    except OSError as error:
        raise OutputError(f"cannot write {output}: {error.strerror or error}") from error
    finally:
        conn.close()
    return count


def _file_mode(target: Path) -> int:
    """The permissions the output gets: the replaced file's, else 0666 less the umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)  # reading the umask means setting it; put it straight back
        os.umask(umask)
        return 0o666 & ~umask


def _write_rows(
    columns: list[str], rows: Iterator[Sequence[Any]], fmt: ExportFormat, stream: TextIO
) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.writer(stream)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([neutralise_formula(_plain(value)) for value in row])
            count += 1
    else:
        for row in rows:
            record = {column: _plain(value) for column, value in zip(columns, row, strict=True)}
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
