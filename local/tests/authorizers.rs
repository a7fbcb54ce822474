//! Authorizers in front of the function, over real sockets and processes: a
//! real portside-local, its front door, the function (a provided.al2023
//! runtime in Python that answers with the event it got) and, for Lambda
//! authorizers, the authorizer function run by portside-local as well.
//!
//! JWTs are signed by PyJWT with keys made by `cryptography`
//! (common/mint_jwt.py), an implementation independent of portside-local's,
//! and the issuer's discovery document and key set are served by Python's
//! http.server. Expected answers come from the AWS documentation cited in
//! local/AUTHORIZERS.md.
//!
//! Needs the repository's .venv (`. scripts/python-env.sh`) for PyJWT.

mod common;

use common::local::{free_port, Launch, Local};
use common::{get, venv_python, write_exec, Reply, TempDir};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The function: answers 200 with the event it got as the body, and
/// appends one line per event to `invocations` in its folder.
const ECHO: &str = r#"#!/usr/bin/env python3
import json, os, urllib.request
base = "http://%s/2018-06-01/runtime/invocation" % os.environ["AWS_LAMBDA_RUNTIME_API"]
log = os.path.join(os.environ["LAMBDA_TASK_ROOT"], "invocations")
while True:
    with urllib.request.urlopen(base + "/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    with open(log, "a") as f:
        f.write("x\n")
    result = {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
    urllib.request.urlopen(urllib.request.Request(base + "/%s/response" % rid, data=json.dumps(result).encode(), method="POST")).read()
"#;

/// The authorizer function: records each event (one JSON line in
/// `events`) and answers by the token: in MODE=simple, `allow` and `deny`
/// with `isAuthorized`; in MODE=policy, `allow`/`deny` with a policy for
/// the event's ARN; `unauthorized` fails with the message "Unauthorized",
/// `crash` fails otherwise, `garbage` answers text, `slow` sleeps 3 s.
const AUTHORIZER: &str = r#"#!/usr/bin/env python3
import json, os, time, urllib.request
base = "http://%s/2018-06-01/runtime/invocation" % os.environ["AWS_LAMBDA_RUNTIME_API"]
log = os.path.join(os.environ["LAMBDA_TASK_ROOT"], "events")
mode = os.environ.get("MODE", "simple")
def post(rid, what, data):
    urllib.request.urlopen(urllib.request.Request(base + "/%s/%s" % (rid, what), data=data, method="POST")).read()
while True:
    with urllib.request.urlopen(base + "/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    with open(log, "a") as f:
        f.write(json.dumps(event) + "\n")
    src = event.get("identitySource")
    if event.get("type") == "TOKEN":
        token = event["authorizationToken"]
    elif isinstance(src, list):
        token = src[0] if src else ""
    elif src is None:
        # A REST REQUEST event carries the request, not identitySource.
        token = (event.get("queryStringParameters") or {}).get("token", "")
    else:
        token = src.split(",")[0]
    token = token.replace("Bearer ", "")
    context = {"user": "u-1", "level": 3, "admin": True}
    if token == "unauthorized":
        post(rid, "error", json.dumps({"errorMessage": "Unauthorized", "errorType": "Error"}).encode())
        continue
    if token == "crash":
        post(rid, "error", json.dumps({"errorMessage": "boom", "errorType": "Error"}).encode())
        continue
    if token == "garbage":
        post(rid, "response", b"this is not JSON")
        continue
    if token == "slow":
        time.sleep(3)
    if mode == "simple":
        answer = {"isAuthorized": token in ("allow", "slow"), "context": dict(context, tags=["a", "b"])}
    else:
        arn = event.get("methodArn") or event.get("routeArn")
        effect = "Allow" if token in ("allow", "slow") else "Deny"
        answer = {"principalId": "user-7", "context": context,
                  "policyDocument": {"Version": "2012-10-17", "Statement": [
                      {"Action": "execute-api:Invoke", "Effect": effect, "Resource": arn}]}}
    post(rid, "response", json.dumps(answer).encode())
"#;

struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = TempDir::new("auth");
        write_exec(&dir.path().join("function/bootstrap"), ECHO);
        write_exec(&dir.path().join("authorizer/bootstrap"), AUTHORIZER);
        Fixture { dir }
    }
    fn function(&self) -> String {
        self.dir.path().join("function").display().to_string()
    }
    fn authorizer(&self) -> String {
        self.dir.path().join("authorizer").display().to_string()
    }
    fn invocations(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("function/invocations"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }
    fn authorizer_events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("authorizer/events"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("event JSON"))
            .collect()
    }
    fn start(&self, args: &[&str]) -> Local {
        let function = self.function();
        let mut all = vec!["--function", function.as_str(), "--quiet"];
        all.extend_from_slice(args);
        let local = Local::start(Launch::new(&all));
        assert!(
            local.stdout.contains(" is up at "),
            "not up\nstdout:\n{}\nstderr:\n{}",
            local.stdout,
            local.stderr()
        );
        local
    }
}

/// The event the function got (the echo's body).
fn event(r: &Reply) -> Value {
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn header(r: &Reply, name: &str) -> String {
    r.header(name).unwrap_or_default()
}

/// An issuer on loopback: keys k1 and k2 made by PyJWT's side, its
/// discovery document and key set served by Python's http.server.
struct Issuer {
    dir: TempDir,
    url: String,
    server: Child,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn mint_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/mint_jwt.py")
}

impl Issuer {
    fn start() -> Issuer {
        let dir = TempDir::new("issuer");
        let status = Command::new(venv_python())
            .arg(mint_script())
            .args(["keys", &dir.path().display().to_string()])
            .status()
            .expect("run mint_jwt.py");
        assert!(
            status.success(),
            "mint_jwt.py keys failed (is PyJWT installed? . scripts/python-env.sh)"
        );
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}/realm");
        let web = dir.path().join("web");
        std::fs::create_dir_all(web.join("realm/.well-known")).expect("mkdir");
        std::fs::write(
            web.join("realm/.well-known/openid-configuration"),
            json!({"issuer": url, "jwks_uri": format!("{url}/keys.json")}).to_string(),
        )
        .expect("write discovery");
        std::fs::copy(dir.path().join("jwks.json"), web.join("realm/keys.json"))
            .expect("copy jwks");
        let server = Command::new(venv_python())
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(&web)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start http.server");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the issuer never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        Issuer { dir, url, server }
    }

    /// Signs tokens: (signing key, kid in the header, claims).
    fn tokens(&self, specs: &[(&str, &str, Value)]) -> Vec<String> {
        let specs: Vec<Value> = specs
            .iter()
            .map(|(key, kid, claims)| json!({"key": key, "kid": kid, "claims": claims}))
            .collect();
        let out = Command::new(venv_python())
            .arg(mint_script())
            .args([
                "tokens",
                &self.dir.path().display().to_string(),
                &Value::Array(specs).to_string(),
            ])
            .output()
            .expect("run mint_jwt.py");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("tokens")
    }

    /// Publishes both keys (a key rotation).
    fn rotate(&self) {
        std::fs::copy(
            self.dir.path().join("jwks-both.json"),
            self.dir.path().join("web/realm/keys.json"),
        )
        .expect("rotate");
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn claims(issuer: &str, extra: Value) -> Value {
    let mut c = json!({"iss": issuer, "sub": "user-1", "aud": "my-api", "iat": now() - 5, "exp": now() + 600});
    for (k, v) in extra.as_object().expect("object") {
        if v.is_null() {
            c.as_object_mut().expect("object").remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

#[tokio::test]
async fn a_jwt_authorizer_checks_signature_and_claims_as_api_gateway_does() {
    let issuer = Issuer::start();
    let iss = issuer.url.clone();
    let f = Fixture::new();
    let local = f.start(&[
        "--event",
        "http-api",
        "--jwt-issuer",
        &iss,
        "--jwt-audience",
        "my-api",
        "--jwt-audience",
        "other",
    ]);
    assert!(local.stderr().contains(&format!("JWT authorizer: issuer {iss}, audience my-api, other, 1 RSA key(s) from {iss}/.well-known/openid-configuration")), "{}", local.stderr());
    let exp = now() + 600;
    let tokens = issuer.tokens(&[
        (
            "k1",
            "k1",
            claims(
                &iss,
                json!({"exp": exp, "groups": ["admin", "users"], "level": 5, "admin": true}),
            ),
        ),
        ("k1", "k1", claims(&iss, json!({"exp": now() - 10}))),
        ("k1", "k1", claims(&iss, json!({"aud": "someone-else"}))),
        ("k2", "k2", claims(&iss, json!({}))),
        ("k2", "k1", claims(&iss, json!({}))),
        (
            "k1",
            "k1",
            claims(&iss, json!({"aud": null, "client_id": "other"})),
        ),
        ("k1", "k1", claims(&iss, json!({"nbf": now() + 300}))),
        (
            "k1",
            "k1",
            claims("http://127.0.0.1:1/elsewhere", json!({})),
        ),
        ("k1", "k1", claims(&iss, json!({"exp": null}))),
    ]);
    let addr = local.addr();
    let bearer = |t: &str| format!("Bearer {t}");

    // A token signed by the issuer's key: the claims reach the function,
    // every value a string, and no scopes (the route has none).
    let e = event(&get(addr, "/orders", &[("authorization", &bearer(&tokens[0]))]).await);
    let delivered = &e["requestContext"]["authorizer"]["jwt"];
    assert_eq!(delivered["claims"]["sub"], "user-1");
    assert_eq!(delivered["claims"]["exp"], exp.to_string());
    assert_eq!(delivered["claims"]["groups"], "[admin users]");
    assert_eq!(delivered["claims"]["level"], "5");
    assert_eq!(delivered["claims"]["admin"], "true");
    assert_eq!(delivered["claims"]["aud"], "my-api");
    assert_eq!(delivered["scopes"], Value::Null);
    // The token alone works too (no "Bearer ").
    event(&get(addr, "/orders", &[("authorization", &tokens[0])]).await);
    let served = f.invocations();

    // Each refusal: 401, {"message":"Unauthorized"}, the reason in
    // www-authenticate; the function never runs.
    for (token, why) in [
        (&tokens[1], "the token has expired"),
        (&tokens[2], "the token does not have a valid audience"),
        (
            &tokens[3],
            "the token's kid does not match a key in the issuer's jwks_uri",
        ),
        (&tokens[4], "the token's signature is invalid"),
        (&tokens[6], "the token is not valid yet"),
        (&tokens[7], "the token does not have a valid issuer"),
        (&tokens[8], "the token has no exp claim"),
    ] {
        let r = get(addr, "/orders", &[("authorization", &bearer(token))]).await;
        assert_eq!(r.status, 401, "{why}: {}", r.text());
        assert_eq!(r.text(), r#"{"message":"Unauthorized"}"#);
        assert_eq!(
            header(&r, "www-authenticate"),
            format!(r#"Bearer scope="" error="invalid_token" error_description="{why}""#)
        );
        assert!(!header(&r, "apigw-requestid").is_empty());
    }
    let r = get(addr, "/orders", &[]).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (401, r#"{"message":"Unauthorized"}"#)
    );
    assert_eq!(
        f.invocations(),
        served,
        "no refused request reached the function"
    );

    // client_id stands in for aud when there is no aud.
    event(&get(addr, "/orders", &[("authorization", &bearer(&tokens[5]))]).await);

    // The issuer rotates its keys: a token signed by the new key is
    // accepted once the key set is read again.
    issuer.rotate();
    std::thread::sleep(Duration::from_millis(1100));
    event(&get(addr, "/orders", &[("authorization", &bearer(&tokens[3]))]).await);
}

#[tokio::test]
async fn route_scopes_need_one_of_them_in_the_token_and_keys_can_come_from_a_file() {
    let issuer = Issuer::start();
    let iss = issuer.url.clone();
    let f = Fixture::new();
    let jwks = issuer.dir.path().join("jwks.json").display().to_string();
    let local = f.start(&[
        "--jwt-issuer",
        &iss,
        "--jwt-audience",
        "my-api",
        "--jwt-jwks",
        &jwks,
        "--jwt-scope",
        "orders:read",
        "--jwt-scope",
        "admin",
        "--identity-source",
        "$request.header.X-Token",
    ]);
    let tokens = issuer.tokens(&[
        (
            "k1",
            "k1",
            claims(&iss, json!({"scope": "profile orders:read"})),
        ),
        ("k1", "k1", claims(&iss, json!({"scp": ["admin"]}))),
        ("k1", "k1", claims(&iss, json!({"scope": "profile"}))),
    ]);
    let addr = local.addr();
    let e = event(&get(addr, "/", &[("x-token", &tokens[0])]).await);
    assert_eq!(
        e["requestContext"]["authorizer"]["jwt"]["scopes"],
        json!(["profile", "orders:read"])
    );
    event(&get(addr, "/", &[("x-token", &tokens[1])]).await);
    let r = get(addr, "/", &[("x-token", &tokens[2])]).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (403, r#"{"message":"Forbidden"}"#)
    );
    assert!(
        header(&r, "www-authenticate")
            .contains(r#"scope="orders:read admin" error="insufficient_scope""#),
        "{}",
        header(&r, "www-authenticate")
    );
    // The token is read from the configured identity source only.
    let r = get(
        addr,
        "/",
        &[("authorization", &format!("Bearer {}", tokens[0]))],
    )
    .await;
    assert_eq!(r.status, 401);
}

#[test]
fn a_jwt_authorizer_that_cannot_work_is_refused_at_start() {
    let f = Fixture::new();
    for (args, says) in [
        (
            vec![
                "--event",
                "rest-api",
                "--jwt-issuer",
                "http://127.0.0.1:1/i",
                "--jwt-audience",
                "a",
            ],
            "REST API JWT authorizers are not emulated",
        ),
        (
            vec![
                "--jwt-issuer",
                "https://cognito-idp.us-east-1.amazonaws.com/pool",
                "--jwt-audience",
                "a",
            ],
            "download the key set and pass --jwt-jwks FILE",
        ),
        (
            vec![
                "--jwt-issuer",
                "http://127.0.0.1:1/nothing-here",
                "--jwt-audience",
                "a",
            ],
            "cannot connect to http://127.0.0.1:1/nothing-here/.well-known/openid-configuration",
        ),
        (
            vec![
                "--authorizer-function",
                "/nowhere",
                "--authorizer-type",
                "token",
            ],
            "HTTP APIs have REQUEST authorizers only",
        ),
        (
            vec!["--iam-auth", "deny", "--event", "alb"],
            "alb has no IAM authorization",
        ),
    ] {
        let function = f.function();
        let mut all = vec!["--function", function.as_str(), "--port", "0"];
        all.extend(args.iter().copied());
        let out = Command::new(env!("CARGO_BIN_EXE_portside-local"))
            .args(&all)
            .output()
            .expect("run portside-local");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{all:?} started");
        assert!(err.contains(says), "{all:?}: {err}");
    }
}

#[tokio::test]
async fn an_http_api_lambda_authorizer_allows_denies_passes_context_and_caches() {
    let f = Fixture::new();
    let authorizer = f.authorizer();
    let local = f.start(&[
        "--authorizer-function",
        &authorizer,
        "--authorizer-simple-response",
        "--authorizer-ttl",
        "2",
        "--authorizer-env",
        "MODE=simple",
    ]);
    assert!(local.stderr().contains("Lambda authorizer: ") && local.stderr().contains("(REQUEST, payload 2.0, simple responses), results cached for 2 s by identity source"), "{}", local.stderr());
    let addr = local.addr();
    // Allowed: its context in requestContext.authorizer.lambda, as returned.
    let e = event(&get(addr, "/items?x=1", &[("authorization", "allow")]).await);
    assert_eq!(
        e["requestContext"]["authorizer"]["lambda"],
        json!({"user": "u-1", "level": 3, "admin": true, "tags": ["a", "b"]})
    );
    // The authorizer's event: payload 2.0 with type, routeArn and the
    // identity source values, and no body.
    let events = f.authorizer_events();
    assert_eq!(events.len(), 1);
    let a = &events[0];
    assert_eq!(
        (a["version"].as_str(), a["type"].as_str()),
        (Some("2.0"), Some("REQUEST"))
    );
    assert_eq!(a["identitySource"], json!(["allow"]));
    assert_eq!(
        a["routeArn"],
        "arn:aws:execute-api:us-east-1:123456789012:portsidelocal/$default/GET/items"
    );
    assert_eq!(a["rawQueryString"], "x=1");
    assert!(a.get("body").is_none());

    // Within the TTL the same identity is not asked again...
    event(&get(addr, "/other", &[("authorization", "allow")]).await);
    assert_eq!(f.authorizer_events().len(), 1, "a cache hit within the TTL");
    // ...another identity is.
    let r = get(addr, "/", &[("authorization", "deny")]).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (403, r#"{"message":"Forbidden"}"#)
    );
    assert_eq!(f.authorizer_events().len(), 2);
    // After the TTL it is asked again.
    std::thread::sleep(Duration::from_millis(2200));
    event(&get(addr, "/", &[("authorization", "allow")]).await);
    assert_eq!(f.authorizer_events().len(), 3, "a miss after the TTL");

    // No identity source: 401 without asking it.
    let r = get(addr, "/", &[]).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (401, r#"{"message":"Unauthorized"}"#)
    );
    assert_eq!(f.authorizer_events().len(), 3);
    // An authorizer that fails, or answers what API Gateway cannot read: 500.
    let served = f.invocations();
    for token in ["crash", "garbage", "unauthorized"] {
        let r = get(addr, "/", &[("authorization", token)]).await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (500, r#"{"message":"Internal Server Error"}"#),
            "{token}"
        );
    }
    assert_eq!(f.invocations(), served, "the function never ran for them");
    let err = local.stderr();
    assert!(
        err.contains(
            "Lambda authorizer: its function failed (Error: boom); API Gateway answers 500"
        ),
        "{err}"
    );
    assert!(
        err.contains("Lambda authorizer: its answer is not JSON"),
        "{err}"
    );
}

#[tokio::test]
async fn caching_off_asks_every_time_and_a_timeout_is_a_500() {
    let f = Fixture::new();
    let authorizer = f.authorizer();
    let local = f.start(&[
        "--authorizer-function",
        &authorizer,
        "--authorizer-simple-response",
        "--authorizer-ttl",
        "0",
        "--authorizer-env",
        "MODE=simple",
        "--timeout",
        "1",
    ]);
    let addr = local.addr();
    for _ in 0..3 {
        event(&get(addr, "/", &[("authorization", "allow")]).await);
    }
    assert_eq!(f.authorizer_events().len(), 3);
    let r = get(addr, "/", &[("authorization", "slow")]).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (500, r#"{"message":"Internal Server Error"}"#)
    );
    assert!(
        local
            .stderr()
            .contains("Lambda authorizer: its function timed out after 1.00 s"),
        "{}",
        local.stderr()
    );
}

#[tokio::test]
async fn a_payload_1_0_authorizer_gets_the_rest_shape_and_its_policy_is_evaluated() {
    let f = Fixture::new();
    let authorizer = f.authorizer();
    let local = f.start(&[
        "--authorizer-function",
        &authorizer,
        "--authorizer-payload",
        "1.0",
        "--authorizer-env",
        "MODE=policy",
        "--identity-source",
        "$request.header.Authorization",
        "--identity-source",
        "$request.querystring.team",
    ]);
    let addr = local.addr();
    let e = event(&get(addr, "/a/b?team=blue", &[("authorization", "allow")]).await);
    assert_eq!(
        e["requestContext"]["authorizer"]["lambda"],
        json!({"user": "u-1", "level": 3, "admin": true})
    );
    let a = &f.authorizer_events()[0];
    assert_eq!(
        (a["version"].as_str(), a["type"].as_str()),
        (Some("1.0"), Some("REQUEST"))
    );
    assert_eq!(a["identitySource"], "allow,blue");
    assert_eq!(
        a["methodArn"],
        "arn:aws:execute-api:us-east-1:123456789012:portsidelocal/$default/GET/a/b"
    );
    assert_eq!(a["httpMethod"], "GET");
    // A missing query string identity source: 401.
    let r = get(addr, "/a/b", &[("authorization", "allow")]).await;
    assert_eq!(r.status, 401);
    // The policy denies: 403.
    let r = get(addr, "/a/b?team=red", &[("authorization", "deny")]).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (403, r#"{"message":"Forbidden"}"#)
    );
}

#[tokio::test]
async fn rest_api_token_authorizers_answer_as_the_gateway_responses_say() {
    let f = Fixture::new();
    let authorizer = f.authorizer();
    let local = f.start(&[
        "--event",
        "rest-api",
        "--authorizer-function",
        &authorizer,
        "--authorizer-type",
        "token",
        "--authorizer-env",
        "MODE=policy",
        "--authorizer-validation",
        "(Bearer )?[a-z]+",
        "--identity-source",
        "method.request.header.Auth",
    ]);
    let addr = local.addr();
    let e = event(&get(addr, "/pets/1", &[("auth", "Bearer allow")]).await);
    let a = &e["requestContext"]["authorizer"];
    assert_eq!(a["principalId"], "user-7");
    // Context values reach a proxy integration stringified.
    assert_eq!(
        (a["user"].as_str(), a["level"].as_str(), a["admin"].as_str()),
        (Some("u-1"), Some("3"), Some("true"))
    );
    assert!(a["integrationLatency"].is_u64(), "{a}");
    let events = f.authorizer_events();
    assert_eq!(
        events[0],
        json!({"type": "TOKEN", "authorizationToken": "Bearer allow", "methodArn": "arn:aws:execute-api:us-east-1:123456789012:portsidelocal/prod/GET/pets/1"})
    );
    // The cached policy is evaluated again for another method: it allows
    // only GET /pets/1.
    let r = get(addr, "/pets/2", &[("auth", "Bearer allow")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json(),
        json!({"Message": "User is not authorized to access this resource"})
    );
    assert_eq!(
        f.authorizer_events().len(),
        1,
        "the policy came from the cache"
    );
    let r = get(addr, "/pets/1", &[("auth", "Bearer deny")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json(),
        json!({"Message": "User is not authorized to access this resource with an explicit deny"})
    );
    assert_eq!(header(&r, "x-amzn-ErrorType"), "AccessDeniedException");
    let r = get(addr, "/pets/1", &[("auth", "Bearer unauthorized")]).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (401, r#"{"message":"Unauthorized"}"#)
    );
    let r = get(addr, "/pets/1", &[("auth", "Bearer crash")]).await;
    assert_eq!((r.status, r.text().as_str()), (500, r#"{"message":null}"#));
    assert_eq!(
        header(&r, "x-amzn-ErrorType"),
        "AuthorizerConfigurationException"
    );
    // A token the validation expression refuses: 401 without asking.
    let asked = f.authorizer_events().len();
    let r = get(addr, "/pets/1", &[("auth", "Bearer NOT-lowercase")]).await;
    assert_eq!(r.status, 401);
    assert_eq!(f.authorizer_events().len(), asked);
}

#[tokio::test]
async fn iam_auth_is_not_emulated_and_the_flag_decides_for_unsigned_requests() {
    let f = Fixture::new();
    let local = f.start(&["--iam-auth", "deny"]);
    assert!(
        local
            .stderr()
            .contains("IAM authorization is not emulated: SigV4 signatures are not checked"),
        "{}",
        local.stderr()
    );
    let addr = local.addr();
    let r = get(addr, "/", &[]).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (403, r#"{"message":"Forbidden"}"#)
    );
    let signed = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123";
    event(&get(addr, "/", &[("authorization", signed)]).await);
    drop(local);
    let local = f.start(&["--iam-auth", "allow", "--event", "function-url"]);
    event(&get(local.addr(), "/", &[]).await);
    drop(local);
    let local = f.start(&["--iam-auth", "deny", "--event", "function-url"]);
    let r = get(local.addr(), "/", &[]).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (403, r#"{"Message":"Forbidden"}"#)
    );
}

#[tokio::test]
async fn a_rest_api_request_authorizer_gets_the_request_and_its_identity_sources() {
    let f = Fixture::new();
    let authorizer = f.authorizer();
    let local = f.start(&[
        "--event",
        "rest-api",
        "--authorizer-function",
        &authorizer,
        "--authorizer-env",
        "MODE=policy",
        "--identity-source",
        "method.request.querystring.token",
        "--authorizer-ttl",
        "0",
    ]);
    let addr = local.addr();
    let e = event(&get(addr, "/pets?token=allow&x=1", &[("x-extra", "yes")]).await);
    assert_eq!(e["requestContext"]["authorizer"]["principalId"], "user-7");
    let a = &f.authorizer_events()[0];
    assert_eq!(a["type"], "REQUEST");
    assert_eq!(
        a["methodArn"],
        "arn:aws:execute-api:us-east-1:123456789012:portsidelocal/prod/GET/pets"
    );
    assert_eq!(a["queryStringParameters"]["token"], "allow");
    assert_eq!(a["headers"]["x-extra"], "yes");
    assert_eq!(a["httpMethod"], "GET");
    assert!(a.get("body").is_none(), "{a}");
    // Without the query string: 401 without asking the authorizer.
    let r = get(addr, "/pets", &[]).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (401, r#"{"message":"Unauthorized"}"#)
    );
    assert_eq!(f.authorizer_events().len(), 1);
}
