"""The S3 half: ObjectCreated notifications POSTed to /events import users from CSV.

Objects live in moto's S3 (server mode); the notifications are the real
samples from the shared event corpus, retargeted at those objects.
"""

import logging
from urllib.parse import quote_plus

import pytest

from sample_app_testing import free_port, load_event, s3_put_event
from users_api.app import create_app

S3 = {"x-portside-event-source": "aws:s3"}

GOOD_AND_BAD = (
    "name,email\n"
    "Ada Lovelace,ada@example.com\n"          # row 2
    "Grace Hopper,GRACE@example.com\n"        # row 3
    "No Email,\n"                             # row 4: email missing
    "Bad Email,not-an-email\n"                # row 5
    "\n"                                      # row 6: blank, skipped silently
    "Too,many@example.com,fields\n"           # row 7
    ",nameless@example.com\n"                 # row 8: name empty
    "Ada Again,Ada@Example.com\n"             # row 9: duplicate of row 2
    '"Hopper, Grace Jr.",gj@example.com\n'    # row 10: quoted comma, fine
)


def put_csv(aws, bucket, key, body):
    aws["s3"].put_object(Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)


def post_event(client, event, headers=S3):
    return client.post("/events", json=event, headers=headers)


def users(client):
    return client.get("/users", query_string={"limit": 100}).json["users"]


def test_import_reports_bad_rows_and_imports_the_rest(client, aws, bucket, caplog):
    put_csv(aws, bucket, "imports/users.csv", GOOD_AND_BAD)
    caplog.set_level(logging.INFO, logger="users_api")

    response = post_event(client, s3_put_event(bucket, "imports/users.csv"))

    assert response.status_code == 200
    body = response.json
    assert (body["imported"], body["already_present"], body["bad_row_count"]) == (3, 0, 5)
    [report] = body["objects"]
    assert report["bucket"] == bucket and report["key"] == "imports/users.csv"
    assert report["status"] == "imported"
    bad = {row["row"]: row["error"] for row in report["bad_rows"]}
    assert set(bad) == {4, 5, 7, 8, 9}
    assert bad[4] == "email must not be empty"
    assert "email is not a valid address" in bad[5]
    assert bad[7] == "expected 2 fields as in the header, found 3"
    assert bad[8] == "name must not be empty"
    assert bad[9] == "duplicate email: row 2 has the same one"

    assert sorted((u["name"], u["email"]) for u in users(client)) == [
        ("Ada Lovelace", "ada@example.com"),
        ("Grace Hopper", "grace@example.com"),
        ("Hopper, Grace Jr.", "gj@example.com"),
    ]
    # Bad rows are in the log too, with the object and the row.
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"s3://{bucket}/imports/users.csv row 5: {bad[5]}" in logged
    assert len(logged) == 5


def test_redelivered_event_imports_nothing_twice(client, aws, bucket):
    put_csv(aws, bucket, "users.csv", GOOD_AND_BAD)
    event = s3_put_event(bucket, "users.csv")
    first = post_event(client, event)
    before = {u["id"]: u for u in users(client)}

    again = post_event(client, event)

    assert first.status_code == again.status_code == 200
    assert (again.json["imported"], again.json["already_present"]) == (0, 3)
    # Bad rows are still reported, the same way.
    assert again.json["objects"][0]["bad_rows"] == first.json["objects"][0]["bad_rows"]
    # Same users, untouched (created_at included).
    assert {u["id"]: u for u in users(client)} == before


def test_import_skips_users_created_through_the_api(client, aws, bucket):
    created = client.post("/users", json={"name": "Ada (API)", "email": "ada@example.com"}).json
    put_csv(aws, bucket, "users.csv", "name,email\nAda (CSV),ADA@example.com\nBob,bob@example.com\n")

    response = post_event(client, s3_put_event(bucket, "users.csv"))

    assert (response.json["imported"], response.json["already_present"]) == (1, 1)
    assert client.get(f"/users/{created['id']}").json == created


def test_url_encoded_key_with_spaces(client, aws, bucket):
    key = "incoming/new users (May).CSV"
    put_csv(aws, bucket, key, "name,email\nAda,ada@example.com\n")
    event = s3_put_event(bucket, key)
    assert event["Records"][0]["s3"]["object"]["key"] == "incoming/new+users+%28May%29.CSV"

    response = post_event(client, event)

    assert response.status_code == 200
    assert response.json["objects"][0]["key"] == key
    assert response.json["imported"] == 1


