"""Helpers shared by the sample app's tests (importable, unlike conftest)."""

import copy
import json
import os
import socket
import sys
import time
from pathlib import Path
from urllib.parse import quote_plus

import pytest

SAMPLE_APP = Path(__file__).resolve().parent.parent
REPO = SAMPLE_APP.parent
# The repository's sample event corpus (a test fixture, with licences and provenance).
EVENTS_DIR = REPO / "tests" / "events"

if str(SAMPLE_APP) not in sys.path:
    sys.path.insert(0, str(SAMPLE_APP))


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
        except AssertionError:  # a check that can never pass now (say, the process exited)
            raise
        except Exception as exc:  # not ready yet
            last_error = exc
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last error: {last_error!r})")


def load_event(relative: str) -> dict:
    path = EVENTS_DIR / relative
    if not path.is_file():
        pytest.fail(f"event sample {path} not found: it belongs to the repository's corpus (tests/events/index.json)")
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
