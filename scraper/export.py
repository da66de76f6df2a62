"""Export a table or view as CSV or JSON Lines, for people who do not use Datasette.

Rows stream from SQLite to the output one at a time, so a large table never sits in
memory. The database is opened read-only: exporting never creates or changes a file.
"""

from __future__ import annotations

import base64
import csv
import json
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TextIO

ExportFormat = Literal["csv", "jsonl"]
FORMATS: tuple[str, ...] = ("csv", "jsonl")


def _connect_read_only(db_path: str | Path) -> sqlite3.Connection:
    path = Path(db_path)
    if not path.is_file():
        raise FileNotFoundError(f"no database at {path}")
    # mode=ro: a mistyped path must not leave an empty database behind.
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


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
        count = 0
        if fmt == "csv":
            writer = csv.writer(stream)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_plain(value) for value in row])
                count += 1
        else:
            for row in rows:
                record = {column: _plain(value) for column, value in zip(columns, row, strict=True)}
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
    finally:
        conn.close()
    return count
