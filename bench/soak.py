#!/usr/bin/env python3
"""A soak of the real adapter: many invocations through one portside process
(bench/emulator.py as Lambda's Runtime API, bench/app.py as the app, driven as
bench/run.py drives them), mixing small and large bodies, text and binary,
buffered and streamed results, HTTP and pass-through events, with idle gaps
(some longer than the pool's idle timeout) and freeze/thaw (SIGSTOP/SIGCONT of
the adapter, as Lambda freezes a sandbox: while it waits on /next, and in the
middle of an invocation). Every result is checked: its status, and the sha256
of its body against the bytes the app was asked to send (the app's bytes are
seeded, so the soak computes them itself).

It reports the adapter's RSS over time and its slope after the warm-up, its
open file descriptors and threads, and latency percentiles (the emulator's
/next answer sent → the whole result read) per 10,000 invocations.

    ./build.sh --layer && nice python3 bench/soak.py               # 100,000 invocations
    python3 bench/soak.py --invocations 5000 --binary PATH         # a short one
    python3 bench/soak.py --write                                  # also bench/RESULTS.md's soak section
    nice python3 bench/soak.py --concurrency 64 --write            # the Managed Instances phase

With --concurrency N (issue 22), the adapter runs as on a Managed Instance
(AWS_LAMBDA_MAX_CONCURRENCY=N, no freezes) and N invocations are in flight at
every moment: each result that comes back is checked and replaced at once.
Every 10,000 results the flight is drained, one small invocation is made, and
RSS, threads and descriptors are read at that same quiet point.

Goals (issue 14): zero failures, RSS flat within 1 MiB after the first 20,000
invocations, file descriptors and threads constant.
Standard library only (Python 3.11+), Linux only (/proc).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import json
import os
import platform
import random
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from app import SMALL, STREAM_BYTE, TEXT, blob  # noqa: E402
from emulator import Emulator, Invocation  # noqa: E402
from run import (  # noqa: E402
    DEFAULT_BINARY,
    FUNCTION_URL_DOMAIN,
    HTTP_INTEGRATION,
    Adapter,
    App,
    free_port,
    http_api_event,
)

MIB = 1024 * 1024
KIB = 1024
# Streamed responses: the Function URL's domain, in response_stream mode.
SOAK_ENV = {"AWS_LWA_INVOKE_MODE": "response_stream", "PORTSIDE_POOL_IDLE_TIMEOUT": "4"}
WARM_UP = 20_000
SAMPLE_EVERY = 1_000
WINDOW = 10_000


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Case:
    """One kind of invocation: the event and the bytes its result must carry."""

    name: str
    event: bytes
    expected: str  # sha256 of the body the result must carry
    streamed: bool = False
    pass_through: bool = False


def stream_bytes(total: int) -> bytes:
    return (STREAM_BYTE * (total // 256 + 1))[:total]


def make_cases(rng: random.Random) -> list[tuple[float, Case]]:
    """The mix, with weights. Seeds differ per case so no two bodies match."""
    cases: list[tuple[float, Case]] = []
    cases.append((30, Case("small-json", http_api_event("GET", "/small", "lang=en"), sha(SMALL))))
    for size, weight in ((100, 10), (4 * KIB, 10), (64 * KIB, 6), (MIB, 1.5)):
        seed = rng.randrange(1 << 30)
        cases.append((weight, Case(
            f"binary-{size}",
            http_api_event("GET", "/blob", f"bytes={size}&seed={seed}"),
            sha(blob(size, seed)),
        )))
        seed = rng.randrange(1 << 30)
        cases.append((weight, Case(
            f"text-{size}",
            http_api_event("GET", "/blob", f"bytes={size}&seed={seed}&type=text/plain"),
            sha(blob(size, seed, text=True)),
        )))
    cases.append((1, Case("text-1mib-json", http_api_event("GET", "/text-1mib"), sha(TEXT))))
    for size, weight in ((2 * KIB, 6), (256 * KIB, 2)):
        body = blob(size, rng.randrange(1 << 30))
        digest = json.dumps({"received": size, "sha256": sha(body)}).encode()
        cases.append((weight, Case(
            f"upload-{size}",
            http_api_event("POST", "/digest",
                           headers={"content-type": "application/octet-stream"}, body=body),
            sha(digest),
        )))
    for total, chunk, weight in ((8 * KIB, 256, 8), (MIB, 64 * KIB, 1.5)):
        cases.append((weight, Case(
            f"stream-{total}",
            http_api_event("GET", "/stream", f"bytes={total}&chunk={chunk}",
                           domain=FUNCTION_URL_DOMAIN),
            sha(stream_bytes(total)),
            streamed=True,
        )))
    for records in (1, 50):
        event = json.dumps({"Records": [
            {"eventSource": "aws:sqs", "messageId": f"m-{i}", "body": "x" * (i % 200)}
            for i in range(records)
        ]}).encode()
        digest = json.dumps({"received": len(event), "sha256": sha(event)}).encode()
        cases.append((8 if records == 1 else 2, Case(
            f"pass-through-{records}", event, sha(digest), pass_through=True)))
    return cases


def result_body(case: Case, inv: Invocation) -> bytes:
    """The body a result carries, or an exception saying why it is wrong."""
    if inv.kind != "response":
        raise RuntimeError(f"{case.name}: {inv.kind}: {inv.body[:300]!r}")
    if case.pass_through:
        return inv.body
    if case.streamed:
        if inv.headers.get("content-type") != HTTP_INTEGRATION or inv.trailers:
            raise RuntimeError(f"{case.name}: not a clean stream: {inv.headers} {inv.trailers}")
        head, sep, body = b"".join(data for _, data in inv.chunks).partition(b"\0" * 8)
        if not sep or json.loads(head).get("statusCode") != 200:
            raise RuntimeError(f"{case.name}: bad prelude {head[:300]!r}")
        return body
    result = json.loads(inv.body)
    if result.get("statusCode") != 200:
        raise RuntimeError(f"{case.name}: status {result.get('statusCode')}: {inv.body[:300]!r}")
    if result.get("isBase64Encoded"):
        return base64.b64decode(result["body"])
    return result["body"].encode()


def proc_figures(pid: int) -> tuple[int, int, int]:
    """RSS in KiB, threads, open file descriptors."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, threads, fds


