#!/usr/bin/env python3
"""Benchmarks the portside binary the way AWS Lambda Web Adapter 1.0 was
measured: a Python Runtime API emulator and a Python app on loopback, the
adapter's CPU and memory read from /proc, latency against the direct call to
the app as the floor. See bench/README.md for what each figure means.

    ./build.sh --layer && python3 bench/run.py            # full run (a few minutes)
    python3 bench/run.py --quick                          # smoke run (about a minute)
    python3 bench/run.py --binary PATH --runs N
    python3 bench/run.py --only stream,concurrency,compression

A full run writes its table to bench/RESULTS.md (and the snapshot in
bench/README.md); --quick writes nothing unless --write is given.
Standard library only (Python 3.11+), Linux only (/proc).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import gzip
import json
import math
import os
import platform
import queue
import random
import re
import shlex
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from app import BINARY as APP_BINARY  # noqa: E402
from app import SMALL as APP_SMALL  # noqa: E402
from app import STREAM_BYTE, TEXT  # noqa: E402
from emulator import Emulator, Invocation, read_chunked  # noqa: E402

DEFAULT_BINARY = ROOT / "target/x86_64-unknown-linux-musl/release/portside"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024
# Medians of full runs of one binary move this much between runs (bench/README.md).
NOISE = 0.10
UPLOAD = bytes((i * 7 + 3) & 0xFF for i in range(256)) * (MIB // 256)
# The streamed body: 20 MB (10^6) in 64 KiB chunks; its bytes are app.STREAM_BYTE's pattern.
STREAM_TOTAL = 20_000_000
STREAM_CHUNK = 64 * 1024
STREAM_BODY = (STREAM_BYTE * (STREAM_TOTAL // 256 + 1))[:STREAM_TOTAL]
# Server-Sent Events: the first written right after the head, the others 10-20 ms apart.
SSE_GAP_MS = (10, 20)
# Managed Instances: each invocation's app request sleeps this long.
SLEEP_MS = 100
CONCURRENCY = (1, 2, 4, 8)
# A speed-up at least this share of N counts as "N at once" (the harness's
# threshold: the issue says N run at once and sets no figure).
CONCURRENCY_SHARE = 0.9


# ---------------------------------------------------------------- settings


@dataclass
class Plan:
    """How much to measure. `runs` is the number of adapter processes (each a
    fresh start) per CPU and latency scenario."""

    runs: int
    batches: int  # CPU batches per process and scenario
    small_n: int  # invocations per small batch
    big_n: int  # invocations per 1 MiB batch
    small_warm: int
    big_warm: int
    latency_pairs: int  # per process
    spawn_reps: int
    readiness_reps: int
    sse_invocations: int  # streamed SSE invocations per process (and as many direct reads)
    sse_events: int  # events per SSE response
    bulk_batches: int  # CPU batches of 20 MB streamed bodies per process
    bulk_n: int  # 20 MB invocations per batch
    concurrency_rounds: int  # each round starts one adapter per N
    concurrency_m: int  # invocations queued at once per round and N
    compression_rounds: int  # per process: one batch per coding in each round
    compression_n: int  # 1 MiB invocations per batch

    @staticmethod
    def make(quick: bool, runs: int | None) -> Plan:
        if quick:
            r = runs or 1
            return Plan(r, 2, 400, 30, 50, 5, 300, 6 * r, 8 * r, 4, 8, 1, 2, 1 * r, 8, 2, 5)
        r = runs or 5
        return Plan(r, 4, 2500, 150, 300, 20, 1500, 10 * r, 10 * r, 8, 12, 2, 3, r, 16, 4, 15)


# LWA 1.0 on this machine class (the figures), and portside's targets.
@dataclass
class Figure:
    key: str
    label: str
    unit: str
    lwa: float | None  # None: LWA's figure was not given
    target: float | None  # at most this; None: no target, reported only
    target_note: str
    samples: list[float] = field(default_factory=list)
    extra: str = ""
    higher_is_better: bool = False  # then the target is a floor: at least this
    noise_note: bool = True  # say "within noise" when the median is within NOISE of the target


    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else math.nan

    def p90(self) -> float:
        return percentile(self.samples, 90)


def figures() -> dict[str, Figure]:
    fs = [
        Figure("cpu_small", "adapter CPU per small HTTP API invocation", "µs", 400, 200,
               "≤ ½ LWA"),
        Figure("cpu_binary", "adapter CPU per 1 MiB binary response", "ms", 5.8, 2.9, "≤ ½ LWA"),
        Figure("cpu_upload", "adapter CPU per 1 MiB POST body", "ms", 3.1, 1.55, "≤ ½ LWA"),
        Figure("rss_peak", "peak RSS (VmHWM) after 1 MiB bodies", "MB", 17, 8.5, "≤ ½ LWA"),
        Figure("rss_init", "RSS (VmRSS) after init (first /next)", "MB", 4.2, 2.1, "≤ ½ LWA"),
        Figure("spawn", "spawn → first /next (app already listening)", "ms", 4.5, None,
               "none set"),
        Figure("ready", "app listening → first /next", "ms", 8.4, 1.0, "≤ 1 ms"),
        Figure("ready_noticed", "app listening → readiness check accepted by the app", "ms",
               None, 1.0, "≤ 1 ms"),
        Figure("latency", "adapter-added latency (small GET)", "µs", 325, None, "none set"),
        Figure("size", "release binary size", "MiB", 3.10, 1.5, "≤ 1.5 MiB, static"),
        # Issue 5: streaming, Managed Instances, compression. LWA's figures were not given.
        Figure("sse_first", "streaming: first SSE event (written with the head) → Runtime API",
               "µs", None, 1000, "≤ 1 ms"),
        Figure("sse_later", "streaming: later SSE events (10–20 ms apart) → Runtime API",
               "µs", None, 1000, "≤ 1 ms"),
        Figure("stream_rate", "streaming: 20 MB body, app head → last byte at the Runtime API",
               "MB/s", None, None, "none set", higher_is_better=True),
        Figure("stream_cpu", "streaming: adapter CPU per MiB streamed", "ms/MiB", None, None,
               "none set"),
        *(
            Figure(f"speedup_{n}", f"Managed Instances: speed-up, N = {n} ({SLEEP_MS} ms app)",
                   "×", None, CONCURRENCY_SHARE * n, f"{n}× (≥ {CONCURRENCY_SHARE * n:g}×)",
                   higher_is_better=True, noise_note=False)
            for n in CONCURRENCY[1:]
        ),
        Figure("compress_br", "compression: extra adapter CPU per MiB, brotli", "ms/MiB", None,
               None, "none set"),
        Figure("compress_gzip", "compression: extra adapter CPU per MiB, gzip", "ms/MiB", None,
               None, "none set"),
    ]
    return {f.key: f for f in fs}


# ---------------------------------------------------------------- /proc


def cpu_ticks(pid: int) -> tuple[int, int, int]:
    """utime and stime (clock ticks) and minor page faults of the whole
    process (every thread)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return int(fields[11]), int(fields[12]), int(fields[7])  # fields 14, 15 and 10 of proc(5)


