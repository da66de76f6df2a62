"""Run the three comparisons and write ``docs/benchmarks.md`` with ``docs/benchmarks.png``.

    .venv/bin/python bench/report.py --competitors-python /work/bench-venv/bin/python
    .venv/bin/python bench/report.py --full ...          # the issue's sizes (5,000 URLs)
    .venv/bin/python bench/report.py --only resolvers    # re-run one part, reuse the others

Each part's figures are saved as JSON in ``--results`` as soon as it finishes, so a part
can be re-run alone (``--only``) and the document rewritten from the rest.
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
# bench/ is not a package: the comparisons sit beside this file
import compare_end_to_end
import compare_parsers
import compare_resolvers
import world

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PARTS = ("resolvers", "parsers", "e2e")
TITLES = {"resolvers": "1. resolving", "parsers": "2. embedded tweets", "e2e": "3. end to end"}
DEFAULT_RESULTS = Path(os.environ.get("TMPDIR", "/tmp")) / "scraper-bench-results"
LABELS = {
    "ours": "scraper (ours)",
    "ours-1": "scraper, one process",
    "aiohttp": "bare aiohttp loop",
    "minet": "minet",
    "urlexpander": "urlExpander",
    "tweetfinder": "Tweet-Finder",
}


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


# ------------------------------------------------------------------------- the document


def verdicts(figures: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """The issue's bars: (bar, what was measured, met?); None when it could not be measured."""
    rows: list[tuple[str, str, bool | None]] = []
    resolvers = figures.get("resolvers", {}).get("data")
    if resolvers:
        by_concurrency = {s["concurrency"]: s for s in resolvers["scenarios"]}
        low, high = by_concurrency.get(100), by_concurrency.get(500)
        for name, floor in (("minet", 1.5), ("urlexpander", 3.0)):
            ratio = low["ratios"].get(f"ours / {name}") if low else None
            rows.append(
                (
                    f"resolver ≥ {floor}× {LABELS[name]}, URLs/s (100/20: concurrency 100, 20 ms)",
                    f"{ratio:.2f}×" + _one_process(low, f"ours-1 / {name}", "{:.2f}×")
                    if ratio
                    else "not measured",
                    None if ratio is None else ratio >= floor,
                )
            )
        limit = low["ratios"].get("aiohttp / ours") if low else None
        rows.append(
            (
                "goal: within 1.2× of the bare aiohttp loop (100/20)",
                f"aiohttp is {limit:.2f}× ours"
                + _one_process(low, "aiohttp / ours-1", "aiohttp is {:.2f}× it")
                if limit
                else "not measured",
                None if limit is None else limit <= 1.2,
            )
        )
        if high:
            for name in ("minet", "urlexpander"):
                ratio = high["ratios"].get(f"ours / {name}")
                rows.append(
                    (
                        f"resolver ahead of {LABELS[name]} (500/100: concurrency 500, 100 ms)",
                        f"{ratio:.2f}×" if ratio else "not measured",
                        None if ratio is None else ratio > 1.0,
                    )
                )
        for scenario in resolvers["scenarios"]:
            best = scenario["best"]
            if "ours" not in best:
                continue
            others = [t for t in ("minet", "urlexpander") if t in best]
            ours = best["ours"]["correct"] / best["ours"]["urls"]
            worst = max((best[t]["correct"] / best[t]["urls"] for t in others), default=None)
            rows.append(
                (
                    f"correctness at least the competitors' ({scenario['concurrency']}/"
                    f"{scenario['latency'] * 1000:.0f})",
                    f"ours {ours:.1%}, best competitor {worst:.1%}"
                    if worst
                    else f"ours {ours:.1%}",
                    None if worst is None else ours >= worst,
                )
            )
    parsers = figures.get("parsers", {}).get("data")
    if parsers and "speed_ratio" in parsers:
        ours, theirs = parsers["runs"]["ours"], parsers["runs"]["tweetfinder"]
        rows.append(
            (
                "parser ≥ 2× Tweet-Finder's pages/s",
                f"{parsers['speed_ratio']:.2f}×",
                parsers["speed_ratio"] >= 2,
            )
        )
        for key in ("precision", "recall"):
            rows.append(
                (
                    f"parser {key} higher than Tweet-Finder's",
                    f"{ours[key]:.3f} against {theirs[key]:.3f}",
                    ours[key] > theirs[key],
                )
            )
    e2e = figures.get("e2e", {}).get("data")
    if e2e:
        rows.append(
            (
                "incremental rerun ≤ 10% of the first run",
                f"{e2e['ratio']:.1%} ({e2e['rerun_seconds']:.2f} s of "
                f"{e2e['first']['seconds']:.2f} s)",
                e2e["ratio"] <= 0.10,
            )
        )
    return rows


