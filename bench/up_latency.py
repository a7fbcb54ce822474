#!/usr/bin/env python3
"""What ``portside-local up`` costs, on the sample stack (terraform/):

1. ready: from starting ``up`` (binaries already built) until every front
   door of the stack answers GET /health (HTTP API, REST API stage, Function
   URL), over a few starts; the time ``up`` itself prints beside it;
2. added latency of a warm request: the median of 1,000 GET /health through
   the stack's HTTP API under ``up``, against the same app through the short
   form (``portside-local -- ./run.sh`` in sample-app/, an HTTP API door of
   its own), alternating blocks of 100 so a busier machine costs both alike;
3. S3 put -> function START: a one-row CSV put in the stack's bucket with
   boto3, until ``up``'s log shows the import's START line (the line is
   timestamped as it arrives on the pipe), for 20 puts.

Needs what the tests need: the project's .venv first on PATH (boto3,
moto[server], Flask, gunicorn), terraform with its AWS provider (TF_PLUGIN_DIR
or a mirror under /opt), ``cargo build -p portside -p portside-local`` and
dist/sample-app-<arch>.zip (./build.sh, or sample-app/package.sh). Prints the
figures; writes nothing.

    python3 bench/up_latency.py [--starts 3] [--requests 1000] [--puts 20]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "terraform"))
from test_moto_apply import _plugin_dir  # noqa: E402

LOCAL = REPO / "target" / "debug" / "portside-local"
ADAPTER = REPO / "target" / "debug" / "portside"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A process whose stderr lines are read as they come, with their time."""

    def __init__(self, command, cwd=REPO, env=None):
        self.lines: list[tuple[float, str]] = []
        self.out: list[str] = []
        self.proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        threading.Thread(target=self._read, args=(self.proc.stderr, True), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stdout, False), daemon=True).start()

    def _read(self, pipe, timed):
        for line in pipe:
            if timed:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
            else:
                self.out.append(line)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def layer_zip(work: Path) -> Path:
    z = work / "portside-layer.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.write(ADAPTER, "extensions/portside")
        f.write(REPO / "shim" / "bootstrap", "bootstrap")
    return z


def start_up(work: Path) -> tuple[Proc, float, dict]:
    """Starts up on the sample stack; (process, seconds until every door answers, urls)."""
    env = dict(os.environ, TF_PLUGIN_DIR=os.environ.get("TF_PLUGIN_DIR") or str(_plugin_dir()))
    env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    started = time.monotonic()
    p = Proc([str(LOCAL), "up", "terraform", "--port", "0", "--aws-port", "0", "--var", f"layer_zip_path={layer_zip(work)}"], env=env)
    urls = {}
    while time.monotonic() - started < 300:
        banner = "".join(p.out)
        http = re.search(r"HTTP API \S+ at (http://\S+)", banner)
        rest = re.search(r"REST API \S+ at (http://\S+)", banner)
        url = re.search(r"Function URL (http://\S+)/ ", banner)
        aws = re.search(r"AWS resources at (http://\S+)", banner)
        if http and rest and url and aws:
            urls = {"http": http.group(1), "rest": rest.group(1) + "/prod", "url": url.group(1), "aws": aws.group(1)}
            try:
                if all(requests.get(f"{u}/health", timeout=5).status_code == 200 for k, u in urls.items() if k != "aws"):
                    return p, time.monotonic() - started, urls
            except requests.RequestException:
                pass
        if p.proc.poll() is not None:
            sys.exit("up exited:\n" + "\n".join(l for _, l in p.lines[-40:]))
        time.sleep(0.05)
    p.stop()
    sys.exit("up was not ready within 300 s")


def timed_gets(session, url, n) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = session.get(url, timeout=30)
        out.append(time.perf_counter() - t)
        assert r.status_code == 200
    return out


def latency(up_url: str, requests_total: int) -> tuple[float, float]:
    port = free_port()
    short = Proc(
        [str(LOCAL), "--port", str(port), "--env", "PORT=8000", "--", "./run.sh"],
        cwd=REPO / "sample-app",
    )
    short_url = f"http://127.0.0.1:{port}/health"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(short_url, timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            sys.exit("the short form did not answer")
        time.sleep(0.1)
    a, b = requests.Session(), requests.Session()
    timed_gets(a, f"{up_url}/health", 50)
    timed_gets(b, short_url, 50)
    ups, shorts = [], []
    for _ in range(max(1, requests_total // 100)):
        ups += timed_gets(a, f"{up_url}/health", 100)
        shorts += timed_gets(b, short_url, 100)
    short.stop()
    return statistics.median(ups), statistics.median(shorts)


def put_to_start(p: Proc, aws_url: str, puts: int) -> list[float]:
    import boto3

    s3 = boto3.client("s3", endpoint_url=aws_url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "-imports-" in b["Name"])
    out = []
    for i in range(puts):
        seen = len(p.lines)
        t = time.monotonic()
        s3.put_object(Bucket=bucket, Key=f"bench/{i}.csv", Body=f"name,email\nUser {i},u{i}@example.com\n".encode())
        while True:
            start = next((ts for ts, line in p.lines[seen:] if " START RequestId: " in line), None)
            if start is not None:
                break
            time.sleep(0.001)
        out.append(start - t)
        # The import's END before the next put.
        while not any(" END RequestId: " in line for _, line in p.lines[seen:]):
            time.sleep(0.01)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--starts", type=int, default=3)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--puts", type=int, default=20)
    o = ap.parse_args()
    if not (LOCAL.is_file() and ADAPTER.is_file()):
        sys.exit("build first: cargo build -p portside -p portside-local")
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"up-bench-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    readies = []
    for i in range(o.starts):
        p, ready, urls = start_up(work)
        printed = re.search(r"ready in ([0-9.]+) s", "".join(p.out))
        readies.append(ready)
        steps = "; ".join(
            m.group(1) for _, line in p.lines if (m := re.match(r"portside-local up: ((terraform|the mocked).* [0-9.]+ s)$", line))
        )
        print(f"start {i + 1}: every door answered after {ready:.1f} s (up printed: ready in {printed.group(1) if printed else '?'} s; {steps})")
        if i < o.starts - 1:
            p.stop()
    up_med, short_med = latency(urls["http"], o.requests)
    puts = put_to_start(p, urls["aws"], o.puts)
    p.stop()
    print(f"ready after the first build: median {statistics.median(readies):.1f} s over {o.starts} starts (1-min load {load:.2f})")
    print(
        f"warm GET /health, median of {o.requests}: up {up_med * 1000:.2f} ms, short form {short_med * 1000:.2f} ms, "
        f"added {(up_med - short_med) * 1000:.2f} ms"
    )
    print(f"S3 put -> START: median {statistics.median(puts) * 1000:.0f} ms, max {max(puts) * 1000:.0f} ms over {o.puts} puts")


if __name__ == "__main__":
    main()
