"""The "Targets" section of docs/BENCHMARKS.md: each target with its figure and verdict."""

from __future__ import annotations

from typing import Any

from bench.report_compute import compute_targets
from bench.report_live import live_targets


def _target(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def spread_text(spread: dict[str, float]) -> str:
    return f"{spread['median']:.2f} ({spread['min']:.2f}–{spread['max']:.2f})"


def _side(spread: dict[str, float], target: float, at_least: bool) -> bool | None:
    """True when every round is on the target's good side (for "≥": min ≥ target), False when
    every one is on the bad side (max < target), None when the rounds straddle it."""
    low, high = spread["min"], spread["max"]
    if (low >= target) if at_least else (high <= target):
        return True
    if (high < target) if at_least else (low > target):
        return False
    return None


def verdict(spread: dict[str, float], target: float, at_least: bool) -> str:
    """met / not met only when every round agrees (`_side`). Otherwise the spread toward the
    target is wider than the gap and noise cannot be told from the result."""
    side = _side(spread, target, at_least)
    if side is not None:
        return _target(side)
    gap = abs(spread["median"] - target)
    low, high = spread["min"], spread["max"]
    toward = spread["median"] - low if spread["median"] >= target else high - spread["median"]
    return f"**inconclusive** (rounds on both sides of {target}: spread {toward:.2f} toward it > gap {gap:.2f})"


def floor_text(results: dict[str, Any]) -> list[str]:
    rows = [p for p in results["web"]["phases"] if "floor_ratio" in p]
    if not rows:
        return []
    by = "; ".join(
        f"{p['reelforge']['users']} users: floor ÷ bare {spread_text(p['floor_ratio'])} "
        f"({_reach(p['floor_ratio'])}), reelforge ÷ floor {spread_text(p['reelforge_vs_floor'])}"
        for p in rows
    )
    return [
        "- **Is ≥ 0.9 × bare reachable with the same work?** The floor endpoint (auth, "
        f"multipart parse, the file kept, one row, one publish, nothing else) says, in this run: {by}. "
        "Where the floor is at or above 0.9 in every round the target is reachable on this "
        "machine and what stands between reelforge and it is reelforge's own per-upload cost; "
        "where it is below 0.9 in every round, no implementation doing this work reaches the "
        "target here, and reelforge ÷ floor is the figure that is reelforge's own. The table "
        "of where the machine's CPU goes (Web tier) shows the per-upload cost by process."
        + _unprovable(rows)
    ]


def _unprovable(rows: list[dict[str, Any]]) -> str:
    """Where the floor's own rounds straddle 0.9 (or fall short), a met verdict is out of reach
    for any implementation doing this work: it needs every round on the good side."""
    short = [p["reelforge"]["users"] for p in rows if not _side(p["floor_ratio"], 0.9, True)]
    if not short:
        return ""
    users = ", ".join(str(u) for u in short)
    return (
        f" In this run the floor itself is not at or above 0.9 in every round at {users} users:"
        " there no implementation doing this work could be shown to meet the target (a *met*"
        " verdict needs every round on its good side), whatever reelforge spends."
    )


def _reach(floor_ratio: dict[str, float]) -> str:
    side = _side(floor_ratio, 0.9, at_least=True)
    if side is None:
        return "0.9 at the edge: rounds on both sides"
    return "0.9 reachable here" if side else "0.9 out of reach here"


def targets(results: dict[str, Any]) -> list[str]:
    by_users = {p["reelforge"]["users"]: p for p in results["web"]["phases"]}
    lines = [
        "",
        "## Targets",
        "",
        "Web-tier verdicts need every round to agree: **met** when the whole min–max spread "
        "is on the target's good side, **not met** when it is all on the bad side, otherwise "
        "**inconclusive** — the spread toward the target is wider than the median's gap to it.",
        "",
    ]
    p = by_users.get(5)
    if p is None:
        lines.append("- 5 users: not run in this mode.")
    else:
        lines.append(
            f"- 5 users: p95 ≤ 1.25× bare — {spread_text(p['p95_ratio'])}× "
            f"{verdict(p['p95_ratio'], 1.25, at_least=False)}."
        )
    for users in (100, 200, 300):
        p = by_users.get(users)
        if p is None:
            lines.append(f"- {users} users: not run in this mode.")
            continue
        lines.append(
            f"- {users} users: uploads/s ≥ 0.9 × bare — {spread_text(p['throughput_ratio'])} "
            f"{verdict(p['throughput_ratio'], 0.9, at_least=True)}."
        )
    top = by_users.get(max(by_users))
    if top:
        r = top["reelforge"]
        lines.append(
            f"- {r['users']} users: zero errors other than 429/503 — {r['errors_pct']} % "
            f"{_target(r['errors_pct'] == 0)}."
        )
    for r in results["web"].get("tus", []):
        lines.append(
            f"- tus whole-file at {r['users']} users ≥ multipart — "
            f"{spread_text(r['tus_vs_multipart'])} {verdict(r['tus_vs_multipart'], 1.0, at_least=True)}; "
            f"≥ 0.9 × bare — {spread_text(r['tus_vs_bare'])} "
            f"{verdict(r['tus_vs_bare'], 0.9, at_least=True)}."
        )
    tus_mem = results["web"].get("tus_memory")
    if tus_mem:
        lines.append(
            f"- API RSS growth ≤ 20 MB during a {tus_mem['megabytes']} MB tus upload — "
            f"{tus_mem['growth_mb']} MB {_target(tus_mem['growth_mb'] <= 20)}."
        )
    lines += compute_targets(results)
    lines += live_targets(results)
    mem = results["web"]["memory"]
    lines.append(
        f"- API RSS growth ≤ 20 MB during a {mem['megabytes']} MB upload — {mem['growth_mb']} MB "
        f"{_target(mem['growth_mb'] <= 20)}."
    )
    rate = results["enqueue"]["per_second"]
    lines.append(f"- Enqueue ≥ 1,000 jobs/s — {rate}/s {_target(rate >= 1000)}.")
    lines += [
        "",
        "### What limits the misses",
        "",
        "- **p95 at low load** (5 and 40 users): the bare endpoint answers in tens of "
        "milliseconds, so reelforge's fixed per-upload work — JWT check, the Redis rate-limit "
        "check, magic-byte sniff, the row insert and commit, the Redis publish (each a loopback "
        "round trip on the same 2 vCPUs as the load generator) — is a large fraction of the "
        "total: ~10–15 ms, a fixed cost, not a growing one.",
        "- **Worker efficiency with S3** is reported apart: on this box the S3 server is moto, "
        "a Python emulator competing for the same 2 vCPUs as FFmpeg (its share is the "
        "download/upload phases in the table); on real S3 the transfer is network time.",
        *floor_text(results),
        "- **Throughput at 100–300 users** (issue 9): what reelforge does beyond the bare "
        "endpoint costs API CPU, and on 2 vCPUs shared with Locust and nginx that CPU is the "
        "throughput. The table of where the machine's CPU goes (Web tier) measures it in every "
        "run; in the runs before it existed, by hand at 100 and 300 users: API ~29–30 ms for "
        "reelforge, ~25 ms for the floor, ~20.5 ms for bare; nginx (~6) and Locust (~17) the "
        "same for all three, Postgres and Redis under 1 ms. Storing the original costs "
        "machine CPU outside the API process too: the janitor's deletes (*bench*; bare "
        "deletes inside its API process) and kernel work for a file that lives seconds, not "
        "milliseconds (*kernel*), ~2–3 ms per upload together. (The floor keeps its file too "
        "since 2026-12-05; the by-hand figures here are from before, when it deleted it at "
        "once.) The floor's ~4.5 "
        "ms over bare is the mandated work: python-multipart's parse (its boundary search is "
        "`bytes.find`, ~10 GB/s; `re` and shorter needles measured 2–6× slower), the insert "
        "and the publish. reelforge's ~4 ms over the floor, by py-spy (GIL samples, both under "
        "load) and in-process runs: FastAPI's dependency resolution was the largest item, "
        "~2 ms of API CPU per upload (17 dependency nodes on the upload route; "
        "`solve_dependencies` itself ~1.1 ms even at five) — the upload route now takes none "
        "(the per-process collaborators are one object, app/collaborators.py; user and "
        "Idempotency-Key come from the same functions) and tus creation/PATCH take one; a "
        "pooled connection checked in within 0.5 s is no longer pinged (one of four round "
        "trips). What remains over the floor: the ORM insert and commit (~1.9 ms in the "
        "handler against the floor's 0.9 ms `fetchval`), FastAPI's request handler and the "
        "middlewares (~1 ms), the rate-limit check in Redis (0.4 ms, a thread hop), per-chunk "
        "pacing and event handling (~0.5 ms). An experiment sized the framework's share: the "
        "same upload handler served by a bare Starlette route in front of the app (no "
        "middleware, FastAPI routing or app-wide rate-limit dependency; not shipped) used "
        "29.2 / 27.3 ms of API CPU per upload against reelforge's 30.0 / 30.6 and the floor's "
        "26.6 / 25.9 (100 users, two rounds): ~2 ms is the stack and the rate-limit check, "
        "~2 ms the handler's own work beyond the floor's. Between runs on identical code the "
        "ratios move more than that: floor ÷ bare 0.93 / 0.97, 0.90 / 0.91, 0.90 / 0.87, "
        "0.98 / 0.92 and 0.98 / 0.85 at 100 / 300 users in five runs; reelforge ÷ floor "
        "0.99 / 0.98, 0.92 / 0.91 and 0.93 / 0.91 in the last three. "
        "A finer instrument sized the rest (`python -m bench.cpu`: one gunicorn worker per "
        "target, uploads one at a time, targets interleaved upload by upload, the worker's "
        "CPU from /proc): reelforge ~28.5 ms per upload against the floor's ~24.6, 3.1 ms of "
        "it on the event loop. Variants of reelforge against reelforge, 300 uploads each: "
        "rate limiting off −0.45 ms (0.2 on the loop, 0.25 the thread's Redis call); no "
        "middleware and no app-wide dependency −0.2 (loop); no pacing −0.3; the floor's "
        "receive loop in reelforge's handler −0.5; a Core `INSERT` instead of the ORM flush "
        "±0; the session in AUTOCOMMIT ±0; a Core insert on `engine.begin()` without a "
        "Session −0.7; the insert as a raw asyncpg `fetchval` on a pooled connection, no "
        "session, log line or response model −1.5; the floor's whole handler inside "
        "reelforge's app −2.0 (loop). In-process, one ORM job insert and commit costs 0.86 ms "
        "of CPU against 0.25 for the raw `fetchval` (and a JSON log line 0.013 ms — py-spy's "
        "0.3 ms for it was sampling, not work). So the gap is SQLAlchemy around one INSERT "
        "(~0.6 ms) and a dozen items of 0.2–0.5 ms; "
        "bypassing SQLAlchemy and FastAPI on the upload route would close about two thirds "
        "of it, at the price of a second way to write a job row beside the one the house "
        "style asks for — left as a decision, not taken. "
        "Measured and not levers: an ORM-enabled `INSERT … RETURNING` (0.87 against 0.78 ms). "
        "Found and fixed: a stampede of admission queries (50 concurrent uploads ran 100 "
        "queries), a user re-read on nearly every upload (a 5 s cache that 2 processes rarely "
        "hit), one copy per byte, a savepoint per upload, two JWT verifications per request, "
        "thread hops per network chunk (now one per 256 KiB), SQLAlchemy's three-round-trip "
        "pre-ping (now one `SELECT 1`), a `resolve()` (a stat per folder) per stored file. "
        "The bare endpoint writes with reelforge's own pattern: a baseline that wrote less "
        "efficiently flattered every earlier ratio.",
        "- **p95 at 300 users** (the open question of the run before: reelforge's Locust p95 "
        "17-20 s against the floor's 9-10 s at the same throughput): a warm-up artefact, now "
        "removed. A trace that tagged every upload with an X-Request-ID and matched Locust's "
        "start/end with nginx's log (300 users, 75-100 s) found the slow uploads in the first "
        "wave only — every user's first upload, started together on a cold server, took up to "
        "21 s on reelforge (16 s on the floor) and the warm-up of users ÷ 20 s ended before it "
        "did, so its last uploads were counted. Most of a slow first-wave upload passed before "
        "nginx read its first byte (up to 12 s on reelforge, 7 s on the floor; nginx's own "
        "request_time 5-7 s): the load generator building 300 request bodies on the CPU the "
        "servers were using. Uploads started after 30 s: reelforge p50 / "
        "p95 7.4 / 9.3 s, floor 6.8 / 8.2 s, none over 12 s, and at most ~2 s between Locust "
        "sending and nginx reading (the load generator's queueing on the shared 2 vCPUs). The "
        "warm-up is now users ÷ 10 s. No TCP drops or retransmission timeouts in these phases "
        "(nstat), and the server-side tail (nginx's request_time) stays ~1.1-1.3× bare's, the "
        "same CPU share as the throughput gap.",
        "- Found by this benchmark (an earlier run) and fixed: at 300 users one "
        'reelforge upload in 839 got a 408 "Upload too slow: 807225 bytes/s" — the pacing '
        "deadline stayed at the grace period's end (20 s) until 2 s before it, so an upload "
        "that paused across that moment was cut however fast it was. The deadline now also "
        "moves when "
        "the bytes received have doubled since it was set "
        "(`test_a_fast_upload_with_a_pause_near_the_grace_period_is_not_cut`).",
        "- Found and fixed by this benchmark: a request held a pooled DB connection while its "
        "body streamed, and signup/login held one while bcrypt ran; at 100–300 users that "
        "exhausted the pool (503s, then 401s for users whose login had failed). Both are fixed "
        "and covered by tests; the tables above are after the fix.",
    ]
    return lines