def slope(points: list[tuple[int, int]]) -> float:
    """Least-squares slope of (invocations, KiB), in KiB per 10,000 invocations."""
    if len(points) < 2:
        return 0.0
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in points) / den * WINDOW if den else 0.0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def freeze(pid: int, seconds: float) -> None:
    os.kill(pid, signal.SIGSTOP)
    time.sleep(seconds)
    os.kill(pid, signal.SIGCONT)


def soak(args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    cases = make_cases(rng)
    weights = [w for w, _ in cases]
    small = cases[0][1]
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="portside-soak-"))
    app = App(port)
    emu = Emulator()
    adapter = Adapter(Path(args.binary), emu, port, log_dir, extra_env=SOAK_ENV)
    samples: list[dict] = []
    latencies: list[float] = []
    windows: list[dict] = []
    failures: list[str] = []
    counts: dict[str, int] = {}
    events = {"idle_gaps": 0, "long_idle_gaps": 0, "freezes_idle": 0, "freezes_mid": 0}
    started = time.monotonic()
    try:
        adapter.wait_first_next()
        emu.wait_idle()
        rss, threads, fds = proc_figures(adapter.pid)
        samples.append({"n": 0, "rss_kib": rss, "raw_rss_kib": rss, "threads": threads, "fds": fds,
                        "t": 0.0})
        for n in range(1, args.invocations + 1):
            case = rng.choices(cases, weights)[0][1]
            counts[case.name] = counts.get(case.name, 0) + 1
            mid_freeze = n % args.freeze_every == args.freeze_every // 2
            try:
                if mid_freeze:
                    # Frozen while the invocation is on its way (Lambda freezes
                    # at any time from the sandbox's view: here right after the
                    # event was handed over), thawed a second later.
                    inv = emu.enqueue(case.event)
                    time.sleep(rng.uniform(0, 0.002))
                    freeze(adapter.pid, args.freeze_seconds)
                    events["freezes_mid"] += 1
                    if not inv.done.wait(60):
                        raise RuntimeError("no result after a thaw")
                else:
                    inv = adapter.invoke(case.event, timeout=60)
                body = result_body(case, inv)
                if sha(body) != case.expected:
                    raise RuntimeError(f"{case.name}: sha256 differs ({len(body)} bytes)")
                latencies.append((inv.done_ns - inv.sent_ns) / 1e6)
            except Exception as err:  # noqa: BLE001 - every failure is counted and reported
                failures.append(f"#{n} {err}")
                if len(failures) > args.max_failures:
                    raise RuntimeError(f"too many failures: {failures[:5]}") from None
                if adapter.proc.poll() is not None:
                    raise RuntimeError(adapter.failure("died")) from None
            if n % args.freeze_every == 0:
                emu.wait_idle()
                freeze(adapter.pid, args.freeze_seconds)
                events["freezes_idle"] += 1
            if n % args.long_idle_every == 0:
                time.sleep(args.long_idle_seconds)  # past the pool's idle timeout
                events["long_idle_gaps"] += 1
            elif n % args.idle_every == 0:
                time.sleep(args.idle_seconds)
                events["idle_gaps"] += 1
            if n % SAMPLE_EVERY == 0:
                emu.wait_idle()
                # The allocator keeps the large blocks the last invocation
                # used (layer/src/alloc.rs): RSS right after a 1 MiB one is
                # higher by design. So RSS is read as it is, and again after
                # one small invocation (not counted in the mix), which gives
                # those blocks back: that one is the soak's steady figure.
                raw, _, _ = proc_figures(adapter.pid)
                probe = adapter.invoke(small.event, timeout=60)
                if sha(result_body(small, probe)) != small.expected:
                    failures.append(f"#{n} the probe's sha256 differs")
                emu.wait_idle()
                rss, threads, fds = proc_figures(adapter.pid)
                samples.append({"n": n, "rss_kib": rss, "raw_rss_kib": raw, "threads": threads,
                                "fds": fds, "t": round(time.monotonic() - started, 1)})
            if n % WINDOW == 0:
                window = latencies[-WINDOW:]
                windows.append({
                    "to": n, "p50_ms": pct(window, 50), "p90_ms": pct(window, 90),
                    "p99_ms": pct(window, 99), "p999_ms": pct(window, 99.9), "max_ms": max(window),
                })
                s = samples[-1]
                print(f"{n:>7} invocations, {s['t']:>7.1f} s: RSS {s['rss_kib']} KiB, "
                      f"{s['threads']} threads, {s['fds']} fds, p50 {windows[-1]['p50_ms']:.2f} ms, "
                      f"p99 {windows[-1]['p99_ms']:.2f} ms, failures {len(failures)}", flush=True)
    finally:
        alive = adapter.proc.poll() is None
        adapter.stop()
        emu.close()
        app.stop()
    after = [(s["n"], s["rss_kib"]) for s in samples if s["n"] >= WARM_UP]
    raw_after = [s["raw_rss_kib"] for s in samples if s["n"] >= WARM_UP]
    return {
        "invocations": args.invocations,
        "seconds": round(time.monotonic() - started, 1),
        "failures": failures,
        "alive_at_end": alive,
        "counts": counts,
        "events": events,
        "samples": samples,
        "windows": windows,
        "rss_after_warm_up_kib": (min(y for _, y in after), max(y for _, y in after)) if after else None,
        "rss_slope_kib_per_10k": round(slope(after), 1),
        "raw_rss_after_warm_up_kib": (min(raw_after), max(raw_after)) if raw_after else None,
        "threads": sorted({s["threads"] for s in samples[1:]}),
        "fds": sorted({s["fds"] for s in samples[1:]}),
    }


