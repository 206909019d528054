"""`reelforge webhooks add|ls|rm|deliveries`."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import render
from cli.options import Json, session

webhooks = typer.Typer(
    help="Signed webhooks: be told when a video is processed or failed.", no_args_is_help=True
)


@webhooks.command("add")
def webhooks_add(
    url: Annotated[str, typer.Argument(help="https URL that will receive the POSTs.")],
    event: Annotated[
        list[str] | None, typer.Option("--event", "-e", help="video.processed, video.failed")
    ] = None,
    json_: Json = False,
) -> None:
    """Add a webhook; prints its signing secret (shown only this once).

    Example: reelforge webhooks add https://example.com/hooks -e video.processed
    """
    body = {"url": url, "events": event or ["video.processed", "video.failed"]}
    hook = session().call("POST", "/api/webhooks", json=body)
    if json_:
        return render.emit_json(hook)
    render.out.print(f"Webhook {hook['id']} → {hook['url']} ({', '.join(hook['events'])})")
    render.out.print(f"Signing secret (shown once): {hook['secret']}", markup=False)


@webhooks.command("ls")
def webhooks_ls(json_: Json = False) -> None:
    """Your webhooks; a disabled one says why.

    Example: reelforge webhooks ls
    """
    hooks = session().call("GET", "/api/webhooks")
    if json_:
        return render.emit_json(hooks)
    render.table(hooks, ["id", "url", "events", "enabled", "consecutive_failures",
                         "disabled_reason"])  # fmt: skip


@webhooks.command("rm")
def webhooks_rm(webhook: Annotated[int, typer.Argument(min=1)], json_: Json = False) -> None:
    """Delete a webhook.

    Example: reelforge webhooks rm 3
    """
    data = session().call("DELETE", f"/api/webhooks/{webhook}")
    render.emit_json(data) if json_ else render.out.print(f"Deleted webhook {webhook}")


@webhooks.command("deliveries")
def webhooks_deliveries(
    webhook: Annotated[int, typer.Argument(min=1)],
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    json_: Json = False,
) -> None:
    """A webhook's delivery log: status, attempts, last response code, next attempt.

    Example: reelforge webhooks deliveries 3
    """
    rows = session().call("GET", f"/api/webhooks/{webhook}/deliveries", params={"limit": limit})
    if json_:
        return render.emit_json(rows)
    render.table(rows, ["id", "event_type", "video_id", "status", "attempts", "last_status_code",
                        "next_attempt_at", "last_error"])  # fmt: skip
