"""End to end: ``scraper run`` over a loopback news site whose links go through the world.

    .venv/bin/python bench/compare_end_to_end.py                 # 2,000 articles
    .venv/bin/python bench/compare_end_to_end.py --articles 500

The site is ``tests/site_server.py`` (as in ``bench/bench_batch.py``: a sitemap index,
ETag and Last-Modified, 304 on a conditional GET), serving article pages made here: about
20 KB each, two embedded tweets (each with a t.co link) and two links in the body (a
short link and a direct one). Every short link is a URL of the resolver benchmark's
world (``bench/world.py``, 20 ms per answer, the same faults), so nothing leaves
loopback. The run is the real command line, ``scraper run --config ...``, in its own
process under the loopback guard, into a fresh database: wall time and peak RSS (from
``wait4``). Then the same run again: every page answers 304 and every URL is already
resolved, so the second run should take at most a tenth of the first (three reruns by
default; their median is the figure).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench/ is not a package: its modules sit beside this file
import world
from bench_batch import conditional_get_floor, start_site, startup_time

POOL = 5000  # short links are drawn from the world's first POOL URLs (popular ones repeat)
LATENCY = 0.02
# the sitemaps date every page, as news sites' sitemaps do (the pages' own Last-Modified)
SITE_LASTMOD = "2023-11-14T22:13:20+00:00"
FETCH_CONCURRENCY = 8  # as bench/bench_batch.py
FILLER = (
    "<p>The council met on Tuesday to discuss the budget, the new library and the state of "
    "the roads; residents who spoke asked for clearer figures and earlier notice.</p>\n"
)


def article_page(number: int, place: world.World, rng: random.Random) -> tuple[str, list[int]]:
    """An article page and the world indexes of the short links it carries."""
    short = [rng.randrange(POOL) for _ in range(3)]
    tweets = []
    for slot, index in enumerate(short[:2]):
        status_id = 1_500_000_000_000_000_000 + number * 10 + slot
        handle = f"source{(number + slot) % 300}"
        tweets.append(
            f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Statement {slot} on '
            f'item {number} <a href="{place.short_url(index)}">{place.short_url(index)}</a></p>'
            f"&mdash; Source {handle} (@{handle}) "
            f'<a href="https://twitter.com/{handle}/status/{status_id}">March 3, 2022</a>'
            f"</blockquote>"
        )
    direct = place.destination_url(rng.randrange(POOL))
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Local news {number}</title>
<meta property="article:published_time" content="2022-03-{number % 28 + 1:02d}T08:00:00Z">
</head><body><article><h1>Local news {number}</h1>
{FILLER * 40}
{tweets[0]}
<p>Read <a href="{place.short_url(short[2])}">the report</a> and
<a href="{direct}">the minutes</a>.</p>
{FILLER * 40}
{tweets[1]}
<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>
</article></body></html>
"""
    return html, short


def write_site(folder: Path, articles: int, place: world.World) -> set[int]:
    """Write the article pages; return the world indexes of every short link in them."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2022)
    used: set[int] = set()
    for number in range(articles):
        html, short = article_page(number, place, rng)
        (folder / f"a{number:06d}.html").write_text(html, encoding="utf-8")
        used.update(short)
    return used


def write_config(folder: Path, base: str, *, skip_unchanged: bool = True) -> Path:
    """The run's config: the site's sitemap index; resolver on, the world's shorteners.

    ``skip_unchanged`` false: the sitemap's ``<lastmod>`` is not trusted (every known page
    gets a conditional GET).
    """
    config = folder / ("config.toml" if skip_unchanged else "config-conditional.toml")
    shorteners = ", ".join(f'"{h}"' for h in world.SHORTENERS)
    config.write_text(
        f"""
[database]
path = "{folder / "bench.db"}"
[sources]
paths = []
feeds = ["{base}/sitemap_index.xml"]
[fetch]
allow_private = true
concurrency = {FETCH_CONCURRENCY}
per_host = {FETCH_CONCURRENCY}
skip_unchanged = {str(skip_unchanged).lower()}
[resolver]
allow_private = true
shorteners = [{shorteners}]
concurrency = 100
per_host = 100
timeout = {world.TOOL_TIMEOUT}
"""
    )
    return config


def timed_run(config: Path) -> world.Measured:
    """``scraper run --config ...`` in its own process, under the loopback guard."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--child-cli", "--"]
    measured = world.run_measured(
        [*argv, "run", "--config", str(config), "--no-progress"], cwd=str(config.parent)
    )
    if measured.returncode != 0:
        raise SystemExit(f"scraper run failed ({measured.returncode}):\n{measured.stderr}")
    return measured


