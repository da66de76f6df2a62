"""Turn the saved figures of the benchmark parts into the Markdown of ``docs/benchmarks.md``.

``write_document`` takes the figures ``report.py`` loads (per part: ``data``, ``machine`` and
``command``) and returns the page: the machine and the commands that reproduce it, the issue's
bars with a verdict each (``verdicts``), one section per part (``resolver_section``,
``parser_section``, ``e2e_section``) and, for the bars missed, the notes on why that
``report_notes`` draws from the same run's figures. It measures nothing and writes no file.
"""

from __future__ import annotations

from typing import Any

# bench/ is not a package: whoever imports this module by name has its folder on sys.path
from report_notes import LABELS, fmt_pace, other_shortfalls, resolver_shortfalls

PARTS = ("resolvers", "parsers", "e2e")
TITLES = {"resolvers": "1. resolving", "parsers": "2. embedded tweets", "e2e": "3. end to end"}


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
                f"{e2e['first']['seconds']:.2f} s)"
                + (
                    f"; sitemap dates not trusted: {e2e['conditional_ratio']:.1%}"
                    if "conditional_ratio" in e2e
                    else ""
                ),
                e2e["ratio"] <= 0.10,
            )
        )
    return rows


def _one_process(scenario: dict[str, Any] | None, key: str, form: str) -> str:
    """The same ratio for our resolver held to one process, as a parenthesis ("" if none)."""
    value = scenario["ratios"].get(key) if scenario else None
    return f" (one process: {form.format(value)})" if value else ""


def fmt_failures(failures: dict[str, int]) -> str:
    """Failures by category, as one cell."""
    return ", ".join(f"{k} {v}" for k, v in failures.items()) or "none"


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
        "Our transport, in `scraper/net/transport.py`'s words: "
        + data.get("transport", "?").rstrip(".")
        + ".",
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
                f"{run['urls_per_second']:.0f} | {ratio} | {fmt_pace(run)} | "
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
                f"{head} | {run['seconds']:.2f} | {rate} | {fmt_pace(run)} | "
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
        f"same world ({data['latency'] * 1000:.0f} ms per answer, the same faults). The "
        f"site's sitemaps date every page (`<lastmod>`, as news sitemaps do). Then the same "
        f"command again, {len(data['reruns'])} times: nothing changed, so the pages the "
        f"sitemap dates before our copy are not requested at all (`listed_unchanged`) and "
        f"every URL is resolved already; the median rerun is the figure. Then "
        f"{len(data.get('conditional_reruns', []))} more with `[fetch] skip_unchanged = "
        f"false` (the sitemap's dates not trusted: every page gets a conditional GET and "
        f"answers 304), for comparison.",
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
            f"unchanged by sitemap {rerun.get('listed_unchanged', 0)}, not modified "
            f"{rerun['not_modified']}, fetched {rerun['fetched']}, URLs resolved "
            f"{rerun['urls_resolved']} |"
        )
    for number, rerun in enumerate(data.get("conditional_reruns", []), 1):
        lines.append(
            f"| rerun {number}, lastmod not trusted | {rerun['seconds']:.2f} | "
            f"{rerun['max_rss_mb']:.0f} MB | not modified {rerun['not_modified']}, fetched "
            f"{rerun['fetched']}, URLs resolved {rerun['urls_resolved']} |"
        )
    lines += [
        "",
        f"Rerun ÷ first: **{data['ratio']:.1%}**"
        + (
            f"; with the sitemap's dates not trusted: {data['conditional_ratio']:.1%}"
            if "conditional_ratio" in data
            else ""
        )
        + f". Of a rerun, starting Python and importing the CLI takes "
        f"{data['startup_seconds']:.2f} s, and the {data['articles']:,} conditional GETs "
        f"alone (same fetcher, no database) {data['conditional_get_seconds']:.2f} s.",
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
