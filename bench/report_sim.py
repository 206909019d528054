"""The simulator's results: docs/bench/simulation.json, one plot per scenario, and the table in
docs/deploy.md between the simulator markers (the shipped policy is the one they favour)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- simulator:begin -->", "<!-- simulator:end -->"


def _plot(scenario: str, runs: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (queue_ax, fleet_ax) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    for name, run in runs.items():
        hours = [t / 3600 for t, _, _ in run["trace"]]
        queue_ax.plot(hours, [q for _, q, _ in run["trace"]], label=name)
        fleet_ax.plot(hours, [n for _, _, n in run["trace"]], label=name)
    queue_ax.set_ylabel("jobs queued")
    fleet_ax.set_ylabel("instances")
    fleet_ax.set_xlabel("hours")
    queue_ax.set_title(f"Autoscaling, simulated: {scenario}")
    queue_ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def table(results: dict[str, Any], chosen: str, rf_per_slot: float) -> str:
    from bench.simulate import SLOTS_PER_INSTANCE, STARTUP_SECONDS, TARGET_WAIT_SECONDS

    lines = [BEGIN, "",
             f"Simulated with `python -m bench.simulate` (part of `make bench`): job times from the "
             f"measured worker tier ({rf_per_slot:.2f} output-s per wall-s per worker slot), "
             f"{SLOTS_PER_INSTANCE} slots per instance, {STARTUP_SECONDS} s from launch to the "
             f"first job, policies evaluated every minute.", "",
             "| scenario | policy | jobs | p95 wait s | max wait s | cleared at s | instance-minutes |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for scenario, runs in results.items():
        for name, r in runs.items():
            mark = " **(shipped)**" if name == chosen else ""
            lines.append(f"| {scenario} | {name}{mark} | {r['jobs']} | {r['p95_wait_s']} | "
                         f"{r['max_wait_s']} | {r['cleared_s']:.0f} | {r['instance_minutes']:.0f} |")  # fmt: skip
    lines += ["", f"**Shipped policy: {chosen}** — the lowest p95 wait over the three scenarios "
              f"(instance-minutes break ties within 10 %). Target: {TARGET_WAIT_SECONDS} s of "
              "work per slot.", ""]  # fmt: skip
    lines += [f"![{s}](bench/sim-{s}.png)" for s in results] + ["", END]
    return "\n".join(lines)


def write_simulation(results: dict[str, Any], chosen: str, rf_per_slot: float, out: Path) -> None:
    bench = out / "bench"
    bench.mkdir(parents=True, exist_ok=True)
    slim = {s: {n: {k: v for k, v in r.items() if k != "trace"} for n, r in runs.items()}
            for s, runs in results.items()}  # fmt: skip
    data = {"rf_per_slot": rf_per_slot, "shipped": chosen, "results": slim}
    (bench / "simulation.json").write_text(json.dumps(data, indent=2))
    for scenario, runs in results.items():
        _plot(scenario, runs, bench / f"sim-{scenario}.png")
    deploy = out / "deploy.md"
    if deploy.exists() and BEGIN in deploy.read_text():
        text = deploy.read_text()
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        deploy.write_text(head + table(results, chosen, rf_per_slot) + tail)