def database_figures(db: Path, place: world.World, used: set[int]) -> dict[str, Any]:
    """The last run's counts, URLs by status, and stored final URLs against the truth."""
    conn = sqlite3.connect(db)
    try:
        cursor = conn.execute("select * from runs order by id desc limit 1")
        names = [d[0] for d in cursor.description]
        last = dict(zip(names, cursor.fetchone(), strict=True))
        hosts = ", ".join("?" * len(world.SHORTENERS))
        statuses = dict(
            conn.execute(
                f"select status, count(*) from urls where host in ({hosts}) group by status",
                tuple(world.SHORTENERS),
            )
        )
        stored = dict(conn.execute("select url, final_url from urls"))
        articles = conn.execute("select count(*) from articles").fetchone()[0]
        citations = conn.execute("select count(*) from citations").fetchone()[0]
    finally:
        conn.close()
    correct = resolvable = 0
    for index in used:
        truth = place.truth(index)
        if truth.final_url is None:
            continue  # a hanging hop: no final URL to compare
        resolvable += 1
        correct += stored.get(truth.url) == truth.final_url
    return {
        "run": last,
        "short_links_by_status": statuses,
        "articles": articles,
        "citations": citations,
        "short_links": len(used),
        "final_url_correct": correct,
        "final_url_resolvable": resolvable,
    }


def compare(articles: int, reruns: int = 3) -> dict[str, Any]:
    """Build the site, run ``scraper run`` once, then ``reruns`` times again; the figures.

    Every rerun finds nothing changed; their median is the incremental run's figure (one
    rerun takes a few seconds, so the machine's noise weighs on it more than on the first).
    """
    world.raise_fd_limit()
    world.install_loopback_guard()  # this process talks to the site too (the GET floor)
    with world.running_world() as port, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        place = world.World(port, world.make_token(1, LATENCY))
        used = write_site(folder / "pages", articles, place)
        server, base = start_site(articles, folder / "pages", lastmod=SITE_LASTMOD)
        try:
            config = write_config(folder, base)
            db = folder / "bench.db"
            print(f"end to end: {articles} articles at {base}, {len(used)} distinct short links")
            first = timed_run(config)
            after_first = database_figures(db, place, used)
            print(
                f"  first run:  {first.wall:6.2f} s  RSS {first.max_rss_mb:4.0f} MB  "
                f"{after_first['articles']} articles, {after_first['citations']} citations, "
                f"short links {after_first['short_links_by_status']}"
            )
            again = []
            for _ in range(reruns):
                rerun = timed_run(config)
                counts = database_figures(db, place, used)["run"]
                again.append({"seconds": rerun.wall, "max_rss_mb": rerun.max_rss_mb, **counts})
                print(
                    f"  rerun:      {rerun.wall:6.2f} s  RSS {rerun.max_rss_mb:4.0f} MB  "
                    f"unchanged by sitemap {counts['listed_unchanged']}, "
                    f"not modified {counts['not_modified']}, fetched {counts['fetched']}, "
                    f"URLs resolved {counts['urls_resolved']}"
                )
            conditional = []  # the same reruns, not trusting the sitemap's <lastmod>
            plain = write_config(folder, base, skip_unchanged=False)
            for _ in range(reruns):
                rerun = timed_run(plain)
                counts = database_figures(db, place, used)["run"]
                conditional.append(
                    {"seconds": rerun.wall, "max_rss_mb": rerun.max_rss_mb, **counts}
                )
                print(
                    f"  rerun, lastmod not trusted: {rerun.wall:6.2f} s  not modified "
                    f"{counts['not_modified']}, fetched {counts['fetched']}"
                )
            # where a rerun goes: interpreter start and imports, and the conditional GETs
            # alone (the same fetcher, no database), measured now against the same site
            startup = startup_time()
            floor = conditional_get_floor(db, FETCH_CONCURRENCY, FETCH_CONCURRENCY)
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=10)
            if server.stdout is not None:
                server.stdout.close()
    median = statistics.median(r["seconds"] for r in again)
    median_conditional = statistics.median(r["seconds"] for r in conditional)
    print(
        f"  rerun / first = {median / first.wall:.3f} (median of {reruns}); "
        f"not trusting <lastmod>: {median_conditional / first.wall:.3f}, of which start-up "
        f"{startup:.2f} s + conditional GETs {floor:.2f} s + the rest"
    )
    return {
        "articles": articles,
        "latency": LATENCY,
        "first": {"seconds": first.wall, "max_rss_mb": first.max_rss_mb, **after_first},
        "reruns": again,
        "rerun_seconds": median,
        "ratio": median / first.wall,
        "conditional_reruns": conditional,
        "conditional_rerun_seconds": median_conditional,
        "conditional_ratio": median_conditional / first.wall,
        "startup_seconds": startup,
        "conditional_get_seconds": floor,
    }


def child_cli(args: list[str]) -> None:
    """Run the scraper's command line in this process, under the loopback guard."""
    world.install_loopback_guard()
    from scraper.cli import main as scraper_main

    sys.argv = ["scraper", *args]
    scraper_main()


def main() -> None:
    """Command line: run the comparison, print it, and optionally save it as JSON."""
    if len(sys.argv) > 2 and sys.argv[1] == "--child-cli":
        child_cli(sys.argv[3:] if sys.argv[2] == "--" else sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--reruns", type=int, default=3, help="incremental runs after the first")
    parser.add_argument("--json", type=Path, help="write the results here")
    options = parser.parse_args()
    report = compare(options.articles, options.reruns)
    if options.json:
        options.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
