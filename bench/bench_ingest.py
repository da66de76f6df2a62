"""Ingesting big pages: peak memory per link, and how long parsing stalls the event loop.

Two measurements, each side by side in one run:

1. **Peak memory per link.** A local HTML file of N links is run through ``scraper run``
   in a fresh process (``ru_maxrss``), for this checkout and for an older revision
   (``--baseline``, unpacked from git into a temporary folder), with ``[fetch] max_bytes``
   raised so both read the file; then once more with the default cap, which skips it.
2. **Event-loop stall while parsing.** A ticker coroutine wakes every 5 ms while a page
   of N links is parsed inline on the loop, on a worker thread, or in a worker process;
   the longest gap between ticks is how long a fetch in flight would have been frozen.

    .venv/bin/python bench/bench_ingest.py --links 200000 --baseline c15bdc8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import resource, sys
from scraper.config import Config, DatabaseConfig, FetchConfig, ResolverConfig, SourcesConfig
from scraper.run import RunOptions, run_batch
path, db, max_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
config = Config(
    database=DatabaseConfig(db),
    sources=SourcesConfig(paths=[]),
    fetch=FetchConfig(max_bytes=max_bytes),
    resolver=ResolverConfig(enabled=False),
)
counts = run_batch(config, [path], RunOptions(resolve=False, progress=False))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, counts.links, counts.skipped)
"""


def write_page(path: Path, links: int) -> None:
    """An article of ``links`` paragraphs, each one link."""
    with path.open("w", encoding="utf-8") as out:
        out.write("<html><head><title>Links</title></head><body><article>\n")
        for number in range(links):
            out.write(f'<p><a href="https://example.org/page/{number}">link {number}</a></p>\n')
        out.write("</article></body></html>\n")


def unpack_revision(revision: str, into: Path) -> Path:
    """The ``scraper`` package of ``revision``, unpacked under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "scraper"],
        check=True,
        capture_output=True,
    ).stdout
    into.mkdir(parents=True, exist_ok=True)
    tar_path = into / "baseline.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    return into


def peak_rss(package_root: Path, page: Path, work: Path, max_bytes: int) -> tuple[int, int, int]:
    """Peak RSS (KiB), links stored and files skipped of one ``scraper run`` process."""
    db = work / f"db-{time.monotonic_ns()}.db"
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(page), str(db), str(max_bytes)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
    ).stdout.split()
    return int(out[0]), int(out[1]), int(out[2])


def parse_page(data: bytes) -> int:
    """Parse ``data`` as an article; the number of links (module level: picklable)."""
    from scraper.parse import parse_document

    return len(parse_document(data, source="bench").links)


async def loop_stall(data: bytes, how: str, executor: Executor | None) -> tuple[float, float]:
    """The longest gap between 5 ms ticks while ``data`` is parsed, and the parse's wall time."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)
    start = time.perf_counter()
    if how == "inline":
        parse_page(data)
    else:
        await asyncio.get_running_loop().run_in_executor(executor, parse_page, data)
    wall = time.perf_counter() - start
    done.set()
    await tick
    return max(gaps), wall


def measure_stalls(data: bytes) -> list[tuple[str, float, float]]:
    """Longest loop stall and parse wall time, inline, on a thread, in a process."""
    rows = []
    makers: dict[str, Callable[[], Executor | None]] = {
        "inline on the loop": lambda: None,
        "worker thread": lambda: ThreadPoolExecutor(1),
        "worker process": lambda: ProcessPoolExecutor(1),
    }
    for name, make in makers.items():
        executor = make()
        if executor is not None:  # start the worker before the clock does
            executor.submit(parse_page, b"<p>warm</p>").result()
        how = "inline" if executor is None else "executor"
        stall, wall = asyncio.run(loop_stall(data, how, executor))
        if executor is not None:
            executor.shutdown()
        rows.append((name, stall, wall))
    return rows


def main() -> None:
    """Run both measurements and print them as Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=200_000, help="links in the page")
    parser.add_argument("--baseline", default="c15bdc8", help="git revision to compare with")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        page = work / "links.html"
        write_page(page, args.links)
        tiny = work / "tiny.html"
        write_page(tiny, 1)
        size = page.stat().st_size
        baseline = unpack_revision(args.baseline, work / "baseline")
        print(f"\npage: {args.links:,} links, {size / 1e6:.1f} MB\n")
        print("| code | max_bytes | peak RSS | per link (over 1 link) | links stored | skipped |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        runs = [
            (f"baseline {args.baseline}", baseline, size + 1),
            ("this checkout", ROOT, size + 1),
            ("this checkout", ROOT, 10_000_000),
        ]
        for name, package_root, cap in runs:
            floor, _, _ = peak_rss(package_root, tiny, work, cap)
            rss, links, skipped = peak_rss(package_root, page, work, cap)
            per_link = f"{(rss - floor) * 1024 / args.links:,.0f} B" if links else "-"
            print(
                f"| {name} | {cap:,} | {rss / 1024:,.0f} MB | {per_link} | {links:,} | {skipped} |"
            )
        print("\n| parse | longest loop stall | parse wall time |")
        print("| --- | ---: | ---: |")
        for name, stall, wall in measure_stalls(page.read_bytes()):
            print(f"| {name} | {stall * 1000:,.0f} ms | {wall:.2f} s |")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
