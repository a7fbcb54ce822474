"""Helpers shared by the sample app's tests (importable, unlike conftest)."""

import copy
import json
import os
import random
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


def _ephemeral_low() -> int:
    """The lowest port the kernel hands out on its own (bind to 0, connect)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_EPHEMERAL_LOW = _ephemeral_low()
_handed_out: set[int] = set()
_rng = random.Random()


def free_port() -> int:
    """A loopback port free now, for a process to listen on shortly after.

    Chosen below the kernel's ephemeral range: a port from ``bind(0)`` is
    free again once this returns, and any socket on the machine that binds
    to 0 or connects out (a fuzz target binding a thousand listeners a
    second, the tests' own clients) may be given it before the app listens.
    Below that range only a process naming the port takes it. Each port is
    handed out once per test process."""
    low, high = 20000, _EPHEMERAL_LOW - 1
    # Too few ports below the range (an unusual machine): the kernel's choice.
    for _ in range(200 if high - low >= 1000 else 0):
        port = _rng.randint(low, high)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket() as s:  # a machine whose low ports are all taken
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
