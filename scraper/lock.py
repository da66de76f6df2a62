"""One ``scraper run`` per database at a time: an ``flock`` on ``<db>.lock`` beside it.

The lock is an advisory ``fcntl.flock`` on a separate file, never on the database itself
(SQLite has its own locking, and Datasette must keep reading the database during a run).
The kernel drops the lock when the holder's file descriptor closes, so a process killed
with ``kill -9`` never leaves a stale lock behind. The file holds the holder's pid, for the
message the second run prints; it is left in place on release, because deleting it would
let two runs lock two different files of the same name.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from scraper.errors import LockHeldError, ScraperError


def lock_path(db_path: str | os.PathLike[str]) -> Path:
    """The lock file of a database: ``<db>.lock`` in the same directory."""
    return Path(f"{os.fspath(db_path)}.lock")


class RunLock:
    """An exclusive, non-blocking lock on a database; use it as a context manager.

    ``acquire`` raises :class:`~scraper.errors.LockHeldError` at once when another process
    (or another :class:`RunLock` in this one) holds it, and
    :class:`~scraper.errors.ScraperError` when the lock file cannot be created.
    """

    def __init__(self, db_path: str | os.PathLike[str]) -> None:
        self.db_path = os.fspath(db_path)
        self.path = lock_path(db_path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock and write our pid into the lock file, or raise LockHeldError."""
        if self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ScraperError(
                f"cannot create the lock file {self.path}: {exc.strerror or exc}"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"pid {holder}" if holder else "another process"
            raise LockHeldError(
                f"another scraper run ({who}) is working on {self.db_path} "
                f"(lock file {self.path}); try again when it has finished"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (the file stays; see the module docstring)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    """The pid written in a lock file, if it holds one."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