def context_switches(pid: int) -> int:
    """Voluntary and involuntary context switches of the main thread (the
    one that runs the adapter's event loop)."""
    total = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split(":", 1)[1])
    return total


def thread_cpu_ns(pid: int) -> dict[int, int]:
    """CPU time of each live thread in ns (schedstat), a finer cross-check."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as f:
                out[int(tid)] = int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            pass
    return out


def cpu_ns_delta(before: dict[int, int], after: dict[int, int]) -> int:
    # Threads that exited in between are lost (only idle helper threads do).
    return sum(ns - before.get(tid, 0) for tid, ns in after.items())


def memory_kb(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value = line.split(":", 1)
                out[name] = int(value.split()[0])
    return out


def kb_to_mb(kb: float) -> float:
    return kb * 1024 / 1e6


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """bench/app.py in its own process."""

    def __init__(self, port: int):
        self.port = port
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "app.py"), "--port", str(port)],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        # A thread reads the app's lines: select() on the pipe would miss a
        # line already taken into Python's buffer along with an earlier one.
        self.lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.reader = threading.Thread(target=self._read_lines, daemon=True)
        self.reader.start()
        line = self.read_line(30.0).split()
        if len(line) != 3 or line[0] != "listening":
            self.stop()
            raise RuntimeError(f"the app did not start on port {port}: {line!r}")
        self.listening_ns = int(line[2])

    def _read_lines(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")

    def read_line(self, timeout: float) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.reader.join(5)  # it ends at the pipe's end of file
        if not self.reader.is_alive():
            self.proc.stdout.close()


class Adapter:
    """The adapter under test, with the environment Lambda gives an extension."""

    def __init__(
        self,
        binary: Path,
        emu: Emulator,
        port: int,
        log_dir: Path,
        wrapper: list[str] = (),
        extra_env: dict[str, str] | None = None,
    ):
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PORTSIDE_", "AWS_", "READINESS_")) and k not in ("PORT", "HOST")
        }
        env.update(
            AWS_LAMBDA_RUNTIME_API=emu.address,
            AWS_LAMBDA_FUNCTION_NAME="portside-bench",
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
            AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
            AWS_REGION="us-east-1",
            PORT=str(port),
        )
        env.update(extra_env or {})
        self.emu = emu
        self.log_path = log_dir / f"adapter-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "wb")
        self.spawn_ns = time.monotonic_ns()
        self.proc = subprocess.Popen(
            [*wrapper, str(binary)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
        )
        self.pid = self.proc.pid

    def wait_first_next(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.emu.first_next.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(self.failure("never asked for an invocation"))

    def failure(self, what: str) -> str:
        self.log.flush()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        status = self.proc.poll()
        state = f"exited with {status}" if status is not None else "still running"
        return f"the adapter {what} ({state}); its log ends:\n{tail}"

    def invoke(self, payload: bytes, timeout: float = 30.0) -> Invocation:
        try:
            return self.emu.invoke(payload, timeout)
        except TimeoutError:
            raise RuntimeError(self.failure("gave no result")) from None

    def stop(self) -> None:
        self.emu.shutdown_extensions()
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------- events

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
DOMAIN = "r3pmxmplak.execute-api.us-east-1.amazonaws.com"
COOKIES = ["session=9f3c2a7e1b5d4c8a", "theme=dark"]


def client_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    """What a browser's request looks like once API Gateway has added its headers."""
    headers = {
        "accept": "application/json, text/plain, */*",
        "accept-encoding": "gzip, deflate, br",
        "accept-language": "en-GB,en;q=0.9",
        "host": DOMAIN,
        "user-agent": USER_AGENT,
        "x-amzn-trace-id": "Root=1-6650f3a2-2b7e9a4c1d0f5e6a7b8c9d0e",
        "x-forwarded-for": "203.0.113.17",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    headers.update(extra or {})
    return {k: v for k, v in headers.items() if v is not None}  # None: leave it out


def http_api_event(
    method: str,
    path: str,
    query: str = "",
    headers: dict[str, str | None] | None = None,
    body: bytes | None = None,
    domain: str = DOMAIN,
) -> bytes:
    """An API Gateway HTTP API (payload 2.0) event, as Lambda delivers it; on a
    `lambda-url` domain, the same schema is a Function URL's event."""
    now = time.time()
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "cookies": COOKIES,
        "headers": client_headers({"host": domain, **(headers or {})}),
        "requestContext": {
            "accountId": "123456789012",
            "apiId": domain.split(".", 1)[0],
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.17",
                "userAgent": USER_AGENT,
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": body is not None,
    }
    if query:
        event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&"))
    if body is not None:
        event["body"] = base64.b64encode(body).decode()
    return json.dumps(event).encode()


SMALL_QUERY = "lang=en&page=1"
SMALL_EVENT = http_api_event("GET", "/small", SMALL_QUERY)
BINARY_EVENT = http_api_event("GET", "/binary-1mib")
UPLOAD_EVENT = http_api_event(
    "POST",
    "/upload",
    headers={"content-type": "application/octet-stream", "content-length": str(MIB)},
    body=UPLOAD,
)
# A Function URL's own domain: the adapter streams only these (PORTSIDE_INVOKE_MODE=response_stream).
FUNCTION_URL_DOMAIN = "x7k2mvq9pl3hzt4wnb5rcd8yfe0gsa6j.lambda-url.us-east-1.on.aws"
STREAM_QUERY = f"bytes={STREAM_TOTAL}&chunk={STREAM_CHUNK}"
STREAM_EVENT = http_api_event("GET", "/stream", STREAM_QUERY, domain=FUNCTION_URL_DOMAIN)
SLEEP_EVENT = http_api_event("GET", "/sleep", f"ms={SLEEP_MS}")
# The same 1 MiB JSON text asked for without Accept-Encoding, with brotli, with gzip.
CODINGS = ("identity", "br", "gzip")
TEXT_EVENTS = {
    coding: http_api_event(
        "GET", "/text-1mib", headers={"accept-encoding": None if coding == "identity" else coding}
    )
    for coding in CODINGS
}
STREAMING_ENV = {"PORTSIDE_INVOKE_MODE": "response_stream"}
HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response"


def sse_query(events: int, seed: int) -> str:
    return f"n={events}&gap={SSE_GAP_MS[0]}-{SSE_GAP_MS[1]}&first=0&seed={seed}"


def sse_event(events: int, seed: int) -> bytes:
    return http_api_event(
        "GET", "/sse", sse_query(events, seed), headers={"accept": "text/event-stream"},
        domain=FUNCTION_URL_DOMAIN,
    )


def direct_request(path: str) -> bytes:
    """The request the small event describes, as a client would send it to the app."""
    lines = [f"GET {path}?{SMALL_QUERY} HTTP/1.1"]
    lines += [f"{k}: {v}" for k, v in client_headers().items()]
    lines.append("cookie: " + "; ".join(COOKIES))
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def result_of(inv: Invocation) -> dict:
    if inv.kind != "response":
        raise RuntimeError(f"invocation failed: {inv.kind}: {inv.body[:500]!r}")
    return json.loads(inv.body)


def check_small(inv: Invocation) -> None:
    r = result_of(inv)
    if r.get("statusCode") != 200 or r.get("body", "").encode() != APP_SMALL:
        raise RuntimeError(f"unexpected small result: {inv.body[:500]!r}")


def check_binary(inv: Invocation) -> None:
    r = result_of(inv)
    if (
        r.get("statusCode") != 200
        or r.get("isBase64Encoded") is not True
        or base64.b64decode(r["body"]) != APP_BINARY
    ):
        raise RuntimeError(f"unexpected binary result: {inv.body[:300]!r}")


def check_upload(inv: Invocation) -> None:
    r = result_of(inv)
    if r.get("statusCode") != 200 or json.loads(r["body"]) != {"received": MIB}:
        raise RuntimeError(f"unexpected upload result: {inv.body[:500]!r}")


def streamed_parts(inv: Invocation) -> tuple[dict, int, list[tuple[int, bytes]]]:
    """A streamed result: its prelude (JSON), when the emulator had read the
    prelude's end, and the body's chunks as (read instant, bytes)."""
    if inv.kind != "response" or not inv.chunks:
        raise RuntimeError(f"not a streamed response: {inv.kind}: {inv.body[:300]!r}")
    if inv.headers.get("content-type") != HTTP_INTEGRATION or inv.trailers:
        raise RuntimeError(f"unexpected streamed response: {inv.headers} {inv.trailers}")
    head, body, prelude_ns = b"", [], 0
    for ns, data in inv.chunks:
        if prelude_ns:
            body.append((ns, data))
            continue
        head += data
        if b"\0" * 8 in head:
            head, _, rest = head.partition(b"\0" * 8)
            prelude_ns = ns
            if rest:
                body.append((ns, rest))
    prelude = json.loads(head)
    if prelude.get("statusCode") != 200:
        raise RuntimeError(f"unexpected prelude: {prelude}")
    prelude["headers"] = {k.lower(): v for k, v in prelude.get("headers", {}).items()}
    return prelude, prelude_ns, body


def sse_arrivals(chunks: list[tuple[int, bytes]]) -> list[tuple[int, int, int]]:
    """(seq, written by the app, read by the reader) of every event in a chunked
    SSE body: an event counts as read with the chunk that completed it."""
    out, buf = [], b""
    for ns, data in chunks:
        buf += data
        while b"\n\n" in buf:
            event, _, buf = buf.partition(b"\n\n")
            line = next(x for x in event.split(b"\n") if x.startswith(b"data: "))
            data_json = json.loads(line[6:])
            out.append((data_json["seq"], data_json["t"], ns))
    return out


def check_text(coding: str, inv: Invocation) -> int:
    """Checks a /text-1mib result; returns the size of the body the client gets."""
    r = result_of(inv)
    headers = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
    encoding = headers.get("content-encoding", "identity")
    if r.get("statusCode") != 200 or encoding != coding:
        raise RuntimeError(f"unexpected {coding} result: {inv.body[:300]!r}")
    if coding == "identity":
        if r.get("isBase64Encoded") or r["body"].encode() != TEXT:
            raise RuntimeError("the uncompressed text came back changed")
        return len(TEXT)
    body = base64.b64decode(r["body"])
    # The standard library has no brotli decoder: portside's tests decode its
    # brotli with an independent one (brotli-decompressor); here the size is checked.
    if (coding == "gzip" and gzip.decompress(body) != TEXT) or len(body) >= len(TEXT) // 2:
        raise RuntimeError(f"the {coding} body does not decode to the text, or barely shrank")
    return len(body)


class ChunkedClient:
    """A keep-alive client that reads the app's chunked responses straight,
    with the emulator's chunk reader: the floor of the streaming figures."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb")  # buffered, like http.server's rfile

    def get(self, path: str) -> tuple[dict[str, str], list[tuple[int, bytes]]]:
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".encode())
        status = self.rfile.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"the app answered {status!r}")
        headers = {}
        while (line := self.rfile.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return headers, read_chunked(self.rfile)[0]

    def close(self) -> None:
        self.rfile.close()
        self.sock.close()


class RawClient:
    """A lean keep-alive HTTP/1.1 client: the floor of the latency figure."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(self, data: bytes) -> bytes:
        self.sock.sendall(data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("the app closed the connection")
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head).group(1))
        while len(body) < length:
            body += self.sock.recv(65536)
        return body

    def close(self) -> None:
        self.sock.close()