def _one_process(scenario: dict[str, Any] | None, key: str, form: str) -> str:
    """The same ratio for our resolver held to one process, as a parenthesis ("" if none)."""
    value = scenario["ratios"].get(key) if scenario else None
    return f" (one process: {form.format(value)})" if value else ""


def world_faults(urls: int) -> dict[str, int]:
    """How many of the first ``urls`` world URLs meet each fault."""
    counts: dict[str, int] = {}
    for index in range(urls):
        fault = world.plan_for(index).fault
        counts[fault] = counts.get(fault, 0) + 1
    return counts


def resolver_shortfalls(part: dict[str, Any], unmet: set[str]) -> list[str]:
    """Why the resolver misses its bars, from the figures of the same run."""
    data, notes = part["data"], []
    faults = world_faults(data["urls"])
    place = world.World(0, "r0x0")
    requests = sum(place.truth(i).requests for i in range(data["urls"]))
    for scenario in data["scenarios"]:
        tag = f"{scenario['concurrency']}/{scenario['latency'] * 1000:.0f}"
        missed = [bar for bar in unmet if tag in bar]
        ours = scenario["best"].get("ours")
        if ours is None or not missed:
            continue
        best = scenario["best"]
        others = [best[t] for t in ("aiohttp", "minet", "urlexpander") if t in best]
        if any(not bar.startswith("correctness") for bar in missed):
            notes.append(speed_note(part, scenario, ours, others, requests, faults))
        timeouts = ours["failures"].get("timeout", 0)
        if any(bar.startswith("correctness") for bar in missed) and timeouts > faults["timeout"]:
            notes.append(timeout_note(data, scenario, ours, faults))
    return notes


def speed_note(
    part: dict[str, Any],
    scenario: dict[str, Any],
    ours: dict[str, Any],
    others: list[dict[str, Any]],
    requests: int,
    faults: dict[str, int],
) -> str:
    """Where our resolver's time goes in one scenario, against the others."""
    n, everyone = part["data"]["urls"], [ours, *others]
    cpu = "; ".join(
        f"{LABELS[r['tool']]} {r['cpu']:.1f} s ({r['cpu'] / n * 1000:.1f} ms a URL)"
        for r in everyone
    )
    pace = "; ".join(f"{LABELS[r['tool']]} {_pace(r)} s" for r in everyone)
    streamed = [r for r in everyone if r.get("seconds_90") is not None]
    tails = "; ".join(
        f"{LABELS[r['tool']]} {r['seconds'] - r['seconds_90']:.2f} s" for r in streamed
    )
    longest = max(streamed, key=lambda r: r["seconds"] - r["seconds_90"])
    floor = requests * scenario["latency"] / scenario["concurrency"]
    bare = next((r for r in others if r["tool"] == "aiohttp"), None)
    overhead = (
        f" Ours (its worker processes included) takes {ours['cpu'] / bare['cpu']:.1f}× the "
        f"bare loop's CPU: on the same aiohttp client sit the httpx layer (its URL parsing "
        f"and models), the address guard, the retry policy, the hop records and the "
        f"results' trip from the workers to the parent (a profile of one run shows them)."
        if bare and bare["cpu"]
        else ""
    )
    return (
        f"- **Speed at concurrency {scenario['concurrency']}, "
        f"{scenario['latency'] * 1000:.0f} ms.** The runs are limited by CPU, not by the network: "
        f"the world would serve the run's {requests:,} requests in {floor:.2f} s, but the 2 "
        f"cores are shared by the client, the world's server and other work (load average "
        f"{part['machine']['load'][0]:.1f} when this part started). CPU for the {n:,} URLs: "
        f"{cpu}.{overhead} 90% of the URLs done after: {pace}. The last 10% took: {tails}; "
        f"ours waits "
        f"out the {faults.get('429', 0)} one-off 429s (`Retry-After: 1`) and "
        f"{faults.get('503', 0)} 503s (a backoff of 1–2 s) and gets them right, where the "
        f"others fail them at once"
        + (", so its tail is the longest." if longest is ours else ".")
        + share_note(ours, others)
    )


