"""Evaluate the other platforms' detectors on the shared corpus: counts, and the labels.

Parses every page listed in ``pages.tsv`` and counts, per platform, the embedded posts
found (one per id and page, by kind) and the posts cited by a link in the article's text
(kind ``link``). ``pages.tsv``'s ``other_embeds`` column holds raw, machine-made counts
per page (``youtube:2;instagram-blockquote:1``): markup occurrences, not ids, so a lazy
placeholder and its ``<noscript>`` iframe count twice and playlists or channel links
count as videos. Against them the script scores counts page by page (TP = min(found,
labelled), FP = the excess found, FN = the excess labelled) for YouTube, Instagram and
Facebook; ``--show-errors`` lists the pages where the counts differ, to check by eye.
Twitter is scored by ``eval_corpus.py``.

    .venv/bin/python bench/eval_platforms.py [--corpus ../shared/corpus] [--show-errors]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eval_corpus import Score  # the same counts, here per platform (bench/ is the script's dir)

from scraper.parse import parse_document

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
#: ``other_embeds`` label -> the platform it counts (Twitter's labels are eval_corpus's).
LABEL_PLATFORMS = {
    "youtube": "youtube",
    "instagram-blockquote": "instagram",
    "amp-instagram": "instagram",
    "facebook-post": "facebook",
    "facebook-iframe": "facebook",
    "amp-facebook": "facebook",
}
SCORED_PLATFORMS = ("youtube", "instagram", "facebook")


@dataclass
class PageResult:
    """What the parser found on one page and what ``other_embeds`` says."""

    file: str
    embeds: Counter[str]  # platform -> embedded posts (unique ids)
    kinds: Counter[tuple[str, str]]  # (platform, kind) -> posts
    linked: Counter[str]  # platform -> posts cited by a link only
    labelled: Counter[str]  # platform -> raw label count
    unsupported: Counter[str]  # label -> count, for platforms not supported
    seconds: float


@dataclass
class Evaluation:
    """Counts over the corpus and the scores against the labels, per platform."""

    pages: list[PageResult]
    scores: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.pages)


def read_tsv(path: Path) -> list[dict[str, str]]:
    """The rows of a tab-separated file with a header line."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def read_labels(raw: str) -> tuple[Counter[str], Counter[str]]:
    """``other_embeds`` as counts per supported platform, and per unsupported label."""
    supported: Counter[str] = Counter()
    unsupported: Counter[str] = Counter()
    for item in filter(None, raw.split(";")):
        label, _, count = item.partition(":")
        number = int(count) if count.isdigit() else 1
        if label.startswith(("twitter", "amp-twitter")):
            continue
        if label in LABEL_PLATFORMS:
            supported[LABEL_PLATFORMS[label]] += number
        else:
            unsupported[label] += number
    return supported, unsupported


def parse_pages(
    corpus: Path, labelled_for: Sequence[str] = (), repeat: int = 1
) -> list[PageResult]:
    """Parse the corpus pages; ``repeat`` > 1 keeps each page's fastest parse time.

    ``labelled_for`` (platform names) parses only the pages labelled for one of them.
    """
    results = []
    for row in read_tsv(corpus / "pages.tsv"):
        path = corpus / "pages" / row["file"]
        data = path.read_bytes()
        labelled, unsupported = read_labels(row.get("other_embeds") or "")
        if labelled_for and not any(labelled[name] for name in labelled_for):
            continue
        best = float("inf")
        for _ in range(max(1, repeat)):
            started = time.perf_counter()
            article = parse_document(data, source=str(path), base_url=row["url_hint"] or None)
            best = min(best, time.perf_counter() - started)
        embeds: Counter[str] = Counter()
        kinds: Counter[tuple[str, str]] = Counter()
        linked: Counter[str] = Counter()
        for post in article.posts:
            if post.kind == "link":
                linked[post.platform] += 1
            elif post.platform != "twitter":
                embeds[post.platform] += 1
                kinds[(post.platform, post.kind)] += 1
        results.append(PageResult(row["file"], embeds, kinds, linked, labelled, unsupported, best))
    return results


def evaluate(corpus: Path, labelled_for: Sequence[str] = (), repeat: int = 1) -> Evaluation:
    """Parse the corpus and score the supported platforms' counts against the labels."""
    evaluation = Evaluation(parse_pages(corpus, labelled_for, repeat))
    for page in evaluation.pages:
        for platform in SCORED_PLATFORMS:
            found, labelled = page.embeds[platform], page.labelled[platform]
            score = evaluation.scores[platform]
            hit = min(found, labelled)
            score.tp += hit
            score.fp += found - hit
            score.fn += labelled - hit
    return evaluation


def report(evaluation: Evaluation, show_errors: bool) -> str:
    """The printed summary (and the pages whose counts disagree, when asked)."""
    pages = evaluation.pages
    seconds = evaluation.seconds or 1e-9
    embeds: Counter[str] = sum((p.embeds for p in pages), Counter())
    kinds: Counter[tuple[str, str]] = sum((p.kinds for p in pages), Counter())
    linked: Counter[str] = sum((p.linked for p in pages), Counter())
    labelled: Counter[str] = sum((p.labelled for p in pages), Counter())
    unsupported: Counter[str] = sum((p.unsupported for p in pages), Counter())
    lines = [
        f"pages: {len(pages)}  parse time: {evaluation.seconds:.2f}s  "
        f"pages/s: {len(pages) / seconds:.1f}",
        "embedded posts per platform (one per id and page), by kind; pages; linked-only posts:",
    ]
    for platform in sorted(set(embeds) | set(linked)):
        by_kind = ", ".join(
            f"{kind}={count}" for (name, kind), count in sorted(kinds.items()) if name == platform
        )
        with_embeds = sum(1 for p in pages if p.embeds[platform])
        lines.append(
            f"  {platform:<10} embeds={embeds[platform]:<4} pages={with_embeds:<4} "
            f"links={linked[platform]:<4} ({by_kind or 'none'})"
        )
    lines.append("against other_embeds (raw counts, machine-made), count-based per page:")
    for platform in SCORED_PLATFORMS:
        score = evaluation.scores[platform]
        lines.append(
            f"  {platform:<10} labelled={labelled[platform]:<4} found={embeds[platform]:<4} "
            f"TP={score.tp:<4} FP={score.fp:<4} FN={score.fn:<4} "
            f"precision={score.precision:.3f} recall={score.recall:.3f}"
        )
    if unsupported:
        shown = ", ".join(f"{label}={count}" for label, count in sorted(unsupported.items()))
        lines.append(f"labelled, platform not supported: {shown}")
    if show_errors:
        lines.append("pages whose counts differ (platform: found/labelled):")
        for page in pages:
            for platform in SCORED_PLATFORMS:
                if page.embeds[platform] != page.labelled[platform]:
                    lines.append(
                        f"  {page.file}\t{platform}: "
                        f"{page.embeds[platform]}/{page.labelled[platform]}"
                    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder")
    parser.add_argument("--show-errors", action="store_true", help="list the disagreements")
    parser.add_argument(
        "--labelled-for",
        action="append",
        default=[],
        choices=SCORED_PLATFORMS,
        help="parse only the pages labelled for this platform (repeatable)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="parse each page N times, keep the fastest"
    )
    args = parser.parse_args(argv)
    if not (args.corpus / "pages.tsv").is_file():
        print(f"no corpus at {args.corpus} (pages.tsv missing)", file=sys.stderr)
        return 2
    evaluation = evaluate(args.corpus, args.labelled_for, args.repeat)
    print(report(evaluation, args.show_errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
