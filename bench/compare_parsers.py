"""Compare finding embedded tweets: our parser against Tweet-Finder, on the shared corpus.

    .venv/bin/python bench/compare_parsers.py
    .venv/bin/python bench/compare_parsers.py --competitors-python /work/bench-venv/bin/python

Both tools get the same bytes of every page listed in ``../shared/corpus/pages.tsv``, no
network: ours through ``scraper.parse.parse_document`` (the page's ``url_hint`` as base
URL), Tweet-Finder through ``tweetfinder.Article(html=...)`` (the page decoded as UTF-8
inside the timed region: it takes text, ours takes bytes). Each runs in its own process
under the loopback guard, after one untimed warm-up page. The status ids found on each
page are scored against ``tweets.tsv`` (machine-made labels): precision and recall over
(page, status id) pairs. A Tweet-Finder embed whose id is not a number (its fallback
for unusual markup) counts as a false positive; a page on which it raises counts as
nothing found. Without the corpus the comparison is skipped.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import world

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
TOOLS = ("ours", "tweetfinder")


def read_tsv(path: Path) -> list[dict[str, str]]:
    """The rows of a tab-separated file with a header line."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


# ------------------------------------------------------------------ child side: one tool


def find_ours(data: bytes, path: Path, base_url: str | None) -> list[str]:
    """Status ids of the tweets our parser finds in one page."""
    from scraper.parse import parse_document

    article = parse_document(data, source=str(path), base_url=base_url)
    # embeds and quotes only: tweets an article merely links to (kind "link") are not labelled
    return [
        p.post_id
        for p in article.posts
        if p.platform == "twitter" and p.post_id and p.kind != "link"
    ]


def find_tweetfinder(data: bytes, path: Path, base_url: str | None) -> list[str]:
    """Tweet ids of the embeds Tweet-Finder lists for one page."""
    import tweetfinder

    article = tweetfinder.Article(html=data.decode("utf-8", "replace"))
    return [str(tweet.get("tweet_id")) for tweet in article.list_embedded_tweets()]


FINDERS = {"ours": find_ours, "tweetfinder": find_tweetfinder}
DISTRIBUTIONS = {"ours": "scraper", "tweetfinder": "tweetfinder"}


def child_main(tool: str, corpus: Path, target: Path) -> None:
    """Parse every corpus page with ``tool``; one JSON line per page, then the stats."""
    from importlib.metadata import version

    world.install_loopback_guard()
    finder = FINDERS[tool]
    rows = read_tsv(corpus / "pages.tsv")
    first = rows[0]
    finder((corpus / "pages" / first["file"]).read_bytes(), Path(first["file"]), None)  # warm-up
    with target.open("w") as out:
        total = 0.0
        for row in rows:
            path = corpus / "pages" / row["file"]
            data = path.read_bytes()
            error = None
            started = time.perf_counter()
            try:
                found = finder(data, path, row["url_hint"] or None)
            except Exception as exc:  # a competitor's crash on one page is data, not the end
                found, error = [], f"{type(exc).__name__}: {exc}"[:200]
            seconds = time.perf_counter() - started
            total += seconds
            page = {"file": row["file"], "found": found, "seconds": seconds, "error": error}
            out.write(json.dumps(page) + "\n")
        out.write(
            json.dumps({"stats": {"seconds": total, "version": version(DISTRIBUTIONS[tool])}})
        )
        out.write("\n")


# --------------------------------------------------------------- parent side: the runs


@dataclass
class ParserRun:
    """One tool over the corpus, scored."""

    tool: str
    pages: int = 0
    seconds: float = 0.0  # parsing only, summed over pages
    max_rss_mb: float = 0.0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    crashed_pages: int = 0
    version: str = ""
    error: str | None = None
    examples: dict[str, list[str]] = field(default_factory=dict)  # a few FP/FN, for the notes

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def labels_by_page(corpus: Path) -> dict[str, set[str]]:
    """The labelled status ids of each page."""
    labels: dict[str, set[str]] = defaultdict(set)
    for row in read_tsv(corpus / "tweets.tsv"):
        labels[row["file"]].add(row["status_id"])
    return labels


