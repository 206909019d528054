"""Every accepted upload ends in exactly one terminal state, once, whatever crashes."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx

from devstack.servers import Postgres, Redis, wait_until
from devstack.stack import Stack
from tests.api_client import Api
from tests.helpers import attempts, ffmpeg_pids, output_attempts
from tests.reliability.conftest import MakeStack


def _start_processing(stack: Stack, api: Api, auth: dict[str, str], clip: Path) -> int:
    video_id = api.upload(auth, clip).json()["video_id"]
    wait_until(lambda: api.video(auth, video_id)["progress"] >= 10 and ffmpeg_pids(stack),
               60, "FFmpeg to be well into the job")  # fmt: skip
    return int(video_id)


def test_sigkill_of_the_worker_child_mid_transcode(make_stack: MakeStack, clip_20s: Path) -> None:
    stack = make_stack()
    api = Api(stack.base_url)
    auth = api.user()
    video_id = _start_processing(stack, api, auth, clip_20s)
    ffmpeg_pid = ffmpeg_pids(stack)[0]
    child = int(Path(f"/proc/{ffmpeg_pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    killed_at = time.monotonic()
    os.kill(child, signal.SIGKILL)

    wait_until(lambda: not ffmpeg_pids(stack) or None, 5, "the orphaned FFmpeg to die")
    video = api.wait_for(auth, video_id, timeout=60)
    recovered_in = time.monotonic() - killed_at
    assert video["status"] == "processed", video
    assert attempts(stack, video_id) == 2
    assert output_attempts(stack, video_id) == ["attempt-2"]  # one set of outputs
    assert recovered_in < 60
    print(f"recovered from a killed child in {recovered_in:.1f} s")
    temp = stack.temp_dir("worker")
    wait_until(lambda: not list(temp.glob(f"reelforge-job-*-{video_id}-*")) or None, 10,
               "the dead child's temp dir to be removed")  # fmt: skip


def test_sigkill_of_the_whole_worker_then_a_new_one(make_stack: MakeStack, clip_20s: Path) -> None:
    stack = make_stack()
    api = Api(stack.base_url)
    auth = api.user()
    video_id = _start_processing(stack, api, auth, clip_20s)
    killed_at = time.monotonic()
    stack.kill_worker()
    wait_until(lambda: not ffmpeg_pids(stack) or None, 5, "FFmpeg to die with its worker")
    stack.start_worker()
    video = api.wait_for(auth, video_id, timeout=90)
    assert video["status"] == "processed", video
    assert attempts(stack, video_id) == 2
    assert output_attempts(stack, video_id) == ["attempt-2"]
    print(f"recovered from a killed worker in {time.monotonic() - killed_at:.1f} s")


def test_redis_restarted_empty_with_ten_queued_jobs(
    make_stack: MakeStack, clip_small: Path
) -> None:
    stack = make_stack(worker=False)
    api = Api(stack.base_url)
    auth = api.user()
    ids = [api.upload(auth, clip_small, title=f"q{i}").json()["video_id"] for i in range(10)]
    redis = stack.services.server(Redis)
    assert redis is not None
    redis.restart_empty()  # every queued message is gone
    restarted = time.monotonic()
    stack.start_worker()
    for video_id in ids:
        assert api.wait_for(auth, video_id, timeout=120)["status"] == "processed"
    print(f"10 jobs lost by Redis completed {time.monotonic() - restarted:.1f} s after restart")


def test_crash_between_commit_and_enqueue_is_delivered_by_the_reconciler(
    make_stack: MakeStack, clip_small: Path
) -> None:
    """The API commits the job but its message never reaches the broker."""
    stack = make_stack(api_env={"CELERY_BROKER_URL": "redis://127.0.0.1:9/0"})
    api = Api(stack.base_url)
    auth = api.user()
    started = time.monotonic()
    response = api.upload(auth, clip_small)
    assert response.status_code == 202, response.text
    assert time.monotonic() - started < 5, "an unreachable broker must not hang the upload"
    video = api.wait_for(auth, response.json()["video_id"], timeout=60)
    assert video["status"] == "processed"


def test_task_outliving_the_visibility_timeout_runs_once(
    make_stack: MakeStack, clip_20s: Path
) -> None:
    stack = make_stack(BROKER_VISIBILITY_TIMEOUT="2", BROKER_RESTORE_INTERVAL_SECONDS="1",
                       WORKER_CONCURRENCY="2", LEASE_SECONDS="30")  # fmt: skip
    api = Api(stack.base_url)
    auth = api.user()
    video_id = api.upload(auth, clip_20s).json()["video_id"]
    statuses = [s for s, _ in api.wait_for(auth, video_id, timeout=120)["_seen"]]
    assert statuses[-1] == "processed"
    order = {"queued": 0, "processing": 1, "processed": 2}
    assert [order[s] for s in statuses] == sorted(order[s] for s in statuses), "status went back"
    assert attempts(stack, video_id) == 1
    assert output_attempts(stack, video_id) == ["attempt-1"]
    outcomes = "reelforge_worker_outcomes_total"
    duplicates = stack.worker_metric(outcomes, outcome="retry") + stack.worker_metric(
        outcomes, outcome="skipped"
    )
    assert duplicates >= 1, "Redis never redelivered the message: the test proved nothing"


def test_poison_video_fails_after_max_attempts_while_others_flow(
    make_stack: MakeStack, media: Path, clip_small: Path
) -> None:
    import subprocess

    poison = media / "poison.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(clip_small), "-c", "copy",
                    "-metadata", "comment=POISON-PILL", str(poison)], check=True, timeout=60)  # fmt: skip
    crashing = Path(__file__).resolve().parents[1] / "fixtures" / "crashing_ffmpeg.sh"
    stack = make_stack(FFMPEG_BINARY=str(crashing), MAX_ATTEMPTS="3")
    api = Api(stack.base_url)
    auth = api.user()
    bad = api.upload(auth, poison, title="poison").json()["video_id"]
    good = api.upload(auth, clip_small, title="good").json()["video_id"]
    assert api.wait_for(auth, good, timeout=60)["status"] == "processed"
    failed = api.wait_for(auth, bad, timeout=90)
    assert failed["status"] == "failed"
    assert failed["error"] == "Gave up after 3 attempts: FFmpeg crashed (signal 11)"
    assert attempts(stack, bad) == 3


def test_postgres_restart_during_uploads(make_stack: MakeStack, clip_small: Path) -> None:
    server = Postgres().start()
    try:
        stack = make_stack(postgres=server, DB_TIMEOUT_SECONDS="2")
        api = Api(stack.base_url)
        auth = api.user()
        results: list[tuple[float, float, int]] = []
        stop = threading.Event()

        def uploads() -> None:
            with httpx.Client(base_url=stack.base_url, timeout=30) as client:
                while not stop.is_set():
                    started = time.monotonic()
                    with clip_small.open("rb") as f:
                        r = client.post("/api/videos/upload", headers=auth, data={"title": "t"},
                                        files={"video_file": ("a.mp4", f, "video/mp4")})  # fmt: skip
                    results.append((started, time.monotonic() - started, r.status_code))
                    time.sleep(0.1)

        sender = threading.Thread(target=uploads)
        sender.start()
        time.sleep(2)
        server.stop_server()
        outage = time.monotonic()
        time.sleep(1)
        assert httpx.get(stack.base_url + "/health", timeout=5).status_code == 200
        ready = httpx.get(stack.base_url + "/ready", timeout=5)
        assert ready.status_code == 503 and ready.json()["checks"]["database"]["status"] == "error"
        time.sleep(3)
        server.start_server()
        back = time.monotonic()
        time.sleep(4)
        stop.set()
        sender.join(30)

        codes = [code for _, _, code in results]
        assert set(codes) <= {202, 503}, codes
        during = [(t, d, c) for t, d, c in results if outage + 0.5 < t < back - 0.5]
        assert during and all(c == 503 for _, _, c in during), during
        assert max(d for _, d, _ in during) < 3, "a 503 must come fast"
        assert any(c == 202 for t, _, c in results if t > back + 1), "never recovered"
        assert httpx.get(stack.base_url + "/ready", timeout=5).status_code == 200
    finally:
        server.stop()
