"""The import contract (pyproject.toml, docs/architecture.md) is enforced: the tree keeps it, and
a wrong arrow — the core importing the API tier — makes `lint-imports` fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
PACKAGES = ("app", "worker", "core", "devstack", "bench")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_the_tree_keeps_the_contract() -> None:
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "0 broken" in result.stdout


def test_a_wrong_arrow_breaks_it(tmp_path: Path) -> None:
    for name in PACKAGES:
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    settings = tmp_path / "core" / "settings.py"
    settings.write_text(settings.read_text() + "\nimport app.errors  # noqa: E402\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "core is not allowed to import app" in result.stdout, result.stdout[-2000:]
