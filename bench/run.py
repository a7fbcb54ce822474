#!/usr/bin/env python3
"""Benchmarks the portside binary side by side with AWS Lambda Web Adapter
(LWA) 1.0.0-rc1: one Python Runtime API emulator per adapter process and one
Python app on loopback, both adapters measured in the same run, in
alternating batches, the adapters' CPU and memory read from /proc, latency
against the direct call to the app as the floor. See bench/README.md for what
each figure means, its biases and noise.

    ./build.sh --layer && python3 bench/run.py            # full run (~6-9 min); writes bench/RESULTS.md
    python3 bench/run.py --quick                          # smoke run (well under a minute)
    python3 bench/run.py --peer PATH                      # an LWA binary already built
    python3 bench/run.py --no-peer                        # portside alone (the old single run)
    python3 bench/run.py --binary PATH --runs N
    python3 bench/run.py --only cpu,json,latency          # some groups only; writes nothing

LWA comes from crates.io: when target/peers/bin/lambda-adapter is missing (and
no --peer is given) run.py installs it there itself with
`cargo install lambda_web_adapter --version 1.0.0-rc1 --locked --root target/peers`
(never vendored: target/ is not in git).

A full run with the peer writes its table to bench/RESULTS.md (keeping any
section another tool wrote there), the snapshot in bench/README.md and the
table in the user guide's Benchmarks page (docs/src/benchmarks.md); --quick, --only and --no-peer
write nothing unless --write is given.
Standard library only (Python 3.11+), Linux only (/proc).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import gzip
import itertools
import json
import math
import os
import platform
import queue
import random
import re
import shlex
import shutil
import signal
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

import shapes  # noqa: E402
from app import BINARY as APP_BINARY  # noqa: E402
from app import blob  # noqa: E402
from app import SMALL as APP_SMALL  # noqa: E402
from app import STREAM_BYTE, TEXT, json_1mib  # noqa: E402
from emulator import Emulator, Invocation, read_chunked  # noqa: E402

DEFAULT_BINARY = ROOT / "target/x86_64-unknown-linux-musl/release/portside"
# The peer: LWA from crates.io, installed under target/ (ignored by git).
PEER_CRATE = "lambda_web_adapter"
PEER_VERSION = "1.0.0-rc1"
PEER_ROOT = ROOT / "target/peers"
DEFAULT_PEER = PEER_ROOT / "bin/lambda-adapter"
PORTSIDE, LWA = "portside", "LWA"
# Issue 28's references: a minimal C program doing an invocation's three
# exchanges (bench/floor.c), and portside returning a binary body of the same
# size as a JSON shape.
FLOOR, BINARY_SIDE = "floor", "binary"
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
    """How much to measure. `runs` is the number of rounds: in each, one
    adapter process per subject (a fresh start) per CPU, JSON and latency
    scenario; start-up repetitions are spread over as many rounds."""

    runs: int
    batches: int  # CPU batches per process and scenario
    small_n: int  # invocations per small batch
    big_n: int  # invocations per 1 MiB batch
    json_n: int  # invocations per 1 MiB JSON text batch
    small_warm: int
    big_warm: int
    latency_pairs: int  # per process: sets of (direct, each adapter) back to back
    spawn_reps: int  # per subject
    readiness_reps: int  # per subject
    first_reps: int  # per subject
    first_warm: int  # invocations after the first one; the later half gives the warm latency
    sse_invocations: int  # streamed SSE invocations per process (and as many direct reads)
    sse_events: int  # events per SSE response
    bulk_batches: int  # CPU batches of 20 MB streamed bodies per process
    bulk_n: int  # 20 MB invocations per batch
    concurrency_rounds: int  # each round starts one adapter per N
    concurrency_m: int  # invocations queued at once per round and N
    compression_rounds: int  # per process: one batch per coding in each round
    compression_n: int  # 1 MiB invocations per batch
    # Issue 28.
    shape_runs: int  # rounds of the json-shapes group (one process per adapter each)
    shape_batches: int  # batches per round, shape and side
    shape_bytes: int  # body bytes per batch: a batch is this / the shape's size invocations
    exec_reps: int  # starts per subject through execstamp
    load_rounds: int  # Managed Instances: rounds of every (concurrency, size) for both adapters
    load_n: dict = field(default_factory=dict)  # invocations measured per body size
    load_warm: int = 0
    big_bytes: int = 0  # the big stream's size
    big_rate: float = 0  # the Runtime API's reading rate, bytes per second
    big_rounds: int = 0

    @staticmethod
    def make(quick: bool, runs: int | None) -> Plan:
        if quick:
            r = runs or 1
            return Plan(
                runs=r, batches=2, small_n=300, big_n=20, json_n=15, small_warm=50, big_warm=5,
                latency_pairs=200, spawn_reps=5 * r, readiness_reps=5 * r, first_reps=5 * r,
                first_warm=20, sse_invocations=3, sse_events=6, bulk_batches=1, bulk_n=1,
                concurrency_rounds=1 * r, concurrency_m=8, compression_rounds=1, compression_n=4,
                shape_runs=r, shape_batches=1, shape_bytes=MIB, exec_reps=5 * r, load_rounds=r,
                load_n={200: 1000, 65536: 300}, load_warm=100, big_bytes=20_000_000, big_rate=20e6,
                big_rounds=r,
            )
        r = runs or 5
        return Plan(
            runs=r, batches=4, small_n=2500, big_n=150, json_n=100, small_warm=300, big_warm=20,
            latency_pairs=1500, spawn_reps=10 * r, readiness_reps=10 * r, first_reps=10 * r,
            first_warm=40, sse_invocations=8, sse_events=12, bulk_batches=2, bulk_n=3,
            concurrency_rounds=r, concurrency_m=16, compression_rounds=4, compression_n=15,
            shape_runs=3, shape_batches=2, shape_bytes=4 * MIB, exec_reps=10 * r, load_rounds=3,
            load_n={200: 8000, 65536: 2500}, load_warm=500, big_bytes=200_000_000, big_rate=20e6,
            big_rounds=3,
        )


@dataclass
class Subject:
    """An adapter under test: portside, or the peer (LWA)."""

    name: str  # PORTSIDE or LWA
    binary: Path
    # How long stop() waits for the process to exit after SHUTDOWN before it
    # sends SIGTERM. LWA 1.0 does not exit on SHUTDOWN (its extension task
    # ends, its runtime loop goes on; Lambda would SIGKILL it after the
    # deadline), so waiting for it would only add seconds per start.
    grace: float = 2.0
    # Variables this subject gets beside adapter_env's (bench/threads.py
    # runs one portside binary as two subjects).
    env: dict = field(default_factory=dict)


def turns(subjects: list[Subject], i: int) -> list[Subject]:
    """The subjects in the order of turn i: A B, then B A, then A B... (ABBA),
    so a drift of the machine's speed over time costs both alike."""
    return subjects if i % 2 == 0 else subjects[::-1]


@dataclass
class Figure:
    """One row of the table: samples per subject, each tagged with its round,
    and the goal it is judged against: a ratio to LWA (`goal`: portside / LWA
    at most this) or portside's own value (`target`), or none."""

    key: str
    label: str
    unit: str
    goal: float | None = None
    goal_note: str = "none set"
    target: float | None = None
    higher_is_better: bool = False  # then goal and target are floors
    noise_note: bool = True  # absolute targets: say "within noise" when within NOISE of it
    show_ratio: bool = True  # False: the two values are not comparable (binary size)
    data: dict[str, list[tuple[int, float]]] = field(default_factory=dict)

    def add(self, who: str, value: float, rnd: int = 0) -> None:
        self.data.setdefault(who, []).append((rnd, value))

    def values(self, who: str) -> list[float]:
        return [v for _, v in self.data.get(who, [])]

    def median(self, who: str) -> float:
        values = self.values(who)
        return statistics.median(values) if values else math.nan

    def ratio(self, a: str = PORTSIDE, b: str = LWA) -> tuple[float, float, float, int] | None:
        """a / b (portside / LWA unless told) of the medians, and the lowest and
        highest ratio of one round's medians (the spread over rounds), and the
        rounds' number."""
        if not (self.values(a) and self.values(b)):
            return None
        if self.median(a) < 0 or self.median(b) <= 0:
            return None  # an added latency at or below zero: noise, no ratio
        overall = self.median(a) / self.median(b)
        per_round = []
        for rnd in sorted({r for r, _ in self.data[a]} & {r for r, _ in self.data[b]}):
            p = statistics.median(v for r, v in self.data[a] if r == rnd)
            lwa = statistics.median(v for r, v in self.data[b] if r == rnd)
            if lwa:
                per_round.append(p / lwa)
        if not per_round:
            return overall, overall, overall, 0
        return overall, min(per_round), max(per_round), len(per_round)


def figures() -> dict[str, Figure]:
    """The rows, in the order of issue 12's table; goals are portside / LWA
    unless a target of portside's own is given."""
    fs = [
        Figure("cpu_small", "adapter CPU, small HTTP API invocation", "µs", goal=0.3,
               goal_note="≤ 0.3× (moonshot 0.2×)"),
        Figure("latency", "adapter-added latency p50 (small GET)", "µs", goal=0.4,
               goal_note="≤ 0.4×"),
        Figure("cpu_binary", "adapter CPU, 1 MiB binary response", "ms", goal=0.25,
               goal_note="≤ 0.25×"),
        Figure("cpu_upload", "adapter CPU, 1 MiB POST body", "ms", goal=0.3, goal_note="≤ 0.3×"),
        Figure("cpu_json", "adapter CPU, 1 MiB JSON text response (`application/json`)", "ms",
               goal=0.5, goal_note="≤ 0.5×"),
        Figure("rss_peak", "peak RSS (VmHWM) after 1 MiB bodies", "MB", goal=0.3,
               goal_note="≤ 0.3× (keep)"),
        Figure("rss_init", "RSS (VmRSS) after init (first /next)", "MB", goal=0.5,
               goal_note="≤ 0.5×"),
        Figure("spawn", "spawn → first `/next` (app already listening)", "ms", goal=0.5,
               goal_note="≤ 0.5×"),
        Figure("first_latency", "first invocation's latency after start (`/next` answer → result)",
               "µs", goal=0.6, goal_note="≤ 0.6×"),
        Figure("warm_latency", "a warm invocation's latency, same measure and processes", "µs"),
        Figure("first_result", "spawn → first invocation's result (app already listening)", "ms"),
        Figure("ready", "app listening → first `/next`", "ms", goal=0.25, goal_note="≤ 0.25×"),
        Figure("ready_noticed", "app listening → readiness check accepted by the app", "ms",
               target=1.0, goal_note="≤ 1 ms"),
        Figure("size", "static x86_64 binary", "MiB", target=1.5, goal_note="≤ 1.5 MiB (keep)",
               show_ratio=False, noise_note=False),
        # Issue 5: streaming, Managed Instances, compression: portside alone, absolute targets.
        Figure("sse_first", "streaming: first SSE event (written with the head) → Runtime API",
               "µs", target=1000, goal_note="≤ 1 ms"),
        Figure("sse_later", "streaming: later SSE events (10–20 ms apart) → Runtime API",
               "µs", target=1000, goal_note="≤ 1 ms"),
        Figure("stream_rate", "streaming: 20 MB body, app head → last byte at the Runtime API",
               "MB/s", higher_is_better=True),
        Figure("stream_cpu", "streaming: adapter CPU per MiB streamed", "ms/MiB"),
        *(
            Figure(f"speedup_{n}", f"Managed Instances: speed-up, N = {n} ({SLEEP_MS} ms app)",
                   "×", target=CONCURRENCY_SHARE * n,
                   goal_note=f"{n}× (≥ {CONCURRENCY_SHARE * n:g}×)",
                   higher_is_better=True, noise_note=False)
            for n in CONCURRENCY[1:]
        ),
        Figure("compress_gzip", "compression: extra adapter CPU per MiB, gzip", "ms/MiB"),
        # Issue 28: measured for both adapters (and the floor, and binary bodies).
        Figure("exec_register", "exec → register request (the process's own start)", "ms",
               goal=0.5, goal_note="≤ 0.5×"),
        Figure("exec_next", "exec → first `/next` (app already listening)", "ms", goal=0.5,
               goal_note="≤ 0.5×"),
        Figure("floor_cpu", "adapter CPU, small invocation (rounds with the floor)", "µs",
               goal=0.3, goal_note="≤ 0.3×"),
        Figure("floor_latency", "adapter-added latency p50, small GET (sets with the floor)", "µs",
               goal=0.4, goal_note="≤ 0.4×"),
        *(Figure(f"shape:{s.name}", f"JSON text `{s.name}`", "ms", goal=SHAPE_GOAL,
                 goal_note=f"≤ {SHAPE_GOAL}× (moonshot 0.25×)") for s in shapes.SHAPES),
        *(
            Figure(f"load_{m}_{size}_{c}", f"{LOAD_LABELS[m]}, {size_label(size)} bodies, C = {c}",
                   LOAD_UNITS[m], goal=LOAD_GOALS[m].get(size), goal_note=LOAD_NOTES[m].get(size, "none set"),
                   higher_is_better=m == "tput")
            for m in LOAD_METRICS for size in LOAD_SIZES for c in LOAD_CONCURRENCY
        ),
        *(
            Figure(f"load_growth_{size}", f"Managed Instances: CPU per invocation at C = 64 / at C = 8,"
                   f" {size_label(size)} bodies", "×", target=1.0, goal_note="≤ 1× (not growing)")
            for size in LOAD_SIZES
        ),
        Figure("big_rss", f"200 MB streamed at {BIG_RATE_LABEL}: adapter peak RSS (VmHWM)", "MB",
               target=16, goal_note="≤ 16 MB", noise_note=False),
        Figure("big_cpu", f"200 MB streamed at {BIG_RATE_LABEL}: adapter CPU per MB", "ms/MB",
               goal=0.3, goal_note="≤ 0.3×"),
    ]
    return {f.key: f for f in fs}


