from __future__ import annotations

import pytest

from core.settings import Settings
from worker.media.errors import InputRejected
from worker.media.probe import accept

SETTINGS = Settings(max_input_seconds=600, max_input_dimension=4096)


def _probe(fmt: str = "mov,mp4,m4a,3gp,3g2,mj2", duration: str = "5.0", **video: object) -> dict:  # type: ignore[type-arg]
    stream = {"codec_type": "video", "width": 1920, "height": 1080, "avg_frame_rate": "30000/1001"}
    stream.update(video)
    return {"format": {"format_name": fmt, "duration": duration}, "streams": [stream]}


def test_accepts_a_normal_video() -> None:
    info = accept(_probe(), SETTINGS)
    assert (info.width, info.height, info.duration) == (1920, 1080, 5.0)
    assert info.fps == pytest.approx(29.97, abs=0.01)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_probe(fmt="hls"), "Unsupported container: hls"),
        (_probe(fmt="concat"), "Unsupported container: concat"),
        (
            {
                "format": {"format_name": "matroska,webm", "duration": "3"},
                "streams": [{"codec_type": "audio"}],
            },
            "No video stream found",
        ),
        (_probe(width=8192, height=8192), "Video dimensions 8192x8192 exceed the 4096 pixel limit"),
        (_probe(duration="601"), "Video is too long (601 s; the limit is 600 s)"),
        (_probe(duration="N/A"), "Could not determine the video duration"),
    ],
)
def test_rejects_with_a_human_reason(data: dict, reason: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InputRejected) as raised:
        accept(data, SETTINGS)
    assert raised.value.reason == reason and raised.value.permanent


def test_cover_art_is_not_a_video_stream() -> None:
    data = _probe(disposition={"attached_pic": 1})
    with pytest.raises(InputRejected, match="No video stream found"):
        accept(data, SETTINGS)


def test_the_accepted_stream_index_is_the_one_checked_not_a_cover_picture_before_it() -> None:
    cover = {"index": 0, "codec_type": "video", "width": 8000, "height": 8000,
             "disposition": {"attached_pic": 1}}  # fmt: skip
    real = {"index": 1, "codec_type": "video", "width": 640, "height": 360,
            "avg_frame_rate": "25/1"}  # fmt: skip
    data = {"format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "3"},
            "streams": [cover, real]}  # fmt: skip
    info = accept(data, SETTINGS)
    assert (info.stream_index, info.width, info.height) == (1, 640, 360)
