"""The benchmark's web app: a minimal HTTP/1.1 server (standard library only,
keep-alive, a thread per connection).

    GET  /             readiness: 200 "ok"
    GET  /small        a small JSON body
    GET  /binary-1mib  1 MiB of application/octet-stream
    POST /upload       reads the body, answers {"received": <bytes>}

Usage: python3 bench/app.py --port 8080

Once it listens it prints one line to standard output:

    listening <port> <time.monotonic_ns()>

and after answering the first `GET /` (the adapter's readiness check), one more:

    readiness <accepted_ns> <request_ns> <answered_ns>

(when it accepted that connection, read its request line, and had sent the
answer), which splits the readiness figure into the adapter's polling, the
app's answer and the adapter's work after it.

CLOCK_MONOTONIC is one clock for every process on the machine, so bench/run.py
compares that instant with the emulator's stamp of the adapter's first /next.
The line is printed after listen() and before the first accept(), so the
readiness figure includes the few microseconds the print takes: a bias
against the adapter, not for it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SMALL = json.dumps(
    {
        "message": "hello from the benchmark app",
        "id": 12345,
        "tags": ["alpha", "beta", "gamma"],
        "ok": True,
    }
).encode()
MIB = 1024 * 1024
# Bytes of every value, so base64 and JSON escaping see no shortcut.
BINARY = bytes(range(256)) * (MIB // 256)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass

    def parse_request(self):
        self.request_ns = time.monotonic_ns()  # the request line has just been read
        return super().parse_request()

    def _send(self, status: int, reason: str, content_type: str, body: bytes) -> None:
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            + ("Connection: close\r\n" if self.close_connection else "")
            + "\r\n"
        ).encode("latin-1")
        if len(body) <= 64 * 1024:
            self.wfile.write(head + body)
        else:
            self.wfile.write(head)
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._send(200, "OK", "text/plain", b"ok")
            server = self.server
            if not server.readiness_reported:
                server.readiness_reported = True
                answered_ns = time.monotonic_ns()
                sys.stdout.write(
                    f"readiness {server.first_accept_ns} {self.request_ns} {answered_ns}\n"
                )
                sys.stdout.flush()
        elif path == "/small":
            self._send(200, "OK", "application/json", SMALL)
        elif path == "/binary-1mib":
            self._send(200, "OK", "application/octet-stream", BINARY)
        else:
            self._send(404, "Not Found", "text/plain", b"not found")

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        received = len(self._read_body())
        if path == "/upload":
            body = json.dumps({"received": received}).encode()
            self._send(200, "OK", "application/json", body)
        else:
            self._send(404, "Not Found", "text/plain", b"not found")

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is not None:
            return self.rfile.read(int(length))
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return b""


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    first_accept_ns = 0
    readiness_reported = False

    def get_request(self):
        accepted = super().get_request()
        if not self.first_accept_ns:
            self.first_accept_ns = time.monotonic_ns()
        return accepted


def main() -> None:
    parser = argparse.ArgumentParser(description="the benchmark's web app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    server = Server((args.host, args.port), Handler)  # bind() and listen()
    listening_ns = time.monotonic_ns()
    sys.stdout.write(f"listening {server.server_address[1]} {listening_ns}\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
