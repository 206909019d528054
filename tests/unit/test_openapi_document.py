"""The OpenAPI document says exactly what the service does: typed models all the way down (a
client generated from it has no `Any` field), one error schema on every error, the headers and
bounds clients rely on."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.main import create_app
from core.settings import Settings

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app(Settings(environment="dev")).openapi()


def _operations(spec: dict[str, Any]):  # type: ignore[no-untyped-def]
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_a_generated_client_is_fully_typed(spec: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "openapi.json").write_text(json.dumps(spec))
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [str(VENV_BIN / "openapi-python-client"), "generate", "--path", "openapi.json",
         "--output-path", "client", "--meta", "none"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout
    untyped = []
    models = list((tmp_path / "client" / "models").glob("*.py"))
    assert len(models) > 10
    for model in models:
        for node in ast.parse(model.read_text()).body:
            if not isinstance(node, ast.ClassDef):
                continue
            for field in node.body:
                if (
                    isinstance(field, ast.AnnAssign)
                    and isinstance(field.target, ast.Name)
                    and field.target.id != "additional_properties"
                    and "Any" in ast.unparse(field.annotation)
                ):
                    untyped.append(
                        f"{model.name}: {field.target.id}: {ast.unparse(field.annotation)}"
                    )
    assert untyped == []


def test_every_error_response_has_a_schema(spec: dict[str, Any]) -> None:
    missing = []
    for path, method, operation in _operations(spec):
        for code, response in operation["responses"].items():
            if code.startswith(("4", "5")):
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if not schema:
                    missing.append(f"{method.upper()} {path} {code}")
    assert missing == []


def test_codes_headers_and_bounds_are_declared(spec: dict[str, Any]) -> None:
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        assert "429" in responses and "500" in responses, (method, path)
        if operation.get("security") == [{"HTTPBearer": []}]:
            assert "401" in responses, (method, path)
        if "429" in responses:
            assert "Retry-After" in responses["429"].get("headers", {}), (method, path)
    upload = spec["paths"]["/api/videos/upload"]["post"]
    assert "Location" in upload["responses"]["202"]["headers"]
    key = next(p for p in upload["parameters"] if p["name"] == "idempotency-key")
    assert key["schema"]["maxLength"] == 255 and "pattern" in key["schema"]
    for path in ("/api/videos", "/api/public/videos", "/api/public/rankings"):
        listing = spec["paths"][path]["get"]
        assert "X-Total-Count" in listing["responses"]["200"]["headers"]
        bounds = {p["name"]: p["schema"] for p in listing["parameters"]}
        assert bounds["limit"]["maximum"] == 100 and bounds["limit"]["minimum"] == 1
    download = spec["paths"]["/api/videos/{video_id}/file"]["get"]
    assert {} in download["security"]  # published files are public: the token is optional
    video_id = next(p for p in download["parameters"] if p["name"] == "video_id")
    assert video_id["schema"]["maximum"] == 2**31 - 1
