"""Helpers for the examples' end-to-end tests (importable, unlike conftest).

Each example app (examples/<name>/) is started twice: once on its own, as
``run.sh`` on a free port ("direct"), and once inside portside-local behind
one event source's front door ("through": the front door, the Runtime API,
the portside adapter from the layer, the shim, ``run.sh``). The same request
goes to both and the answers are compared: status, every header value, every
body byte. Where the event source itself changes a request or a response
(documented by AWS), the expected answer is derived from the direct one by
that documented rule, never by asking portside.
"""

import http.client
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

sys.path.insert(0, str(REPO / "tests" / "e2e"))
from e2e_support import LocalLambda, free_port, stop_process_tree, wait_until  # noqa: E402,F401

# --- the event sources ("doors") -----------------------------------------------------

# name -> (portside-local --event, extra portside-local arguments, extra function env)
DOORS = {
    "http-api": ("http-api", [], {}),
    "rest-api": ("rest-api", [], {}),
    "function-url": ("function-url", [], {}),
    "function-url-stream": (
        "function-url",
        ["--response-stream"],
        {"PORTSIDE_INVOKE_MODE": "response_stream"},
    ),
    # A REST API whose Lambda proxy integration has the STREAM response
    # transfer mode (API Gateway calls InvokeWithResponseStream): the prelude
    # is {"statusCode", "multiValueHeaders"}, then the body as it is written.
    "rest-api-stream": (
        "rest-api",
        ["--response-stream"],
        {"PORTSIDE_INVOKE_MODE": "response_stream"},
    ),
    "alb": ("alb", [], {}),
    "alb-multi": ("alb-multi", [], {}),
}

# Sources whose response headers are one string per name (HTTP API payload 2.0
# and Function URLs: `headers` is a map of strings, cookies go in `cookies`;
# ALB without multi-value headers: `headers` is a map of strings). A repeated
# header reaches the client as one line with the values comma-joined, which
# RFC 9110 section 5.3 makes equivalent. Set-Cookie is never joined.
SINGLE_VALUE_RESPONSE = {"http-api", "function-url", "function-url-stream", "alb"}

# Sources whose request headers and query parameters are maps of lists, so the
# order of values under one key survives but the interleaving of different
# keys does not (REST API `multiValueQueryStringParameters`, ALB with
# multi-value headers).
GROUPED_QUERY = {"rest-api", "rest-api-stream", "alb-multi"}

# Sources that pass the app's body on as it is written (a Function URL in
# RESPONSE_STREAM mode, a REST API with the STREAM transfer mode); every other
# source reads one result, so the client gets nothing before the app is done.
STREAMING = {"function-url-stream", "rest-api-stream"}

# The ALB doors (with and without multi-value headers).
ALB = {"alb", "alb-multi"}

# ALB without multi-value headers keeps the last value of a repeated header
# or query key: "If you do not enable multi-value headers, the load balancer
# uses the last value sent by the client" (Elastic Load Balancing, Lambda
# functions as targets, Multi-value headers:
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html#multi-value-headers).
LAST_VALUE = {"alb"}

# HTTP API payload 2.0 (and Function URLs, which use that format): "Duplicate
# headers are combined with commas."
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
COMMA_JOINED_REQUEST_HEADERS = {"http-api", "function-url", "function-url-stream"}

# ALB: "The maximum size of the response JSON that the Lambda function can
# send is 1 MB" (lambda-functions.html, Limits); a larger one is answered
# 502 (Troubleshoot your Application Load Balancers, HTTP 502: "The Lambda
# function response ... exceeds the size limit").
ALB_RESPONSE_LIMIT = 1024 * 1024

# Lambda Web Functions (portside-local web, "web-function"): the app's own
# response, plus the two headers the endpoint adds to every response
# ("Lambda can add the following headers": lambda-web-request-id, the
# request identifier; lambda-web-logstream, the log stream of the execution
# environment that handled it), without the connection's own headers
# (web-functions-http, "Response headers"; local/WEBFUNCTIONS.md).
WEB_FUNCTION = {"web-function"}
WEB_FUNCTION_ADDED = ("lambda-web-request-id", "lambda-web-logstream")


