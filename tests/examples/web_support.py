"""The Lambda Web Functions side of the examples' tests.

An app written for Web Functions (it listens on AWS_LAMBDA_HTTP_ENDPOINT) is
started directly (``DirectApp``, with the variable set) and through each
*path* of ``PATHS``: ``web-function`` is ``portside-local web`` run in the
app's folder, as its README says. The classic-Lambda paths (the adapter and
the shim behind an HTTP API, a streaming Function URL, an ALB) are more
entries of ``PATHS``, each a function ``(example, artifacts, logdir) ->`` an
object with ``url``, ``logs()`` and ``stop()``; every test then runs through
them too.
"""

import json
import subprocess
from pathlib import Path

import pytest

from examples_support import Example, stop_process_tree, wait_until

from e2e_support import READY_LINE  # noqa: E402  (tests/e2e is on sys.path)


class WebEndpoint:
    """``portside-local web`` serving an example from its folder."""

    def __init__(self, portside_local: Path, example: Example, logdir: Path, extra_args=()):
        self.stdout_path = logdir / "portside-local-web.stdout"
        self.stderr_path = logdir / "portside-local-web.stderr"
        command = [str(portside_local), "web", "--port", "0", *extra_args]
        if example.command:
            command += ["--", *example.command]
        self.command = command
        with self.stdout_path.open("w") as out, self.stderr_path.open("w") as err:
            self.proc = subprocess.Popen(
                command,
                cwd=example.dir,
                env=example.env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self.url = None

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def logs(self, tail: int = 80) -> str:
        err = self.stderr().splitlines()[-tail:]
        return f"$ {' '.join(self.command)}\n--- stdout\n{self.stdout()}--- stderr (last {tail} lines)\n" + "\n".join(err)

    def log_events(self) -> list:
        """The JSON lines it wrote on stderr (app log events, system events)."""
        events = []
        for line in self.stderr().splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                pass
        return events

    def wait_ready(self, timeout: float = 60):
        def up():
            match = READY_LINE.search(self.stdout())
            if match:
                return match.group(1)
            if self.proc.poll() is not None:
                pytest.fail(f"portside-local web exited with {self.proc.returncode}\n{self.logs()}")
            return None

        self.url = wait_until(up, timeout, "portside-local web to print 'is up at'")

        def initialized():
            done = [e for e in self.log_events() if e.get("type") == "platform.initReport"]
            if done and done[0]["record"]["status"] != "success":
                pytest.fail(f"the app's init failed under portside-local web\n{self.logs()}")
            return bool(done)

        wait_until(initialized, timeout, "the first environment's platform.initReport")
        return self

    def stop(self) -> bool:
        return stop_process_tree(self.proc)


def open_web_function(example: Example, artifacts, logdir: Path) -> WebEndpoint:
    portside_local, _layer = artifacts
    return WebEndpoint(portside_local, example, logdir).wait_ready()


# path name -> how to start the example behind it.
PATHS = {
    "web-function": open_web_function,
}

# The paths whose app gets Web Functions' request semantics (the
# lambda-web-* request headers, X-Forwarded-For with the client appended).
WEB_SEMANTICS = {"web-function"}

# The paths that pass the app's body on as it is written.
STREAMING_PATHS = {"web-function"}
