"""Compare short-link resolvers on one loopback world: ours, minet, urlExpander, bare aiohttp.

    .venv/bin/python bench/compare_resolvers.py                 # 1,000 URLs per run
    .venv/bin/python bench/compare_resolvers.py --full          # 5,000 URLs per run
    .venv/bin/python bench/compare_resolvers.py --competitors-python /work/bench-venv/bin/python

The world (``bench/world.py``, its own process) plays t.co, bit.ly and ow.ly on
127.0.0.2-4 and destination sites on 127.0.1.x; every URL takes 1 to 3 hops and a few
percent meet a one-off 429 or 503, a dead destination (404) or a hop that never answers.
Two scenarios: concurrency 100 with 20 ms per response, concurrency 500 with 100 ms.

Each tool runs in its own process (its peak RSS is its own, from ``wait4``), under a
guard that refuses any connection off loopback, with a 2 s timeout:

- ``ours``: ``scraper.resolve.resolve_urls`` (``concurrency`` = the scenario's, ``per_host``
  as high, the world's shorteners added, default retries);
- ``aiohttp``: a bare loop of ``session.get(url, allow_redirects=True)`` on one
  ``ClientSession`` (no retries, no checks): the machine's limit;
- ``minet``: ``minet.executors.HTTPThreadPoolExecutor.resolve``, what ``minet resolve``
  runs (GET, no throttle, domain parallelism = threads), at several thread counts;
- ``urlexpander``: ``urlexpander.expand(urls, n_workers=N, timeout=2)`` at several
  ``n_workers`` (HEAD requests; errors come back as ``__CLIENT_ERROR__`` URLs).

Ours runs once more per scenario with the config's default deadline (15 s), outside the
comparison: it tells whether its timeouts come from the world or from the box. Per run:
seconds spent resolving (imports and interpreter start excluded), URLs/s, the
share of URLs whose final URL and final status are the world's truth (for a hanging
hop: reported as failed), failures by category, peak RSS. The competitors may live in another
interpreter (``--competitors-python``): minet and tweetfinder pin older bs4, tenacity
and urllib3 than the project uses.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import resolver_tools  # the child side: each tool's runner
import world

TIMEOUT = world.TOOL_TIMEOUT
# also run ours with the config's default whole-URL deadline: are its timeouts the box's?
DIAGNOSTIC_TIMEOUT = 15.0
SCENARIOS = ((100, 0.02), (500, 0.1))  # (concurrency, latency)
SWEEPS = {100: (25, 50, 100, 200), 500: (100, 200, 500)}
TOOLS = ("ours", "aiohttp", "minet", "urlexpander")
OURS = ("ours",)
COMPETITORS = ("minet", "urlexpander")
WARMUP_URLS = 50


@dataclass
class ToolRun:
    """One tool's run over one scenario's URLs."""

    tool: str
    workers: int
    concurrency: int
    latency: float
    urls: int
    seconds: float = 0.0  # resolving only
    process_seconds: float = 0.0  # the whole child process, interpreter start included
    cpu: float = 0.0
    max_rss_mb: float = 0.0
    correct: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    wrong: dict[str, int] = field(default_factory=dict)  # wrong answers by the world's fault
    seconds_90: float | None = None  # when 90% of the URLs were done (None: not streamed)
    helpers: int = 0  # worker processes the tool started (ours, on several cores)
    helper_rss_mb: float = 0.0  # the largest worker's peak RSS
    timeout: float = TIMEOUT
    version: str = ""
    error: str | None = None  # the tool could not run: why

    @property
    def urls_per_second(self) -> float:
        return self.urls / self.seconds if self.seconds else 0.0

    @property
    def urls_per_second_90(self) -> float | None:
        """URLs/s over the first 90% of URLs: the pace without the slowest tail."""
        return 0.9 * self.urls / self.seconds_90 if self.seconds_90 else None

    @property
    def correctness(self) -> float:
        return self.correct / self.urls if self.urls else 0.0


def is_correct(outcome: dict[str, Any], truth: world.Truth) -> bool:
    """The chain followed to its end: the final URL and its answer (200, or 404 for a dead
    link) are the world's; for a hanging hop, the URL is reported as failed.

    A tool that names the right final URL but timed out waiting for its answer has not
    finished the chain: wrong.
    """
    if truth.final_url is None:
        return outcome["category"] is not None
    return bool(outcome["final_url"] == truth.final_url and outcome["status"] == truth.final_status)


def score(run: ToolRun, outcomes: list[dict[str, Any]], truths: dict[str, world.Truth]) -> None:
    """Fill in correctness and failures of ``run`` from the child's outcomes."""
    seen: dict[str, dict[str, Any]] = {o["url"]: o for o in outcomes}
    failures: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for url, truth in truths.items():
        outcome = seen.get(url)
        if outcome is None:
            failures["missing"] += 1
            wrong[truth.fault] += 1
            continue
        if outcome["category"] is not None:
            failures[outcome["category"]] += 1
        if is_correct(outcome, truth):
            run.correct += 1
        else:
            wrong[truth.fault] += 1
    times = sorted(o["t"] for o in outcomes if o.get("t") is not None)
    if times and len(times) == len(outcomes):
        run.seconds_90 = times[max(0, int(len(times) * 0.9) - 1)]
    run.failures = dict(failures.most_common())
    run.wrong = dict(wrong.most_common())


