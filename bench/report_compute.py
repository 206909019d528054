"""The compute tier's part of docs/BENCHMARKS.md: worker efficiency (local storage and S3, with
where a job's time goes), scheduling (fairness, lanes), pick-up latency, worker memory."""

from __future__ import annotations

from typing import Any


def _ok(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def compute_sections(results: dict[str, Any]) -> list[str]:
    w, enqueue = results["workers"], results["enqueue"]
    bare = w["bare"]
    lines = ["", "## Worker tier (the original Scenario 2, done right)", "",
             f"{w['reelforge']['jobs']} real jobs uploaded through the API, then the workers started "
             f"(concurrency {w['reelforge']['concurrency']}): the whole pipeline (claim, download, "
             "probe, transcode, thumbnail, upload, status). Bare: the same FFmpeg commands (probe, "
             "transcode, thumbnail) on the same file with the same parallelism, nothing else.", "",
             "| | storage | jobs | wall s | jobs/min | realtime factor | efficiency |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for key, eff in (("reelforge", w["efficiency"]), ("s3", w["efficiency_s3"])):
        r = w[key]
        lines.append(f"| reelforge | {r['storage']} | {r['jobs']} | {r['wall_s']} | "
                     f"{r['jobs_per_min']} | {r['realtime_factor']} | {eff} |")  # fmt: skip
    lines += [f"| bare FFmpeg | local file | {bare['jobs']} | {bare['wall_s']} | "
              f"{bare['jobs_per_min']} | – | 1 |", "",
              "Where a job's time goes (seconds summed over all jobs and worker processes):", "",
              "| storage | " + " | ".join(w["reelforge"]["phase_seconds"]) + " |",
              "|---|" + "---|" * len(w["reelforge"]["phase_seconds"])]  # fmt: skip
    for key in ("reelforge", "s3"):
        phases = w[key]["phase_seconds"]
        lines.append(
            f"| {w[key]['storage']} | " + " | ".join(str(v) for v in phases.values()) + " |"
        )
    lines += ["", f"Enqueue rate of real Celery messages through `core/jobs/dispatch.py` "
              f"(`JobPublisher.send`, one Redis on this box): **{enqueue['per_second']} messages/s** "
              f"({enqueue['messages']} in {enqueue['seconds']} s)."]  # fmt: skip
    s = results.get("scheduling")
    if s:
        f, ln = s["fairness"], s["lanes"]
        lines += ["", "## Scheduling (fair vs FIFO, same workload, same run)", "",
                  f"User A queues {f['a_jobs']} jobs, then user B one; two worker slots.", "",
                  "| scheduler | B waited s | in job durations | avg job s | all done s | jobs/min |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for policy in ("fair", "fifo"):
            r = f[policy]
            lines.append(f"| {policy} | {r['b_wait_s']} | {r['b_wait_in_jobs']} | {r['avg_job_s']} | "
                         f"{r['wall_s']} | {r['jobs_per_min']} |")  # fmt: skip
        lines += ["", f"Throughput fair ÷ FIFO: **{f['throughput_ratio']}**.", "",
                  f"A short clip queued behind {ln['long_jobs']} long inputs, one worker slot:", "",
                  "| scheduler | short clip waited s | long jobs started before it | long job s |",
                  "|---|---|---|---|"]  # fmt: skip
        for policy in ("fair", "fifo"):
            r = ln[policy]
            long_job = r["long_job_s"] if r["long_job_s"] is not None else "– (none ran first)"
            lines.append(
                f"| {policy} | {r['short_wait_s']} | {r['long_jobs_before']} | {long_job} |"
            )
        p = s["pickup"]
        lines += ["", "## Pick-up latency (upload commit → claim)", "",
                  f"{p['samples']} sequential uploads each: idle fleet p50 {p['idle_p50_ms']} ms, "
                  f"p95 **{p['idle_p95_ms']} ms**; one slot busy, one free: p50 {p['loaded_p50_ms']} ms, "
                  f"p95 **{p['loaded_p95_ms']} ms**."]  # fmt: skip
        m = s["rss_4k"]
        lines += ["", "## Worker memory per job", "",
                  f"One {m['input']} job ({m['status']}): worker child peak {m['worker_child_peak_mb']} MB, "
                  f"FFmpeg peak {m['ffmpeg_peak_mb']} MB — **{m['per_job_mb']} MB per job slot** "
                  "(docs/deploy.md sizes instances with it)."]  # fmt: skip
    return lines


def compute_targets(results: dict[str, Any]) -> list[str]:
    w = results["workers"]
    lines = [f"- Worker efficiency ≥ 95 % of bare FFmpeg (local storage) — {w['efficiency']:.0%} "
             f"{_ok(w['efficiency'] >= 0.95)}; with S3 (moto on the same cores) "
             f"{w['efficiency_s3']:.0%}, reported only."]  # fmt: skip
    s = results.get("scheduling")
    if not s:
        return lines
    f, ln, p = s["fairness"], s["lanes"], s["pickup"]
    lines += [
        f"- B starts within one average job duration (fair) — {f['fair']['b_wait_in_jobs']} "
        f"{_ok(f['fair']['b_wait_in_jobs'] <= 1)}; FIFO: {f['fifo']['b_wait_in_jobs']}.",
        f"- Fair throughput within ±5 % of FIFO — {f['throughput_ratio']} "
        f"{_ok(abs(f['throughput_ratio'] - 1) <= 0.05)}.",
        f"- Short clip picked within one job (fair) — {ln['fair']['long_jobs_before']} long job(s) "
        f"started before it {_ok(ln['fair']['long_jobs_before'] <= 1)}; FIFO: "
        f"{ln['fifo']['long_jobs_before']}.",
        f"- Pick-up p95 ≤ 100 ms idle — {p['idle_p95_ms']} ms {_ok(p['idle_p95_ms'] <= 100)}; "
        f"≤ 1 s with a free slot under load — {p['loaded_p95_ms']} ms {_ok(p['loaded_p95_ms'] <= 1000)}.",
    ]  # fmt: skip
    return lines
