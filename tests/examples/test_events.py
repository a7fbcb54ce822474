"""The sample events shipped in examples/events/: their provenance holds
(each file is the copy index.json describes, with its licence beside it),
and each drives an example through `portside-local invoke --event-file`, the
command the README shows."""

import hashlib
import json
import subprocess

import pytest

from example_defs import EXAMPLE_DEFS
from examples_support import EXAMPLES, REPO, free_port

EVENTS = EXAMPLES / "events"
INDEX = json.loads((EVENTS / "index.json").read_text())
LICENCE_DIRS = {"aws/aws-sam-cli": "aws-sam-cli", "aws-powertools/powertools-lambda-python": "powertools-lambda-python"}


@pytest.mark.parametrize("entry", INDEX, ids=[e["file"] for e in INDEX])
def test_provenance(entry):
    path = EVENTS / entry["file"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], f"{path} is not the file index.json names"
    json.loads(path.read_text())
    if entry["repo"]:
        assert (EVENTS / "LICENSES" / LICENCE_DIRS[entry["repo"]] / "LICENSE").is_file()
        assert entry["commit"] and entry["path"]
    else:
        assert "docs.aws.amazon.com" in entry["derived"]
    assert sorted(p.relative_to(EVENTS).as_posix() for p in EVENTS.glob("*/*.json")) == sorted(
        e["file"] for e in INDEX
    ), "every shipped event is listed in index.json"


def invoke(artifacts, event_file):
    """`portside-local invoke --event-file FILE -- examples/go/run.sh` from the
    repository root, as the README writes it (the short form: the freshly
    built adapter and the shim, run in the caller's folder, so both paths are
    relative to it); its stdout."""
    portside_local, _ = artifacts
    go = EXAMPLE_DEFS["go"]
    go.check_installed()
    done = subprocess.run(
        [
            str(portside_local), "invoke", "--event-file", (EVENTS / event_file).relative_to(REPO).as_posix(),
            "--quiet", "--env", f"PORT={free_port()}", "--", "examples/go/run.sh",
        ],
        cwd=REPO,
        env=go.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


def test_http_api_event_written_from_the_docs(artifacts):
    code, out, err = invoke(artifacts, "written-from-aws-docs/http-api-get-item.json")
    assert code == 0, err
    result = json.loads(out)
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"id": "café", "raw_path": "/items/caf%C3%A9"}
    assert result["headers"]["vary"] == "Accept, Accept-Encoding"


def test_function_url_event(artifacts):
    """Powertools' sample keeps the placeholder host `<url-id>.lambda-url...`,
    which Go's server refuses as it would from any client: the app's own 400
    comes back as the Function URL result."""
    code, out, err = invoke(artifacts, "powertools-lambda-python/function-url.json")
    assert code == 0, err
    result = json.loads(out)
    assert result["statusCode"] == 400 and result["body"] == "400 Bad Request: malformed Host header", result


@pytest.mark.parametrize(
    "event_file, shape",
    [("aws-sam-cli/http-api-proxy.json", "headers"), ("aws-sam-cli/rest-api-proxy.json", "multiValueHeaders"),
     ("aws-sam-cli/alb-request.json", "headers")],
)
def test_sam_events_reach_the_app(artifacts, event_file, shape):
    """SAM's sample requests are for /path/to/resource, which the app does
    not have: its own 404 comes back in the source's result shape."""
    code, out, err = invoke(artifacts, event_file)
    assert code == 0, err
    result = json.loads(out)
    assert result["statusCode"] == 404 and shape in result, result
    assert result["body"] == "404 page not found\n"


def test_sqs_event_is_posted_to_the_pass_through_path(artifacts):
    """Non-HTTP events are POSTed to /events; this app has no such route, so
    the invocation fails (Portside.AppError) and Lambda would retry it."""
    code, out, err = invoke(artifacts, "powertools-lambda-python/sqs.json")
    assert code != 0
    assert json.loads(out)["errorType"] == "Portside.AppError"
