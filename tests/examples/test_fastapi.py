"""The FastAPI example (uvicorn) through every door, against itself run directly."""

import http.client
import time

from cases import *  # noqa: F401,F403  the shared cases, run for this example
from examples_support import STREAMING, Reply, assert_same

EXAMPLE = "fastapi"


def read_timed(base_url: str, target: str):
    """(Reply, [(seconds since the request, chunk)]) as the chunks arrive."""
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
        reply = Reply(
            response.status,
            [(k.lower(), v) for k, v in response.getheaders()],
            b"".join(c for _, c in chunks),
            time.monotonic() - start,
        )
        return reply, chunks
    finally:
        conn.close()


COUNT, INTERVAL = 4, 0.4
SSE = f"/sse?count={COUNT}&interval={INTERVAL}"
EVENTS = [f'id: {i}\nevent: tick\ndata: {{"n": {i}}}\n\n'.encode() for i in range(COUNT)]
SSE_BODY = b"".join(EVENTS)


def test_server_sent_events(direct, through):
    """The SSE route gives the same status, headers (its two cookies among
    them) and events through every door. Through a streaming source (a
    Function URL in RESPONSE_STREAM mode, a REST API with the STREAM transfer
    mode) the first event arrives while the app is still writing, before it
    writes the last one; through every buffered source (HTTP API, buffered
    REST API and Function URL, ALB: one result each) nothing arrives before
    the app is done."""
    d, _ = read_timed(direct.url, SSE)
    assert d.status == 200 and d.body == SSE_BODY, d
    assert d.values("content-type") == ["text/event-stream; charset=utf-8"], d
    cookies = d.values("set-cookie")
    assert len(cookies) == 2 and cookies[0].startswith("stream=ticks") and cookies[1].startswith(f"ticks={COUNT}"), d
    t, chunks = read_timed(through.url, SSE)
    assert_same(through.door, d, t)
    first, last = chunks[0][0], chunks[-1][0]
    # The app writes event i at i * INTERVAL after the request (its own pauses
    # are asyncio.sleep), so the last one at about app_time.
    app_time = (COUNT - 1) * INTERVAL
    if through.door in STREAMING:
        assert first < app_time / 2, f"first event after {first:.2f}s: not streamed"
        assert EVENTS[-1] not in chunks[0][1], f"the first chunk holds the last event: {chunks[0]!r}"
        assert last >= app_time * 0.9, f"all events by {last:.2f}s: the app's pauses were not kept"
    else:
        assert first >= app_time * 0.9, f"first byte after {first:.2f}s from a buffered source"
