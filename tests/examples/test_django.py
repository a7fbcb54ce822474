"""The Django example (gunicorn) through every door, against itself run directly."""

from urllib.parse import urlencode

from cases import *  # noqa: F401,F403  the shared cases, run for this example
from examples_support import assert_same, fetch

EXAMPLE = "django"

FORM = [("Content-Type", "application/x-www-form-urlencoded")]


def test_form_post_redirects_to_the_result(direct, through):
    """Post/Redirect/Get: a urlencoded form with non-ASCII text, validated by
    a Django form, answered 303 with the next page in Location; following it
    gives the same page."""
    body = urlencode({"name": "Zoë Ångström", "email": "zoe@example.com", "plan": "pro"}).encode()
    d = fetch(direct.url, "POST", "/signup", FORM, body)
    t = fetch(through.url, "POST", "/signup", FORM, body)
    assert d.status == 303, d
    location = d.values("location")[0]
    assert location == "/welcome?" + urlencode({"name": "Zoë Ångström", "email": "zoe@example.com", "plan": "pro"})
    assert_same(through.door, d, t)
    d, t = fetch(direct.url, "GET", location), fetch(through.url, "GET", location)
    assert d.json() == {"welcome": "Zoë Ångström", "plan": "pro"}, d
    assert_same(through.door, d, t)


def test_form_post_with_errors(direct, through):
    body = urlencode({"name": "", "email": "not-an-email", "plan": "gold"}).encode()
    d = fetch(direct.url, "POST", "/signup", FORM, body)
    t = fetch(through.url, "POST", "/signup", FORM, body)
    assert d.status == 400 and set(d.json()["errors"]) == {"name", "email", "plan"}, d
    assert_same(through.door, d, t)
