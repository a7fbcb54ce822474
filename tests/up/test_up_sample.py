"""``./serve.sh --stack``: ``portside-local up`` on the sample stack
(terraform/), as the README tells a user to run it: the users API behind its
HTTP API, REST API and Function URL, the import fed by the bucket's
notifications, the table and the bucket in the moto server ``up`` starts. The stack's one streaming switch is on
(``rest_api_response_transfer_mode=STREAM``): its OpenAPI body then sets the
REST integration's STREAM transfer mode, the Function URL streams too, and
both doors are checked to stream.

A CSV uploaded to the bucket through the AWS API (boto3, as a user would)
reaches the function as the S3 event moto itself makes; the users appear in
``GET /users``, the bad row is reported, and the log shows the import's
START, END and REPORT lines. The expected users and the bad row come from
the CSV written here and the sample app's documented rules (sample-app/
README.md: a row needs a name and an email).

serve.sh builds the adapter and portside-local, packages the sample app
into dist/ when it is missing or older than its sources (test.sh runs
./build.sh first, which writes it), zips the local debug build as the layer,
and passes the signal it gets on to ``up``, which stops everything it
started (the last test).
"""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest
import requests

from up_support import REPO, Up, descendants

CSV = "name,email\nAda Lovelace,ada@example.com\nAlan Turing,alan@example.com\nNo Email,\n"


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    work = tmp_path_factory.mktemp("up-sample")
    running = Up(
        REPO / "terraform",
        work,
        "--var",
        "rest_api_response_transfer_mode=STREAM",
        command=[str(REPO / "serve.sh"), "--stack"],
    )
    try:
        yield running
    finally:
        running.stop()


def test_every_front_door_of_the_stack_answers(up):
    http = up.door("HTTP API", "portside-sample-app-http")
    rest = up.door("REST API", "portside-sample-app-rest")
    for url, streamed in ((f"{http}/health", False), (f"{rest}/prod/health", True), (f"{up.function_url()}/health", True)):
        r = requests.get(url, timeout=30)
        assert (r.status_code, r.json()) == (200, {"status": "ok"}), url
        # A streamed answer is sent as it comes (chunked); a buffered one whole.
        assert (r.headers.get("transfer-encoding") == "chunked") == streamed, (url, dict(r.headers))
    assert re.search(r"^      ANY /\{proxy\+\} +-> portside-sample-app \(streamed\)$", up.banner(), re.M)
    assert "-> portside-sample-app (RESPONSE_STREAM" in up.banner()
    # The REST API has no default stage: API Gateway's own answer.
    r = requests.get(f"{rest}/health", timeout=30)
    assert (r.status_code, r.json()) == (403, {"message": "Missing Authentication Token"})


def test_a_csv_put_in_the_bucket_is_imported_through_the_notification(up):
    s3 = up.aws("s3")
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    imports = [b for b in buckets if b.startswith("portside-sample-imports-")]
    assert len(imports) == 1, buckets
    put_at = time.monotonic()
    s3.put_object(Bucket=imports[0], Key="team/users.csv", Body=CSV.encode())

    # The bad row is reported by the import (row 4: the header is row 1),
    # and the import ends.
    up.wait_log(r"team/users\.csv row 4: email must not be empty", timeout=max(1, put_at + 60 - time.monotonic()))
    up.wait_log(r"imported 2, already present 0, bad rows 1")
    http = up.door("HTTP API", "portside-sample-app-http")
    names = sorted(u["name"] for u in requests.get(f"{http}/users", timeout=30).json()["users"])
    assert names == ["Ada Lovelace", "Alan Turing"]


def test_the_import_runs_between_its_start_end_and_report_lines(up):
    up.wait_log(r"imported 2, already present 0, bad rows 1")
    lines = up.log().splitlines()
    at = next(i for i, line in enumerate(lines) if "imported 2, already present 0, bad rows 1" in line)
    # The environment the import ran in (others may serve GET /users meanwhile).
    who = lines[at].split(" | ", 1)[0]
    start_at = max(i for i in range(at) if lines[i].startswith(f"{who} | START RequestId: "))
    request_id = re.fullmatch(rf"{re.escape(who)} \| START RequestId: (\S+) Version: \$LATEST", lines[start_at]).group(1)
    # END and REPORT follow once the result is in.
    up.wait_log(rf"REPORT RequestId: {request_id}\t")
    lines = up.log().splitlines()
    end_at = lines.index(f"{who} | END RequestId: {request_id}", at)
    report = lines[end_at + 1]
    # Lambda's REPORT fields, with the stack's memory_size (512).
    assert re.fullmatch(
        rf"{re.escape(who)} \| REPORT RequestId: {request_id}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms"
        r"\tMemory Size: 512 MB\tMax Memory Used: \d+ MB(\tInit Duration: [\d.]+ ms)?",
        report,
    ), report
    # Within it, in that environment: the adapter's POST of moto's S3 event
    # to the app, answered 200.
    assert any(line.startswith(who) and '"POST /events HTTP/1.1" 200' in line for line in lines[start_at:end_at])


def test_the_banner_says_where_everything_is(up):
    banner = up.banner()
    assert re.search(r"S3 portside-sample-imports-\w+ s3:ObjectCreated:\* prefix \"\" suffix \"\.csv\" -> portside-sample-app", banner)
    assert "DynamoDB table portside-sample-users: aws --endpoint-url http://127.0.0.1:" in banner
    assert "layers: portside (the local build)" in banner
    assert re.search(r"^  HTTP API portside-sample-app-http at http://127\.0\.0\.1:\d+  \[module\.app\.aws_apigatewayv2_api\.this\[0\]\]$", banner, re.M)
    assert re.search(r"^      \$default +-> portside-sample-app \(payload 2\.0\)$", banner, re.M)


def test_serve_sh_stack_stops_with_everything_it_started(up):
    # Last: it stops the stack. serve.sh --stack ran portside-local up on
    # terraform/ with the layer zip of the local build...
    assert up.command[:2] == [str(REPO / "serve.sh"), "--stack"]
    assert re.search(r"portside-local up: reading \S*/terraform with Terraform", up.log())
    tree = descendants(up.proc.pid)
    commands = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace") for pid, _ in tree}
    assert any("portside-local up terraform" in c and "layer_zip_path=" in c for c in commands.values()), commands
    assert any("moto" in c for c in commands.values()), commands
    # ...and SIGTERM to serve.sh (as `kill` sends it) stops up, which stops
    # the functions and moto: serve.sh exits 0 with nothing of it left.
    up.proc.send_signal(signal.SIGTERM)
    assert up.proc.wait(timeout=30) == 0, up.logs()[-4000:]
    deadline = time.monotonic() + 5
    left = list(commands)
    while left and time.monotonic() < deadline:
        left = [pid for pid in left if Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"]
        time.sleep(0.1)
    assert not left, {pid: commands[pid] for pid in left}
    assert "portside-local up: shutting down" in up.log()
