"""The users API through the whole Lambda path, once per HTTP event source.

Each parameter is one portside-local instance (started once for all the
tests of this module) whose front door turns real requests into events of
that source: API Gateway HTTP API (payload 2.0), REST API (proxy
integration) and Function URL, with users in DynamoDB (moto), plus the HTTP
API on SQLite. Every instance gets a fresh table or database, and the tests
record every user they create in ``api.created``, so the listing can be
checked for exactly those users.
"""

import json
import math
import re
import time
import uuid

import pytest

from e2e_support import list_all_users

SETUPS = [
    ("http-api", "dynamodb"),
    ("rest-api", "dynamodb"),
    ("function-url", "dynamodb"),
    ("http-api", "sqlite"),
]

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CREATED_AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


class Api:
    def __init__(self, fn, storage):
        self.fn = fn
        self.storage = storage
        self.created = {}  # id -> user, for every 201 seen

    def create(self, name, email, expect=201):
        response = self.fn.post("/users", json={"name": name, "email": email})
        assert response.status_code == expect, response.text
        if response.status_code == 201:
            user = response.json()
            self.created[user["id"]] = user
        return response


@pytest.fixture(scope="module", params=SETUPS, ids=[f"{e}-{s}" for e, s in SETUPS])
def api(request, launch, stop_function, new_table, tmp_path_factory):
    event, storage = request.param
    if storage == "dynamodb":
        env = {"USERS_TABLE": new_table()}
    else:
        env = {"SQLITE_PATH": str(tmp_path_factory.mktemp("sqlite") / "users.sqlite3")}
    fn = launch(event, env, label=f"{event}-{storage}")
    try:
        yield Api(fn, storage)
    finally:
        stop_function(fn)


def unique_email(tag="user"):
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


# --- create and get ------------------------------------------------------------------


def test_create_answers_201_with_the_user_and_its_location(api):
    email = unique_email("ada")
    response = api.create("  Ada Lovelace ", f"  {email.upper()} ")

    assert response.headers["content-type"] == "application/json"
    user = response.json()
    assert set(user) == {"id", "name", "email", "created_at"}
    assert user["name"] == "Ada Lovelace"  # trimmed
    assert user["email"] == email  # trimmed and lowercased
    assert UUID_RE.match(user["id"]), user
    assert CREATED_AT_RE.match(user["created_at"]), user
    assert response.headers["location"] == f"/users/{user['id']}"

    # The Location leads to the same user, through the same front door.
    fetched = api.fn.get(response.headers["location"])
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["content-type"] == "application/json"
    assert fetched.json() == user


def test_the_same_email_in_any_case_is_a_409_naming_the_existing_user(api):
    email = unique_email("grace")
    first = api.create("Grace Hopper", email).json()

    again = api.fn.post("/users", json={"name": "Someone Else", "email": email.upper()})

    assert again.status_code == 409, again.text
    assert again.headers["content-type"] == "application/json"
    assert again.json() == {"error": "a user with this email already exists", "id": first["id"]}
    # The first user is untouched.
    assert api.fn.get(f"/users/{first['id']}").json() == first


@pytest.mark.parametrize(
    "body, message, fields",
    [
        ({"name": "No Email"}, "email is required", {"email": "email is required"}),
        ({"email": "x@example.com"}, "name is required", {"name": "name is required"}),
        (
            {"name": "Bad Email", "email": "not-an-email"},
            "email is not a valid address (expected something like name@example.com)",
            {"email": "email is not a valid address (expected something like name@example.com)"},
        ),
        (
            {"name": "", "email": "a@b"},
            "name must not be empty; email is not a valid address (expected something like name@example.com)",
            {
                "name": "name must not be empty",
                "email": "email is not a valid address (expected something like name@example.com)",
            },
        ),
        (
            {"name": "Typo", "mail": "t@example.com"},
            "unexpected field 'mail' (allowed: name, email); email is required",
            {"mail": "unexpected field 'mail' (allowed: name, email)", "email": "email is required"},
        ),
        ({"name": 42, "email": "n@example.com"}, "name must be a string", {"name": "name must be a string"}),
    ],
    ids=["missing-email", "missing-name", "bad-email", "empty-name-and-bad-email", "unknown-field", "name-not-a-string"],
)
def test_bad_fields_are_a_400_naming_each_problem(api, body, message, fields):
    response = api.fn.post("/users", json=body)

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": message, "fields": fields}


@pytest.mark.parametrize(
    "raw, message",
    [
        (b'["Ada", "ada@example.com"]', 'the request body must be a JSON object like {"name": "...", "email": "..."}'),
        (b'"ada@example.com"', 'the request body must be a JSON object like {"name": "...", "email": "..."}'),
        (b"null", 'the request body must be a JSON object like {"name": "...", "email": "..."}'),
        (b'{"name": "Ada", ', "the request body is not valid JSON"),
        # Not UTF-8: the front door sends it base64-encoded, the adapter
        # decodes it, and the app sees the very same bytes.
        (b"\xff\xfe\xfa\x00garbage", "the request body is not valid JSON"),
    ],
    ids=["array", "string", "null", "truncated", "not-utf8"],
)
def test_a_body_that_is_not_a_json_object_is_a_400(api, raw, message):
    response = api.fn.post("/users", data=raw, headers={"content-type": "application/json"})

    assert response.status_code == 400, response.text
    assert response.json() == {"error": message}


def test_a_body_that_is_not_json_at_all_is_a_415(api):
    response = api.fn.post("/users", data="name=Ada&email=ada@example.com",
                           headers={"content-type": "application/x-www-form-urlencoded"})

    assert response.status_code == 415, response.text
    assert response.json() == {"error": "send the user as JSON with Content-Type: application/json"}


