"""The store's resolver queue (save_resolution, select_urls_to_resolve) and the runs log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from scraper.model import Hop, Resolution
from scraper.store import (
    collect_stats,
    failed_backoff,
    finish_run,
    open_database,
    save_resolution,
    select_urls_to_resolve,
    start_run,
)
from scraper.store.urls import save_urls

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SHORT = "https://t.co/abc"
PLAIN = "https://example.org/page"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A fresh database holding one shortener URL and one plain URL, both pending."""
    database = open_database(tmp_path / "citations.db")
    with database.atomic():
        save_urls(database, [SHORT, PLAIN], seen_at="2024-05-01T00:00:00+00:00")
    yield database
    database.close()


def due(db: Database, at: datetime = NOW, **overrides: object) -> list[str]:
    """select_urls_to_resolve with default settings, overridable."""
    settings: dict[str, object] = {
        "ttl_days": 30.0,
        "resolve_all": False,
        "retry_failed": False,
        "max_attempts": 3,
    }
    settings.update(overrides)
    return select_urls_to_resolve(db, now=at, **settings)  # type: ignore[arg-type]


def url_row(db: Database, url: str) -> dict[str, object]:
    """The urls row of ``url``."""
    return next(iter(db.table("urls").rows_where("url = ?", [url])))


def fail(db: Database, url: str = SHORT, at: datetime = NOW) -> None:
    """Record a timeout for ``url`` at ``at``."""
    save_resolution(
        db,
        Resolution(
            url=url,
            status="failed",
            error="timeout: no answer in 15 s",
            hops=[Hop(url, None, None, "none")],
        ),
        now=at,
    )


def test_save_resolution_records_hops_and_category(db: Database) -> None:
    """A resolution stores the chain, its end, the error category and counts the attempt."""
    hops = [
        Hop(SHORT, 200, "https://bit.ly/x", "meta-refresh"),
        Hop("https://bit.ly/x", 301, "https://site.example/a", "header"),
        Hop("https://site.example/a", 404, None, "none"),
    ]
    save_resolution(
        db,
        Resolution(
            url=SHORT,
            status="failed",
            expanded_url="https://site.example/a",
            final_url="https://site.example/a",
            final_status_code=404,
            error="http_4xx: 404 Not Found",
            hops=hops,
        ),
        now=NOW,
    )
    row = url_row(db, SHORT)
    assert (row["status"], row["hops"], row["attempts"]) == ("failed", 3, 1)
    assert (row["error_category"], row["final_status_code"]) == ("http_4xx", 404)
    assert row["next_attempt_at"] == "2024-05-01T13:00:00+00:00"
    redirects = list(db.query("SELECT hop, url, status_code, via FROM redirects ORDER BY hop"))
    assert [(r["hop"], r["via"]) for r in redirects] == [
        (1, "meta-refresh"),
        (2, "header"),
        (3, "none"),
    ]
    resolved = Resolution(
        url=SHORT,
        status="resolved",
        final_url="https://site.example/b",
        final_status_code=200,
        hops=[Hop(SHORT, 301, "https://site.example/b", "header")],
    )
    save_resolution(db, resolved, now=NOW + timedelta(hours=2))
    row = url_row(db, SHORT)
    assert (row["status"], row["hops"], row["attempts"], row["error"]) == ("resolved", 1, 2, None)
    assert row["expanded_url"] == "https://site.example/a"  # not cleared by a shorter answer
    assert row["resolved_at"] == "2024-05-01T14:00:00+00:00"
    assert row["next_attempt_at"] is None
    assert db.table("redirects").count == 1


def test_save_resolution_creates_a_missing_url(db: Database) -> None:
    """Resolving a URL the database has never seen adds its row."""
    save_resolution(
        db,
        Resolution(url="https://bit.ly/new", status="resolved", final_url="https://a.example/"),
        now=NOW,
    )
    row = url_row(db, "https://bit.ly/new")
    assert (row["status"], row["host"], row["is_shortener"]) == ("resolved", "bit.ly", 1)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_deferral_moves_next_attempt_without_counting(db: Database) -> None:
    """A deferred URL waits until next_attempt_at and its attempts are not counted."""
    later = "2024-05-01T14:00:00Z"
    save_resolution(
        db,
        Resolution(
            url=SHORT, status="pending", error="http_429: retry after 7200", next_attempt_at=later
        ),
        now=NOW,
    )
    row = url_row(db, SHORT)
    assert (row["status"], row["attempts"]) == ("pending", 0)
    assert row["next_attempt_at"] == "2024-05-01T14:00:00+00:00"
    assert row["error_category"] == "http_429"
    assert due(db) == []
    assert due(db, NOW + timedelta(hours=2)) == [SHORT]


