"""What the month-end benchmark prints and draws from its stages' JSON lines.

A run at one scale is a list of stage lines (see :mod:`month_end_stages`); a curve is
those lists by scale. Cost per item is a stage's seconds over its items: rows ingested,
statements built, approved and pushed, documents rendered.
"""

from __future__ import annotations

from pathlib import Path

# Stages whose items grow with the scale, and what an item is.
ITEM = {
    "ingest": "row ingested",
    "build": "statement built",
    "approve": "statement approved",
    "render": "document rendered",
    "push-csv": "statement pushed (CSV)",
    "push-xero": "statement pushed (Xero)",
}
TARGET_COST_GROWTH, TARGET_RSS_GROWTH = 1.25, 1.5


def by_stage(lines: list[dict]) -> dict[str, dict]:
    return {line["stage"]: line for line in lines}


def total_line(scale: float, setup: dict, lines: list[dict]) -> dict:
    """The run's total: every stage's seconds and the largest peak RSS, and the checks."""
    stages = by_stage(lines)
    checked = stages["verify"]
    timed = [line for line in lines if line["stage"] != "verify"]
    return {
        "stage": "total",
        "scale": scale,
        "customers": setup["customers"],
        "rows": sum(setup["rows"].values()),
        "statements": stages["build"]["items"],
        "seconds": round(sum(line["seconds"] for line in timed), 2),
        "peak_rss_mib": max(line["peak_rss_mib"] for line in timed),
        "duplicate_invoices": checked["duplicate_invoices"],
        "number_gaps": checked["number_gaps"],
        "loadavg_start": lines[0]["loadavg_start"],
        "loadavg_end": lines[-1]["loadavg_end"],
    }


def cost_per_item(lines: list[dict]) -> dict[str, float]:
    """Seconds per item of each stage in :data:`ITEM` (microseconds would hide nothing)."""
    stages = by_stage(lines)
    return {s: stages[s]["seconds"] / stages[s]["items"] for s in ITEM if stages[s]["items"]}


def curve_line(runs: dict[float, list[dict]], totals: dict[float, dict]) -> dict:
    """The curve's last JSON line: growth from the smallest scale to the largest."""
    small, large = min(runs), max(runs)
    low, high = cost_per_item(runs[small]), cost_per_item(runs[large])
    growth = {s: round(high[s] / low[s], 3) for s in low if s in high}
    worst = max(growth, key=growth.get)
    rss_growth = totals[large]["peak_rss_mib"] / totals[small]["peak_rss_mib"]
    return {
        "stage": "curve",
        "scales": sorted(runs),
        "cost_per_item_seconds": {
            str(k): {s: round(v, 7) for s, v in cost_per_item(lines).items()}
            for k, lines in sorted(runs.items())
        },
        "peak_rss_mib": {str(k): t["peak_rss_mib"] for k, t in sorted(totals.items())},
        "cost_growth_by_stage": growth,
        "cost_growth": growth[worst],
        "cost_growth_stage": worst,
        "rss_growth": round(rss_growth, 3),
        "cost_growth_target_met": growth[worst] <= TARGET_COST_GROWTH,
        "rss_growth_target_met": rss_growth <= TARGET_RSS_GROWTH,
        "duplicate_invoices": sum(t["duplicate_invoices"] for t in totals.values()),
        "number_gaps": sum(t["number_gaps"] for t in totals.values()),
    }


def plot(runs: dict[float, list[dict]], path: Path) -> Path:
    """Cost per item against scale, one line per stage, relative to the smallest scale
    (1.0 is linear) on the left and in absolute microseconds on the right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scales = sorted(runs)
    costs = {k: cost_per_item(runs[k]) for k in scales}
    figure, (relative, absolute) = plt.subplots(1, 2, figsize=(11, 4.2))
    for stage, item in ITEM.items():
        values = [costs[k].get(stage) for k in scales]
        if None in values:
            continue
        relative.plot(scales, [v / values[0] for v in values], marker="o", label=item)
        absolute.plot(scales, [v * 1e6 for v in values], marker="o", label=item)
    relative.axhline(
        TARGET_COST_GROWTH,
        color="red",
        linestyle="--",
        linewidth=1,
        label=f"target {TARGET_COST_GROWTH}x",
    )
    relative.set(
        xlabel="scale (1 = 5,000 customers, 7M rows)",
        ylabel="cost per item / smallest scale's",
        title="Cost per item, relative",
    )
    absolute.set(
        xlabel="scale", ylabel="µs per item", yscale="log", title="Cost per item (µs, log)"
    )
    for axes in (relative, absolute):
        axes.set_xscale("log", base=2)
        axes.set_xticks(scales, [f"{k:g}" for k in scales])
        axes.grid(True, alpha=0.3)
    relative.legend(fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def markdown_table(runs: dict[float, list[dict]], totals: dict[float, dict]) -> str:
    """The scaling table of docs/performance.md."""
    stages = ["ingest", "close", *list(ITEM)[1:]]
    head = [
        "scale",
        "rows",
        "statements",
        *[f"{s} s" for s in stages],
        "total s",
        *[f"µs/{ITEM[s].split()[0]} {s}" for s in ITEM],
        "peak RSS MiB",
    ]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for scale in sorted(runs):
        lines, total = by_stage(runs[scale]), totals[scale]
        costs = cost_per_item(runs[scale])
        row = [
            f"{scale:g}",
            f"{total['rows']:,}",
            f"{total['statements']:,}",
            *[f"{lines[s]['seconds']:.1f}" for s in stages],
            f"{total['seconds']:.1f}",
            *[f"{costs[s] * 1e6:,.1f}" for s in ITEM],
            f"{total['peak_rss_mib']:.0f}",
        ]
        out.append("| " + " | ".join(row) + " |")
    return "\n".join(out) + "\n"
