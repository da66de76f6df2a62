"""Each migration keeps its own frozen columns: a database at any past step upgrades to the
schema a fresh one gets, and changing the live ``TABLES`` cannot change what old steps do."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from scraper.store import schema
from scraper.store.schema import MIGRATIONS, TABLES, TableSpec, open_database

NAMES = [migration.name for migration in MIGRATIONS.pending(Database(memory=True))]

# What the 0001 schema had, as released: later columns came with 0002 and 0003.
RUNS_0001 = [
    "id", "started_at", "finished_at", "status", "sources", "fetched", "not_modified",
    "unchanged", "new_articles", "posts", "links", "urls_resolved", "urls_failed", "errors",
    "message",
]  # fmt: skip
ARTICLES_0001_LAST = ["first_seen_at", "updated_at", "n_posts", "n_links"]


def schema_of(path: Path) -> dict[str, Any]:
    """Everything a schema is: objects' SQL, columns (type, not null, default, pk), FKs."""
    conn = sqlite3.connect(path)
    try:
        objects = sorted(
            conn.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE name NOT LIKE 'sqlite_%' AND name <> '_sqlite_migrations'"
            ).fetchall()
        )
        tables = [name for kind, name, _, _ in objects if kind == "table"]
        return {
            "objects": objects,
            "columns": {t: conn.execute(f"PRAGMA table_info([{t}])").fetchall() for t in tables},
            "foreign_keys": {
                t: conn.execute(f"PRAGMA foreign_key_list([{t}])").fetchall() for t in tables
            },
            "migrations": conn.execute("SELECT name FROM _sqlite_migrations").fetchall(),
        }
    finally:
        conn.close()


def database_at(path: Path, stop_before: str) -> None:
    """A database file with the migrations before ``stop_before`` applied, as old code left it."""
    db = Database(path)
    MIGRATIONS.apply(db, stop_before=stop_before)
    db.execute("INSERT INTO runs (started_at, status) VALUES ('2024-01-01T00:00:00Z', 'completed')")
    db.conn.commit()
    db.close()


def test_0001_creates_the_schema_as_it_was_at_0001(tmp_path: Path) -> None:
    """A database stopped after 0001 has 0001's columns, not today's."""
    path = tmp_path / "c.db"
    database_at(path, NAMES[1])
    db = Database(path)
    assert list(db.table("runs").columns_dict) == RUNS_0001
    assert list(db.table("articles").columns_dict)[-4:] == ARTICLES_0001_LAST
    db.close()


@pytest.mark.parametrize("stop_before", NAMES[1:])
def test_a_database_at_each_past_step_upgrades_to_the_fresh_schema(
    tmp_path: Path, stop_before: str
) -> None:
    """Opening a database left at any past migration gives exactly a fresh database's schema."""
    old = tmp_path / "old.db"
    database_at(old, stop_before)
    open_database(old).close()
    open_database(tmp_path / "fresh.db").close()
    assert schema_of(old) == schema_of(tmp_path / "fresh.db")
    conn = sqlite3.connect(old)
    assert conn.execute("SELECT count(*) FROM runs").fetchone() == (1,)
    conn.close()


def test_live_tables_equal_what_the_migrations_build(tmp_path: Path) -> None:
    """TABLES (the documentation of the schema) names exactly the columns a fresh database has."""
    db = open_database(tmp_path / "c.db")
    for name, spec in TABLES.items():
        assert list(db.table(name).columns_dict) == list(spec.columns), name
    db.close()


def test_changing_the_live_tables_does_not_change_past_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A column added to TABLES (without its migration) is not created by the old migrations."""
    runs = TABLES["runs"]
    grown = dataclasses.replace(runs, columns={**runs.columns, "not_yet_migrated": int})
    monkeypatch.setitem(schema.TABLES, "runs", grown)
    monkeypatch.setitem(schema.TABLES, "extra_table", TableSpec(columns={"id": int}, pk="id"))
    db = open_database(tmp_path / "c.db")
    assert "not_yet_migrated" not in db.table("runs").columns_dict
    assert not db.table("extra_table").exists()
    db.close()
