"""The notes under "Where we fall short, and why" in ``docs/benchmarks.md``.

For the issue's bars a run missed, ``resolver_shortfalls`` explains the resolver's (where its
time goes: ``speed_note`` with ``share_note``; why it timed out more URLs than the world hangs:
``timeout_note``, counting the world's faults with ``world_faults``) and ``other_shortfalls``
the parser's and the incremental run's, all from the same run's figures. The tools' display
names (``LABELS``) and the 90%-done cell (``fmt_pace``) live here too, for ``report_document``
to import: this module imports no other report module. It measures nothing and writes no file.
"""

from __future__ import annotations

from typing import Any

# bench/ is not a package: whoever imports this module by name has its folder on sys.path
import world

LABELS = {
    "ours": "scraper (ours)",
    "ours-1": "scraper, one process",
    "aiohttp": "bare aiohttp loop",
    "minet": "minet",
    "urlexpander": "urlExpander",
    "tweetfinder": "Tweet-Finder",
}


def fmt_pace(run: dict[str, Any]) -> str:
    """When 90% of the URLs were done, as a cell."""
    return f"{run['seconds_90']:.2f}" if run.get("seconds_90") is not None else "–"


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
    pace = "; ".join(f"{LABELS[r['tool']]} {fmt_pace(r)} s" for r in everyone)
    streamed = [r for r in everyone if r.get("seconds_90") is not None]
    tails = "; ".join(
        f"{LABELS[r['tool']]} {r['seconds'] - r['seconds_90']:.2f} s" for r in streamed
    )
    longest = max(streamed, key=lambda r: r["seconds"] - r["seconds_90"])
    floor = requests * scenario["latency"] / scenario["concurrency"]
    bare = next((r for r in others if r["tool"] == "aiohttp"), None)
    single = scenario["best"].get("ours-1")
    overhead = (
        f" Ours (its worker processes included) takes {ours['cpu'] / bare['cpu']:.1f}× the "
        f"bare loop's CPU"
        + (
            f", and {single['cpu'] / bare['cpu']:.1f}× held to one process "
            f"({single['cpu']:.1f} s). Of the difference, relaying results to the parent "
            f"takes about 1.1 s and each worker's imports about 0.5 s (measured apart, "
            f"5,000 URLs); the rest is the same resolving costing more CPU when two busy "
            f"workers and the server share 2 cores (not profiled further)"
            if single
            else ""
        )
        + ". On the same aiohttp client sit the httpx layer (its URL parsing and models), "
        "the address guard, the retry policy and the hop records: the bare loop has none "
        "of them, and with 20 ms answers there is little network time to hide them in. "
        "Spreading over the cores buys the rest of the way only partly here: the 2 cores "
        "also run the world's server and the kernel's side of every loopback connection."
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
                f"{fmt_pace(run)} s against {fmt_pace(ours)} s: the URLs the 2 s deadline cut were "
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
