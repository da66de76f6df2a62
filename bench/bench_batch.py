"""Benchmark: a batch run over a loopback news site, then the incremental run after it.

The site (``tests/site_server.py``, in its own process) serves N articles through a
sitemap index (a news sitemap and a gzip'd one), with ETag and Last-Modified. The
articles are the real saved pages of ``../shared/corpus/pages`` in turn (356 pages,
160 KB on average) when that folder exists, else small synthetic pages (``--pages``). Each run is
the real command line, ``python -m scraper run``, in a subprocess; its wall time and peak
RSS (``wait4``) are measured. The second run finds nothing changed: every page answers
304 to the conditional GET, so it should take at most a tenth of the first.

    .venv/bin/python bench/bench_batch.py --articles 2000
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SITE_SERVER = REPO / "tests" / "site_server.py"
CORPUS = REPO.parent / "shared" / "corpus" / "pages"


def start_site(
    articles: int, corpus: Path | None, lastmod: str | None = None
) -> tuple[subprocess.Popen[str], str]:
    """The loopback site in a separate process, and its base URL (``lastmod``: the
    sitemaps date every page)."""
    extra = ["--corpus", str(corpus)] if corpus else []
    extra += ["--lastmod", lastmod] if lastmod else []
    server = subprocess.Popen(
        [sys.executable, str(SITE_SERVER), "--articles", str(articles), *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    base = server.stdout.readline().strip()
    if not base.startswith("http://"):
        server.kill()
        raise SystemExit(f"the site server did not start: {base!r}")
    return server, base


def write_config(folder: Path, base: str, concurrency: int, per_host: int) -> Path:
    """A config that crawls the site's sitemap index; resolver off (no network at all)."""
    config = folder / "config.toml"
    config.write_text(
        f"""
[database]
path = "{folder / "bench.db"}"
[sources]
paths = []
feeds = ["{base}/sitemap_index.xml"]
[fetch]
allow_private = true
concurrency = {concurrency}
per_host = {per_host}
[resolver]
enabled = false
"""
    )
    return config


def timed_run(config: Path) -> tuple[float, float]:
    """Run ``scraper run`` once; return wall seconds and peak RSS in MB."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "scraper", "run", "--config", str(config), "--no-progress"],
        cwd=config.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stderr is not None
    message = process.stderr.read().decode()
    process.stderr.close()
    if process.returncode != 0:
        raise SystemExit(f"scraper run failed ({process.returncode}):\n{message}")
    print(f"    {message.strip().splitlines()[-1]}")
    return elapsed, usage.ru_maxrss / 1024  # ru_maxrss is in KB on Linux


def startup_time() -> float:
    """Wall seconds of starting Python and importing the CLI and the run (no work)."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import scraper.cli, scraper.run, scraper.fetch"], check=True
    )
    return time.perf_counter() - started


def conditional_get_floor(db: Path, concurrency: int, per_host: int) -> float:
    """Wall seconds of the second run's requests alone: every stored article fetched with
    its validators through the same fetcher, no robots.txt, no database writes."""
    import asyncio

    from scraper.config import FetchConfig
    from scraper.fetch import Fetcher, make_fetch_client

    conn = sqlite3.connect(db)
    try:
        known = conn.execute("select url, etag, last_modified from articles").fetchall()
    finally:
        conn.close()
    config = FetchConfig(
        allow_private=True, concurrency=concurrency, per_host=per_host, respect_robots=False
    )

    async def fetch_all() -> None:
        async with make_fetch_client(config) as client:
            fetcher = Fetcher(config, client)
            pending = list(known)

            async def worker() -> None:
                while pending:
                    url, etag, modified = pending.pop()
                    result = await fetcher.fetch(url, etag=etag, last_modified=modified)
                    assert result.status == "not_modified", result

            await asyncio.gather(*(worker() for _ in range(concurrency)))

    started = time.perf_counter()
    asyncio.run(fetch_all())
    return time.perf_counter() - started


def last_run(db: Path) -> dict[str, object]:
    """The counts of the latest ``runs`` row."""
    conn = sqlite3.connect(db)
    try:
        cursor = conn.execute("select * from runs order by id desc limit 1")
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))
    finally:
        conn.close()


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--per-host", type=int, default=8)
    parser.add_argument(
        "--pages",
        choices=["corpus", "synthetic"],
        default="corpus" if CORPUS.is_dir() else "synthetic",
        help="real saved pages from ../shared/corpus (default when present), or 1 KB ones",
    )
    options = parser.parse_args()
    corpus = CORPUS if options.pages == "corpus" else None
    if corpus is not None and not corpus.is_dir():
        raise SystemExit(f"no corpus at {corpus}; use --pages synthetic")
    server, base = start_site(options.articles, corpus)
    try:
        with tempfile.TemporaryDirectory() as folder:
            config = write_config(Path(folder), base, options.concurrency, options.per_host)
            db = Path(folder) / "bench.db"
            print(
                f"loopback site: {options.articles} {options.pages} articles at {base}; "
                f"concurrency {options.concurrency}, per_host {options.per_host}"
            )
            print("first run (everything new):")
            first, first_rss = timed_run(config)
            counts = last_run(db)
            fetched = int(str(counts["fetched"]))
            print(
                f"  wall {first:.2f} s, {fetched / first:.0f} pages/s, "
                f"peak RSS {first_rss:.0f} MB, new articles {counts['new_articles']}"
            )
            print("second run (nothing changed):")
            second, second_rss = timed_run(config)
            counts = last_run(db)
            print(
                f"  wall {second:.2f} s, peak RSS {second_rss:.0f} MB, "
                f"not modified {counts['not_modified']}, fetched {counts['fetched']}"
            )
            ratio = second / first
            verdict = "ok" if ratio <= 0.10 else "ABOVE the 0.10 bar"
            print(f"second / first = {ratio:.3f} ({verdict})")
            startup = startup_time()
            floor = conditional_get_floor(db, options.concurrency, options.per_host)
            print(
                f"where the second run goes: interpreter start and imports {startup:.2f} s; "
                f"the {fetched} conditional GETs alone (same fetcher, no DB) {floor:.2f} s; "
                f"the rest (sitemaps, bookkeeping) {max(second - startup - floor, 0):.2f} s"
            )
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


if __name__ == "__main__":
    main()