def score(run: ParserRun, pages: list[dict[str, Any]], labels: dict[str, set[str]]) -> None:
    """Count true and false positives and misses over (page, status id) pairs."""
    examples: dict[str, list[str]] = {"fp": [], "fn": []}
    for page in pages:
        found, truth = set(page["found"]), labels.get(page["file"], set())
        run.pages += 1
        run.crashed_pages += page["error"] is not None
        run.tp += len(found & truth)
        run.fp += len(found - truth)
        run.fn += len(truth - found)
        examples["fp"] += [f"{page['file']} {i}" for i in sorted(found - truth)]
        examples["fn"] += [f"{page['file']} {i}" for i in sorted(truth - found)]
    run.examples = {k: v[:5] for k, v in examples.items()}


def run_parser(tool: str, corpus: Path, python: str, folder: Path) -> ParserRun:
    """Run one tool over the corpus in its own process and score it."""
    run = ParserRun(tool)
    target = folder / f"{tool}.jsonl"
    argv = [python, str(Path(__file__).resolve()), "--child", tool, "--corpus", str(corpus)]
    measured = world.run_measured([*argv, "--output", str(target)])
    run.max_rss_mb = measured.max_rss_mb
    if measured.returncode != 0 or not target.exists():
        tail = measured.stderr.strip().splitlines()[-3:]
        run.error = f"exit {measured.returncode}: " + " | ".join(tail)
        return run
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    stats = lines.pop()["stats"]
    run.seconds, run.version = stats["seconds"], stats["version"]
    score(run, lines, labels_by_page(corpus))
    return run


def describe(run: ParserRun) -> str:
    """One printed line per tool."""
    if run.error:
        return f"  {run.tool:<12} FAILED TO RUN: {run.error}"
    return (
        f"  {run.tool:<12} {run.pages} pages in {run.seconds:6.2f} s  "
        f"{run.pages_per_second:6.1f} pages/s  TP={run.tp} FP={run.fp} FN={run.fn}  "
        f"precision {run.precision:.3f}  recall {run.recall:.3f}  "
        f"crashed pages {run.crashed_pages}  RSS {run.max_rss_mb:.0f} MB"
    )


def compare(corpus: Path, competitors_python: str) -> dict[str, Any] | None:
    """Run both tools over the corpus; None when there is no corpus."""
    if not (corpus / "pages.tsv").is_file() or not (corpus / "tweets.tsv").is_file():
        print(f"no corpus at {corpus}: parser comparison skipped", file=sys.stderr)
        return None
    runs: dict[str, ParserRun] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for tool in TOOLS:
            python = competitors_python if tool != "ours" else sys.executable
            runs[tool] = run_parser(tool, corpus, python, Path(scratch))
            print(describe(runs[tool]), flush=True)
    report: dict[str, Any] = {
        "corpus": str(corpus),
        "labels": sum(len(v) for v in labels_by_page(corpus).values()),
        "runs": {
            t: asdict(r)
            | {"pages_per_second": r.pages_per_second, "precision": r.precision, "recall": r.recall}
            for t, r in runs.items()
        },
    }
    ours, theirs = runs["ours"], runs["tweetfinder"]
    if ours.error is None and theirs.error is None and theirs.pages_per_second:
        report["speed_ratio"] = ours.pages_per_second / theirs.pages_per_second
        print(f"  ours / tweetfinder pages/s: {report['speed_ratio']:.2f}")
    return report


def main() -> None:
    """Command line: run the comparison, print it, and optionally save it as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--competitors-python",
        default=sys.executable,
        help="interpreter with tweetfinder installed (default: this one)",
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child_main(options.child, options.corpus, options.output)
        return
    report = compare(options.corpus, options.competitors_python)
    if options.json and report is not None:
        options.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
