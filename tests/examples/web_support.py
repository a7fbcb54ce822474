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

from examples_support import DOORS, Door, Example, LocalLambda, stop_process_tree, wait_until

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


def classic(door: str):
    """The example on classic Lambda: portside-local's Lambda behind the
    event source `door`, the portside layer's adapter and shim starting the
    app unchanged (no start script for the Node app: the shim runs
    `node index.js` as Web Functions does; the Python app's run.sh names its
    command), with PORTSIDE_WEB_FUNCTION on."""
    event, extra_args, env = DOORS[door]

    def open_classic(example: Example, artifacts, logdir: Path) -> LocalLambda:
        portside_local, layer = artifacts
        fn = LocalLambda(
            portside_local,
            layer,
            event,
            {**env, "PORTSIDE_WEB_FUNCTION": "true"},
            example.env(),
            logdir,
            name=f"{example.name}-classic",
            function=example.dir,
            handler="run.sh" if example.command else "index.handler",
            extra_args=extra_args,
        )
        fn.classic = True
        return fn.wait_ready()

    return open_classic


# path name -> how to start the example behind it.
PATHS = {
    "web-function": open_web_function,
    "classic-http-api": classic("http-api"),
    "classic-function-url-stream": classic("function-url-stream"),
    "classic-alb": classic("alb"),
}

# The event-source door of each path (its rules for what a client sees,
# examples_support), with the response headers the path adds.
DOOR_OF = {
    "web-function": Door("web-function", ("lambda-web-request-id", "lambda-web-logstream")),
    "classic-http-api": Door("http-api", ("lambda-web-request-id",)),
    "classic-function-url-stream": Door("function-url-stream", ("lambda-web-request-id",)),
    "classic-alb": Door("alb", ("lambda-web-request-id",)),
}

# The paths whose app gets Web Functions' request semantics (the
# lambda-web-* request headers, X-Forwarded-For with the client appended).
WEB_SEMANTICS = set(PATHS)

# The paths through the adapter on classic Lambda.
CLASSIC = {"classic-http-api", "classic-function-url-stream", "classic-alb"}

# The paths that pass the app's body on as it is written.
STREAMING_PATHS = {"web-function", "classic-function-url-stream"}

# What a buffered event source answers for a result over Lambda's 6 MB
# (local/FRONTDOOR.md: the function fails, the source answers its error).
OVERSIZED = {"classic-http-api": 500, "classic-alb": 502}
