#!/usr/bin/env python3
"""--watch's reload time for the sample app: from a saved change to the
first request answered by the new code.

portside-local serves a copy of sample-app/ (gunicorn + Flask, the portside
layer assembled from target/debug/portside and shim/bootstrap, as serve.sh
does) with --watch. Each round edits the code (the `service` name GET /
returns, in users_api/app.py) and polls GET / every 5 ms until the new name
comes back; the time from the write to that answer is one sample. The
rounds are spaced so that each starts from a warm, idle function.

    . scripts/python-env.sh serve            # Flask and gunicorn on PATH
    cargo build -p portside -p portside-local
    python3 bench/reload.py                  # 20 rounds (--rounds N)

Prints every sample and the median, minimum, 90th percentile and maximum,
with the machine's load, and the median of what remains without the new
environment's init (the app's own start, which portside-local reports):
portside-local's part of the reload. Linux, Python 3.11+, standard library only.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.loads(r.read()).get("service")
    except (OSError, ValueError):
        return None


def set_service(app_py: Path, name: str) -> None:
    text = app_py.read_text()
    text, n = re.subn(r'service="[^"]*"', f'service="{name}"', text, count=1)
    if n != 1:
        raise SystemExit(f"{app_py} no longer returns service=\"...\" from GET /: update bench/reload.py")
    # Write and rename, as editors save.
    tmp = app_py.with_name(".app.py.new")
    tmp.write_text(text)
    tmp.replace(app_py)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--pause", type=float, default=1.0, help="seconds between rounds (default 1)")
    args = ap.parse_args()
    local = TARGET / "debug" / "portside-local"
    adapter = TARGET / "debug" / "portside"
    for f in (local, adapter):
        if not f.is_file():
            print(f"{f} is missing: run cargo build -p portside -p portside-local", file=sys.stderr)
            return 1
    if shutil.which("gunicorn") is None:
        print("gunicorn is not on PATH: run `. scripts/python-env.sh serve` first", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="portside-reload-"))
    try:
        app = work / "app"
        shutil.copytree(REPO / "sample-app", app, ignore=shutil.ignore_patterns("tests", "__pycache__"))
        layer = work / "layer"
        (layer / "extensions").mkdir(parents=True)
        shutil.copy2(adapter, layer / "extensions" / "portside")
        shutil.copy2(REPO / "shim" / "bootstrap", layer / "bootstrap")
        front = free_port()
        log = open(work / "portside-local.log", "w")
        proc = subprocess.Popen(
            [str(local), "--function", str(app), "--handler", "run.sh", "--layer", str(layer),
             "--env", f"PORT={free_port()}", "--env", f"SQLITE_PATH={work / 'users.sqlite3'}",
             "--port", str(front), "--watch", "--quiet"],
            stdout=subprocess.DEVNULL, stderr=log,
        )
        url = f"http://127.0.0.1:{front}/"
        try:
            deadline = time.monotonic() + 60
            while service(url) != "users-api":
                if proc.poll() is not None or time.monotonic() > deadline:
                    print((work / "portside-local.log").read_text(), file=sys.stderr)
                    return 1
                time.sleep(0.05)
            samples = []
            app_inits = []
            app_py = app / "users_api" / "app.py"
            for i in range(1, args.rounds + 1):
                time.sleep(args.pause)
                name = f"users-api-{i}"
                started = time.monotonic()
                set_service(app_py, name)
                while service(url) != name:
                    if time.monotonic() - started > 30:
                        print(f"round {i}: the new code never answered", file=sys.stderr)
                        print((work / "portside-local.log").read_text()[-4000:], file=sys.stderr)
                        return 1
                    time.sleep(0.005)
                took = time.monotonic() - started
                samples.append(took)
                log.flush()
                inits = re.findall(r"environment 1 is up \(init ([0-9.]+) s\)", (work / "portside-local.log").read_text())
                init = float(inits[-1]) if len(inits) >= i else float("nan")
                app_inits.append(init)
                print(f"round {i:2}: {took * 1000:7.1f} ms (of which the new environment's init {init * 1000:.0f} ms)")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            log.close()
        overhead = sorted(t - a for t, a in zip(samples, app_inits))
        samples.sort()
        p90 = samples[max(0, int(round(0.9 * len(samples))) - 1)]
        load = os.getloadavg()[0]
        print(
            f"change -> first answer from the new code, sample app, {len(samples)} rounds: "
            f"median {statistics.median(samples) * 1000:.0f} ms, min {samples[0] * 1000:.0f} ms, "
            f"p90 {p90 * 1000:.0f} ms, max {samples[-1] * 1000:.0f} ms; "
            f"without the new environment's init (the app's own start): median "
            f"{statistics.median(overhead) * 1000:.0f} ms "
            f"(1-min load {load:.2f}, {os.cpu_count()} cores)"
        )
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
