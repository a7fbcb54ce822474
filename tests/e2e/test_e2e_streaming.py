"""Response streaming through the whole local path: portside-local's front
door as a Function URL in RESPONSE_STREAM mode, the adapter in
response_stream mode, and a Server-Sent Events app."""

from pathlib import Path

import requests

SSE = Path(__file__).parent / "apps" / "sse"


def test_each_event_reaches_the_client_while_the_app_is_still_writing(launch, tmp_path):
    fn = launch("function-url", {"PORTSIDE_INVOKE_MODE": "response_stream"}, label="sse",
                function=SSE, handler="run.sh", extra_args=("--response-stream",))
    gate = tmp_path / "second-event-may-go"
    with requests.get(f"{fn.url.rstrip('/')}/events", params={"gate": str(gate)}, stream=True, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["set-cookie"] == "stream=1"
        chunks = response.iter_content(chunk_size=None)
        first = next(chunks)
        # The app is blocked until the gate exists: this arrived mid-stream.
        assert first == b"data: first\n\n"
        assert not gate.exists()
        gate.touch()
        assert b"".join(chunks) == b"data: second\n\n"