def test_failed_backoff_grows_and_caps() -> None:
    """The wait after a failure quadruples from one hour and stops at thirty days."""
    assert failed_backoff(1) == timedelta(hours=1)
    assert failed_backoff(2) == timedelta(hours=4)
    assert failed_backoff(3) == timedelta(hours=16)
    assert failed_backoff(6) == timedelta(days=30)
    assert failed_backoff(1000) == timedelta(days=30)
    assert failed_backoff(0) == timedelta(hours=1)


def test_select_takes_pending_shorteners_unless_resolve_all(db: Database) -> None:
    """Only shortener URLs are due by default; resolve_all adds every pending URL."""
    assert due(db) == [SHORT]
    assert due(db, resolve_all=True) == [SHORT, PLAIN]
    assert due(db, resolve_all=True, limit=1) == [SHORT]


def test_select_honours_backoff_and_max_attempts(db: Database) -> None:
    """A failed URL waits out its backoff and stops after max_attempts."""
    fail(db)
    assert due(db) == []
    assert due(db, NOW + timedelta(minutes=61)) == [SHORT]
    fail(db, at=NOW + timedelta(hours=1))
    assert due(db, NOW + timedelta(hours=2)) == []
    assert due(db, NOW + timedelta(hours=5, minutes=1)) == [SHORT]
    fail(db, at=NOW + timedelta(hours=6))
    assert url_row(db, SHORT)["attempts"] == 3
    assert due(db, NOW + timedelta(days=365)) == []
    assert due(db, NOW + timedelta(days=365), max_attempts=4) == [SHORT]
    assert due(db, NOW, retry_failed=True) == [SHORT]


def test_select_retries_blocked_only_on_request(db: Database) -> None:
    """A blocked URL is never due again unless retry_failed."""
    save_resolution(db, Resolution(url=SHORT, status="blocked", error="blocked: 10.0.0.1"), now=NOW)
    assert url_row(db, SHORT)["next_attempt_at"] is None
    assert due(db, NOW + timedelta(days=400)) == []
    assert due(db, retry_failed=True) == [SHORT]


def test_select_rechecks_resolved_after_ttl(db: Database) -> None:
    """A resolved URL is due again once it is older than ttl_days."""
    save_resolution(db, Resolution(url=SHORT, status="resolved", final_url=PLAIN), now=NOW)
    assert due(db, NOW + timedelta(days=29)) == []
    assert due(db, NOW + timedelta(days=31)) == [SHORT]
    assert due(db, NOW + timedelta(days=2), ttl_days=1) == [SHORT]


def test_select_puts_never_tried_urls_first(db: Database) -> None:
    """Pending URLs come before failed retries and stale resolved ones."""
    with db.atomic():
        save_urls(db, ["https://bit.ly/late"], seen_at="2024-05-01T00:00:00+00:00")
    fail(db)
    assert due(db, NOW + timedelta(hours=2)) == ["https://bit.ly/late", SHORT]


def test_select_rejects_negative_settings(db: Database) -> None:
    """Negative ttl, attempts or limit are a ValueError, not an empty answer."""
    with pytest.raises(ValueError, match="ttl_days"):
        due(db, ttl_days=-1)
    with pytest.raises(ValueError, match="limit"):
        due(db, limit=-5)


def test_runs_are_recorded_and_crashed_runs_interrupted(db: Database) -> None:
    """finish_run stores counts; a run left running is marked interrupted by the next start."""
    crashed = start_run(db, "2024-05-01T10:00:00Z")
    run_id = start_run(db, "2024-05-01T11:00:00Z")
    assert db.table("runs").get(crashed)["status"] == "interrupted"
    finish_run(
        db,
        run_id,
        status="completed",
        counts={"fetched": 3, "new_articles": 2, "urls_resolved": 5},
        finished_at="2024-05-01T11:05:00+00:00",
    )
    row = db.table("runs").get(run_id)
    assert (row["status"], row["fetched"], row["new_articles"], row["urls_resolved"]) == (
        "completed",
        3,
        2,
        5,
    )
    assert row["started_at"] == "2024-05-01T11:00:00+00:00"
    runs = collect_stats(db)["runs"]
    assert [r["id"] for r in runs] == [run_id, crashed]


def test_finish_run_rejects_unknown_input(db: Database) -> None:
    """Unknown counts, statuses or run ids raise ValueError naming the problem."""
    run_id = start_run(db, "2024-05-01T10:00:00Z")
    with pytest.raises(ValueError, match="bogus"):
        finish_run(db, run_id, status="completed", counts={"bogus": 1}, finished_at="2024-05-01")
    with pytest.raises(ValueError, match="status"):
        finish_run(db, run_id, status="done", counts={}, finished_at="2024-05-01")
    with pytest.raises(ValueError, match="999"):
        finish_run(db, 999, status="failed", counts={}, finished_at="2024-05-01")
