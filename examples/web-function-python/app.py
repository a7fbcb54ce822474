"""The Web Functions contract from a second language: a Python HTTP server
(standard library only) that listens on the host:port in
AWS_LAMBDA_HTTP_ENDPOINT and knows nothing else of Lambda.

    AWS_LAMBDA_HTTP_ENDPOINT=127.0.0.1:3000 python3 app.py
    portside-local web -- python3 app.py     (from this folder)

Routes: the examples' shared routes (../README.md), plus GET /sse (Server-Sent
Events), GET /blob?mb=N (N MiB streamed in 64 KiB writes) and GET /web-context
(what the endpoint told the app), as the Express example (../web-function/)
has them.
"""

import hashlib
import json
import os
import signal
import sys
import time
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

# 1 MiB of every byte value (not UTF-8), and 5 MiB of text.
DOWNLOAD = bytes(i % 251 for i in range(1 << 20))
LINE = b"abcdefghijklmnopqrstuvwxyz0123456789\n"
LARGE = (LINE * ((5 << 20) // len(LINE) + 1))[: 5 << 20]
# /blob's pieces: 64 KiB of the same pattern, cut from this at the offset
# where the previous piece stopped.
BLOCK = 64 * 1024
PATTERN = bytes(range(251)) * (BLOCK // 251 + 2)


def multipart_file(content_type: str, body: bytes, field: str):
    """(filename, bytes) of the multipart/form-data part named ``field``."""
    boundary = None
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"').encode()
    if not boundary:
        return None
    for part in body.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.partition(b"\r\n\r\n")
        disposition = next(
            (line for line in head.decode("utf-8", "replace").split("\r\n") if line.lower().startswith("content-disposition:")),
            "",
        )
        params = dict(
            (k.strip().lower(), v.strip().strip('"'))
            for k, _, v in (p.partition("=") for p in disposition.split(";")[1:])
        )
        if params.get("name") == field:
            return params.get("filename", ""), data[:-2] if data.endswith(b"\r\n") else data
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, Content-Length or chunked on every answer

    def answer(self, status, body=b"", headers=(), content_type=None):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def json(self, doc, status=200, headers=()):
        body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        self.answer(status, body, headers, "application/json; charset=utf-8")

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        url = urlsplit(self.path)
        path = url.path
        if path == "/":
            return self.json({"app": "web-function-python", "framework": "Python http.server, as a Lambda Web Function"})
        if path.startswith("/items/"):
            links = [("Vary", "Accept"), ("Vary", "Accept-Encoding"), ("Link", '</items>; rel="collection", </>; rel="home"')]
            return self.json({"id": unquote(path[len("/items/"):]), "raw_path": path}, headers=links)
        if path == "/query":
            return self.json({"pairs": parse_qsl(url.query, keep_blank_values=True)})
        if path == "/headers":
            return self.json({"x-tag": self.headers.get_all("X-Tag") or []})
        if path == "/cookies":
            jar = SimpleCookie(self.headers.get("Cookie", ""))
            return self.json({"cookies": {k: m.value for k, m in jar.items()}})
        if path == "/cookies/set":
            cookies = [("Set-Cookie", "session=abc123; Path=/; HttpOnly"), ("Set-Cookie", "theme=dark; Path=/")]
            return self.json({"set": ["session", "theme"]}, headers=cookies)
        if path == "/redirect":
            return self.answer(302, b"", [("Location", "/items/target")])
        if path == "/download":
            disposition = [("Content-Disposition", 'attachment; filename="data.bin"')]
            return self.answer(200, DOWNLOAD, disposition, "application/octet-stream")
        if path == "/etag":
            if self.headers.get("If-None-Match") == '"v1"':
                return self.answer(304, headers=[("ETag", '"v1"')])
            return self.json({"version": 1}, headers=[("ETag", '"v1"')])
        if path == "/large":
            return self.answer(200, LARGE, (), "text/plain; charset=utf-8")
        if path == "/sse":
            return self.sse(dict(parse_qsl(url.query)))
        if path == "/blob":
            return self.blob(dict(parse_qsl(url.query)))
        if path == "/web-context":
            return self.web_context()
        self.json({"error": "not found"}, 404)

    do_HEAD = do_GET

    def do_POST(self):
        path = urlsplit(self.path).path
        body = self.body()
        if path == "/echo":
            return self.json({"received": json.loads(body)})
        if path == "/upload":
            found = multipart_file(self.headers.get("Content-Type", ""), body, "file")
            if found is None:
                return self.json({"error": "expected a multipart field named file"}, 400)
            name, data = found
            return self.json({"filename": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        self.json({"error": "not found"}, 404)

    def do_DELETE(self):
        if urlsplit(self.path).path.startswith("/items/"):
            return self.answer(204)
        self.json({"error": "not found"}, 404)

    def sse(self, query):
        """``count`` events, ``interval`` seconds apart, as they are due
        (chunked: the length is not known up front)."""
        count, interval = int(query.get("count", 5)), float(query.get("interval", 0.5))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Set-Cookie", "stream=ticks; Path=/sse; HttpOnly")
        self.send_header("Set-Cookie", f"ticks={count}; Path=/sse")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(count):
            if i:
                time.sleep(interval)
            event = f'id: {i}\nevent: tick\ndata: {json.dumps({"n": i})}\n\n'.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def blob(self, query):
        """A large download written piece by piece, never held whole: ``mb``
        MiB of bytes i % 251 in 64 KiB chunks, each sent when the socket
        takes it."""
        total = int(query.get("mb", 32)) << 20
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command == "HEAD":
            return
        sent = 0
        while sent < total:
            n = min(BLOCK, total - sent)
            start = sent % 251
            self.wfile.write(b"%x\r\n%s\r\n" % (n, PATTERN[start : start + n]))
            sent += n
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def web_context(self):
        env = ("AWS_LAMBDA_HTTP_ENDPOINT", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_REGION", "PORT")
        self.json(
            {
                "requestId": self.headers.get("lambda-web-request-id"),
                "endpointName": self.headers.get("lambda-web-endpoint-name"),
                "forwardedFor": self.headers.get("X-Forwarded-For"),
                "upgrade": self.headers.get("Upgrade"),
                "env": {name: os.environ.get(name) for name in env},
            }
        )

    def log_message(self, fmt, *args):
        print(f"{self.command} {urlsplit(self.path).path} -> {args[1] if len(args) > 1 else ''}", flush=True)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    endpoint = os.environ.get("AWS_LAMBDA_HTTP_ENDPOINT", "127.0.0.1:3000")
    host, _, port = endpoint.rpartition(":")
    server = Server((host.strip("[]"), int(port)), Handler)
    # Web Functions sends SIGTERM and allows 1 s.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"web-function-python example listening on {endpoint}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
