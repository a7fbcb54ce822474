"""``portside-local up`` on tests/up/stack, a stack no example uses.

``up-test-api`` echoes its event (so the tests read the event each route
sends, field by field), ``up-test-worker`` prints each event it gets
(``EVENT {...}`` in the log) and answers SQS batches with a partial batch
response, ``up-test-slow`` sleeps and says when and where it ran. The
expectations come from the stack's own Terraform (route keys, stages,
variables, batch sizes, windows, filters, reserved concurrency,
maxReceiveCount) and from the API Gateway, Lambda, S3, SQS and EventBridge
documentation, not from up's code.

``up`` runs with ``AWS_ENDPOINT_URL`` naming a moto server this module
starts: it must use that one and start none of its own (test_up_sample.py
covers the moto server ``up`` starts). The queue rules are checked against
the queues themselves (moto, read with boto3): what was deleted, what came
back, what its redrive policy moved to the dead-letter queue.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
import requests

from up_support import HERE, MotoServer, Up, descendants, need_terraform

STACK = HERE / "stack"


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    need_terraform()
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def up(tmp_path_factory, moto):
    work = tmp_path_factory.mktemp("up-stack")
    stack = work / "stack"
    shutil.copytree(STACK, stack)
    (stack / "build").mkdir()
    # One zip per function source (build/NAME.zip holding NAME.py).
    for source in sorted((stack / "src").glob("*.py")):
        with zipfile.ZipFile(stack / "build" / f"{source.stem}.zip", "w") as z:
            z.write(source, source.name)
    own = {"AWS_ENDPOINT_URL": moto.url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    running = Up(stack, work, "--fire", "up-test-nightly", env=own)
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
        records = [
            r
            for r in e.get("Records", [])
            if r.get("eventSource") == "aws:sqs" and not r["eventSourceARN"].endswith(":up-test-window")
        ]
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


def starts(up: Up, function: str) -> list[str]:
    """The request ids of every START line of ``function``, in order."""
    return re.findall(rf"^{re.escape(function)}#\d+ \| START RequestId: (\S+) ", up.log(), re.M)


# --- an HTTP API without $default -----------------------------------------------------


@pytest.mark.parametrize("method, path", [("GET", "/nothing"), ("POST", "/bare/7"), ("GET", "/bare"), ("GET", "/bare/7/more")])
def test_an_http_api_without_a_default_route_answers_404_when_no_route_matches(up, method, path):
    bare = up.door("HTTP API", "up-test-bare")
    e = requests.get(f"{bare}/bare/7", timeout=30).json()
    assert e["routeKey"] == "GET /bare/{id}" and e["pathParameters"] == {"id": "7"}
    seen = len(starts(up, "up-test-api"))
    # No route matches (another path, another method, a path parameter
    # cannot span segments) and there is no $default route: API Gateway's
    # own answer ("Create routes for HTTP APIs", Routing API requests: 404
    # {"message":"Not Found"}), and the function is not invoked.
    r = requests.request(method, bare + path, timeout=30)
    assert (r.status_code, r.json()) == (404, {"message": "Not Found"})
    time.sleep(0.5)
    assert len(starts(up, "up-test-api")) == seen


# --- reserved concurrency -----------------------------------------------------------


def test_reserved_concurrency_runs_at_most_that_many_and_throttles_the_next(up):
    slow = up.door("HTTP API", "up-test-bare") + "/slow"
    # Three requests at once to a function with reserved concurrency 2: two
    # run side by side in two environments, the third is throttled. API
    # Gateway answers a throttled invocation (the Lambda API rejects it) with
    # 500, at once ("Handling Lambda errors with an API Gateway API"; an HTTP
    # API's message is "Internal Server Error").
    answers = []

    def call():
        sent = time.monotonic()
        r = requests.get(slow, params={"sleep": "6"}, timeout=60)
        answers.append((r.status_code, r.json(), time.monotonic() - sent))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ran = [body for status, body, _ in answers if status == 200]
    throttled = [(status, body, took) for status, body, took in answers if status != 200]
    assert len(ran) == 2 and len(throttled) == 1, answers
    status, body, took = throttled[0]
    assert (status, body) == (500, {"message": "Internal Server Error"})
    assert took < 6, f"the throttled request waited {took:.1f} s"
    # The two ran at the same time, each in its own environment.
    assert max(b["started"] for b in ran) < min(b["ended"] for b in ran), ran
    assert len({b["stream"] for b in ran}) == 2, ran
    assert len(starts(up, "up-test-slow")) == 2, "the throttled request never reached the function"
    assert len(re.findall(r"^up-test-slow \| portside-local: throttled \(TooManyRequestsException\)", up.log(), re.M)) == 1
    # Once they are done, it runs again.
    assert requests.get(slow, params={"sleep": "0"}, timeout=30).status_code == 200


def test_reserved_concurrency_0_is_refused_and_never_invoked(up):
    refused = up.banner().split("refused (what happens instead):")[1].split("\nnot emulated:")[0]
    assert re.search(r"^\s*aws_lambda_function\.never: reserved concurrency 0: Lambda throttles every invocation", refused, re.M), refused
    # Behind an HTTP API: API Gateway's 500, as for a throttled invocation.
    r = requests.get(up.door("HTTP API", "up-test-bare") + "/never", timeout=30)
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})
    assert not re.search(r"^up-test-never#", up.log(), re.M), "never started"


# --- S3 notification filters ------------------------------------------------------


def test_s3_notifications_deliver_only_the_events_and_keys_their_filters_name(up):
    s3 = up.aws("s3")
    # The notification asks for s3:ObjectCreated:Put of keys under in/
    # ending in .txt. Outside it: another prefix, another suffix, another
    # event of the ObjectCreated type (a copy), an ObjectRemoved event.
    s3.put_object(Bucket="up-test-drop", Key="out/b.txt", Body=b"b")
    s3.put_object(Bucket="up-test-drop", Key="in/c.csv", Body=b"c")
    s3.copy_object(Bucket="up-test-drop", Key="in/d.txt", CopySource={"Bucket": "up-test-drop", "Key": "out/b.txt"})
    s3.delete_object(Bucket="up-test-drop", Key="in/d.txt")
    # Inside it, last: once it has arrived, any of the others would have.
    s3.put_object(Bucket="up-test-drop", Key="in/a.txt", Body=b"a")

    # The event's key is URL-encoded ("Event message structure"), decoded
    # as the Lambda developer guide's S3 examples decode it.
    def delivered():
        return [
            (r["eventName"], unquote_plus(r["s3"]["object"]["key"]))
            for e in events(up)
            for r in e.get("Records", [])
            if r.get("eventSource") == "aws:s3" and r["s3"]["bucket"]["name"] == "up-test-drop"
        ]

    wait_until("in/a.txt delivered", lambda: ("ObjectCreated:Put", "in/a.txt") in delivered(), timeout=30)
    assert delivered() == [("ObjectCreated:Put", "in/a.txt")]


# --- SQS batching window ----------------------------------------------------------


def window_batches(up: Up) -> list[list[str]]:
    """The bodies of each batch from up-test-window, in order."""
    out = []
    for e in events(up):
        bodies = [r["body"] for r in e.get("Records", []) if r.get("eventSourceARN", "").endswith(":up-test-window")]
        if bodies:
            out.append(bodies)
    return out


def test_messages_sent_within_the_batching_window_arrive_in_one_batch(up):
    sqs = up.aws("sqs")
    url = sqs.get_queue_url(QueueName="up-test-window")["QueueUrl"]
    # batch_size 4, maximum_batching_window_in_seconds 2: Lambda gathers
    # records for up to the window before it invokes, and at most
    # batch_size of them ("Using Lambda with Amazon SQS", batching
    # behavior). Three sent one by one within the window: one batch.
    for body in ("w1", "w2", "w3"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
        time.sleep(0.3)
    wait_until("the w batch", lambda: any("w1" in b for b in window_batches(up)), timeout=30)
    assert [sorted(b) for b in window_batches(up)] == [["w1", "w2", "w3"]]
    # Five at once: a full batch of 4 at once, the fifth after the window.
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"v{i}"} for i in range(5)])
    wait_until("every v message", lambda: sum(len(b) for b in window_batches(up)) == 8, timeout=30)
    assert [len(b) for b in window_batches(up)] == [3, 4, 1]
    assert sorted(m for b in window_batches(up)[1:] for m in b) == [f"v{i}" for i in range(5)]


# --- the caller's own AWS endpoint ------------------------------------------------


def test_up_uses_the_aws_endpoint_url_it_is_given_and_starts_no_moto(up, moto):
    assert f"AWS resources at {moto.url} (your AWS_ENDPOINT_URL; up started no moto server;" in up.banner()
    assert f"AWS is AWS_ENDPOINT_URL ({moto.url}): no moto server started" in up.log()
    # The stack's resources are in that server.
    queues = up.aws("sqs").list_queues()["QueueUrls"]
    assert any(q.endswith("/up-test-jobs") for q in queues), queues
    # No moto among up's processes (its functions' runtimes are).
    commands = []
    for pid, _ in descendants(up.proc.pid):
        try:
            commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            pass
    assert commands and not [c for c in commands if "moto" in c], commands


def test_a_rate_schedule_fires_on_its_own(up):
    # rate(1 minute): a minute after the schedule started, with the target's
    # constant input as the event. The schedule starts after the stack is
    # read, so no tick can come within a minute of up's own start.
    wait_until("the tick schedule's event", lambda: {"tick": True} in events(up), timeout=150)
    assert time.monotonic() - up.started >= 60
    assert "schedule up-test-tick -> up-test-worker: fired (" in up.log()
