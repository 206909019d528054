"""The `reelforge` CLI as a user runs it: a subprocess against the real stack (Postgres, Redis,
worker), scriptable (--json, no bars when stdout is not a terminal, one-line errors with the
server's detail), and once under a pseudo-terminal: the bar is drawn, Ctrl-C stops the upload,
and the same command resumes it from the server's offset."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pexpect
import pytest

from cli.main import NO_PASSWORD
from devstack.stack import Stack
from tests.media import ffprobe, make_noise_clip, video_stream
from tests.tus_clients import CutProxy

CLI = str(Path(sys.executable).parent / "reelforge")
PASSWORD = "correct-horse-9"
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(pg_stack: Stack, tmp_path: Path) -> tuple[Run, dict[str, str]]:
    env = {**os.environ, "REELFORGE_URL": pg_stack.base_url, "REELFORGE_PASSWORD": PASSWORD,
           "REELFORGE_CONFIG_DIR": str(tmp_path / "config"), "NO_COLOR": "1", "COLUMNS": "120"}  # fmt: skip

    def run(
        *args: str, check: bool = True, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([CLI, *args], env=env, capture_output=True, text=True,
                              timeout=timeout, cwd=tmp_path)  # fmt: skip
        if check:
            assert done.returncode == 0, f"{args}: {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    return run, env


def _signup(run: Run, city: str = "Medellin") -> str:
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    run("signup", "--email", email, "--first-name", "Cli", "--last-name", "User", "--city", city)
    return email


def test_upload_wait_download_publish_vote_as_a_script(
    cli: tuple[Run, dict[str, str]], clip_5s: Path, tmp_path: Path
) -> None:
    run, env = cli
    _signup(run)
    creds = Path(env["REELFORGE_CONFIG_DIR"]) / "credentials.json"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600

    done = run("upload", str(clip_5s), "--title", "demo", "--wait", "--json")
    video = json.loads(done.stdout)  # stdout is the API's JSON and nothing else: no bars
    assert video["status"] == "processed" and video["title"] == "demo"
    video_id = video["video_id"]
    listed = json.loads(run("ls", "--json").stdout)
    assert [v["video_id"] for v in listed] == [video_id]
    assert json.loads(run("status", str(video_id), "--json").stdout)["progress"] == 100
    assert "processed" in run("status", str(video_id)).stdout

    out = tmp_path / "dunk.mp4"
    run("download", str(video_id), "-o", str(out))
    stream = video_stream(ffprobe(out))
    assert (stream["width"], stream["height"]) == (1280, 720)
    # A cut download resumes with Range: keep the first third as the .part, run it again.
    whole = out.read_bytes()
    out.unlink()
    part = tmp_path / "dunk.mp4.part"
    part.write_bytes(whole[: len(whole) // 3])
    saved = json.loads(run("download", str(video_id), "-o", str(out), "--json").stdout)
    assert saved["bytes"] == len(whole) and hashlib.sha256(out.read_bytes()).digest() == \
        hashlib.sha256(whole).digest()  # fmt: skip
    assert not part.exists()

    run("publish", str(video_id))
    own = run("vote", str(video_id), check=False)
    assert own.returncode == 1 and "You cannot vote for your own video" in own.stderr
    _signup(run, city="Cali")  # another account (its login replaces the saved one)
    assert json.loads(run("vote", str(video_id), "--json").stdout)["message"]
    again = run("vote", str(video_id), check=False)
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr.strip().startswith("error: ") and "(HTTP 400)" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    ranking = json.loads(run("rankings", "--city", "Medellin", "--json").stdout)
    assert ranking and ranking[0]["votes"] >= 1


def test_profiles_an_hls_upload_and_its_tree_downloaded_to_play_offline(
    cli: tuple[Run, dict[str, str]], clip_720p_sound: Path, tmp_path: Path
) -> None:
    run, _ = cli
    _signup(run)
    listed = run("profiles").stdout
    assert "reel (default)" in listed and "hls" in listed and "mp4" in listed
    video = json.loads(run("upload", str(clip_720p_sound), "--title", "ladder", "--profile", "hls",
                           "--wait", "--json").stdout)  # fmt: skip
    assert (video["status"], video["profile"]) == ("processed", "hls")
    assert "hls" in run("ls").stdout
    video_id = str(video["video_id"])

    tree = tmp_path / "tree"
    run("download", video_id, "--output", "hls", "-o", str(tree))
    assert {p.name for p in tree.iterdir()} == {"master.m3u8", "720p", "480p", "360p", "audio"}  # fmt: skip
    offline = ffprobe(tree / "master.m3u8")  # every URI in it is a local file now
    heights = sorted(s["height"] for s in offline["streams"] if s["codec_type"] == "video")
    assert heights == [360, 480, 720]

    one = tmp_path / "only-720p"
    run("download", video_id, "--output", "720p", "-o", str(one))
    assert {p.name for p in one.iterdir()} == {"master.m3u8", "720p", "audio"}
    streams = ffprobe(one / "master.m3u8")["streams"]
    assert [(s["width"], s["height"]) for s in streams if s["codec_type"] == "video"] == [
        (1280, 720)
    ]
    missing = run("download", video_id, "--output", "4k", check=False)
    assert missing.returncode == 1
    assert "No rendition '4k'; this video has: 720p, 480p, 360p" in missing.stderr


def test_errors_are_the_servers_detail_on_one_line(
    cli: tuple[Run, dict[str, str]], tmp_path: Path
) -> None:
    run, _ = cli
    _signup(run)
    missing = run("status", "999999999", check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: Video not found (HTTP 404)"
    followed = run("status", "999999999", "--follow", check=False)
    assert followed.returncode == 1
    assert followed.stderr.strip() == "error: Video not found (HTTP 404)"
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all " * 100)
    refused = run("upload", str(text), "--title", "x", check=False)
    assert refused.returncode == 1 and "Unsupported file type" in refused.stderr
    assert "Traceback" not in refused.stderr
    # Passes the container sniff, fails in FFmpeg: --wait exits 1 with the server's reason.
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(4096))
    failed = run("upload", str(broken), "--title", "broken", "--wait", check=False)
    assert failed.returncode == 1 and "failed:" in failed.stderr, failed.stderr
    run("logout")
    logged_out = run("ls", check=False)
    assert logged_out.returncode == 1 and "Not logged in" in logged_out.stderr
    assert (
        "Examples" in run("upload", "--help").stdout or "Example" in run("upload", "--help").stdout
    )


def test_webhooks_from_the_cli(cli: tuple[Run, dict[str, str]]) -> None:
    run, _ = cli
    _signup(run)
    added = json.loads(run("webhooks", "add", "http://127.0.0.1:9/hook", "-e", "video.failed",
                           "--json").stdout)  # fmt: skip
    assert added["secret"].startswith("whsec_") and added["events"] == ["video.failed"]
    assert [h["id"] for h in json.loads(run("webhooks", "ls", "--json").stdout)] == [added["id"]]
    assert json.loads(run("webhooks", "deliveries", str(added["id"]), "--json").stdout) == []
    run("webhooks", "rm", str(added["id"]))
    assert json.loads(run("webhooks", "ls", "--json").stdout) == []


def _interruptible() -> None:
    """Ctrl-C as at a real terminal: a test run started in the background (`cmd &` in a
    non-interactive shell) ignores SIGINT, and the CLI would inherit that and never see it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_under_a_terminal_the_bar_is_drawn_and_ctrl_c_then_the_same_command_resumes(
    pg_stack: Stack, cli: tuple[Run, dict[str, str]], media: Path, tmp_path: Path
) -> None:
    run, env = cli
    _signup(run)
    clip_noise = make_noise_clip(media / "clip-1s-noise.mp4", seconds=1)  # ~5 MB, under the cap
    size = clip_noise.stat().st_size
    port = int(httpx.URL(pg_stack.base_url).port or 80)
    proxy = CutProxy(port, cut_after=10**12, bytes_per_second=max(size // 6, 256 * 1024))
    # Through the proxy the server URL differs from the saved login's: the token comes from
    # REELFORGE_TOKEN instead.
    term_env = {**env, "REELFORGE_URL": f"http://127.0.0.1:{proxy.port}", "TERM": "xterm",
                "REELFORGE_TOKEN": _token(env)}  # fmt: skip
    command = [str(clip_noise), "--title", "resumed", "--wait"]
    try:
        child = pexpect.spawn(CLI, ["upload", *command], env=term_env, cwd=str(tmp_path),
                              encoding="utf-8", timeout=60, dimensions=(30, 120),
                              preexec_fn=_interruptible)  # fmt: skip
        child.expect("uploading")
        child.expect(r"\d+\.\d+/\d+\.\d+ MB")  # the bar: bytes done / total
        child.expect(r"[0-9.]+ [kM]B/s")  # speed
        sent_before = proxy.sent
        child.sendintr()  # Ctrl-C, and the network goes with it: bytes in flight are lost
        proxy.sever()
        child.expect("run the same command again to resume")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 130 and sent_before > 0
        store = json.loads((Path(env["REELFORGE_CONFIG_DIR"]) / "uploads.json").read_text())
        (upload_url,) = store.values()
        auth = {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {_token(env)}"}
        offset = _server_offset(pg_stack.base_url + upload_url, auth)
        assert 0 < offset < size
        after_first = proxy.sent

        child = pexpect.spawn(CLI, ["upload", *command], env=term_env, cwd=str(tmp_path),
                              encoding="utf-8", timeout=120, dimensions=(30, 120),
                              preexec_fn=_interruptible)  # fmt: skip
        child.expect("Uploaded: video (\\d+)")
        video_id = int(child.match.group(1))
        child.expect("Processed: video")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
    finally:
        proxy.close()
    second_run = proxy.sent - after_first  # the rest of the file, plus a few small requests
    assert size - offset <= second_run <= size - offset + 256 * 1024, (second_run, size, offset)
    upload = httpx.get(pg_stack.base_url + upload_url, headers=auth)
    assert upload.json()["video_id"] == video_id and upload.json()["complete"]
    videos = json.loads(run("ls", "--json").stdout)
    assert [v["video_id"] for v in videos] == [video_id]  # one job, not two


def test_a_dropped_connection_is_resumed_by_the_same_run(
    pg_stack: Stack, cli: tuple[Run, dict[str, str]], media: Path
) -> None:
    run, env = cli
    _signup(run)
    clip = make_noise_clip(media / "clip-1s-noise.mp4", seconds=1)
    size = clip.stat().st_size
    port = int(httpx.URL(pg_stack.base_url).port or 80)
    proxy = CutProxy(port, cut_after=size // 2)  # the first connection dies half-way
    try:
        done = subprocess.run(
            [CLI, "--server", f"http://127.0.0.1:{proxy.port}", "upload", str(clip), "--title",
             "cut", "--json"], env={**env, "REELFORGE_TOKEN": _token(env)}, capture_output=True,
            text=True, timeout=120)  # fmt: skip
    finally:
        proxy.close()
    assert done.returncode == 0, done.stderr
    assert proxy.cut and json.loads(done.stdout)["status"] in ("queued", "processing", "processed")
    # the second connection carried the rest, not the whole file again
    assert proxy.sent - size // 2 < size // 2 + 256 * 1024, (proxy.sent, size)


def _server_offset(url: str, auth: dict[str, str]) -> int:
    """Once the cut PATCH has been recorded (the upload is no longer locked)."""
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        head = httpx.head(url, headers=auth)
        if head.status_code == 200 and int(head.headers["Upload-Offset"]) > 0:
            return int(head.headers["Upload-Offset"])
        time.sleep(0.2)
    raise AssertionError("the server never recorded the interrupted upload's bytes")


def _token(env: dict[str, str]) -> str:
    creds = json.loads((Path(env["REELFORGE_CONFIG_DIR"]) / "credentials.json").read_text())
    return str(creds["token"])


def test_passwords_from_a_pipe_or_nowhere_never_a_traceback(
    cli: tuple[Run, dict[str, str]], tmp_path: Path
) -> None:
    run, env = cli
    no_env = {k: v for k, v in env.items() if k != "REELFORGE_PASSWORD"}
    email = f"pipe-{uuid.uuid4().hex[:8]}@example.com"
    args = [CLI, "signup", "--email", email, "--first-name", "P", "--last-name", "Q"]

    def call(argv: list[str], stdin: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            env=no_env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            stdin=stdin,
            input=None,
        )

    piped = subprocess.run(
        [*args, "--password-stdin"],
        env=no_env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert piped.returncode == 0, piped.stderr
    login = subprocess.run(
        [CLI, "login", "--email", email, "--password-stdin"],
        env=no_env,
        input=PASSWORD,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert login.returncode == 0 and "Logged in" in login.stdout, login.stderr
    for stdin in (subprocess.DEVNULL, subprocess.PIPE):  # no terminal, no password anywhere
        done = call([CLI, "login", "--email", email], stdin)
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert done.stderr.strip().splitlines() == [f"error: {NO_PASSWORD}"]
    empty = call([CLI, "login", "--email", email, "--password-stdin"], subprocess.DEVNULL)
    assert empty.returncode == 1
    assert empty.stderr.strip() == "error: --password-stdin: stdin gave no password"