@pytest.mark.parametrize("user_id", [str(uuid.uuid4()), "not-a-user-id"])
def test_an_unknown_id_is_a_404(api, user_id):
    response = api.fn.get(f"/users/{user_id}")

    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": f"user {user_id} not found"}


# --- listing ---------------------------------------------------------------------


def test_pagination_visits_every_user_exactly_once(api):
    for i in range(11):
        api.create(f"Page Person {i}", unique_email(f"page{i}"))
    total = len(api.created)
    limit = 4

    users, pages = list_all_users(api.fn, limit=limit)

    ids = [user["id"] for user in users]
    assert len(ids) == len(set(ids)), "a user was listed twice"
    assert set(ids) == set(api.created)
    for user in users:
        assert user == api.created[user["id"]]
    # Full pages until the last; null only on the last, which is never empty.
    assert len(pages) == math.ceil(total / limit)
    for page_users, token in pages[:-1]:
        assert len(page_users) == limit and token
    last_users, last_token = pages[-1]
    assert last_token is None and 1 <= len(last_users) <= limit

    # Exactly one page's worth: one page, and no token leading to an empty one.
    single = api.fn.get("/users", params={"limit": total})
    assert single.status_code == 200
    assert single.json()["nextToken"] is None
    assert {u["id"] for u in single.json()["users"]} == set(api.created)


def test_the_default_page_size_is_20(api):
    while len(api.created) < 21:
        api.create("Filler", unique_email("fill"))

    response = api.fn.get("/users")

    assert response.status_code == 200
    body = response.json()
    assert len(body["users"]) == 20 and body["nextToken"]


@pytest.mark.parametrize(
    "query, message",
    [
        ({"limit": "0"}, "limit must be an integer from 1 to 100"),
        ({"limit": "101"}, "limit must be an integer from 1 to 100"),
        ({"limit": "ten"}, "limit must be an integer from 1 to 100"),
        (
            {"nextToken": "bm90LWEtdG9rZW4"},
            "nextToken is not valid; pass the nextToken of the previous page unchanged",
        ),
    ],
    ids=["limit-0", "limit-101", "limit-word", "forged-token"],
)
def test_bad_list_parameters_are_a_400(api, query, message):
    response = api.fn.get("/users", params=query)

    assert response.status_code == 400, response.text
    assert response.json() == {"error": message}


# --- the response is the app's -----------------------------------------------------


def test_non_ascii_json_survives_both_ways_text_and_binary(api):
    name = "Zoë Ñandú-李 \U0001F680"
    # UTF-8 JSON: sent to the function as a text body.
    as_text = api.create(name, unique_email("utf8")).json()
    # UTF-16 JSON is not UTF-8, so the front door base64-encodes it, the
    # adapter decodes it, and the app (json.loads detects UTF-16) must
    # receive exactly these bytes to read the same name.
    raw = json.dumps({"name": name, "email": unique_email("utf16")}, ensure_ascii=False).encode("utf-16-le")
    response = api.fn.post("/users", data=raw, headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text
    as_binary = response.json()
    api.created[as_binary["id"]] = as_binary

    for user in (as_text, as_binary):
        assert user["name"] == name
        fetched = api.fn.get(f"/users/{user['id']}")
        assert fetched.status_code == 200
        assert fetched.json()["name"] == name
        # Flask escapes non-ASCII; the bytes arrive as sent, still valid JSON.
        assert fetched.content.isascii()
        assert json.loads(fetched.content) == user


def test_status_and_headers_are_the_apps_own(api):
    created = api.create("Header Check", unique_email("hdr")).json()

    # A 405 from Flask keeps its Allow header and the app's JSON body.
    response = api.fn.post(f"/users/{created['id']}", json={})
    assert response.status_code == 405, response.text
    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "HEAD", "OPTIONS"}
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "The method is not allowed for the requested URL."}
    # gunicorn's own header arrives too: the response is the app's, not the gateway's.
    assert response.headers["server"].startswith("gunicorn")
    assert int(response.headers["content-length"]) == len(response.content)


def test_what_the_client_gets_is_what_the_app_logged(api):
    """gunicorn's access log (copied to portside-local's stderr) records the
    request line, status and body size the app sent; the client must see the
    same status and size for each request."""
    created = api.create("Logged User", unique_email("log")).json()
    probe = uuid.uuid4().hex
    requests_made = {
        f"/users/{created['id']}?probe={probe}": 200,
        f"/users/{uuid.uuid4()}?probe={probe}": 404,
        f"/users?limit=0&probe={probe}": 400,
        f"/users?limit=2&probe={probe}": 200,
    }
    seen = {}
    for path, status in requests_made.items():
        response = api.fn.get(path)
        assert response.status_code == status, response.text
        seen[path] = (response.status_code, len(response.content))
    # A log line written just before the sandbox froze shows up at the thaw.
    api.fn.get("/health")

    def logged():
        found = {}
        for line in api.fn.stderr().splitlines():
            match = re.search(r'gunicorn\.access: "GET (\S+) HTTP/1\.1" (\d{3}) (\d+)', line)
            if match and match.group(1) in requests_made:
                found[match.group(1)] = (int(match.group(2)), int(match.group(3)))
        return found if len(found) == len(requests_made) else None

    deadline = time.monotonic() + 10
    found = logged()
    while found is None and time.monotonic() < deadline:
        time.sleep(0.1)
        found = logged()
    assert found == seen, f"client saw {seen}, app logged {found}"
