"""The FastAPI example (uvicorn) through every door, against itself run directly."""

import http.client
import time

from cases import *  # noqa: F401,F403  the shared cases, run for this example
from examples_support import fetch

EXAMPLE = "fastapi"


def read_timed(base_url: str, target: str):
    """(status, headers, [(seconds since the request, chunk)]) as the chunks arrive."""
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        start = time.monotonic()
        conn.request("GET", target, headers={"Accept": "text/event-stream"})
        response = conn.getresponse()
        chunks = []
        while True:
            chunk = response.read1(65536)
            if not chunk:
                break
            chunks.append((time.monotonic() - start, chunk))
        return response.status, [(k.lower(), v) for k, v in response.getheaders()], chunks
    finally:
        conn.close()


COUNT, INTERVAL = 4, 0.4
SSE = f"/sse?count={COUNT}&interval={INTERVAL}"
SSE_BODY = "".join(f'id: {i}\nevent: tick\ndata: {{"n": {i}}}\n\n' for i in range(COUNT)).encode()


def test_server_sent_events(direct, through):
    """The SSE route gives the same events through every door; through a
    Function URL in RESPONSE_STREAM mode the first event arrives while the
    app is still writing, through every buffered source only once it is done
    (API Gateway, ALB and buffered Function URLs return one result)."""
    d = fetch(direct.url, "GET", SSE)
    assert d.status == 200 and d.body == SSE_BODY, d
    assert d.values("content-type") == ["text/event-stream; charset=utf-8"], d
    status, headers, chunks = read_timed(through.url, SSE)
    assert status == 200
    assert b"".join(c for _, c in chunks) == SSE_BODY
    assert ("content-type", "text/event-stream; charset=utf-8") in headers
    assert ("cache-control", "no-cache") in headers
    first, last = chunks[0][0], chunks[-1][0]
    app_time = (COUNT - 1) * INTERVAL
    if through.door == "function-url-stream":
        assert first < app_time / 2, f"first event after {first:.2f}s: not streamed"
        assert last >= app_time * 0.9, f"all events by {last:.2f}s: the app's pauses were not kept"
    else:
        assert first >= app_time * 0.9, f"first byte after {first:.2f}s from a buffered source"
