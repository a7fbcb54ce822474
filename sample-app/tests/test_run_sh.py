"""run.sh, the function's handler script: real gunicorn on a real port."""

import os
import sys
from pathlib import Path

import pytest
import requests

from sample_app_testing import SAMPLE_APP, free_port, s3_put_event

RUN_SH = SAMPLE_APP / "run.sh"


def run_env(**extra):
    """The test's environment, with the project's .venv first on PATH (as
    python-env.sh leaves it) and no storage settings unless given."""
    env = {k: v for k, v in os.environ.items() if k not in {"USERS_TABLE", "SQLITE_PATH", "PORT", "WEB_CONCURRENCY"}}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def listening_addresses(port):
    """Local addresses of the sockets listening on ``port`` (Linux /proc)."""
    found = []
    for table, loopback in (("/proc/net/tcp", "0100007F"), ("/proc/net/tcp6", "0" * 24 + "01000000")):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.append("loopback" if address == loopback else address)
    return found


@pytest.mark.parametrize("cwd", ["sample-app", "elsewhere"])
def test_run_sh_serves_the_app_with_gunicorn_on_loopback_port(start_server, tmp_path, cwd):
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux /proc to inspect listening sockets")
    port = free_port()
    env = run_env(PORT=str(port), SQLITE_PATH=str(tmp_path / "data" / "users.sqlite3"))
    server = start_server([str(RUN_SH)], env, SAMPLE_APP if cwd == "sample-app" else tmp_path, port)
    server.wait_ready()

    # exec: the process Lambda started is gunicorn's master itself, so
    # SIGTERM at shutdown reaches it directly.
    cmdline = Path(f"/proc/{server.proc.pid}/cmdline").read_bytes().split(b"\0")
    assert b"gunicorn" in cmdline
    assert listening_addresses(port) == ["loopback"]

    created = requests.post(f"{server.url}/users", json={"name": "Ada", "email": "ada@example.com"}, timeout=5)
    assert created.status_code == 201
    # Keep-alive is off on purpose (see gunicorn.conf.py).
    assert created.headers["Connection"] == "close"
    fetched = requests.get(f"{server.url}/users/{created.json()['id']}", timeout=5)
    assert fetched.json() == created.json()
    assert requests.get(f"{server.url}/", timeout=5).status_code == 200
    assert (tmp_path / "data" / "users.sqlite3").exists()

    assert server.stop() == 0
    stderr = server.stderr()
    assert f"Listening at: http://127.0.0.1:{port}" in stderr
    assert '"POST /users HTTP/1.1" 201' in stderr  # access log
    assert "users API using sqlite:" in stderr  # the app's own log
    assert server.stdout() == "", "everything should log to stderr"


def test_run_sh_on_dynamodb_and_s3(start_server, aws, users_table, bucket, tmp_path):
    port = free_port()
    server = start_server([str(RUN_SH)], run_env(PORT=str(port), USERS_TABLE=users_table), SAMPLE_APP, port)
    server.wait_ready()

    created = requests.post(f"{server.url}/users", json={"name": "Ada", "email": "ada@example.com"}, timeout=5)
    assert created.status_code == 201
    aws["s3"].put_object(Bucket=bucket, Key="new users.csv",
                         Body=b"name,email\nAda,ada@example.com\nBob,bob@example.com\nEve,eve\n")
    event = s3_put_event(bucket, "new users.csv")
    headers = {"x-portside-event-source": "aws:s3"}

    first = requests.post(f"{server.url}/events", json=event, headers=headers, timeout=30)
    again = requests.post(f"{server.url}/events", json=event, headers=headers, timeout=30)

    assert first.status_code == again.status_code == 200
    assert (first.json()["imported"], first.json()["already_present"]) == (1, 1)
    assert (again.json()["imported"], again.json()["already_present"]) == (0, 2)
    assert first.json()["objects"][0]["bad_rows"] == [
        {"row": 4, "error": "email is not a valid address (expected something like name@example.com)"}
    ]
    listed = requests.get(f"{server.url}/users", timeout=5).json()["users"]
    assert sorted(u["email"] for u in listed) == ["ada@example.com", "bob@example.com"]
    assert aws["dynamodb"].scan(TableName=users_table)["Count"] == 2

    assert server.stop() == 0
    assert f"users API using dynamodb:{users_table}" in server.stderr()
    assert "row 4: email is not a valid address" in server.stderr()


@pytest.mark.parametrize("port", ["http", "0", "70000"])
def test_run_sh_refuses_a_bad_port(start_server, port):
    server = start_server([str(RUN_SH)], run_env(PORT=port), SAMPLE_APP, 0)
    assert server.proc.wait(timeout=30) != 0
    assert f"PORT must be a TCP port number, not '{port}'" in server.stderr()
