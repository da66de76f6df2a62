"""WARC input at scale: the reader, one process against a Dask cluster, and the writer's ceiling.

Builds a gzipped WARC of ``--pages`` response records (default 10,000) from the pages of
``../shared/corpus``, each under its own URL, into ``--work`` (not kept in the project), then:

1. **Readers**: every record's payload read with fastwarc and with warcio (pages/s).
2. **Runs**: ``scraper run WARC --no-resolve`` in a fresh process, in one process and with
   ``--workers N``, each on a fresh database, ``--repeat`` alternating pairs (the machine's
   speed drifts: the median of the pairs' speed-ups is reported). Wall time, pages/s;
   peak RSS of the client and of each worker (the process tree sampled every 0.2 s with
   psutil), and whether the two databases hold the same rows.
3. **The writer's ceiling**: the parsed articles of the corpus stored again and again under
   distinct URLs with ``store.save_article`` alone (no reading, no parsing): pages/s of
   results the single SQLite writer can take.

    .venv/bin/python bench/bench_warc.py [--pages 10000] [--workers 2] [--repeat 3]
        [--work /tmp/bench-warc]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import os
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def corpus_pages(corpus: Path) -> list[bytes]:
    """The bytes of every corpus page."""
    with (corpus / "pages.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(corpus / "pages" / row["file"]).read_bytes() for row in rows]


def build_warc(path: Path, pages: list[bytes], count: int) -> None:
    """``count`` gzipped response records, the corpus pages in turn under distinct URLs."""
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for number in range(count):
            body = pages[number % len(pages)]
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                f"https://news{number % 97}.example/story/{number}.html",
                "response",
                payload=io.BytesIO(body),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": "2024-05-01T12:00:00Z"},
            )
            writer.write_record(record)


def time_readers(path: Path) -> dict[str, float]:
    """Seconds for fastwarc and for warcio to read every response payload."""
    from fastwarc.warc import ArchiveIterator as FastIterator
    from fastwarc.warc import WarcRecordType

    results: dict[str, float] = {}
    started = time.perf_counter()
    with path.open("rb") as stream:
        for record in FastIterator(stream, record_types=WarcRecordType.response):
            record.reader.read()
    results["fastwarc"] = time.perf_counter() - started
    started = time.perf_counter()
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                record.content_stream().read()
    results["warcio"] = time.perf_counter() - started
    return results


class TreeSampler:
    """Peak RSS of a process and of each of its descendants, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peaks: dict[int, tuple[str, int]] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(0.2):
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            for process in processes:
                try:
                    rss = process.memory_info().rss
                    name = " ".join(process.cmdline()[1:4])[:60]
                except psutil.Error:
                    continue
                if rss > self.peaks.get(process.pid, ("", 0))[1]:
                    self.peaks[process.pid] = (name, rss)

    def stop(self) -> dict[int, tuple[str, int]]:
        """Stop sampling; peak RSS by pid."""
        self.done.set()
        self.thread.join()
        return self.peaks


def run_scraper(warc: Path, db: Path, extra: list[str]) -> dict[str, Any]:
    """``scraper run WARC --no-resolve`` in a fresh process: wall time and peak memory."""
    command = [sys.executable, "-m", "scraper", "run", str(warc), "--db", str(db)]
    command += ["--no-resolve", "--no-progress", *extra]
    started = time.perf_counter()
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as child:
        sampler = TreeSampler(child.pid)
        _, stderr = child.communicate()
    wall = time.perf_counter() - started
    peaks = sampler.stop()
    if child.returncode != 0:
        raise SystemExit(f"scraper run failed ({child.returncode}): {stderr[-2000:]}")
    client = peaks.get(child.pid, ("", 0))[1]
    workers = sorted(
        (rss for pid, (name, rss) in peaks.items() if pid != child.pid and "spawn" in name),
        reverse=True,
    )
    others = [rss for pid, (name, rss) in peaks.items() if pid != child.pid]
    return {
        "seconds": wall,
        "client_mb": client / 2**20,
        "worker_mb": [rss / 2**20 for rss in (workers or others)],
        "summary": stderr.strip().splitlines()[-1] if stderr.strip() else "",
    }


def table_rows(db: Path) -> dict[str, int]:
    """Rows per table (FTS, run log, WARC bookkeeping and summaries aside)."""
    conn = sqlite3.connect(db)
    names = [
        row[0]
        for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not row[0].startswith(("_", "sqlite_", "summary_"))
        and "_fts" not in row[0]
        and row[0] not in ("runs", "warc_files")
    ]
    counts = {name: conn.execute(f"SELECT count(*) FROM [{name}]").fetchone()[0] for name in names}
    conn.close()
    return counts


