"""A compiled visit, measured: how far below the Python floor the per-node work can go.

Times, in one run over ``../shared/corpus`` (best of ``--rounds``): lxml's bare parse;
the page's tree plus :mod:`cscan` (the visit, the gate words on classes and the marker
search of scripts in C; each link's href and text made absolute into ``Link`` records in
Python); the same plus unescaping and parsing the escaped fragments of the scripts found;
and ``parse_document``. A probe for a decision, not part of scraper: build ``cscan``
first (see ``setup.py``).

    cd bench/probe_compiled_scan && ../../.venv/bin/python setup.py build_ext --inplace
    ../../.venv/bin/python measure.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# neither folder is a package: cscan is built beside this file, bench_parse one level up
import cscan  # type: ignore[import-not-found]
from bench_parse import DEFAULT_CORPUS, Page, read_pages, time_lxml, time_parse

from scraper.model import Link
from scraper.parse import DETECTORS
from scraper.parse.encoding import unescape_fragments, utf8_markup
from scraper.parse.tree import make_page_tree, make_tree
from scraper.parse.urls import absolutize_url

MARKERS = list(dict.fromkeys(m for d in DETECTORS for m in d.markers))
GATE_WORDS = list(
    dict.fromkeys(
        word.replace("\\", "")
        for detector in DETECTORS
        for pattern in getattr(detector, "element_names", {}).values()
        if pattern is not None
        for word in pattern.split("|")
        if not word.startswith("data")
    )
)


def compiled(pages: list[Page], fragments: bool) -> None:
    """Every page through the compiled scan (and its escaped fragments, if asked)."""
    for _, data, base in pages:
        raw, _ = utf8_markup(data)
        root, _ = make_page_tree(raw)
        if root is None:
            continue
        links, _, scripts = cscan.scan(root, GATE_WORDS, MARKERS)
        absolute: dict[str, str | None] = {}
        records: list[Link] = []
        for href, text in links:
            if href not in absolute:
                absolute[href] = absolutize_url(href, base)
            url = absolute[href]
            if url is not None:
                records.append(Link(url, " ".join(text.split()), "article", None, len(records)))
        if fragments:
            for script in scripts:
                for fragment in unescape_fragments(script):
                    make_tree(fragment)


def main() -> int:
    """Run the probe against lxml's bare parse and parse_document from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pages = read_pages(args.corpus)
    time_parse(pages)  # warm imports and caches
    best = {"lxml": float("inf"), "scan": float("inf"), "fragments": float("inf")}
    best["parse_document"] = float("inf")
    for _ in range(args.rounds):
        best["lxml"] = min(best["lxml"], time_lxml(pages))
        for key, fragments in (("scan", False), ("fragments", True)):
            started = time.perf_counter()
            compiled(pages, fragments)
            best[key] = min(best[key], time.perf_counter() - started)
        best["parse_document"] = min(best["parse_document"], time_parse(pages))
    labels = {
        "lxml": "lxml bare parse",
        "scan": "tree + compiled scan + Link records",
        "fragments": "+ escaped fragments unescaped and parsed",
        "parse_document": "parse_document",
    }
    for key, label in labels.items():
        print(f"{label:42s} {best[key]:6.2f}s  {best[key] / best['lxml']:5.2f}x lxml bare")
    return 0


if __name__ == "__main__":
    sys.exit(main())