# Issue 28's goals and the Managed Instances group's rows.
SHAPE_GOAL = 0.5  # CPU per JSON shape, portside / LWA
SHAPE_BINARY_GOAL = 1.2  # CPU per JSON shape, portside / portside with a binary body of its size
LOAD_SIZES = (200, 65536)
LOAD_CONCURRENCY = (8, 32, 64)
LOAD_METRICS = ("cpu", "tput", "p50", "p99")
LOAD_LABELS = {"cpu": "Managed Instances: adapter CPU per invocation",
               "tput": "Managed Instances: invocations per second",
               "p50": "Managed Instances: added latency p50", "p99": "Managed Instances: added latency p99"}
LOAD_UNITS = {"cpu": "µs", "tput": "/s", "p50": "µs", "p99": "µs"}
LOAD_GOALS = {"cpu": {200: 0.35, 65536: 0.5}, "tput": {}, "p50": {}, "p99": {200: 0.5, 65536: 0.5}}
LOAD_NOTES = {"cpu": {200: "≤ 0.35×", 65536: "≤ 0.5×"}, "tput": {}, "p50": {},
              "p99": {200: "≤ 0.5×", 65536: "≤ 0.5×"}}
BIG_RATE_LABEL = "20 MB/s"


def size_label(size: int) -> str:
    return f"{size // 1024} KiB" if size >= 1024 else f"{size} B"


# Issue 12's figures (measured for both adapters) end here; the rest are portside's own.
MAIN_KEYS = ("cpu_small", "latency", "cpu_binary", "cpu_upload", "cpu_json", "rss_peak",
             "rss_init", "spawn", "first_latency", "warm_latency", "first_result", "ready",
             "ready_noticed", "size")
# Issue 5's figures: portside alone against absolute targets.
ISSUE5_KEYS = ("sse_first", "sse_later", "stream_rate", "stream_cpu",
               *(f"speedup_{n}" for n in CONCURRENCY[1:]), "compress_gzip")
# Issue 28's rows of its summary table (the shapes and the Managed Instances
# figures have tables of their own, and their worst cases rows in this one).
ISSUE28_KEYS = ("exec_register", "exec_next", "floor_cpu", "floor_latency", "big_rss", "big_cpu",
                "load_growth_200", "load_growth_65536")


def rec(raw: dict, who: str, key: str, value) -> None:
    """Appends one detail sample of subject `who`."""
    raw.setdefault(who, {}).setdefault(key, []).append(value)


def got(raw: dict, who: str, key: str) -> list:
    return raw.get(who, {}).get(key, [])


# ---------------------------------------------------------------- /proc


def cpu_ticks(pid: int) -> tuple[int, int, int]:
    """utime and stime (clock ticks) and minor page faults of the whole
    process (every thread)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return int(fields[11]), int(fields[12]), int(fields[7])  # fields 14, 15 and 10 of proc(5)


def context_switches(pid: int) -> dict[int, int]:
    """Voluntary and involuntary context switches of each live thread
    (LWA runs tokio's multi-threaded runtime, so its work is not on the main
    thread; cpu_ns_delta() sums the change over every thread)."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tids:
        total = 0
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split(":", 1)[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
        out[int(tid)] = total
    return out


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
    """The change of per-thread counters (schedstat ns, context switches)
    summed over threads. Threads that exited in between are lost (only idle
    helper threads do)."""
    return sum(ns - before.get(tid, 0) for tid, ns in after.items())


def memory_kb(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:", "Threads:")):
                name, value = line.split(":", 1)
                out[name] = int(value.split()[0])
    return out


def kb_to_mb(kb: float) -> float:
    return kb * 1024 / 1e6


# ---------------------------------------------------------------- processes


def build_c(name: str, out_dir: Path) -> Path:
    """bench/NAME.c compiled with the machine's C compiler (gcc or cc, which
    every machine of the project has) into out_dir/NAME."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise SystemExit(f"run.py: no C compiler (cc or gcc) to build bench/{name}.c")
    out = out_dir / name
    subprocess.run([cc, "-O2", "-o", str(out), str(HERE / f"{name}.c")], check=True)
    return out


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


def adapter_env(runtime_api: str, port: int) -> dict[str, str]:
    """What Lambda gives an extension, and the app's port and readiness check
    in LWA's variables (portside reads the same names): the same for both
    adapters. Nothing of the caller's AWS_*, PORTSIDE_*, READINESS_*, PORT,
    HOST or RUST_LOG gets through."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PORTSIDE_", "AWS_", "READINESS_"))
        and k not in ("PORT", "HOST", "RUST_LOG", "ASYNC_INIT", "REMOVE_BASE_PATH")
    }
    env.update(
        AWS_LAMBDA_RUNTIME_API=runtime_api,
        AWS_LAMBDA_FUNCTION_NAME="portside-bench",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/portside-bench",
        AWS_LAMBDA_LOG_STREAM_NAME="2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
        AWS_LAMBDA_INITIALIZATION_TYPE="on-demand",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        # The app's port, in both spellings both adapters read.
        AWS_LWA_PORT=str(port),
        PORT=str(port),
        # Readiness: both adapters' defaults, spelled out so they stay equal:
        # an HTTP GET of / on the app's port, 100-499 counts as ready.
        AWS_LWA_READINESS_CHECK_PATH="/",
        AWS_LWA_READINESS_CHECK_PROTOCOL="http",
        AWS_LWA_READINESS_CHECK_HEALTHY_STATUS="100-499",
    )
    return env


class Adapter:
    """An adapter under test (portside or LWA), started with the environment
    Lambda gives an extension (adapter_env) plus `extra_env`."""

    def __init__(
        self,
        binary: Path,
        emu: Emulator,
        port: int,
        log_dir: Path,
        wrapper: list[str] = (),
        extra_env: dict[str, str] | None = None,
        name: str = PORTSIDE,
        grace: float = 2.0,
    ):
        env = adapter_env(emu.address, port)
        env.update(extra_env or {})
        self.emu = emu
        self.name = name
        self.grace = grace
        self.log_path = log_dir / f"{name}-{time.monotonic_ns()}.log"
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

    def wait_done(self, inv: Invocation, timeout: float = 10.0) -> Invocation:
        """Waits for the result of an invocation queued before the start."""
        deadline = time.monotonic() + timeout
        while not inv.done.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(self.failure("gave no result for the first invocation"))
        return inv

    def failure(self, what: str) -> str:
        self.log.flush()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        status = self.proc.poll()
        state = f"exited with {status}" if status is not None else "still running"
        return f"{self.name} {what} ({state}); its log ends:\n{tail}"

    def invoke(self, payload: bytes, timeout: float = 30.0) -> Invocation:
        try:
            return self.emu.invoke(payload, timeout)
        except TimeoutError:
            raise RuntimeError(self.failure("gave no result")) from None

    def stop(self) -> None:
        """SHUTDOWN to the extension, then SIGTERM after `grace` seconds and
        SIGKILL a second later, as Lambda does at the end of an environment."""
        self.emu.shutdown_extensions()
        try:
            self.proc.wait(self.grace)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(1)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Rig:
    """One subject's emulator and adapter process, for a shared app. With
    `pending`, that event is queued before the adapter starts, as Lambda
    holds the invocation that caused a cold start."""

    def __init__(self, subject: Subject, port: int, log_dir: Path,
                 extra_env: dict[str, str] | None = None, pending: bytes | None = None,
                 wrapper: list[str] = ()):
        self.subject = subject
        self.name = subject.name
        self.emu = Emulator()
        self.pending = self.emu.enqueue(pending) if pending is not None else None
        try:
            self.adapter = Adapter(subject.binary, self.emu, port, log_dir, extra_env=extra_env,
                                   name=subject.name, grace=subject.grace, wrapper=wrapper)
        except BaseException:
            self.emu.close()
            raise
        self.pid = self.adapter.pid

    def stop(self) -> None:
        try:
            self.adapter.stop()
        finally:
            self.emu.close()


def start_rigs(subjects: list[Subject], rnd: int, port: int, log_dir: Path,
               extra_env: dict[str, str] | None = None) -> dict[str, Rig]:
    """One rig per subject (started in the round's turn order), each past its
    first /next; by name."""
    rigs: dict[str, Rig] = {}
    try:
        for subject in turns(subjects, rnd):
            rigs[subject.name] = Rig(subject, port, log_dir, extra_env)
            rigs[subject.name].adapter.wait_first_next()
    except BaseException:
        stop_rigs(rigs)
        raise
    return {s.name: rigs[s.name] for s in subjects}


def stop_rigs(rigs: dict[str, Rig]) -> None:
    for rig in rigs.values():
        rig.stop()


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
# 1 MiB of realistic JSON (app.api_json), asked for as a browser would (the
# Accept-Encoding is there, but neither adapter compresses unless told to).
JSON_EVENT = http_api_event("GET", "/json-1mib")
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
# The same 1 MiB JSON text asked for without Accept-Encoding and with gzip
# (portside has no brotli encoder since it was measured to serve no common
# client: bench/README.md, "Compression").
CODINGS = ("identity", "gzip")
TEXT_EVENTS = {
    coding: http_api_event(
        "GET", "/text-1mib", headers={"accept-encoding": None if coding == "identity" else coding}
    )
    for coding in CODINGS
}
# LWA's names, which portside reads too.
STREAMING_ENV = {"AWS_LWA_INVOKE_MODE": "response_stream"}
COMPRESSION_ENV = {"AWS_LWA_ENABLE_COMPRESSION": "true"}
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


def check_json(inv: Invocation) -> None:
    """The 1 MiB JSON response must come back as text (not base64), byte for
    byte the app's, with its content type and no content coding."""
    r = result_of(inv)
    headers = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
    if (
        r.get("statusCode") != 200
        or r.get("isBase64Encoded")
        or not isinstance(r.get("body"), str)
        or headers.get("content-type") != "application/json"
        or "content-encoding" in headers
    ):
        raise RuntimeError(f"unexpected JSON result: {inv.body[:300]!r}")
    if r["body"].encode() != json_1mib():
        raise RuntimeError("the 1 MiB JSON body came back changed")


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
    if gzip.decompress(body) != TEXT or len(body) >= len(TEXT) // 2:
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


# ---------------------------------------------------------------- the peer


def installed_version(binary: Path) -> str:
    """The crate and version cargo install recorded for `binary` (in the
    .crates2.json of its install root), or "" if none did."""
    record = binary.parent.parent / ".crates2.json"
    try:
        installs = json.loads(record.read_text()).get("installs", {})
    except (OSError, ValueError):
        return ""
    for package, info in installs.items():
        if binary.name in info.get("bins", []):
            name, version = package.split(" ")[:2]
            return f"{name} {version}"
    return ""


