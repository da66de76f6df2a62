"""Progress of a run, per stage (fetch, parse, resolve).

On a terminal each stage gets a tqdm bar on stderr. Anywhere else (cron, systemd, CI), or
with ``--no-progress``, a stage logs a plain line at most every ``interval`` seconds and one
when it ends, through the ``scraper.progress`` logger at INFO level (shown with ``-v``).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

log = logging.getLogger("scraper.progress")

DEFAULT_INTERVAL = 10.0


class Stage:
    """The progress of one stage: a count that advances towards a total that may grow."""

    def __init__(
        self,
        name: str,
        *,
        total: int | None,
        bar: Any | None,
        interval: float,
        clock: Callable[[], float],
    ) -> None:
        self.name = name
        self.total = total
        self.done = 0
        self._bar = bar
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._last_line = self._started
        self._closed = False
        self.note = ""

    def set_note(self, note: str) -> None:
        """Show ``note`` beside the count (the workers alive, the dashboard's address)."""
        self.note = note
        if self._bar is not None:
            self._bar.set_postfix_str(note, refresh=False)

    def add_total(self, count: int) -> None:
        """Grow the total (a feed or sitemap added ``count`` more items)."""
        self.total = (self.total or 0) + count
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more items done; log a line if the interval has passed."""
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
            return
        now = self._clock()
        if now - self._last_line >= self._interval:
            self._last_line = now
            log.info("%s: %s", self.name, self.describe(now))

    def describe(self, now: float | None = None) -> str:
        """``done/total (pct%), rate/s`` for the plain log lines."""
        elapsed = max((self._clock() if now is None else now) - self._started, 1e-9)
        rate = self.done / elapsed
        note = f", {self.note}" if self.note else ""
        if self.total:
            share = 100.0 * self.done / self.total
            return f"{self.done}/{self.total} ({share:.0f}%), {rate:.1f}/s{note}"
        return f"{self.done}, {rate:.1f}/s{note}"

    def close(self) -> None:
        """End the stage: close its bar, or log its final line."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif self.done or self.total:
            elapsed = self._clock() - self._started
            log.info("%s: done, %s in %.1f s", self.name, self.describe(), elapsed)


class Progress:
    """Creates a :class:`Stage` per stage; bars only when ``enabled`` and stderr is a terminal."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.bars = enabled and _is_terminal(self.stream)
        self.interval = interval
        self.clock = clock
        self._stages: list[Stage] = []

    def stage(self, name: str, total: int | None = None, unit: str = "page") -> Stage:
        """Start a stage called ``name`` with an optional (growable) ``total``."""
        bar = None
        if self.bars:
            from tqdm import tqdm  # on first use: cron and CI runs draw no bars

            bar = tqdm(
                total=total,
                desc=name,
                unit=unit,
                file=self.stream,
                leave=True,
                dynamic_ncols=True,
            )
        stage = Stage(name, total=total, bar=bar, interval=self.interval, clock=self.clock)
        self._stages.append(stage)
        return stage

    @contextlib.contextmanager
    def logging_redirected(self) -> Iterator[None]:
        """While bars are shown, route log records through tqdm so they do not tear a bar."""
        if not self.bars:
            yield
            return
        from tqdm.contrib.logging import logging_redirect_tqdm

        with logging_redirect_tqdm():
            yield

    def close(self) -> None:
        """Close every stage still open."""
        for stage in self._stages:
            stage.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
