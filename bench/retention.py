#!/usr/bin/env python3
"""How much memory the adapter keeps after large invocations.

    python3 bench/retention.py [--binary PATH] [--mib 4] [--uploads 5] [--runs 3]

One adapter process per run, behind bench/emulator.py and bench/app.py as in
bench/run.py: 20 small HTTP API invocations, then `--uploads` POSTs of
`--mib` MiB (random bytes, base64 in the event), then 50 small invocations.
Prints the adapter's VmHWM and VmRSS (/proc/PID/status, MB = 10^6 bytes)
after each phase, per run and as medians. The figure that matters is VmRSS
after the last phase: what a function keeps paying for, in memory it shares
with the app, once its traffic is small again.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

import run
from emulator import Emulator

PHASES = ("after 20 small", "after the uploads", "after 50 small")


def memory(pid: int) -> dict[str, float]:
    """VmHWM and VmRSS of `pid`, in MB (10^6 bytes)."""
    out = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0]) * 1024 / 1e6
    return out


def one_run(binary: Path, mib: int, uploads: int) -> list[dict[str, float]]:
    port = run.free_port()
    app = run.App(port)
    emu = Emulator()
    adapter = run.Adapter(binary, emu, port, Path(tempfile.mkdtemp(prefix="portside-retention-")))
    try:
        adapter.wait_first_next()
        size = mib * 1024 * 1024
        upload = run.http_api_event(
            "POST",
            "/upload",
            headers={"content-type": "application/octet-stream", "content-length": str(size)},
            body=os.urandom(size),
        )
        seen = []
        for _ in range(20):
            adapter.invoke(run.SMALL_EVENT)
        seen.append(memory(adapter.pid))
        for _ in range(uploads):
            result = run.result_of(adapter.invoke(upload))
            if result.get("statusCode") != 200 or json.loads(result["body"]) != {"received": size}:
                raise RuntimeError(f"an upload failed: {result!r:.300}")
        seen.append(memory(adapter.pid))
        for _ in range(50):
            adapter.invoke(run.SMALL_EVENT)
        seen.append(memory(adapter.pid))
        return seen
    finally:
        adapter.stop()
        emu.close()
        app.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", type=Path, default=run.DEFAULT_BINARY)
    parser.add_argument("--mib", type=int, default=4, help="MiB per upload (default 4)")
    parser.add_argument("--uploads", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not args.binary.is_file():
        raise SystemExit(f"no adapter binary at {args.binary}: run ./build.sh --layer first")
    runs = [one_run(args.binary, args.mib, args.uploads) for _ in range(args.runs)]
    for n, seen in enumerate(runs, 1):
        cells = ", ".join(f"{p}: HWM {m['VmHWM']:.2f} / RSS {m['VmRSS']:.2f}" for p, m in zip(PHASES, seen))
        print(f"run {n}: {cells}")
    for i, phase in enumerate(PHASES):
        hwm = statistics.median(r[i]["VmHWM"] for r in runs)
        rss = statistics.median(r[i]["VmRSS"] for r in runs)
        print(f"median {phase}: VmHWM {hwm:.2f} MB, VmRSS {rss:.2f} MB")


if __name__ == "__main__":
    main()
