"""The benchmark's web app: a minimal HTTP/1.1 server (standard library only,
keep-alive, a thread per connection).

    GET  /             readiness: 200 "ok"
    GET  /small        a small JSON body
    GET  /binary-1mib  1 MiB of application/octet-stream
    POST /upload       reads the body, answers {"received": <bytes>}
    GET  /text-1mib    1 MiB of compressible JSON text (TEXT below)
    GET  /json-1mib    1 MiB of realistic JSON (api_json() below: an API's list of
                       records with quotes, backslashes, newlines and non-ASCII text)
    GET  /sleep?ms=M   sleeps M ms, then answers a small JSON body
    GET  /sse?n=N&gap=A-B&first=F&seed=S
                       Server-Sent Events, one HTTP chunk per event: the head,
                       then event 0 after F ms, then N-1 more, each A to B ms
                       (uniform, seeded) after the one before
    GET  /stream?bytes=N&chunk=K
                       N bytes (STREAM_BYTE's pattern) in chunks of K bytes,
                       as fast as the socket takes them
    GET  /blob?bytes=N&seed=S&type=T
                       N seeded pseudo-random bytes (blob() below) with content type
                       T (application/octet-stream by default; text/plain gets
                       printable ASCII instead), for the soak (bench/soak.py)
    GET  /shape?name=X one of bench/shapes.py's JSON bodies of real shapes
                       (application/json), built on first use
    POST /digest, /events
                       reads the body, answers {"received": <bytes>, "sha256": <hex>}
                       (/events is the pass-through path)

The two chunked endpoints carry their own timing: the head has
`x-head-ns: <time.monotonic_ns()>` taken just before the head is written, and
every SSE event's data is `{"seq": i, "t": <monotonic ns just before its
write>}`, so whoever reads them (the emulator behind the adapter, or the
harness directly) knows when the app wrote each part on the machine's one
CLOCK_MONOTONIC.

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
import functools
import hashlib
import json
import random
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import shapes
from emulator import read_body

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


def compressible_text(size: int = MIB) -> bytes:
    """`size` bytes of JSON like an API's list answer: records with ids, names,
    e-mail addresses, dates, flags and scores, varied by a seeded generator
    (a 32-bit LCG, so layer/benches/shared/json_text.rs builds the same bytes),
    padded with spaces before the closing bracket to the exact size."""
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
             "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa"]
    state = 12345

    def rand(n: int) -> int:
        nonlocal state
        state = (state * 1103515245 + 12345) & 0xFFFFFFFF
        return (state >> 16) % n

    parts, length, i = [b"["], 1, 0
    while True:
        first, last = words[rand(16)], words[rand(16)]
        email, month, day = rand(1000), 1 + rand(12), 1 + rand(28)
        hour, minute, second, active = rand(24), rand(60), rand(60), rand(2)
        score, tag1, tag2 = rand(100000), words[rand(16)], words[rand(16)]
        record = (
            f'{{"id":{100000 + i},"name":"{first.title()} {last.title()}",'
            f'"email":"{first}.{last}{email}@example.com",'
            f'"created":"2026-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z",'
            f'"active":{"true" if active else "false"},"score":{score // 100}.{score % 100:02d},'
            f'"tags":["{tag1}","{tag2}"]}}'
        ).encode()
        sep = b"," if i else b""
        if length + len(sep) + len(record) + 1 > size:
            break
        parts += [sep, record]
        length += len(sep) + len(record)
        i += 1
    parts.append(b" " * (size - length - 1) + b"]")
    return b"".join(parts)


TEXT = compressible_text()


def api_json(size: int = MIB) -> bytes:
    """`size` bytes of JSON like an issue tracker's list answer (GitHub's
    /issues, say): records whose titles and bodies carry quotes, backslashes
    (Windows paths, regular expressions), newlines and tabs, Markdown and
    HTML, and text beyond ASCII (accented names, CJK, Greek, emoji), encoded
    the way most frameworks encode it: compact, UTF-8 left as it is, only `"`,
    `\\` and control characters escaped (Python's json.dumps with
    ensure_ascii=False; Express and Go do the same, Go also escapes <, > and &).
    Seeded, so every process builds the same bytes; padded with spaces before
    the closing bracket to the exact size."""
    rng = random.Random(20261201)
    people = ["José Müller", "Zoë Ångström", "Łukasz Wiśniewski", "Søren Kierkegård",
              "Chloé Dubois", "Nguyễn Văn An", "Antonín Dvořák", "Ólafur Arnalds",
              "王芳", "佐藤 健", "Ψυχή Παπαδοπούλου", "Ahmed O'Neil", "Jane Doe",
              "Renée Zellweger", "Björk Guðmundsdóttir", "Mateus Conceição"]
    logins = ["jmueller", "zoe-a", "lukasz-w", "soren", "chloe_d", "nguyen-an",
              "dvorak", "olafur", "wangfang", "ken-sato", "psyche-p", "aoneil",
              "janedoe", "renee", "bjork", "mateus-c"]
    titles = [
        'Crash when the path contains "spaces"',
        "Unicode filenames (e.g. résumé.pdf) fail to upload",
        "Regex \\d+ does not match full-width digits like １２３",
        'Config key "timeout" ignored on Windows (C:\\Program Files\\App)',
        "Dark mode: contrast too low in the “Settings” dialog",
        "日本語の検索結果が文字化けする",
        "Support emoji in display names 🚀",
        "Tab-separated export breaks on\tembedded tabs",
        "<script> tags are not escaped in comments",
        "Ελληνικά: λάθος ταξινόμηση",
    ]
    lines = [
        "Steps to reproduce:",
        "1. Open the app and go to **Settings → Profile**",
        '2. Set the name to "Zoë" and press `Save`',
        "3. Run `grep -E \"^[a-z]+\\s*=\" config.ini`",
        "Expected: it works. Actual: `Error: invalid byte sequence in UTF-8`",
        "Path: C:\\Users\\renée\\AppData\\Local\\Temp\\upload.tmp",
        "```json\n{\"name\": \"Zoë\", \"tags\": [\"a\", \"b\"]}\n```",
        "Stack trace:\n\tat parse (lib/parse.js:42:13)\n\tat main (index.js:7:3)",
        "<p>Rendered as <b>HTML</b> &amp; shown “as is”</p>",
        "Merci beaucoup ! Danke schön! Спасибо! 谢谢！ ありがとう 🙏",
        "Seems related to #1234 and @jmueller's change in v2.3.1",
        "Works on macOS 14.4; fails on Windows 11 and Ubuntu 24.04",
    ]
    label_names = [("bug", "d73a4a"), ("enhancement", "a2eeef"), ("i18n", "0e8a16"),
                   ("good first issue", "7057ff"), ("needs: triage", "ededed"),
                   ("área: documentação", "fbca04")]
    parts, length, i = [b"["], 1, 0
    while True:
        who = rng.randrange(len(people))
        month, day, hour = rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23)
        created = f"2026-{month:02d}-{day:02d}T{hour:02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
        number = 1000 + i
        record = {
            "id": 2_000_000_000 + rng.randrange(10**8),
            "number": number,
            "url": f"https://api.example.com/repos/acme/widgets/issues/{number}",
            "title": rng.choice(titles),
            "state": rng.choice(["open", "open", "closed"]),
            "user": {"login": logins[who], "name": people[who], "id": 10_000 + who,
                     "avatar_url": f"https://avatars.example.com/u/{10_000 + who}?v=4",
                     "site_admin": False},
            "labels": [{"name": name, "color": color}
                       for name, color in rng.sample(label_names, rng.randint(0, 3))],
            "comments": rng.randint(0, 40),
            "created_at": created,
            "updated_at": created,
            "closed_at": None,
            "body": "\n".join(rng.sample(lines, rng.randint(2, 6))),
            "reactions": {"+1": rng.randint(0, 9), "heart": rng.randint(0, 3), "rocket": 0},
            "score": round(rng.random() * 100, 3),
        }
        encoded = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
        sep = b"," if i else b""
        if length + len(sep) + len(encoded) + 1 > size:
            break
        parts += [sep, encoded]
        length += len(sep) + len(encoded)
        i += 1
    parts.append(b" " * (size - length - 1) + b"]")
    return b"".join(parts)


@functools.cache
def json_1mib() -> bytes:
    """api_json()'s 1 MiB, built on first use (about 0.25 s of Python, which
    would otherwise delay every start of the app in the start-up figures)."""
    return api_json()
# The /stream pattern: byte i of the body is STREAM_BYTE[i % 256].
STREAM_BYTE = bytes((i * 13 + 5) & 0xFF for i in range(256))


_ALPHABET = b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,;:!?\n\"\\{}"
# Byte b of a text blob is _ALPHABET[b % len(_ALPHABET)].
_TEXT_TABLE = bytes(_ALPHABET[b % len(_ALPHABET)] for b in range(256))


def blob(size: int, seed: int, text: bool = False) -> bytes:
    """`size` bytes from a generator seeded with `seed` (random.Random, so the
    soak computes the same bytes to check a result): any byte values, or
    printable ASCII with newlines when `text`."""
    rng = random.Random(seed)
    if not text:
        return rng.randbytes(size)
    return rng.randbytes(size).translate(_TEXT_TABLE)


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
        elif path == "/text-1mib":
            self._send(200, "OK", "application/json", TEXT)
        elif path == "/json-1mib":
            self._send(200, "OK", "application/json", json_1mib())
        elif path == "/sleep":
            time.sleep(int(self._query().get("ms", "100")) / 1000)
            self._send(200, "OK", "application/json", SMALL)
        elif path == "/sse":
            self._sse(self._query())
        elif path == "/stream":
            self._stream(self._query())
        elif path == "/shape":
            self._send(200, "OK", "application/json", shapes.body(self._query()["name"]))
        elif path == "/blob":
            query = self._query()
            content_type = query.get("type", "application/octet-stream")
            body = blob(int(query["bytes"]), int(query["seed"]), content_type.startswith("text/"))
            self._send(200, "OK", content_type, body)
        else:
            self._send(404, "Not Found", "text/plain", b"not found")

    def _query(self) -> dict[str, str]:
        _, _, query = self.path.partition("?")
        return {k: v[-1] for k, v in parse_qs(query).items()}

    def _chunked_head(self, content_type: str) -> None:
        # The stamp is taken before the head is built: its cost counts
        # against whoever reads it, never for them.
        head_ns = time.monotonic_ns()
        self.wfile.write(
            (
                "HTTP/1.1 200 OK\r\n"
                f"Content-Type: {content_type}\r\n"
                "Cache-Control: no-cache\r\n"
                f"x-head-ns: {head_ns}\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
            ).encode("latin-1")
        )

    def _sse(self, query: dict[str, str]) -> None:
        n = int(query.get("n", "10"))
        low, _, high = query.get("gap", "10-20").partition("-")
        low, high = float(low) / 1000, float(high or low) / 1000
        first = float(query.get("first", "0")) / 1000
        rng = random.Random(int(query.get("seed", "1")))
        self._chunked_head("text/event-stream")
        for i in range(n):
            gap = first if i == 0 else rng.uniform(low, high)
            if gap > 0:
                time.sleep(gap)
            # One send per event: the chunk's size line, the event, the CRLF.
            t = time.monotonic_ns()
            event = b'id: %d\ndata: {"seq": %d, "t": %d}\n\n' % (i, i, t)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
        self.wfile.write(b"0\r\n\r\n")

    def _stream(self, query: dict[str, str]) -> None:
        total = int(query.get("bytes", str(20_000_000)))
        size = int(query.get("chunk", str(64 * 1024)))
        if size % len(STREAM_BYTE):
            raise ValueError("chunk must be a multiple of 256")
        # Every full chunk is the same bytes: build its frame once.
        frame = b"%x\r\n%s\r\n" % (size, STREAM_BYTE * (size // len(STREAM_BYTE)))
        self._chunked_head("application/octet-stream")
        full, rest = divmod(total, size)
        for _ in range(full):
            self.wfile.write(frame)
        if rest:
            self.wfile.write(b"%x\r\n%s\r\n" % (rest, (STREAM_BYTE * (size // 256))[:rest]))
        self.wfile.write(b"0\r\n\r\n")

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        request_body = self._read_body()
        received = len(request_body)
        if path == "/upload":
            body = json.dumps({"received": received}).encode()
            self._send(200, "OK", "application/json", body)
        elif path in ("/digest", "/events"):
            digest = hashlib.sha256(request_body).hexdigest()
            body = json.dumps({"received": received, "sha256": digest}).encode()
            self._send(200, "OK", "application/json", body)
        else:
            self._send(404, "Not Found", "text/plain", b"not found")

    def _read_body(self) -> bytes:
        return read_body(self.headers, self.rfile)


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
