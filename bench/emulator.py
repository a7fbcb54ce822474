"""A minimal Lambda Runtime API and Extensions API, for benchmarks.

Standard library only. It serves, on loopback, with HTTP/1.1 keep-alive and a
thread per connection:

    POST /2020-01-01/extension/register        -> 200, Lambda-Extension-Identifier
    GET  /2020-01-01/extension/event/next      -> blocks until shutdown_extensions()
    POST /2020-01-01/extension/{init,exit}/error, /2018-06-01/runtime/init/error
    GET  /2018-06-01/runtime/invocation/next   -> blocks until an event is queued
    POST /2018-06-01/runtime/invocation/{id}/response | /error -> 202

A streamed response (`Lambda-Runtime-Function-Response-Mode: streaming`,
a chunked body) is read chunk by chunk as it arrives; each chunk is kept with
the monotonic instant its last byte had been read (Invocation.chunks), and
HTTP trailers are kept too, so a benchmark can tell when each part of a
streamed body reached the Runtime API.

Every request is stamped with time.monotonic_ns() (CLOCK_MONOTONIC, the same
clock in every process on the machine) as soon as its request line has been
read, before Python parses its headers, so the stamps carry as little of the
emulator's own overhead as possible. Responses are written with one send
(two for large bodies), bypassing BaseHTTPRequestHandler.send_response.

Use it from Python (bench/run.py does):

    emu = Emulator()                       # listening at emu.address
    inv = emu.invoke(b'{"json": "event"}') # queue an event, wait for the result
    inv.body, inv.kind, inv.sent_ns, inv.arrived_ns
    emu.shutdown_extensions()              # SHUTDOWN to registered extensions
    emu.close()

or by hand: `python3 bench/emulator.py --port 9001` serves until Ctrl-C and
queues each line of standard input as one event.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REGISTER = "/2020-01-01/extension/register"
EXTENSION_NEXT = "/2020-01-01/extension/event/next"
INVOCATION_NEXT = "/2018-06-01/runtime/invocation/next"
INVOCATION_PREFIX = "/2018-06-01/runtime/invocation/"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:portside-bench"
# Bodies up to this size go out in the same send as the headers.
ONE_SEND = 64 * 1024


class Invocation:
    """One queued event and what became of it. Times are monotonic ns."""

    __slots__ = (
        "request_id",
        "payload",
        "enqueued_ns",
        "sent_ns",
        "arrived_ns",
        "done_ns",
        "kind",
        "body",
        "done",
        "headers",
        "chunks",
        "trailers",
        "accepted_ns",
    )

    def __init__(self, request_id: str, payload: bytes):
        self.request_id = request_id
        self.payload = payload
        self.enqueued_ns = 0  # handed to the emulator
        self.sent_ns = 0  # the /next answer carrying it is about to be sent
        self.arrived_ns = 0  # the request line of its /response or /error was read
        self.done_ns = 0  # the result's body was read
        self.kind = ""  # "response" or "error"
        self.body = b""
        self.done = threading.Event()
        # A streamed result only: its request's headers (names in lower case).
        self.headers: dict[str, str] = {}
        # A streamed result only: (monotonic ns when the chunk had been read, its bytes).
        self.chunks: list[tuple[int, bytes]] = []
        self.trailers: dict[str, str] = {}
        # A streamed result only: when the emulator accepted the connection
        # that carried it, if it was that connection's first request (else 0).
        self.accepted_ns = 0


def read_body(headers, rfile) -> bytes:
    """A request body, by Content-Length or chunked (bench/app.py reads its
    requests with this too)."""
    length = headers.get("Content-Length")
    if length is not None:
        return rfile.read(int(length))
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        return b"".join(data for _, data in read_chunked(rfile)[0])
    return b""


def read_chunked(rfile) -> tuple[list[tuple[int, bytes]], dict[str, str]]:
    """Reads a chunked body from a buffered socket file as it arrives: each
    chunk with time.monotonic_ns() taken once its last byte had been read, and
    the trailers (names in lower case). The harness reads the app's chunked
    responses with this same function, so both paths pay the same Python cost."""
    chunks = []
    while True:
        line = rfile.readline()
        if not line:
            raise ConnectionError("the chunked body broke off")
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            break
        data = rfile.read(size)
        chunks.append((time.monotonic_ns(), data))
        if len(data) < size:
            raise ConnectionError("the chunked body broke off inside a chunk")
        rfile.readline()  # the CRLF after the chunk
    trailers = {}
    while True:
        line = rfile.readline()
        if line in (b"\r\n", b"\n", b""):
            return chunks, trailers
        name, _, value = line.decode("latin-1").partition(":")
        trailers[name.strip().lower()] = value.strip()


def read_chunked_sink(rfile, rate: float, sink) -> dict[str, str]:
    """Reads a chunked body at most `rate` bytes per second (0: as fast as it
    comes), in reads of up to 64 KiB, handing each piece to `sink` and keeping
    nothing: a Runtime API that takes a long stream slowly (issue 28's 200 MB
    at 20 MB/s). Returns the trailers."""
    started, total = time.monotonic(), 0
    while True:
        line = rfile.readline()
        if not line:
            raise ConnectionError("the chunked body broke off")
        left = int(line.split(b";", 1)[0].strip(), 16)
        if left == 0:
            break
        while left:
            data = rfile.read(min(left, 65536))
            if not data:
                raise ConnectionError("the chunked body broke off inside a chunk")
            sink(data)
            left -= len(data)
            total += len(data)
            if rate:
                ahead = total / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        rfile.readline()  # the CRLF after the chunk
    trailers = {}
    while True:
        line = rfile.readline()
        if line in (b"\r\n", b"\n", b""):
            return trailers
        name, _, value = line.decode("latin-1").partition(":")
        trailers[name.strip().lower()] = value.strip()


class Emulator:
    """The Runtime and Extensions APIs on 127.0.0.1 (port 0: any free one).

    With `stream_sink` set (a callable), a streamed result is not kept: its
    chunks go to the sink as they are read, at most `stream_rate` bytes per
    second (0: unthrottled), and the invocation's `chunks` stay empty."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.cond = threading.Condition()
        self.pending: collections.deque[Invocation] = collections.deque()
        self.by_id: dict[str, Invocation] = {}
        self.waiting_next = 0  # /next requests blocked right now
        self.next_count = 0
        self.first_next_ns = 0
        # When the connection that carried the first /next was accepted, if it
        # was that connection's first request: the same instant without the
        # emulator's own cost of starting a thread for a new connection.
        self.first_next_accepted_ns = 0
        self.first_next = threading.Event()
        self.registered_ns = 0
        # When the connection that carried the register request was accepted
        # (if it was that connection's first request).
        self.registered_accepted_ns = 0
        self.registered = threading.Event()
        self.stream_sink = None
        self.stream_rate = 0.0
        self.extension_name = ""
        self.init_errors: list[bytes] = []
        self.shutdown = False
        self.closed = False
        self._ids = 0
        self.server = _Server((host, port), _Handler)
        self.server.emulator = self
        self.port = self.server.server_address[1]
        self.address = f"{host}:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    # ---- the benchmark's side ----

    def enqueue(self, payload: bytes) -> Invocation:
        """Queues an event for the next /next; returns its record at once."""
        with self.cond:
            self._ids += 1
            inv = Invocation(f"{self._ids:08d}-{uuid.uuid4().hex[:12]}", payload)
            self.by_id[inv.request_id] = inv
            inv.enqueued_ns = time.monotonic_ns()
            self.pending.append(inv)
            self.cond.notify_all()
        return inv

    def invoke(self, payload: bytes, timeout: float = 30.0) -> Invocation:
        """Queues an event and waits for its result."""
        inv = self.enqueue(payload)
        if not inv.done.wait(timeout):
            raise TimeoutError(f"no result for invocation {inv.request_id} in {timeout} s")
        return inv

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Waits until a /next is blocked here: the adapter has nothing to do."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.waiting_next == 0 or self.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the adapter did not come back to /next")
                self.cond.wait(left)

    def shutdown_extensions(self) -> None:
        """Answers every extension's event/next with SHUTDOWN."""
        with self.cond:
            self.shutdown = True
            self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        self.server.shutdown()
        self.server.server_close()

    # ---- the handler's side ----

    def _next_invocation(self) -> Invocation | None:
        with self.cond:
            self.waiting_next += 1
            self.cond.notify_all()  # wake wait_idle()
            try:
                while not self.pending and not self.closed:
                    self.cond.wait()
                if self.closed:
                    return None
                return self.pending.popleft()
            finally:
                self.waiting_next -= 1

    def _wait_shutdown(self) -> bool:
        with self.cond:
            while not self.shutdown and not self.closed:
                self.cond.wait()
            return self.shutdown and not self.closed


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    emulator: Emulator

    def get_request(self):
        sock, address = super().get_request()
        return sock, (address, time.monotonic_ns())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass

    def setup(self):
        # get_request() passed the accept instant along with the address.
        self.client_address, self.accepted_ns = self.client_address
        self.requests_seen = 0
        super().setup()

    def parse_request(self):
        # The request line has just been read: stamp before parsing headers.
        self.arrived_ns = time.monotonic_ns()
        self.requests_seen += 1
        return super().parse_request()

    def _send(self, status: int, reason: str, body: bytes = b"", headers=()) -> None:
        head = [f"HTTP/1.1 {status} {reason}\r\n"]
        for name, value in headers:
            head.append(f"{name}: {value}\r\n")
        head.append(f"Content-Length: {len(body)}\r\n\r\n")
        head_bytes = "".join(head).encode("latin-1")
        if len(body) <= ONE_SEND:
            self.wfile.write(head_bytes + body)
        else:
            self.wfile.write(head_bytes)
            self.wfile.write(body)

    def _read_body(self) -> bytes:
        return read_body(self.headers, self.rfile)

    def do_GET(self):
        emu = self.server.emulator
        if self.path == INVOCATION_NEXT:
            with emu.cond:
                emu.next_count += 1
                if not emu.first_next_ns:
                    emu.first_next_ns = self.arrived_ns
                    if self.requests_seen == 1:
                        emu.first_next_accepted_ns = self.accepted_ns
                    emu.first_next.set()
            inv = emu._next_invocation()
            if inv is None:
                self.close_connection = True
                return
            deadline_ms = int(time.time() * 1000) + 30_000
            # Stamped before the send: stamping after it could be late by a
            # GIL hand-over, which would flatter the adapter.
            inv.sent_ns = time.monotonic_ns()
            self._send(
                200,
                "OK",
                inv.payload,
                (
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", inv.request_id),
                    ("Lambda-Runtime-Deadline-Ms", deadline_ms),
                    ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN),
                    (
                        "Lambda-Runtime-Trace-Id",
                        "Root=1-5e9f3d2a-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=0",
                    ),
                ),
            )
        elif self.path == EXTENSION_NEXT:
            if not emu._wait_shutdown():
                self.close_connection = True
                return
            body = json.dumps(
                {
                    "eventType": "SHUTDOWN",
                    "shutdownReason": "spindown",
                    "deadlineMs": int(time.time() * 1000) + 2000,
                }
            ).encode()
            self._send(200, "OK", body, (("Content-Type", "application/json"),))
        else:
            self._send(404, "Not Found", b'{"errorMessage":"not found"}')

    def do_POST(self):
        emu = self.server.emulator
        arrived = self.arrived_ns
        path = self.path
        streamed = (
            self.headers.get("Lambda-Runtime-Function-Response-Mode", "").lower() == "streaming"
            and "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        )
        if streamed and emu.stream_sink is not None:
            chunks, body = [], b""
            trailers = read_chunked_sink(self.rfile, emu.stream_rate, emu.stream_sink)
        elif streamed:
            chunks, trailers = read_chunked(self.rfile)
            body = b"".join(data for _, data in chunks)
        else:
            chunks, trailers = [], {}
            body = self._read_body()
        if path.startswith(INVOCATION_PREFIX):
            request_id, _, kind = path[len(INVOCATION_PREFIX) :].partition("/")
            inv = emu.by_id.pop(request_id, None)
            if inv is None or kind not in ("response", "error"):
                self._send(400, "Bad Request", b'{"errorMessage":"unknown invocation"}')
                return
            inv.arrived_ns = arrived
            inv.done_ns = time.monotonic_ns()
            inv.kind = kind
            inv.body = body
            if streamed:
                inv.headers = {k.lower(): v for k, v in self.headers.items()}
                inv.chunks = chunks
                inv.trailers = trailers
                inv.accepted_ns = self.accepted_ns if self.requests_seen == 1 else 0
            self._send(202, "Accepted", b'{"status":"OK"}')
            inv.done.set()
        elif path == REGISTER:
            emu.extension_name = self.headers.get("Lambda-Extension-Name", "")
            emu.registered_ns = arrived
            if self.requests_seen == 1:
                emu.registered_accepted_ns = self.accepted_ns
            body = json.dumps(
                {"functionName": "portside-bench", "functionVersion": "$LATEST", "handler": "x"}
            ).encode()
            self._send(
                200,
                "OK",
                body,
                (
                    ("Content-Type", "application/json"),
                    ("Lambda-Extension-Identifier", str(uuid.uuid4())),
                ),
            )
            emu.registered.set()
        elif path.endswith("/init/error") or path.endswith("/exit/error"):
            emu.init_errors.append(body)
            self._send(202, "Accepted", b'{"status":"OK"}')
        else:
            self._send(404, "Not Found", b'{"errorMessage":"not found"}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9001)
    args = parser.parse_args()
    emu = Emulator(port=args.port)
    print(f"AWS_LAMBDA_RUNTIME_API={emu.address}; one JSON event per line on stdin", flush=True)
    try:
        for line in sys.stdin:
            if line.strip():
                inv = emu.invoke(line.strip().encode(), timeout=60)
                latency_us = (inv.arrived_ns - inv.sent_ns) / 1000
                print(f"{inv.kind} after {latency_us:.0f} us: {inv.body[:200]!r}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        emu.shutdown_extensions()
        time.sleep(0.1)
        emu.close()


if __name__ == "__main__":
    main()
