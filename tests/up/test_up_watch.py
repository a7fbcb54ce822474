"""``portside-local up --watch`` on tests/up/stack.

The stack's packages are zips built here, outside Terraform (as most
stacks' are): ``up`` says their sources are not watched and why, and
watches each zip itself. Rebuilding ``build/api.zip`` with new code is
answered by the new code on the next requests, after one restart (a cold
start); a package that cannot be unpacked keeps the old code serving.

(A package that a ``data "archive_file"`` zips from a folder is watched at
that folder; the hashicorp/archive provider is not in the offline provider
mirror the tests run with, so that case is covered by the unit tests of
local/src/up/reload.rs and local/src/up/stack/tests.rs.)
"""

from __future__ import annotations

import os
import re
import shutil
import time
import zipfile

import pytest
import requests

from up_support import HERE, Up

STACK = HERE / "stack"

NEW_CODE = '''
import json


def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"code": "CODE", "path": event["rawPath"]})}
'''


def package(zip_path, source_name: str, text: str) -> None:
    """Writes the zip next to its place, then renames it there, as build
    tools replace a file."""
    partial = zip_path.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w") as z:
        z.writestr(source_name, text)
    os.replace(partial, zip_path)


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    work = tmp_path_factory.mktemp("up-watch")
    stack = work / "stack"
    shutil.copytree(STACK, stack)
    (stack / "build").mkdir()
    for source in (stack / "src").glob("*.py"):
        with zipfile.ZipFile(stack / "build" / f"{source.stem}.zip", "w") as z:
            z.write(source, source.name)
    running = Up(stack, work, "--watch")
    running.stack = stack
    try:
        yield running
    finally:
        running.stop()


def served(up: Up) -> dict:
    return requests.get(f"{up.door('HTTP API', 'up-test-http')}/items/1", timeout=30).json()


def wait_for(up: Up, code: str, timeout: float = 30) -> float:
    """Seconds until the API answers with `code`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        body = served(up)
        if body.get("code") == code:
            return time.monotonic() - started
        time.sleep(0.05)
    pytest.fail(f"the new code {code} never answered:\n{up.log()[-4000:]}")


def test_a_prebuilt_zip_is_said_not_to_be_watched_at_its_sources(up):
    up.wait_log(
        r"up-test-api: its sources are not watched: \S+/build/api\.zip is a prebuilt zip, "
        r"and up cannot tell which folder it was built from; the zip itself is watched"
    )
    assert re.search(r"watching \S+/build/api\.zip", up.log())


def test_a_rebuilt_zip_is_served_by_the_next_requests_after_one_cold_start(up):
    assert served(up)["routeKey"] == "GET /items/{id}", "the echo function answers first"
    restarts = up.log().count("a cold start: the code changed")
    package(up.stack / "build" / "api.zip", "api.py", NEW_CODE.replace("CODE", "v2"))
    wait_for(up, "v2")
    assert served(up) == {"code": "v2", "path": "/items/1"}
    up.wait_log(r"up-test-api: api\.zip changed; restarting the function")
    assert up.log().count("a cold start: the code changed") == restarts + 1


def test_a_package_that_cannot_be_unpacked_keeps_the_old_code_serving(up):
    package(up.stack / "build" / "api.zip", "api.py", NEW_CODE.replace("CODE", "v3"))
    wait_for(up, "v3")
    (up.stack / "build" / "broken.partial").write_bytes(b"not a zip")
    os.replace(up.stack / "build" / "broken.partial", up.stack / "build" / "api.zip")
    up.wait_log(r"cannot unpack \S+/build/api\.zip: .*; the running environments keep serving the code from before the change")
    assert served(up)["code"] == "v3"
    # The next good package is taken.
    package(up.stack / "build" / "api.zip", "api.py", NEW_CODE.replace("CODE", "v4"))
    wait_for(up, "v4")