# ---------------------------------------------------------------- statistics


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- measurements


def measure_cpu(plan: Plan, binary: Path, log_dir: Path, figs: dict[str, Figure], raw: dict):
    """CPU per invocation (three scenarios, one adapter process per run) and
    peak RSS after the 1 MiB scenarios."""
    scenarios = [
        ("cpu_small", SMALL_EVENT, plan.small_n, plan.small_warm, check_small, 1e6, "µs"),
        ("cpu_binary", BINARY_EVENT, plan.big_n, plan.big_warm, check_binary, 1e3, "ms"),
        ("cpu_upload", UPLOAD_EVENT, plan.big_n, plan.big_warm, check_upload, 1e3, "ms"),
    ]
    port = free_port()
    app = App(port)
    try:
        for run in range(plan.runs):
            emu = Emulator()
            adapter = Adapter(binary, emu, port, log_dir)
            try:
                adapter.wait_first_next()
                for key, payload, n, warm, check, scale, unit in scenarios:
                    inv = None
                    for _ in range(warm):
                        inv = adapter.invoke(payload)
                    check(inv)
                    for batch in range(plan.batches):
                        emu.wait_idle()
                        (u0, s0, f0), ns0 = cpu_ticks(adapter.pid), thread_cpu_ns(adapter.pid)
                        cs0 = context_switches(adapter.pid)
                        for _ in range(n):
                            inv = adapter.invoke(payload)
                        emu.wait_idle()  # back at /next: this batch's work is all done
                        (u1, s1, f1), ns1 = cpu_ticks(adapter.pid), thread_cpu_ns(adapter.pid)
                        cs1 = context_switches(adapter.pid)
                        check(inv)
                        ticks0, ticks1 = u0 + s0, u1 + s1
                        raw.setdefault(key + "_user_ticks", []).append(u1 - u0)
                        raw.setdefault(key + "_sys_ticks", []).append(s1 - s0)
                        raw.setdefault(key + "_faults", []).append((f1 - f0) / n)
                        raw.setdefault(key + "_switches", []).append((cs1 - cs0) / n)
                        per_call = (ticks1 - ticks0) / CLK_TCK / n * scale
                        per_call_ns = cpu_ns_delta(ns0, ns1) / 1e9 / n * scale
                        figs[key].samples.append(per_call)
                        raw.setdefault(key + "_schedstat", []).append(per_call_ns)
                        raw.setdefault(key + "_ticks", []).append(ticks1 - ticks0)
                        say(
                            f"  run {run + 1} {key} batch {batch + 1}: {per_call:.3g} {unit}"
                            f" per invocation ({ticks1 - ticks0} ticks over {n};"
                            f" schedstat {per_call_ns:.3g} {unit})"
                        )
                    mem = memory_kb(adapter.pid)
                    raw.setdefault(key + "_hwm_mb", []).append(kb_to_mb(mem["VmHWM"]))
                    raw.setdefault(key + "_rss_mb", []).append(kb_to_mb(mem["VmRSS"]))
                figs["rss_peak"].samples.append(raw["cpu_upload_hwm_mb"][-1])
                say(
                    f"  run {run + 1}: VmHWM {raw['cpu_small_hwm_mb'][-1]:.2f} MB after small,"
                    f" {raw['cpu_binary_hwm_mb'][-1]:.2f} after binary,"
                    f" {raw['cpu_upload_hwm_mb'][-1]:.2f} after upload;"
                    f" VmRSS at the end {raw['cpu_upload_rss_mb'][-1]:.2f} MB"
                )
            finally:
                adapter.stop()
                emu.close()
    finally:
        app.stop()


