"""Per-job scratch folders, named after the worker process that owns them, so the next child to
start can remove those of a child that was killed mid-job (it never ran its clean-up)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

TEMP_PREFIX = "reelforge-job-"


def job_temp_dir(video_id: int, temp_dir: Path | None) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(
        prefix=f"{TEMP_PREFIX}{os.getpid()}-{video_id}-", dir=temp_dir
    )


def remove_orphaned_temp_dirs(temp_dir: Path | None) -> int:
    root = Path(temp_dir or tempfile.gettempdir())
    removed = 0
    for path in root.glob(f"{TEMP_PREFIX}*"):
        pid = path.name[len(TEMP_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
