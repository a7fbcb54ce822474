"""Routes of the users API.

    GET  /                  what this service is (cheap; fine as a readiness check)
    GET  /health            {"status": "ok"}, without touching storage
    GET  /users             ?limit=1..100 (default 20) &nextToken=<from the previous page>
    GET  /users/<id>        404 when absent
    POST /users             {"name", "email"} -> 201, 400 on bad input, 409 if the email exists
    POST /events            S3 ObjectCreated notifications for *.csv objects: import users

Every error is JSON: {"error": "..."} (plus details where they help).
"""

import base64
import binascii
import json
import logging
import os

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from .aws import LazyClient
from .importer import RetryableError, S3Objects, import_notification
from .store import User, UserExists, UserStore, store_from_env
from .validation import clean_new_user, parse_user_id

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
EVENT_SOURCE_HEADER = "x-portside-event-source"


def _error(status: int, message: str, **details):
    response = jsonify({"error": message, **details})
    response.status_code = status
    return response


def encode_token(after: str) -> str:
    raw = json.dumps({"after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str):
    """The user id a nextToken continues after, or None if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        after = json.loads(raw)["after"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        return None
    return parse_user_id(after) if isinstance(after, str) else None


def create_app(store: UserStore = None, s3=None) -> Flask:
    """Builds the app. By default storage comes from the environment
    (USERS_TABLE or SQLITE_PATH) and S3 access from boto3's usual settings."""
    store = store if store is not None else store_from_env(os.environ)
    objects = S3Objects(s3 if s3 is not None else LazyClient("s3"))

    app = Flask(__name__)
    # Requests here are small; anything bigger is a mistake, not a user.
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.json.sort_keys = False
    log.info("users API using %s", store.describe())

    @app.errorhandler(HTTPException)
    def http_error(exc):
        # Keep werkzeug's response (it carries headers such as Allow on a
        # 405), with a JSON body instead of HTML.
        response = exc.get_response()
        response.set_data(json.dumps({"error": exc.description or exc.name}, separators=(",", ":")))
        response.content_type = "application/json"
        return response

    @app.errorhandler(Exception)
    def unexpected_error(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(500, "internal error; the request can be retried")

    @app.get("/")
    def index():
        return jsonify(
            service="users-api",
            endpoints=["GET /health", "GET /users", "GET /users/{id}", "POST /users", "POST /events"],
        )

    @app.get("/health")
    def health():
        return jsonify(status="ok")

    @app.get("/users")
    def list_users():
        raw_limit = request.args.get("limit", "")
        if raw_limit == "":
            limit = DEFAULT_LIMIT
        elif raw_limit.isascii() and raw_limit.isdigit() and 1 <= int(raw_limit) <= MAX_LIMIT:
            limit = int(raw_limit)
        else:
            return _error(400, f"limit must be an integer from 1 to {MAX_LIMIT}")
        token = request.args.get("nextToken", "")
        after = None
        if token:
            after = decode_token(token)
            if after is None:
                return _error(400, "nextToken is not valid; pass the nextToken of the previous page unchanged")
        users, next_after = store.list_users(limit, after)
        return jsonify(
            users=[user.to_dict() for user in users],
            nextToken=encode_token(next_after) if next_after else None,
        )

    @app.get("/users/<user_id>")
    def get_user(user_id):
        canonical = parse_user_id(user_id)
        user = store.get(canonical) if canonical else None
        if user is None:
            return _error(404, f"user {user_id} not found")
        return jsonify(user.to_dict())

    @app.post("/users")
    def create_user():
        if not request.is_json:
            return _error(415, "send the user as JSON with Content-Type: application/json")
        try:
            data = json.loads(request.get_data())
        except (ValueError, RecursionError):
            return _error(400, "the request body is not valid JSON")
        if not isinstance(data, dict):
            return _error(400, 'the request body must be a JSON object like {"name": "...", "email": "..."}')
        values, errors = clean_new_user(data)
        if errors:
            return _error(400, "; ".join(errors.values()), fields=errors)
        user = User.new(values["name"], values["email"])
        try:
            store.create(user)
        except UserExists as exc:
            return _error(409, "a user with this email already exists", id=exc.user_id)
        response = jsonify(user.to_dict())
        response.status_code = 201
        response.headers["Location"] = f"/users/{user.id}"
        return response

    @app.post("/events")
    def events():
        source = request.headers.get(EVENT_SOURCE_HEADER, "").strip()
        if not source:
            return _error(400, f"missing the {EVENT_SOURCE_HEADER} header naming the event source")
        if source != "aws:s3":
            return _error(400, f"unsupported event source {source!r}: this app handles aws:s3 only")
        try:
            event = json.loads(request.get_data())
        except (ValueError, RecursionError):
            return _error(400, "the event is not valid JSON")
        records = event.get("Records") if isinstance(event, dict) else None
        if not isinstance(records, list) or not records:
            return _error(400, "expected an S3 notification: a JSON object with a non-empty Records array")
        try:
            reports = import_notification(records, store, objects)
        except RetryableError as exc:
            return _error(
                502,
                f"{exc}; retry the event (importing again is safe)",
                objects=[report.to_dict() for report in exc.reports],
            )
        return jsonify(
            imported=sum(r.imported for r in reports),
            already_present=sum(r.already_present for r in reports),
            bad_row_count=sum(r.bad_row_count for r in reports),
            objects=[report.to_dict() for report in reports],
        )

    return app
