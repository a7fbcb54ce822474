"""Fixtures for the sample app's tests.

DynamoDB and S3 are played by moto in server mode: a real ``moto_server``
process on a free loopback port, reached by the app's real boto3 code over
HTTP through ``AWS_ENDPOINT_URL``. Real S3 event samples come from the
shared event corpus (``../shared/events`` next to the repository, or
``$PORTSIDE_EVENTS_DIR``).
"""

import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote_plus

import pytest
import requests

SAMPLE_APP = Path(__file__).resolve().parent.parent
REPO = SAMPLE_APP.parent
EVENTS_DIR = Path(os.environ.get("PORTSIDE_EVENTS_DIR") or REPO.parent / "shared" / "events")
REGION = "us-east-1"

sys.path.insert(0, str(SAMPLE_APP))

from users_api.app import create_app  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, interval: float = 0.05):
    """Polls ``check`` until it returns something truthy; fails after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # not ready yet
            last_error = exc
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last error: {last_error!r})")


def load_event(relative: str) -> dict:
    path = EVENTS_DIR / relative
    if not path.is_file():
        pytest.skip(f"event sample {path} not found (set PORTSIDE_EVENTS_DIR to the shared event corpus)")
    return json.loads(path.read_text())


def s3_put_event(bucket: str, key: str) -> dict:
    """A real ObjectCreated:Put notification (SAM's sample), retargeted.

    The key is URL-encoded the way S3 does it in notifications: + for spaces.
    """
    event = copy.deepcopy(load_event("aws-sam-cli-rendered/s3__put.json"))
    record = event["Records"][0]
    assert record["eventName"].startswith("ObjectCreated:")
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    record["s3"]["object"]["key"] = quote_plus(key, safe="/")
    return event


# --- moto in server mode -------------------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    port = free_port()
    script = Path(sys.executable).with_name("moto_server")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "moto.server"]
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    proc = subprocess.Popen(
        command + ["-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def ready():
        assert proc.poll() is None, f"moto_server exited with {proc.returncode}; see {log.name}"
        return requests.get(f"{url}/moto-api/", timeout=1).ok

    try:
        wait_until(ready, 60, "moto_server to answer")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def aws_env(moto_endpoint, monkeypatch, tmp_path):
    """Points boto3 (in this process and in children) at moto, and nowhere else."""
    for name in list(os.environ):
        if name.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN")):
            monkeypatch.delenv(name)
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    return env


@pytest.fixture
def aws(aws_env):
    import boto3

    session = boto3.session.Session()
    return {
        "dynamodb": session.client("dynamodb", region_name=REGION),
        "s3": session.client("s3", region_name=REGION),
    }


@pytest.fixture
def users_table(aws):
    """The table as Terraform creates it: on-demand, hash key id (S) only."""
    name = f"users-{uuid.uuid4().hex[:8]}"
    aws["dynamodb"].create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    aws["dynamodb"].get_waiter("table_exists").wait(TableName=name)
    return name


@pytest.fixture
def bucket(aws):
    name = f"uploads-{uuid.uuid4().hex[:8]}"
    aws["s3"].create_bucket(Bucket=name)
    return name


# --- the app under test -------------------------------------------------------


@pytest.fixture(params=["sqlite", "dynamodb"])
def storage_env(request, monkeypatch, tmp_path, aws_env):
    """The storage environment of one backend; both see moto for S3."""
    monkeypatch.delenv("USERS_TABLE", raising=False)
    monkeypatch.delenv("SQLITE_PATH", raising=False)
    if request.param == "dynamodb":
        env = {"USERS_TABLE": request.getfixturevalue("users_table")}
    else:
        env = {"SQLITE_PATH": str(tmp_path / "users.sqlite3")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return request.param


@pytest.fixture
def client(storage_env):
    """A Flask test client of the app built from the environment, as run.sh does."""
    app = create_app()
    app.testing = True
    return app.test_client()


# --- real servers ------------------------------------------------------------


class Server:
    """A process started from a script, answering HTTP on 127.0.0.1:port."""

    def __init__(self, command, env, cwd, port, logdir):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.stdout_path = logdir / "stdout.log"
        self.stderr_path = logdir / "stderr.log"
        with self.stdout_path.open("w") as out, self.stderr_path.open("w") as err:
            self.proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err)

    def logs(self) -> str:
        return f"--- stdout\n{self.stdout()}--- stderr\n{self.stderr()}"

    def stdout(self) -> str:
        return self.stdout_path.read_text()

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def wait_ready(self, timeout=60):
        def ready():
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode} before answering\n{self.logs()}")
            return requests.get(f"{self.url}/health", timeout=2).status_code == 200

        wait_until(ready, timeout, f"{self.url}/health")
        return self

    def stop(self, timeout=15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"server ignored SIGTERM for {timeout}s\n{self.logs()}")
        return self.proc.returncode


@pytest.fixture
def start_server(tmp_path):
    servers = []

    def start(command, env, cwd, port):
        logdir = tmp_path / f"server-{len(servers)}"
        logdir.mkdir()
        server = Server(command, env, cwd, port, logdir)
        servers.append(server)
        return server

    yield start
    for server in servers:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()

