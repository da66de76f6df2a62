"""Golden check of the parser: dump ``parse_document`` JSON for every page, or diff two dumps.

``dump OUT``: one ``.json`` file per page of ``../shared/corpus/pages`` (base URL: its
``url_hint``), of ``data/articles`` and of ``tests/fixtures``, written under ``OUT`` (keep
it outside the repository). ``diff BEFORE AFTER``: the pages whose JSON differs, with the
first differing keys. The corpus is skipped (with a message) when ``../shared`` is absent.

    .venv/bin/python bench/golden_check.py dump /work/notes/golden-before
    .venv/bin/python bench/golden_check.py diff /work/notes/golden-before /tmp/golden-after
    .venv/bin/python bench/golden_check.py diff BEFORE AFTER --ignore warnings
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scraper.parse import parse_document

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
_SUFFIXES = (".html", ".htm", ".xhtml", ".txt", ".md")


def _pages(corpus: Path) -> Iterator[tuple[str, Path, str | None]]:
    """(name, path, base URL) of every page to dump."""
    if (corpus / "pages.tsv").is_file():
        with (corpus / "pages.tsv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                path = corpus / "pages" / row["file"]
                yield "corpus/" + row["file"], path, row["url_hint"] or None
    else:
        print(f"no corpus at {corpus}: only the repository's pages", file=sys.stderr)
    for folder in (ROOT / "data" / "articles", ROOT / "tests" / "fixtures"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix.lower() in _SUFFIXES:
                yield str(path.relative_to(ROOT)), path, None


def dump(out: Path, corpus: Path) -> int:
    """Write one JSON file per page under ``out``; the number of pages."""
    count = 0
    for name, path, base in _pages(corpus):
        article = parse_document(path.read_bytes(), source=name, base_url=base)
        target = out / (name + ".json")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(article.to_json(), ensure_ascii=False, indent=1) + "\n")
        count += 1
    return count


def _differences(before: Any, after: Any, path: str = "") -> Iterator[str]:
    """The JSON paths where ``before`` and ``after`` differ."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            yield from _differences(before.get(key), after.get(key), f"{path}.{key}")
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (a, b) in enumerate(zip(before, after, strict=True)):
            yield from _differences(a, b, f"{path}[{i}]")
    elif before != after:
        yield (
            f"{path}: {json.dumps(before, ensure_ascii=False)[:150]} -> "
            + json.dumps(after, ensure_ascii=False)[:150]
        )


def diff(before: Path, after: Path, ignore: tuple[str, ...] = ()) -> int:
    """Print every page whose JSON differs (``ignore``: top-level keys left out); the
    number of such pages."""
    changed = 0
    names = {p.relative_to(before) for p in before.rglob("*.json")}
    names |= {p.relative_to(after) for p in after.rglob("*.json")}
    for name in sorted(names):
        a, b = before / name, after / name
        if not (a.is_file() and b.is_file()):
            print(f"{name}: only in {'before' if a.is_file() else 'after'}")
            changed += 1
            continue
        old, new = json.loads(a.read_text()), json.loads(b.read_text())
        for key in ignore:
            old.pop(key, None)
            new.pop(key, None)
        if old != new:
            changed += 1
            print(name)
            for line in list(_differences(old, new))[:12]:
                print("   ", line)
    print(f"{changed} of {len(names)} pages differ")
    return changed


def main(argv: list[str] | None = None) -> int:
    """Dump or diff from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    dumping = sub.add_parser("dump", help="write the JSON of every page")
    dumping.add_argument("out", type=Path)
    dumping.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    diffing = sub.add_parser("diff", help="compare two dumps")
    diffing.add_argument("before", type=Path)
    diffing.add_argument("after", type=Path)
    diffing.add_argument("--ignore", action="append", default=[], help="a top-level key to skip")
    args = parser.parse_args(argv)
    if args.command == "dump":
        print(f"{dump(args.out, args.corpus)} pages written to {args.out}")
        return 0
    return 1 if diff(args.before, args.after, tuple(args.ignore)) else 0


if __name__ == "__main__":
    sys.exit(main())
