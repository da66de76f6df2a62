"""The large-database generator of the Datasette benchmark, at a tiny scale."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from make_large_db import generate


def test_generator_writes_a_skewed_database_the_views_read(tmp_path: Path) -> None:
    """At 1/1000 scale: the counts asked for, every link's URL exists, summaries filled."""
    path = tmp_path / "tiny.db"
    counts = generate(path, scale=0.001, seed=3)
    assert (counts["articles"], counts["posts"], counts["links"], counts["urls"]) == (
        100,
        300,
        1000,
        300,
    )
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        (top, total) = conn.execute(
            "SELECT max(citations), sum(citations) FROM most_cited_accounts"
        ).fetchone()
        # Zipf-like: the most-cited account takes far more than an even share (1/30).
        assert top / total > 0.1
        assert conn.execute("SELECT count(*) FROM top_target_domains").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM redirects").fetchone()[0] > 300
    finally:
        conn.close()
