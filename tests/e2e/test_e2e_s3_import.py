"""The S3 CSV import through the whole Lambda path.

S3 notifications go to Lambda's Invoke API on portside-local's port (as S3
itself invokes a function), the adapter POSTs them to the app's /events
with ``x-portside-event-source: aws:s3``, and the app reads the object from
moto's S3 with boto3. The users it imports are then read back through the
front door as HTTP API requests. Run once with DynamoDB and once with
SQLite.
"""

import copy
from urllib.parse import quote_plus

import pytest

from e2e_support import load_corpus_event, s3_event, s3_record, users_by_email, wait_until

EMAIL_ERROR = "email is not a valid address (expected something like name@example.com)"

# A spreadsheet export: BOM, CRLF line ends, columns in another order plus
# one the app ignores. Row numbers as a spreadsheet shows them.
IMPORT_CSV = "\r\n".join([
    "\ufeffEmail,Name,Team",
    "ada@example.com,Ada Lovelace,engines",        # row 2: already created through the API
    "GRACE@Example.com,Grace Hopper,cobol",         # row 3: imported (email lowercased)
    'gj@example.com,"Hopper, Grace Jr.",cobol',     # row 4: imported (quoted comma)
    ",No Email,ops",                                # row 5: bad
    "not-an-email,Bad Email,ops",                   # row 6: bad
    "",                                             # row 7: blank, skipped
    "too@example.com,Too Many,ops,extra",           # row 8: bad
    "Ada@Example.com,Ada Again,engines",            # row 9: duplicate of row 2
    "zoe@example.com,Zoë Ñandú,design",             # row 10: imported
    "",
])
EXPECTED_BAD_ROWS = [
    {"row": 5, "error": "email must not be empty"},
    {"row": 6, "error": EMAIL_ERROR},
    {"row": 8, "error": "expected 3 fields as in the header, found 4"},
    {"row": 9, "error": "duplicate email: row 2 has the same one"},
]
IMPORTED_NAMES = {
    "grace@example.com": "Grace Hopper",
    "gj@example.com": "Hopper, Grace Jr.",
    "zoe@example.com": "Zoë Ñandú",
}


class Importer:
    def __init__(self, fn, aws, bucket):
        self.fn = fn
        self.s3 = aws["s3"]
        self.bucket = bucket

    def put(self, key, text):
        body = text.encode("utf-8")
        put = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        return s3_record(self.bucket, key, size=len(body), etag=put["ETag"].strip('"'))

    def invoke(self, event, **kwargs):
        return self.fn.invoke(event, **kwargs)


@pytest.fixture(scope="module", params=["dynamodb", "sqlite"])
def importer(request, launch, stop_function, aws, new_table, new_bucket, tmp_path_factory):
    if request.param == "dynamodb":
        env = {"USERS_TABLE": new_table()}
    else:
        env = {"SQLITE_PATH": str(tmp_path_factory.mktemp("sqlite") / "users.sqlite3")}
    fn = launch("http-api", env, label=f"s3-import-{request.param}")
    try:
        yield Importer(fn, aws, new_bucket())
    finally:
        stop_function(fn)


@pytest.fixture(scope="module")
def first_import(importer):
    """Ada exists before the import (created through the API); then the CSV
    lands under a key with a space and a folder, and its notification comes."""
    created = importer.fn.post("/users", json={"name": "Ada Lovelace", "email": "ada@example.com"})
    assert created.status_code == 201, created.text
    key = "team imports/new users.csv"
    event = s3_event(importer.put(key, IMPORT_CSV))
    assert event["Records"][0]["s3"]["object"]["key"] == "team+imports/new+users.csv"
    response = importer.invoke(event)
    return {"ada": created.json(), "key": key, "event": event, "response": response,
            "users": users_by_email(importer.fn)}


def assert_succeeded(response):
    """A successful invocation: 200 from the Invoke API, no function error."""
    assert response.status_code == 200, response.text
    assert "x-amz-function-error" not in response.headers, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_import_reports_counts_and_bad_rows_with_row_numbers(importer, first_import):
    result = assert_succeeded(first_import["response"])

    assert result == {
        "imported": 3,
        "already_present": 1,
        "bad_row_count": 4,
        "objects": [{
            "bucket": importer.bucket,
            "key": first_import["key"],  # URL-decoded, as the app documents
            "status": "imported",
            "imported": 3,
            "already_present": 1,
            "bad_row_count": 4,
            "bad_rows": EXPECTED_BAD_ROWS,
        }],
    }


def test_imported_users_are_served_by_the_http_api(importer, first_import):
    users = first_import["users"]

    assert set(users) == {"ada@example.com", *IMPORTED_NAMES}
    for email, name in IMPORTED_NAMES.items():
        response = importer.fn.get(f"/users/{users[email]['id']}")
        assert response.status_code == 200, response.text
        assert response.json() == users[email]
        assert response.json()["name"] == name
    # The user who existed before is left untouched (name, created_at).
    assert users["ada@example.com"] == first_import["ada"]