class Door(str):
    """A door's name (every rule above looks it up), and the response
    headers a Lambda Web Functions path through it adds (`portside-local
    web`'s two, or the adapter's `lambda-web-request-id` with
    PORTSIDE_WEB_FUNCTION on)."""

    def __new__(cls, name: str, web_added: tuple = ()):
        door = super().__new__(cls, name)
        door.web_added = web_added
        return door

# Headers that describe one connection, not the response (RFC 9110 7.6.1),
# and Date, which is compared on its own.
CONNECTION_HEADERS = {"connection", "keep-alive", "transfer-encoding", "date", "content-length"}


# --- one HTTP exchange -------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: list  # [(lower-case name, value)] in the order received, repeats kept
    body: bytes
    elapsed: float = 0.0

    def values(self, name: str) -> list:
        return [v for k, v in self.headers if k == name.lower()]

    def json(self):
        return json.loads(self.body)

    def grouped(self) -> dict:
        """{name: [values in order]} without the connection headers."""
        out = {}
        for k, v in self.headers:
            if k not in CONNECTION_HEADERS:
                out.setdefault(k, []).append(v)
        return out

    def __repr__(self):
        return f"Reply({self.status}, {self.headers}, {len(self.body)} bytes: {self.body[:200]!r})"


def fetch(base_url: str, method: str, target: str, headers=(), body: bytes = None, timeout: float = 60) -> Reply:
    """One request with exactly these headers (plus Host and Content-Length),
    over a fresh connection, without following redirects or decoding
    anything. Repeated headers stay repeated, in order."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        start = time.monotonic()
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read()
        return Reply(
            response.status,
            [(k.lower(), v) for k, v in response.getheaders()],
            data,
            time.monotonic() - start,
        )
    finally:
        conn.close()


# --- the two ways to reach an app ---------------------------------------------------


@dataclass
class Example:
    """One folder of examples/ and how to run it here."""

    name: str
    path_dirs: list = field(default_factory=list)  # put first on PATH (a venv's bin)
    runtime: str = None  # portside-local --runtime, when not the default
    needs: list = field(default_factory=list)  # files install.sh makes
    groups_query: bool = False  # the framework regroups repeated query keys itself
    # A Lambda Web Functions app: it listens on AWS_LAMBDA_HTTP_ENDPOINT, and
    # `command` starts it in its folder (None: `node index.js`, Web
    # Functions' default); otherwise run.sh on $PORT.
    web: bool = False
    command: list = None

    @property
    def dir(self) -> Path:
        return EXAMPLES / self.name

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PORTSIDE_"))}
        dirs = [str(self.dir / d) for d in self.path_dirs]
        env["PATH"] = os.pathsep.join(dirs + [env.get("PATH", "/usr/bin:/bin")])
        env.pop("VIRTUAL_ENV", None)
        env.pop("PYTHONPATH", None)
        return env

    def check_installed(self):
        missing = [str(self.dir / n) for n in self.needs if not (self.dir / n).exists()]
        if missing:
            pytest.fail(
                f"the {self.name} example is not installed ({', '.join(missing)} missing): "
                f"run examples/install.sh {self.name}"
            )


class DirectApp:
    """The example on a free port, as a developer runs it: its run.sh with
    $PORT, or a Web Functions app's command with AWS_LAMBDA_HTTP_ENDPOINT."""

    def __init__(self, example: Example, logdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = logdir / f"{example.name}-direct.log"
        env = example.env()
        if example.web:
            env["AWS_LAMBDA_HTTP_ENDPOINT"] = f"127.0.0.1:{self.port}"
            argv = example.command or ["node", "index.js"]
        else:
            env["PORT"] = str(self.port)
            argv = [str(example.dir / "run.sh")]
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen(
                argv,
                cwd=example.dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def ready():
            if self.proc.poll() is not None:
                pytest.fail(f"{example.name}: {' '.join(argv)} exited with {self.proc.returncode}:\n{self.log()}")
            return requests.get(self.url + "/", timeout=2).status_code == 200

        wait_until(ready, 60, f"{example.name}: {' '.join(argv)} to answer GET /")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self):
        stop_process_tree(self.proc)


# --- what a door does to a request -----------------------------------------------------


def door_query(door: str, pairs: list) -> list:
    """The query pairs the app can see behind ``door`` for ``pairs`` sent."""
    if door in LAST_VALUE:
        last = {}
        for k, v in pairs:
            last.pop(k, None)
            last[k] = v
        return list(last.items())
    return list(pairs)


def comparable_pairs(door: str, pairs: list):
    """Pairs in the form the door preserves: exact order for HTTP API and
    Function URL (rawQueryString), per-key order for the list-valued maps."""
    pairs = [tuple(p) for p in pairs]
    if door in GROUPED_QUERY or door in LAST_VALUE:
        grouped = {}
        for k, v in pairs:
            grouped.setdefault(k, []).append(v)
        return grouped
    return pairs


def door_request_header(door: str, values: list) -> list:
    """The header lines the app receives behind ``door`` for ``values`` sent
    as repeated lines of one header."""
    if door in COMMA_JOINED_REQUEST_HEADERS:
        return [",".join(values)]
    if door in LAST_VALUE:
        return values[-1:]
    return list(values)


# --- what a door does to a response ----------------------------------------------------


def door_response_headers(door: str, direct: Reply) -> dict:
    """{name: [values]} the client should get through ``door``, derived from
    the app's own answer by the source's documented result format."""
    grouped = direct.grouped()
    if door not in SINGLE_VALUE_RESPONSE:
        return grouped
    return {k: (v if k == "set-cookie" or len(v) == 1 else [", ".join(v)]) for k, v in grouped.items()}


def assert_same_date(direct: Reply, through: Reply):
    """Date is the app's clock at answer time: both present, both valid, close."""
    d, t = direct.values("date"), through.values("date")
    assert len(d) <= 1, f"the app sent Date twice: {d}"
    assert len(t) == len(d), f"Date lines: direct {d}, through {t}"
    if d:
        gap = abs((parsedate_to_datetime(t[0]) - parsedate_to_datetime(d[0])).total_seconds())
        assert gap < 30, f"Date through the door {t[0]!r} is far from the app's {d[0]!r}"


def assert_content_length(reply: Reply, head: bool = False):
    lengths = reply.values("content-length")
    assert len(lengths) <= 1, f"Content-Length sent {len(lengths)} times: {lengths}"
    if lengths and not head:
        assert int(lengths[0]) == len(reply.body)


# ALB without multi-value headers: a result's `headers` is one JSON object, so
# the adapter gives each Set-Cookie its own key by letter case (set-cookie,
# Set-cookie...). JSON objects are unordered (RFC 8259 section 4), so the
# order of those cookies is not something the format carries.
UNORDERED_COOKIES = {"alb"}


def assert_same(door: str, direct: Reply, through: Reply, head: bool = False):
    """The client gets through ``door`` what it gets from the app, up to what
    the source documents (joined single-value headers)."""
    assert through.status == direct.status, f"status: direct {direct!r}\nthrough {through!r}"
    got, want = through.grouped(), door_response_headers(door, direct)
    added = getattr(door, "web_added", WEB_FUNCTION_ADDED if door in WEB_FUNCTION else ())
    if added:
        for name in added:
            values = got.pop(name, [])
            assert len(values) == 1 and values[0], f"{name} must be on every response once: {through!r}"
    if door in UNORDERED_COOKIES:
        for headers in (got, want):
            if "set-cookie" in headers:
                headers["set-cookie"] = sorted(headers["set-cookie"])
    assert got == want, (
        f"headers differ\ndirect:  {direct.headers}\nthrough: {through.headers}"
    )
    assert through.body == direct.body, f"body differs: direct {direct!r}\nthrough {through!r}"
    assert_same_date(direct, through)
    assert_content_length(direct, head)
    assert_content_length(through, head)