def measure_latency(plan: Plan, binary: Path, log_dir: Path, figs: dict[str, Figure], raw: dict):
    """Adapter-added latency: through the emulator and adapter minus the direct
    call to the app, paired and back to back."""
    port = free_port()
    app = App(port)
    request = direct_request("/small")
    through, direct, e2e, diffs = [], [], [], []
    try:
        for run in range(plan.runs):
            emu = Emulator()
            adapter = Adapter(binary, emu, port, log_dir)
            client = RawClient(port)
            try:
                adapter.wait_first_next()
                for _ in range(plan.small_warm):
                    inv = adapter.invoke(SMALL_EVENT)
                    client.request(request)
                check_small(inv)
                if client.request(request) != APP_SMALL:
                    raise RuntimeError("the direct call answered something else")
                run_diffs = []
                for i in range(plan.latency_pairs):
                    # Alternate the order so neither side always runs second.
                    for side in ("direct", "through") if i % 2 else ("through", "direct"):
                        emu.wait_idle()
                        if side == "direct":
                            t0 = time.monotonic_ns()
                            client.request(request)
                            d = (time.monotonic_ns() - t0) / 1e3
                        else:
                            inv = adapter.invoke(SMALL_EVENT)
                            t = (inv.arrived_ns - inv.sent_ns) / 1e3
                            e = (inv.done_ns - inv.enqueued_ns) / 1e3
                    if inv.kind != "response" or inv.sent_ns == 0 or t <= 0:
                        continue  # a stamp was missed: drop the pair
                    through.append(t)
                    direct.append(d)
                    e2e.append(e)
                    run_diffs.append(t - d)
                diffs.extend(run_diffs)
                figs["latency"].samples.append(statistics.median(run_diffs))
                say(
                    f"  run {run + 1}: adapter-added {statistics.median(run_diffs):.0f} µs median"
                    f" (p90 {percentile(run_diffs, 90):.0f}) over {len(run_diffs)} pairs"
                )
            finally:
                client.close()
                adapter.stop()
                emu.close()
    finally:
        app.stop()
    raw["latency_pairs"] = diffs
    raw["latency_through_us"] = through
    raw["latency_direct_us"] = direct
    raw["latency_e2e_us"] = e2e


def measure_spawn(plan: Plan, binary: Path, log_dir: Path, figs: dict[str, Figure], raw: dict):
    """Spawn to first /next with the app already listening, and RSS then."""
    port = free_port()
    app = App(port)
    try:
        for rep in range(plan.spawn_reps):
            emu = Emulator()
            adapter = Adapter(binary, emu, port, log_dir)  # stamps spawn_ns just before Popen
            try:
                adapter.wait_first_next()
                mem = memory_kb(adapter.pid)
                figs["spawn"].samples.append((emu.first_next_ns - adapter.spawn_ns) / 1e6)
                raw.setdefault("spawn_register_ms", []).append(
                    (emu.registered_ns - adapter.spawn_ns) / 1e6
                )
                if emu.first_next_accepted_ns:
                    raw.setdefault("spawn_accepted_ms", []).append(
                        (emu.first_next_accepted_ns - adapter.spawn_ns) / 1e6
                    )
                figs["rss_init"].samples.append(kb_to_mb(mem["VmRSS"]))
                raw.setdefault("init_hwm_mb", []).append(kb_to_mb(mem["VmHWM"]))
            finally:
                adapter.stop()
                emu.close()
            time.sleep(0.02)
    finally:
        app.stop()
    s = figs["spawn"].samples
    say(f"  spawn → first /next: median {statistics.median(s):.2f} ms over {len(s)}")


def measure_readiness(
    plan: Plan, binary: Path, log_dir: Path, figs: dict[str, Figure], raw: dict
):
    """The adapter first, the app after a short random delay; the app's listen
    instant to the adapter's first /next."""
    rng = random.Random(20260101)
    for rep in range(plan.readiness_reps):
        port = free_port()
        emu = Emulator()
        adapter = Adapter(binary, emu, port, log_dir)
        app = None
        try:
            if not emu.registered.wait(10):
                raise RuntimeError(adapter.failure("did not register"))
            time.sleep(rng.uniform(0.002, 0.030))
            app = App(port)
            adapter.wait_first_next()
            figs["ready"].samples.append((emu.first_next_ns - app.listening_ns) / 1e6)
            if emu.first_next_accepted_ns:
                raw.setdefault("ready_accepted_ms", []).append(
                    (emu.first_next_accepted_ns - app.listening_ns) / 1e6
                )
            line = app.read_line(2.0).split()
            if len(line) == 4 and line[0] == "readiness":
                accepted, request, answered = map(int, line[1:])
                figs["ready_noticed"].samples.append((accepted - app.listening_ns) / 1e6)
                raw.setdefault("ready_answer_ms", []).append((answered - accepted) / 1e6)
                raw.setdefault("ready_after_ms", []).append((emu.first_next_ns - answered) / 1e6)
        finally:
            adapter.stop()
            if app:
                app.stop()
            emu.close()
    s = figs["ready"].samples
    say(f"  app listening → first /next: median {statistics.median(s):.2f} ms over {len(s)}")


def wait_pollers(emu: Emulator, n: int, adapter: Adapter, timeout: float = 10.0) -> None:
    """Waits until n /next requests are blocked: every poller is idle."""
    deadline = time.monotonic() + timeout
    with emu.cond:
        while emu.waiting_next < n or emu.pending:
            if time.monotonic() > deadline:
                raise RuntimeError(adapter.failure(f"did not come back with {n} pollers"))
            emu.cond.wait(0.1)


