"""Parser speed against lxml's bare parse of the same bytes, side by side in one run.

Reads every page of ``../shared/corpus/pages`` into memory, then times, alternately
(``--rounds``, best round kept): ``lxml.html.document_fromstring`` of the bytes, and
``scraper.parse.parse_document`` of the same bytes with the page's ``url_hint`` as base.
Prints pages/s of each and the ratio; ``--profile`` prints a cProfile summary of one
``parse_document`` pass instead. ``--big MB`` measures peak memory of parsing one page of
about that size (the corpus pages concatenated into one body), in a fresh child process.

    .venv/bin/python bench/bench_parse.py [--corpus ../shared/corpus] [--rounds 3]
    .venv/bin/python bench/bench_parse.py --profile
    .venv/bin/python bench/bench_parse.py --big 50
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import io
import os
import pstats
import resource
import subprocess
import sys
import time
from pathlib import Path

from lxml import etree  # type: ignore[import-untyped,unused-ignore]
from lxml.html import HTMLParser, document_fromstring  # type: ignore[import-untyped,unused-ignore]

from scraper.parse import parse_document
from scraper.parse.encoding import decode_html

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
Page = tuple[str, bytes, str | None]


def read_pages(corpus: Path) -> list[Page]:
    """(name, bytes, base URL) of every corpus page."""
    with (corpus / "pages.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        (row["file"], (corpus / "pages" / row["file"]).read_bytes(), row["url_hint"] or None)
        for row in rows
    ]


def time_lxml(pages: list[Page]) -> float:
    """Seconds for lxml to parse every page's bytes (no walk, no output)."""
    parser = HTMLParser(huge_tree=True)
    started = time.perf_counter()
    for _, data, _ in pages:
        with contextlib.suppress(etree.LxmlError, ValueError):
            document_fromstring(data, parser=parser)
    return time.perf_counter() - started


def time_parse(pages: list[Page]) -> float:
    """Seconds for ``parse_document`` over every page."""
    started = time.perf_counter()
    for name, data, base in pages:
        parse_document(data, source=name, base_url=base)
    return time.perf_counter() - started


def profile(pages: list[Page], limit: int) -> str:
    """A cProfile summary (cumulative and own time) of one pass of ``parse_document``,
    after an untimed pass (dateparser loads its languages on first use)."""
    time_parse(pages)
    profiler = cProfile.Profile()
    profiler.enable()
    time_parse(pages)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(limit)
    stats.sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def big_page(corpus: Path, megabytes: int) -> bytes:
    """One UTF-8 HTML page of about ``megabytes`` MB: the corpus pages, read one by one
    (each decoded as the parser would and encoded as UTF-8: one page, one encoding)."""
    target = megabytes * 1_000_000
    parts: list[bytes] = [b"<html><head><title>big</title></head><body>"]
    size = 0
    paths = sorted((corpus / "pages").rglob("*.htm*"))
    while size < target:
        for path in paths:
            data = decode_html(path.read_bytes())[0].encode("utf-8")
            parts.append(data)
            size += len(data)
            if size >= target:
                break
    parts.append(b"</body></html>")
    return b"".join(parts)


def _rss_mib() -> int:
    """The resident set size now, in MiB (Linux)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) // 1024


def measure_big(corpus: Path, megabytes: int) -> int:
    """Parse one big page in a child process and print its size, time and peak RSS."""
    if os.environ.get("BENCH_PARSE_CHILD") != "1":
        env = dict(os.environ, BENCH_PARSE_CHILD="1")
        command = [sys.executable, __file__, "--corpus", str(corpus), "--big", str(megabytes)]
        return subprocess.run(command, env=env, check=False).returncode
    data = big_page(corpus, megabytes)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    article = parse_document(data, source="big.html")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        f"page: {len(data) / 1e6:.1f} MB  parse: {seconds:.1f}s  posts: {len(article.posts)}  "
        f"links: {len(article.links)}  peak RSS of the process: {peak / 1024:.0f} MiB "
        f"(peak before parsing, building the page: {before / 1024:.0f} MiB; "
        f"RSS once parsed: {_rss_mib()} MiB)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the comparison from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    parser.add_argument("--limit", type=int, default=25, help="rows of the profile")
    parser.add_argument("--big", type=int, metavar="MB", help="peak memory of one big page")
    args = parser.parse_args(argv)
    if not (args.corpus / "pages.tsv").is_file():
        print(f"no corpus at {args.corpus} (pages.tsv missing): nothing to measure")
        return 0
    if args.big:
        return measure_big(args.corpus, args.big)
    pages = read_pages(args.corpus)
    if args.profile:
        print(profile(pages, args.limit))
        return 0
    time_parse(pages)  # warm imports and caches (dateparser loads its languages lazily)
    bare, full = [], []
    for _ in range(args.rounds):
        bare.append(time_lxml(pages))
        full.append(time_parse(pages))
    n, mb = len(pages), sum(len(d) for _, d, _ in pages) / 1e6
    lxml_s, parse_s = min(bare), min(full)
    print(
        f"pages: {n} ({mb:.1f} MB), best of {args.rounds} rounds, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(f"lxml bare parse : {lxml_s:6.2f}s  {n / lxml_s:7.1f} pages/s")
    print(f"parse_document  : {parse_s:6.2f}s  {n / parse_s:7.1f} pages/s")
    print(f"ratio parse_document / lxml: {parse_s / lxml_s:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
