"""Helpers for the end-to-end tests (importable, unlike conftest).

The path under test is the real one: an HTTP request (or a raw event on
Lambda's Invoke API) reaches ``portside-local``'s front door, becomes an
event, goes through the Runtime API to the portside adapter (a Lambda
extension from the layer), which turns it into an HTTP request to the
sample app, started by the layer's exec wrapper (``shim/bootstrap``) running
``sample-app/run.sh`` under gunicorn. DynamoDB and S3 are moto in server
mode, reached by the app's own boto3 code.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote_plus

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
SAMPLE_APP = REPO / "sample-app"

# Polling, ports and the event corpus are the sample app's test helpers too.
sys.path.insert(0, str(SAMPLE_APP / "tests"))
from sample_app_testing import free_port, load_event, wait_until  # noqa: E402

REGION = "us-east-1"
FUNCTION_NAME = "sample-app"
READY_LINE = re.compile(r"is up at (http://127\.0\.0\.1:\d+)/")


# --- processes ------------------------------------------------------------------


def _process_table():
    """{pid: (ppid, pgid)} of every process we can see."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may contain spaces and parens.
        fields = stat[stat.rfind(")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), int(fields[2]))
    return table


def descendants(pid: int):
    """[(pid, pgid)] of every process below ``pid``."""
    table = _process_table()
    children = {}
    for child, (parent, pgid) in table.items():
        children.setdefault(parent, []).append((child, pgid))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def _alive_with_pgid(pid: int, pgid: int) -> bool:
    """Whether ``pid`` still runs in process group ``pgid`` (guards against reuse)."""
    entry = _process_table().get(pid)
    return entry is not None and entry[1] == pgid


def stop_process_tree(proc: subprocess.Popen, timeout: float = 15) -> bool:
    """SIGTERM ``proc`` (it stops its own sandbox), then SIGKILL whatever of its
    tree is left, process group by process group. True when SIGTERM was enough."""
    if proc.poll() is not None:
        return True
    tree = descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    clean = True
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        clean = False
        proc.kill()
        proc.wait()
    # The function's processes run in process groups of their own.
    deadline = time.monotonic() + 5
    while True:
        left = [(pid, pgid) for pid, pgid in tree if _alive_with_pgid(pid, pgid)]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for pid, pgid in left:
        clean = False
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return clean


# --- portside-local -------------------------------------------------------------


class LocalLambda:
    """One ``portside-local`` serving the sample app behind one event source."""

    def __init__(self, portside_local, layer, event, env, base_env, logdir: Path, name=FUNCTION_NAME,
                 function: Path = SAMPLE_APP, handler: str = "run.sh", extra_args=()):
        self.event = event
        self.name = name
        self.logdir = logdir
        self.app_port = free_port()
        self.stdout_path = logdir / "portside-local.stdout"
        self.stderr_path = logdir / "portside-local.stderr"
        command = [
            str(portside_local),
            "--function", str(function),
            "--handler", handler,
            "--layer", str(layer),
            "--port", "0",
            "--event", event,
            "--name", name,
            "--region", REGION,
            "--timeout", "20",
            "--env", f"PORT={self.app_port}",
            *extra_args,
        ]
        for key, value in env.items():
            command += ["--env", f"{key}={value}"]
        self.command = command
        with self.stdout_path.open("w") as out, self.stderr_path.open("w") as err:
            self.proc = subprocess.Popen(
                command,
                cwd=REPO,
                env=base_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self.url = None
        self.stopped_cleanly = None

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def logs(self, tail: int = 80) -> str:
        err = self.stderr().splitlines()[-tail:]
        return f"$ {' '.join(self.command)}\n--- stdout\n{self.stdout()}--- stderr (last {tail} lines)\n" + "\n".join(err)

    def wait_ready(self, timeout: float = 90):
        def ready():
            match = READY_LINE.search(self.stdout())
            if match:
                return match.group(1)
            if self.proc.poll() is not None:
                pytest.fail(f"portside-local exited with {self.proc.returncode} before it was up\n{self.logs()}")
            if "could not start" in self.stdout():
                pytest.fail(f"the function's init failed under portside-local\n{self.logs()}")
            return None

        self.url = wait_until(ready, timeout, f"portside-local ({self.event}) to print 'is up at'")
        if "init failed" in self.stderr() or "did not finish starting" in self.stderr():
            pytest.fail(f"the function's init failed under portside-local\n{self.logs()}")
        return self

    @property
    def invoke_url(self) -> str:
        return f"{self.url}/2015-03-31/functions/{self.name}/invocations"

    def invoke(self, event, asynchronous: bool = False, timeout: float = 30) -> requests.Response:
        """Lambda's Invoke API with a raw event, as S3 would call the function."""
        headers = {"content-type": "application/json"}
        if asynchronous:
            headers["x-amz-invocation-type"] = "Event"
        return requests.post(self.invoke_url, data=json.dumps(event), headers=headers, timeout=timeout)

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return requests.request(method, self.url + path, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def stop(self) -> bool:
        self.stopped_cleanly = stop_process_tree(self.proc)
        return self.stopped_cleanly


# --- the users API ------------------------------------------------------------------


def list_all_users(fn: LocalLambda, limit: int = 100):
    """Every user, following nextToken; [(page users, nextToken)] per page too."""
    pages, token = [], None
    while True:
        params = {"limit": limit}
        if token is not None:
            params["nextToken"] = token
        response = fn.get("/users", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append((body["users"], body["nextToken"]))
        token = body["nextToken"]
        if token is None:
            break
        assert len(pages) < 1000, "pagination does not end"
    return [user for users, _ in pages for user in users], pages


def users_by_email(fn: LocalLambda):
    users, _ = list_all_users(fn)
    return {user["email"]: user for user in users}


# --- S3 notifications -------------------------------------------------------------


def s3_record(bucket: str, key: str, size: int, etag: str, event_name: str = "ObjectCreated:Put", version_id=None):
    """One record of an S3 event notification, shaped as the S3 user guide's
    "Event message structure" documents it (version 2.1). The object key is
    URL-encoded the way S3 does it in notifications (``+`` for a space)."""
    obj = {
        "key": quote_plus(key, safe="/"),
        "size": size,
        "eTag": etag,
        "sequencer": f"{time.time_ns():016X}",
    }
    if version_id:
        obj["versionId"] = version_id
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLEUPLOADER"},
        "requestParameters": {"sourceIPAddress": "203.0.113.10"},
        "responseElements": {
            "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
            "x-amz-id-2": uuid.uuid4().hex + uuid.uuid4().hex,
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "portside-e2e-csv-import",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }


def s3_event(*records):
    return {"Records": list(records)}


def load_corpus_event(relative: str) -> dict:
    """A sample from the repository's event corpus (tests/events/)."""
    return load_event(relative)