def timeout_note(
    data: dict[str, Any], scenario: dict[str, Any], ours: dict[str, Any], faults: dict[str, int]
) -> str:
    """Why our resolver timed out more URLs than the world hangs, with the diagnostic run."""
    hanging = faults["timeout"]
    text = (
        f"- **Timeouts at concurrency {scenario['concurrency']}.** Our 2 s deadline covers "
        f"the whole URL, including the time its answers wait for a busy event loop: "
        f"{ours['failures']['timeout']} URLs timed out where the world hangs {hanging}."
    )
    aiohttp = scenario["best"].get("aiohttp")
    if aiohttp is not None:
        text += (
            f" The bare aiohttp loop, whose 2 s also covers the whole URL, timed out "
            f"{aiohttp['failures'].get('timeout', 0)}."
        )
    for run in scenario["runs"]:
        if run["tool"] == "ours" and run["timeout"] > data["timeout"] and not run["error"]:
            text += (
                f" With the config's default deadline ({run['timeout']:.0f} s) the same run "
                f"got {run['correct'] / run['urls']:.1%} right, 90% of the URLs done after "
                f"{_pace(run)} s against {_pace(ours)} s: the URLs the 2 s deadline cut were "
                f"waiting for the CPU, not for the world."
            )
    counts = []
    for tool, key, name in (
        ("minet", "timeout", "timeouts"),
        ("urlexpander", "sentinel_pool", "connection-pool errors, its timeouts among them"),
    ):
        run = scenario["best"].get(tool)
        if run is not None:
            counts.append(f"{LABELS[tool]} {run['failures'].get(key, 0)} {name}")
    if counts:
        text += (
            " minet's and urlExpander's 2 s bound each request (each socket read), which an "
            f"answer ends however late the process gets to it: {'; '.join(counts)}."
        )
    return text


def share_note(ours: dict[str, Any], others: list[dict[str, Any]]) -> str:
    """How much of a core each tool got: threads win a loaded machine's scheduler."""
    shares = [r for r in [ours, *others] if r["seconds"]]
    text = " Share of one core while resolving (CPU ÷ wall): " + "; ".join(
        f"{LABELS[r['tool']]} {r['cpu'] / r['seconds']:.0%}" for r in shares
    )
    threaded = [r for r in others if r["tool"] in ("minet", "urlexpander")]
    if any(r["cpu"] / r["seconds"] > ours["cpu"] / ours["seconds"] for r in threaded):
        text += (
            ". The kernel shares a busy machine among threads, not processes, so a tool "
            "running 25–500 threads gets more of it than one event loop"
        )
    return text + "."


