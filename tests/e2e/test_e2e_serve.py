"""./serve.sh, the main command, as a user runs it: it comes up, its raw-event
hint works against the sample app, SIGTERM and SIGINT stop it and everything
it started (its temporary data goes with it), and SQLITE_PATH keeps users
between runs."""

import json
import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from e2e_support import REPO, descendants, free_port, wait_until

UP = re.compile(r"is up at (http://127\.0\.0\.1:\d+)/")


def _terminal_signals():
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


class Serve:
    def __init__(self, tmp_path: Path, env=None):
        self.out = tmp_path / "serve.stdout"
        self.err = tmp_path / "serve.stderr"
        run_env = dict(os.environ)
        run_env.update(env or {})
        with self.out.open("w") as out, self.err.open("w") as err:
            # A session of its own, as a terminal gives it: signals go to
            # serve.sh alone, as `kill <pid>` sends them. And SIGINT and
            # SIGQUIT at their defaults, as a terminal's shell leaves them: a
            # test run started in the background by a non-interactive shell
            # (`./test.sh &`) inherits them ignored, and a shell cannot trap
            # a signal ignored when it started.
            self.proc = subprocess.Popen(
                [str(REPO / "serve.sh"), "--port", "0", "--env", f"PORT={free_port()}"],
                cwd=tmp_path,
                env=run_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                preexec_fn=_terminal_signals,
            )

    def stdout(self):
        return self.out.read_text(errors="replace")

    def stderr(self):
        return self.err.read_text(errors="replace")

    def wait_up(self):
        def up():
            match = UP.search(self.stdout())
            if match:
                return match.group(1)
            if self.proc.poll() is not None:
                pytest.fail(f"serve.sh exited with {self.proc.returncode}\n{self.stderr()[-4000:]}")
            return None

        # The first run may build the binaries.
        return wait_until(up, 600, "serve.sh to print 'is up at'")

    def stop(self, sig):
        tree = descendants(self.proc.pid)
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=15)
        took = time.monotonic() - started
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and [p for p, _ in tree if Path(f"/proc/{p}").exists()]:
            time.sleep(0.05)
        left = [p for p, _ in tree if Path(f"/proc/{p}/stat").exists()
                and Path(f"/proc/{p}/stat").read_text().split(") ")[-1][:1] != "Z"]
        return code, took, left


def portside_local_sqlite_path(serve: Serve) -> Path:
    """SQLITE_PATH as serve.sh handed it to portside-local."""
    for pid, _ in descendants(serve.proc.pid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        for arg in argv:
            if arg.startswith(b"SQLITE_PATH="):
                return Path(arg.decode().split("=", 1)[1])
    pytest.fail("no portside-local with SQLITE_PATH under serve.sh")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_serve_sh_and_everything_it_started(tmp_path, sig):
    serve = Serve(tmp_path)
    url = serve.wait_up()
    assert "users are kept in a temporary SQLite file that is deleted when serve.sh stops" in serve.stderr()
    assert "SQLITE_PATH=$PWD/users.sqlite3 ./serve.sh" in serve.stderr()
    data = portside_local_sqlite_path(serve)
    created = requests.post(f"{url}/users", json={"name": "Ada", "email": "ada@example.com"}, timeout=30)
    assert created.status_code == 201, created.text
    assert data.exists()

    code, took, left = serve.stop(sig)

    assert code == 0, serve.stderr()[-3000:]
    assert left == [], f"still running after serve.sh stopped: {left}"
    assert took < 3, f"serve.sh took {took:.2f} s to stop"
    assert not data.parent.exists(), "the temporary data went with the process"


def test_the_raw_event_hint_is_an_event_the_sample_app_accepts(tmp_path):
    serve = Serve(tmp_path)
    serve.wait_up()
    line = next(line for line in serve.stdout().splitlines() if "raw events:" in line)
    argv = shlex.split(line.split("raw events:", 1)[1])
    assert argv[:3] == ["curl", "-X", "POST"], argv
    target, payload = argv[3], argv[argv.index("-d") + 1]
    event = json.loads(payload)
    assert event["Records"][0]["eventSource"] == "aws:s3"

    answer = requests.post(target, data=payload, timeout=30)

    assert answer.status_code == 200, answer.text
    assert answer.headers.get("x-amz-function-error") is None, answer.text
    assert answer.json()["objects"][0]["status"] == "ignored"
    serve.stop(signal.SIGTERM)


def test_sqlite_path_keeps_users_between_runs(tmp_path):
    kept = tmp_path / "kept" / "users.sqlite3"
    first = Serve(tmp_path, env={"SQLITE_PATH": str(kept)})
    url = first.wait_up()
    assert f"users are kept in {kept} (SQLITE_PATH)" in first.stderr()
    created = requests.post(f"{url}/users", json={"name": "Kept", "email": "kept@example.com"}, timeout=30)
    assert created.status_code == 201, created.text
    assert first.stop(signal.SIGTERM)[0] == 0

    second = Serve(tmp_path, env={"SQLITE_PATH": str(kept)})
    url = second.wait_up()
    listed = requests.get(f"{url}/users", timeout=30).json()["users"]
    assert [u["email"] for u in listed] == ["kept@example.com"]
    second.stop(signal.SIGTERM)
    assert kept.exists()
