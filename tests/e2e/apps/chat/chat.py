"""A WebSocket chat backend that knows nothing of Lambda.

Behind an API Gateway WebSocket API and portside, each ``$connect``,
``$disconnect`` and message arrives as a POST to ``/websocket`` with
``x-portside-websocket-event`` (CONNECT, MESSAGE, DISCONNECT),
``x-portside-websocket-route`` and ``x-portside-websocket-connection-id``.
The answer to ``$connect`` accepts (2xx) or refuses (anything else) the
connection. To send a client something later, the app calls the API Gateway
Management API (``post_to_connection``) at ``https://{domainName}/{stage}``,
both read from ``x-amzn-request-context``.

Connections are kept in memory here; a real app keeps them in DynamoDB.
"""

import json
import os
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

CONNECTIONS = set()
LOCK = threading.Lock()


def management_api(request_context):
    scheme = os.environ.get("MANAGEMENT_API_SCHEME", "https")
    endpoint = f"{scheme}://{request_context['domainName']}/{request_context['stage']}"
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint,
                        region_name=os.environ.get("AWS_REGION", "us-east-1"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, payload=None):
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.answer(200, {"service": "chat"})

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if url.path != "/websocket":
            return self.answer(404, {"error": "not found"})
        event = self.headers["x-portside-websocket-event"]
        connection = self.headers["x-portside-websocket-connection-id"]
        context = json.loads(self.headers["x-amzn-request-context"])
        if event == "CONNECT":
            token = urllib.parse.parse_qs(url.query).get("token", [""])[0]
            if token != os.environ.get("CHAT_TOKEN", "letmein"):
                return self.answer(403, {"error": "bad token"})
            with LOCK:
                CONNECTIONS.add(connection)
            return self.answer(200)
        if event == "DISCONNECT":
            with LOCK:
                CONNECTIONS.discard(connection)
            return self.answer(200)
        text = json.loads(body)["text"]
        with LOCK:
            everyone = sorted(CONNECTIONS)
        api = management_api(context)
        for target in everyone:
            api.post_to_connection(ConnectionId=target,
                                   Data=json.dumps({"from": connection, "text": text}).encode())
        return self.answer(200, {"delivered": len(everyone)})

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
