"""The `reelforge` command (Typer). Each command is one API call or one transfer; `--json` prints
the API's JSON instead of tables and bars. Examples are in each command's --help."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer

from cli import render
from cli.follow import follow
from cli.options import Json, VideoArg, session, use_server
from cli.output_commands import register_output_commands
from cli.session import CliError, Session, forget_credentials, save_credentials
from cli.transfer import Uploader
from cli.webhook_commands import webhooks

app = typer.Typer(
    name="reelforge",
    help="Upload videos to a reelforge server and follow their processing.\n\n"
    "Server: --server, else REELFORGE_URL, else the one you logged in to.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
app.add_typer(webhooks, name="webhooks")
register_output_commands(app)
INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C


@app.callback()
def _global(
    server: Annotated[
        str | None,
        typer.Option(
            help="Server URL, e.g. https://videos.example.com",
            envvar="REELFORGE_URL",
            show_envvar=True,
        ),
    ] = None,
) -> None:
    use_server(server)


PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from stdin (as `docker login`)."),
]
NO_PASSWORD = (
    "No password: stdin is not a terminal. Pipe it with --password-stdin or set REELFORGE_PASSWORD"
)


def _ask_password(confirm: bool = False, from_stdin: bool = False) -> str:
    """--password-stdin, else REELFORGE_PASSWORD, else asked on the terminal (twice to sign up).
    Never a traceback: no terminal, an empty stdin or a closed one is a one-line error."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n") if not sys.stdin.closed else ""
        if not password:
            raise CliError("--password-stdin: stdin gave no password")
        return password
    if password := os.environ.get("REELFORGE_PASSWORD"):
        return password
    if sys.stdin is None or sys.stdin.closed or not sys.stdin.isatty():
        raise CliError(NO_PASSWORD)
    try:
        password = getpass.getpass("Password: ")
        if confirm and getpass.getpass("Repeat password: ") != password:
            raise CliError("The passwords do not match")
    except EOFError:
        raise CliError("No password given") from None
    return password


# ------------------------------------------------------------------------------- account
@app.command()
def signup(
    email: Annotated[str, typer.Option(prompt=True)],
    first_name: Annotated[str, typer.Option(prompt=True)],
    last_name: Annotated[str, typer.Option(prompt=True)],
    city: Annotated[str | None, typer.Option()] = None,
    country: Annotated[str | None, typer.Option()] = None,
    password_stdin: PasswordStdin = False,
    json_: Json = False,
) -> None:
    """Create an account, then log in to it.

    Example: reelforge --server http://localhost:8000 signup --email ana@example.com
    --first-name Ana --last-name Diaz --city Bogota
    """
    password = _ask_password(confirm=True, from_stdin=password_stdin)
    body = {
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "city": city,
        "country": country,
        "password1": password,
        "password2": password,
    }
    user = session().call("POST", "/api/auth/signup", json=body, auth=False)
    _login(email, password, quiet=json_)
    render.emit_json(user) if json_ else render.out.print(f"Signed up and logged in as {email}")


@app.command()
def login(
    email: Annotated[str, typer.Option(prompt=True)],
    password_stdin: PasswordStdin = False,
    json_: Json = False,
) -> None:
    """Log in; the token is kept in your config dir (mode 0600) for the next commands.

    Example: reelforge --server http://localhost:8000 login --email ana@example.com
    (the password is asked for, read from REELFORGE_PASSWORD, or piped with --password-stdin)
    """
    token = _login(email, _ask_password(from_stdin=password_stdin), quiet=json_)
    render.emit_json(token) if json_ else render.out.print(f"Logged in to {session().server}")


def _login(email: str, password: str, quiet: bool) -> dict[str, Any]:
    s = session()
    token: dict[str, Any] = s.call(
        "POST", "/api/auth/login", auth=False, json={"email": email, "password": password}
    )
    save_credentials(s.server, token["access_token"])
    return token


@app.command()
def logout() -> None:
    """Forget the saved token."""
    removed = forget_credentials()
    render.out.print("Logged out" if removed else "Not logged in")


