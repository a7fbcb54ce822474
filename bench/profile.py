#!/usr/bin/env python3
"""Runs one benchmark scenario with the adapter under a profiler or tracer,
to see where its CPU goes (bench/run.py measures how much).

    python3 bench/profile.py small  -n 2000 -- perf record -g -o /tmp/perf.data
    python3 bench/profile.py binary -n 200  -- strace -f -c -o /tmp/strace.txt
    python3 bench/profile.py upload -n 20   -- valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out

The words after `--` are put in front of the adapter's command line. A binary
with symbols profiles better than the stripped release build:

    CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \\
      cargo build --release --target x86_64-unknown-linux-musl -p portside --target-dir /tmp/sym
    python3 bench/profile.py binary --binary /tmp/sym/x86_64-unknown-linux-musl/release/portside -- perf record ...

Scenarios: small (GET, small JSON), binary (GET, 1 MiB octet-stream
response), upload (POST, 1 MiB base64 body), json (GET, 1 MiB of realistic
JSON text, returned as text), text, text-gzip (GET, 1 MiB of
compressible JSON text, with AWS_LWA_ENABLE_COMPRESSION=true and no
Accept-Encoding, and with gzip), stream (a Function URL GET streaming 20 MB, with
AWS_LWA_INVOKE_MODE=response_stream), shape-NAME (GET, one of bench/shapes.py's
JSON bodies, returned as text). `--binary` may also be bench/floor.c built
(`cc -O2 -o /tmp/floor bench/floor.c`) for the small scenario: the floor. The adapter gets run.py's environment
(LWA's variable names, which portside reads too), so `--binary` may also be
an LWA binary (target/peers/bin/lambda-adapter) to see where its CPU goes. Warm-up invocations run before
the profiled ones but inside the same process, so a profiler sees them too.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import run

COMPRESSION = run.COMPRESSION_ENV


def check_stream(inv) -> None:
    if b"".join(d for _, d in run.streamed_parts(inv)[2]) != run.STREAM_BODY:
        raise RuntimeError("the streamed body came back changed")


# name: (event, check, the adapter's extra environment)
SCENARIOS = {
    "small": (run.SMALL_EVENT, run.check_small, {}),
    "binary": (run.BINARY_EVENT, run.check_binary, {}),
    "upload": (run.UPLOAD_EVENT, run.check_upload, {}),
    "json": (run.JSON_EVENT, run.check_json, {}),
    "text": (run.TEXT_EVENTS["identity"], lambda inv: run.check_text("identity", inv), COMPRESSION),
    "text-gzip": (run.TEXT_EVENTS["gzip"], lambda inv: run.check_text("gzip", inv), COMPRESSION),
    "stream": (run.STREAM_EVENT, check_stream, run.STREAMING_ENV),
    # Issue 28: every JSON shape of bench/shapes.py (shape-twitter, shape-logs, ...).
    **{f"shape-{s.name}": (run.shape_event(s.name), run.check_shape(s.name), {})
       for s in run.shapes.SHAPES},
}


def children(pid: int) -> list[int]:
    """The child processes of `pid` (the adapter under a tracer)."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Profile one scenario of the adapter.",
        usage="profile.py {small,binary,upload,json,text,text-gzip,stream,shape-NAME,blob-BYTES} [-n N] [--binary PATH]"
        " [--log FILE] -- COMMAND...",
    )
    parser.add_argument("scenario", help=f"one of {', '.join(sorted(SCENARIOS))}, or blob-BYTES"
                        " (a binary body of that many bytes, as run.py's json-shapes group compares)")
    parser.add_argument("-n", type=int, default=200, help="invocations (default 200)")
    parser.add_argument("--binary", type=Path, default=run.DEFAULT_BINARY)
    parser.add_argument("--log", type=Path, help="save the adapter's whole output (and the tool's) here")
    argv = sys.argv[1:]
    wrapper = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    if args.scenario.startswith("blob-") and args.scenario[5:].isdigit():
        size = int(args.scenario[5:])
        SCENARIOS[args.scenario] = (run.blob_event(size), run.check_blob(size), {})
    if args.scenario not in SCENARIOS:
        parser.error(f"unknown scenario {args.scenario}")
    payload, check, extra_env = SCENARIOS[args.scenario]

    port = run.free_port()
    app = run.App(port)
    emu = run.Emulator()
    with tempfile.TemporaryDirectory(prefix="portside-profile-") as tmp:
        try:
            adapter = run.Adapter(
                args.binary.resolve(), emu, port, Path(tmp), wrapper=wrapper, extra_env=extra_env
            )
        except BaseException:
            emu.close()
            app.stop()
            raise
        try:
            adapter.wait_first_next(timeout=120)
            started = time.monotonic()
            inv = None
            for _ in range(args.n):
                inv = adapter.invoke(payload, timeout=120)
            check(inv)
            elapsed = time.monotonic() - started
            print(f"{args.n} {args.scenario} invocations in {elapsed:.2f} s", file=sys.stderr)
        finally:
            emu.shutdown_extensions()
            try:
                # portside exits on SHUTDOWN; LWA does not (Lambda kills it),
                # so after a while it (or the tool around it) gets SIGTERM.
                adapter.proc.wait(20 if wrapper else 2)
            except subprocess.TimeoutExpired:
                # A tracer (strace) writes its summary only when what it traces
                # has exited: end the traced process first, then the tool.
                for child in children(adapter.proc.pid):
                    try:
                        os.kill(child, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
                try:
                    adapter.proc.wait(10)
                except subprocess.TimeoutExpired:
                    adapter.proc.terminate()
                try:
                    adapter.proc.wait(60)  # a profiler may take a while to write its data
                except subprocess.TimeoutExpired:
                    adapter.proc.kill()
                    adapter.proc.wait()
            adapter.log.close()
            output = adapter.log_path.read_text(errors="replace")
            if args.log:
                args.log.write_text(output)
            print(output[-3000:], file=sys.stderr)
            emu.close()
            app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
