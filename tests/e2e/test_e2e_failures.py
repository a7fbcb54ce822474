"""Failures through the whole stack, and that the function survives them.

An app that answers an event with an error status must fail the invocation
(so Lambda retries the event); an app 5xx to an HTTP request is an ordinary
HTTP response; and in both cases the next request is served by the same
sandbox. Two instances: one whose S3 endpoint is unreachable, one whose
DynamoDB table does not exist.
"""

import uuid

import pytest

from e2e_support import descendants, free_port, s3_event, s3_record


def function_error(response):
    """The Invoke API's answer for a failed invocation: 200, the
    X-Amz-Function-Error header, and Lambda's error JSON as the payload."""
    assert response.status_code == 200, response.text
    assert response.headers.get("x-amz-function-error") == "Unhandled", (response.headers, response.text)
    payload = response.json()
    assert set(payload) >= {"errorType", "errorMessage"}, payload
    return payload


@pytest.fixture(scope="module")
def s3_down(launch, stop_function, new_table):
    """DynamoDB works; S3 is a closed port (nothing listens on a port we just freed)."""
    env = {"USERS_TABLE": new_table(), "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{free_port()}"}
    fn = launch("http-api", env, label="s3-down")
    try:
        yield fn
    finally:
        stop_function(fn)


@pytest.fixture(scope="module")
def no_table(launch, stop_function):
    fn = launch("rest-api", {"USERS_TABLE": f"missing-{uuid.uuid4().hex[:8]}"}, label="no-table")
    try:
        yield fn
    finally:
        stop_function(fn)


def assert_still_serving(fn):
    email = f"after-{uuid.uuid4().hex[:8]}@example.com"
    created = fn.post("/users", json={"name": "After Failure", "email": email})
    assert created.status_code == 201, created.text
    fetched = fn.get(created.headers["location"])
    assert fetched.status_code == 200 and fetched.json() == created.json()


def test_unreadable_s3_fails_the_invocation_so_lambda_retries(s3_down):
    event = s3_event(s3_record("any-bucket", "users.csv", size=20, etag="0" * 32))

    payload = function_error(s3_down.invoke(event))

    assert payload["errorType"] == "Portside.AppError"
    # The app's 502 and its message reach Lambda's error record.
    assert "502" in payload["errorMessage"]
    assert "could not read s3://any-bucket/users.csv" in payload["errorMessage"]
    assert "retry the event (importing again is safe)" in payload["errorMessage"]
    assert_still_serving(s3_down)


def test_an_event_source_the_app_refuses_fails_the_invocation(s3_down):
    """An SQS message is passed through with its source named; the app
    answers 400, and the message must not count as handled."""
    event = {"Records": [{
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "AQEBexample",
        "body": "hello",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000",
                       "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1700000000001"},
        "messageAttributes": {},
        "md5OfBody": "5d41402abc4b2a76b9719d911017c592",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:queue",
        "awsRegion": "us-east-1",
    }]}

    payload = function_error(s3_down.invoke(event))

    assert payload["errorType"] == "Portside.AppError"
    assert "400" in payload["errorMessage"]
    assert "unsupported event source 'aws:sqs': this app handles aws:s3 only" in payload["errorMessage"]
    assert_still_serving(s3_down)


def post_invoke(fn, raw: bytes):
    return fn.request("POST", fn.invoke_url[len(fn.url):], data=raw, headers={"content-type": "application/json"})


def test_an_invoke_payload_that_is_not_json_never_counts_as_handled(s3_down):
    response = post_invoke(s3_down, b"{not json")

    assert response.status_code == 400 or response.headers.get("x-amz-function-error") == "Unhandled", (
        response.status_code, dict(response.headers), response.text)
    assert_still_serving(s3_down)


def test_an_invoke_payload_that_is_not_json_is_refused_as_lambda_does(s3_down):
    response = post_invoke(s3_down, b"{not json")

    assert response.status_code == 400, (response.status_code, dict(response.headers), response.text)
    assert response.headers.get("x-amzn-errortype", "").startswith("InvalidRequestContentException")


def test_an_app_500_is_an_ordinary_http_response(no_table):
    response = no_table.get("/users")

    # The app's own 500 and JSON, not API Gateway's 502 "Internal server error".
    assert response.status_code == 500, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "internal error; the request can be retried"}
    assert response.headers["server"].startswith("gunicorn")


def test_a_storage_failure_during_an_import_fails_the_invocation(no_table, aws, new_bucket):
    bucket = new_bucket()
    body = b"name,email\nStuck Person,stuck@example.com\n"
    put = aws["s3"].put_object(Bucket=bucket, Key="users.csv", Body=body)
    event = s3_event(s3_record(bucket, "users.csv", size=len(body), etag=put["ETag"].strip('"')))

    payload = function_error(no_table.invoke(event))

    assert payload["errorType"] == "Portside.AppError"
    assert "500" in payload["errorMessage"]
    assert "internal error; the request can be retried" in payload["errorMessage"]
    # Still serving: a request that does not touch storage succeeds.
    health = no_table.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


def test_sigterm_stops_portside_local_and_every_function_process(s3_down, stop_function):
    tree = descendants(s3_down.proc.pid)
    # The adapter extension and gunicorn (master and worker) at least.
    assert len(tree) >= 3, tree

    stop_function(s3_down)

    assert s3_down.stopped_cleanly, "SIGTERM left processes behind (they were killed)\n" + s3_down.logs()
    assert s3_down.proc.returncode == 0, s3_down.logs()
    assert "shutting down" in s3_down.stderr()