def other_shortfalls(figures: dict[str, Any], unmet: set[str]) -> list[str]:
    """Why the parser or the incremental run miss their bars."""
    notes = []
    parsers = figures.get("parsers", {}).get("data")
    if parsers and any("parser" in bar for bar in unmet):
        ours, theirs = parsers["runs"]["ours"], parsers["runs"]["tweetfinder"]
        notes.append(
            f"- **Parser.** Ours: {ours['pages_per_second']:.1f} pages/s, TP {ours['tp']}, "
            f"FP {ours['fp']}, FN {ours['fn']}; Tweet-Finder: "
            f"{theirs['pages_per_second']:.1f} pages/s, TP {theirs['tp']}, FP {theirs['fp']}, "
            f"FN {theirs['fn']}. Our misses and false positives are listed above."
        )
    e2e = figures.get("e2e", {}).get("data")
    if e2e and any("incremental" in bar for bar in unmet):
        notes.append(
            f"- **Incremental run.** A rerun that finds nothing new is mostly fixed cost: "
            f"starting Python and importing the CLI ({e2e['startup_seconds']:.2f} s) and "
            f"one conditional GET per article ({e2e['conditional_get_seconds']:.2f} s for "
            f"{e2e['articles']:,}, with the fetcher's concurrency of 8), of a median rerun of "
            f"{e2e['rerun_seconds']:.2f} s; both grow with the machine's load, and the "
            f"reruns here ranged over "
            f"{min(r['seconds'] for r in e2e['reruns']):.2f}–"
            f"{max(r['seconds'] for r in e2e['reruns']):.2f} s."
        )
    return notes


def fmt_failures(failures: dict[str, int]) -> str:
    """Failures by category, as one cell."""
    return ", ".join(f"{k} {v}" for k, v in failures.items()) or "none"


def _pace(run: dict[str, Any]) -> str:
    """When 90% of the URLs were done, as a cell."""
    return f"{run['seconds_90']:.2f}" if run.get("seconds_90") is not None else "–"


