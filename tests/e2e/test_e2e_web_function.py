"""An app written for Lambda Web Functions on classic Lambda through the
whole local path: portside-local's HTTP API front door, the layer's shim
starting `node index.js` (no start script, as Web Functions does) and the
adapter with PORTSIDE_WEB_FUNCTION=true. tests/e2e/arm64.sh runs it with the
arm64 release files too.

Oracles: the app's own answer (what it received, echoed), Web Functions'
documented request semantics (web-functions-http: `lambda-web-request-id`,
`lambda-web-endpoint-name`, the connecting client appended last to
X-Forwarded-For, the request id on the response too), and Lambda's START line
that names the invocation's request id.
"""

import re
from pathlib import Path

APP = Path(__file__).parent / "apps" / "web-function"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_a_web_function_app_answers_behind_an_http_api_with_the_invocations_request_id(launch):
    fn = launch("http-api", {"PORTSIDE_WEB_FUNCTION": "true"}, label="web-function",
                function=APP, handler="index.handler")
    r = fn.request("GET", "/hello?name=portside", headers={"X-Forwarded-For": "198.51.100.7"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    request_id = r.headers["lambda-web-request-id"]
    assert UUID.match(request_id), request_id
    # The client (the test, on loopback) is appended after what it sent.
    assert r.json() == {
        "greeting": "hello, portside",
        "requestId": request_id,
        "endpointName": "default",
        "forwardedFor": "198.51.100.7, 127.0.0.1",
    }
    assert f"START RequestId: {request_id} " in fn.stderr(), fn.logs()
