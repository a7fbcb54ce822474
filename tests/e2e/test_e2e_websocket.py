"""A WebSocket API backend through the whole path: API Gateway WebSocket
events (sent through portside-local's Invoke API) reach an app via the
adapter, and the app replies to clients later through the API Gateway
Management API with boto3, here played by a local recorder."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHAT = Path(__file__).parent / "apps" / "chat"


class ManagementApi:
    """Records what the app posts to @connections, as API Gateway would deliver it."""

    def __init__(self):
        self.posts = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                recorder.posts.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def management():
    api = ManagementApi()
    yield api
    api.server.shutdown()


@pytest.fixture(scope="module")
def chat(launch, management):
    return launch("http-api", {"MANAGEMENT_API_SCHEME": "http"}, label="chat",
                  function=CHAT, handler="run.sh")


def ws_event(management, event_type, route, connection, body=None, token=None):
    event = {
        "requestContext": {
            "routeKey": route, "eventType": event_type, "messageDirection": "IN",
            "connectionId": connection, "connectedAt": 1795345200000,
            "domainName": f"127.0.0.1:{management.port}", "stage": "test",
            "apiId": "chatapi", "requestId": f"req-{connection}-{event_type}",
            "requestTimeEpoch": 1795345200001, "identity": {"sourceIp": "203.0.113.7"},
        },
        "isBase64Encoded": False,
    }
    if token is not None:
        event["queryStringParameters"] = {"token": token}
        event["multiValueQueryStringParameters"] = {"token": [token]}
        event["headers"] = {"Host": "chatapi.execute-api.us-east-1.amazonaws.com"}
    if body is not None:
        event["body"] = json.dumps(body)
    return event


def route_response(fn, event):
    response = fn.invoke(event)
    assert response.status_code == 200, response.text
    assert "x-amz-function-error" not in response.headers, response.text
    return response.json()


def test_connect_is_accepted_or_refused_by_the_apps_status(chat, management):
    assert route_response(chat, ws_event(management, "CONNECT", "$connect", "conn-a", token="letmein"))["statusCode"] == 200
    refused = route_response(chat, ws_event(management, "CONNECT", "$connect", "conn-x", token="wrong"))
    assert refused["statusCode"] == 403
    assert json.loads(refused["body"]) == {"error": "bad token"}


def test_the_app_replies_to_clients_later_through_the_management_api(chat, management):
    route_response(chat, ws_event(management, "CONNECT", "$connect", "conn-a", token="letmein"))
    route_response(chat, ws_event(management, "CONNECT", "$connect", "conn-b", token="letmein"))
    management.posts.clear()

    reply = route_response(chat, ws_event(management, "MESSAGE", "$default", "conn-a", body={"text": "hello"}))
    assert reply["statusCode"] == 200
    assert json.loads(reply["body"]) == {"delivered": 2}
    delivered = {path: json.loads(body) for path, _, body in management.posts}
    assert delivered == {
        "/test/@connections/conn-a": {"from": "conn-a", "text": "hello"},
        "/test/@connections/conn-b": {"from": "conn-a", "text": "hello"},
    }
    # boto3's real client signed the calls, as it would against AWS.
    assert all(headers["Authorization"].startswith("AWS4-HMAC-SHA256") for _, headers, _ in management.posts)

    route_response(chat, ws_event(management, "DISCONNECT", "$disconnect", "conn-b"))
    management.posts.clear()
    reply = route_response(chat, ws_event(management, "MESSAGE", "$default", "conn-a", body={"text": "still there?"}))
    assert json.loads(reply["body"]) == {"delivered": 1}
    assert [path for path, _, _ in management.posts] == ["/test/@connections/conn-a"]
