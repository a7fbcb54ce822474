#!/usr/bin/env python3
"""Benchmarks the portside binary the way AWS Lambda Web Adapter 1.0 was
measured: a Python Runtime API emulator and a Python app on loopback, the
adapter's CPU and memory read from /proc, latency against the direct call to
the app as the floor. See bench/README.md for what each figure means.

    ./build.sh --layer && python3 bench/run.py            # full run (a few minutes)
    python3 bench/run.py --quick                          # smoke run (well under a minute)
    python3 bench/run.py --binary PATH --runs N

A full run writes its table to bench/RESULTS.md (and the snapshot in
bench/README.md); --quick writes nothing unless --write is given.
Standard library only (Python 3.11+), Linux only (/proc).
"""

from __future__ import annotations

import argparse
import base64
import datetime
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

from emulator import Emulator, Invocation  # noqa: E402

DEFAULT_BINARY = ROOT / "target/x86_64-unknown-linux-musl/release/portside"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024
# Medians of full runs of one binary move this much between runs (bench/README.md).
NOISE = 0.10
# Must match bench/app.py.
APP_SMALL = json.dumps(
    {
        "message": "hello from the benchmark app",
        "id": 12345,
        "tags": ["alpha", "beta", "gamma"],
        "ok": True,
    }
).encode()
APP_BINARY = bytes(range(256)) * (MIB // 256)
UPLOAD = bytes((i * 7 + 3) & 0xFF for i in range(256)) * (MIB // 256)


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

    @staticmethod
    def make(quick: bool, runs: int | None) -> Plan:
        if quick:
            r = runs or 1
            return Plan(r, 2, 400, 30, 50, 5, 300, 6 * r, 8 * r)
        r = runs or 5
        return Plan(r, 4, 2500, 150, 300, 20, 1500, 10 * r, 10 * r)


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
        self, binary: Path, emu: Emulator, port: int, log_dir: Path, wrapper: list[str] = ()
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
    return headers


def http_api_event(
    method: str,
    path: str,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> bytes:
    """An API Gateway HTTP API (payload 2.0) event, as Lambda delivers it."""
    now = time.time()
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "cookies": COOKIES,
        "headers": client_headers(headers),
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "r3pmxmplak",
            "domainName": DOMAIN,
            "domainPrefix": "r3pmxmplak",
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
        if f.target is None:
            verdict = "n/a (no target)"
        else:
            ok = med <= f.target and (f.key != "size" or static)
            verdict = "**pass**" if ok else "**FAIL**"
            if f.key != "size" and abs(med - f.target) <= NOISE * f.target:
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
                        help="adapter processes per CPU and latency scenario (default 3; 1 with --quick);"
                             " start-up repetitions scale with it")
    parser.add_argument("--quick", action="store_true", help="a smoke run, well under a minute")
    parser.add_argument("--write", action="store_true",
                        help="write bench/RESULTS.md even with --quick")
    parser.add_argument("--no-write", action="store_true", help="write nothing, only print")
    parser.add_argument("--only", default="", help="comma-separated: cpu,latency,spawn,ready")
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