def soak_concurrent(args: argparse.Namespace) -> dict:
    """The Managed Instances phase: `args.concurrency` invocations always in flight."""
    rng = random.Random(args.seed)
    cases = make_cases(rng)
    weights = [w for w, _ in cases]
    small = cases[0][1]
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="portside-soak-mi-"))
    app = App(port)
    emu = Emulator()
    env = dict(SOAK_ENV, AWS_LAMBDA_MAX_CONCURRENCY=str(args.concurrency))
    adapter = Adapter(Path(args.binary), emu, port, log_dir, extra_env=env)
    samples: list[dict] = []
    latencies: list[float] = []
    windows: list[dict] = []
    failures: list[str] = []
    counts: dict[str, int] = {}
    flight: list[tuple[int, Case, Invocation]] = []
    started = time.monotonic()

    def quiet_point(n: int) -> None:
        """Drains nothing itself: called with nothing in flight."""
        emu.wait_idle()
        probe = adapter.invoke(small.event, timeout=60)
        if sha(result_body(small, probe)) != small.expected:
            failures.append(f"#{n} the probe's sha256 differs")
        emu.wait_idle()
        rss, threads, fds = proc_figures(adapter.pid)
        samples.append({"n": n, "rss_kib": rss, "raw_rss_kib": rss, "threads": threads, "fds": fds,
                        "t": round(time.monotonic() - started, 1)})

    try:
        adapter.wait_first_next()
        quiet_point(0)
        submitted = finished = 0
        next_quiet = WINDOW
        while finished < args.invocations:
            # Submit up to the next quiet point, then let the flight drain.
            limit = min(next_quiet, args.invocations)
            while len(flight) < args.concurrency and submitted < limit:
                submitted += 1
                case = rng.choices(cases, weights)[0][1]
                counts[case.name] = counts.get(case.name, 0) + 1
                flight.append((submitted, case, emu.enqueue(case.event)))
            done = [item for item in flight if item[2].done.is_set()]
            if not done:
                if adapter.proc.poll() is not None:
                    raise RuntimeError(adapter.failure("died"))
                if time.monotonic() - started > args.invocations:  # a second per invocation: stuck
                    raise RuntimeError(adapter.failure("stopped answering"))
                time.sleep(0.0005)
                continue
            for item in done:
                flight.remove(item)
                n, case, inv = item
                finished += 1
                try:
                    body = result_body(case, inv)
                    if sha(body) != case.expected:
                        raise RuntimeError(f"{case.name}: sha256 differs ({len(body)} bytes)")
                    latencies.append((inv.done_ns - inv.sent_ns) / 1e6)
                except Exception as err:  # noqa: BLE001 - every failure is counted and reported
                    failures.append(f"#{n} {err}")
                    if len(failures) > args.max_failures:
                        raise RuntimeError(f"too many failures: {failures[:5]}") from None
            if finished == limit and not flight:
                window = latencies[-(finished - samples[-1]["n"]):] or [0.0]
                windows.append({
                    "to": finished, "p50_ms": pct(window, 50), "p90_ms": pct(window, 90),
                    "p99_ms": pct(window, 99), "p999_ms": pct(window, 99.9), "max_ms": max(window),
                })
                quiet_point(finished)
                next_quiet += WINDOW
                s = samples[-1]
                print(f"{finished:>7} invocations, {s['t']:>7.1f} s: RSS {s['rss_kib']} KiB, "
                      f"{s['threads']} threads, {s['fds']} fds, p50 {windows[-1]['p50_ms']:.2f} ms, "
                      f"p99 {windows[-1]['p99_ms']:.2f} ms, failures {len(failures)}", flush=True)
    finally:
        alive = adapter.proc.poll() is None
        adapter.stop()
        emu.close()
        app.stop()
    after = [(s["n"], s["rss_kib"]) for s in samples if s["n"] >= WARM_UP]
    return {
        "invocations": args.invocations,
        "concurrency": args.concurrency,
        "seconds": round(time.monotonic() - started, 1),
        "failures": failures,
        "alive_at_end": alive,
        "counts": counts,
        "events": {"idle_gaps": 0, "long_idle_gaps": 0, "freezes_idle": 0, "freezes_mid": 0},
        "samples": samples,
        "windows": windows,
        "rss_after_warm_up_kib": (min(y for _, y in after), max(y for _, y in after)) if after else None,
        "rss_slope_kib_per_10k": round(slope(after), 1),
        "raw_rss_after_warm_up_kib": None,
        "threads": sorted({s["threads"] for s in samples[1:]}),
        "fds": sorted({s["fds"] for s in samples[1:]}),
    }


