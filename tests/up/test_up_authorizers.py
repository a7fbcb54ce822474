"""Authorizers in ``portside-local up``, read from tests/up/stack/authorizers.tf.

The JWT issuer is real: an OpenID discovery document and key set served on
127.0.0.1 by this test, tokens signed by PyJWT with keys made here (an
implementation independent of portside-local's). A second issuer, not on
this machine (``https://issuer.example.com``, http_api.tf's route
``GET /private``), gets its key set from a file through ``--jwt-jwks``.
The Lambda authorizer is the stack's own function ``up-test-authz``
(src/authz.py), which prints every event it gets.

Expected answers are the API Gateway developer guide's:
http-api-jwt-authorizer.html and http-api-troubleshooting-jwt.html (401
``{"message":"Unauthorized"}`` with ``www-authenticate``, claims as strings
in ``requestContext.authorizer.jwt``), http-api-lambda-authorizer.html
(simple responses, identity sources missing: 401 without invoking, caching
by identity source for the TTL, a failing authorizer: 500),
apigateway-use-lambda-authorizer.html and
api-gateway-lambda-authorizer-output.html (TOKEN events, policies, context
values stringified, ``Unauthorized`` → 401, an explicit deny → 403),
http-api-develop-integrations-lambda.html (payload 1.0's ``authorizer``),
and AWS_IAM as portside-local documents it (not emulated; ``--iam-auth``).
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from up_support import HERE, Up

STACK = HERE / "stack"
REMOTE_ISSUER = "https://issuer.example.com"


class Issuer:
    """An OpenID provider on 127.0.0.1: discovery document and key set."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
        self.jwks = {"keys": [jwk]}
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/keys"}
                elif self.path == "/keys":
                    body = issuer.jwks
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, issuer: str | None = None, **claims) -> str:
        now = int(time.time())
        body = {"iss": issuer or self.url, "aud": "up-test-api", "sub": "user-1", "iat": now, "exp": now + 600}
        body.update(claims)
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture(scope="module")
def issuer():
    i = Issuer()
    yield i
    i.server.shutdown()


@pytest.fixture(scope="module")
def up(tmp_path_factory, issuer):
    work = tmp_path_factory.mktemp("up-auth")
    stack = work / "stack"
    shutil.copytree(STACK, stack)
    (stack / "build").mkdir()
    for source in (stack / "src").glob("*.py"):
        with zipfile.ZipFile(stack / "build" / f"{source.stem}.zip", "w") as z:
            z.write(source, source.name)
    remote_keys = work / "remote-jwks.json"
    remote_keys.write_text(json.dumps(issuer.jwks))
    running = Up(
        stack,
        work,
        "--var",
        f"jwt_issuer={issuer.url}",
        "--jwt-jwks",
        f"{REMOTE_ISSUER}={remote_keys}",
    )
    try:
        yield running
    finally:
        running.stop()


def guarded(up: Up) -> str:
    return up.door("HTTP API", "up-test-guarded")


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def authz_events(up: Up) -> list[dict]:
    """Every event the authorizer function printed, in order."""
    return [json.loads(m) for m in re.findall(r"up-test-authz#\d+ \| \[runtime\] AUTHZ (\{.*\})", up.log())]


def refused(r: requests.Response, status: int, body: dict) -> bool:
    return (r.status_code, r.json()) == (status, body)


# --- JWT ----------------------------------------------------------------------------


def test_a_token_signed_by_the_issuer_passes_with_its_claims_as_strings(up, issuer):
    token = issuer.token(scope="orders:read profile", admin=True)
    r = requests.get(f"{guarded(up)}/jwt", headers=bearer(token), timeout=30)
    assert r.status_code == 200, r.text
    auth = r.json()["requestContext"]["authorizer"]
    claims = jwt.decode(token, options={"verify_signature": False})
    # Every claim, every value a string; no scopes on a route without any.
    assert auth["jwt"]["claims"] == {
        "iss": issuer.url,
        "aud": "up-test-api",
        "sub": "user-1",
        "iat": str(claims["iat"]),
        "exp": str(claims["exp"]),
        "scope": "orders:read profile",
        "admin": "true",
    }
    assert auth["jwt"]["scopes"] is None