def same_rows(one: Path, other: Path) -> bool:
    """Whether the two databases hold the same rows in every content table."""
    conn = sqlite3.connect(one)
    conn.execute("ATTACH ? AS other", [str(other)])
    names = list(table_rows(one))
    columns_of = {
        name: [
            row[1]
            for row in conn.execute(f"PRAGMA table_info([{name}])")
            if row[1] not in ("fetched_at", "first_seen_at", "updated_at")
        ]
        for name in names
    }
    for name, columns in columns_of.items():
        listed = ", ".join(f"[{c}]" for c in columns)
        differ = conn.execute(
            f"SELECT count(*) FROM (SELECT {listed} FROM main.[{name}] "
            f"EXCEPT SELECT {listed} FROM other.[{name}])"
        ).fetchone()[0]
        if differ:
            conn.close()
            return False
    conn.close()
    return True


def writer_ceiling(pages: list[bytes], count: int, db_path: Path) -> float:
    """Pages/s that ``store.save_article`` alone takes, for ``count`` parsed pages."""
    from scraper import store
    from scraper.parse import parse_document

    articles = [parse_document(page, source=f"page-{n}") for n, page in enumerate(pages)]
    for leftover in db_path.parent.glob(f"{db_path.name}*"):
        leftover.unlink()
    db = store.open_database(db_path, writable=True)
    started = time.perf_counter()
    for number in range(count):
        url = f"https://news{number % 97}.example/story/{number}.html"
        article = dataclasses.replace(articles[number % len(articles)], url=url)
        store.save_article(
            db, article, source="bench.warc.gz", fetched_at="2024-05-01T12:00:00+00:00"
        )
    seconds = time.perf_counter() - started
    db.close()
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-warc"))
    parser.add_argument("--repeat", type=int, default=1, help="alternating pairs of runs")
    args = parser.parse_args()
    if not (args.corpus / "pages.tsv").exists():
        raise SystemExit(f"no corpus at {args.corpus} (../shared/corpus beside the checkout)")
    args.work.mkdir(parents=True, exist_ok=True)
    pages = corpus_pages(args.corpus)
    warc = args.work / f"corpus-{args.pages}.warc.gz"
    if not warc.exists():
        build_warc(warc, pages, args.pages)
    print(f"WARC: {args.pages} pages, {warc.stat().st_size / 2**20:.0f} MiB gzipped ({warc})")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    readers = time_readers(warc)
    for name, seconds in readers.items():
        print(f"reader {name:8s}: {seconds:6.2f} s  {args.pages / seconds:8.0f} pages/s")
    print(f"fastwarc reads {readers['warcio'] / readers['fastwarc']:.1f}x as fast as warcio")

    # The pairs alternate, so a slow spell of the (shared) machine hits both sides alike;
    # the speed-up reported is the median of the pairs' own speed-ups.
    one_label, many_label = "one process", f"--workers {args.workers}"
    ratios: list[float] = []
    runs: dict[str, dict[str, Any]] = {}
    for pair in range(1, args.repeat + 1):
        for label, extra in ((one_label, []), (many_label, ["--workers", str(args.workers)])):
            db = args.work / f"{label.replace(' ', '-').strip('-')}.db"
            for leftover in args.work.glob(f"{db.name}*"):
                leftover.unlink()
            runs[label] = run_scraper(warc, db, extra)
            runs[label]["db"] = db
            result = runs[label]
            workers = ", ".join(f"{mb:.0f}" for mb in result["worker_mb"]) or "-"
            rate = args.pages / result["seconds"]
            print(
                f"pair {pair} {label:12s}: {result['seconds']:6.1f} s  {rate:6.1f} pages/s"
                f"  client peak {result['client_mb']:.0f} MB  workers peak {workers} MB"
            )
        ratios.append(runs[one_label]["seconds"] / runs[many_label]["seconds"])
        print(f"pair {pair} speed-up with --workers {args.workers}: {ratios[-1]:.2f}x")
    one, many = runs[one_label], runs[many_label]
    print(
        f"speed-up with --workers {args.workers}, median of {len(ratios)} pairs: "
        f"{statistics.median(ratios):.2f}x ({', '.join(f'{r:.2f}' for r in ratios)})"
    )
    print(f"same rows in both databases: {same_rows(one['db'], many['db'])}")
    print(f"rows: {table_rows(one['db'])}")
    ceiling = writer_ceiling(pages, min(args.pages, 5000), args.work / "writer.db")
    print(f"SQLite writer alone: {ceiling:.0f} pages/s of results")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
