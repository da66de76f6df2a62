"""Run the three comparisons and write ``docs/benchmarks.md`` with ``docs/benchmarks.png``.

    .venv/bin/python bench/report.py --competitors-python /work/bench-venv/bin/python
    .venv/bin/python bench/report.py --full ...          # the issue's sizes (5,000 URLs)
    .venv/bin/python bench/report.py --only resolvers    # re-run one part, reuse the others
    .venv/bin/python bench/report.py --only "" --docs /tmp/page   # rewrite the page elsewhere

Each part's figures are saved as JSON in ``--results`` as soon as it finishes, so a part
can be re-run alone (``--only``) and the document rewritten from the rest. This module is the
orchestration (command line, running the parts, the machine and the commands recorded with
them); ``report_document`` writes the Markdown (``report_notes`` explains the bars it
misses) and ``report_chart`` draws the chart.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench/ is not a package: the comparisons and the report's modules sit beside this file
import compare_end_to_end
import compare_parsers
import compare_resolvers
import world
from report_chart import draw_chart
from report_document import PARTS, write_document

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
DEFAULT_RESULTS = Path(os.environ.get("TMPDIR", "/tmp")) / "scraper-bench-results"


def run_parts(options: argparse.Namespace) -> dict[str, Any]:
    """Run the requested parts, save each as JSON, and load the others from disk."""
    options.results.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {}
    for part in PARTS:
        path = options.results / f"{part}.json"
        if part in options.only:
            print(f"== {part}", flush=True)
            box = machine(options)  # before the run: its load average is the run's start
            data: dict[str, Any] | None
            if part == "resolvers":
                size = 5000 if options.full else options.urls
                data = compare_resolvers.compare(
                    size, options.competitors_python, repeat=options.repeat
                )
                data["transport"] = compare_resolvers.measured_transport()
            elif part == "parsers":
                data = compare_parsers.compare(options.corpus, options.competitors_python)
            else:
                data = compare_end_to_end.compare(options.articles)
            if data is None:  # nothing to measure (no corpus): no stale figures either
                path.unlink(missing_ok=True)
                continue
            box["load_after"] = os.getloadavg()  # other work on the box may come and go
            saved = {"data": data, "machine": box, "command": command(options, part)}
            path.write_text(json.dumps(saved, indent=1))
        if path.exists():
            figures[part] = json.loads(path.read_text())
    return figures


def machine(options: argparse.Namespace) -> dict[str, Any]:
    """The machine, interpreters and checkout the figures were measured on."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    theirs = subprocess.run(
        [options.competitors_python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    head = subprocess.run(
        ["git", "-C", str(REPO), "log", "-1", "--format=%h"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "load": os.getloadavg(),
        "python": platform.python_version(),
        "competitors_python": theirs or "?",
        "competitors_interpreter": options.competitors_python,
        "commit": head,
    }


def command(options: argparse.Namespace, part: str) -> str:
    """The command that reproduces one part."""
    python = ".venv/bin/python"
    other = ["--competitors-python", options.competitors_python]
    if part == "resolvers":
        size = ["--full"] if options.full else ["--urls", str(options.urls)]
        repeat = ["--repeat", str(options.repeat)] if options.repeat > 1 else []
        argv = [python, "bench/compare_resolvers.py", *size, *repeat, *other]
    elif part == "parsers":
        argv = [python, "bench/compare_parsers.py", *other]
    else:
        argv = [python, "bench/compare_end_to_end.py", "--articles", str(options.articles)]
    return shlex.join(argv)


def main() -> None:
    """Command line: run (some of) the parts, then write the document and the chart."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="5,000 URLs per resolver run")
    parser.add_argument("--urls", type=int, default=1000, help="URLs per run without --full")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved resolver repeats")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--corpus", type=Path, default=compare_parsers.DEFAULT_CORPUS)
    parser.add_argument("--competitors-python", default=sys.executable)
    parser.add_argument("--only", default=",".join(PARTS), help="parts to run: " + ",".join(PARTS))
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="JSON per part")
    parser.add_argument(
        "--docs", type=Path, default=DOCS, help="folder for benchmarks.md and benchmarks.png"
    )
    options = parser.parse_args()
    options.only = {p for p in options.only.split(",") if p}
    if unknown := options.only - set(PARTS):
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    world.raise_fd_limit()
    figures = run_parts(options)
    if not figures:
        raise SystemExit("nothing measured")
    docs = options.docs
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "benchmarks.md").write_text(write_document(figures), encoding="utf-8")
    draw_chart(figures, docs / "benchmarks.png")
    print(f"wrote {docs / 'benchmarks.md'} and {docs / 'benchmarks.png'}")


if __name__ == "__main__":
    main()
