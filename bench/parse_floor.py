"""What any parser of this design must spend, against lxml's bare parse, in one run.

The speed bar of issue 15 is ``parse_document`` within 2.5x of lxml's bare parse of the
same pages. This measures the floors under it over ``../shared/corpus``: the cheapest
code that still does one thing every page needs, each step adding to the one before,
each the best of ``--rounds``:

- ``lxml bare``: ``lxml.html.document_fromstring`` of the bytes (the yardstick);
- ``+ every node``: decoding checks, the page's tree, and a visit of every node that does
  nothing but look its name up in a dict (the least a visit in Python costs);
- ``+ links``: every ``<a href>``'s href and text, made absolute, as ``Link`` records (the
  output an article must hold);
- ``+ scripts``: every script's text searched for the detectors' embed markers (how
  escaped embeds are found: about a third of the corpus bytes are scripts);
- ``parse_document``: the real thing.

With selectolax installed (not a dependency of scraper: ``pip install selectolax``), it
also measures lexbor's bare parse, and lexbor plus a CSS selection (in C) of every element
a detector may be offered and every link: the other design the issue names.

    .venv/bin/python bench/parse_floor.py [--corpus ../shared/corpus] [--rounds 3]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scraper.model import Link
from scraper.parse import DETECTORS
from scraper.parse.encoding import utf8_markup
from scraper.parse.tree import make_page_tree
from scraper.parse.urls import absolutize_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench/ is not a package: its modules sit beside this file
from bench_parse import DEFAULT_CORPUS, Page, read_pages, time_lxml, time_parse

MARKERS = tuple(dict.fromkeys(m for d in DETECTORS for m in d.markers))
NAMES: dict[str, int] = {"a": 1, "script": 2, "div": 0, "span": 0, "li": 0, "meta": 0}


def floor(pages: list[Page], links: bool, scripts: bool) -> None:
    """The cheapest visit that still reads links and scripts (as asked)."""
    for _, data, base in pages:
        raw, _ = utf8_markup(data)
        root, _ = make_page_tree(raw)
        if root is None:
            continue
        found: list[Link] = []
        absolute: dict[str, str | None] = {}
        for node in root.iter():
            kind = NAMES.get(node.tag)
            if kind == 1 and links:
                href = node.get("href")
                if href is None:
                    continue
                if href not in absolute:
                    absolute[href] = absolutize_url(href, base)
                url = absolute[href]
                if url is not None:
                    text = node.text or "" if len(node) == 0 else "".join(node.itertext())
                    text = " ".join(text.split())
                    found.append(Link(url, text, "article", None, len(found)))
            elif kind == 2 and scripts:
                text = node.text
                # the search alone: what holds a marker would be unescaped next
                any(marker in text for marker in MARKERS) if text else False


def lexbor_steps() -> list[tuple[str, Callable[[list[Page]], object]]]:
    """Lexbor's bare parse, and with a CSS selection of candidates and links (if the
    optional selectolax is importable)."""
    try:
        lexbor: Any = importlib.import_module("selectolax.lexbor")
    except ImportError:
        print("selectolax not installed: the lexbor rows are left out")
        return []
    words: list[str] = []
    claimable: list[str] = []
    for detector in DETECTORS:
        for tag, pattern in getattr(detector, "element_names", {}).items():
            if pattern is None:
                claimable.append(tag)
            else:
                words.extend(w.replace("\\", "") for w in pattern.split("|"))
    words = list(dict.fromkeys(words))
    selectors = [f"[{w}]" for w in words if w.startswith("data-")]
    selectors += [
        f"[{a}*='{w}' i]" for w in words if not w.startswith("data-") for a in ("class", "id")
    ]
    candidates = ", ".join(list(dict.fromkeys(claimable)) + selectors)

    def bare(pages: list[Page]) -> None:
        for _, data, _ in pages:
            lexbor.LexborHTMLParser(data)

    def selected(pages: list[Page]) -> None:
        for _, data, _ in pages:
            tree = lexbor.LexborHTMLParser(data)
            for anchor in tree.css("a[href]"):
                " ".join(anchor.text(deep=True).split())
            tree.css(candidates)

    return [("lexbor bare", bare), ("lexbor + CSS: candidates, links", selected)]


def main(argv: list[str] | None = None) -> int:
    """Run the floors from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if not (args.corpus / "pages.tsv").is_file():
        print(f"no corpus at {args.corpus} (pages.tsv missing): nothing to measure")
        return 0
    pages = read_pages(args.corpus)
    steps: list[tuple[str, Callable[[list[Page]], object]]] = [
        ("lxml bare", time_lxml),  # the same two loops bench_parse.py times
        ("+ every node", lambda p: floor(p, links=False, scripts=False)),
        ("+ links", lambda p: floor(p, links=True, scripts=False)),
        ("+ scripts", lambda p: floor(p, links=True, scripts=True)),
        ("parse_document", time_parse),
        *lexbor_steps(),
    ]
    time_parse(pages)  # warm imports and caches
    best = {name: float("inf") for name, _ in steps}
    for _ in range(args.rounds):
        for name, step in steps:
            started = time.perf_counter()
            step(pages)
            best[name] = min(best[name], time.perf_counter() - started)
    yardstick = best["lxml bare"]
    print(f"pages: {len(pages)}, best of {args.rounds} rounds")
    for name, seconds in best.items():
        print(f"{name:34s} {seconds:6.2f}s  {seconds / yardstick:5.2f}x lxml bare")
    return 0


if __name__ == "__main__":
    sys.exit(main())
