"""Running ``portside-local up`` for the tests, and reading what it prints.

``up`` runs as a user runs it: the real binary, real Terraform with the
offline provider mirror (found as terraform/check.sh finds it, handed over
as TF_PLUGIN_DIR), a moto server it starts itself, the function processes.
The tests read its banner (stdout) and its one log (stderr) and talk to what
it serves: the front doors over HTTP, the AWS resources with boto3.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO / "tests" / "terraform"))
# descendants and MotoServer are for the tests.
from e2e_support import descendants, stop_process_tree  # noqa: E402,F401
from test_moto_apply import MotoServer, _plugin_dir  # noqa: E402,F401

READY = re.compile(r"portside-local up: (ready|running) in ([0-9.]+) s")


def binaries() -> tuple[Path, Path]:
    """(portside-local, portside) from the debug build, built when missing."""
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    local, adapter = target / "debug" / "portside-local", target / "debug" / "portside"
    if not (local.is_file() and adapter.is_file()):
        build = subprocess.run(
            ["cargo", "build", "--locked", "-p", "portside", "-p", "portside-local"],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        if build.returncode != 0:
            pytest.fail(f"cargo build failed:\n{build.stderr[-4000:]}")
    return local, adapter


def need_terraform() -> None:
    """Fails without terraform: the machine the tests run on has it (CI's
    does), so a missing one is a broken machine, not a reason to pass. With
    PORTSIDE_ALLOW_SKIP set (a machine known to lack it), skips instead."""
    if shutil.which("terraform") is not None:
        return
    why = "terraform is not installed: portside-local up reads stacks through it"
    if os.environ.get("PORTSIDE_ALLOW_SKIP"):
        pytest.skip(f"{why} (PORTSIDE_ALLOW_SKIP is set)")
    pytest.fail(f"{why}; install it (1.11 or newer), or set PORTSIDE_ALLOW_SKIP=1 to skip these tests")


class Up:
    """One ``portside-local up`` process: its banner, its log, its doors.
    ``command`` replaces ``portside-local up STACK`` (e.g. ``./serve.sh
    --stack``); ``env`` is added to the environment, from which every AWS_*
    variable of the caller's is removed."""

    def __init__(self, stack: Path, work: Path, *args: str, command: list[str] | None = None, env: dict | None = None):
        need_terraform()
        local, _ = binaries()
        self.out = work / "up.out"
        self.err = work / "up.err"
        run_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        run_env["TF_PLUGIN_DIR"] = str(_plugin_dir())
        # The functions' python3 is this interpreter's (the project's .venv:
        # awslambdaric, boto3, the sample app's packages).
        run_env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + run_env.get("PATH", "")
        run_env.update(env or {})
        env = run_env
        start = command or [str(local), "up", str(stack)]
        self.command = [*start, "--port", "0", "--aws-port", "0", *args]
        self.started = time.monotonic()
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen(
                self.command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=work
            )
        self.ready_after = self._wait_ready()

    def _wait_ready(self, timeout: float = 240) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = READY.search(self.banner())
            if found:
                return float(found.group(2))
            if self.proc.poll() is not None:
                pytest.fail(f"portside-local up exited with {self.proc.returncode}:\n{self.logs()[-6000:]}")
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"portside-local up was not ready within {timeout} s:\n{self.logs()[-6000:]}")

    def banner(self) -> str:
        return self.out.read_text()

    def log(self) -> str:
        return self.err.read_text()

    def logs(self) -> str:
        return f"--- stdout\n{self.banner()}\n--- stderr\n{self.log()}"

    def door(self, kind: str, name: str) -> str:
        """The URL the banner gives a door: kind 'HTTP API', 'REST API'..."""
        found = re.search(rf"{kind} {re.escape(name)} at (http://127\.0\.0\.1:\d+)", self.banner())
        assert found, f"no {kind} {name} in the banner:\n{self.banner()}"
        return found.group(1)

    def function_url(self) -> str:
        found = re.search(r"Function URL (http://127\.0\.0\.1:\d+)/", self.banner())
        assert found, self.banner()
        return found.group(1)

    def endpoint(self) -> str:
        found = re.search(r"AWS resources at (http://127\.0\.0\.1:\d+)", self.banner())
        assert found, self.banner()
        return found.group(1)

    def aws(self, service: str):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint(),
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def wait_log(self, pattern: str, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.log())
            if found:
                return found
            time.sleep(0.2)
        pytest.fail(f"the log never showed {pattern!r} within {timeout} s:\n{self.log()[-6000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            stop_process_tree(self.proc, timeout=20)
