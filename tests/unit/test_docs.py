"""The documents a newcomer reads cannot drift from the code: docs/api.md's table lists exactly
the routes of the OpenAPI document (method and path), and the README stays short."""

from __future__ import annotations

import re
from pathlib import Path

from app.main import create_app
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
ROUTE = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) `([^`?]+)")


def _shape(path: str) -> str:
    """`/api/videos/{video_id}` and `/api/videos/{id}` are the same route."""
    return re.sub(r"\{[^}]+\}", "{}", path.rstrip("/") or "/")


def _documented() -> set[tuple[str, str]]:
    rows = [line for line in (ROOT / "docs" / "api.md").read_text().splitlines()
            if line.startswith("| ") and "`/" in line]  # fmt: skip
    found = set()
    for row in rows:
        first_cell = row.split(" | ")[0]
        found |= {(method, _shape(path)) for method, path in ROUTE.findall(first_cell)}
    return found


def _served() -> set[tuple[str, str]]:
    """Every route the app answers — those kept out of the OpenAPI document too (`GET /`, tus's
    OPTIONS) — but the API documents' own (/docs, /redoc, /openapi.json)."""
    app = create_app(Settings(environment="dev"))
    in_document = {(method.upper(), _shape(path)) for path, item in app.openapi()["paths"].items()
                   for method in item if method in METHODS}  # fmt: skip
    # an included router keeps its own routes (their paths carry its prefix)
    flat = [inner for route in app.routes
            for inner in getattr(getattr(route, "original_router", None), "routes", [route])]  # fmt: skip
    routes = {(method, _shape(route.path)) for route in flat
              for method in getattr(route, "methods", None) or ()
              if not route.path.startswith(("/docs", "/redoc", "/openapi"))}  # fmt: skip
    assert in_document <= routes
    return routes


def test_the_api_reference_lists_every_route_and_no_other() -> None:
    documented, served = _documented(), _served()
    assert served - documented == set(), "routes missing from docs/api.md"
    assert documented - served == set(), "docs/api.md lists routes the API does not have"


def test_the_readme_stays_short() -> None:
    assert len((ROOT / "README.md").read_bytes()) <= 8 * 1024