def cpu_snapshot(pid: int) -> tuple[int, dict[int, int]]:
    u, s, _ = cpu_ticks(pid)
    return u + s, thread_cpu_ns(pid)


def cpu_since(pid: int, before: tuple[int, dict[int, int]]) -> tuple[float, float]:
    """Adapter CPU since `before`: (schedstat ns of every thread, /proc/PID/stat
    ticks in ns). Short batches cover a few ticks only, so the new scenarios
    use schedstat and keep the ticks as a cross-check."""
    ticks, ns = cpu_snapshot(pid)
    return cpu_ns_delta(before[1], ns), (ticks - before[0]) / CLK_TCK * 1e9


def measure_stream(plan: Plan, binary: Path, log_dir: Path, figs: dict[str, Figure], raw: dict):
    """Response streaming of Function URL responses: how long a Server-Sent
    Event takes from the app's write to the Runtime API (and, as the floor,
    to a direct reader), the rate of a 20 MB streamed body, and the adapter's
    CPU per MiB streamed."""
    port = free_port()
    app = App(port)
    seed = 0
    try:
        for run in range(plan.runs):
            emu = Emulator()
            adapter = Adapter(binary, emu, port, log_dir, extra_env=STREAMING_ENV)
            direct = ChunkedClient(port)
            try:
                adapter.wait_first_next()
                for _ in range(2):  # warm-up: connections, buffers
                    streamed_parts(adapter.invoke(sse_event(3, 0)))
                    direct.get(f"/sse?{sse_query(3, 0)}")
                run_later = []
                for i in range(plan.sse_invocations):
                    seed += 1
                    # Alternate which path goes first; the same seed gives both the same gaps.
                    for side in ("direct", "through") if i % 2 else ("through", "direct"):
                        if side == "through":
                            emu.wait_idle()
                            inv = adapter.invoke(sse_event(plan.sse_events, seed))
                            prelude, prelude_ns, body = streamed_parts(inv)
                            head_ns = int(prelude["headers"]["x-head-ns"])
                            raw.setdefault("sse_prelude_us", []).append((prelude_ns - head_ns) / 1e3)
                            raw.setdefault("sse_next_to_prelude_us", []).append(
                                (prelude_ns - inv.sent_ns) / 1e3
                            )
                            if inv.accepted_ns:  # the result came on a new connection
                                raw.setdefault("sse_head_to_accept_us", []).append(
                                    (inv.accepted_ns - head_ns) / 1e3
                                )
                                raw.setdefault("sse_accept_to_prelude_us", []).append(
                                    (prelude_ns - inv.accepted_ns) / 1e3
                                )
                        else:
                            headers, body = direct.get(f"/sse?{sse_query(plan.sse_events, seed)}")
                        events = sse_arrivals(body)
                        if [e[0] for e in events] != list(range(plan.sse_events)):
                            raise RuntimeError(f"SSE events lost or reordered ({side}): {events}")
                        delays = [(arrived - written) / 1e3 for _, written, arrived in events]
                        if side == "through":
                            figs["sse_first"].samples.append(delays[0])
                            figs["sse_later"].samples.extend(delays[1:])
                            run_later.extend(delays[1:])
                            raw.setdefault("sse_chunks_per_event", []).append(
                                len(body) / plan.sse_events
                            )
                        else:
                            raw.setdefault("sse_direct_first_us", []).append(delays[0])
                            raw.setdefault("sse_direct_later_us", []).extend(delays[1:])
                say(
                    f"  run {run + 1} SSE: later events {statistics.median(run_later):.0f} µs median"
                    f" (p90 {percentile(run_later, 90):.0f}) over {len(run_later)};"
                    f" first events {[round(x) for x in figs['sse_first'].samples[-plan.sse_invocations:]]} µs"
                )

                # 20 MB bodies: the rate through the adapter, and straight from the app.
                inv = adapter.invoke(STREAM_EVENT)
                if b"".join(d for _, d in streamed_parts(inv)[2]) != STREAM_BODY:
                    raise RuntimeError("the streamed 20 MB body came back changed")
                for batch in range(plan.bulk_batches):
                    emu.wait_idle()
                    before = cpu_snapshot(adapter.pid)
                    for _ in range(plan.bulk_n):
                        inv = adapter.invoke(STREAM_EVENT, timeout=60)
                        prelude, prelude_ns, body = streamed_parts(inv)
                        head_ns = int(prelude["headers"]["x-head-ns"])
                        if sum(len(d) for _, d in body) != STREAM_TOTAL:
                            raise RuntimeError("a streamed 20 MB body came back short")
                        figs["stream_rate"].samples.append(STREAM_TOTAL * 1e3 / (body[-1][0] - head_ns))
                        raw.setdefault("stream_chunk_sizes", []).extend(len(d) for _, d in body)
                    emu.wait_idle()
                    cpu_ns, tick_ns = cpu_since(adapter.pid, before)
                    mib = plan.bulk_n * STREAM_TOTAL / MIB
                    figs["stream_cpu"].samples.append(cpu_ns / 1e6 / mib)
                    raw.setdefault("stream_cpu_ticks", []).append(tick_ns / 1e6 / mib)
                    headers, chunks = direct.get(f"/stream?{STREAM_QUERY}")
                    raw.setdefault("stream_direct_rate", []).append(
                        STREAM_TOTAL * 1e3 / (chunks[-1][0] - int(headers["x-head-ns"]))
                    )
                raw.setdefault("stream_hwm_mb", []).append(kb_to_mb(memory_kb(adapter.pid)["VmHWM"]))
                say(
                    f"  run {run + 1} 20 MB: {statistics.median(figs['stream_rate'].samples[-plan.bulk_batches * plan.bulk_n:]):.0f} MB/s"
                    f" (direct {raw['stream_direct_rate'][-1]:.0f}),"
                    f" {figs['stream_cpu'].samples[-1]:.3f} ms CPU per MiB"
                )
            finally:
                direct.close()
                adapter.stop()
                emu.close()
    finally:
        app.stop()


