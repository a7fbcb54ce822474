"""Fixtures for the tests of what a release ships (tests/dist): a moto
server playing AWS, and the release files ./build.sh --dist wrote."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "sample-app" / "tests"))
from sample_app_testing import free_port, wait_until  # noqa: E402

DIST = REPO / "dist"


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory):
    """A moto server on loopback, stopped at the end of the session."""
    port = free_port()
    script = Path(sys.executable).with_name("moto_server")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "moto.server"]
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            command + ["-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"

    def ready():
        if proc.poll() is not None:
            pytest.fail(f"moto_server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            return requests.get(f"{url}/moto-api/", timeout=1).ok
        except requests.ConnectionError:
            return False

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


def aws_env(moto_url: str) -> dict:
    """An environment whose AWS calls go to moto, with fake credentials and
    no profile of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=moto_url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    return env


def release_file(name: str) -> Path:
    """A file ./build.sh --dist wrote into dist/ (the test fails, saying so, without it)."""
    path = DIST / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: run ./build.sh --dist first (./test.sh does)")
    return path
