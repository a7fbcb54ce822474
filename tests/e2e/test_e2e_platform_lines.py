"""Lambda's START, END and REPORT lines around each invocation, as
portside-local prints them on stderr, with the sample app behind the real
adapter, shim and gunicorn.

Oracles: the request id Lambda's Invoke API answered with (the
``x-amzn-requestid`` header), the line formats CloudWatch Logs shows for a
function with the text log format (spelled out field by field here), and
the app's own answer (the invocation really reached it).
"""

import copy
import math
import re

import pytest

from e2e_support import load_corpus_event, wait_until

MEMORY_MB = 512

START_RE = re.compile(r"^START RequestId: (\S+) Version: \$LATEST$")
END_RE = re.compile(r"^END RequestId: (\S+)$")
# Tab-separated, durations with two decimals, Init Duration last and optional.
REPORT_RE = re.compile(
    r"^REPORT RequestId: (?P<id>\S+)"
    r"\tDuration: (?P<duration>\d+\.\d\d) ms"
    r"\tBilled Duration: (?P<billed>\d+) ms"
    r"\tMemory Size: (?P<size>\d+) MB"
    r"\tMax Memory Used: (?P<used>\d+) MB"
    r"(?:\tInit Duration: (?P<init>\d+\.\d\d) ms)?$"
)


@pytest.fixture(scope="module")
def fn(launch, stop_function, tmp_path_factory):
    env = {"SQLITE_PATH": str(tmp_path_factory.mktemp("sqlite") / "users.sqlite3")}
    fn = launch("http-api", env, label="platform-lines", extra_args=("--memory", str(MEMORY_MB)))
    try:
        yield fn
    finally:
        stop_function(fn)


def list_users_event():
    """An HTTP API (payload 2.0) GET /users, from the event corpus."""
    event = copy.deepcopy(load_corpus_event("aws-sam-cli-rendered/apigateway__http-api-proxy.json"))
    event["rawPath"] = "/users"
    event["rawQueryString"] = ""
    event["requestContext"]["http"]["method"] = "GET"
    event["requestContext"]["http"]["path"] = "/users"
    for key in ("body", "queryStringParameters", "cookies", "pathParameters"):
        event.pop(key, None)
    event["isBase64Encoded"] = False
    return event


def platform_lines(fn):
    """(kind, request id, line) for every platform line, in order; a line
    that starts like one but is not in Lambda's shape fails the test."""
    out = []
    for line in fn.stderr().splitlines():
        for kind, pattern in (("START", START_RE), ("END", END_RE), ("REPORT", REPORT_RE)):
            if line.startswith(f"{kind} RequestId: "):
                match = pattern.match(line)
                if not match:
                    pytest.fail(f"a {kind} line not in Lambda's shape: {line!r}")
                out.append((kind, match.group(1), line))
    return out


def wait_for_report(fn, request_id):
    def reported():
        return any(kind == "REPORT" and rid == request_id for kind, rid, _ in platform_lines(fn)) or None

    wait_until(reported, 15, f"the REPORT line of {request_id}")


def check_report(line, cold):
    match = REPORT_RE.match(line)
    assert match, line
    assert int(match["size"]) == MEMORY_MB, line
    used = int(match["used"])
    # The adapter, the shim's gunicorn and its workers take some memory,
    # and less than the function has.
    assert 1 <= used < MEMORY_MB, line
    assert (match["init"] is not None) == cold, line
    # Billed: the duration (with the init on a cold start, as Lambda bills
    # it since August 2025) rounded up to the next whole millisecond; the
    # two-decimal print hides up to 0.005 ms per figure.
    exact = float(match["duration"]) + float(match["init"] or 0)
    billed = int(match["billed"])
    assert math.ceil(exact - 0.01) <= billed <= math.ceil(exact + 0.01), line


def test_each_invocation_is_framed_by_start_end_and_report(fn):
    before = len(platform_lines(fn))
    ids = []
    for _ in range(2):
        response = fn.invoke(list_users_event())
        assert response.status_code == 200, response.text
        assert "x-amz-function-error" not in response.headers, response.text
        assert response.json()["statusCode"] == 200, response.text
        request_id = response.headers["x-amzn-requestid"]
        wait_for_report(fn, request_id)
        ids.append(request_id)

    lines = platform_lines(fn)[before:]
    # START, END, REPORT for the first, then for the second, nothing between.
    assert [(kind, rid) for kind, rid, _ in lines] == [
        (kind, rid) for rid in ids for kind in ("START", "END", "REPORT")
    ], fn.logs()
    reports = [line for kind, _, line in lines if kind == "REPORT"]
    # The instance served nothing before: the first invocation is the cold
    # start's, the second runs in the thawed environment.
    check_report(reports[0], cold=before == 0)
    check_report(reports[1], cold=False)


def test_a_request_through_the_front_door_gets_its_lines_too(fn):
    before = platform_lines(fn)
    response = fn.get("/users")
    assert response.status_code == 200, response.text

    def new_report():
        lines = platform_lines(fn)[len(before):]
        return lines if any(kind == "REPORT" for kind, _, _ in lines) else None

    lines = wait_until(new_report, 15, "the REPORT line of the front door's request")
    assert [kind for kind, _, _ in lines] == ["START", "END", "REPORT"], fn.logs()
    assert len({rid for _, rid, _ in lines}) == 1, lines
    assert lines[0][1] not in {rid for _, rid, _ in before}, "a new request id"
    check_report(lines[2][2], cold=not any(kind == "REPORT" for kind, _, _ in before))
