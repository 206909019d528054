"""What can end a media run, as types, so the pipeline classifies outcomes without reading text."""

from __future__ import annotations


class MediaError(Exception):
    """A media step failed. `reason` is a fixed, human sentence a user may read; `detail` (e.g.
    FFmpeg's stderr) is for the logs only. `permanent`: retrying cannot help."""

    permanent = True

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class InputRejected(MediaError):
    """The probe refused the input (no video stream, too long, unsupported container, …).
    FFmpeg itself did not fail."""


class FFmpegFailed(MediaError):
    """An FFmpeg or ffprobe process failed: an error exit or our timeout (permanent), or a
    signal we did not send — a crash or the OOM killer — which may pass (transient)."""

    def __init__(self, reason: str, *, permanent: bool, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.permanent = permanent


class JobCancelled(Exception):
    """The job was deleted, or its claim taken over, while media work ran: stop, publish nothing."""