def find_peer(peer: Path | None) -> Path:
    """The LWA binary: --peer PATH, or target/peers/bin/lambda-adapter,
    installed there from crates.io when it is missing."""
    if peer is not None:
        peer = Path(os.path.abspath(peer))
        if not (peer.is_file() and os.access(peer, os.X_OK)):
            raise SystemExit(f"run.py: --peer {peer} is not an executable file")
        return peer
    if DEFAULT_PEER.is_file():
        return DEFAULT_PEER
    command = ["cargo", "install", PEER_CRATE, "--version", PEER_VERSION, "--locked",
               "--root", str(PEER_ROOT)]
    if not shutil.which("cargo"):
        raise SystemExit(
            f"run.py: {DEFAULT_PEER} is missing and cargo is not on PATH to install it; install"
            f" Rust, or give --peer PATH (an LWA {PEER_VERSION} binary), or --no-peer"
        )
    say(f"run.py: {os.path.relpath(DEFAULT_PEER, ROOT)} is missing; installing LWA {PEER_VERSION}"
        f" from crates.io (several minutes, once): {shlex.join(command)}")
    done = subprocess.run(["nice", "-n", "19", *command], stdout=sys.stderr, stderr=sys.stderr)
    if done.returncode != 0 or not DEFAULT_PEER.is_file():
        raise SystemExit(
            f"run.py: installing LWA failed ({shlex.join(command)} exited with {done.returncode});"
            f" give --peer PATH (an LWA {PEER_VERSION} binary), or --no-peer"
        )
    return DEFAULT_PEER


# ---------------------------------------------------------------- measurements


def cpu_batch(rig: Rig, payload: bytes, n: int, check) -> dict:
    """n invocations from idle in /next to idle in /next: the adapter's CPU
    (ticks and schedstat), page faults and context switches over them."""
    emu, pid = rig.emu, rig.pid
    emu.wait_idle()
    (u0, s0, f0), ns0, cs0 = cpu_ticks(pid), thread_cpu_ns(pid), context_switches(pid)
    inv = None
    for _ in range(n):
        inv = rig.adapter.invoke(payload)
    emu.wait_idle()  # back at /next: this batch's work is all done
    (u1, s1, f1), ns1, cs1 = cpu_ticks(pid), thread_cpu_ns(pid), context_switches(pid)
    check(inv)
    ticks_s = (u1 + s1 - u0 - s0) / CLK_TCK / n
    sched_s = cpu_ns_delta(ns0, ns1) / 1e9 / n
    # schedstat counts only threads alive at the end: if one of those alive at
    # the start is gone, its CPU is lost, and the ticks (the whole process's,
    # dead threads included) count instead.
    vanished = bool(set(ns0) - set(ns1))
    return {
        "user": u1 - u0,
        "sys": s1 - s0,
        "ticks_s": ticks_s,
        "sched_s": sched_s,
        "cpu_s": ticks_s if vanished else sched_s,
        "vanished": vanished,
        "faults": (f1 - f0) / n,
        "switches": cpu_ns_delta(cs0, cs1) / n,
    }


def record_batch(raw: dict, figs: dict[str, Figure], key: str, who: str, rnd: int, b: dict,
                 scale: float) -> None:
    # The figure is schedstat's ns summed over threads (a batch of 1 MiB
    # invocations spans only ~10 ticks of 10 ms); /proc/PID/stat's ticks are
    # the cross-check, and the fallback when a thread exited (cpu_batch).
    figs[key].add(who, b["cpu_s"] * scale, rnd)
    rec(raw, who, key + "_ticks_per_call", b["ticks_s"] * scale)
    rec(raw, who, key + "_fallbacks", int(b["vanished"]))
    rec(raw, who, key + "_ticks", b["user"] + b["sys"])
    rec(raw, who, key + "_user_ticks", b["user"])
    rec(raw, who, key + "_sys_ticks", b["sys"])
    rec(raw, who, key + "_faults", b["faults"])
    rec(raw, who, key + "_switches", b["switches"])


def run_cpu_scenarios(plan: Plan, subjects: list[Subject], log_dir: Path, figs: dict[str, Figure],
                      raw: dict, scenarios: list[tuple]) -> None:
    """Every round: one process per subject, and for each scenario, batches
    of the subjects in ABBA turns; each subject's memory (VmHWM, VmRSS in
    MB; threads) after each scenario goes to `raw`."""
    port = free_port()
    app = App(port)
    try:
        for rnd in range(plan.runs):
            rigs = start_rigs(subjects, rnd, port, log_dir)
            try:
                for key, payload, n, warm, check, scale, unit in scenarios:
                    for rig in rigs.values():
                        inv = None
                        for _ in range(warm):
                            inv = rig.adapter.invoke(payload)
                        check(inv)
                    for batch in range(plan.batches):
                        line = []
                        for subject in turns(subjects, rnd * plan.batches + batch):
                            b = cpu_batch(rigs[subject.name], payload, n, check)
                            record_batch(raw, figs, key, subject.name, rnd, b, scale)
                            line.append(f"{subject.name} {b['cpu_s'] * scale:.3g}")
                        say(f"  round {rnd + 1} {key} batch {batch + 1}: {', '.join(line)} {unit}"
                            f" per invocation")
                    for name, rig in rigs.items():
                        mem = memory_kb(rig.pid)
                        rec(raw, name, key + "_hwm_mb", kb_to_mb(mem["VmHWM"]))
                        rec(raw, name, key + "_rss_mb", kb_to_mb(mem["VmRSS"]))
                        rec(raw, name, key + "_threads", mem["Threads"])
            finally:
                stop_rigs(rigs)
    finally:
        app.stop()


def measure_cpu(plan: Plan, subjects: list[Subject], log_dir: Path, figs: dict[str, Figure],
                raw: dict) -> None:
    """CPU per invocation (small, 1 MiB binary response, 1 MiB upload; one
    process per subject and round runs all three in that order) and peak RSS
    after them."""
    run_cpu_scenarios(plan, subjects, log_dir, figs, raw, [
        ("cpu_small", SMALL_EVENT, plan.small_n, plan.small_warm, check_small, 1e6, "µs"),
        ("cpu_binary", BINARY_EVENT, plan.big_n, plan.big_warm, check_binary, 1e3, "ms"),
        ("cpu_upload", UPLOAD_EVENT, plan.big_n, plan.big_warm, check_upload, 1e3, "ms"),
    ])
    for s in subjects:
        for rnd, value in enumerate(got(raw, s.name, "cpu_upload_hwm_mb")):
            figs["rss_peak"].add(s.name, value, rnd)


def measure_json(plan: Plan, subjects: list[Subject], log_dir: Path, figs: dict[str, Figure],
                 raw: dict) -> None:
    """CPU per invocation of a 1 MiB JSON text response (app.api_json), in
    processes of its own."""
    run_cpu_scenarios(plan, subjects, log_dir, figs, raw, [
        ("cpu_json", JSON_EVENT, plan.json_n, plan.big_warm, check_json, 1e3, "ms"),
    ])


def measure_latency(plan: Plan, subjects: list[Subject], log_dir: Path, figs: dict[str, Figure],
                    raw: dict, key: str = "latency") -> None:
    """Adapter-added latency: through each adapter (and its emulator) minus the
    direct call to the app, in sets run back to back: the direct call and one
    invocation through each adapter, every order in turn."""
    port = free_port()
    app = App(port)
    request = direct_request("/small")
    names = [s.name for s in subjects]
    orders = list(itertools.permutations(["direct", *names]))
    try:
        for rnd in range(plan.runs):
            rigs = start_rigs(subjects, rnd, port, log_dir)
            client = RawClient(port)
            try:
                for _ in range(plan.small_warm):
                    for rig in rigs.values():
                        check_small(rig.adapter.invoke(SMALL_EVENT))
                    client.request(request)
                if client.request(request) != APP_SMALL:
                    raise RuntimeError("the direct call answered something else")
                diffs: dict[str, list[float]] = {name: [] for name in names}
                for i in range(plan.latency_pairs):
                    seen: dict[str, tuple[float, float] | None] = {}
                    for side in orders[i % len(orders)]:
                        for rig in rigs.values():
                            rig.emu.wait_idle()  # every adapter idle in /next
                        if side == "direct":
                            t0 = time.monotonic_ns()
                            client.request(request)
                            seen[side] = ((time.monotonic_ns() - t0) / 1e3, 0.0)
                        else:
                            inv = rigs[side].adapter.invoke(SMALL_EVENT)
                            t = (inv.arrived_ns - inv.sent_ns) / 1e3
                            ok = inv.kind == "response" and inv.sent_ns and t > 0
                            # A missed stamp drops that adapter's pair.
                            seen[side] = (t, (inv.done_ns - inv.enqueued_ns) / 1e3) if ok else None
                    direct = seen["direct"][0]
                    rec(raw, "direct", key + "_direct_us", direct)
                    for name in names:
                        if seen[name] is None:
                            continue
                        t, e = seen[name]
                        diffs[name].append(t - direct)
                        rec(raw, name, key + "_pairs", t - direct)
                        rec(raw, name, key + "_through_us", t)
                        rec(raw, name, key + "_e2e_us", e)
                for name in names:
                    figs[key].add(name, statistics.median(diffs[name]), rnd)
                say(f"  round {rnd + 1}: adapter-added "
                    + ", ".join(f"{n} {statistics.median(diffs[n]):.0f} µs (p90"
                                f" {percentile(diffs[n], 90):.0f})" for n in names)
                    + f" over {plan.latency_pairs} sets")
            finally:
                client.close()
                stop_rigs(rigs)
    finally:
        app.stop()


def measure_spawn(plan: Plan, subjects: list[Subject], log_dir: Path, figs: dict[str, Figure],
                  raw: dict) -> None:
    """Spawn to first /next with the app already listening, and RSS then;
    the subjects' starts alternate (ABBA)."""
    port = free_port()
    app = App(port)
    try:
        for rep in range(plan.spawn_reps):
            rnd = rep * plan.runs // plan.spawn_reps
            for subject in turns(subjects, rep):
                rig = Rig(subject, port, log_dir)  # Adapter stamps spawn_ns just before Popen
                try:
                    rig.adapter.wait_first_next()
                    mem = memory_kb(rig.pid)
                    emu, spawn_ns, who = rig.emu, rig.adapter.spawn_ns, subject.name
                    figs["spawn"].add(who, (emu.first_next_ns - spawn_ns) / 1e6, rnd)
                    figs["rss_init"].add(who, kb_to_mb(mem["VmRSS"]), rnd)
                    rec(raw, who, "init_hwm_mb", kb_to_mb(mem["VmHWM"]))
                    rec(raw, who, "init_threads", mem["Threads"])
                    if emu.registered_ns:
                        rec(raw, who, "spawn_register_ms", (emu.registered_ns - spawn_ns) / 1e6)
                    if emu.first_next_accepted_ns:
                        rec(raw, who, "spawn_accepted_ms",
                            (emu.first_next_accepted_ns - spawn_ns) / 1e6)
                finally:
                    rig.stop()
                time.sleep(0.02)
    finally:
        app.stop()
    say("  spawn → first /next: " + ", ".join(
        f"{s.name} median {figs['spawn'].median(s.name):.2f} ms" for s in subjects))


def measure_first(plan: Plan, subjects: list[Subject], log_dir: Path, figs: dict[str, Figure],
                  raw: dict) -> None:
    """A cold start with its invocation waiting, the app already listening:
    spawn → the first result, the first invocation's own latency (/next
    answer sent → result), and then warm invocations of the same process for
    comparison; the subjects' starts alternate (ABBA)."""
    port = free_port()
    app = App(port)
    try:
        for rep in range(plan.first_reps):
            rnd = rep * plan.runs // plan.first_reps
            for subject in turns(subjects, rep):
                rig = Rig(subject, port, log_dir, pending=SMALL_EVENT)
                try:
                    first = rig.adapter.wait_done(rig.pending)
                    check_small(first)
                    who, spawn_ns = subject.name, rig.adapter.spawn_ns
                    figs["first_result"].add(who, (first.arrived_ns - spawn_ns) / 1e6, rnd)
                    figs["first_latency"].add(who, (first.arrived_ns - first.sent_ns) / 1e3, rnd)
                    rec(raw, who, "first_spawn_next_ms", (rig.emu.first_next_ns - spawn_ns) / 1e6)
                    warm = []
                    for k in range(plan.first_warm):
                        rig.emu.wait_idle()
                        inv = rig.adapter.invoke(SMALL_EVENT)
                        if k >= plan.first_warm // 2:
                            warm.append((inv.arrived_ns - inv.sent_ns) / 1e3)
                    check_small(inv)
                    figs["warm_latency"].add(who, statistics.median(warm), rnd)
                    rec(raw, who, "first_over_warm",
                        (first.arrived_ns - first.sent_ns) / 1e3 / statistics.median(warm))
                finally:
                    rig.stop()
                time.sleep(0.02)
    finally:
        app.stop()
    say("  first invocation's latency: " + ", ".join(
        f"{s.name} median {figs['first_latency'].median(s.name):.0f} µs"
        f" (warm {figs['warm_latency'].median(s.name):.0f} µs)" for s in subjects))


