//! The front door answers as each event source answers, over real sockets:
//! a real portside-local, a real Runtime API, and a small provided.al2023
//! runtime (Python speaking the Runtime API by hand) whose answer depends on
//! the request path. Expected values come from the AWS documentation (see
//! local/FRONTDOOR.md), not from the code under test.

mod common;

use common::local::{Launch, Local};
use common::{get, post, request, write_exec, TempDir};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// `/sleep/S`: answers after S seconds. `/big`: posts a 7 MB result (over
/// Lambda's 6 MB). `/alb-big`: a 2 MB result (over ALB's 1 MB). `/head`: a
/// Content-Length without a body. `/query`: the event's query map as the
/// body, in the event's key order. `/stream`, `/stream-bare`: a streamed
/// response with and without the metadata prelude, the second half after a
/// gate file appears. Anything else: 200 `ok`.
const RUNTIME: &str = r#"#!/usr/bin/env python3
import http.client, json, os, time, urllib.request
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
base = "http://%s/2018-06-01/runtime" % api
gate = os.path.join(os.environ["LAMBDA_TASK_ROOT"], "gate")

def post(rid, data):
    try:
        urllib.request.urlopen(urllib.request.Request(base + "/invocation/%s/response" % rid,
            data=data, method="POST"))
    except urllib.error.HTTPError as e:
        e.read()

def stream(rid, prelude):
    host, port = api.split(":")
    conn = http.client.HTTPConnection(host, int(port))
    conn.putrequest("POST", "/2018-06-01/runtime/invocation/%s/response" % rid)
    conn.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
    conn.putheader("Content-Type", "application/vnd.awslambda.http-integration-response")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    def chunk(data):
        conn.send(b"%x\r\n%s\r\n" % (len(data), data))
    if prelude is not None:
        chunk(json.dumps(prelude).encode() + b"\0" * 8)
    chunk(b"first,")
    while not os.path.exists(gate):
        time.sleep(0.01)
    chunk(b"second")
    conn.send(b"0\r\n\r\n")
    conn.getresponse().read()

