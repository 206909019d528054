"""Local storage maps keys to files under its root and refuses any key that could leave it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.storage.local import LocalStorage

ESCAPING = ["../x", "a/../../etc/passwd", "/etc/passwd", "a//b", "a/./b", "a/", "", "..",
            "a\\..\\b", "a\x00b"]  # fmt: skip


@pytest.mark.parametrize("key", ESCAPING)
def test_a_key_that_could_leave_the_root_is_refused(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path / "storage")
    with pytest.raises(ValueError, match="escapes the root"):
        storage.local_path(key)
    with pytest.raises(ValueError):
        storage.open_writer(key)


def test_a_server_made_key_is_a_file_under_the_root(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage")
    path = storage.local_path("originals/0f3a/original")
    assert path == (tmp_path / "storage" / "originals" / "0f3a" / "original").resolve()
    assert path.is_relative_to(storage.root)
