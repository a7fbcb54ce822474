"""``portside-local up`` on tests/up/stack, a stack no example uses.

Two functions: ``up-test-api`` echoes its event (so the tests read the event
each route sends, field by field), ``up-test-worker`` prints each event it
gets (``EVENT {...}`` in the log) and answers SQS batches with a partial
batch response. The expectations come from the stack's own Terraform (route
keys, stages, variables, batch size, maxReceiveCount) and from the API
Gateway, Lambda, SQS and EventBridge documentation, not from up's code.

The queue rules are checked against the queues themselves (moto, read with
boto3): what was deleted, what came back, what its redrive policy moved to
the dead-letter queue.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import zipfile

import pytest
import requests

from up_support import HERE, Up

STACK = HERE / "stack"


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    work = tmp_path_factory.mktemp("up-stack")
    stack = work / "stack"
    shutil.copytree(STACK, stack)
    (stack / "build").mkdir()
    for source in (stack / "src").glob("*.py"):
        with zipfile.ZipFile(stack / "build" / f"{source.stem}.zip", "w") as z:
            z.write(source, source.name)
    running = Up(stack, work, "--fire", "up-test-nightly")
    try:
        yield running
    finally:
        running.stop()


def events(up: Up) -> list[dict]:
    """Every event the worker printed, in order."""
    return [json.loads(m) for m in re.findall(r"up-test-worker#\d+ \| \[runtime\] EVENT (\{.*\})", up.log())]


def sqs_bodies(up: Up) -> list[tuple[str, str]]:
    """(body, ApproximateReceiveCount) of every SQS record the worker got."""
    return [
        (r["body"], r["attributes"]["ApproximateReceiveCount"])
        for e in events(up)
        for r in e.get("Records", [])
        if r.get("eventSource") == "aws:sqs"
    ]


def wait_until(what, check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"never: {what}")


# --- HTTP API -----------------------------------------------------------------------


def test_http_api_routes_with_path_parameters_and_stage_variables(up):
    http = up.door("HTTP API", "up-test-http")
    e = requests.get(f"{http}/items/42?x=1", timeout=30).json()
    assert e["version"] == "2.0"
    assert e["routeKey"] == e["requestContext"]["routeKey"] == "GET /items/{id}"
    assert e["pathParameters"] == {"id": "42"}
    assert e["stageVariables"] == {"color": "blue"}
    assert e["requestContext"]["stage"] == "$default"
    assert e["rawPath"] == "/items/42" and e["rawQueryString"] == "x=1"

    # The named stage: its own variables, the stage in rawPath, a decoded
    # path parameter.
    e = requests.get(f"{http}/v2/items/a%20b", timeout=30).json()
    assert e["requestContext"]["stage"] == "v2"
    assert e["stageVariables"] == {"color": "green"}
    assert e["rawPath"] == "/v2/items/a%20b"
    assert e["pathParameters"] == {"id": "a b"}


def test_http_api_greedy_default_and_payload_1_0(up):
    http = up.door("HTTP API", "up-test-http")
    e = requests.delete(f"{http}/files/reports/2026/q1.csv", timeout=30).json()
    assert e["routeKey"] == "ANY /files/{proxy+}"
    assert e["pathParameters"] == {"proxy": "reports/2026/q1.csv"}

    e = requests.get(f"{http}/no/route/here", timeout=30).json()
    assert e["routeKey"] == "$default"
    assert "pathParameters" not in e

    # POST /legacy/{name} integrates with payload format 1.0.
    e = requests.post(f"{http}/legacy/bob", data="hi", headers={"X-Up-Test": "1"}, timeout=30).json()
    assert e["version"] == "1.0"
    assert e["resource"] == e["requestContext"]["resourcePath"] == "/legacy/{name}"
    assert e["pathParameters"] == {"name": "bob"}
    assert e["headers"]["x-up-test"] == "1" and e["multiValueHeaders"]["x-up-test"] == ["1"]
    assert e["body"] == "hi" and e["httpMethod"] == "POST"


def test_a_jwt_route_whose_issuer_keys_are_not_here_is_refused_not_passed_on(up):
    # Its issuer (https://issuer.example.com) is not on this machine and no
    # --jwt-jwks gives its keys: no token can be checked, so none passes.
    http = up.door("HTTP API", "up-test-http")
    r = requests.get(f"{http}/private", headers={"Authorization": "Bearer x"}, timeout=30)
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    assert "GET /private" not in json.dumps(events(up)), "the function never saw it"


# --- REST API -----------------------------------------------------------------------


def test_rest_api_resources_methods_and_stage(up):
    rest = up.door("REST API", "up-test-rest")
    e = requests.get(f"{rest}/test/orders/7?full=yes", timeout=30).json()
    assert "version" not in e
    assert e["resource"] == e["requestContext"]["resourcePath"] == "/orders/{orderId}"
    assert e["path"] == "/orders/7"
    assert e["requestContext"]["path"] == "/test/orders/7"
    assert e["requestContext"]["stage"] == "test"
    assert e["pathParameters"] == {"orderId": "7"}
    assert e["stageVariables"] == {"flavour": "plain"}
    assert e["queryStringParameters"] == {"full": "yes"}


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/test/orders"), ("POST", "/test/orders/7"), ("GET", "/orders/7"), ("GET", "/test/nothing")],
)
def test_rest_api_answers_what_it_does_not_route_as_api_gateway_does(up, method, path):
    # A path no resource has, a method the resource lacks, or no stage:
    # API Gateway's 403 Missing Authentication Token.
    r = requests.request(method, up.door("REST API", "up-test-rest") + path, timeout=30)
    assert (r.status_code, r.json()) == (403, {"message": "Missing Authentication Token"})


# --- Function URL and ALB -------------------------------------------------------------


def test_function_url_sends_every_path_as_payload_2_0(up):
    e = requests.put(f"{up.function_url()}/any/path?a=1", data="x", timeout=30).json()
    assert e["version"] == "2.0" and e["rawPath"] == "/any/path" and e["rawQueryString"] == "a=1"
    assert e["requestContext"]["domainName"].endswith(".lambda-url.us-east-1.on.aws")
    assert e["requestContext"]["http"]["method"] == "PUT"


def test_alb_target_group_sends_its_arn_and_multi_value_headers(up):
    found = re.search(r"ALB target group (http://127\.0\.0\.1:\d+)/ -> up-test-api \(multi-value headers\)", up.banner())
    assert found, up.banner()
    e = requests.get(f"{found.group(1)}/lb/check?q=1&q=2", timeout=30).json()
    arn = e["requestContext"]["elb"]["targetGroupArn"]
    assert re.fullmatch(r"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/up-test-api/[0-9a-f]+", arn)
    assert e["multiValueQueryStringParameters"] == {"q": ["1", "2"]}
    assert "headers" not in e and "multiValueHeaders" in e


# --- SQS ----------------------------------------------------------------------------


def test_a_handled_batch_is_deleted_and_a_failed_item_lands_in_the_dlq(up):
    sqs = up.aws("sqs")
    jobs = sqs.get_queue_url(QueueName="up-test-jobs")["QueueUrl"]
    dead = sqs.get_queue_url(QueueName="up-test-jobs-dead")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=jobs,
        Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(["ok-a", "ok-b", "fail-a"])],
    )

    def in_dead():
        got = sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10, VisibilityTimeout=60)
        return [m["Body"] for m in got.get("Messages", [])]

    assert wait_until("fail-a in the dead-letter queue", in_dead, timeout=60) == ["fail-a"]
    seen = sqs_bodies(up)
    # The handled ones were deleted: delivered once, never again.
    assert [c for b, c in seen if b == "ok-a"] == ["1"]
    assert [c for b, c in seen if b == "ok-b"] == ["1"]
    # The failed one came back once its visibility timeout passed, and the
    # queue's redrive policy (maxReceiveCount 2) moved it on after that.
    assert [c for b, c in seen if b == "fail-a"] == ["1", "2"]
    left = sqs.get_queue_attributes(QueueUrl=jobs, AttributeNames=["All"])["Attributes"]
    assert left["ApproximateNumberOfMessages"] == left["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert up.log().count("reported failed (batchItemFailures)") >= 2
    # Batches of at most batch_size (5), every record in SQS's documented shape.
    for e in events(up):
        records = [r for r in e.get("Records", []) if r.get("eventSource") == "aws:sqs"]
        assert len(records) <= 5
        for r in records:
            assert r["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:up-test-jobs"
            assert set(r) >= {"messageId", "receiptHandle", "body", "attributes", "md5OfBody", "awsRegion"}


def test_a_failed_batch_is_not_deleted(up):
    sqs = up.aws("sqs")
    jobs = sqs.get_queue_url(QueueName="up-test-jobs")["QueueUrl"]
    sqs.send_message_batch(QueueUrl=jobs, Entries=[{"Id": "0", "MessageBody": "crash-b"}, {"Id": "1", "MessageBody": "ok-c"}])
    wait_until("crash-b delivered twice", lambda: [c for b, c in sqs_bodies(up) if b == "crash-b"] == ["1", "2"], timeout=60)
    # Every message that shared a batch with the crash came back too.
    for e in events(up):
        bodies = [r["body"] for r in e.get("Records", []) if r.get("eventSource") == "aws:sqs"]
        if "crash-b" in bodies and "ok-c" in bodies:
            assert len([c for b, c in sqs_bodies(up) if b == "ok-c"]) >= 2
    assert "the batch failed (RuntimeError: a message asked for a crash)" in up.log()


# --- DynamoDB stream ------------------------------------------------------------------


def test_a_table_write_reaches_the_worker_as_moto_s_stream_record(up):
    dynamodb = up.aws("dynamodb")
    dynamodb.put_item(TableName="up-test-orders", Item={"id": {"S": "order-1"}, "total": {"N": "12"}})

    def records():
        return [r for e in events(up) for r in e.get("Records", []) if r.get("eventSource") == "aws:dynamodb"]

    r = wait_until("the stream record", records, timeout=30)[0]
    # Lambda's DynamoDB Streams record (eventName, the keys and images).
    assert r["eventName"] == "INSERT"
    assert r["dynamodb"]["Keys"] == {"id": {"S": "order-1"}}
    assert r["dynamodb"]["NewImage"] == {"id": {"S": "order-1"}, "total": {"N": "12"}}
    assert re.fullmatch(r"arn:aws:dynamodb:us-east-1:123456789012:table/up-test-orders/stream/.+", r["eventSourceARN"])


# --- schedules ----------------------------------------------------------------------


def test_fire_sends_the_documented_scheduled_event(up):
    up.wait_log(r"schedule up-test-nightly -> up-test-worker: fired now \(--fire\)")
    scheduled = wait_until("the nightly event", lambda: [e for e in events(up) if e.get("detail-type") == "Scheduled Event"])
    e = scheduled[0]
    assert e["source"] == "aws.events" and e["version"] == "0"
    assert e["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/up-test-nightly"]
    assert e["detail"] == {} and e["account"] == "123456789012" and e["region"] == "us-east-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e["time"])


# --- what up says at start ------------------------------------------------------------


@pytest.mark.parametrize(
    "address, words",
    [
        ("aws_lambda_function.remote", "its package is not local (s3://some-artifacts/remote.zip)"),
        ("aws_lambda_function.worker", "runs in a VPC (vpc_config): the VPC is not emulated"),
        ("aws_apigatewayv2_authorizer.jwt", "its issuer https://issuer.example.com is not on this machine"),
        ("aws_apigatewayv2_route.private", "is guarded by aws_apigatewayv2_authorizer.jwt, which is refused: answered 401"),
        ("aws_db_instance.orders", "lives in a VPC: not emulated"),
        ("aws_db_instance.orders", "aws_lambda_function.api's DB_HOST names it"),
    ],
)
def test_refusals_name_the_address_and_what_happens_instead(up, address, words):
    refused = up.banner().split("refused (what happens instead):")[1].split("\nnot emulated:")[0]
    assert any(line.strip().startswith(f"{address}:") and words in line for line in refused.splitlines()), refused


def test_what_is_not_emulated_is_listed(up):
    listed = up.banner().split("\nnot emulated:")[1]
    assert "aws_lambda_event_source_mapping.clicks: an event source mapping from kinesis" in listed
    assert "aws_kinesis_stream.clicks" in listed
    assert "up-test-remote" not in up.banner().split("front doors:")[0], "a refused function is not run"


def test_one_log_with_each_functions_platform_lines(up):
    log = up.log()
    starts = re.findall(r"^(up-test-worker#\d+) \| START RequestId: (\S+) Version: \$LATEST$", log, re.M)
    assert starts
    for who, request_id in starts:
        # END and REPORT in the same environment as its START.
        assert re.search(rf"^{who} \| END RequestId: {request_id}$", log, re.M)
        assert re.search(rf"^{who} \| REPORT RequestId: {request_id}\tDuration: [\d.]+ ms\t", log, re.M)
    assert re.search(r"^up-test-api#\d+ \| START RequestId: ", log, re.M)


def test_a_rate_schedule_fires_on_its_own(up):
    # rate(1 minute): a minute after the schedule started, with the target's
    # constant input as the event. The schedule starts after the stack is
    # read, so no tick can come within a minute of up's own start.
    wait_until("the tick schedule's event", lambda: {"tick": True} in events(up), timeout=150)
    assert time.monotonic() - up.started >= 60
    assert "schedule up-test-tick -> up-test-worker: fired (" in up.log()
