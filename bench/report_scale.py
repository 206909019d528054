"""The scale stage's section of docs/BENCHMARKS.md: the growth table L1 → L4, the fleet's claims
per second, the position estimate's error, the migration's backfill time, and the issue's
targets at the largest size, each met or not (with the reason where it is not)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# p95 ceilings in ms at the largest size (issue: cost that does not grow with the data)
CEILINGS = (
    ("fair claim", 10), ("FIFO claim", 10), ("GET /api/videos", 15), ("rankings", 20),
    ("public videos", 20), ("backlog", 10), ("reconciler round", 20), ("live-event refresh", 20),
)  # fmt: skip
GROWTH_MAX = 3.0
FLEET_MIN = 300.0


def _ceiling(name: str) -> float | None:
    return next((ms for prefix, ms in CEILINGS if name.startswith(prefix)), None)


def _plot(levels: dict[str, Any], folder: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(levels)
    queued = [levels[n]["level"]["queued"] for n in names]
    fig, ax = plt.subplots(figsize=(7, 4))
    for op in levels[names[0]]["timings"]:
        if all(op in levels[n]["timings"] for n in names):
            ax.plot(queued, [levels[n]["timings"][op]["p95_ms"] for n in names], "o-", label=op)
    ax.set_xscale("log")
    ax.set_xlabel("queued jobs (L1 … L4; history, votes and users grow with them)")
    ax.set_ylabel("p95 ms")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(folder / "scale.png", dpi=110)
    plt.close(fig)
    return "scale.png"


def scale_section(results: dict[str, Any], folder: Path) -> list[str]:
    scale = results.get("scale")
    if not scale:
        return []
    levels = scale["levels"]
    names = list(levels)
    first, last = names[0], names[-1]
    lines = [
        "",
        "## Scale: cost that does not grow with the data",
        "",
        "`python -m bench --stages scale` (bench/scale.py): each size is seeded with "
        "generate_series into a fresh database on a throwaway Postgres 15 (4 GB shared buffers, "
        "warm cache) on the schema before the counters, migrated (revision 0008: indexes, "
        "triggers, backfill — timed), then timed through the project's own functions and routes "
        "(the app in-process over httpx, asyncpg as in production): median / p95 ms.",
        "",
        "| size | queued | finished | votes | users | seed s | migration 0008 s |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in names:
        lv = levels[n]["level"]
        lines.append(f"| {n} | {lv['queued']:,} | {lv['finished']:,} | {lv['votes']:,} | "
                     f"{lv['users']:,} | {levels[n]['seed_seconds']} | "
                     f"{levels[n]['migration_seconds']} |")  # fmt: skip
    header = " | ".join(names)
    lines += ["", f"| call | {header} | {last} ÷ {first} (p95) | {last} p95 target |",
              "|---|" + "---|" * len(names) + "---|---|"]  # fmt: skip
    missed = []
    for op, base in levels[first]["timings"].items():
        cells = []
        for n in names:
            t = levels[n]["timings"].get(op)
            cells.append(f"{t['median_ms']:.1f} / {t['p95_ms']:.1f}" if t else "–")
        top = levels[last]["timings"].get(op)
        ratio = top["p95_ms"] / base["p95_ms"] if top and base["p95_ms"] else None
        ceiling = _ceiling(op)
        verdict = "–"
        if top and ceiling is not None:
            ok = top["p95_ms"] <= ceiling
            verdict = f"≤ {ceiling} ms: {'met' if ok else '**not met**'}"
            if not ok:
                missed.append(f"{op} p95 {top['p95_ms']:.1f} ms > {ceiling} ms")
        if ratio is not None and ratio > GROWTH_MAX:
            missed.append(f"{op} grows {ratio:.1f}× from {first} to {last} (> {GROWTH_MAX:g})")
        ratio_text = f"{ratio:.2f}" if ratio is not None else "–"
        lines.append(f"| {op} | {' | '.join(cells)} | {ratio_text} | {verdict} |")
    lines += ["", "**The fleet**: fair claims per second with N worker processes claiming at "
              "once (each its own connection and JobStore, as Celery's prefork children; all on "
              "this 2-vCPU box with Postgres), until a budget of claims is spent; unfair = picks "
              "made without the claim lock after its 2 s wait.", "",
              "| size | N | claims/s | median claim ms | p95 claim ms | unfair picks |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for n in names:
        for f in levels[n]["fleet"]:
            lines.append(f"| {n} | {f['claimers']} | {f['claims_per_second']} | "
                         f"{f['median_claim_ms']} | {f.get('p95_claim_ms', '–')} | "
                         f"{f['unfair_picks']} |")  # fmt: skip
    top_fleet = next((f for f in levels[last]["fleet"] if f["claimers"] == 32), None)
    if top_fleet and (top_fleet["claims_per_second"] < FLEET_MIN or top_fleet["unfair_picks"]):
        missed.append(f"fleet at N = 32: {top_fleet['claims_per_second']} claims/s, "
                      f"{top_fleet['unfair_picks']} unfair (target ≥ {FLEET_MIN:g}/s, 0 unfair)")  # fmt: skip
    lines += ["", "**Queue positions** past 1,000 queued are estimated (core/jobs/positions.py); "
              "against the exact ranking of the whole queue (the window query, run once), for "
              "200 queued jobs:", "",
              "| size | mean abs error | max | median relative | p95 relative | outside its round |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for n in names:
        e = levels[n].get("position_error") or {}
        lines.append(f"| {n} | {e.get('mean_abs_error')} | {e.get('max_abs_error')} | "
                     f"{e.get('median_relative_error')} | {e.get('p95_relative_error')} | "
                     f"{e.get('outside_round')} |")  # fmt: skip
    lines += ["", f"Targets at {last}: "
              + ("all met." if not missed else "not met — " + "; ".join(missed) + ".")]  # fmt: skip
    lines += ["", f"Each query's plan at {last}: `scale.levels.{last}.plans` in "
              "[bench/results.json](bench/results.json).", "",
              f"![scale]({'bench/' + _plot(levels, folder)})"]  # fmt: skip
    return lines
