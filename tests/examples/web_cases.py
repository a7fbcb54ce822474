"""The cases of the Lambda Web Functions examples, beyond the shared ones
(cases.py): each app started directly (AWS_LAMBDA_HTTP_ENDPOINT set) and
through each path of web_support.PATHS, the same request sent to both.

Imported with ``from web_cases import *`` by each Web Functions example's
module; the ``through`` fixture here replaces conftest's (the event-source
doors) with the paths.
"""

import hashlib
import http.client
import time

import pytest

import conftest
from examples_support import Reply, assert_same, fetch
from web_support import CLASSIC, DOOR_OF, OVERSIZED, PATHS, STREAMING_PATHS, WEB_SEMANTICS


@pytest.fixture(scope="module", params=list(PATHS))
def through(request, example, artifacts, tmp_path_factory):
    """The example behind one path; ``.door`` names it."""
    door = request.param
    logdir = tmp_path_factory.mktemp(f"{example.name}-{door}")
    fn = PATHS[door](example, artifacts, logdir)
    fn.path = door
    fn.door = DOOR_OF[door]
    entry = (f"{example.name} through {door} log", fn.logs)
    conftest.RUNNING.append(entry)
    try:
        yield fn
    finally:
        conftest.RUNNING.remove(entry)
        fn.stop()


def read_timed(base_url: str, target: str, headers=()):
    """(Reply, [(seconds since the request, chunk)]) as the chunks arrive."""
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        start = time.monotonic()
        conn.request("GET", target, headers=dict(headers))
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
EVENTS = [f'id: {i}\nevent: tick\ndata: {{"n":{i}}}\n\n'.encode() for i in range(COUNT)]


def test_server_sent_events(direct, through):
    """The same status, headers (two cookies among them) and events through
    every path; through a streaming one (a Web Function endpoint streams
    responses as the app writes them) the first event arrives before the app
    writes the last one."""
    d, _ = read_timed(direct.url, SSE, [("Accept", "text/event-stream")])
    assert d.status == 200, d
    # Express writes JSON without spaces, Python's json.dumps with one:
    # compare the events without them.
    assert d.body.replace(b" ", b"") == b"".join(EVENTS).replace(b" ", b""), d
    assert d.values("content-type") == ["text/event-stream; charset=utf-8"], d
    cookies = d.values("set-cookie")
    assert len(cookies) == 2 and cookies[0].startswith("stream=ticks") and cookies[1].startswith(f"ticks={COUNT}"), d
    t, chunks = read_timed(through.url, SSE, [("Accept", "text/event-stream")])
    assert_same(through.door, d, t)
    first, last = chunks[0][0], chunks[-1][0]
    app_time = (COUNT - 1) * INTERVAL
    if through.path in STREAMING_PATHS:
        assert first < app_time / 2, f"first event after {first:.2f}s: not streamed"
        assert b"id: 3" not in chunks[0][1], f"the first chunk holds the last event: {chunks[0]!r}"
        assert last >= app_time * 0.9, f"all events by {last:.2f}s: the app's pauses were not kept"
    else:
        assert first >= app_time * 0.9, f"first byte after {first:.2f}s from a buffered path"


BLOB_MB = 24


def test_large_download(direct, through):
    """24 MiB written by the app in 64 KiB pieces: every byte arrives, past
    the 6 MB a buffered Lambda result could hold."""
    size = BLOB_MB << 20
    # bytes i % 251, computed here independently of the app.
    want = (bytes(range(251)) * (size // 251 + 1))[:size]
    d = fetch(direct.url, "GET", f"/blob?mb={BLOB_MB}", timeout=120)
    assert d.status == 200 and hashlib.sha256(d.body).digest() == hashlib.sha256(want).digest(), d
    t = fetch(through.url, "GET", f"/blob?mb={BLOB_MB}", timeout=120)
    if through.path in OVERSIZED:
        # A buffered source: the result is over Lambda's 6 MB, so the
        # function fails and the source answers its own error.
        assert t.status == OVERSIZED[through.path], t
        return
    assert_same(through.door, d, t)


def test_web_context(direct, through):
    """What Web Functions tells the app, through a path with its request
    semantics: the request id it returns to the client too, the endpoint's
    name, the client's address appended to X-Forwarded-For; the app listens
    on a loopback AWS_LAMBDA_HTTP_ENDPOINT of its own, initialized
    `native-http`, with no PORT. Run directly, the app gets none of that."""
    sent = [("X-Forwarded-For", "203.0.113.9")]
    d = fetch(direct.url, "GET", "/web-context", sent).json()
    assert d["requestId"] is None and d["endpointName"] is None, d
    assert d["forwardedFor"] == "203.0.113.9", d
    if through.path not in WEB_SEMANTICS:
        pytest.skip(f"{through.path} does not give the app Web Functions' request semantics")
    r = fetch(through.url, "GET", "/web-context", sent)
    assert r.status == 200, r
    t = r.json()
    assert t["requestId"] == r.values("lambda-web-request-id")[0], r
    assert t["endpointName"] == "default", t
    assert t["forwardedFor"] == "203.0.113.9, 127.0.0.1", t
    host, _, port = t["env"]["AWS_LAMBDA_HTTP_ENDPOINT"].rpartition(":")
    assert host == "127.0.0.1" and port.isdigit(), t
    assert t["env"]["AWS_REGION"] == "us-east-1", t
    if through.path in CLASSIC:
        # Classic Lambda: an on-demand function, and the shim exports PORT
        # beside the endpoint, the same port.
        assert t["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand", t
        assert t["env"]["PORT"] == port, t
    else:
        assert t["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] == "native-http", t
        assert t["env"]["PORT"] is None, t


def test_websocket_handshake_is_a_plain_get(through):
    """Web Functions strips Upgrade: a WebSocket handshake reaches the app as
    an ordinary GET and gets its ordinary answer, never 101."""
    if through.path not in WEB_SEMANTICS:
        pytest.skip(f"{through.path} is not a Web Function endpoint")
    handshake = [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ]
    r = fetch(through.url, "GET", "/web-context", handshake)
    assert r.status == 200, r
    assert r.json()["upgrade"] is None, r
