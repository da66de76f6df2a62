"""Time every table and view page (with its facets), canned query and the dashboard in Datasette.

    python bench/make_large_db.py /tmp/large.db
    python bench/bench_datasette.py /tmp/large.db

Requests go through Datasette's in-process ASGI client (``datasette.client``), with the
project's plugin and Datasette's default time limits (1 s per query, 200 ms per facet),
set up as ``scraper serve`` does (``--plain``: as plain ``datasette FILE`` does).
Each page is requested once to warm the caches, then timed as the best of ``--repeat``
requests. The dashboard's time is its page plus every chart's query, one after another
(a browser runs them side by side, so this is an upper bound). Prints one line per page,
and whether it met the bar: under 1 s per page, under 2 s for the dashboard. A page that
answered with an error, a timed-out facet or an interrupted query is flagged.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from datasette.app import Datasette
from datasette.utils import tilde_encode

from scraper.datasette_plugin import get_metadata
from scraper.serve import build_datasette, database_name, register_plugin

PAGE_BAR_S = 1.0
DASHBOARD_BAR_S = 2.0


async def timed(ds: Any, path: str, repeat: int) -> tuple[float, str]:
    """Best time of ``repeat`` GETs of ``path`` (after one warm-up), and a problem if any."""
    response = await ds.client.get(path)
    problem = ""
    if response.status_code != 200:
        problem = f"HTTP {response.status_code}"
    elif "sql interrupted" in response.text.lower() or "took too long" in response.text.lower():
        problem = "SQL interrupted"
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        await ds.client.get(path)
        best = min(best, time.perf_counter() - started)
    return best, problem


async def facets_timed_out(ds: Any, path: str) -> list[str]:
    """The facets Datasette gave up on for a table page (its JSON says which)."""
    response = await ds.client.get(path + ".json?_size=1")
    data = response.json() if response.status_code == 200 else {}
    results = data.get("facet_results") or {}
    return list(results.get("timed_out") or data.get("facets_timed_out") or [])


async def bench(
    db_path: Path, repeat: int, plain: bool = False
) -> list[tuple[str, float, str, float]]:
    """(page, seconds, problem, bar) for every page of the database.

    ``plain``: Datasette as plain ``datasette FILE`` starts it (facet suggestions on),
    instead of as ``scraper serve`` does.
    """
    if plain:
        register_plugin()
        ds = Datasette([str(db_path)])
    else:
        ds = build_datasette(db_path)
    await ds.invoke_startup()
    name = database_name(ds)
    base = ds.urls.database(name)
    metadata = get_metadata(ds, None, None, None)
    conn = sqlite3.connect(db_path)
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY type, name"
        )
    ]
    top_handle = conn.execute("SELECT handle FROM most_cited_accounts LIMIT 1").fetchone()
    post_id = conn.execute("SELECT id FROM posts LIMIT 1 OFFSET 100").fetchone()
    conn.close()
    hidden = {
        table
        for table, entry in metadata["databases"][name]["tables"].items()
        if entry.get("hidden")
    }
    results: list[tuple[str, float, str, float]] = []
    for table in names:
        if table in hidden or table.startswith("sqlite_") or "_fts" in table:
            continue
        if table.startswith("posts_trigram"):
            continue
        path = f"{base}/{quote(table)}"
        seconds, problem = await timed(ds, path, repeat)
        late = await facets_timed_out(ds, path)
        if late:
            problem = (problem + " facets timed out: " + ", ".join(late)).strip()
        results.append((path, seconds, problem, PAGE_BAR_S))
    params = {
        "articles-citing-handle": f"handle={quote(top_handle[0] if top_handle else 'x')}",
        "search-posts": "q=flooding",
    }
    for query in metadata["databases"][name]["queries"]:
        path = f"{base}/{query}" + (f"?{params[query]}" if query in params else "")
        seconds, problem = await timed(ds, path, repeat)
        results.append((path, seconds, problem, PAGE_BAR_S))
    for extra in ("search-posts?q=flood*", "search-posts?q=" + quote("洪水")):
        seconds, problem = await timed(ds, f"{base}/{extra}", repeat)
        results.append((f"{base}/{extra}", seconds, problem, PAGE_BAR_S))
    if post_id:
        path = f"{base}/posts/{tilde_encode(post_id[0])}"
        seconds, problem = await timed(ds, path, repeat)
        results.append((path, seconds, problem, PAGE_BAR_S))
    for path in ("/", base, f"{base}/posts?_search=flooding"):
        seconds, problem = await timed(ds, path, repeat)
        results.append((path, seconds, problem, PAGE_BAR_S))
    dashboard = metadata["plugins"]["datasette-dashboards"][name]
    path = f"/-/dashboards/{quote(name)}"
    total, problem = await timed(ds, path, repeat)
    for chart in dashboard["charts"].values():
        chart_path = f"{base}.json?sql={quote(chart['query'])}&_shape=objects"
        seconds, chart_problem = await timed(ds, chart_path, repeat)
        total += seconds
        problem = problem or chart_problem
    results.append((path + " (page + every chart's query)", total, problem, DASHBOARD_BAR_S))
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line: the database, --repeat."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--plain", action="store_true", help="as plain `datasette FILE` (facet suggestions on)"
    )
    args = parser.parse_args(argv)
    results = asyncio.run(bench(args.db, args.repeat, args.plain))
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("| page | ms | bar | verdict |")
    print("| --- | ---: | ---: | --- |")
    failed = 0
    for path, seconds, problem, bar in results:
        ok = seconds < bar and not problem
        failed += not ok
        verdict = "ok" if ok else f"MISSED {problem}".strip()
        print(f"| `{path}` | {seconds * 1000:.0f} | {bar * 1000:.0f} | {verdict} |")
    print(f"{len(results) - failed} of {len(results)} pages met the bar")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