def test_spreadsheet_export_with_bom_crlf_and_extra_columns(client, aws, bucket):
    body = "\ufeffEmail , Name,Team\r\nada@example.com,Ada,Engines\r\nbob@example.com,Bob,\r\n"
    put_csv(aws, bucket, "export.csv", body.encode("utf-8"))

    response = post_event(client, s3_put_event(bucket, "export.csv"))

    assert response.json["imported"] == 2 and response.json["bad_row_count"] == 0
    assert sorted(u["name"] for u in users(client)) == ["Ada", "Bob"]


def test_every_record_of_a_notification_is_imported(client, aws, bucket):
    put_csv(aws, bucket, "a.csv", "name,email\nAda,ada@example.com\n")
    put_csv(aws, bucket, "b.csv", "name,email\nBob,bob@example.com\n")
    event = s3_put_event(bucket, "a.csv")
    second = s3_put_event(bucket, "b.csv")["Records"][0]
    event["Records"].append(second)

    response = post_event(client, event)

    assert [o["key"] for o in response.json["objects"]] == ["a.csv", "b.csv"]
    assert response.json["imported"] == 2


def test_bad_rows_beyond_100_are_counted_not_listed(client, aws, bucket):
    body = "name,email\n" + "".join(f"User {i},bad-{i}\n" for i in range(150))
    put_csv(aws, bucket, "bad.csv", body)

    report = post_event(client, s3_put_event(bucket, "bad.csv")).json["objects"][0]

    assert report["bad_row_count"] == 150
    assert len(report["bad_rows"]) == 100
    assert report["bad_rows"][0]["row"] == 2 and report["bad_rows"][-1]["row"] == 101


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"", "the file is empty"),
        (b"username,mail\nAda,ada@example.com\n", "missing: name, email"),
        (b"name,email,email\nAda,a@example.com,b@example.com\n", "names the column email more than once"),
        ("name,email\nZoë,zoe@example.com\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_unusable_file_is_reported_without_retry(client, aws, bucket, body, reason):
    put_csv(aws, bucket, "broken.csv", body)

    response = post_event(client, s3_put_event(bucket, "broken.csv"))

    # A retry would read the same bytes: answer 200 so Lambda does not retry.
    assert response.status_code == 200
    report = response.json["objects"][0]
    assert report["status"] == "failed"
    assert reason in report["reason"]
    assert users(client) == []


def test_missing_object_is_reported_without_retry(client, bucket):
    response = post_event(client, s3_put_event(bucket, "deleted-meanwhile.csv"))

    assert response.status_code == 200
    report = response.json["objects"][0]
    assert report["status"] == "failed" and "NoSuchKey" in report["reason"]


def test_unreadable_s3_answers_5xx_so_lambda_retries(client, aws, bucket, monkeypatch):
    put_csv(aws, bucket, "users.csv", "name,email\nAda,ada@example.com\n")
    # S3 stops answering (here: nothing listens on its endpoint any more).
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")
    broken = create_app().test_client()

    response = post_event(broken, s3_put_event(bucket, "users.csv"))

    assert response.status_code == 502
    assert "could not read" in response.json["error"] and "retry" in response.json["error"]
    assert response.json["objects"][0]["status"] == "failed"
    assert users(client) == []

    # Once S3 is back, the redelivered event imports normally.
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    assert post_event(client, s3_put_event(bucket, "users.csv")).json["imported"] == 1


def test_access_denied_is_retried_not_swallowed(aws, bucket, storage_env):
    # Without s3:ListBucket, S3 answers AccessDenied even for a missing key;
    # either way the function lacks a permission, which needs a person: fail
    # the invocation (so the event reaches the failure destination) rather
    # than report success. moto does not enforce policies, so botocore's
    # Stubber plays S3 here.
    from botocore.stub import Stubber

    s3 = aws["s3"]
    stubber = Stubber(s3)
    stubber.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
    stubber.activate()

    class Holder:
        def get(self):
            return s3

    client = create_app(s3=Holder()).test_client()
    response = post_event(client, s3_put_event(bucket, "users.csv"))

    assert response.status_code == 502
    assert "AccessDenied" in response.json["error"]
    stubber.assert_no_pending_responses()


def test_non_csv_object_is_ignored(client):
    # The real sample, unchanged: Happy%20Face.jpg in a bucket that does not
    # exist here, so touching S3 would fail the test.
    event = load_event("aws-lambda-rust-runtime/example-s3-event.json")

    response = post_event(client, event)

    assert response.status_code == 200
    [report] = response.json["objects"]
    assert report == {
        "bucket": "sourcebucket",
        "key": "Happy Face.jpg",
        "status": "ignored",
        "reason": "not a .csv object; nothing to import",
    }


def test_object_removed_is_ignored(client):
    event = load_event("aws-sam-cli-rendered/s3__delete.json")
    event["Records"][0]["s3"]["object"]["key"] = quote_plus("users.csv")

    response = post_event(client, event)

    assert response.status_code == 200
    [report] = response.json["objects"]
    assert report["status"] == "ignored"
    assert "ObjectRemoved:Delete is not an ObjectCreated event" in report["reason"]


@pytest.mark.parametrize(
    "relative, source",
    [
        ("aws-lambda-rust-runtime/example-sqs-event.json", "aws:sqs"),
        ("aws-lambda-rust-runtime/example-eventbridge-schedule.json", "aws.events"),
    ],
)
def test_unknown_event_source_is_400(client, relative, source):
    response = post_event(client, load_event(relative), headers={"x-portside-event-source": source})

    assert response.status_code == 400
    assert response.json["error"] == f"unsupported event source {source!r}: this app handles aws:s3 only"


def test_event_without_source_header_is_400(client):
    response = post_event(client, load_event("aws-sam-cli-rendered/s3__put.json"), headers={})

    assert response.status_code == 400
    assert "x-portside-event-source" in response.json["error"]


@pytest.mark.parametrize("data", [b"{not json", b"[]", b"{}", b'{"Records": []}', b'{"Records": {}}'])
def test_body_that_is_not_a_notification_is_400(client, data):
    response = client.post("/events", data=data, headers={**S3, "Content-Type": "application/json"})

    assert response.status_code == 400
    assert "error" in response.json


def test_malformed_records_are_reported_not_fatal(client, aws, bucket):
    put_csv(aws, bucket, "users.csv", "name,email\nAda,ada@example.com\n")
    event = s3_put_event(bucket, "users.csv")
    event["Records"][:0] = ["junk", {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]

    response = post_event(client, event)

    assert response.status_code == 200
    statuses = [(o["status"], o.get("reason", "")) for o in response.json["objects"]]
    assert statuses[0][0] == "ignored" and "not an S3 record" in statuses[0][1]
    assert statuses[1] == ("ignored", "the record names no bucket or object key")
    assert statuses[2][0] == "imported"
    assert response.json["imported"] == 1


def test_storage_failure_answers_5xx_so_lambda_retries(aws, bucket, monkeypatch):
    put_csv(aws, bucket, "users.csv", "name,email\nAda,ada@example.com\n")
    monkeypatch.setenv("USERS_TABLE", "no-such-table")
    client = create_app().test_client()

    response = post_event(client, s3_put_event(bucket, "users.csv"))

    assert response.status_code == 500
    assert response.json == {"error": "internal error; the request can be retried"}


def test_s3_read_failing_midway_is_retryable():
    # A connection that drops after the first rows: what was imported stays
    # (redelivery will find it present), the rest needs a retry.
    from urllib3.exceptions import ProtocolError

    from users_api.importer import ObjectReport, RetryableError, _lines, import_csv
    from users_api.store import SQLiteStore

    class Dropping:
        def __init__(self):
            self.lines = ["name,email\n", "Ada,ada@example.com\n"]

        def readline(self):
            if self.lines:
                return self.lines.pop(0)
            raise ProtocolError("Connection broken: IncompleteRead")

    store = SQLiteStore(":memory:")
    report = ObjectReport(bucket="b", key="k.csv")
    with pytest.raises(RetryableError, match="failed midway"):
        import_csv(_lines(Dropping(), "s3://b/k.csv"), store, report)
    assert report.imported == 1
