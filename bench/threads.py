#!/usr/bin/env python3
"""How many threads portside should serve Managed Instances invocations on
(issue 28 §3): one portside binary run as two subjects, one thread (the
default) and `PORTSIDE_WORKER_THREADS=auto` (one per CPU), with LWA beside
them, through bench/run.py's `load` harness (bench/load.py: a Go app, a Go
closed-loop Runtime API, every result checked), the three subjects in turns
that change each round.

    python3 bench/threads.py [--binary PATH] [--peer PATH] [--rounds 3] [--save FILE]

Prints, per body size and concurrency, each subject's CPU per invocation,
invocations per second, latency p50 and p99 added over the app called
directly, and how busy the adapter was (CPU seconds per second: near 1.0,
one thread is the limit). The ratios are medians over the rounds of
auto / one thread. The single thread's ceiling per core is 1 s divided by its
CPU per invocation.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import load
import run

ONE = "portside, 1 thread"
AUTO = "portside, auto"


def measure(binary: Path, peer: Path | None, rounds: int, log_dir: Path) -> dict:
    plan = run.Plan.make(quick=False, runs=rounds)
    subjects = [run.Subject(ONE, binary),
                run.Subject(AUTO, binary, env={"PORTSIDE_WORKER_THREADS": "auto"})]
    if peer is not None:
        subjects.append(run.Subject(run.LWA, peer, grace=0.05))
    tool = log_dir / "load"
    subprocess.run([str(load.HERE / "load" / "build.sh"), str(tool)], check=True)
    log = open(log_dir / "load.log", "w")

    def tail() -> str:
        log.flush()
        return (log_dir / "load.log").read_text(errors="replace")[-1500:]

    # figures[(size, c)][subject] = [per round: the run_adapter dict, with
    # the direct run's p50/p99 subtracted]
    figures: dict = defaultdict(lambda: defaultdict(list))
    app = load.Lines([str(tool), "app", "-listen", "127.0.0.1:0"], log)
    try:
        app_port = int(app.expect("listening", 10, tail))
        turn = 0
        raw: dict = {}
        for rnd in range(rounds):
            for size in run.LOAD_SIZES:
                for c in run.LOAD_CONCURRENCY:
                    direct = load.run_direct(run, tool, app, app_port, c, size, plan.load_n[size], log, tail, raw)
                    # Turn the order round: each subject goes first, second, last.
                    order = subjects[turn % len(subjects):] + subjects[:turn % len(subjects)]
                    turn += 1
                    for subject in order:
                        t = load.run_adapter(run, tool, subject, app, app_port, c, size, plan.load_n[size],
                                             plan.load_warm, log_dir, log, tail, raw)
                        t["added_p50_us"] = t["p50_us"] - direct["p50_us"]
                        t["added_p99_us"] = t["p99_us"] - direct["p99_us"]
                        figures[f"{size} {c}"][subject.name].append(t)
                    run.say(f"  round {rnd + 1} {run.size_label(size)} C={c}: " + "; ".join(
                        f"{s.name} {figures[f'{size} {c}'][s.name][-1]['cpu_us']:.0f} µs,"
                        f" {figures[f'{size} {c}'][s.name][-1]['per_second']:.0f}/s" for s in subjects))
    finally:
        app.stop()
        log.close()
    return {"binary": str(binary), "peer": str(peer) if peer else None, "rounds": rounds,
            "machine": run.machine(), "figures": figures}


def table(record: dict) -> str:
    """The Markdown table of a run: medians over rounds, and the ratio
    auto / one thread (median of the per-round ratios, with their range)."""
    names = [ONE, AUTO] + ([run.LWA] if record["peer"] else [])
    out = ["| bodies, C | " + " | ".join(
        f"{n}: CPU/inv, inv/s, added p50, added p99, busy" for n in names)
        + " | auto / 1 thread: CPU, inv/s, p99 (rounds) | 1 thread: ceiling per core |",
        "| --- |" + " --- |" * (len(names) + 2)]
    for key, by in record["figures"].items():
        size, c = (int(x) for x in key.split())
        cells = []
        for n in names:
            rs = by[n]
            cells.append(f"{statistics.median(r['cpu_us'] for r in rs):.0f} µs, {statistics.median(r['per_second'] for r in rs):.0f}/s,"
                         f" {statistics.median(r['added_p50_us'] for r in rs):.0f} µs, {statistics.median(r['added_p99_us'] for r in rs):.0f} µs,"
                         f" {statistics.median(r['adapter_busy'] for r in rs):.2f}")

        def ratio(field: str) -> str:
            rs = [a[field] / o[field] for a, o in zip(by[AUTO], by[ONE]) if o[field] > 0]
            return f"{statistics.median(rs):.2f}× ({min(rs):.2f}–{max(rs):.2f})" if rs else "—"

        ceiling = 1e6 / statistics.median(r["cpu_us"] for r in by[ONE])
        out.append(f"| {run.size_label(size)}, C = {c} | " + " | ".join(cells)
                   + f" | {ratio('cpu_us')}, {ratio('per_second')}, {ratio('added_p99_us')}"
                   + f" | {ceiling:,.0f}/s |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", type=Path, default=run.DEFAULT_BINARY)
    parser.add_argument("--peer", type=Path, default=None, help="an LWA binary (default: run.py's)")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    if not args.binary.is_file():
        run.say(f"threads.py: {args.binary} does not exist; build it with ./build.sh --layer")
        return 2
    peer = None if args.no_peer else run.find_peer(args.peer)
    with tempfile.TemporaryDirectory() as tmp:
        record = measure(args.binary.resolve(), peer, args.rounds, Path(tmp))
    if args.save:
        args.save.write_text(json.dumps(record))
    print(f"{record['machine']}; {args.rounds} rounds; medians")
    print(table(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