def measure_concurrency(plan: Plan, binary: Path, log_dir: Path, figs: dict[str, Figure], raw: dict):
    """Lambda Managed Instances: M invocations queued at once, each a request
    the app answers after SLEEP_MS; wall time with AWS_LAMBDA_MAX_CONCURRENCY
    = N against N = 1 (unset), one fresh adapter per N and round."""
    port = free_port()
    app = App(port)
    m = plan.concurrency_m
    client = RawClient(port)
    sleep_request = f"GET /sleep?ms={SLEEP_MS} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".encode()
    try:
        for rnd in range(plan.concurrency_rounds):
            # The floor: the app's own answer to one /sleep, asked directly.
            for _ in range(3):
                t0 = time.monotonic_ns()
                client.request(sleep_request)
                raw.setdefault("concurrency_direct_ms", []).append((time.monotonic_ns() - t0) / 1e6)
            walls = {}
            order = CONCURRENCY[rnd % len(CONCURRENCY):] + CONCURRENCY[: rnd % len(CONCURRENCY)]
            for n in order:
                emu = Emulator()
                env = {"AWS_LAMBDA_MAX_CONCURRENCY": str(n)} if n > 1 else {}
                adapter = Adapter(binary, emu, port, log_dir, extra_env=env)
                try:
                    adapter.wait_first_next()
                    # Warm-up: n at once, so every poller and app connection exists.
                    for inv in [emu.enqueue(SLEEP_EVENT) for _ in range(n)]:
                        if not inv.done.wait(30):
                            raise RuntimeError(adapter.failure("gave no result"))
                        check_small(inv)
                    wait_pollers(emu, n, adapter)
                    invs = [emu.enqueue(SLEEP_EVENT) for _ in range(m)]
                    for inv in invs:
                        if not inv.done.wait(60):
                            raise RuntimeError(adapter.failure("gave no result"))
                        check_small(inv)
                    wall = (max(i.done_ns for i in invs) - invs[0].enqueued_ns) / 1e6
                    walls[n] = wall
                    # The most invocations in the app at once, from the emulator's stamps.
                    edges = sorted([(i.sent_ns, 1) for i in invs] + [(i.arrived_ns, -1) for i in invs])
                    level = peak = 0
                    for _, step in edges:
                        level += step
                        peak = max(peak, level)
                    raw.setdefault(f"concurrency_wall_{n}", []).append(wall)
                    raw.setdefault(f"concurrency_peak_{n}", []).append(peak)
                    # Each wave of n costs SLEEP_MS at best: what is left is overhead.
                    ideal = math.ceil(m / n) * SLEEP_MS
                    raw.setdefault(f"concurrency_over_{n}", []).append(wall - ideal)
                finally:
                    adapter.stop()
                    emu.close()
            for n in CONCURRENCY[1:]:
                figs[f"speedup_{n}"].samples.append(walls[1] / walls[n])
            say(
                f"  round {rnd + 1}: {m} invocations in "
                + ", ".join(f"{walls[n]:.0f} ms (N={n})" for n in CONCURRENCY)
                + "; peaks "
                + ", ".join(str(raw[f"concurrency_peak_{n}"][-1]) for n in CONCURRENCY)
            )
    finally:
        client.close()
        app.stop()


def measure_compression(
    plan: Plan, binary: Path, log_dir: Path, figs: dict[str, Figure], raw: dict
):
    """PORTSIDE_ENABLE_COMPRESSION: adapter CPU per invocation for 1 MiB of
    JSON text asked for with Accept-Encoding br, gzip, and none, in batches
    interleaved in one process; the extra over none, per MiB of input."""
    port = free_port()
    app = App(port)
    n = plan.compression_n
    try:
        for run in range(plan.runs):
            emu = Emulator()
            adapter = Adapter(
                binary, emu, port, log_dir, extra_env={"PORTSIDE_ENABLE_COMPRESSION": "true"}
            )
            try:
                adapter.wait_first_next()
                for coding in CODINGS:
                    for _ in range(3):
                        inv = adapter.invoke(TEXT_EVENTS[coding])
                    check_text(coding, inv)
                for rnd in range(plan.compression_rounds):
                    cpu = {}
                    k = (run + rnd) % len(CODINGS)
                    for coding in CODINGS[k:] + CODINGS[:k]:  # each coding first in turn
                        emu.wait_idle()
                        before = cpu_snapshot(adapter.pid)
                        for _ in range(n):
                            inv = adapter.invoke(TEXT_EVENTS[coding])
                        emu.wait_idle()
                        cpu_ns, tick_ns = cpu_since(adapter.pid, before)
                        size = check_text(coding, inv)
                        cpu[coding] = cpu_ns / n / 1e6  # ms per invocation
                        raw.setdefault(f"compress_cpu_{coding}", []).append(cpu[coding])
                        raw.setdefault(f"compress_ticks_{coding}", []).append(tick_ns / n / 1e6)
                        raw.setdefault(f"compress_size_{coding}", []).append(size)
                    for coding in ("br", "gzip"):
                        key = "compress_br" if coding == "br" else "compress_gzip"
                        figs[key].samples.append((cpu[coding] - cpu["identity"]) / (len(TEXT) / MIB))
                    say(
                        f"  run {run + 1} round {rnd + 1}: per 1 MiB invocation "
                        + ", ".join(f"{c} {cpu[c]:.2f} ms" for c in CODINGS)
                    )
                raw.setdefault("compress_hwm_mb", []).append(kb_to_mb(memory_kb(adapter.pid)["VmHWM"]))
            finally:
                adapter.stop()
                emu.close()
    finally:
        app.stop()


def elf_facts(path: Path) -> dict:
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return {"elf": False}
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    types = [struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)]
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    section_types = [
        struct.unpack_from("<I", data, shoff + i * shentsize + 4)[0] for i in range(shnum)
    ] if shoff else []
    return {
        "elf": True,
        "static": 3 not in types,  # no PT_INTERP: no dynamic loader
        "pie": 2 in types,  # PT_DYNAMIC in a static binary: static-pie
        "stripped": 2 not in section_types,  # no SHT_SYMTAB
    }


# ---------------------------------------------------------------- report


def fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "—"
    if unit == "µs":
        return f"{value:.0f} µs"
    if unit == "×":
        return f"{value:.2f}×"
    if unit == "MB/s":
        return f"{value:.0f} MB/s"
    if unit == "ms/MiB":
        return f"{value:.3g} ms/MiB"
    if unit in ("ms", "MB") and value < 10:
        return f"{value:.2f} {unit}"
    return f"{value:.1f} {unit}" if unit != "MiB" else f"{value:.2f} {unit}"