def test_redelivering_the_same_event_imports_nothing_twice(importer, first_import):
    again = assert_succeeded(importer.invoke(first_import["event"]))

    assert (again["imported"], again["already_present"], again["bad_row_count"]) == (0, 4, 4)
    assert again["objects"][0]["bad_rows"] == EXPECTED_BAD_ROWS
    # Same users, same ids, same created_at: nothing was written again.
    now = users_by_email(importer.fn)
    assert {email: now.get(email) for email in first_import["users"]} == first_import["users"]


def test_a_non_csv_key_is_ignored(importer, first_import):
    record = importer.put("exports/users.txt", "name,email\nTxt Person,txt@example.com\n")

    result = assert_succeeded(importer.invoke(s3_event(record)))

    assert result == {
        "imported": 0,
        "already_present": 0,
        "bad_row_count": 0,
        "objects": [{
            "bucket": importer.bucket,
            "key": "exports/users.txt",
            "status": "ignored",
            "reason": "not a .csv object; nothing to import",
        }],
    }
    assert "txt@example.com" not in users_by_email(importer.fn)


def test_an_object_removed_event_is_ignored(importer, first_import):
    record = importer.put("gone.csv", "name,email\nRemoved Person,removed@example.com\n")
    record["eventName"] = "ObjectRemoved:Delete"

    result = assert_succeeded(importer.invoke(s3_event(record)))

    [report] = result["objects"]
    assert report["status"] == "ignored"
    assert report["reason"] == "ObjectRemoved:Delete is not an ObjectCreated event; nothing to import"
    assert "removed@example.com" not in users_by_email(importer.fn)


def test_a_notification_for_an_object_that_is_gone_is_reported_not_retried(importer, first_import):
    """moto answers NoSuchKey, which the app documents as permanent: a 200
    with the object marked failed, so Lambda does not retry in vain. (With
    real S3 and no s3:ListBucket the answer would be AccessDenied, retried.)"""
    record = s3_record(importer.bucket, "never uploaded.csv", size=10, etag="0" * 32)

    result = assert_succeeded(importer.invoke(s3_event(record)))

    assert result["imported"] == 0
    [report] = result["objects"]
    assert report["status"] == "failed"
    assert report["reason"] == "could not read the object: NoSuchKey"
    # The function is still serving.
    assert importer.fn.get("/health").json() == {"status": "ok"}


def test_several_records_in_one_notification_are_all_imported(importer, first_import):
    first = importer.put("batch/one.csv", "name,email\nOne Person,one@example.com\n")
    second = importer.put("batch/two.CSV", "email,name\ntwo@example.com,Two Person\nnope,Bad Row\n")

    result = assert_succeeded(importer.invoke(s3_event(first, second)))

    assert (result["imported"], result["already_present"], result["bad_row_count"]) == (2, 0, 1)
    assert [o["key"] for o in result["objects"]] == ["batch/one.csv", "batch/two.CSV"]
    assert result["objects"][1]["bad_rows"] == [{"row": 3, "error": EMAIL_ERROR}]
    users = users_by_email(importer.fn)
    assert users["one@example.com"]["name"] == "One Person"
    assert users["two@example.com"]["name"] == "Two Person"


def test_an_asynchronous_invocation_as_s3_makes_it_imports_in_the_background(importer, first_import):
    """S3 invokes functions asynchronously: the Invoke API answers 202 at
    once, and the import happens after."""
    record = importer.put("async/late.csv", "name,email\nLate Person,late@example.com\n")

    response = importer.invoke(s3_event(record), asynchronous=True)

    assert response.status_code == 202, response.text
    assert response.content == b""
    user = wait_until(lambda: users_by_email(importer.fn).get("late@example.com"), 20,
                      "the asynchronously invoked import to create late@example.com")
    assert user["name"] == "Late Person"


def test_aws_sample_notification_retargeted_imports(importer, first_import):
    """SAM CLI's ObjectCreated:Put sample from the shared corpus, pointed at
    an object in moto's bucket: the app must accept AWS's own shape."""
    event = copy.deepcopy(load_corpus_event("aws-sam-cli-rendered/s3__put.json"))
    record = event["Records"][0]
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
    importer.put("samples/from sam.csv", "name,email\nSam Sample,sam@example.com\n")
    record["s3"]["bucket"]["name"] = importer.bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{importer.bucket}"
    record["s3"]["object"]["key"] = quote_plus("samples/from sam.csv", safe="/")

    result = assert_succeeded(importer.invoke(event))

    assert result["imported"] == 1
    assert result["objects"][0]["key"] == "samples/from sam.csv"
    assert users_by_email(importer.fn)["sam@example.com"]["name"] == "Sam Sample"