def measure_readiness(plan: Plan, subjects: list[Subject], log_dir: Path,
                      figs: dict[str, Figure], raw: dict) -> None:
    """The adapter first, the app after a short random delay (the same for
    both subjects in a repetition); the app's listen instant to the adapter's
    first /next."""
    rng = random.Random(20260101)
    for rep in range(plan.readiness_reps):
        rnd = rep * plan.runs // plan.readiness_reps
        delay = rng.uniform(0.002, 0.030)
        for subject in turns(subjects, rep):
            who = subject.name
            port = free_port()
            rig = Rig(subject, port, log_dir)
            app = None
            try:
                if not rig.emu.registered.wait(10):
                    raise RuntimeError(rig.adapter.failure("did not register"))
                time.sleep(delay)
                app = App(port)
                rig.adapter.wait_first_next()
                emu = rig.emu
                figs["ready"].add(who, (emu.first_next_ns - app.listening_ns) / 1e6, rnd)
                if emu.first_next_accepted_ns:
                    rec(raw, who, "ready_accepted_ms",
                        (emu.first_next_accepted_ns - app.listening_ns) / 1e6)
                line = app.read_line(2.0).split()
                if len(line) == 4 and line[0] == "readiness":
                    accepted, request, answered = map(int, line[1:])
                    figs["ready_noticed"].add(who, (accepted - app.listening_ns) / 1e6, rnd)
                    rec(raw, who, "ready_answer_ms", (answered - accepted) / 1e6)
                    rec(raw, who, "ready_after_ms", (emu.first_next_ns - answered) / 1e6)
            finally:
                rig.stop()
                if app:
                    app.stop()
    say("  app listening → first /next: " + ", ".join(
        f"{s.name} median {figs['ready'].median(s.name):.2f} ms" for s in subjects))


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