def report(r: dict, command: str, binary: str) -> str:
    if r.get("concurrency"):
        return report_concurrent(r, command, binary)
    lines = ["## Soak (bench/soak.py)", ""]
    lines.append(f"`{command}` on {datetime.date.today()}, {platform.machine()}, "
                 f"{os.cpu_count()} CPUs shared with other work, binary `{binary}`.")
    lines.append("")
    ev = r["events"]
    lines.append(
        f"{r['invocations']:,} invocations in {r['seconds']:,} s through one portside process, "
        f"{ev['idle_gaps']} idle gaps, {ev['long_idle_gaps']} past the pool's idle timeout, "
        f"{ev['freezes_idle']} freezes on /next and {ev['freezes_mid']} in the middle of an "
        f"invocation (SIGSTOP, thawed after a second). Mix: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(r["counts"].items())) + "."
    )
    lines.append("")
    lo, hi = r["rss_after_warm_up_kib"] or (0, 0)
    lines.append(f"- failures: **{len(r['failures'])}**" + (
        " (" + "; ".join(r["failures"][:5]) + ")" if r["failures"] else ""))
    raw_lo, raw_hi = r["raw_rss_after_warm_up_kib"] or (0, 0)
    lines.append(f"- RSS after the first {WARM_UP:,} (read every {SAMPLE_EVERY:,} after one small "
                 f"invocation): {lo:,}–{hi:,} KiB (spread {hi - lo:,} KiB), slope "
                 f"{r['rss_slope_kib_per_10k']} KiB per 10,000 invocations (least squares); read "
                 f"as it is, whatever the last invocation was: {raw_lo:,}–{raw_hi:,} KiB (the "
                 "allocator keeps the large blocks a 1 MiB invocation used until the next one)")
    lines.append(f"- threads: {r['threads']}; open file descriptors: {r['fds']}")
    lines.append("")
    lines.append("| invocations | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | RSS KiB | threads | fds |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    by_n = {s["n"]: s for s in r["samples"]}
    for w in r["windows"]:
        s = by_n.get(w["to"], {})
        lines.append(f"| {w['to'] - WINDOW + 1:,}–{w['to']:,} | {w['p50_ms']:.2f} | {w['p90_ms']:.2f} | "
                     f"{w['p99_ms']:.2f} | {w['p999_ms']:.2f} | {w['max_ms']:.1f} | "
                     f"{s.get('rss_kib', 0):,} | {s.get('threads', 0)} | {s.get('fds', 0)} |")
    lines.append("")
    lines.append("RSS every 10,000 invocations (KiB): " + ", ".join(
        f"{s['n']:,}: {s['rss_kib']:,}" for s in r["samples"] if s["n"] % WINDOW == 0) + ".")
    lines.append("Latency: the emulator's /next answer sent → the whole result read, so it "
                 "includes the Python app and emulator; freezes are inside the windows they fall in.")
    lines.append("")
    return "\n".join(lines)


def report_concurrent(r: dict, command: str, binary: str) -> str:
    lines = [MI_HEADING, ""]
    lines.append(f"`{command}` on {datetime.date.today()}, {platform.machine()}, "
                 f"{os.cpu_count()} CPUs shared with other work, binary `{binary}`.")
    lines.append("")
    lines.append(
        f"{r['invocations']:,} invocations in {r['seconds']:,} s through one portside process "
        f"with AWS_LAMBDA_MAX_CONCURRENCY={r['concurrency']} and {r['concurrency']} invocations "
        "in flight at every moment (each result checked and replaced at once). Mix: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(r["counts"].items())) + "."
    )
    lines.append("")
    lo, hi = r["rss_after_warm_up_kib"] or (0, 0)
    lines.append(f"- failures: **{len(r['failures'])}**" + (
        " (" + "; ".join(r["failures"][:5]) + ")" if r["failures"] else ""))
    lines.append(f"- RSS after the first {WARM_UP:,}, read with nothing in flight every "
                 f"{WINDOW:,} after one small invocation: {lo:,}–{hi:,} KiB (spread {hi - lo:,} "
                 f"KiB), slope {r['rss_slope_kib_per_10k']} KiB per 10,000 invocations")
    c = r["concurrency"]
    bound = 2 * ((c + 1) + c + (c + 1))
    lines.append(f"- threads: {r['threads']}; open file descriptors: {r['fds']} (read at the "
                 "same quiet points; they move with what the pools keep: up to "
                 f"{c + 1} idle connections to the app and {c + 1} to the Runtime API beside "
                 f"the {c} waiting on /next, two descriptors each, so at most {bound} plus the "
                 "process's own dozen)")
    lines.append("")
    lines.append("| invocations | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | RSS KiB | threads | fds |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    by_n = {s["n"]: s for s in r["samples"]}
    for w in r["windows"]:
        s = by_n.get(w["to"], {})
        lines.append(f"| {w['to'] - WINDOW + 1:,}–{w['to']:,} | {w['p50_ms']:.2f} | {w['p90_ms']:.2f} | "
                     f"{w['p99_ms']:.2f} | {w['p999_ms']:.2f} | {w['max_ms']:.1f} | "
                     f"{s.get('rss_kib', 0):,} | {s.get('threads', 0)} | {s.get('fds', 0)} |")
    lines.append("")
    lines.append("Latency: the emulator's /next answer sent → the whole result read, with "
                 f"{r['concurrency']} invocations sharing the Python app and emulator.")
    lines.append("")
    return "\n".join(lines)


MI_HEADING = "## Soak, Managed Instances (bench/soak.py --concurrency)"


def write_section(text: str) -> None:
    """Replaces (or appends) the soak section `text` belongs to in bench/RESULTS.md."""
    path = HERE / "RESULTS.md"
    old = path.read_text() if path.exists() else ""
    heading = text.split("\n", 1)[0]
    start = old.find(heading)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + 1)
        new = old[:start] + text + (old[end + 1:] if end >= 0 else "")
    path.write_text(new)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=str(DEFAULT_BINARY))
    parser.add_argument("--invocations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--idle-every", type=int, default=2_500)
    parser.add_argument("--idle-seconds", type=float, default=1.0)
    parser.add_argument("--long-idle-every", type=int, default=10_000)
    parser.add_argument("--long-idle-seconds", type=float, default=5.0)
    parser.add_argument("--freeze-every", type=int, default=5_000)
    parser.add_argument("--freeze-seconds", type=float, default=1.0)
    parser.add_argument("--max-failures", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=0,
                        help="the Managed Instances phase: this many invocations always in flight")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--write", action="store_true", help="write bench/RESULTS.md's soak section")
    args = parser.parse_args()
    if not Path(args.binary).exists():
        print(f"soak: no binary at {args.binary}; run ./build.sh --layer first", file=sys.stderr)
        return 2
    r = soak_concurrent(args) if args.concurrency > 0 else soak(args)
    command = "python3 bench/soak.py " + " ".join(sys.argv[1:])
    text = report(r, command.strip(), os.path.relpath(args.binary, ROOT))
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1))
    if args.write:
        write_section(text)
    ok = not r["failures"] and r["alive_at_end"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