def test_an_expired_token_and_a_wrong_audience_are_refused_with_401(up, issuer):
    expired = issuer.token(exp=int(time.time()) - 60)
    r = requests.get(f"{guarded(up)}/jwt", headers=bearer(expired), timeout=30)
    assert refused(r, 401, {"message": "Unauthorized"})
    assert 'error="invalid_token"' in r.headers["www-authenticate"]

    other = issuer.token(aud="someone-else")
    r = requests.get(f"{guarded(up)}/jwt", headers=bearer(other), timeout=30)
    assert refused(r, 401, {"message": "Unauthorized"})
    # The one error_description the troubleshooting page shows.
    assert 'error_description="the token does not have a valid audience"' in r.headers["www-authenticate"]

    r = requests.get(f"{guarded(up)}/jwt", timeout=30)
    assert refused(r, 401, {"message": "Unauthorized"}), "no token at all"


def test_a_token_signed_by_another_key_is_refused(up, issuer):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    forged = jwt.encode(
        {"iss": issuer.url, "aud": "up-test-api", "exp": now + 600}, stranger, algorithm="RS256", headers={"kid": "k1"}
    )
    r = requests.get(f"{guarded(up)}/jwt", headers=bearer(forged), timeout=30)
    assert refused(r, 401, {"message": "Unauthorized"})