def measure_stream(plan: Plan, subjects: list[Subject], log_dir: Path,
                   figs: dict[str, Figure], raw: dict) -> None:
    """Response streaming of Function URL responses: how long a Server-Sent
    Event takes from the app's write to the Runtime API (and, as the floor,
    to a direct reader), the rate of a 20 MB streamed body, and the adapter's
    CPU per MiB streamed."""
    binary = subjects[0].binary  # portside alone: no LWA figures here
    r = raw.setdefault(PORTSIDE, {})
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
                            r.setdefault("sse_prelude_us", []).append((prelude_ns - head_ns) / 1e3)
                            r.setdefault("sse_next_to_prelude_us", []).append(
                                (prelude_ns - inv.sent_ns) / 1e3
                            )
                            if inv.accepted_ns:  # the result came on a new connection
                                r.setdefault("sse_head_to_accept_us", []).append(
                                    (inv.accepted_ns - head_ns) / 1e3
                                )
                                r.setdefault("sse_accept_to_prelude_us", []).append(
                                    (prelude_ns - inv.accepted_ns) / 1e3
                                )
                        else:
                            headers, body = direct.get(f"/sse?{sse_query(plan.sse_events, seed)}")
                        events = sse_arrivals(body)
                        if [e[0] for e in events] != list(range(plan.sse_events)):
                            raise RuntimeError(f"SSE events lost or reordered ({side}): {events}")
                        delays = [(arrived - written) / 1e3 for _, written, arrived in events]
                        if side == "through":
                            figs["sse_first"].add(PORTSIDE, delays[0], run)
                            for d in delays[1:]:
                                figs["sse_later"].add(PORTSIDE, d, run)
                            run_later.extend(delays[1:])
                            r.setdefault("sse_chunks_per_event", []).append(
                                len(body) / plan.sse_events
                            )
                        else:
                            r.setdefault("sse_direct_first_us", []).append(delays[0])
                            r.setdefault("sse_direct_later_us", []).extend(delays[1:])
                say(
                    f"  run {run + 1} SSE: later events {statistics.median(run_later):.0f} µs median"
                    f" (p90 {percentile(run_later, 90):.0f}) over {len(run_later)};"
                    f" first events {[round(x) for x in figs['sse_first'].values(PORTSIDE)[-plan.sse_invocations:]]} µs"
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
                        figs["stream_rate"].add(PORTSIDE, STREAM_TOTAL * 1e3 / (body[-1][0] - head_ns), run)
                        r.setdefault("stream_chunk_sizes", []).extend(len(d) for _, d in body)
                    emu.wait_idle()
                    cpu_ns, tick_ns = cpu_since(adapter.pid, before)
                    mib = plan.bulk_n * STREAM_TOTAL / MIB
                    figs["stream_cpu"].add(PORTSIDE, cpu_ns / 1e6 / mib, run)
                    r.setdefault("stream_cpu_ticks", []).append(tick_ns / 1e6 / mib)
                    headers, chunks = direct.get(f"/stream?{STREAM_QUERY}")
                    r.setdefault("stream_direct_rate", []).append(
                        STREAM_TOTAL * 1e3 / (chunks[-1][0] - int(headers["x-head-ns"]))
                    )
                r.setdefault("stream_hwm_mb", []).append(kb_to_mb(memory_kb(adapter.pid)["VmHWM"]))
                say(
                    f"  run {run + 1} 20 MB: {statistics.median(figs['stream_rate'].values(PORTSIDE)[-plan.bulk_batches * plan.bulk_n:]):.0f} MB/s"
                    f" (direct {r['stream_direct_rate'][-1]:.0f}),"
                    f" {figs['stream_cpu'].values(PORTSIDE)[-1]:.3f} ms CPU per MiB"
                )
            finally:
                direct.close()
                adapter.stop()
                emu.close()
    finally:
        app.stop()


def measure_concurrency(plan: Plan, subjects: list[Subject], log_dir: Path,
                        figs: dict[str, Figure], raw: dict) -> None:
    """Lambda Managed Instances: M invocations queued at once, each a request
    the app answers after SLEEP_MS; wall time with AWS_LAMBDA_MAX_CONCURRENCY
    = N against N = 1 (unset), one fresh adapter per N and round."""
    binary = subjects[0].binary  # portside alone: no LWA figures here
    r = raw.setdefault(PORTSIDE, {})
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
                r.setdefault("concurrency_direct_ms", []).append((time.monotonic_ns() - t0) / 1e6)
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
                    r.setdefault(f"concurrency_wall_{n}", []).append(wall)
                    r.setdefault(f"concurrency_peak_{n}", []).append(peak)
                    # Each wave of n costs SLEEP_MS at best: what is left is overhead.
                    ideal = math.ceil(m / n) * SLEEP_MS
                    r.setdefault(f"concurrency_over_{n}", []).append(wall - ideal)
                finally:
                    adapter.stop()
                    emu.close()
            for n in CONCURRENCY[1:]:
                figs[f"speedup_{n}"].add(PORTSIDE, walls[1] / walls[n], rnd)
            say(
                f"  round {rnd + 1}: {m} invocations in "
                + ", ".join(f"{walls[n]:.0f} ms (N={n})" for n in CONCURRENCY)
                + "; peaks "
                + ", ".join(str(r[f"concurrency_peak_{n}"][-1]) for n in CONCURRENCY)
            )
    finally:
        client.close()
        app.stop()


def measure_compression(plan: Plan, subjects: list[Subject], log_dir: Path,
                        figs: dict[str, Figure], raw: dict) -> None:
    """PORTSIDE_ENABLE_COMPRESSION: adapter CPU per invocation for 1 MiB of
    JSON text asked for with Accept-Encoding br, gzip, and none, in batches
    interleaved in one process; the extra over none, per MiB of input."""
    binary = subjects[0].binary  # portside alone: no LWA figures here
    r = raw.setdefault(PORTSIDE, {})
    port = free_port()
    app = App(port)
    n = plan.compression_n
    try:
        for run in range(plan.runs):
            emu = Emulator()
            adapter = Adapter(
                binary, emu, port, log_dir, extra_env=COMPRESSION_ENV
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
                        r.setdefault(f"compress_cpu_{coding}", []).append(cpu[coding])
                        r.setdefault(f"compress_ticks_{coding}", []).append(tick_ns / n / 1e6)
                        r.setdefault(f"compress_size_{coding}", []).append(size)
                    figs["compress_gzip"].add(
                        PORTSIDE, (cpu["gzip"] - cpu["identity"]) / (len(TEXT) / MIB), run
                    )
                    say(
                        f"  run {run + 1} round {rnd + 1}: per 1 MiB invocation "
                        + ", ".join(f"{c} {cpu[c]:.2f} ms" for c in CODINGS)
                    )
                r.setdefault("compress_hwm_mb", []).append(kb_to_mb(memory_kb(adapter.pid)["VmHWM"]))
            finally:
                adapter.stop()
                emu.close()
    finally:
        app.stop()


# ---------------------------------------------------------------- issue 28


SHAPE_BLOB_SEED = 28


def shape_event(name: str) -> bytes:
    return http_api_event("GET", "/shape", f"name={name}")


def blob_event(size: int) -> bytes:
    return http_api_event("GET", "/blob", f"bytes={size}&seed={SHAPE_BLOB_SEED}")


def check_shape(name: str):
    """A check of a JSON shape's result: text (not base64), byte for byte the
    app's body, its content type, nothing compressed."""

    def check(inv: Invocation) -> None:
        want = shapes.body(name)  # built once, on first use (functools.cache)
        r = result_of(inv)
        headers = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
        if (r.get("statusCode") != 200 or r.get("isBase64Encoded")
                or headers.get("content-type") != "application/json" or "content-encoding" in headers
                or not isinstance(r.get("body"), str) or r["body"].encode() != want):
            raise RuntimeError(f"the JSON shape {name} came back changed: {inv.body[:300]!r}")
    return check


def check_blob(size: int):
    want = blob(size, SHAPE_BLOB_SEED)

    def check(inv: Invocation) -> None:
        r = result_of(inv)
        if (r.get("statusCode") != 200 or r.get("isBase64Encoded") is not True
                or base64.b64decode(r["body"]) != want):
            raise RuntimeError(f"the binary body of {size} bytes came back changed: {inv.body[:300]!r}")
    return check


def measure_shapes(plan: Plan, subjects: list[Subject], log_dir: Path, figs: dict[str, Figure],
                   raw: dict) -> None:
    """Adapter CPU per invocation for each JSON shape (bench/shapes.py), for
    both adapters, and portside's for a binary body of the same size, in
    batches whose order turns through every permutation of the three sides;
    one process per adapter and round serves every shape."""
    port = free_port()
    app = App(port)
    has_peer = any(s.name == LWA for s in subjects)
    sides = [PORTSIDE, BINARY_SIDE] + ([LWA] if has_peer else [])
    orders = list(itertools.permutations(sides))
    try:
        for rnd in range(plan.shape_runs):
            rigs = start_rigs(subjects, rnd, port, log_dir)
            try:
                for k, shape in enumerate(shapes.SHAPES):
                    size = len(shapes.body(shape.name))
                    n = max(3, min(100, plan.shape_bytes // size))
                    work = {PORTSIDE: (rigs[PORTSIDE], shape_event(shape.name), check_shape(shape.name)),
                            BINARY_SIDE: (rigs[PORTSIDE], blob_event(size), check_blob(size))}
                    if has_peer:
                        work[LWA] = (rigs[LWA], shape_event(shape.name), check_shape(shape.name))
                    for rig, payload, check in work.values():
                        for _ in range(2):
                            inv = rig.adapter.invoke(payload)
                        check(inv)
                    line = []
                    for batch in range(plan.shape_batches):
                        for side in orders[(rnd * 7 + k * 3 + batch) % len(orders)]:
                            rig, payload, check = work[side]
                            b = cpu_batch(rig, payload, n, check)
                            figs[f"shape:{shape.name}"].add(side, b["cpu_s"] * 1e3, rnd)
                            rec(raw, side, f"shape:{shape.name}_switches", b["switches"])
                            rec(raw, side, f"shape:{shape.name}_sys_share",
                                b["sys"] / max(1, b["user"] + b["sys"]))
                            line.append(f"{side} {b['cpu_s'] * 1e3:.2f}")
                    say(f"  round {rnd + 1} {shape.name} ({size} bytes, {n} per batch): "
                        + ", ".join(line) + " ms per invocation")
            finally:
                stop_rigs(rigs)
    finally:
        app.stop()


def measure_floor(plan: Plan, subjects: list[Subject], log_dir: Path, figs: dict[str, Figure],
                  raw: dict) -> None:
    """The small invocation beside its floor: bench/floor.c (three loopback
    exchanges, nothing else) as a third subject, in the same rounds and ABBA
    turns: CPU per invocation, then the adapter-added latency sets."""
    floor = Subject(FLOOR, build_c("floor", log_dir), grace=0.05)
    everyone = [*subjects, floor]
    run_cpu_scenarios(plan, everyone, log_dir, figs, raw, [
        ("floor_cpu", SMALL_EVENT, plan.small_n, plan.small_warm, check_small, 1e6, "µs"),
    ])
    measure_latency(plan, everyone, log_dir, figs, raw, key="floor_latency")


def measure_exec(plan: Plan, subjects: list[Subject], log_dir: Path, figs: dict[str, Figure],
                 raw: dict) -> None:
    """Each process's own start, without the harness's fork and exec of it:
    bench/execstamp.c stamps CLOCK_MONOTONIC and execs the adapter; the
    emulator stamps the register request and the first /next (the app already
    listening). The floor (bench/floor.c) registers as its first act and
    then checks readiness with one GET: its exec → register is the least a
    start costs here, its exec → first /next the least a start with one
    readiness check costs."""
    stamp_tool = build_c("execstamp", log_dir)
    floor = Subject(FLOOR, build_c("floor", log_dir), grace=0.05)
    everyone = [*subjects, floor]
    port = free_port()
    app = App(port)
    stamp_file = log_dir / "exec-stamp"
    try:
        for rep in range(plan.exec_reps):
            rnd = rep * plan.runs // plan.exec_reps
            for subject in turns(everyone, rep):
                stamp_file.unlink(missing_ok=True)
                rig = Rig(subject, port, log_dir, wrapper=[str(stamp_tool), str(stamp_file)])
                try:
                    rig.adapter.wait_first_next()
                    # LWA registers from a background task while it checks
                    # readiness, so its first /next may come first.
                    if not rig.emu.registered.wait(10):
                        raise RuntimeError(rig.adapter.failure("never registered"))
                    exec_ns = int(stamp_file.read_text())
                    emu, who = rig.emu, subject.name
                    figs["exec_register"].add(who, (emu.registered_ns - exec_ns) / 1e6, rnd)
                    figs["exec_next"].add(who, (emu.first_next_ns - exec_ns) / 1e6, rnd)
                    rec(raw, who, "exec_spawn_ms", (exec_ns - rig.adapter.spawn_ns) / 1e6)
                    if emu.registered_accepted_ns:
                        rec(raw, who, "exec_register_accepted_ms",
                            (emu.registered_accepted_ns - exec_ns) / 1e6)
                finally:
                    rig.stop()
                time.sleep(0.02)
    finally:
        app.stop()
    say("  exec → register: " + ", ".join(
        f"{s.name} median {figs['exec_register'].median(s.name):.2f} ms" for s in everyone)
        + "; exec → first /next: " + ", ".join(
        f"{s.name} {figs['exec_next'].median(s.name):.2f} ms" for s in everyone))


class StreamCheck:
    """A streamed result read piece by piece: the prelude (up to the eight
    NULs), then the body, checked against app.STREAM_BYTE's pattern as it
    comes and counted, keeping nothing."""

    def __init__(self):
        self.head = b""
        self.prelude: dict | None = None
        self.count = 0
        self.bad = -1  # the first offset that differs
        self.pattern = STREAM_BYTE * (65536 // 256 + 2)

    def __call__(self, data: bytes) -> None:
        if self.prelude is None:
            self.head += data
            if b"\0" * 8 not in self.head:
                return
            head, _, data = self.head.partition(b"\0" * 8)
            self.prelude = json.loads(head)
        if self.bad < 0:
            start = self.count % 256
            if data != self.pattern[start:start + len(data)]:
                self.bad = self.count
        self.count += len(data)


def measure_big_stream(plan: Plan, subjects: list[Subject], log_dir: Path,
                       figs: dict[str, Figure], raw: dict) -> None:
    """A 200 MB streamed response (Function URL, response_stream) through a
    Runtime API that reads at 20 MB/s: the adapter's peak RSS (VmHWM of a
    fresh process after it) and its CPU per MB (schedstat, idle in /next to
    idle in /next); one fresh process per adapter and round, ABBA."""
    port = free_port()
    app = App(port)
    total = plan.big_bytes
    event = http_api_event("GET", "/stream", f"bytes={total}&chunk={STREAM_CHUNK}",
                           domain=FUNCTION_URL_DOMAIN)
    try:
        for rnd in range(plan.big_rounds):
            for subject in turns(subjects, rnd):
                rig = Rig(subject, port, log_dir, extra_env=STREAMING_ENV)
                try:
                    rig.adapter.wait_first_next()
                    sink = StreamCheck()
                    rig.emu.stream_sink, rig.emu.stream_rate = sink, plan.big_rate
                    rig.emu.wait_idle()
                    before = cpu_snapshot(rig.pid)
                    t0 = time.monotonic()
                    inv = rig.adapter.invoke(event, timeout=total / plan.big_rate * 3 + 60)
                    rig.emu.wait_idle()
                    cpu_ns, tick_ns = cpu_since(rig.pid, before)
                    wall = time.monotonic() - t0
                    if inv.kind != "response" or sink.count != total or sink.bad >= 0 or inv.trailers:
                        raise RuntimeError(
                            f"{subject.name}: the {total}-byte stream came back wrong ({inv.kind}, {sink.count}"
                            f" bytes, first bad byte at {sink.bad}, trailers {inv.trailers})")
                    if (sink.prelude or {}).get("statusCode") != 200:
                        raise RuntimeError(f"{subject.name}: unexpected prelude {sink.prelude}")
                    mem = memory_kb(rig.pid)
                    figs["big_rss"].add(subject.name, kb_to_mb(mem["VmHWM"]), rnd)
                    figs["big_cpu"].add(subject.name, cpu_ns / 1e6 / (total / 1e6), rnd)
                    rec(raw, subject.name, "big_wall_s", wall)
                    rec(raw, subject.name, "big_ticks_ms_per_mb", tick_ns / 1e6 / (total / 1e6))
                    say(f"  round {rnd + 1} {subject.name}: {total / 1e6:.0f} MB in {wall:.1f} s,"
                        f" VmHWM {kb_to_mb(mem['VmHWM']):.1f} MB, {cpu_ns / 1e6 / (total / 1e6):.3f} ms CPU per MB")
                finally:
                    rig.stop()
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
    if value is None or math.isnan(value):
        return "—"
    if unit == "µs":
        return f"{value:.0f} µs"
    if unit == "×":
        return f"{value:.2f}×"
    if unit == "MB/s":
        return f"{value:.0f} MB/s"
    if unit in ("ms/MiB", "ms/MB"):
        return f"{value:.3g} {unit}"
    if unit == "/s":
        return f"{value:.0f}/s"
    if unit in ("ms", "MB") and value < 10:
        return f"{value:.2f} {unit}"
    return f"{value:.1f} {unit}" if unit != "MiB" else f"{value:.2f} {unit}"


def met(f: Figure, static: bool = True, a: str = PORTSIDE, b: str = LWA,
        goal: float | None = None) -> bool | None:
    """Whether `f` meets its goal in its run: a / b of the medians against its
    goal (or `goal`), or portside's median against its target; None when it
    has no goal or was not measured."""
    goal = f.goal if goal is None else goal
    if goal is not None:
        r = f.ratio(a, b)
        if r is None:
            return None
        return r[0] >= goal if f.higher_is_better else r[0] <= goal
    if f.target is not None:
        med = f.median(PORTSIDE)
        if math.isnan(med):
            return None
        return (med >= f.target if f.higher_is_better else med <= f.target) and (
            f.key != "size" or static)
    return None


def runs_note(runs: list[Figure], a: str = PORTSIDE, b: str = LWA, goal: float | None = None) -> str:
    """How many of the runs met the goal, when there is more than one run."""
    if len(runs) < 2:
        return ""
    verdicts = [met(f, a=a, b=b, goal=goal) for f in runs]
    judged = [v for v in verdicts if v is not None]
    if not judged:
        return ""
    return f"; met in {sum(judged)} of {len(judged)} runs"


def verdict(f: Figure, static: bool, peer_run: bool, others: list[Figure] = ()) -> str:
    mine = f.values(PORTSIDE)
    if not mine:
        return "not run"
    note = runs_note([f, *others])
    if f.goal is not None:
        r = f.ratio()
        if r is None:
            if f.values(LWA):
                return "not judged (a median at or below zero: noise)"
            return "not judged (LWA not run)" if not peer_run else "not run"
        ratio, low, high, _ = r
        text = "**met**" if met(f) else "**missed**"
        if low <= f.goal < high:
            text += " (single rounds on both sides of it)"
        return text + note
    if f.target is not None:
        med = f.median(PORTSIDE)
        text = "**met**" if met(f, static) else "**missed**"
        if f.noise_note and abs(med - f.target) <= NOISE * f.target:
            text += " (within noise of it)"
        return text + note
    return "no goal set"


def runs_range(runs: list[Figure], a: str = PORTSIDE, b: str = LWA) -> str:
    """The lowest and highest ratio of the medians over the runs (or of
    portside's median, for a figure without a ratio)."""
    if len(runs) < 2:
        return ""
    values = []
    for f in runs:
        r = f.ratio(a, b) if f.show_ratio else None
        if r is not None:
            values.append(r[0])
    if values:
        return f"{min(values):.2f}–{max(values):.2f}× ({len(values)})"
    meds = [f.median(PORTSIDE) for f in runs if f.values(PORTSIDE)]
    return f"{fmt(min(meds), runs[0].unit)}–{fmt(max(meds), runs[0].unit)} ({len(meds)})" if meds else "—"


def table_head(multi: bool) -> list[str]:
    runs = " runs: low–high (n) |" if multi else ""
    return [
        f"| figure | portside | LWA {PEER_VERSION} | portside / LWA | rounds: low–high (n) |{runs}"
        " goal | verdict |",
        "| --- | ---: | ---: | ---: | ---: |" + (" ---: |" if multi else "") + " --- | --- |",
    ]


def table(figs: dict[str, Figure], keys, static: bool, peer_run: bool,
          peer_note: str = "", others: list[dict[str, Figure]] = ()) -> list[str]:
    """The rows `keys`: each subject's median, portside / LWA of the medians
    with the lowest and highest ratio of single rounds (and of whole runs,
    when there are others), the goal, the verdict."""
    rows = table_head(bool(others))
    for key in keys:
        f = figs[key]
        runs = [f, *(o[key] for o in others if key in o)]
        mine = fmt(f.median(PORTSIDE), f.unit)
        if f.values(LWA):
            theirs = fmt(f.median(LWA), f.unit) + (peer_note if f.key == "size" else "")
        elif f.key in ISSUE5_KEYS:
            theirs = "not measured"  # issue 5's figures: portside alone
        else:
            theirs = "not run" if peer_run else "not run (--no-peer)"
        r = f.ratio() if f.show_ratio else None
        ratio = f"{r[0]:.2f}×" if r else "—"
        spread = f"{r[1]:.2f}–{r[2]:.2f}× ({r[3]})" if r and r[3] > 1 else "—"
        across = f" {runs_range(runs)} |" if others else ""
        rows.append(f"| {f.label} | {mine} | {theirs} | {ratio} | {spread} |{across} {f.goal_note} |"
                    f" {verdict(f, static, peer_run, runs[1:])} |")
    return rows


def worst(figs: dict[str, Figure], keys: list[str], a: str = PORTSIDE, b: str = LWA) -> str | None:
    """The key of `keys` with the highest a / b ratio of medians."""
    rated = [(figs[k].ratio(a, b)[0], k) for k in keys if figs[k].ratio(a, b)]
    return max(rated)[1] if rated else None


def worst_rows(figs: dict[str, Figure], others: list[dict[str, Figure]]) -> list[str]:
    """Issue 28's summary rows: the worst JSON shape against LWA and against a
    binary body of its size, and the worst concurrency of each Managed
    Instances figure with a goal; each run judged by its own worst."""
    rows = []
    multi = bool(others)
    shape_keys = [f"shape:{s.name}" for s in shapes.SHAPES]
    specs = [("JSON text, the worst shape / LWA", shape_keys, LWA, SHAPE_GOAL, f"≤ {SHAPE_GOAL}× every shape"),
             ("JSON text, the worst shape / a binary body of its size (portside both)", shape_keys,
              BINARY_SIDE, SHAPE_BINARY_GOAL, f"≤ {SHAPE_BINARY_GOAL}× every shape")]
    for m in ("cpu", "p99"):
        for size in LOAD_SIZES:
            keys = [f"load_{m}_{size}_{c}" for c in LOAD_CONCURRENCY]
            specs.append((f"{LOAD_LABELS[m]}, {size_label(size)} bodies, the worst C", keys, LWA,
                          LOAD_GOALS[m][size], LOAD_NOTES[m][size] + " every C"))
    for label, keys, b, goal, note in specs:
        key = worst(figs, keys, PORTSIDE, b)
        if key is None:
            continue
        f = figs[key]
        ratio, low, high, n = f.ratio(PORTSIDE, b)
        which = key.split(":", 1)[1] if key.startswith("shape:") else "C = " + key.rsplit("_", 1)[1]
        theirs = fmt(f.median(LWA), f.unit) if b == LWA else f"binary: {fmt(f.median(b), f.unit)}"
        worst_per_run = []
        for o in [figs, *others]:
            k = worst(o, keys, PORTSIDE, b)
            if k:
                worst_per_run.append(o[k].ratio(PORTSIDE, b)[0])
        across = (f" {min(worst_per_run):.2f}–{max(worst_per_run):.2f}× ({len(worst_per_run)}) |"
                  if multi and worst_per_run else (" — |" if multi else ""))
        text = "**met**" if ratio <= goal else "**missed**"
        if low <= goal < high:
            text += " (single rounds on both sides of it)"
        if len(worst_per_run) > 1:
            text += f"; met in {sum(w <= goal for w in worst_per_run)} of {len(worst_per_run)} runs"
        rows.append(f"| {label} (`{which}`) | {fmt(f.median(PORTSIDE), f.unit)} | {theirs} | {ratio:.2f}× |"
                    f" {low:.2f}–{high:.2f}× ({n}) |{across} {note} | {text} |")
    return rows


def cell(f: Figure, a: str, b: str) -> str:
    r = f.ratio(a, b)
    return f"{r[0]:.2f}× ({r[1]:.2f}–{r[2]:.2f})" if r else "—"


def shapes_table(figs: dict[str, Figure], others: list[dict[str, Figure]]) -> list[str]:
    """One row per JSON shape: CPU per invocation of both adapters and of
    portside with a binary body of the same size, both ratios with their
    rounds' range, and a verdict for each goal."""
    rows = [f"| shape | bytes | portside | LWA {PEER_VERSION} | portside / LWA (rounds) |"
            f" portside, binary body of that size | text / binary (rounds) | ≤ {SHAPE_GOAL}× LWA |"
            f" ≤ {SHAPE_BINARY_GOAL}× binary |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for s in shapes.SHAPES:
        f = figs[f"shape:{s.name}"]
        if not f.values(PORTSIDE):
            continue
        runs = [f, *(o[f.key] for o in others if f.key in o)]
        verdicts = []
        for b, goal in ((LWA, SHAPE_GOAL), (BINARY_SIDE, SHAPE_BINARY_GOAL)):
            ok = met(f, a=PORTSIDE, b=b, goal=goal)
            if ok is None:
                verdicts.append("—")
                continue
            text = "**met**" if ok else "**missed**"
            if len(runs) > 1:
                text += f" ({runs_range(runs, PORTSIDE, b)}{runs_note(runs, PORTSIDE, b, goal)})"
            verdicts.append(text)
        rows.append(f"| `{s.name}` ({s.what}) | {len(shapes.body(s.name)):,} | {fmt(f.median(PORTSIDE), 'ms')} |"
                    f" {fmt(f.median(LWA), 'ms')} | {cell(f, PORTSIDE, LWA)} | {fmt(f.median(BINARY_SIDE), 'ms')} |"
                    f" {cell(f, PORTSIDE, BINARY_SIDE)} | {verdicts[0]} | {verdicts[1]} |")
    return rows


def load_table(figs: dict[str, Figure], others: list[dict[str, Figure]]) -> list[str]:
    """Managed Instances: one row per body size and concurrency."""
    rows = ["| bodies, C | CPU per invocation: portside, LWA (portside / LWA, rounds) |"
            " invocations per second (portside / LWA) | added p50 (portside / LWA) |"
            " added p99 (portside / LWA) | CPU goal | p99 goal ≤ 0.5× |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for size in LOAD_SIZES:
        for c in LOAD_CONCURRENCY:
            fs = {m: figs[f"load_{m}_{size}_{c}"] for m in LOAD_METRICS}
            if not fs["cpu"].values(PORTSIDE):
                continue
            cells = []
            for m in LOAD_METRICS:
                f = fs[m]
                cells.append(f"{fmt(f.median(PORTSIDE), f.unit)}, {fmt(f.median(LWA), f.unit)} ({cell(f, PORTSIDE, LWA)})")
            judged = []
            for m in ("cpu", "p99"):
                f = fs[m]
                ok = met(f)
                runs = [f, *(o[f.key] for o in others if f.key in o)]
                judged.append("not judged (a median at or below zero: noise)" if ok is None else
                              ("**met**" if ok else "**missed**") + f" ({f.goal_note}{runs_note(runs)})")
            rows.append(f"| {size_label(size)}, C = {c} | " + " | ".join(cells) + " | " + " | ".join(judged) + " |")
    return rows


def floor_table(figs: dict[str, Figure]) -> list[str]:
    """The small invocation and the start beside the floor (bench/floor.c)."""
    rows = [f"| figure | portside | LWA {PEER_VERSION} | floor (bench/floor.c) | portside / floor (rounds) |"
            " LWA / floor (rounds) | portside / LWA (rounds) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key in ("floor_cpu", "floor_latency", "exec_register", "exec_next"):
        f = figs[key]
        if not f.values(PORTSIDE) or not f.values(FLOOR):
            continue
        # Differences, not ratios: the floor adds nothing measurable to the
        # latency, and exec -> first /next holds the harness's own round
        # trips (the emulator's answer to register, the app's to GET /).
        if key in ("floor_latency", "exec_next"):
            rows.append(f"| {f.label} | {fmt(f.median(PORTSIDE), f.unit)} | {fmt(f.median(LWA), f.unit)} |"
                        f" {fmt(f.median(FLOOR), f.unit)} | + {fmt(f.median(PORTSIDE) - f.median(FLOOR), f.unit)} |"
                        f" + {fmt(f.median(LWA) - f.median(FLOOR), f.unit)} | {cell(f, PORTSIDE, LWA)} |")
            continue
        rows.append(f"| {f.label} | {fmt(f.median(PORTSIDE), f.unit)} | {fmt(f.median(LWA), f.unit)} |"
                    f" {fmt(f.median(FLOOR), f.unit)} | {cell(f, PORTSIDE, FLOOR)} | {cell(f, LWA, FLOOR)} |"
                    f" {cell(f, PORTSIDE, LWA)} |")
    return rows


def chart_bars(figs: dict[str, Figure], others: list[dict[str, Figure]]):
    """Every ratio with a goal (and the shapes' ratios to binary) as chart bars."""
    import chart

    bars = []

    def add(f: Figure, group: str, label: str, b: str = LWA, goal: float | None = None) -> None:
        r = f.ratio(PORTSIDE, b)
        if r is None:
            if f.values(PORTSIDE) and f.values(b):
                bars.append(chart.Bar(label, None, 0, 0, None, None, group))
            return
        goal = f.goal if goal is None else goal
        runs = [o[f.key].ratio(PORTSIDE, b) for o in [figs, *others] if f.key in o and o[f.key].ratio(PORTSIDE, b)]
        low, high = (min(x[0] for x in runs), max(x[0] for x in runs)) if len(runs) > 1 else (r[1], r[2])
        ok = None if goal is None else (r[0] >= goal if f.higher_is_better else r[0] <= goal)
        bars.append(chart.Bar(label, r[0], low, high, goal, ok, group))

    for key in MAIN_KEYS:
        if figs[key].goal is not None:
            add(figs[key], "portside / LWA: issues 12 and 28", figs[key].label.replace("`", ""))
    for key in ("exec_register", "exec_next", "big_cpu"):
        add(figs[key], "portside / LWA: issues 12 and 28", figs[key].label.replace("`", ""))
    for s in shapes.SHAPES:
        add(figs[f"shape:{s.name}"], "JSON shapes, CPU: portside / LWA", s.name)
    for s in shapes.SHAPES:
        add(figs[f"shape:{s.name}"], "JSON shapes, CPU: portside text / portside binary of the same size",
            s.name, BINARY_SIDE, SHAPE_BINARY_GOAL)
    for m in ("cpu", "p99", "tput"):
        for size in LOAD_SIZES:
            for c in LOAD_CONCURRENCY:
                f = figs[f"load_{m}_{size}_{c}"]
                add(f, "Managed Instances: portside / LWA", f"{m}, {size_label(size)}, C = {c}")
    return bars


def details(raw: dict, figs: dict[str, Figure], plan: Plan, names: list[str]) -> list[str]:
    def stats(values, unit, digits=3):
        values = [v for v in values if v is not None]
        if not values:
            return "—"
        unit = f" {unit}" if unit else ""

        def num(v: float) -> str:
            return f"{v:.0f}" if abs(v) >= 10**digits else f"{v:.{digits}g}"

        return (
            f"median {num(statistics.median(values))}{unit}, p90 {num(percentile(values, 90))},"
            f" min {num(min(values))}, max {num(max(values))} (n={len(values)})"
        )

    out = []
    for key in MAIN_KEYS:
        f = figs[key]
        if key == "size" or not any(f.values(n) for n in names):
            continue
        out.append(f"- {f.label}: " + "; ".join(
            f"{n} {stats(f.values(n), f.unit)}" for n in names if f.values(n)))
    for n in names:
        r = raw.get(n, {})
        if not r:
            continue
        out.append(f"- **{n}**:")
        for key, unit in (("cpu_small", "µs"), ("cpu_binary", "ms"), ("cpu_upload", "ms"),
                          ("cpu_json", "ms")):
            if not figs[key].values(n):
                continue
            user, system = sum(r.get(key + "_user_ticks", [])), sum(r.get(key + "_sys_ticks", []))
            fallbacks = sum(r.get(key + "_fallbacks", []))
            out.append(f"  - {key}: /proc/PID/stat ticks (the cross-check) {stats(r.get(key + '_ticks_per_call', []), unit)};"
                       f" batches where a thread had exited, so the ticks counted: {fallbacks};"
                       f" ticks per batch {r.get(key + '_ticks')}; user {user} ticks, system {system}"
                       f" ({100 * system / max(1, user + system):.0f}% in the kernel); per invocation:"
                       f" minor page faults {stats(r.get(key + '_faults', []), '')},"
                       f" context switches (every thread) {stats(r.get(key + '_switches', []), '')}")
            out.append(f"  - VmHWM after {key}: {stats(r.get(key + '_hwm_mb', []), 'MB')};"
                       f" VmRSS then {stats(r.get(key + '_rss_mb', []), 'MB')};"
                       f" threads {stats(r.get(key + '_threads', []), '')}")
        if r.get("init_hwm_mb"):
            out.append(f"  - at the first /next: VmHWM {stats(r['init_hwm_mb'], 'MB')};"
                       f" threads {stats(r.get('init_threads', []), '')}")
            out.append(f"  - spawn → register: {stats(r.get('spawn_register_ms', []), 'ms')}")
            out.append(f"  - spawn → the emulator accepted the connection of the first /next"
                       f" (without the emulator's thread start): {stats(r.get('spawn_accepted_ms', []), 'ms')}")
        if r.get("first_spawn_next_ms"):
            out.append(f"  - cold start with the invocation waiting: spawn → first /next"
                       f" {stats(r['first_spawn_next_ms'], 'ms')}; first invocation's latency"
                       f" / the same process's warm one {stats(r.get('first_over_warm', []), '×')}")
        if r.get("ready_after_ms"):
            out.append(f"  - app listening → the emulator accepted the connection of the first /next:"
                       f" {stats(r.get('ready_accepted_ms', []), 'ms')}")
            out.append(f"  - readiness: the app's answer to GET / {stats(r.get('ready_answer_ms', []), 'ms')};"
                       f" answered → first /next (the adapter's work after readiness)"
                       f" {stats(r['ready_after_ms'], 'ms')}")
        if r.get("latency_pairs"):
            out.append(f"  - latency, every set (through − direct): {stats(r['latency_pairs'], 'µs')};"
                       f" through the adapter (event sent → result's request line):"
                       f" {stats(r.get('latency_through_us', []), 'µs')}; end to end via the emulator"
                       f" (event queued → result read): {stats(r.get('latency_e2e_us', []), 'µs')}")
    if got(raw, "direct", "latency_direct_us"):
        out.append(f"- latency of the direct call to the app (shared by both adapters' sets):"
                   f" {stats(got(raw, 'direct', 'latency_direct_us'), 'µs')}")
    p = raw.get(PORTSIDE, {})
    if figs["sse_later"].values(PORTSIDE):
        sse_first, sse_later = figs["sse_first"].values(PORTSIDE), figs["sse_later"].values(PORTSIDE)
        out.append(f"- SSE, first event (written right after the head) → read at the Runtime API:"
                   f" {stats(sse_first, 'µs', 4)}; read straight from the app:"
                   f" {stats(p.get('sse_direct_first_us', []), 'µs', 4)}")
        out.append(f"- SSE, later events → read at the Runtime API: {stats(sse_later, 'µs', 4)};"
                   f" read straight from the app (the floor): {stats(p.get('sse_direct_later_us', []), 'µs', 4)}")
        out.append(f"  - later events, adapter-added (median through − median direct):"
                   f" {statistics.median(sse_later) - statistics.median(p['sse_direct_later_us']):.0f} µs")
        out.append(f"  - app head written → prelude read at the Runtime API: {stats(p.get('sse_prelude_us', []), 'µs', 4)};"
                   f" /next answer sent → prelude read: {stats(p.get('sse_next_to_prelude_us', []), 'µs', 4)}")
        out.append(f"  - the streamed result came on a new connection in {len(p.get('sse_head_to_accept_us', []))}"
                   f" of {len(sse_first)} invocations; app head written → the emulator accepted it:"
                   f" {stats(p.get('sse_head_to_accept_us', []), 'µs', 4)}; accepted → prelude read (the emulator's"
                   f" thread start and header parsing): {stats(p.get('sse_accept_to_prelude_us', []), 'µs', 4)}")
        out.append(f"  - body chunks at the Runtime API per event: {stats(p.get('sse_chunks_per_event', []), '')}")
    if figs["stream_rate"].values(PORTSIDE):
        sizes = p.get("stream_chunk_sizes", [])
        rates = figs["stream_rate"].values(PORTSIDE)
        out.append(f"- 20 MB streamed, app head → last byte at the Runtime API: {stats(rates, 'MB/s', 4)};"
                   f" read straight from the app: {stats(p.get('stream_direct_rate', []), 'MB/s', 4)}")
        out.append(f"  - chunk sizes the Runtime API received: {stats(sizes, 'bytes')};"
                   f" {len(sizes) / max(1, len(rates)):.0f} chunks per body (the app writes"
                   f" {math.ceil(STREAM_TOTAL / STREAM_CHUNK)} of {STREAM_CHUNK} bytes)")
        out.append(f"  - adapter CPU per MiB streamed, schedstat: {stats(figs['stream_cpu'].values(PORTSIDE), 'ms', 4)};"
                   f" /proc/PID/stat ticks: {stats(p.get('stream_cpu_ticks', []), 'ms', 4)}")
        out.append(f"  - adapter VmHWM at the end of the streaming scenario: {stats(p.get('stream_hwm_mb', []), 'MB')}")
    if any(figs[f"speedup_{n}"].values(PORTSIDE) for n in CONCURRENCY[1:]):
        out.append(f"- the app's answer to GET /sleep?ms={SLEEP_MS} asked directly (the floor of one invocation):"
                   f" {stats(p.get('concurrency_direct_ms', []), 'ms', 4)}")
        for n in CONCURRENCY:
            out.append(f"- AWS_LAMBDA_MAX_CONCURRENCY={n if n > 1 else 'unset'}: {plan.concurrency_m} invocations of"
                       f" {SLEEP_MS} ms in {stats(p.get(f'concurrency_wall_{n}', []), 'ms', 4)};"
                       f" over the ideal {math.ceil(plan.concurrency_m / n) * SLEEP_MS} ms:"
                       f" {stats(p.get(f'concurrency_over_{n}', []), 'ms', 4)};"
                       f" most in the app at once {stats(p.get(f'concurrency_peak_{n}', []), '')}")
    if figs["compress_gzip"].values(PORTSIDE):
        for coding in CODINGS:
            sizes = p.get(f"compress_size_{coding}", [])
            ratio = f"; ratio {len(TEXT) / statistics.median(sizes):.2f}× ({statistics.median(sizes):.0f} bytes)" \
                if sizes and coding != "identity" else ""
            out.append(f"- 1 MiB JSON text (/text-1mib), Accept-Encoding {coding if coding != 'identity' else 'absent'}:"
                       f" adapter CPU per invocation, schedstat {stats(p.get(f'compress_cpu_{coding}', []), 'ms', 4)};"
                       f" ticks {stats(p.get(f'compress_ticks_{coding}', []), 'ms', 4)}{ratio}")
    if p.get("compress_hwm_mb"):
        out.append(f"- adapter VmHWM at the end of the compression scenario: {stats(p['compress_hwm_mb'], 'MB')}")
    out += details28(raw, figs, stats)
    out.append(f"- plan: {plan}")
    return out


def details28(raw: dict, figs: dict[str, Figure], stats) -> list[str]:
    """Issue 28's details: the floor and exec samples, the shapes' kernel
    share, the big stream, the Managed Instances driver and app."""
    out = []
    everyone = (PORTSIDE, LWA, FLOOR)
    for key in ("floor_cpu", "floor_latency", "exec_register", "exec_next", "big_rss", "big_cpu"):
        f = figs[key]
        if any(f.values(n) for n in everyone):
            out.append(f"- {f.label}: " + "; ".join(
                f"{n} {stats(f.values(n), f.unit)}" for n in everyone if f.values(n)))
    for n in everyone:
        r = raw.get(n, {})
        if r.get("floor_cpu_sys_ticks"):
            user, system = sum(r["floor_cpu_user_ticks"]), sum(r["floor_cpu_sys_ticks"])
            out.append(f"- {n}, small invocation (floor rounds): user {user} ticks, system {system}"
                       f" ({100 * system / max(1, user + system):.0f}% in the kernel); context switches per"
                       f" invocation {stats(r.get('floor_cpu_switches', []), '')}")
        if r.get("exec_spawn_ms"):
            out.append(f"- {n}: the harness's spawn → exec (Popen and execstamp's own start, not in the"
                       f" exec figures) {stats(r['exec_spawn_ms'], 'ms')}; exec → the register connection"
                       f" accepted {stats(r.get('exec_register_accepted_ms', []), 'ms')}")
        if r.get("big_wall_s"):
            out.append(f"- {n}, 200 MB stream: wall {stats(r['big_wall_s'], 's')};"
                       f" CPU per MB by /proc/PID/stat ticks {stats(r.get('big_ticks_ms_per_mb', []), 'ms')}")
    shape_lines = []
    for s in shapes.SHAPES:
        f = figs[f"shape:{s.name}"]
        if not f.values(PORTSIDE):
            continue
        parts = []
        for n in (PORTSIDE, LWA, BINARY_SIDE):
            if f.values(n):
                share = raw.get(n, {}).get(f"shape:{s.name}_sys_share", [])
                parts.append(f"{n} {stats(f.values(n), 'ms')}, kernel share of ticks"
                             f" {stats([100 * x for x in share], '%')}")
        shape_lines.append(f"  - `{s.name}`: " + "; ".join(parts))
    if shape_lines:
        out.append("- JSON shapes (CPU per invocation; `binary` is portside with a binary body of the shape's size):")
        out += shape_lines
    for size in LOAD_SIZES:
        for c in LOAD_CONCURRENCY:
            d = raw.get("direct", {})
            if not d.get(f"load_{size}_{c}_p50_us"):
                continue
            out.append(f"- Managed Instances, {size_label(size)}, C = {c}: the app asked directly"
                       f" {stats(d[f'load_{size}_{c}_per_second'], '/s')}, p50 {stats(d[f'load_{size}_{c}_p50_us'], 'µs')},"
                       f" p99 {stats(d[f'load_{size}_{c}_p99_us'], 'µs')}, app CPU per request"
                       f" {stats(d.get(f'load_{size}_{c}_app_cpu_us', []), 'µs')}")
            for n in (PORTSIDE, LWA):
                r = raw.get(n, {})
                if not r.get(f"load_{size}_{c}_driver_us"):
                    continue
                out.append(f"  - {n}: driver (Go Runtime API) CPU per invocation {stats(r[f'load_{size}_{c}_driver_us'], 'µs')},"
                           f" busy {stats(r[f'load_{size}_{c}_driver_busy'], 'cores')}; app CPU per invocation"
                           f" {stats(r[f'load_{size}_{c}_app_us'], 'µs')}, busy {stats(r[f'load_{size}_{c}_app_busy'], 'cores')};"
                           f" adapter busy {stats(r[f'load_{size}_{c}_adapter_busy'], 'cores')}; /next handed out → result"
                           f" p50 {stats(r[f'load_{size}_{c}_handout_p50_us'], 'µs')}, p99 {stats(r[f'load_{size}_{c}_handout_p99_us'], 'µs')};"
                           f" pollers waiting when idle {stats(r[f'load_{size}_{c}_pollers'], '')}; threads"
                           f" {stats(r[f'load_{size}_{c}_threads'], '')}; VmHWM {stats(r[f'load_{size}_{c}_hwm_mb'], 'MB')}")
    return out


def json_facts() -> str:
    body = json_1mib()
    records = len(json.loads(body))
    escapes = len(re.findall(rb'\\.', body))
    quotes = body.count(b'"')
    high = sum(1 for b in body if b >= 0x80)
    return (f"{len(body)} bytes, {records} records, {quotes} quote characters, {escapes} escape"
            f" sequences (\\\" \\\\ \\n \\t), {high} bytes of UTF-8 beyond ASCII")


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


class LoadSampler:
    """The 1-minute load average every 10 s while the run lasts: the machine
    is shared, and RESULTS.md says how busy it was."""

    def __init__(self):
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self.samples.append(float(loadavg().split()[0]))
            except ValueError:
                pass
            if self._stop.wait(10):
                return

    def stop(self) -> str:
        self._stop.set()
        self._thread.join(1)
        s = self.samples
        if not s:
            return "?"
        return f"median {statistics.median(s):.2f}, min {min(s):.2f}, max {max(s):.2f} ({len(s)} samples)"


# RESULTS.md: run.py owns the part between these markers; whatever else is in
# the file (bench/soak.py's section, say) is kept as it is.
OWN_START = "<!-- bench/run.py: start (rewritten by every full run) -->"
OWN_END = "<!-- bench/run.py: end -->"


def write_results(path: Path, lines: list[str]) -> None:
    own = "\n".join([OWN_START, *lines, OWN_END])
    old = path.read_text() if path.exists() else ""
    if OWN_START in old and OWN_END in old:
        before, rest = old.split(OWN_START, 1)
        _, after = rest.split(OWN_END, 1)
        text = before + own + after
    else:
        # The format before the markers: the whole file was run.py's, ending
        # with "## Details"; keep any other level-2 section after it.
        kept = [sec for sec in re.split(r"(?m)^(?=## )", old)[1:]
                if not sec.startswith("## Details")]
        text = own + "\n" + ("\n" + "".join(kept) if kept else "")
    path.write_text(text.rstrip("\n") + "\n")


def update_block(path: Path, start: str, end: str, block_lines: list[str]) -> bool:
    """Replaces the text between the markers `start` and `end` in `path`."""
    if not path.exists():
        return False
    text = path.read_text()
    if start not in text or end not in text:
        return False
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    path.write_text(before + "\n".join([start, *block_lines, end]) + after)
    return True


# ---------------------------------------------------------------- main


def figs_from(saved: dict) -> dict[str, Figure]:
    """A saved run's figures (--save) back as Figures with today's goals."""
    figs = figures()
    for key, data in saved.items():
        if key in figs:
            figs[key].data = {who: [tuple(x) for x in samples] for who, samples in data.items()}
    return figs


def measure(args, binary: Path, peer: Path | None, only: set[str]) -> dict:
    """Runs the groups; returns the run's record: its figures, details and facts."""
    subjects = [Subject(PORTSIDE, binary)]
    if peer:
        subjects.append(Subject(LWA, peer, grace=0.05))
    plan = Plan.make(args.quick, args.runs)
    figs = figures()
    raw: dict = {}
    size = binary.stat().st_size
    figs["size"].add(PORTSIDE, size / MIB)
    if peer:
        figs["size"].add(LWA, peer.stat().st_size / MIB)

    started = time.monotonic()
    load_before = loadavg()
    sampler = LoadSampler()
    import load

    steps = [
        ("cpu", "CPU per invocation and peak RSS", measure_cpu),
        ("json", "CPU per 1 MiB JSON text response", measure_json),
        ("latency", "adapter-added latency", measure_latency),
        ("spawn", "spawn → first /next and RSS after init", measure_spawn),
        ("first", "the first invocation after start", measure_first),
        ("ready", "app listening → first /next", measure_readiness),
        ("stream", "response streaming: SSE events and 20 MB bodies (portside)", measure_stream),
        ("concurrency", "Managed Instances: N invocations at once (portside)", measure_concurrency),
        ("compression", "compression: CPU per MiB (portside)", measure_compression),
        ("json-shapes", "JSON text on real shapes, and binary bodies of the same sizes", measure_shapes),
        ("floor", "the small invocation beside its floor (bench/floor.c)", measure_floor),
        ("exec", "exec → register and first /next (the process's own start)", measure_exec),
        ("load", "Managed Instances under load (bench/load, Go)", load.measure_load),
        ("big-stream", "a 200 MB stream read at 20 MB/s", measure_big_stream),
    ]
    say(f"subjects: {', '.join(f'{s.name} ({s.binary})' for s in subjects)}")
    with tempfile.TemporaryDirectory(prefix="portside-bench-") as tmp:
        for key, title, step in steps:
            if only and key not in only:
                continue
            say(f"==> {title}")
            step(plan, subjects, Path(tmp), figs, raw)
    elapsed = time.monotonic() - started
    load_during = sampler.stop()
    load_after = loadavg()
    names = [s.name for s in subjects] + ([FLOOR] if raw.get(FLOOR) or figs["floor_cpu"].values(FLOOR) else [])
    return {
        "figs": {k: f.data for k, f in figs.items()},
        "details": details(raw, figs, plan, names) + [f"- the 1 MiB JSON body (`/json-1mib`): {json_facts()}"],
        "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "elapsed": elapsed,
        "load_before": load_before, "load_after": load_after, "load_during": load_during,
        "command": "python3 bench/run.py" + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:]),
        "binary": str(binary), "peer": str(peer) if peer else "",
        "source": source_of(binary),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark portside side by side with LWA "
                    f"{PEER_VERSION}, in one run of one harness.")
    parser.add_argument("--binary", type=Path, default=DEFAULT_BINARY,
                        help="the portside binary (default: the ./build.sh --layer release build)")
    parser.add_argument("--peer", type=Path, default=None,
                        help=f"an LWA binary to measure against (default: {os.path.relpath(DEFAULT_PEER, ROOT)},"
                             f" installed there from crates.io when missing)")
    parser.add_argument("--no-peer", action="store_true",
                        help="portside alone (no LWA figures, no ratios); writes nothing unless --write")
    parser.add_argument("--runs", type=int, default=None,
                        help="rounds: adapter processes per subject for the CPU, JSON, latency,"
                             " streaming and compression scenarios (default 5; 1 with --quick);"
                             " start-up repetitions and concurrency rounds scale with it")
    parser.add_argument("--quick", action="store_true", help="a smoke run, well under a minute")
    parser.add_argument("--write", action="store_true",
                        help="write bench/RESULTS.md and the tables even with --quick, --only or --no-peer")
    parser.add_argument("--no-write", action="store_true", help="write nothing, only print")
    parser.add_argument("--save", type=Path, help="also save this run's figures and details to a JSON file")
    parser.add_argument("--combine", type=Path, nargs="+", metavar="SAVED",
                        help="measure nothing: report runs saved with --save (the first one's figures,"
                             " the range and verdicts over all), and write the results as a full run does")
    groups = ["cpu", "json", "latency", "spawn", "first", "ready", "stream", "concurrency",
              "compression", "json-shapes", "floor", "exec", "load", "big-stream"]
    parser.add_argument("--only", default="", help="comma-separated groups: " + ",".join(groups))
    args = parser.parse_args()

    only = set(filter(None, args.only.split(",")))
    if only - set(groups):
        say(f"run.py: unknown --only group {', '.join(sorted(only - set(groups)))};"
            f" the groups are {', '.join(groups)}")
        return 2
    if args.runs is not None and args.runs < 1:
        say("run.py: --runs must be at least 1")
        return 2
    if args.no_peer and args.peer:
        say("run.py: give --peer PATH or --no-peer, not both")
        return 2
    if args.combine:
        try:
            records = [json.loads(p.read_text()) for p in args.combine]
        except (OSError, ValueError) as e:
            say(f"run.py: --combine: {e}")
            return 2
        write = not args.no_write
    else:
        binary = Path(os.path.abspath(args.binary))
        if not binary.is_file():
            say(f"run.py: {binary} does not exist; build it with ./build.sh --layer, or give --binary PATH")
            return 2
        if not Path("/proc/self/stat").exists():
            say("run.py: needs Linux /proc")
            return 2
        peer = None if args.no_peer else find_peer(args.peer)
        record = measure(args, binary, peer, only)
        if args.save:
            args.save.write_text(json.dumps(record))
            say(f"saved this run to {args.save}")
        records = [record]
        write = (args.write or (not args.quick and not only and peer is not None)) and not args.no_write
    report(records, write)
    return 0


def report(records: list[dict], write: bool) -> None:
    """Prints the tables of the first run (with the range and verdicts over
    every run given) and, with `write`, writes RESULTS.md, the snapshot in
    bench/README.md, the root README's table and the chart."""
    first = records[0]
    runs = [figs_from(r["figs"]) for r in records]
    figs, others = runs[0], runs[1:]
    binary = Path(first["binary"])
    peer = Path(first["peer"]) if first["peer"] else None
    facts = elf_facts(binary) if binary.is_file() else {}
    size = binary.stat().st_size if binary.is_file() else 0
    peer_facts = elf_facts(peer) if peer and peer.is_file() else {}
    m = machine()

    def rel(path: Path) -> str:
        return os.path.relpath(path, ROOT) if str(path).startswith(str(ROOT) + os.sep) else str(path)

    def linking(f: dict) -> str:
        if not f.get("elf"):
            return "not an ELF file"
        if f.get("static"):
            return "static" + (" (static-pie)" if f.get("pie") else "")
        return "dynamic (asks for a loader)"

    static_text = linking(facts)
    peer_text = ""
    if peer:
        version = installed_version(peer) or f"version unknown (not installed by cargo install; run.py expects {PEER_VERSION})"
        psize = peer.stat().st_size if peer.is_file() else 0
        peer_text = (f"`{rel(peer)}`, {version}, {psize} bytes ({psize / MIB:.2f} MiB), {linking(peer_facts)},"
                     f" {'stripped' if peer_facts.get('stripped') else 'not stripped'}")
    peer_note = f" ({'static' if peer_facts.get('static') else 'dynamic'}, `cargo install`)" if peer else ""
    n_runs = f"; {len(records)} runs, the tables give the first and the range over all" if len(records) > 1 else ""
    stamp = (
        f"{first['when']}; {m['nproc']} cores, {m['cpu']}, Linux {m['kernel']}, Python {m['python']};"
        f" portside `{rel(binary)}`, {size} bytes, {static_text};"
        + (f" LWA {peer_text};" if peer else " no LWA (--no-peer);")
        + f" `{first['command']}`, {first['elapsed']:.0f} s, 1-min load {first['load_during']}{n_runs}"
    )
    static, peer_run = bool(facts.get("static")), bool(peer)
    main_rows = table(figs, MAIN_KEYS, static, peer_run, peer_note, others)
    other_rows = table(figs, ISSUE5_KEYS, static, peer_run, others=others)
    rows28 = table(figs, ISSUE28_KEYS, static, peer_run, others=others) + worst_rows(figs, others)
    shape_rows = shapes_table(figs, others)
    load_rows = load_table(figs, others)
    floor_rows = floor_table(figs)
    runs_lines = [f"- run {i + 1}: {r['when']}, {r['elapsed']:.0f} s, 1-min load {r['load_during']},"
                  f" `{r['command']}`" for i, r in enumerate(records)]
    print()
    print(stamp)
    for block in (main_rows, rows28, shape_rows, floor_rows, load_rows, other_rows, first["details"]):
        print()
        print("\n".join(block))
    if not write:
        return
    import chart

    svg = chart.svg(chart_bars(figs, others), f"portside / LWA {PEER_VERSION} and the other references,"
                    f" {first['when']}")
    (HERE / "ratios.svg").write_text(svg)
    chart_note = "![portside's ratios, bar chart](ratios.svg)"
    lines = [
        "# Benchmark results",
        "",
        "Written by `bench/run.py`; see `bench/README.md` for what each figure means, how it is",
        "measured and its biases. portside and LWA measured in one run of one harness, in",
        "alternating batches (ABBA); medians over repeated rounds; the machine is shared and noisy.",
        "",
        f"- date: {first['when']}",
        f"- machine: {m['nproc']} cores (`nproc`), {m['cpu']}, Linux {m['kernel']},"
        f" Python {m['python']}",
        f"- portside: `{rel(binary)}`, {size} bytes ({size / MIB:.2f} MiB), {static_text},"
        f" {'stripped' if facts.get('stripped') else 'not stripped'}",
        f"- portside's source: {first['source']}",
        f"- LWA: {peer_text}" if peer else "- LWA: not run (`--no-peer`)",
        f"- command: `{first['command']}`",
        f"- wall time {first['elapsed']:.0f} s; load average (1, 5, 15 min) {first['load_before']} before,"
        f" {first['load_after']} after; 1-min load during the run: {first['load_during']}",
        *(["- runs reported together (`--combine`); the tables give run 1's figures, the \"runs\" column the"
           " range of the ratio of medians over all of them, the verdicts how many met the goal:",
           *runs_lines] if len(records) > 1 else []),
        "",
        "The chart of every ratio: [ratios.svg](ratios.svg).",
        "",
        "## Side by side (issues 12 and 28)",
        "",
        *main_rows,
        "",
        "Ratios are portside / LWA of the medians (below 1: portside uses less). \"rounds\":",
        "the lowest and highest ratio of one round's medians (a round: one process per",
        "adapter, or a fifth of the start-up repetitions), so the spread within this run.",
        "A goal is met when the ratio of the medians is at or under it. MB is 10⁶ bytes",
        "(VmHWM and VmRSS in KiB × 1024 / 10⁶). LWA's binary is the `cargo install` build",
        "(host target), not the one in LWA's layer; the size goal is portside's own.",
        "",
        "## Issue 28: real JSON shapes, the floor, the start, Managed Instances under load, big streams",
        "",
        *rows28,
        "",
        "### JSON text on real shapes (CPU per invocation)",
        "",
        *shape_rows,
        "",
        "### The small invocation and the start beside the floor",
        "",
        *floor_rows,
        "",
        "### Managed Instances under load (bench/load: Go app and driver)",
        "",
        *load_rows,
        "",
        "## portside alone (issue 5)",
        "",
        *other_rows,
        "",
        "These run portside only; their targets are absolute. \"within noise\" means the",
        f"median is within ±{NOISE:.0%} of the target.",
        "",
        "## Details (run 1)",
        "",
        *first["details"],
    ]
    write_results(HERE / "RESULTS.md", lines)
    update_block(HERE / "README.md", "<!-- results:start -->", "<!-- results:end -->",
                 [f"From RESULTS.md: {stamp}", "", chart_note, "", *main_rows, "", *rows28, "",
                  *shape_rows, "", *load_rows, "", *other_rows])
    update_block(ROOT / "docs" / "src" / "benchmarks.md", "<!-- bench:start -->", "<!-- bench:end -->",
                 [f"Full run of {first['when']} (`bench/RESULTS.md` in the repository; 1-min load"
                  f" {first['load_during']}{n_runs}; the chart: `bench/ratios.svg`):", "",
                  *main_rows, "", *rows28])
    say(f"wrote {HERE / 'RESULTS.md'}, {HERE / 'ratios.svg'}, the tables in bench/README.md and"
        " docs/src/benchmarks.md")


if __name__ == "__main__":
    sys.exit(main())
