"""The users API, on SQLite and on DynamoDB (moto server), through Flask's test client."""

import uuid

import pytest

from users_api.app import create_app
from users_api.validation import user_id_for

JSON = {"Content-Type": "application/json"}


def create(client, name, email):
    return client.post("/users", json={"name": name, "email": email})


def all_users(client):
    users, token = [], None
    while True:
        response = client.get("/users", query_string={"limit": 100, **({"nextToken": token} if token else {})})
        assert response.status_code == 200
        users += response.json["users"]
        token = response.json["nextToken"]
        if not token:
            return users


def test_index_and_health_are_cheap_json(client):
    index = client.get("/")
    assert index.status_code == 200
    assert "GET /users" in index.json["endpoints"]
    health = client.get("/health")
    assert health.status_code == 200 and health.json == {"status": "ok"}


def test_create_then_get(client):
    response = create(client, "  Ada Lovelace ", " Ada@Example.COM ")
    assert response.status_code == 201
    user = response.json
    assert set(user) == {"id", "name", "email", "created_at"}
    assert user["name"] == "Ada Lovelace"
    assert user["email"] == "ada@example.com"
    assert user["id"] == user_id_for("ada@example.com")
    assert user["created_at"].endswith("Z")
    assert response.headers["Location"] == f"/users/{user['id']}"

    fetched = client.get(f"/users/{user['id']}")
    assert fetched.status_code == 200
    assert fetched.json == user
    # The id is a UUID: other spellings of it find the same user.
    assert client.get(f"/users/{user['id'].upper()}").json == user


def test_unicode_names_are_kept(client):
    response = create(client, "Zoë Ñandú 李", "zoe@example.org")
    assert response.status_code == 201
    assert client.get(f"/users/{response.json['id']}").json["name"] == "Zoë Ñandú 李"


def test_missing_user_is_404(client):
    absent = str(uuid.uuid4())
    response = client.get(f"/users/{absent}")
    assert response.status_code == 404
    assert response.json == {"error": f"user {absent} not found"}
    # Not even shaped like an id: still just "not found".
    response = client.get("/users/not-an-id")
    assert response.status_code == 404 and "not found" in response.json["error"]
    assert client.get("/users/" + "x" * 3000).status_code == 404


def test_same_email_twice_is_409_with_the_existing_id(client):
    first = create(client, "Ada", "ada@example.com")
    assert first.status_code == 201
    again = create(client, "Someone Else", "ADA@example.com")
    assert again.status_code == 409
    assert again.json == {"error": "a user with this email already exists", "id": first.json["id"]}
    # The first user is untouched.
    assert client.get(f"/users/{first.json['id']}").json["name"] == "Ada"
    assert len(all_users(client)) == 1


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"email": "a@example.com"}, "name", "name is required"),
        ({"name": None, "email": "a@example.com"}, "name", "name must be a string"),
        ({"name": 42, "email": "a@example.com"}, "name", "name must be a string"),
        ({"name": ["Ada"], "email": "a@example.com"}, "name", "name must be a string"),
        ({"name": "   ", "email": "a@example.com"}, "name", "name must not be empty"),
        ({"name": "x" * 101, "email": "a@example.com"}, "name", "name must be at most 100 characters"),
        ({"name": "Ada\nLovelace", "email": "a@example.com"}, "name", "control characters"),
        ({"name": "Ada\u0000", "email": "a@example.com"}, "name", "control characters"),
        ({"name": "Ada"}, "email", "email is required"),
        ({"name": "Ada", "email": 7}, "email", "email must be a string"),
        ({"name": "Ada", "email": ""}, "email", "email must not be empty"),
        ({"name": "Ada", "email": "ada"}, "email", "email is not a valid address"),
        ({"name": "Ada", "email": "ada@localhost"}, "email", "email is not a valid address"),
        ({"name": "Ada", "email": "ada@@example.com"}, "email", "email is not a valid address"),
        ({"name": "Ada", "email": "a da@example.com"}, "email", "email is not a valid address"),
        ({"name": "Ada", "email": ".ada@example.com"}, "email", "email is not a valid address"),
        ({"name": "Ada", "email": "ada@-example.com"}, "email", "email is not a valid address"),
        ({"name": "Ada", "email": "ada@example.c"}, "email", "email is not a valid address"),
        ({"name": "Ada", "email": "a" * 65 + "@example.com"}, "email", "before @ must be at most 64"),
        ({"name": "Ada", "email": "a@" + "b" * 250 + ".com"}, "email", "email must be at most 254 characters"),
        ({"name": "Ada", "email": "a@example.com", "role": "admin"}, "role", "unexpected field 'role'"),
    ],
)
def test_bad_fields_are_400_naming_the_problem(client, body, field, message):
    response = client.post("/users", json=body)
    assert response.status_code == 400
    assert message in response.json["error"]
    assert message in response.json["fields"][field]
    assert all_users(client) == []


