"""A mixed workload over every path that moves a counter (core/counters.py): uploads, claims
(fair, with lane promotion), completion, failure, retry, cancel, an abandoned lease claimed
again, publish, unpublish, votes, a vote withdrawn, an owner change, a user deleted with
everything they own and every vote they cast. Run on SQLite (tests/fast) and on Postgres
(tests/reliability) and compared with tests/counting.recount."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import sessionmaker

from core.jobs.scheduling import SchedulingPolicy
from core.jobs.store import Claim, JobStore
from core.models import User, Video, utcnow


def sqlite_engine(path: str) -> Engine:
    """A SQLite engine that enforces foreign keys (ON DELETE CASCADE), as core/db.py's do."""
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", lambda conn, _record: conn.execute("PRAGMA foreign_keys=ON"))
    return engine


def users(engine: Engine, count: int) -> list[int]:
    ids = []
    with sessionmaker(engine).begin() as session:
        for i in range(count):
            user = User(email=f"{uuid.uuid4().hex}@x.io", first_name=f"F{i}", last_name="L",
                        password_hash="h", city=random.choice(["Bogota", "Lima", "bogota"]))  # fmt: skip
            session.add(user)
            session.flush()
            ids.append(user.id)
    return ids


def upload(engine: Engine, owner: int, count: int, lane: int = 1, age: float = 0) -> list[int]:
    ids = []
    with sessionmaker(engine).begin() as session:
        for _ in range(count):
            at = utcnow() - timedelta(seconds=age + random.random())
            video = Video(owner_id=owner, title="t", task_id=str(uuid.uuid4()), original_key="k",
                          original_content_type="video/mp4", original_bytes=1, priority=lane,
                          uploaded_at=at)  # fmt: skip
            session.add(video)
            session.flush()
            ids.append(video.id)
    return ids


def run(engine: Engine, seed: int = 7) -> None:
    random.seed(seed)
    sessions = sessionmaker(engine, expire_on_commit=False)
    jobs = JobStore(sessions, 30, SchedulingPolicy(fair=True, lane_promote_seconds=120))
    people = users(engine, 8)
    queued = [v for owner in people for v in upload(engine, owner, random.randint(1, 6),
                                                    lane=random.choice([0, 1, 2]))]  # fmt: skip
    queued += upload(engine, people[0], 3, lane=2, age=600)  # due for promotion
    claims = [c for c in (jobs.claim(v, uuid.uuid4().hex) for v in queued[:14])
              if isinstance(c, Claim)]  # fmt: skip
    assert len(claims) == 14
    for claim in claims[:6]:
        assert jobs.complete(claim, f"p/{claim.video_id}", f"t/{claim.video_id}", 1.0)
    assert jobs.fail(claims[6], "bad input")
    due, later = utcnow() - timedelta(seconds=1), utcnow() + timedelta(hours=1)
    assert jobs.release_for_retry(claims[7], "storage hiccup", due, interrupted=True)
    assert jobs.release_for_retry(claims[10], "FFmpeg crashed", later, interrupted=False)
    assert jobs.heartbeat(claims[8], 50)
    with engine.begin() as conn:  # a worker died: its lease ran out; its message claims it back
        conn.execute(text("UPDATE video SET lease_until = :past WHERE id = :id"),
                     {"past": utcnow() - timedelta(seconds=5), "id": claims[9].video_id})  # fmt: skip
    again = jobs.claim(claims[9].video_id, uuid.uuid4().hex)
    assert isinstance(again, Claim) and again.video_id == claims[9].video_id
    done = [c.video_id for c in claims[:6]]
    with engine.begin() as conn:
        conn.execute(text("UPDATE video SET published = :yes, published_at = :now "
                          "WHERE id IN (:a, :b, :c, :d)"),
                     {"yes": True, "now": utcnow(), "a": done[0], "b": done[1], "c": done[2],
                      "d": done[3]})  # fmt: skip
        for video in done[:4]:
            for voter in random.sample(people, 5):
                conn.execute(text("INSERT INTO vote (video_id, user_id, created_at) "
                                  "VALUES (:v, :u, :at)"), {"v": video, "u": voter, "at": utcnow()})  # fmt: skip
        conn.execute(text("DELETE FROM vote WHERE id = (SELECT min(id) FROM vote)"))
        conn.execute(text("UPDATE video SET published = :no WHERE id = :id"),
                     {"no": False, "id": done[3]})  # fmt: skip
        waiting = conn.execute(
            text("SELECT id FROM video WHERE status = 'queued' ORDER BY id")
        ).all()
        conn.execute(text("DELETE FROM video WHERE id = :id"), {"id": waiting[0][0]})  # cancel
        conn.execute(text("UPDATE video SET owner_id = :o WHERE id = :id"),
                     {"o": people[1], "id": waiting[1][0]})  # fmt: skip
        conn.execute(text("UPDATE video SET priority = 0 WHERE id = :id"), {"id": waiting[2][0]})
    with engine.begin() as conn:  # a user with queued, running, published and voted-for videos
        owner = conn.execute(text("SELECT owner_id FROM video WHERE id = :id"),
                             {"id": done[0]}).scalar_one()  # fmt: skip
        conn.execute(text('DELETE FROM "user" WHERE id = :id'), {"id": owner})
    more = upload(engine, people[-1], 2)
    assert isinstance(jobs.claim(more[0], uuid.uuid4().hex), Claim)  # wakes the due retry
    with engine.begin() as conn:
        statuses: dict[int, str] = dict(conn.execute(text("SELECT id, status FROM video WHERE id IN (:a, :b)"),
                                     {"a": claims[7].video_id, "b": claims[10].video_id}).all())  # fmt: skip
    assert statuses[claims[10].video_id] == "retrying", "claimed before its retry time"
    assert statuses.get(claims[7].video_id) != "retrying", "a due retry was not woken"


def postgres_engine(server_url: str) -> Engine:
    """A fresh database on the test Postgres with the whole schema (its triggers and the claim
    function included), through the workers' blocking driver."""
    from core.models import Base
    from devstack.servers import create_database

    url = create_database(server_url).replace("+asyncpg", "+psycopg")
    engine = create_engine(url, pool_size=10)
    Base.metadata.create_all(engine)
    return engine


def in_processes(target: Any, args: tuple[Any, ...], count: int, timeout: float) -> list[Any]:
    """Run `target(*args, queue)` in `count` forked processes at once (as Celery's prefork
    children are); each puts one result on the queue. Returns the results."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    out = context.Queue()
    procs = [context.Process(target=target, args=(*args, out)) for _ in range(count)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=timeout) for _ in procs]
    for proc in procs:
        proc.join(30)
    return results
