"""Write transactions that take SQLite's write lock when they begin.

A plain ``BEGIN`` (what ``Database.atomic`` issues) is deferred: the transaction reads
under a snapshot and asks for the write lock only at its first write. If another
connection wrote in between, SQLite cannot upgrade the stale snapshot and fails at once
with ``database is locked``, whatever the busy timeout. ``BEGIN IMMEDIATE`` takes the
write lock first, so a save that reads and then writes waits its turn instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """One ``BEGIN IMMEDIATE`` transaction: committed at the end, rolled back on error.

    Inside another transaction it is a savepoint of that one (``Database.atomic``).
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
