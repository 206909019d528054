"""The output profiles' section of docs/BENCHMARKS.md (bench/outputs.py)."""

from __future__ import annotations

from typing import Any


def _met(value: float, target: float) -> str:
    return "met" if value >= target else "**missed**"


def outputs_section(results: dict[str, Any]) -> list[str]:
    found = results.get("outputs")
    if not found:
        return []
    ladder, targets = found["ladder"], found["targets"]
    lines = [
        "",
        "## Output profiles: the ladder in one process, time to ready",
        "",
        f"`python -m bench --stages outputs` (bench/outputs.py), one {found['clip_seconds']} s "
        "1920×1080 clip at 12 Mbit/s with fine moving detail and sound (as a phone records), all "
        "in the same run; FFmpeg gets every core (the stack's worker runs one job at a time).",
        "",
        f"- **The HLS ladder ({', '.join(ladder['renditions'])}) in one FFmpeg process** "
        f"(decode once, split to every rendition's scaler and encoder): {ladder['one_process_s']} s; "
        f"the same renditions as separate invocations, each complete with its sound (one decode "
        f"each, as a per-rendition pipeline such as PeerTube's runs them): {ladder['separate_s']} s "
        f"— **{ladder['speedup']}×** (target ≥ {targets['ladder_speedup']}×: "
        f"{_met(ladder['speedup'], targets['ladder_speedup'])}).",
        f"- **The worker against the bare ladder command** (the same FFmpeg command, the "
        f"same threads: the worker's transcode phase of its `hls` job, "
        f"{found['profiles']['hls']['transcode_s']} s, against the bare run above): "
        f"**{found['worker_vs_bare_hls']}** (target ≥ {targets['worker_vs_bare_hls']}: "
        f"{_met(found['worker_vs_bare_hls'], targets['worker_vs_bare_hls'])}). The whole job "
        f"(claimed → processed: download, probe, ladder, thumbnail, storyboard, animated "
        f"preview, upload; {found['profiles']['hls']['worker_s']} s) against those commands run "
        f"bare one after another ({ladder['bare_hls_job_s']} s): "
        f"{found.get('worker_job_vs_bare_job_hls', '–')}.",
        "",
        "| profile | status | time to ready (acknowledged → processed) | worker (claimed → "
        "processed) | of which FFmpeg's transcode | output bytes per input minute |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in found["profiles"].items():
        lines.append(
            f"| `{name}` | {row['status']} | {row['ready_s']} s | {row['worker_s']} s | "
            f"{row.get('transcode_s', '–')} s | {row['bytes_per_input_minute'] / 1e6:.1f} MB |"
        )
    lines += [
        "",
        "Idle fleet: one worker (concurrency 1), one job at a time, local storage. `reel` makes "
        "at most 30 s of 720p without sound; `mp4` the whole minute at 1080p with sound; `hls` "
        "four renditions, the audio group and the previews.",
    ]
    return lines
