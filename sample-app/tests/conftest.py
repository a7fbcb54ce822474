"""Fixtures for the sample app's tests.

DynamoDB and S3 are played by moto in server mode: a real ``moto_server``
process on a free loopback port, reached by the app's real boto3 code over
HTTP through ``AWS_ENDPOINT_URL``. Real S3 event samples come from the
repository's event corpus (``tests/events/``).
"""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from sample_app_testing import free_port, wait_until
from users_api.app import create_app

REGION = "us-east-1"


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

