"""The report's table of where the machine's CPU went per upload (bench/machine.py), for the
web-tier phases: each target's median round."""

from __future__ import annotations

from typing import Any

from bench.machine import GROUPS

TARGETS = ("bare", "floor", "reelforge")


def machine_section(web: dict[str, Any]) -> list[str]:
    rows = [
        (p["phase"], target, p[target]["machine_ms"])
        for p in web["phases"]
        for target in TARGETS
        if p.get(target, {}).get("machine_ms")
    ]
    if not rows:
        return []
    lines = [
        "",
        "**Where the machine's CPU goes**, ms per successful upload over each measured window "
        "(median round; bench/machine.py reads every process's CPU from /proc). On these 2 "
        "vCPUs, shared by the load generator and every server, uploads/s is about the CPU "
        "there is over what one upload costs all of them together, so a throughput gap lives "
        "in the columns that differ. *bench* is the benchmark's own process: the janitor "
        "that deletes the originals reelforge and the floor keep (the bare endpoint deletes "
        "its file inside its API process, so that is in *api* for it). *kernel*: kernel "
        "threads (writeback, softirq). *busy* is the machine's whole busy time (interrupts "
        "included); *idle* the rest.",
        "",
        "| phase | target | " + " | ".join(GROUPS) + " | busy | idle |",
        "|---|---|" + "---|" * (len(GROUPS) + 2),
    ]
    for phase, target, ms in rows:
        cells = [f"{ms.get(group, 0):.1f}" for group in GROUPS]
        cells += [f"{ms['machine_busy']:.1f}", f"{ms['machine_idle']:.1f}"]
        lines.append(f"| {phase} | {target} | " + " | ".join(cells) + " |")
    return lines
