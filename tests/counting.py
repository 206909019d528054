"""A recount of every counter core/counters.py keeps, from the base tables, in plain Python
(independent of the triggers' SQL): tests compare it with what the triggers stored."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text


def recount(conn: Connection) -> dict[str, Any]:
    videos = conn.execute(
        text("SELECT id, owner_id, status, priority, uploaded_at, published, started_at FROM video")
    ).all()
    votes = Counter(v for (v,) in conn.execute(text("SELECT video_id FROM vote")))
    queued: dict[int, list[Any]] = defaultdict(list)
    running: Counter[int] = Counter()
    for v in videos:
        if v.status == "queued":
            queued[v.owner_id].append(v)
        elif v.status == "processing":
            running[v.owner_id] += 1
    owners = {}
    rounds: Counter[int] = Counter()
    for owner in set(queued) | set(running):
        jobs = sorted(queued[owner], key=lambda v: (v.priority, str(v.uploaded_at), v.id))
        owners[owner] = (len(jobs), running[owner], jobs[0].id if jobs else None)
        for r in range(running[owner] + 1, running[owner] + len(jobs) + 1):
            rounds[r] += 1
    histogram: Counter[tuple[int, int]] = Counter()
    for v in videos:
        if v.status == "queued":
            at = (
                v.uploaded_at
                if not isinstance(v.uploaded_at, str)
                else datetime.fromisoformat(v.uploaded_at)
            )
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            histogram[(v.priority, int(at.timestamp()) // 60)] += 1
    users: dict[int, tuple[int, int]] = {}
    for v in videos:
        if v.published:
            n, total = users.get(v.owner_id, (0, 0))
            users[v.owner_id] = (n + 1, total + votes[v.id])
    return {
        "owners": owners,
        "rounds": dict(rounds),
        "histogram": dict(histogram),
        "video_votes": {v.id: votes[v.id] for v in videos if votes[v.id]},
        "users": users,
        "tally": {
            "queued": sum(len(q) for q in queued.values()),
            "processing": sum(running.values()),
            "published": sum(1 for v in videos if v.published),
            "ranked": len(users),
        },
    }


def stored(conn: Connection) -> dict[str, Any]:
    owners = {
        r.owner_id: (r.queued, r.running, r.head_id)
        for r in conn.execute(text("SELECT owner_id, queued, running, head_id FROM owner_queue"))
        if r.queued or r.running
    }
    rounds = {
        r: n
        for r, n in conn.execute(text("SELECT round, sum(jobs) FROM round_count GROUP BY round"))
        if n
    }
    histogram = {
        (lane, minute): n
        for lane, minute, n in conn.execute(
            text("SELECT lane, minute, sum(jobs) FROM queue_histogram GROUP BY lane, minute")
        )
        if n
    }
    return {
        "owners": owners,
        "rounds": rounds,
        "histogram": histogram,
        "video_votes": dict(
            conn.execute(text("SELECT id, votes FROM video WHERE votes <> 0")).all()
        ),
        "users": {
            r.id: (r.published_videos, r.votes_received)
            for r in conn.execute(
                text(
                    'SELECT id, published_videos, votes_received FROM "user" '
                    "WHERE published_videos <> 0 OR votes_received <> 0"
                )  # fmt: skip
            )
        },
        "tally": {
            name: int(total)
            for name, total in conn.execute(
                text("SELECT name, sum(value) FROM tally GROUP BY name")
            )
        },
    }
