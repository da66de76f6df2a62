"""Draw ``docs/benchmarks.png``: the three parts' headline figures side by side.

``draw_chart`` plots resolver URLs/s per scenario, parser pages/s (with precision and recall)
and the end-to-end first run against the median rerun. matplotlib is imported only when
drawing, so the rest of the report does not need it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# bench/ is not a package: whoever imports this module by name has its folder on sys.path
from report_notes import LABELS


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
        names = ["first run", "rerun (median)"]
        values = [e2e["first"]["seconds"], e2e["rerun_seconds"]]
        ratios = [e2e["ratio"]]
        if "conditional_rerun_seconds" in e2e:  # older results lack it
            names.append("rerun, sitemap\ndates not trusted")
            values.append(e2e["conditional_rerun_seconds"])
            ratios.append(e2e["conditional_ratio"])
        shades = [colours["ours"], "#a6dba0", "#d9f0d3"][: len(values)]
        axes[2].bar(names, values, color=shades)
        for position, ratio in enumerate(ratios, 1):
            axes[2].annotate(f"{ratio:.1%}", (position, values[position]), ha="center", va="bottom")
        axes[2].axhline(
            values[0] * 0.10, color="#b2182b", linestyle="--", linewidth=1, label="bar: 10%"
        )
        axes[2].legend(fontsize=8, loc="upper right")
        axes[2].set_ylabel("seconds (lower is better)")
        axes[2].set_title(f"scraper run, {e2e['articles']:,} articles")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
