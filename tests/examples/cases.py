"""The cases every example answers the same way (the routes of
examples/README.md), each sent to the app directly and through one door.

Imported with ``from cases import *`` by each example's module, so each
example gets every case under every door.
"""

import hashlib
import json
import random

from examples_support import (
    ALB,
    ALB_RESPONSE_LIMIT,
    Reply,
    assert_same,
    comparable_pairs,
    door_query,
    door_request_header,
    fetch,
)

# What the apps send, computed here independently of them.
DOWNLOAD = bytes(i % 251 for i in range(1 << 20))
LARGE_LINE = b"abcdefghijklmnopqrstuvwxyz0123456789\n"
LARGE = (LARGE_LINE * ((5 << 20) // len(LARGE_LINE) + 1))[: 5 << 20]


def both(direct, through, method, target, headers=(), body=None):
    return (
        fetch(direct.url, method, target, headers, body),
        fetch(through.url, method, target, headers, body),
    )


def alb_over_limit(through, direct_reply: Reply) -> bool:
    """Whether ALB would refuse this result as over its 1 MB response limit
    (the base64 of a binary body counts, as it is in the result JSON)."""
    if through.door not in ALB:
        return False
    body = direct_reply.body
    try:
        body.decode("utf-8")
        size = len(body)
    except UnicodeDecodeError:
        size = (len(body) + 2) // 3 * 4
    return size > ALB_RESPONSE_LIMIT


def assert_alb_refused(through, t: Reply):
    """ALB's answer to a response JSON over 1 MB: "The maximum size of the
    response JSON that the Lambda function can send is 1 MB" (Lambda
    functions as targets, Limits), answered with the load balancer's own 502
    page ("Troubleshoot your Application Load Balancers", HTTP 502: "The
    Lambda function response ... exceeds the size limit"), not the app's."""
    assert t.status == 502, f"ALB must refuse a response JSON over 1 MB with 502: {t!r}"
    assert t.values("content-type") and t.values("content-type")[0].startswith("text/html"), t
    assert not t.values("content-disposition"), f"the app's headers must not pass: {t!r}"


def test_index(direct, through):
    d, t = both(direct, through, "GET", "/")
    assert d.status == 200
    assert_same(through.door, d, t)


def test_encoded_slash_in_path(direct, through):
    d, t = both(direct, through, "GET", "/items/a%2Fb")
    assert d.status == 200 and d.json()["id"] == "a/b", d
    assert_same(through.door, d, t)


def test_encoded_utf8_in_path(direct, through):
    d, t = both(direct, through, "GET", "/items/caf%C3%A9")
    assert d.status == 200 and d.json()["id"] == "café", d
    assert_same(through.door, d, t)


def test_repeated_response_headers(direct, through):
    """Two Vary and two Link values (as separate lines where the framework
    can send them so): every value reaches the client."""
    d, t = both(direct, through, "GET", "/items/plain")
    vary = [token.strip() for line in d.values("vary") for token in line.split(",")]
    link = ", ".join(d.values("link"))
    assert vary[-2:] == ["Accept", "Accept-Encoding"], d  # Next.js puts its own first
    assert link == '</items>; rel="collection", </>; rel="home"', d
    assert_same(through.door, d, t)


QUERY = "/query?tag=a&q=caf%C3%A9&tag=b&empty=&sp=x%20y&plus=1%2B1&tag=c"
QUERY_PAIRS = [("tag", "a"), ("q", "café"), ("tag", "b"), ("empty", ""), ("sp", "x y"), ("plus", "1+1"), ("tag", "c")]


def test_repeated_query_keys_in_order(example, direct, through):
    d = fetch(direct.url, "GET", QUERY)
    if example.groups_query:
        # The framework itself regroups repeated keys (Next.js rebuilds
        # request.url from a parsed query): per-key order is what it keeps.
        assert comparable_pairs("rest-api", d.json()["pairs"]) == comparable_pairs("rest-api", QUERY_PAIRS), d
    else:
        assert [tuple(p) for p in d.json()["pairs"]] == QUERY_PAIRS, d
    t = fetch(through.url, "GET", QUERY)
    assert t.status == 200
    # HTTP API and Function URL pass rawQueryString as sent; REST API and ALB
    # multi-value hand the function a map of lists (per-key order kept); ALB
    # single-value keeps the last value of each key.
    expected = door_query(through.door, QUERY_PAIRS)
    form = "rest-api" if example.groups_query else through.door
    assert comparable_pairs(form, t.json()["pairs"]) == comparable_pairs(form, expected), t
    if through.door in ("http-api", "function-url", "function-url-stream"):
        # Nothing reordered: the very same answer.
        assert_same(through.door, d, t)


def test_repeated_request_header(direct, through):
    sent = [("X-Tag", "a"), ("X-Tag", "b")]
    t = fetch(through.url, "GET", "/headers", sent)
    # What the app would get from a client sending what the door forwards.
    forwarded = [("X-Tag", v) for v in door_request_header(through.door, ["a", "b"])]
    d = fetch(direct.url, "GET", "/headers", forwarded)
    assert_same(through.door, d, t)


def test_two_cookies_set(direct, through):
    d, t = both(direct, through, "GET", "/cookies/set")
    cookies = d.values("set-cookie")
    assert len(cookies) == 2 and cookies[0].startswith("session=abc123") and cookies[1].startswith("theme=dark"), d
    assert_same(through.door, d, t)


def test_two_cookies_sent(direct, through):
    d, t = both(direct, through, "GET", "/cookies", [("Cookie", "session=abc123; theme=dark")])
    assert d.json()["cookies"] == {"session": "abc123", "theme": "dark"}, d
    assert_same(through.door, d, t)


def test_redirect(direct, through):
    d, t = both(direct, through, "GET", "/redirect")
    assert d.status == 302 and d.values("location") == ["/items/target"], d
    assert_same(through.door, d, t)


def multipart(fields, boundary="portsideBoundary7MA4YWxkTrZu0gW"):
    parts = []
    for name, filename, content_type, data in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        parts.append(head.encode() + b"\r\n" + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return [("Content-Type", f"multipart/form-data; boundary={boundary}")], body


def test_multipart_upload_200kb(direct, through):
    data = random.Random(20241201).randbytes(200 * 1024)
    headers, body = multipart([("file", "photo.bin", "application/octet-stream", data)])
    d, t = both(direct, through, "POST", "/upload", headers, body)
    got = d.json()
    assert got == {"filename": "photo.bin", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}, d
    assert_same(through.door, d, t)


def test_binary_download_1mb(direct, through):
    d, t = both(direct, through, "GET", "/download")
    assert d.status == 200 and d.body == DOWNLOAD, d
    if alb_over_limit(through, d):
        # The result JSON carries 1 MiB as 1.33 MB of base64: over ALB's limit.
        assert_alb_refused(through, t)
        return
    assert_same(through.door, d, t)


def test_json_body_with_non_ascii_text(direct, through):
    doc = {"name": "Zoë Ångström", "city": "Kraków", "greeting": "こんにちは", "emoji": "🚀", "n": 3}
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    headers = [("Content-Type", "application/json; charset=utf-8")]
    d, t = both(direct, through, "POST", "/echo", headers, body)
    assert d.status == 200 and d.json() == {"received": doc}, d
    assert_same(through.door, d, t)


def test_head(direct, through):
    d, t = both(direct, through, "HEAD", "/download")
    assert d.status == 200 and d.body == b"", d
    assert_same(through.door, d, t, head=True)
    assert d.values("content-length") in ([], [str(len(DOWNLOAD))]), d
    # The app's Content-Length on a HEAD answer is the GET's (RFC 9110 9.3.2),
    # and the client must see it: the source passes the result's value on
    # when there is no body to measure (local/FRONTDOOR.md, Results).
    assert t.values("content-length") == d.values("content-length"), f"direct {d!r}\nthrough {t!r}"


def test_no_content_204(direct, through):
    d, t = both(direct, through, "DELETE", "/items/plain")
    assert d.status == 204 and d.body == b"", d
    assert_same(through.door, d, t)


def test_not_modified_304(direct, through):
    first = fetch(direct.url, "GET", "/etag")
    etag = first.values("etag")[0]
    d, t = both(direct, through, "GET", "/etag", [("If-None-Match", etag)])
    assert d.status == 304 and d.body == b"", d
    assert_same(through.door, d, t)
    d, t = both(direct, through, "GET", "/etag")
    assert d.status == 200
    assert_same(through.door, d, t)


def test_response_5mb(direct, through):
    d, t = both(direct, through, "GET", "/large")
    assert d.status == 200 and d.body == LARGE, d
    if alb_over_limit(through, d):
        assert_alb_refused(through, t)
        return
    assert_same(through.door, d, t)