def test_a_scoped_route_needs_one_of_its_scopes(up, issuer):
    r = requests.get(f"{guarded(up)}/orders", headers=bearer(issuer.token(scope="orders:read")), timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["requestContext"]["authorizer"]["jwt"]["scopes"] == ["orders:read"]
    r = requests.get(f"{guarded(up)}/orders", headers=bearer(issuer.token(scope="profile")), timeout=30)
    assert refused(r, 403, {"message": "Forbidden"})


def test_payload_1_0_gets_claims_and_scopes_directly_under_authorizer(up, issuer):
    r = requests.get(f"{guarded(up)}/v1/jwt", headers=bearer(issuer.token()), timeout=30)
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["version"] == "1.0"
    assert e["requestContext"]["authorizer"]["claims"]["sub"] == "user-1"
    assert e["requestContext"]["authorizer"]["scopes"] is None


def test_an_issuer_elsewhere_uses_the_key_set_given_with_jwt_jwks(up, issuer):
    http = up.door("HTTP API", "up-test-http")
    token = issuer.token(issuer=REMOTE_ISSUER, aud="up-test")
    r = requests.get(f"{http}/private", headers=bearer(token), timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["requestContext"]["authorizer"]["jwt"]["claims"]["iss"] == REMOTE_ISSUER


# --- HTTP API Lambda authorizer -------------------------------------------------------


def test_a_lambda_authorizer_allows_with_its_context_and_denies(up):
    r = requests.get(f"{guarded(up)}/lambda", headers={"X-Api-Key": "allow-ctx"}, timeout=30)
    assert r.status_code == 200, r.text
    context = r.json()["requestContext"]["authorizer"]["lambda"]
    # The context as the authorizer returned it, lists and objects included.
    assert context["key"] == "allow-ctx" and context["nested"] == {"a": [1, 2]}
    seen = [e for e in authz_events(up) if e.get("identitySource") == ["allow-ctx"]]
    assert len(seen) == 1
    event = seen[0]
    assert event["version"] == "2.0" and event["type"] == "REQUEST"
    assert re.fullmatch(r"arn:aws:execute-api:us-east-1:123456789012:\w+/\$default/GET/lambda", event["routeArn"])
    assert event["routeKey"] == "GET /lambda" and "body" not in event

    r = requests.get(f"{guarded(up)}/lambda", headers={"X-Api-Key": "deny-me"}, timeout=30)
    assert refused(r, 403, {"message": "Forbidden"})


def test_without_its_identity_source_the_authorizer_is_not_invoked(up):
    before = len(authz_events(up))
    r = requests.get(f"{guarded(up)}/lambda", timeout=30)
    assert refused(r, 401, {"message": "Unauthorized"})
    time.sleep(0.5)
    assert len(authz_events(up)) == before


def test_a_failing_authorizer_answers_500(up):
    r = requests.get(f"{guarded(up)}/lambda", headers={"X-Api-Key": "fail"}, timeout=30)
    assert refused(r, 500, {"message": "Internal Server Error"})


def test_results_are_cached_by_identity_source_for_the_ttl(up):
    def calls(key):
        return len([e for e in authz_events(up) if e.get("identitySource") == [key]])

    def get(key):
        r = requests.get(f"{guarded(up)}/lambda", headers={"X-Api-Key": key}, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["requestContext"]["authorizer"]["lambda"]

    first = get("allow-cache")
    again = get("allow-cache")
    # Within the TTL (2 s): the cached result, the authorizer not invoked.
    assert again == first and calls("allow-cache") == 1
    get("allow-other")
    assert calls("allow-other") == 1, "another identity is another cache entry"
    time.sleep(2.2)
    get("allow-cache")
    assert calls("allow-cache") == 2, "after the TTL the authorizer runs again"


# --- REST API TOKEN authorizer ---------------------------------------------------------


def rest(up: Up) -> str:
    return up.door("REST API", "up-test-rest-guarded") + "/live"


def test_a_token_authorizer_allows_with_its_principal_and_stringified_context(up):
    r = requests.get(f"{rest(up)}/secret", headers={"Authorization": "token-allow"}, timeout=30)
    assert r.status_code == 200, r.text
    auth = r.json()["requestContext"]["authorizer"]
    assert auth["principalId"] == "user-token-allow"
    assert (auth["tier"], auth["n"], auth["ok"]) == ("gold", "7", "true")
    event = [e for e in authz_events(up) if e.get("authorizationToken") == "token-allow"][0]
    assert set(event) == {"type", "authorizationToken", "methodArn"} and event["type"] == "TOKEN"
    assert re.fullmatch(r"arn:aws:execute-api:us-east-1:123456789012:\w+/live/GET/secret", event["methodArn"])


def test_a_token_authorizer_denies_and_refuses(up):
    r = requests.get(f"{rest(up)}/secret", headers={"Authorization": "token-deny"}, timeout=30)
    assert refused(r, 403, {"Message": "User is not authorized to access this resource with an explicit deny"})
    r = requests.get(f"{rest(up)}/secret", headers={"Authorization": "token-unauthorized"}, timeout=30)
    assert refused(r, 401, {"message": "Unauthorized"})
    # A token the identity validation expression does not match: 401, and
    # the authorizer never sees it.
    r = requests.get(f"{rest(up)}/secret", headers={"Authorization": "Token 42"}, timeout=30)
    assert refused(r, 401, {"message": "Unauthorized"})
    time.sleep(0.5)
    assert not [e for e in authz_events(up) if e.get("authorizationToken") == "Token 42"]


# --- AWS_IAM and what up says -----------------------------------------------------------


def test_iam_routes_refuse_unsigned_requests_and_pass_signed_ones_unchecked(up):
    r = requests.get(f"{guarded(up)}/iam", timeout=30)
    assert refused(r, 403, {"message": "Forbidden"})
    r = requests.get(f"{rest(up)}/signed", timeout=30)
    assert refused(r, 403, {"message": "Missing Authentication Token"})
    signed = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00"}
    assert requests.get(f"{guarded(up)}/iam", headers=signed, timeout=30).status_code == 200
    assert requests.get(f"{rest(up)}/signed", headers=signed, timeout=30).status_code == 200
    assert requests.get(f"{guarded(up)}/open", timeout=30).status_code == 200


def test_the_banner_names_each_routes_authorization(up):
    banner = up.banner()
    assert re.search(r"GET /lambda\s+-> up-test-api \(payload 2\.0\), behind aws_apigatewayv2_authorizer\.guarded_lambda", banner)
    assert re.search(r"GET /orders\s+-> up-test-api \(payload 2\.0\), behind aws_apigatewayv2_authorizer\.guarded_jwt \(scopes orders:read\)", banner)
    assert "Lambda TOKEN -> up-test-authz, results not cached  [aws_api_gateway_authorizer.token]" in banner
    assert "Lambda REQUEST, payload 2.0, simple responses -> up-test-authz, results cached 2 s by identity source" in banner
    listed = banner.split("\nnot emulated:")[1]
    assert "aws_apigatewayv2_route.iam: route GET /iam: AWS_IAM authorization is not emulated" in listed