def table(figs: dict[str, Figure], static: bool) -> list[str]:
    rows = [
        "| figure | portside median | p90 | n | LWA 1.0 | portside / LWA | target | verdict |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for f in figs.values():
        med = f.median()
        ratio = f"{med / f.lwa:.2f}×" if f.lwa else "—"
        lwa = fmt(f.lwa, f.unit) if f.lwa else "not given"
        if not f.samples:
            verdict = "not run"
        elif f.target is None:
            verdict = "n/a (no target)"
        else:
            ok = (med >= f.target if f.higher_is_better else med <= f.target) and (
                f.key != "size" or static
            )
            verdict = "**pass**" if ok else "**FAIL**"
            if f.key != "size" and f.noise_note and abs(med - f.target) <= NOISE * f.target:
                verdict += " (within noise of the target)"
        p90 = "—" if f.key == "size" else fmt(f.p90(), f.unit)
        n = "1" if f.key == "size" else str(len(f.samples))
        rows.append(
            f"| {f.label} | {fmt(med, f.unit)} | {p90} | {n} | {lwa} |"
            f" {ratio} | {f.target_note} | {verdict} |"
        )
    return rows


def details(raw: dict, figs: dict[str, Figure], plan: Plan) -> list[str]:
    def stats(values, unit, digits=3):
        if not values:
            return "—"
        unit = f" {unit}" if unit else ""
        return (
            f"median {statistics.median(values):.{digits}g}{unit}, p90 {percentile(values, 90):.{digits}g},"
            f" min {min(values):.{digits}g}, max {max(values):.{digits}g} (n={len(values)})"
        )

    out = []
    for key, unit in (("cpu_small", "µs"), ("cpu_binary", "ms"), ("cpu_upload", "ms")):
        out.append(f"- {key}, /proc/PID/stat ticks: {stats(figs[key].samples, unit)}; ticks per batch "
                   f"{raw.get(key + '_ticks')}")
        out.append(f"- {key}, schedstat (ns, per thread): {stats(raw.get(key + '_schedstat', []), unit)}")
    for key in ("cpu_small", "cpu_binary", "cpu_upload"):
        out.append(f"- VmHWM after the {key[4:]} scenario: {stats(raw.get(key + '_hwm_mb', []), 'MB')};"
                   f" VmRSS then {stats(raw.get(key + '_rss_mb', []), 'MB')}")
    for key in ("cpu_small", "cpu_binary", "cpu_upload"):
        user, system = sum(raw.get(key + "_user_ticks", [])), sum(raw.get(key + "_sys_ticks", []))
        if user + system:
            out.append(f"- {key}: user {user} ticks, system {system} ticks"
                       f" ({100 * system / (user + system):.0f}% in the kernel);"
                       f" per invocation: minor page faults {stats(raw.get(key + '_faults', []), '')},"
                       f" context switches of the main thread {stats(raw.get(key + '_switches', []), '')}")
    out.append(f"- VmHWM at the first /next: {stats(raw.get('init_hwm_mb', []), 'MB')}")
    out.append(f"- spawn → register: {stats(raw.get('spawn_register_ms', []), 'ms')}")
    out.append(f"- spawn → first /next, per start: {stats(figs['spawn'].samples, 'ms')}")
    out.append(f"  - spawn → the emulator accepted the connection of the first /next (without the"
               f" emulator's thread start): {stats(raw.get('spawn_accepted_ms', []), 'ms')}")
    out.append(f"- app listening → first /next, per start: {stats(figs['ready'].samples, 'ms')}")
    out.append(f"  - listening → the emulator accepted the connection of the first /next (without the"
               f" emulator's thread start): {stats(raw.get('ready_accepted_ms', []), 'ms')}")
    out.append(f"  - listening → the app accepted the readiness connection: "
               f"{stats(figs['ready_noticed'].samples, 'ms')}")
    out.append(f"  - accepted → the app had answered GET /: {stats(raw.get('ready_answer_ms', []), 'ms')}")
    out.append(f"  - answered → first /next (the adapter's work after readiness): "
               f"{stats(raw.get('ready_after_ms', []), 'ms')}")
    out.append(f"- latency, every pair (through − direct): {stats(raw.get('latency_pairs', []), 'µs')}")
    out.append(f"- latency through the adapter (event sent → result's request line): "
               f"{stats(raw.get('latency_through_us', []), 'µs')}")
    out.append(f"- latency of the direct call to the app: {stats(raw.get('latency_direct_us', []), 'µs')}")
    out.append(f"- latency end to end via the emulator (event queued → result read): "
               f"{stats(raw.get('latency_e2e_us', []), 'µs')}")
    if figs["sse_later"].samples:
        out.append(f"- SSE, first event (written right after the head) → read at the Runtime API:"
                   f" {stats(figs['sse_first'].samples, 'µs', 4)}; read straight from the app:"
                   f" {stats(raw.get('sse_direct_first_us', []), 'µs', 4)}")
        out.append(f"- SSE, later events → read at the Runtime API: {stats(figs['sse_later'].samples, 'µs', 4)};"
                   f" read straight from the app (the floor): {stats(raw.get('sse_direct_later_us', []), 'µs', 4)}")
        out.append(f"  - later events, adapter-added (median through − median direct):"
                   f" {statistics.median(figs['sse_later'].samples) - statistics.median(raw['sse_direct_later_us']):.0f} µs")
        out.append(f"  - app head written → prelude read at the Runtime API: {stats(raw.get('sse_prelude_us', []), 'µs', 4)};"
                   f" /next answer sent → prelude read: {stats(raw.get('sse_next_to_prelude_us', []), 'µs', 4)}")
        out.append(f"  - the streamed result came on a new connection in {len(raw.get('sse_head_to_accept_us', []))}"
                   f" of {len(figs['sse_first'].samples)} invocations; app head written → the emulator accepted it:"
                   f" {stats(raw.get('sse_head_to_accept_us', []), 'µs', 4)}; accepted → prelude read (the emulator's"
                   f" thread start and header parsing): {stats(raw.get('sse_accept_to_prelude_us', []), 'µs', 4)}")
        out.append(f"  - body chunks at the Runtime API per event: {stats(raw.get('sse_chunks_per_event', []), '')}")
    if figs["stream_rate"].samples:
        sizes = raw.get("stream_chunk_sizes", [])
        out.append(f"- 20 MB streamed, app head → last byte at the Runtime API: {stats(figs['stream_rate'].samples, 'MB/s', 4)};"
                   f" read straight from the app: {stats(raw.get('stream_direct_rate', []), 'MB/s', 4)}")
        out.append(f"  - chunk sizes the Runtime API received: {stats(sizes, 'bytes')};"
                   f" {len(sizes) / max(1, len(figs['stream_rate'].samples)):.0f} chunks per body (the app writes"
                   f" {math.ceil(STREAM_TOTAL / STREAM_CHUNK)} of {STREAM_CHUNK} bytes)")
        out.append(f"  - adapter CPU per MiB streamed, schedstat: {stats(figs['stream_cpu'].samples, 'ms', 4)};"
                   f" /proc/PID/stat ticks: {stats(raw.get('stream_cpu_ticks', []), 'ms', 4)}")
        out.append(f"  - adapter VmHWM at the end of the streaming scenario: {stats(raw.get('stream_hwm_mb', []), 'MB')}")
    if any(figs[f"speedup_{n}"].samples for n in CONCURRENCY[1:]):
        out.append(f"- the app's answer to GET /sleep?ms={SLEEP_MS} asked directly (the floor of one invocation):"
                   f" {stats(raw.get('concurrency_direct_ms', []), 'ms', 4)}")
        for n in CONCURRENCY:
            out.append(f"- AWS_LAMBDA_MAX_CONCURRENCY={n if n > 1 else 'unset'}: {plan.concurrency_m} invocations of"
                       f" {SLEEP_MS} ms in {stats(raw.get(f'concurrency_wall_{n}', []), 'ms', 4)};"
                       f" over the ideal {math.ceil(plan.concurrency_m / n) * SLEEP_MS} ms:"
                       f" {stats(raw.get(f'concurrency_over_{n}', []), 'ms', 4)};"
                       f" most in the app at once {stats(raw.get(f'concurrency_peak_{n}', []), '')}")
    if figs["compress_br"].samples:
        for coding in CODINGS:
            sizes = raw.get(f"compress_size_{coding}", [])
            ratio = f"; ratio {len(TEXT) / statistics.median(sizes):.2f}× ({statistics.median(sizes):.0f} bytes)" \
                if sizes and coding != "identity" else ""
            out.append(f"- 1 MiB JSON text, Accept-Encoding {coding if coding != 'identity' else 'absent'}:"
                       f" adapter CPU per invocation, schedstat {stats(raw.get(f'compress_cpu_{coding}', []), 'ms', 4)};"
                       f" ticks {stats(raw.get(f'compress_ticks_{coding}', []), 'ms', 4)}{ratio}")
    if raw.get("compress_hwm_mb"):
        out.append(f"- adapter VmHWM at the end of the compression scenario: {stats(raw['compress_hwm_mb'], 'MB')}")
    out.append(f"- plan: {plan}")
    return out


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def source_of(binary: Path) -> str:
    """The commit checked out in the git work tree that holds the binary (it
    is built from that tree), and whether the adapter's sources differ from it."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(binary.parent), *args], capture_output=True, text=True, timeout=20
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    try:
        commit = git("rev-parse", "--short", "HEAD")
        if not commit:
            return "unknown (not in a git work tree)"
        paths = ("--", ":/layer", ":/Cargo.toml", ":/Cargo.lock")
        adapter = git("log", "-1", "--format=%h (%s)", *paths)
        dirty = git("status", "--porcelain", *paths)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    note = "; layer/ or Cargo files have uncommitted changes" if dirty else ""
    return f"work tree at {commit}; the adapter's last change: {adapter}{note}"


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def write_results(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n")


def update_readme(readme: Path, table_lines: list[str], stamp: str) -> None:
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    if not readme.exists():
        return
    text = readme.read_text()
    if start not in text or end not in text:
        return
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    block = "\n".join([start, stamp, "", *table_lines, end])
    readme.write_text(before + block + after)


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark portside the way LWA 1.0 was measured.")
    parser.add_argument("--binary", type=Path, default=DEFAULT_BINARY,
                        help="the adapter binary (default: the ./build.sh --layer release build)")
    parser.add_argument("--runs", type=int, default=None,
                        help="adapter processes per CPU, latency, streaming and compression scenario"
                             " (default 5; 1 with --quick);"
                             " start-up repetitions and concurrency rounds scale with it")
    parser.add_argument("--quick", action="store_true", help="a smoke run, well under a minute")
    parser.add_argument("--write", action="store_true",
                        help="write bench/RESULTS.md even with --quick")
    parser.add_argument("--no-write", action="store_true", help="write nothing, only print")
    parser.add_argument("--only", default="",
                        help="comma-separated: cpu,latency,spawn,ready,stream,concurrency,compression")
    args = parser.parse_args()

    binary = Path(os.path.abspath(args.binary))
    if not binary.is_file():
        say(f"run.py: {binary} does not exist; build it with ./build.sh --layer")
        return 2
    if not Path("/proc/self/stat").exists():
        say("run.py: needs Linux /proc")
        return 2
    plan = Plan.make(args.quick, args.runs)
    only = set(filter(None, args.only.split(",")))
    figs = figures()
    raw: dict = {}
    facts = elf_facts(binary)
    size = binary.stat().st_size
    figs["size"].samples.append(size / MIB)

    started = time.monotonic()
    load_before = loadavg()
    steps = [
        ("cpu", "CPU per invocation and peak RSS", measure_cpu),
        ("latency", "adapter-added latency", measure_latency),
        ("spawn", "spawn → first /next and RSS after init", measure_spawn),
        ("ready", "app listening → first /next", measure_readiness),
        ("stream", "response streaming: SSE events and 20 MB bodies", measure_stream),
        ("concurrency", "Managed Instances: N invocations at once", measure_concurrency),
        ("compression", "compression: CPU per MiB", measure_compression),
    ]
    with tempfile.TemporaryDirectory(prefix="portside-bench-") as tmp:
        for key, title, step in steps:
            if only and key not in only:
                continue
            say(f"==> {title}")
            step(plan, binary, Path(tmp), figs, raw)
    elapsed = time.monotonic() - started
    load_after = loadavg()

    m = machine()
    rel = os.path.relpath(binary, ROOT) if str(binary).startswith(str(ROOT)) else str(binary)
    command = "python3 bench/run.py" + "".join(
        f" {shlex.quote(a)}" for a in sys.argv[1:]
    )
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    static_text = ("static" + (" (static-pie)" if facts.get("pie") else "")) if facts.get("static") \
        else "NOT static (asks for a dynamic loader)"
    stamp = (
        f"{when}; {m['nproc']} cores, {m['cpu']}, Linux {m['kernel']}, Python {m['python']};"
        f" `{rel}`, {size} bytes ({size / MIB:.2f} MiB), {static_text}; `{command}`"
    )
    table_lines = table(figs, bool(facts.get("static")))
    print()
    print(stamp)
    print()
    print("\n".join(table_lines))
    print()
    print("\n".join(details(raw, figs, plan)))
    print(f"\n{elapsed:.0f} s; load average {load_before} before, {load_after} after")

    write = (not args.quick or args.write) and not args.no_write and not only
    if write:
        lines = [
            "# Benchmark results",
            "",
            "Written by `bench/run.py`; see `bench/README.md` for what each figure means and",
            "how it is measured. Medians over repeated runs; the machine is shared and noisy.",
            "",
            f"- date: {when}",
            f"- machine: {m['nproc']} cores (`nproc`), {m['cpu']}, Linux {m['kernel']},"
            f" Python {m['python']}",
            f"- binary: `{rel}`, {size} bytes ({size / MIB:.2f} MiB), {static_text},"
            f" {'stripped' if facts.get('stripped') else 'not stripped'}",
            f"- source: {source_of(binary)}",
            f"- command: `./build.sh --layer && {command}`",
            f"- wall time {elapsed:.0f} s; load average (1, 5, 15 min) {load_before} before,"
            f" {load_after} after",
            "",
            *table_lines,
            "",
            "LWA 1.0's figures are the issue's, measured on this machine class with a Python",
            "emulator and a Python app. Ratios are portside / LWA (below 1 is better).",
            "MB here is 10⁶ bytes (VmHWM and VmRSS in KiB × 1024 / 10⁶). A verdict \"within",
            f"noise\" means the median is within ±{NOISE:.0%} of the target, about what medians",
            "of one binary move between full runs on this shared machine.",
            "",
            "## Details",
            "",
            *details(raw, figs, plan),
        ]
        write_results(HERE / "RESULTS.md", lines)
        update_readme(HERE / "README.md", table_lines, f"From RESULTS.md: {stamp}")
        say(f"wrote {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