def test_all_field_problems_are_reported_at_once(client):
    response = client.post("/users", json={"name": "", "mail": "a@example.com"})
    assert response.status_code == 400
    assert set(response.json["fields"]) == {"name", "email", "mail"}
    assert response.json["error"].count(";") == 2


@pytest.mark.parametrize(
    "data, message",
    [
        (b'{"name": "Ada", ', "the request body is not valid JSON"),
        (b"", "the request body is not valid JSON"),
        (b"\xff\xfe{", "the request body is not valid JSON"),
        (b'["Ada", "ada@example.com"]', "must be a JSON object"),
        (b'"Ada"', "must be a JSON object"),
        (b"null", "must be a JSON object"),
        (b"[" * 100000 + b"]" * 100000, "not valid JSON"),
    ],
)
def test_body_that_is_not_a_json_object_is_400(client, data, message):
    response = client.post("/users", data=data, headers=JSON)
    assert response.status_code == 400
    assert message in response.json["error"]


def test_body_that_is_not_json_at_all_is_415(client):
    response = client.post("/users", data="name=Ada&email=ada@example.com",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "application/json" in response.json["error"]


def test_oversized_body_is_413_json(client):
    response = client.post("/users", data=b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}', headers=JSON)
    assert response.status_code == 413
    assert "error" in response.json


def test_unknown_routes_and_methods_answer_json(client):
    response = client.get("/nope")
    assert response.status_code == 404 and "error" in response.json
    response = client.delete("/users")
    assert response.status_code == 405 and "error" in response.json
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


@pytest.mark.parametrize("count, limit, sizes", [(7, 3, [3, 3, 1]), (6, 3, [3, 3]), (2, 5, [2]), (0, 5, [0])])
def test_pagination_walks_every_user_once(client, count, limit, sizes):
    created = {create(client, f"User {i}", f"user{i}@example.com").json["id"] for i in range(count)}
    seen, got_sizes, token = [], [], None
    while True:
        params = {"limit": limit}
        if token:
            params["nextToken"] = token
        response = client.get("/users", query_string=params)
        assert response.status_code == 200
        page = response.json
        got_sizes.append(len(page["users"]))
        seen += [user["id"] for user in page["users"]]
        token = page["nextToken"]
        if token is None:
            break
        assert len(got_sizes) <= count + 1, "pagination does not end"
    # Exactly the pages expected: in particular no empty page after a full one.
    assert got_sizes == sizes
    assert len(seen) == len(set(seen)) and set(seen) == created


def test_default_page_size_is_20(client):
    for i in range(21):
        assert create(client, f"User {i}", f"user{i}@example.com").status_code == 201
    page = client.get("/users").json
    assert len(page["users"]) == 20 and page["nextToken"]
    rest = client.get("/users", query_string={"nextToken": page["nextToken"]}).json
    assert len(rest["users"]) == 1 and rest["nextToken"] is None


def test_empty_parameters_mean_defaults(client):
    create(client, "Ada", "ada@example.com")
    response = client.get("/users?limit=&nextToken=")
    assert response.status_code == 200 and len(response.json["users"]) == 1


@pytest.mark.parametrize("limit", ["0", "101", "-1", "1.5", "abc", "٣"])
def test_bad_limit_is_400(client, limit):
    response = client.get("/users", query_string={"limit": limit})
    assert response.status_code == 400
    assert response.json == {"error": "limit must be an integer from 1 to 100"}


@pytest.mark.parametrize("token", ["garbage", "e30", "eyJhZnRlciI6IDF9", "!!!", "eyJhZnRlciI6Im5vdC1hbi1pZCJ9"])
def test_bad_next_token_is_400(client, token):
    response = client.get("/users", query_string={"nextToken": token})
    assert response.status_code == 400
    assert "nextToken is not valid" in response.json["error"]


def test_dynamodb_items_match_the_table_contract(aws, users_table, monkeypatch):
    monkeypatch.setenv("USERS_TABLE", users_table)
    client = create_app().test_client()
    user = create(client, "Ada", "ada@example.com").json
    items = aws["dynamodb"].scan(TableName=users_table)["Items"]
    assert items == [{field: {"S": user[field]} for field in ("id", "name", "email", "created_at")}]
