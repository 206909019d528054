"""tus on the embedded default (`make run`: SQLite, filesystem broker, local storage): the same
generic clients, the file appended in place across PATCHes, the job processed."""

from __future__ import annotations

from pathlib import Path

from devstack.stack import Stack
from tests.api_client import Api
from tests.tus_clients import node_upload, original_bytes, sha256, tuspy_upload, video_of


def test_tuspy_and_tus_js_client_on_the_embedded_default(
    embedded_stack: Stack, clip_small: Path
) -> None:
    api = Api(embedded_stack.base_url)
    auth = api.user()
    token = auth["Authorization"].split()[1]
    urls = [tuspy_upload(api.base_url, auth, clip_small, "tuspy", 16 * 1024),
            node_upload(api.base_url, token, clip_small, "tus-js-client", 10 * 1024 * 1024)]  # fmt: skip
    for url in urls:
        video_id = video_of(api, auth, url)
        assert api.wait_for(auth, video_id)["status"] == "processed"
        assert sha256(original_bytes(api, auth, video_id)) == sha256(clip_small.read_bytes())
    assert not any((embedded_stack.storage_dir / "uploads").glob("*"))  # renamed into place
