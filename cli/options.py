"""What every command shares: the --json flag, the video argument, and the session the global
--server option chose."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.session import Session

Json = Annotated[bool, typer.Option("--json", help="Print the API's JSON response.")]
VideoArg = Annotated[int, typer.Argument(help="The video id (from `reelforge ls`).", min=1)]
_current: dict[str, Session] = {}


def use_server(server: str | None) -> None:
    _current["session"] = Session.resolve(server)


def session() -> Session:
    return _current.get("session") or Session.resolve(None)
