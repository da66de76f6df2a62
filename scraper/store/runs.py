"""The ``runs`` log and the counts ``scraper stats`` prints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from scraper.store.schema import RUN_COUNTS, RUN_STATUSES, URL_STATUSES
from scraper.store.transaction import write_transaction
from scraper.timestamps import iso_utc

INTERRUPTED_MESSAGE = "the process ended before the run finished"
STATS_TABLES = ("articles", "posts", "accounts", "citations", "links", "entities", "redirects")


def start_run(db: Database, started_at: str) -> int:
    """Record a new run as ``running`` and return its id.

    Runs still marked ``running`` belong to a process that died (only one run holds the
    lock at a time): they become ``interrupted``.
    """
    with write_transaction(db):
        db.execute(
            "UPDATE runs SET status = 'interrupted', message = COALESCE(message, ?) "
            "WHERE status = 'running'",
            [INTERRUPTED_MESSAGE],
        )
        cursor = db.execute(
            "INSERT INTO runs (started_at, status) VALUES (?, 'running')", [iso_utc(started_at)]
        )
    assert cursor.lastrowid is not None  # an INSERT into a rowid table always sets it
    return cursor.lastrowid


def finish_run(
    db: Database,
    run_id: int,
    *,
    status: str,
    counts: Mapping[str, int],
    message: str | None = None,
    finished_at: str,
) -> None:
    """Close run ``run_id`` with its final status and counts.

    ``counts`` keys must be among :data:`~scraper.store.schema.RUN_COUNTS`; missing ones
    stay NULL. Raises ``ValueError`` for an unknown status, count or run id.
    """
    if status not in RUN_STATUSES or status == "running":
        raise ValueError(f"unknown final run status {status!r}")
    unknown = sorted(set(counts) - set(RUN_COUNTS))
    if unknown:
        raise ValueError(f"unknown run counts {unknown}; known: {', '.join(RUN_COUNTS)}")
    values: dict[str, Any] = {
        **counts,
        "status": status,
        "message": message,
        "finished_at": iso_utc(finished_at),
    }
    assignments = ", ".join(f"[{column}] = :{column}" for column in values)
    with write_transaction(db):
        cursor = db.execute(
            f"UPDATE runs SET {assignments} WHERE id = :run_id", {**values, "run_id": run_id}
        )
        if cursor.rowcount != 1:
            raise ValueError(f"no run with id {run_id}")


def collect_stats(db: Database, *, last_runs: int = 5) -> dict[str, Any]:
    """Row counts per table, URLs by status, failed articles and the last runs (newest first)."""
    stats: dict[str, Any] = {
        table: db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0] for table in STATS_TABLES
    }
    stats["articles_failed"] = db.execute(
        "SELECT count(*) FROM articles WHERE error IS NOT NULL"
    ).fetchone()[0]
    by_status = dict.fromkeys(URL_STATUSES, 0)
    for status, count in db.execute("SELECT status, count(*) FROM urls GROUP BY status"):
        by_status[status] = count
    stats["urls"] = by_status
    stats["urls_total"] = sum(by_status.values())
    cursor = db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", [last_runs])
    columns = [description[0] for description in cursor.description]
    stats["runs"] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return stats
