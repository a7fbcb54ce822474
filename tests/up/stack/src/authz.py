"""The test stack's Lambda authorizer: prints each event it gets (``AUTHZ
{...}`` in the log) and answers by the token or key it is given, in the
formats of the API Gateway developer guide: an HTTP API simple response
(``isAuthorized`` and ``context``), a REST API IAM policy with a
``principalId`` and ``context``, or the error ``Unauthorized``."""

import json

CALLS = 0


def policy(event, effect):
    return {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}],
    }


def handler(event, context):
    global CALLS
    CALLS += 1
    print("AUTHZ " + json.dumps(event))
    if event.get("type") == "TOKEN":
        token = event["authorizationToken"]
        if token == "token-unauthorized":
            raise Exception("Unauthorized")
        effect = "Allow" if token == "token-allow" else "Deny"
        return {
            "principalId": "user-" + token,
            "policyDocument": policy(event, effect),
            "context": {"tier": "gold", "n": 7, "ok": True},
        }
    key = event["identitySource"][0]
    if key == "fail":
        raise RuntimeError("the authorizer failed on purpose")
    return {"isAuthorized": key.startswith("allow"), "context": {"key": key, "calls": CALLS, "nested": {"a": [1, 2]}}}