def resolver_section(part: dict[str, Any]) -> list[str]:
    """Tables of the resolving comparison."""
    data = part["data"]
    rates = ", ".join(f"{k} {v:.0%}" for k, v in data["fault_rates"].items())
    lines = [
        "## 1. Resolving short links",
        "",
        f"One loopback world (`bench/world.py`, its own process): 127.0.0.2–4 play t.co, bit.ly "
        f"and ow.ly, 127.0.1.1–20 the destination sites, all by literal IP (no DNS). "
        f"{data['urls']:,} short URLs per run, each 1–3 hops then its destination (a 2 KB page)."
        f" Faults: {rates} (429: once, with `Retry-After: 1`; 503: once; dead: the destination "
        f"answers 404; timeout: one hop never answers). Every tool: a {data['timeout']:.0f} s "
        f"timeout (ours and the aiohttp loop: for the whole URL, every hop; minet and "
        f"urlExpander: per request, so per hop), its own process (peak RSS from `wait4`; ours as"
        f" shipped spreads a batch this large over one worker process per core, whose CPU is "
        f"counted with its own and whose largest peak RSS is shown as `+ N×size`; *scraper, one "
        f"process* is the same with `[resolver] processes = 1`), a guard refusing any connection"
        f" off loopback, no per-host cap (the world has only three shortener hosts). Seconds "
        f"count the resolving only (interpreter start and imports excluded); *90% done* is when "
        f"nine URLs in ten were finished (the pace without the slowest tail; urlExpander returns"
        f" its list only at the end). A URL is correct when the tool's final URL and the answer "
        f"it got there (200, or 404 for a dead link) are the world's; for a hanging hop, when "
        f"the tool reports a failure. urlExpander returns a URL only after `raise_for_status()` "
        f"passed, so its URLs count as 200s.",
        "",
        f"Our transport, in `scraper/transport.py`'s words: {data.get('transport', '?')}.",
        "",
    ]
    for why in data.get("unavailable", {}).values():
        lines += [f"Not measured: {why}.", ""]
    for scenario in data["scenarios"]:
        best = scenario["best"]
        ours = best.get("ours", {}).get("urls_per_second")
        lines += [
            f"### Concurrency {scenario['concurrency']}, {scenario['latency'] * 1000:.0f} ms "
            "per response (each tool at its best setting)",
            "",
            "| tool | workers | seconds | URLs/s | ours ÷ tool | 90% done (s) | correct | "
            "CPU s | peak RSS | failures by category |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for tool in ("ours", "ours-1", "aiohttp", "minet", "urlexpander"):
            run = best.get(tool)
            if run is None:
                continue
            ratio = f"{ours / run['urls_per_second']:.2f}" if ours else "–"
            helpers = (
                f" + {run['helpers']}×{run['helper_rss_mb']:.0f} MB" if run.get("helpers") else ""
            )
            lines.append(
                f"| {LABELS[tool]} {run['version']} | {run['workers']} | {run['seconds']:.2f} | "
                f"{run['urls_per_second']:.0f} | {ratio} | {_pace(run)} | "
                f"{run['correct'] / run['urls']:.1%} | {run['cpu']:.1f} | "
                f"{run['max_rss_mb']:.0f} MB{helpers} | {fmt_failures(run['failures'])} |"
            )
        lines += ["", "Every run (the competitors' thread counts, our diagnostic run):", ""]
        lines += ["| tool | workers | timeout | seconds | URLs/s | 90% done (s) | correct | "]
        lines[-1] += "wrong, by the world's fault |"
        lines += ["| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for run in scenario["runs"]:
            head = f"| {LABELS[run['tool']]} | {run['workers']} | {run['timeout']:.0f} s"
            if run["error"]:
                lines.append(f"{head} | failed: {run['error']} |||||")
                continue
            # the diagnostic run's wall time is the hanging hops' 15 s: no rate to read there
            rate = f"{run['urls_per_second']:.0f}" if run["timeout"] == data["timeout"] else "–"
            lines.append(
                f"{head} | {run['seconds']:.2f} | {rate} | {_pace(run)} | "
                f"{run['correct'] / run['urls']:.1%} | {fmt_failures(run['wrong'])} |"
            )
        lines.append("")
    return lines


def parser_section(part: dict[str, Any]) -> list[str]:
    """The table of the embedded-tweet comparison."""
    data = part["data"]
    lines = [
        "## 2. Finding embedded tweets",
        "",
        f"The shared corpus (`../shared/corpus`, {data['labels']} labelled tweets): every page "
        "parsed by both tools from the same bytes, no network, each tool in its own process "
        "after an untimed warm-up page. Scored over (page, status id) pairs against "
        "`tweets.tsv`; tweets that an article merely links to (our kind `link`) are left "
        "out, as the labels are embeds. A Tweet-Finder embed whose id is not a number counts "
        "as a false positive.",
        "",
        "| tool | pages | seconds | pages/s | precision | recall | TP | FP | FN | pages it "
        "crashed on | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for tool, run in data["runs"].items():
        if run["error"]:
            lines.append(f"| {LABELS[tool]} | failed to run: {run['error']} ||||||||||")
            continue
        lines.append(
            f"| {LABELS[tool]} {run['version']} | {run['pages']} | {run['seconds']:.2f} | "
            f"{run['pages_per_second']:.1f} | {run['precision']:.3f} | {run['recall']:.3f} | "
            f"{run['tp']} | {run['fp']} | {run['fn']} | {run['crashed_pages']} | "
            f"{run['max_rss_mb']:.0f} MB |"
        )
    lines.append("")
    for tool, run in data["runs"].items():
        for kind, name in (("fp", "false positives"), ("fn", "misses")):
            if run.get("examples", {}).get(kind):
                shown = "; ".join(f"`{e}`" for e in run["examples"][kind])
                lines.append(f"- {LABELS[tool]}, first {name}: {shown}")
    return [*lines, ""]


def e2e_section(part: dict[str, Any]) -> list[str]:
    """The table of the end-to-end run."""
    data = part["data"]
    first = data["first"]
    lines = [
        "## 3. End to end",
        "",
        f"`scraper run` (the real command line, its own process, under the loopback guard) "
        f"over {data['articles']:,} article pages of about 20 KB served on loopback by "
        f"`tests/site_server.py` through a sitemap index, into a fresh database. Each page "
        f"embeds two tweets with a short link each and links one more short link and one "
        f"direct page; the {first['short_links']:,} distinct short links go through the "
        f"same world ({data['latency'] * 1000:.0f} ms per answer, the same faults). Then "
        f"the same command again, {len(data['reruns'])} times: nothing changed (every page "
        f"answers 304, every URL is resolved); the median rerun is the figure.",
        "",
        "| run | seconds | peak RSS | what it did |",
        "| --- | ---: | ---: | --- |",
        f"| first | {first['seconds']:.2f} | {first['max_rss_mb']:.0f} MB | "
        f"{first['articles']:,} articles, {first['citations']:,} citations; short links "
        f"{fmt_failures(first['short_links_by_status'])}; final URL right for "
        f"{first['final_url_correct']:,} of {first['final_url_resolvable']:,} resolvable |",
    ]
    for number, rerun in enumerate(data["reruns"], 1):
        lines.append(
            f"| rerun {number} | {rerun['seconds']:.2f} | {rerun['max_rss_mb']:.0f} MB | "
            f"not modified {rerun['not_modified']}, fetched {rerun['fetched']}, URLs resolved "
            f"{rerun['urls_resolved']} |"
        )
    lines += [
        "",
        f"Rerun ÷ first: **{data['ratio']:.1%}**. Of a rerun, starting Python and importing "
        f"the CLI takes {data['startup_seconds']:.2f} s and the {data['articles']:,} "
        f"conditional GETs alone (same fetcher, no database) "
        f"{data['conditional_get_seconds']:.2f} s.",
        "",
    ]
    return lines


def _load_after(part: dict[str, Any]) -> str:
    """The one-minute load average when a part ended (older results lack it)."""
    after = part["machine"].get("load_after")
    return f"{after[0]:.2f}" if after else "–"


def write_document(figures: dict[str, Any]) -> str:
    """The whole of ``docs/benchmarks.md``."""
    some = next(iter(figures.values()))
    box = some["machine"]
    lines = [
        "# Benchmarks against the tools people use today",
        "",
        f"Measured on {box['nproc']} cores ({box['cpu']}, KVM guest), {box['memory_gb']} GiB. "
        f"The machine is shared with other work, so every figure below is compared only "
        f"with others from the same run. Ours: Python {box['python']} (`.venv`); "
        f"competitors: Python {box['competitors_python']} (`{box['competitors_interpreter']}`, "
        f"a separate environment because minet and Tweet-Finder pin older beautifulsoup4, "
        f"tenacity and urllib3 than the project uses).",
        "",
        "| part | started | load average at start, at end | checkout (and working tree) |",
        "| --- | --- | ---: | --- |",
        *(
            f"| {TITLES[name]} | {part['machine']['date']} | "
            f"{part['machine']['load'][0]:.2f}, {_load_after(part)} | "
            f"{part['machine']['commit']} |"
            for name, part in figures.items()
        ),
        "",
        "Reproduce (no network: every request goes to 127.0.0.0/8):",
        "",
        "```sh",
        "python3.11 -m venv /work/bench-venv",
        "/work/bench-venv/bin/pip install minet urlexpander tweetfinder",
        ".venv/bin/pip install matplotlib aiohttp",
    ]
    lines += [figures[p]["command"] for p in PARTS if p in figures]
    lines += [
        ".venv/bin/python bench/report.py --competitors-python /work/bench-venv/bin/python"
        "   # all three, and this page",
        "```",
        "",
        "## The bars of issue 7",
        "",
        "| bar | measured | met |",
        "| --- | --- | --- |",
    ]
    bars = verdicts(figures)
    unmet = {bar for bar, _, met in bars if met is False}
    for bar, measured, met in bars:
        mark = "not measured" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {bar} | {measured} | {mark} |")
    lines += ["", "![benchmark chart](benchmarks.png)", ""]
    if "resolvers" in figures:
        lines += resolver_section(figures["resolvers"])
    if "parsers" in figures:
        lines += parser_section(figures["parsers"])
    else:
        lines += ["## 2. Finding embedded tweets", "", "Not run: no corpus.", ""]
    if "e2e" in figures:
        lines += e2e_section(figures["e2e"])
    notes = other_shortfalls(figures, unmet)
    if "resolvers" in figures:
        notes = resolver_shortfalls(figures["resolvers"], unmet) + notes
    if notes:
        lines += ["## Where we fall short, and why", "", *notes, ""]
    return "\n".join(lines)


def draw_chart(figures: dict[str, Any], path: Path) -> None:
    """Three panels: URLs/s per scenario, pages/s, first run against rerun."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    colours = {"ours": "#1b7837", "ours-1": "#a6dba0", "aiohttp": "#999999", "minet": "#2166ac"}
    colours |= {"urlexpander": "#b2182b", "tweetfinder": "#762a83"}
    resolvers = figures.get("resolvers", {}).get("data")
    if resolvers:
        tools = ("ours", "ours-1", "aiohttp", "minet", "urlexpander")
        width = 0.8 / len(tools)
        for n, scenario in enumerate(resolvers["scenarios"]):
            for k, tool in enumerate(tools):
                run = scenario["best"].get(tool)
                if run:
                    x = n + (k - (len(tools) - 1) / 2) * width
                    label = LABELS[tool] if n == 0 else None
                    axes[0].bar(x, run["urls_per_second"], width, color=colours[tool], label=label)
        axes[0].set_xticks(
            range(len(resolvers["scenarios"])),
            [
                f"{s['concurrency']} at once, {s['latency'] * 1000:.0f} ms"
                for s in resolvers["scenarios"]
            ],
        )
        axes[0].set_ylabel("URLs per second (higher is better)")
        axes[0].set_title(f"Resolving {resolvers['urls']:,} short URLs")
        top = max(
            r["urls_per_second"] for sc in resolvers["scenarios"] for r in sc["best"].values()
        )
        axes[0].set_ylim(0, top * 1.3)  # room for the legend above the bars
        axes[0].legend(fontsize=8, ncol=2, loc="upper center")
    parsers = figures.get("parsers", {}).get("data")
    if parsers:
        runs = {t: r for t, r in parsers["runs"].items() if not r["error"]}
        names = list(runs)
        axes[1].bar(
            [LABELS[t] for t in names],
            [runs[t]["pages_per_second"] for t in names],
            color=[colours[t] for t in names],
        )
        for i, tool in enumerate(names):
            run = runs[tool]
            axes[1].annotate(
                f"P {run['precision']:.2f}  R {run['recall']:.2f}",
                (i, run["pages_per_second"]),
                ha="center",
                va="bottom",
                fontsize=9,
            )
        axes[1].set_ylabel("pages per second (higher is better)")
        axes[1].set_title("Finding embedded tweets (corpus)")
    e2e = figures.get("e2e", {}).get("data")
    if e2e:
        values = [e2e["first"]["seconds"], e2e["rerun_seconds"]]
        axes[2].bar(["first run", "rerun (median)"], values, color=[colours["ours"], "#a6dba0"])
        axes[2].annotate(f"{e2e['ratio']:.1%}", (1, values[1]), ha="center", va="bottom")
        axes[2].axhline(
            values[0] * 0.10, color="#b2182b", linestyle="--", linewidth=1, label="bar: 10%"
        )
        axes[2].legend(fontsize=8, loc="upper right")
        axes[2].set_ylabel("seconds (lower is better)")
        axes[2].set_title(f"scraper run, {e2e['articles']:,} articles")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
    options = parser.parse_args()
    options.only = {p for p in options.only.split(",") if p}
    if unknown := options.only - set(PARTS):
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    world.raise_fd_limit()
    figures = run_parts(options)
    if not figures:
        raise SystemExit("nothing measured")
    DOCS.mkdir(exist_ok=True)
    (DOCS / "benchmarks.md").write_text(write_document(figures), encoding="utf-8")
    draw_chart(figures, DOCS / "benchmarks.png")
    print(f"wrote {DOCS / 'benchmarks.md'} and {DOCS / 'benchmarks.png'}")


if __name__ == "__main__":
    main()