# ------------------------------------------------------------------------------- videos
@app.command()
def upload(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    title: Annotated[str, typer.Option(help="The video's title.")],
    profile: Annotated[
        str | None, typer.Option(help="Output profile (reelforge profiles); default reel.")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Then follow processing; exit 1 if it fails.")] = False,
    json_: Json = False,
) -> None:
    """Upload a video (resumable: after Ctrl-C, run the same command again to continue).

    Example: reelforge upload clip.mp4 --title "Final dunk" --profile hls --wait
    """
    s = session()
    with render.byte_bar("uploading", quiet=json_) as bar:
        video_id = Uploader(s, bar.start, bar.advance).upload(file, title, profile)
    if not json_:
        render.out.print(f"Uploaded: video {video_id}")
    if wait:
        _wait(s, video_id, json_)
    elif json_:
        render.emit_json(s.call("GET", f"/api/videos/{video_id}"))


def _wait(s: Session, video_id: int, json_: bool) -> None:
    with render.job_bar(quiet=json_) as bar:
        final = follow(s, video_id, bar)
    video = s.call("GET", f"/api/videos/{video_id}") if final["status"] != "deleted" else final
    if json_:
        render.emit_json(video)
    if final["status"] != "processed":
        raise CliError(
            f"video {video_id} {final['status']}: {final.get('error') or 'no reason given'}"
        )
    if not json_:
        seconds = float(video.get("duration_seconds") or 0)
        render.out.print(
            f"Processed: video {video_id} ({seconds:.1f} s) — reelforge download {video_id}"
        )


@app.command("ls")
def list_videos(
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    json_: Json = False,
) -> None:
    """Your videos, newest first, with their queue position and ETA.

    Example: reelforge ls --limit 5
    """
    videos = session().call("GET", "/api/videos", params={"limit": limit})
    if json_:
        return render.emit_json(videos)
    render.table(
        videos,
        [
            "video_id",
            "title",
            "profile",
            "status",
            "progress",
            "queue_position",
            "eta_seconds",
            "uploaded_at",
        ],  # fmt: skip
    )


@app.command()
def status(
    video: VideoArg,
    follow_: Annotated[
        bool, typer.Option("--follow", "-f", help="Follow it live until done.")
    ] = False,
    json_: Json = False,
) -> None:
    """One video's status; --follow draws its progress until it is processed or failed.

    Example: reelforge status 42 --follow
    """
    s = session()
    if follow_:
        return _wait(s, video, json_)
    data = s.call("GET", f"/api/videos/{video}")
    if json_:
        return render.emit_json(data)
    error = f" — {data['error']}" if data.get("error") else ""
    line = f"video {video} — {data['title']}: {render.describe(data)}{error}"
    render.out.print(line, markup=False)


@app.command()
def publish(video: VideoArg, json_: Json = False) -> None:
    """Make a processed video public (it can then be voted for).

    Example: reelforge publish 42
    """
    data = session().call("POST", f"/api/videos/{video}/publish")
    render.emit_json(data) if json_ else render.out.print(f"Published video {video}")


@app.command("rm")
def remove(video: VideoArg, json_: Json = False) -> None:
    """Delete a video (cancels its job if it is still waiting or running).

    Example: reelforge rm 42
    """
    data = session().call("DELETE", f"/api/videos/{video}")
    render.emit_json(data) if json_ else render.out.print(f"Deleted video {video}")


@app.command()
def vote(video: VideoArg, json_: Json = False) -> None:
    """Vote for a public video (once per user).

    Example: reelforge vote 42
    """
    data = session().call("POST", f"/api/public/videos/{video}/vote")
    render.emit_json(data) if json_ else render.out.print(f"Voted for video {video}")


@app.command()
def rankings(
    city: Annotated[str | None, typer.Option(help="Only players from this city.")] = None,
    json_: Json = False,
) -> None:
    """Players ranked by votes, overall or in one city.

    Example: reelforge rankings --city Bogota
    """
    params = {"city": city} if city else {}
    data = session().call("GET", "/api/public/rankings", params=params, auth=False)
    if json_:
        return render.emit_json(data)
    render.table(data, list(data[0]) if data else [], title="Rankings")


def main() -> None:
    """The console script: errors as one line on stderr and a non-zero exit, never a traceback."""
    try:
        code = app(standalone_mode=False)
    except CliError as exc:
        render.fail(str(exc))
        raise SystemExit(exc.code) from None
    except (KeyboardInterrupt, click.exceptions.Abort):
        render.fail("interrupted — run the same command again to resume")
        raise SystemExit(INTERRUPTED) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except BrokenPipeError:  # the reader went away (`reelforge ls | head`): nothing to say to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
    if code == INTERRUPTED:  # Typer turns Ctrl-C into a quiet exit 130
        render.fail("interrupted — run the same command again to resume")
    raise SystemExit(code if isinstance(code, int) else 0)
