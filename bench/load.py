"""bench/run.py's `load` group (issue 28): Lambda Managed Instances under
load, both adapters side by side.

A Go program (bench/load/main.go, built by bench/load/build.sh into the
run's temporary directory) is the app (net/http, GET /bytes?n=N answering N
bytes of JSON text) and the driver: a Runtime API that keeps C invocations in
flight at every moment (closed loop: a result in, the next event queued) and
checks every result against the app's bytes. Each adapter runs with
AWS_LAMBDA_MAX_CONCURRENCY=C. For every round, body size (200 B, 64 KiB) and
C (8, 32, 64): the same requests straight to the app at the same C (the
floor of the latency), then one fresh process per adapter, in ABBA turns.

Figures per adapter: its CPU per invocation (schedstat of every thread over
the measured invocations, from idle to idle), invocations per second, and
latency p50 and p99 added over the app called directly (through − direct of
the same percentile; through: event queued → result read, so a late return to
/next counts). The driver's and the app's own CPU per invocation and how busy
each was (CPU seconds per second) are in the details, to show neither is what
limits the figures.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Lines:
    """A process whose standard output is read line by line on a thread."""

    def __init__(self, argv: list[str], log):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=log, text=True, bufsize=1)
        self.lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put("")

    def expect(self, word: str, timeout: float, why) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            line = None
        if not line or line.split(" ", 1)[0] != word:
            raise RuntimeError(f"expected {word!r} from {self.proc.args[1]}, got {line!r}: {why()}")
        return line.split(" ", 1)[1] if " " in line else ""

    def say(self, text: str) -> None:
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def measure_load(plan, subjects, log_dir: Path, figs, raw) -> None:
    import run  # bench/run.py's helpers (run.py imports this module when it runs the group)

    tool = log_dir / "load"
    subprocess.run([str(HERE / "load" / "build.sh"), str(tool)], check=True)
    log = open(log_dir / "load.log", "w")

    def tail() -> str:
        log.flush()
        return (log_dir / "load.log").read_text(errors="replace")[-1500:]

    app = Lines([str(tool), "app", "-listen", "127.0.0.1:0"], log)
    try:
        app_port = int(app.expect("listening", 10, tail))
        for rnd in range(plan.load_rounds):
            turn = 0
            for size in run.LOAD_SIZES:
                n = plan.load_n[size]
                for c in run.LOAD_CONCURRENCY:
                    direct = run_direct(run, tool, app, app_port, c, size, n, log, tail, raw)
                    through = {}
                    for subject in run.turns(subjects, rnd + turn):
                        through[subject.name] = run_adapter(
                            run, tool, subject, app, app_port, c, size, n, plan.load_warm, log_dir,
                            log, tail, raw)
                    turn += 1
                    for who, t in through.items():
                        figs[f"load_cpu_{size}_{c}"].add(who, t["cpu_us"], rnd)
                        figs[f"load_tput_{size}_{c}"].add(who, t["per_second"], rnd)
                        figs[f"load_p50_{size}_{c}"].add(who, t["p50_us"] - direct["p50_us"], rnd)
                        figs[f"load_p99_{size}_{c}"].add(who, t["p99_us"] - direct["p99_us"], rnd)
                    run.say(f"  round {rnd + 1} {run.size_label(size)} C={c}: direct"
                            f" {direct['per_second']:.0f}/s p50 {direct['p50_us']:.0f} µs p99 {direct['p99_us']:.0f} µs; "
                            + "; ".join(f"{who} {t['cpu_us']:.0f} µs CPU, {t['per_second']:.0f}/s,"
                                        f" p50 {t['p50_us']:.0f} µs, p99 {t['p99_us']:.0f} µs,"
                                        f" driver {t['driver_busy']:.2f} cores, app {t['app_busy']:.2f} cores"
                                        for who, t in through.items()))
            for size in run.LOAD_SIZES:
                for s in subjects:
                    cpu = {c: v for c in (8, 64) for r, v in figs[f"load_cpu_{size}_{c}"].data.get(s.name, [])
                           if r == rnd}
                    if 8 in cpu and 64 in cpu and cpu[8]:
                        figs[f"load_growth_{size}"].add(s.name, cpu[64] / cpu[8], rnd)
    finally:
        app.stop()
        log.close()


def run_direct(r, tool, app, app_port, c, size, n, log, tail, raw) -> dict:
    """The same requests straight to the app, C at once: the latency floor
    (`r` is bench/run.py's module)."""
    app_before = r.cpu_snapshot(app.proc.pid)
    direct = Lines([str(tool), "direct", "-app", f"127.0.0.1:{app_port}", "-c", str(c), "-size", str(size),
                    "-n", str(n)], log)
    try:
        stats = json.loads(direct.expect("done", 300, tail))
    finally:
        direct.proc.wait(10)
        direct.stop()
    app_ns, _ = r.cpu_since(app.proc.pid, app_before)
    r.rec(raw, "direct", f"load_{size}_{c}_per_second", stats["per_second"])
    r.rec(raw, "direct", f"load_{size}_{c}_p50_us", stats["p50_us"])
    r.rec(raw, "direct", f"load_{size}_{c}_p99_us", stats["p99_us"])
    r.rec(raw, "direct", f"load_{size}_{c}_app_cpu_us", app_ns / 1e3 / n)
    return stats


def run_adapter(run, tool, subject, app, app_port, c, size, n, warm, log_dir, log, tail, raw) -> dict:
    """One adapter process with AWS_LAMBDA_MAX_CONCURRENCY=C driven by the Go
    driver: warm-up, then n invocations measured from idle to idle."""
    driver = Lines([str(tool), "drive", "-app", f"127.0.0.1:{app_port}", "-c", str(c), "-size", str(size),
                    "-n", str(n), "-warm", str(warm)], log)
    adapter = None
    alog_path = log_dir / f"load-{subject.name}-{time.monotonic_ns()}.log"
    alog = open(alog_path, "wb")

    def why() -> str:
        alog.flush()
        state = "not started" if adapter is None else (
            f"exited with {adapter.poll()}" if adapter.poll() is not None else "running")
        return f"{subject.name} {state}; its log ends: {alog_path.read_text(errors='replace')[-1500:]}; driver: {tail()}"

    try:
        port = int(driver.expect("listening", 10, why))
        env = run.adapter_env(f"127.0.0.1:{port}", app_port)
        env["AWS_LAMBDA_MAX_CONCURRENCY"] = str(c)
        env.update(subject.env)
        adapter = subprocess.Popen([str(subject.binary)], env=env, stdin=subprocess.DEVNULL,
                                   stdout=alog, stderr=alog)
        pollers = int(driver.expect("ready", 300, why))
        snaps = [run.cpu_snapshot(pid) for pid in (adapter.pid, driver.proc.pid, app.proc.pid)]
        t0 = time.monotonic()
        driver.say("go")
        stats = json.loads(driver.expect("done", 600, why))
        wall = time.monotonic() - t0
        ns = [run.cpu_since(pid, snap)[0] for pid, snap in zip((adapter.pid, driver.proc.pid, app.proc.pid), snaps)]
        mem = run.memory_kb(adapter.pid)
        driver.say("stop")
        try:
            adapter.wait(subject.grace)
        except subprocess.TimeoutExpired:
            pass
    finally:
        if adapter is not None and adapter.poll() is None:
            adapter.terminate()
            try:
                adapter.wait(2)
            except subprocess.TimeoutExpired:
                adapter.kill()
                adapter.wait()
        try:
            driver.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        driver.stop()
        alog.close()
    who = subject.name
    out = dict(stats, cpu_us=ns[0] / 1e3 / n, driver_us=ns[1] / 1e3 / n, app_us=ns[2] / 1e3 / n,
               adapter_busy=ns[0] / 1e9 / wall, driver_busy=ns[1] / 1e9 / wall, app_busy=ns[2] / 1e9 / wall)
    for key in ("driver_us", "app_us", "adapter_busy", "driver_busy", "app_busy", "handout_p50_us",
                "handout_p99_us", "per_second"):
        run.rec(raw, who, f"load_{size}_{c}_{key}", out.get(key))
    run.rec(raw, who, f"load_{size}_{c}_pollers", pollers)
    run.rec(raw, who, f"load_{size}_{c}_threads", mem["Threads"])
    run.rec(raw, who, f"load_{size}_{c}_hwm_mb", run.kb_to_mb(mem["VmHWM"]))
    return out