while True:
    with urllib.request.urlopen(base + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    path = event.get("rawPath") or event.get("raw_path") or event.get("path") or "/"
    path = path.split("?")[0]
    result = {"statusCode": 200, "headers": {"content-type": "text/plain"},
              "multiValueHeaders": {"content-type": ["text/plain"]}, "body": "ok"}
    if path.startswith("/sleep/"):
        time.sleep(float(path[len("/sleep/"):]))
    elif path == "/big":
        result["body"] = "x" * (7 * 1024 * 1024)
    elif path == "/alb-big":
        result["body"] = "x" * (2 * 1024 * 1024)
    elif path == "/head":
        result["headers"]["content-length"] = "1234"
        result["multiValueHeaders"]["content-length"] = ["1234"]
        result["body"] = ""
    elif path == "/query":
        for key in ("multiValueQueryStringParameters", "queryStringParameters", "query_string_parameters"):
            if event.get(key):
                result["body"] = json.dumps(event[key])
                break
    elif path == "/stream":
        stream(rid, {"statusCode": 201,
                     "headers": {"content-type": "text/plain", "x-both": "single"},
                     "multiValueHeaders": {"x-both": ["m1", "m2"], "x-multi": ["a", "b"]},
                     "cookies": ["c=1", "d=2"]})
        continue
    elif path == "/stream-bare":
        stream(rid, None)
        continue
    post(rid, json.dumps(result).encode())
"#;

struct Fixture {
    dir: TempDir,
}

fn fixture() -> Fixture {
    let dir = TempDir::new("frontdoor");
    write_exec(&dir.path().join("bootstrap"), RUNTIME);
    Fixture { dir }
}

fn door(f: &Fixture, source: &str, extra: &[&str]) -> Local {
    let fdir = f.dir.path().display().to_string();
    let mut args = vec!["--function", fdir.as_str(), "--event", source, "--quiet"];
    args.extend_from_slice(extra);
    let local = Local::start(Launch::new(&args));
    assert!(local.stdout.contains(" is up at "), "{}", local.stderr());
    local
}

/// API Gateway's `{"message": ...}`, or "" for other bodies.
fn message(r: &common::Reply) -> String {
    serde_json::from_slice::<serde_json::Value>(&r.body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The answer (status, content type, body) each source gives for a function
/// that failed, per the AWS documentation.
fn assert_function_error(source: &str, r: &common::Reply) {
    match source {
        "rest-api" => {
            assert_eq!(
                (r.status, message(r).as_str()),
                (502, "Internal server error")
            )
        }
        "http-api" => {
            assert_eq!(
                (r.status, message(r).as_str()),
                (500, "Internal Server Error")
            )
        }
        "alb" | "alb-multi" => {
            assert_eq!(r.status, 502, "{source}");
            assert_eq!(r.header("content-type").as_deref(), Some("text/html"));
            assert!(r.text().contains("502 Bad Gateway"), "{}", r.text());
        }
        _ => assert_eq!(r.status, 502, "{source}: {}", r.text()),
    }
}

#[tokio::test]
async fn a_function_timeout_is_each_sources_function_error() {
    let f = fixture();
    for source in ["rest-api", "http-api", "alb", "function-url", "lattice-v1"] {
        let local = door(&f, source, &["--timeout", "1"]);
        let asked = Instant::now();
        let r = get(local.addr(), "/sleep/3", &[]).await;
        let took = asked.elapsed();
        assert_function_error(source, &r);
        // Lambda's Sandbox.Timedout, not API Gateway's integration timeout.
        assert_ne!(message(&r), "Endpoint request timed out", "{source}");
        assert!(took < Duration::from_millis(2500), "{source}: {took:?}");
        // The sandbox was reset and serves the next request.
        assert_eq!(get(local.addr(), "/", &[]).await.status, 200, "{source}");
    }
}

#[tokio::test]
async fn api_gateway_answers_its_integration_timeout_while_the_function_runs_on() {
    let f = fixture();
    for (source, status, text) in [
        ("rest-api", 504, "Endpoint request timed out"),
        ("http-api", 503, "Service Unavailable"),
    ] {
        let local = door(
            &f,
            source,
            &["--timeout", "10", "--integration-timeout", "1"],
        );
        let asked = Instant::now();
        let r = get(local.addr(), "/sleep/3", &[]).await;
        let took = asked.elapsed();
        assert_eq!((r.status, message(&r).as_str()), (status, text), "{source}");
        assert!(
            took >= Duration::from_millis(950) && took < Duration::from_millis(2500),
            "{source}: {took:?}"
        );
    }
    // An ALB waits for as long as the function runs.
    let local = door(&f, "alb", &["--timeout", "10"]);
    let r = get(local.addr(), "/sleep/2", &[]).await;
    assert_eq!(r.status, 200);
}

/// portside-local names each source as the portside adapter names it (on
/// its `--event`, in its messages, as the adapter's EMF `EventSource`
/// dimension and `x-portside-event-source` header): the oracle is the
/// adapter itself, detecting the event portside-local builds.
#[test]
fn each_source_is_named_as_the_adapter_names_its_events() {
    use portside::testing::event::{parse, Event};
    use portside_local::frontdoor::events::{to_event, EventContext, HttpRequest, Source};
    let req = HttpRequest {
        method: "POST".into(),
        path: "/p".into(),
        query: "a=1&a=2".into(),
        headers: vec![
            ("Host".into(), "127.0.0.1".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: bytes::Bytes::from_static(b"{}"),
        source_ip: "127.0.0.1".into(),
        port: 3000,
    };
    let ctx = EventContext::new("us-east-1");
    for source in Source::ALL {
        let event = to_event(source, &req, &ctx).to_string();
        let detected = match parse(&event) {
            Ok(Event::Http(http)) => http.source.name(),
            Ok(Event::PassThrough(p)) => panic!("{source:?}: passed through as {}", p.source),
            Err(e) => panic!("{source:?}: {e}"),
        };
        assert_eq!(source.name(), detected, "{source:?}");
    }
    // `--event` takes each front door's name, and its older short name.
    for source in Source::FRONT_DOOR {
        assert_eq!(Source::parse(source.name()), Some(source));
        if let Some(short) = source.short_name() {
            assert_eq!(Source::parse(short), Some(source));
        }
    }
    assert_eq!(Source::parse("http-api-v1"), None, "no lone door sends 1.0");
}

#[test]
fn the_default_integration_timeouts_are_api_gateways() {
    use portside_local::frontdoor::answers::integration_timeout;
    use portside_local::frontdoor::events::Source;
    // API Gateway quotas: 29 s for REST APIs, 30 s for HTTP APIs.
    assert_eq!(
        integration_timeout(Source::RestApi),
        Some(Duration::from_secs(29))
    );
    assert_eq!(
        integration_timeout(Source::HttpApiV2),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        integration_timeout(Source::Alb { multi_value: false }),
        None
    );
    assert_eq!(integration_timeout(Source::FunctionUrl), None);
}

#[tokio::test]
async fn a_head_response_keeps_the_apps_content_length() {
    let f = fixture();
    for source in ["http-api", "rest-api", "alb"] {
        let local = door(&f, source, &[]);
        let r = request(local.addr(), "HEAD", "/head", &[], "").await;
        assert_eq!(r.status, 200, "{source}");
        assert_eq!(
            r.header("content-length").as_deref(),
            Some("1234"),
            "{source}"
        );
        assert!(r.body.is_empty());
    }
}

#[tokio::test]
async fn a_result_over_6_mb_gets_lambdas_and_each_sources_answer() {
    let f = fixture();
    for source in ["rest-api", "http-api", "alb", "function-url"] {
        let local = door(&f, source, &[]);
        let r = get(local.addr(), "/big", &[]).await;
        assert_function_error(source, &r);
        // The sandbox stays usable: the runtime got its 413 and came back
        // for the next event at once.
        let asked = Instant::now();
        assert_eq!(get(local.addr(), "/", &[]).await.status, 200, "{source}");
        let took = asked.elapsed();
        assert!(took < Duration::from_secs(2), "{source}: {took:?}");
        let mut local = local;
        let (took, _) = local.stop_with(libc::SIGTERM);
        eprintln!("measured: {source}: stop after a result over 6 MB took {took:?}");
        assert!(took < Duration::from_secs(2), "{source}: {took:?}");
    }
    // Lambda's Invoke API: a function error, Function.ResponseSizeTooLarge
    // (aws-lambda-dotnet's integration tests against Lambda expect 200 with
    // X-Amz-Function-Error and this error type).
    let local = door(&f, "http-api", &[]);
    let r = post(
        local.addr(),
        "/2015-03-31/functions/portside-local/invocations",
        &[],
        r#"{"rawPath":"/big","version":"2.0","requestContext":{}}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-amz-function-error").as_deref(),
        Some("Unhandled")
    );
    let v = r.json();
    assert_eq!(v["errorType"], "Function.ResponseSizeTooLarge");
    assert!(v["errorMessage"]
        .as_str()
        .unwrap_or("")
        .contains("exceeded maximum allowed payload size"));
}

#[tokio::test]
async fn an_alb_keeps_to_its_1_mb_limits() {
    let f = fixture();
    let local = door(&f, "alb", &[]);
    let r = get(local.addr(), "/alb-big", &[]).await;
    assert_eq!(r.status, 502, "a 2 MB result is over ALB's 1 MB");
    assert!(r.text().contains("502 Bad Gateway"));
    let r = post(
        local.addr(),
        "/",
        &[("content-type", "text/plain")],
        vec![b'a'; 1_500_000],
    )
    .await;
    assert_eq!(r.status, 413);
    assert!(r.text().contains("413 Request Entity Too Large"));
    // API Gateway takes both.
    let local = door(&f, "rest-api", &[]);
    assert_eq!(get(local.addr(), "/alb-big", &[]).await.status, 200);
    let r = post(
        local.addr(),
        "/",
        &[("content-type", "text/plain")],
        vec![b'a'; 1_500_000],
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn events_keep_the_clients_query_order() {
    let f = fixture();
    for (source, expected) in [
        ("rest-api", r#"{"z": ["1", "3"], "a": ["2"]}"#),
        ("alb-multi", r#"{"z": ["1", "3"], "a": ["2"]}"#),
        ("alb", r#"{"z": "3", "a": "2"}"#),
        ("lattice-v1", r#"{"z": "3", "a": "2"}"#),
        ("lattice-v2", r#"{"z": ["1", "3"], "a": ["2"]}"#),
    ] {
        let local = door(&f, source, &[]);
        let r = get(local.addr(), "/query?z=1&a=2&z=3", &[]).await;
        assert_eq!(r.status, 200, "{source}");
        assert_eq!(r.text(), expected, "{source}");
    }
}

/// Reads from `conn` until `needle` has arrived; everything read.
fn read_until(conn: &mut std::net::TcpStream, got: &mut Vec<u8>, needle: &str) {
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(got).contains(needle) {
        let n = conn.read(&mut buf).expect("read");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(got));
        got.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn a_rest_api_streams_the_response_as_the_function_writes_it() {
    let f = fixture();
    let local = door(&f, "rest-api", &["--response-stream"]);
    let mut conn = std::net::TcpStream::connect(local.addr()).expect("connect");
    write!(
        conn,
        "GET /stream HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    .expect("send");
    let mut got = Vec::new();
    // The function is blocked on its gate: these bytes came mid-stream.
    read_until(&mut conn, &mut got, "first,");
    let head = String::from_utf8_lossy(&got).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 201"), "{head}");
    // The prelude's four fields: headers and multiValueHeaders merged (the
    // multi-value entry winning), cookies as Set-Cookie lines.
    assert!(head.contains("content-type: text/plain"), "{head}");
    assert!(
        head.contains("x-both: m1") && head.contains("x-both: m2"),
        "{head}"
    );
    assert!(!head.contains("x-both: single"), "{head}");
    assert!(
        head.contains("x-multi: a") && head.contains("x-multi: b"),
        "{head}"
    );
    assert!(
        head.contains("set-cookie: c=1") && head.contains("set-cookie: d=2"),
        "{head}"
    );
    assert!(!head.contains("second"));
    std::fs::write(f.dir.path().join("gate"), "").expect("open the gate");
    conn.read_to_end(&mut got).expect("read the rest");
    let all = String::from_utf8_lossy(&got).to_string();
    let body = &all[all.find("\r\n\r\n").expect("head end") + 4..];
    assert!(body.find("first,") < body.find("second"), "{body}");
}

#[tokio::test]
async fn a_rest_api_stream_without_its_metadata_is_a_502() {
    let f = fixture();
    std::fs::write(f.dir.path().join("gate"), "").expect("gate open");
    let local = door(&f, "rest-api", &["--response-stream"]);
    let r = get(local.addr(), "/stream-bare", &[]).await;
    assert_eq!(
        (r.status, message(&r).as_str()),
        (502, "Internal server error")
    );
    assert!(local
        .stderr()
        .contains("has no metadata prelude (a REST API needs one)"));
    // A Function URL streams a bare body as application/octet-stream.
    let local = door(&f, "function-url", &["--response-stream"]);
    let r = get(local.addr(), "/stream-bare", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "first,second");
}