def python_for(tool: str, competitors_python: str) -> str:
    """The interpreter that runs ``tool``."""
    return competitors_python if tool in COMPETITORS else sys.executable


def unavailable(tool: str, python: str) -> str | None:
    """Why ``tool`` cannot run under ``python`` (None when it can)."""
    module = {"ours": "scraper.resolve"}.get(tool, tool)
    probe = subprocess.run(
        [python, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    if probe.returncode == 0:
        return None
    lines = probe.stderr.strip().splitlines()
    return f"import {module} failed under {python}: {lines[-1] if lines else probe.returncode}"


def run_tool(
    tool: str,
    workers: int,
    urls: list[str],
    truths: dict[str, world.Truth],
    scenario: tuple[int, float],
    python: str,
    folder: Path,
    timeout: float = TIMEOUT,
) -> ToolRun:
    """Run ``tool`` over ``urls`` in its own process and score it."""
    run = ToolRun(tool, workers, scenario[0], scenario[1], len(urls), timeout=timeout)
    source, target = folder / "urls.txt", folder / f"{tool}-{workers}.jsonl"
    source.write_text("\n".join(urls) + "\n")
    target.unlink(missing_ok=True)
    argv = [python, str(Path(__file__).resolve()), "--child", tool, "--workers", str(workers)]
    argv += ["--timeout", str(timeout), "--input", str(source), "--output", str(target)]
    measured = world.run_measured(argv)
    run.process_seconds, run.max_rss_mb = measured.wall, measured.max_rss_mb
    if measured.returncode != 0 or not target.exists():
        tail = measured.stderr.strip().splitlines()[-3:]
        run.error = f"exit {measured.returncode}: " + " | ".join(tail)
        return run
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    stats = lines.pop()["stats"]
    run.seconds, run.cpu, run.version = stats["seconds"], stats["cpu"], stats["version"]
    run.helpers, run.helper_rss_mb = stats["helpers"], stats["helper_rss_mb"]
    score(run, lines, truths)
    return run


def describe(run: ToolRun) -> str:
    """One printed line per run."""
    if run.error:
        return f"  {run.tool:<12} workers={run.workers:<4} FAILED TO RUN: {run.error}"
    name = run.tool if run.timeout == TIMEOUT else f"{run.tool} {run.timeout:.0f}s"
    failures = ", ".join(f"{k} {v}" for k, v in run.failures.items()) or "none"
    ninety = f"{run.seconds_90:5.2f} s" if run.seconds_90 is not None else "   –   "
    helpers = f" + {run.helpers}×{run.helper_rss_mb:.0f} MB" if run.helpers else ""
    return (
        f"  {name:<12} workers={run.workers:<4} {run.seconds:6.2f} s  "
        f"{run.urls_per_second:6.0f} URLs/s  90% done {ninety}  cpu {run.cpu:5.2f} s  "
        f"correct {run.correctness:6.1%}  RSS {run.max_rss_mb:4.0f} MB{helpers}  "
        f"failures: {failures}"
    )


def best_runs(runs: list[ToolRun]) -> dict[str, ToolRun]:
    """Each tool's fastest setting (median URLs/s over repeats), among runs that worked."""
    by_setting: dict[tuple[str, int], list[ToolRun]] = {}
    for run in runs:
        if run.error is None and run.timeout == TIMEOUT:
            by_setting.setdefault((run.tool, run.workers), []).append(run)
    best: dict[str, ToolRun] = {}
    for (tool, _), repeats in by_setting.items():
        ordered = sorted(repeats, key=lambda r: r.urls_per_second)
        median = ordered[len(ordered) // 2]
        if tool not in best or median.urls_per_second > best[tool].urls_per_second:
            best[tool] = median
    return best


def compare(
    urls: int,
    competitors_python: str,
    *,
    repeat: int = 1,
    scenarios: tuple[tuple[int, float], ...] = SCENARIOS,
    tools: tuple[str, ...] = TOOLS,
) -> dict[str, Any]:
    """Run every tool over every scenario; return the results (JSON-ready)."""
    missing = {t: unavailable(t, python_for(t, competitors_python)) for t in tools}
    for tool, why in missing.items():
        if why:
            print(f"{tool}: not measured ({why})", file=sys.stderr)
    ready = [t for t in tools if not missing[t]]
    report: dict[str, Any] = {
        "urls": urls,
        "timeout": TIMEOUT,
        "fault_rates": world.FAULT_RATES,
        "unavailable": {t: why for t, why in missing.items() if why},
        "scenarios": [],
    }
    run_number = 0
    with world.running_world() as port, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for tool in ready:  # warm the disk cache and the imports' bytecode
            token = world.make_token(run_number := run_number + 1, 0.0)
            small = world.World(port, token)
            python = python_for(tool, competitors_python)
            run_tool(
                tool,
                10,
                small.urls(WARMUP_URLS),
                small.truth_by_url(WARMUP_URLS),
                (10, 0.0),
                python,
                folder,
            )
        for concurrency, latency in scenarios:
            print(f"scenario: {urls} URLs, concurrency {concurrency}, {latency * 1000:.0f} ms")
            settings = [
                (tool, workers, TIMEOUT)
                for tool in ready
                for workers in (SWEEPS[concurrency] if tool in COMPETITORS else (concurrency,))
            ]
            if "ours" in ready:
                settings.append(("ours", concurrency, DIAGNOSTIC_TIMEOUT))
            runs: list[ToolRun] = []
            for _ in range(repeat):  # interleaved, so drift on the box hits every tool alike
                for tool, workers, timeout in settings:
                    here = world.World(
                        port, world.make_token(run_number := run_number + 1, latency)
                    )
                    run = run_tool(
                        tool,
                        workers,
                        here.urls(urls),
                        here.truth_by_url(urls),
                        (concurrency, latency),
                        python_for(tool, competitors_python),
                        folder,
                        timeout,
                    )
                    print(describe(run), flush=True)
                    runs.append(run)
            best = best_runs(runs)
            report["scenarios"].append(
                {
                    "concurrency": concurrency,
                    "latency": latency,
                    "runs": [as_json(r) for r in runs],
                    "best": {t: as_json(r) for t, r in best.items()},
                    "ratios": ratios(best),
                }
            )
            for name, value in ratios(best).items():
                print(f"  {name}: {value:.2f}")
    return report


def as_json(run: ToolRun) -> dict[str, Any]:
    """A run with its derived figures, for the JSON report."""
    return asdict(run) | {
        "urls_per_second": run.urls_per_second,
        "urls_per_second_90": run.urls_per_second_90,
    }


def ratios(best: dict[str, ToolRun]) -> dict[str, float]:
    """Our URLs/s (as shipped, and held to one process) over each competitor's best, and
    the bare aiohttp loop's over ours."""
    out: dict[str, float] = {}
    for mine in OURS:
        if mine not in best:
            continue
        ours = best[mine].urls_per_second
        for other in COMPETITORS:
            if other in best:
                out[f"{mine} / {other}"] = ours / best[other].urls_per_second
        if "aiohttp" in best:
            out[f"aiohttp / {mine}"] = best["aiohttp"].urls_per_second / ours
    return out


def measured_transport() -> str:
    """Which transport sits under our resolver in this checkout (for the document)."""
    repo = Path(__file__).resolve().parents[1]
    text = (repo / "scraper" / "net" / "transport.py").read_text(encoding="utf-8")
    return text.split('"""')[1].strip().splitlines()[0] if '"""' in text else ""


def main() -> None:
    """Command line: run the comparison, print it, and optionally save it as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=1000, help="URLs per run (default 1000)")
    parser.add_argument("--full", action="store_true", help="the issue's size: 5,000 URLs")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved repeats per setting")
    parser.add_argument(
        "--competitors-python",
        default=sys.executable,
        help="interpreter with minet and urlexpander installed (default: this one)",
    )
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        resolver_tools.child_main(
            options.child, options.workers, options.timeout, options.input, options.output
        )
        return
    world.raise_fd_limit()
    size = 5000 if options.full else options.urls
    tools = tuple(t for t in options.tools.split(",") if t)
    report = compare(size, options.competitors_python, repeat=options.repeat, tools=tools)
    report["transport"] = measured_transport()
    if options.json:
        options.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
