"""The Next.js example (standalone server) through every door, against itself run directly."""

from cases import *  # noqa: F401,F403  the shared cases, run for this example
from examples_support import assert_same, fetch

EXAMPLE = "nextjs"


def test_prerendered_page(direct, through):
    """The home page, prerendered at build time and served from Next's cache
    (HTML, ETag, Next's own Vary and cache headers)."""
    d, t = fetch(direct.url, "GET", "/"), fetch(through.url, "GET", "/")
    assert d.status == 200 and b"portside Next.js example" in d.body, d
    assert d.values("x-nextjs-cache") == ["HIT"], d
    assert_same(through.door, d, t)
    etag = d.values("etag")[0]
    d = fetch(direct.url, "GET", "/", [("If-None-Match", etag)])
    t = fetch(through.url, "GET", "/", [("If-None-Match", etag)])
    assert d.status == 304, d
    assert_same(through.door, d, t)
