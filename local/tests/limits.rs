//! Every limit of portside-local at its edge (limit - 1, limit, limit + 1),
//! over real sockets: the front doors through the real binary and a small
//! runtime (Python speaking the Runtime API by hand), Lambda's APIs through
//! an in-process Runtime API and a client that writes each byte itself,
//! `portside-local web` through the real binary and a Node app.
//!
//! The values are `portside_local::limits::Limit`'s; the answers past them
//! are the ones its rows quote from AWS (written out here again, not taken
//! from the code); each request's size is computed here from the bytes the
//! test writes, as the limit's row counts them.

mod common;

use common::local::{Launch, Local};
use common::{get, post, write_exec, RawChunkedPost, TempDir};
use portside_local::limits::Limit;
use portside_local::runtime_api::{
    Config, InitState, InvokeOptions, Outcome, RuntimeApi, StreamEvent,
};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A provided.al2023 runtime. `/result/N`: a result JSON of exactly N bytes;
/// `/headers/N`: a result whose headers make a block of N bytes (`name:value`
/// CRLF); `/prelude/N`: a stream whose metadata prelude is N bytes of JSON.
/// Anything else: 200 with the length of the event as the runtime read it.
const RUNTIME: &str = r#"#!/usr/bin/env python3
import http.client, json, os, urllib.request
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
base = "http://%s/2018-06-01/runtime" % api

def post(rid, data):
    try:
        urllib.request.urlopen(urllib.request.Request(base + "/invocation/%s/response" % rid,
            data=data, method="POST"))
    except urllib.error.HTTPError as e:
        e.read()

def stream(rid, data):
    host, port = api.split(":")
    conn = http.client.HTTPConnection(host, int(port))
    conn.putrequest("POST", "/2018-06-01/runtime/invocation/%s/response" % rid)
    conn.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
    conn.putheader("Content-Type", "application/vnd.awslambda.http-integration-response")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    conn.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
    conn.getresponse().read()

def padded(obj, pad, n):
    pad("")
    pad("a" * (n - len(json.dumps(obj))))
    data = json.dumps(obj).encode()
    assert len(data) == n
    return data

while True:
    with urllib.request.urlopen(base + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        raw = r.read()
    event = json.loads(raw)
    path = (event.get("rawPath") or event.get("path") or "/") if isinstance(event, dict) else "/"
    parts = path.split("/")
    if len(parts) == 3 and parts[1] == "result":
        result = {"statusCode": 200, "body": ""}
        post(rid, padded(result, lambda v: result.update(body=v), int(parts[2])))
    elif len(parts) == 3 and parts[1] == "headers":
        result = {"statusCode": 200, "headers": {"x-pad": "a" * (int(parts[2]) - 8)}, "body": "ok"}
        post(rid, json.dumps(result).encode())
    elif len(parts) == 3 and parts[1] == "prelude":
        prelude = {"statusCode": 200, "headers": {"x-pad": ""}}
        data = padded(prelude, lambda v: prelude["headers"].update({"x-pad": v}), int(parts[2]))
        stream(rid, data + b"\0" * 8 + b"ok")
    else:
        post(rid, json.dumps({"statusCode": 200, "headers": {"content-type": "text/plain"},
                              "body": str(len(raw))}).encode())
"#;

/// portside-local as `source`'s front door, with the runtime above.
fn door(dir: &TempDir, source: &str, extra: &[&str]) -> Local {
    write_exec(&dir.path().join("bootstrap"), RUNTIME);
    let fdir = dir.path().display().to_string();
    let mut args = vec!["--function", fdir.as_str(), "--event", source, "--quiet"];
    args.extend_from_slice(extra);
    let local = Local::start(Launch::new(&args));
    assert!(local.stdout.contains(" is up at "), "{}", local.stderr());
    local
}

/// A response read off a raw socket.
#[derive(Debug)]
struct Raw {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Raw {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// Writes `request` byte for byte and reads one response (with a
/// Content-Length, or none).
async fn exchange(addr: &str, request: &[u8]) -> Raw {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request).await.expect("write the request");
    let mut buf = Vec::new();
    let mut tmp = vec![0u8; 64 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let raw = Raw {
                status: head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .expect("a status line"),
                head,
                body: Vec::new(),
            };
            let len: usize = raw
                .header("content-length")
                .map_or(0, |v| v.parse().unwrap());
            if buf.len() >= end + 4 + len {
                let body = buf[end + 4..end + 4 + len].to_vec();
                return Raw { body, ..raw };
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(60), s.read(&mut tmp))
            .await
            .expect("an answer in time")
            .expect("read");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&tmp[..n]);
    }
}

/// `GET target` with these header lines, each written `name:value`.
fn get_request(target: &str, lines: &[(String, String)]) -> Vec<u8> {
    let mut r = format!("GET {target} HTTP/1.1\r\nhost:x\r\n");
    for (k, v) in lines {
        r.push_str(&format!("{k}:{v}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

fn pad(n: usize) -> Vec<(String, String)> {
    vec![("x-pad".into(), "a".repeat(n))]
}

/// The sizes at the edge of `limit`, each with whether it is within.
fn edges(limit: Limit) -> [(usize, bool); 3] {
    let m = limit.max();
    [(m - 1, true), (m, true), (m + 1, false)]
}

/// A front door served a request within its limits: the function answered
/// with the length of the event it read.
fn served(r: &Raw, what: &str) {
    assert_eq!(r.status, 200, "{what}: {} {}", r.head, r.text());
    assert!(r.text().parse::<usize>().is_ok(), "{what}: {}", r.text());
}

// ---- The front doors: request heads ----

#[tokio::test]
async fn api_gateway_heads_of_10240_bytes_are_served_and_one_byte_more_is_refused() {
    let dir = TempDir::new("limits-apigw-head");
    // HTTP API: "GET /p HTTP/1.1" (15) and the values "x" and the pad.
    let http = door(&dir, "http-api", &[]);
    for (size, within) in edges(Limit::HttpApiHead) {
        let r = exchange(http.addr(), &get_request("/p", &pad(size - 16))).await;
        if within {
            served(&r, &format!("HTTP API head of {size}"));
        } else {
            assert_eq!(r.status, 431, "{}", r.head);
            assert_eq!(r.text(), "HTTP header is larger than 10240 bytes.");
        }
    }
    let rest = door(&dir, "rest-api", &[]);
    // REST API request line: "GET /" + target + " HTTP/1.1" is 14 + k.
    for (size, within) in edges(Limit::RestApiRequestLine) {
        let target = format!("/{}", "a".repeat(size - 14));
        let r = exchange(rest.addr(), &get_request(&target, &[])).await;
        if within {
            served(&r, &format!("REST request line of {size}"));
        } else {
            assert_eq!(r.status, 414, "{}", r.head);
            assert_eq!(r.text(), "An HTTP line is larger than 10240 bytes.");
        }
    }
    // REST API header block: "host:x" CRLF (8) and "x-pad:" v CRLF (8 + v).
    for (size, within) in edges(Limit::RestApiHeaders) {
        let r = exchange(rest.addr(), &get_request("/p", &pad(size - 16))).await;
        if within {
            served(&r, &format!("REST header block of {size}"));
        } else {
            assert_eq!(r.status, 431, "{}", r.head);
            assert_eq!(
                r.header("content-type").as_deref(),
                Some("text; charset=utf-8")
            );
            assert_eq!(r.text(), "HTTP header is larger than 10240 bytes.");
        }
    }
}

fn alb_refused(r: &Raw, what: &str) {
    assert_eq!(r.status, 400, "{what}: {}", r.head);
    assert_eq!(r.header("server").as_deref(), Some("awselb/2.0"), "{what}");
    assert!(r.text().contains("<h1>400 Bad Request</h1>"), "{what}");
}

#[tokio::test]
async fn alb_request_lines_and_headers_of_16_and_64_kib_are_served_and_more_get_its_400() {
    let dir = TempDir::new("limits-alb-head");
    let alb = door(&dir, "alb", &[]);
    for (size, within) in edges(Limit::AlbRequestLine) {
        let target = format!("/{}", "a".repeat(size - 14));
        let r = exchange(alb.addr(), &get_request(&target, &[])).await;
        let what = format!("request line of {size}");
        if within {
            served(&r, &what);
        } else {
            alb_refused(&r, &what);
        }
    }
    // One line: "x-pad:" and its value.
    for (size, within) in edges(Limit::AlbHeaderLine) {
        let r = exchange(alb.addr(), &get_request("/p", &pad(size - 6))).await;
        let what = format!("header line of {size}");
        if within {
            served(&r, &what);
        } else {
            alb_refused(&r, &what);
        }
    }
    // The block: "host:x" CRLF (8) and four lines "x-pN:" v CRLF (7 + v),
    // each under the line limit.
    for (size, within) in edges(Limit::AlbHeaders) {
        let values = size - 8 - 4 * 7;
        let lines: Vec<(String, String)> = (0..4)
            .map(|i| {
                let v = values / 4 + usize::from(i < values % 4);
                (format!("x-p{i}"), "a".repeat(v))
            })
            .collect();
        let r = exchange(alb.addr(), &get_request("/p", &lines)).await;
        let what = format!("header block of {size}");
        if within {
            served(&r, &what);
        } else {
            alb_refused(&r, &what);
        }
    }
}

#[tokio::test]
async fn lambda_heads_of_1_mib_of_request_line_and_values_are_served_and_more_get_431() {
    let dir = TempDir::new("limits-lambda-head");
    let furl = door(&dir, "function-url", &[]);
    for (size, within) in edges(Limit::LambdaHead) {
        let r = exchange(furl.addr(), &get_request("/p", &pad(size - 16))).await;
        if within {
            served(&r, &format!("Function URL head of {size}"));
        } else {
            assert_eq!(r.status, 431, "{}", r.head);
            assert_eq!(r.text(), r#"{"message":"Request Header Fields Too Large"}"#);
        }
    }
    // Lambda's Invoke API on the same port: its request line, and the
    // values "x", "2" (Content-Length) and the pad.
    let line = "POST /2015-03-31/functions/function/invocations HTTP/1.1";
    for (size, within) in edges(Limit::LambdaHead) {
        let v = size - line.len() - 2;
        let req = format!(
            "{line}\r\nhost:x\r\ncontent-length:2\r\nx-pad:{}\r\n\r\n{{}}",
            "a".repeat(v)
        );
        let r = exchange(furl.addr(), req.as_bytes()).await;
        if within {
            assert_eq!(r.status, 200, "Invoke API head of {size}: {}", r.head);
        } else {
            assert_eq!(r.status, 431, "{}", r.head);
        }
    }
}

#[tokio::test]
async fn hypers_own_bounds_sit_past_every_front_doors() {
    let dir = TempDir::new("limits-hyper");
    let furl = door(&dir, "function-url", &[]);
    // The raw head: "GET /p HTTP/1.1" CRLF (17), "host:x" CRLF (8), lines
    // of long names and empty values (name ":" CRLF), the last CRLF (2).
    // Names are not values: Lambda's 1 MiB of values is never reached.
    for (size, within) in edges(Limit::RawHead) {
        let mut names = size - 27;
        let mut lines = Vec::new();
        while names > 0 {
            let n = names.min(60_003) - 3;
            let prefix = format!("n{}-", lines.len());
            lines.push((
                format!("{prefix}{}", "a".repeat(n - prefix.len())),
                String::new(),
            ));
            names -= n + 3;
        }
        let r = exchange(furl.addr(), &get_request("/p", &lines)).await;
        if within {
            served(&r, &format!("raw head of {size}"));
        } else {
            assert_eq!(r.status, 431, "{}", r.head);
            assert!(r.body.is_empty());
        }
    }
    // Header lines, Host among them.
    for (lines, within) in edges(Limit::HeaderLines) {
        let more: Vec<(String, String)> = (1..lines)
            .map(|i| (format!("h{i}"), String::new()))
            .collect();
        let r = exchange(furl.addr(), &get_request("/p", &more)).await;
        if within {
            served(&r, &format!("{lines} header lines"));
        } else {
            assert_eq!(r.status, 431, "{}", r.head);
        }
    }
    // The request target.
    for (size, within) in edges(Limit::RequestTarget) {
        let target = format!("/{}", "a".repeat(size - 1));
        let r = exchange(furl.addr(), &get_request(&target, &[])).await;
        if within {
            served(&r, &format!("a target of {size}"));
        } else {
            assert_eq!(r.status, 414, "{}", r.head);
        }
    }
}

// ---- The front doors: request bodies and the event ----

#[tokio::test]
async fn api_gateway_bodies_of_10_mib_reach_lambdas_limit_and_more_get_api_gateways_413() {
    let dir = TempDir::new("limits-apigw-body");
    let rest = door(&dir, "rest-api", &[]);
    let ct = [("content-type", "text/plain")];
    for (size, within) in edges(Limit::ApiGatewayBody) {
        let r = post(rest.addr(), "/p", &ct, vec![b'a'; size]).await;
        assert_eq!(r.status, 413, "{size}");
        if within {
            // Within API Gateway's limit: passed on, and the event is too
            // large for Lambda (koki-develop/lgtm-generator#10).
            assert_eq!(r.json(), serde_json::json!({"message": "Request Too Long"}));
            assert_eq!(
                r.header("x-amzn-errortype").as_deref(),
                Some("BadRequestException")
            );
        } else {
            assert_eq!(
                r.header("content-type").as_deref(),
                Some("text; charset=utf-8")
            );
            assert_eq!(r.text(), "HTTP content length exceeded 10485760 bytes.");
        }
    }
    // An HTTP API's answers are alike (neither is documented); only
    // portside-local's log tells API Gateway's limit from Lambda's.
    let http = door(&dir, "http-api", &[]);
    let said = |l: &Local| l.stderr().matches("request body is over its limit").count();
    for (size, within) in edges(Limit::ApiGatewayBody) {
        let before = said(&http);
        let r = post(http.addr(), "/p", &ct, vec![b'a'; size]).await;
        assert_eq!(
            (r.status, r.json()["message"].as_str()),
            (413, Some("Request Entity Too Large"))
        );
        assert_eq!(said(&http) - before, usize::from(!within), "{size}");
    }
}

/// The event's size for a body of `body` bytes, as the runtime reads it,
/// is the body's plus a fixed overhead: measured once, with as many
/// Content-Length digits as the bodies at the edge.
async fn event_overhead(addr: &str) -> usize {
    let body = 6_000_000;
    let r = post(
        addr,
        "/p",
        &[("content-type", "text/plain")],
        vec![b'a'; body],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.text().parse::<usize>().expect("the event's length") - body
}

#[tokio::test]
async fn an_event_of_6291455_bytes_is_invoked_and_one_byte_more_is_refused() {
    let dir = TempDir::new("limits-event");
    for source in ["http-api", "rest-api", "function-url", "lattice-v2"] {
        let local = door(&dir, source, &[]);
        let overhead = event_overhead(local.addr()).await;
        for (size, within) in edges(Limit::Event) {
            let body = vec![b'a'; size - overhead];
            let r = post(local.addr(), "/p", &[("content-type", "text/plain")], body).await;
            if within {
                assert_eq!((r.status, r.text()), (200, size.to_string()), "{source}");
                continue;
            }
            assert_eq!(r.status, 413, "{source}: {}", r.text());
            if source == "rest-api" {
                assert_eq!(r.json()["message"], "Request Too Long");
                assert_eq!(
                    r.header("x-amzn-errortype").as_deref(),
                    Some("BadRequestException")
                );
            }
        }
    }
}

#[tokio::test]
async fn alb_bodies_of_1_mib_are_invoked_and_more_get_its_413() {
    let dir = TempDir::new("limits-alb-body");
    let alb = door(&dir, "alb", &[]);
    let ct = [("content-type", "application/octet-stream")];
    for (size, within) in edges(Limit::AlbBody) {
        let r = post(alb.addr(), "/p", &ct, vec![7u8; size]).await;
        if within {
            assert_eq!(r.status, 200, "{size}: {}", r.text());
        } else {
            assert_eq!(r.status, 413);
            assert_eq!(r.header("server").as_deref(), Some("awselb/2.0"));
            assert!(r.text().contains("<h1>413 Request Entity Too Large</h1>"));
        }
    }
}

const INVOKE: &str = "/2015-03-31/functions/function/invocations";

/// A JSON payload of exactly `n` bytes.
fn payload(n: usize) -> Vec<u8> {
    format!(r#"{{"p":"{}"}}"#, "a".repeat(n - 8)).into_bytes()
}

#[tokio::test]
async fn invoke_api_payloads_stop_where_lambda_says_with_its_own_words() {
    let dir = TempDir::new("limits-invoke");
    let local = door(&dir, "http-api", &[]);
    // Synchronous: "Request must be smaller than 6291456 bytes", so
    // 6,291,455 is the largest; 6,291,457 is refused as well.
    let past = Limit::InvokePayload.max() + 2;
    for (size, within) in edges(Limit::InvokePayload)
        .into_iter()
        .chain([(past, false)])
    {
        let r = post(local.addr(), INVOKE, &[], payload(size)).await;
        if within {
            assert_eq!(r.status, 200, "{size}: {}", r.text());
            assert_eq!(
                r.json()["body"],
                size.to_string(),
                "the function read it whole"
            );
            continue;
        }
        assert_eq!(r.status, 413);
        assert_eq!(
            r.header("x-amzn-errortype").as_deref(),
            Some("RequestEntityTooLargeException")
        );
        assert_eq!(
            r.json()["message"],
            "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
        );
    }
    // Asynchronous: 1 MB.
    let event = [("x-amz-invocation-type", "Event")];
    for (size, within) in edges(Limit::AsyncPayload) {
        let r = post(local.addr(), INVOKE, &event, payload(size)).await;
        if within {
            assert_eq!(r.status, 202, "{size}: {}", r.text());
            continue;
        }
        assert_eq!(r.status, 413);
        assert_eq!(
            r.header("x-amzn-errortype").as_deref(),
            Some("RequestEntityTooLargeException")
        );
        assert_eq!(
            r.json()["message"],
            format!("{size} byte payload is too large for the Event invocation type (limit 1048576 bytes)")
        );
    }
}

// ---- The front doors: results ----

#[tokio::test]
async fn an_alb_takes_results_of_1_mib_and_headers_of_32_kib_and_answers_more_with_its_502() {
    let dir = TempDir::new("limits-alb-result");
    let alb = door(&dir, "alb", &[]);
    for (size, within) in edges(Limit::AlbResult) {
        let r = get(alb.addr(), &format!("/result/{size}"), &[]).await;
        if within {
            assert_eq!(r.status, 200, "{size}");
            assert_eq!(
                r.body.len(),
                size - r#"{"statusCode": 200, "body": ""}"#.len()
            );
        } else {
            assert_eq!(r.status, 502);
            assert!(r.text().contains("<h1>502 Bad Gateway</h1>"));
        }
    }
    for (size, within) in edges(Limit::AlbResponseHeaders) {
        let r = get(alb.addr(), &format!("/headers/{size}"), &[]).await;
        if within {
            assert_eq!(r.status, 200, "{size}");
            assert_eq!(r.header("x-pad").map(|v| v.len()), Some(size - 8));
        } else {
            assert_eq!(r.status, 502);
            assert!(r.text().contains("<h1>502 Bad Gateway</h1>"));
        }
    }
}

#[tokio::test]
async fn a_rest_api_streams_after_a_prelude_of_16_kib_and_answers_a_longer_one_with_502() {
    let dir = TempDir::new("limits-prelude");
    let rest = door(&dir, "rest-api", &["--response-stream"]);
    for (size, within) in edges(Limit::RestStreamPrelude) {
        let r = get(rest.addr(), &format!("/prelude/{size}"), &[]).await;
        if within {
            assert_eq!((r.status, r.text().as_str()), (200, "ok"), "{size}");
        } else {
            assert_eq!(r.status, 502);
            assert_eq!(
                r.json(),
                serde_json::json!({"message": "Internal server error"})
            );
        }
    }
}

// ---- Lambda's APIs ----

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

async fn start_api() -> (RuntimeApi, String) {
    let api = RuntimeApi::start(Config::default()).await.expect("start");
    let addr = api.runtime_api_env();
    (api, addr)
}

/// Starts an invocation and takes it from `/next` as the runtime: its id.
async fn next(
    api: &RuntimeApi,
    addr: &str,
    opts: InvokeOptions,
) -> (portside_local::runtime_api::Invocation, String) {
    let a = addr.to_string();
    let runtime = tokio::spawn(async move { get(&a, NEXT, &[]).await });
    let inv = api.start_invoke("{}", opts).expect("accepted");
    let id = runtime
        .await
        .expect("join")
        .header("lambda-runtime-aws-request-id")
        .expect("id");
    (inv, id)
}

/// The invocation failed with Lambda's error for a result too large.
fn too_large(outcome: &Outcome, limit: usize) {
    let Outcome::Error(e) = outcome else {
        panic!("expected Function.ResponseSizeTooLarge, got {outcome:?}")
    };
    assert_eq!(e.error_type, "Function.ResponseSizeTooLarge");
    assert_eq!(
        e.error_message,
        format!("Response payload size exceeded maximum allowed payload size ({limit} bytes).")
    );
}

/// The runtime's post was refused as Lambda's Runtime API refuses it.
fn refused_413(r: &common::Reply, limit: usize) {
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.json()["errorType"], "RequestEntityTooLarge");
    assert_eq!(
        r.json()["errorMessage"],
        format!("Exceeded maximum allowed payload size ({limit} bytes).")
    );
}

#[test]
fn the_buffered_result_limit_is_the_adapters() {
    assert_eq!(
        portside_local::runtime_api::MAX_BUFFERED_RESPONSE_BYTES,
        portside::testing::limits::Limit::BufferedResult.max()
    );
    assert_eq!(
        Limit::BufferedResult.max(),
        portside::testing::limits::Limit::BufferedResult.max()
    );
}

#[tokio::test]
async fn a_buffered_result_of_6291556_bytes_is_delivered_and_one_byte_more_is_lambdas_error() {
    let (api, addr) = start_api().await;
    for (size, within) in edges(Limit::BufferedResult) {
        let (inv, id) = next(&api, &addr, InvokeOptions::new()).await;
        let path = format!("/2018-06-01/runtime/invocation/{id}/response");
        let r = post(&addr, &path, &[], vec![b'r'; size]).await;
        let outcome = inv.outcome().await;
        if within {
            assert_eq!(r.status, 202, "{size}");
            assert!(
                matches!(&outcome, Outcome::Response(b) if b.len() == size),
                "{size}"
            );
        } else {
            refused_413(&r, size - 1);
            too_large(&outcome, size - 1);
        }
    }
}

#[tokio::test]
async fn every_other_document_a_runtime_posts_has_the_same_limit() {
    let limit = Limit::BufferedResult.max();
    for (size, within) in edges(Limit::BufferedResult) {
        let doc = vec![b'e'; size];
        // `/invocation/{id}/error`.
        let (api, addr) = start_api().await;
        let (inv, id) = next(&api, &addr, InvokeOptions::new()).await;
        let path = format!("/2018-06-01/runtime/invocation/{id}/error");
        let r = post(&addr, &path, &[], doc.clone()).await;
        let outcome = inv.outcome().await;
        if within {
            assert_eq!(r.status, 202, "/error of {size}");
            assert!(matches!(&outcome, Outcome::Error(e) if e.raw.len() == size));
        } else {
            refused_413(&r, limit);
            too_large(&outcome, limit);
        }
        // `/init/error`, the runtime's and an extension's.
        let (api, addr) = start_api().await;
        let r = post(&addr, "/2018-06-01/runtime/init/error", &[], doc.clone()).await;
        init_error_seen(&api, &r, size, within).await;
        let (api, addr) = start_api().await;
        let ext = common::post(
            &addr,
            "/2020-01-01/extension/register",
            &[("Lambda-Extension-Name", "ext")],
            r#"{"events":["INVOKE"]}"#,
        )
        .await
        .header("lambda-extension-identifier")
        .expect("registered");
        let headers = [("Lambda-Extension-Identifier", ext.as_str())];
        let r = post(
            &addr,
            "/2020-01-01/extension/init/error",
            &headers,
            doc.clone(),
        )
        .await;
        init_error_seen(&api, &r, size, within).await;
        // `/restore/error`.
        let (api, addr) = start_api().await;
        let r = post(&addr, "/2018-06-01/runtime/restore/error", &[], doc).await;
        if within {
            assert_eq!(r.status, 202);
            assert_eq!(api.restore_error().map(|e| e.raw.len()), Some(size));
        } else {
            refused_413(&r, limit);
            assert!(api.restore_error().is_none());
        }
    }
}

async fn init_error_seen(api: &RuntimeApi, r: &common::Reply, size: usize, within: bool) {
    if within {
        assert_eq!(r.status, 202, "{size}: {}", r.text());
        assert!(matches!(api.init_state(), InitState::Failed(e) if e.raw.len() == size));
    } else {
        refused_413(r, Limit::BufferedResult.max());
        assert_eq!(
            api.init_state(),
            InitState::Pending,
            "not recorded, nor cut"
        );
    }
}

/// Posts a streamed response of `size` bytes in 1 MiB chunks (`first`
/// before them), with `trailers`: the runtime's status.
async fn stream_out(
    addr: &str,
    id: &str,
    content_type: &str,
    pieces: &[&[u8]],
    size: usize,
    trailers: &[(&str, &str)],
) -> u16 {
    let path = format!("/2018-06-01/runtime/invocation/{id}/response");
    let headers = [
        ("Lambda-Runtime-Function-Response-Mode", "streaming"),
        ("Content-Type", content_type),
    ];
    let mut post = RawChunkedPost::start(addr.parse().expect("addr"), &path, &headers).await;
    let mut sent = 0;
    for p in pieces {
        post.chunk(p).await;
        sent += p.len();
    }
    let block = vec![b's'; 8 << 20];
    while sent < size {
        let n = block.len().min(size - sent);
        post.chunk(&block[..n]).await;
        sent += n;
    }
    post.finish(trailers).await.0
}

#[tokio::test]
async fn a_stream_of_200_mib_is_delivered_and_one_byte_more_is_lambdas_error() {
    let (api, addr) = start_api().await;
    for (size, within) in edges(Limit::StreamedResult) {
        let (inv, id) = next(&api, &addr, InvokeOptions::new()).await;
        let status = stream_out(&addr, &id, "application/octet-stream", &[], size, &[]).await;
        let outcome = inv.outcome().await;
        if within {
            assert_eq!(status, 202, "{size}");
            assert!(matches!(&outcome, Outcome::Streamed(s) if s.raw.len() == size));
        } else {
            assert_eq!(status, 413);
            too_large(&outcome, size - 1);
        }
    }
}

#[tokio::test]
async fn a_prelude_delimiter_within_1_mib_is_found_however_chunked_and_past_it_is_body() {
    let (api, addr) = start_api().await;
    let ct = "application/vnd.awslambda.http-integration-response";
    for (size, within) in edges(Limit::StreamPrelude) {
        let (mut inv, id) = next(&api, &addr, InvokeOptions::new().watch_stream(true)).await;
        let mut events = inv.take_stream().expect("watched");
        // The prelude, then the delimiter split across two chunks.
        let mut stream = vec![b'p'; size];
        stream.extend_from_slice(&[0; 8]);
        stream.extend_from_slice(b"body");
        let (a, b) = stream.split_at(size + 3);
        let status = stream_out(&addr, &id, ct, &[a, b], 0, &[]).await;
        assert_eq!(status, 202);
        let mut first = None;
        while let Some(ev) = events.recv().await {
            match ev {
                StreamEvent::Prelude(_) | StreamEvent::Body(_) if first.is_none() => {
                    first = Some(ev)
                }
                _ => {}
            }
        }
        let Outcome::Streamed(s) = inv.outcome().await else {
            panic!("a stream")
        };
        if within {
            assert_eq!(s.prelude.as_ref().map(|p| p.len()), Some(size));
            assert_eq!(&s.body[..], b"body");
            assert!(matches!(first, Some(StreamEvent::Prelude(p)) if p.len() == size));
        } else {
            assert_eq!(s.prelude, None, "all body");
            assert_eq!(s.body.len(), size + 12);
            assert!(matches!(first, Some(StreamEvent::Body(_))));
        }
    }
}

#[tokio::test]
async fn stream_trailers_of_1_mib_are_read_and_more_truncate_the_response() {
    let (api, addr) = start_api().await;
    // "Lambda-Runtime-Function-Error-Type: Boom" CRLF (42),
    // "x-pad: " v CRLF (9 + v), the last CRLF (2).
    for (size, within) in edges(Limit::StreamTrailers) {
        let (inv, id) = next(&api, &addr, InvokeOptions::new()).await;
        let v = "a".repeat(size - 42 - 9 - 2);
        let trailers = [
            ("Lambda-Runtime-Function-Error-Type", "Boom"),
            ("x-pad", v.as_str()),
        ];
        let status = stream_out(&addr, &id, "text/plain", &[b"part"], 0, &trailers).await;
        let outcome = inv.outcome().await;
        if within {
            assert_eq!(status, 202, "{size}");
            let Outcome::Streamed(s) = outcome else {
                panic!("a stream: {outcome:?}")
            };
            assert_eq!(s.error.map(|e| e.error_type).as_deref(), Some("Boom"));
        } else {
            assert_eq!(status, 400);
            assert!(
                matches!(&outcome, Outcome::Error(e) if e.error_type == "Runtime.TruncatedResponse"),
                "{outcome:?}"
            );
        }
    }
}

#[tokio::test]
async fn an_oversized_body_is_read_up_to_256_mib_before_its_413_and_no_further() {
    let (api, addr) = start_api().await;
    let declared = Limit::Drain.max() + (16 << 20);
    for (sent, within) in edges(Limit::Drain) {
        let (inv, id) = next(&api, &addr, InvokeOptions::new()).await;
        let mut s = TcpStream::connect(&addr).await.expect("connect");
        let head = format!(
            "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nhost:x\r\ncontent-length:{declared}\r\n\r\n"
        );
        let started = std::time::Instant::now();
        s.write_all(head.as_bytes()).await.expect("head");
        let block = vec![b'd'; 8 << 20];
        let mut left = sent;
        while left > 0 {
            let n = left.min(block.len());
            s.write_all(&block[..n]).await.expect("body");
            left -= n;
        }
        // Lambda's error at once: the declared length is over the limit.
        too_large(&inv.outcome().await, Limit::BufferedResult.max());
        let mut answer = [0u8; 12];
        let read =
            tokio::time::timeout(Duration::from_millis(500), s.read_exact(&mut answer)).await;
        // Draining gives up after 10 s as well: the bytes must arrive before.
        assert!(
            started.elapsed() < Duration::from_secs(9),
            "sending took {:?}: too slow to tell the byte bound from the time bound",
            started.elapsed()
        );
        if within {
            assert!(read.is_err(), "{sent}: still reading, no answer yet");
        } else {
            read.expect("answered once past the bound").expect("read");
            assert_eq!(&answer, b"HTTP/1.1 413", "{sent}");
        }
    }
}

#[tokio::test]
async fn runtime_api_heads_of_1_mib_are_read_and_more_get_431() {
    let (_api, addr) = start_api().await;
    // "POST /2018-06-01/runtime/invocation/none/response HTTP/1.1" CRLF,
    // "host:x" CRLF, "content-length:0" CRLF, "x-pad:" v CRLF, CRLF.
    let line = "POST /2018-06-01/runtime/invocation/none/response HTTP/1.1\r\n";
    for (size, within) in edges(Limit::RuntimeApiHead) {
        let v = size - line.len() - 8 - 18 - 8 - 2;
        let req = format!(
            "{line}host:x\r\ncontent-length:0\r\nx-pad:{}\r\n\r\n",
            "a".repeat(v)
        );
        assert_eq!(req.len(), size);
        let r = exchange(&addr, req.as_bytes()).await;
        if within {
            // Read whole: the request id is what is wrong with it.
            assert_eq!(r.status, 400, "{size}: {}", r.head);
            assert!(r.text().contains("InvalidRequestID"));
        } else {
            assert_eq!(r.status, 431, "{}", r.head);
        }
    }
}

#[tokio::test]
async fn a_registration_of_64_kib_is_read_and_more_is_refused_naming_the_limit() {
    let (api, addr) = start_api().await;
    for (size, within) in edges(Limit::ExtensionRegistration) {
        let events = r#"{"events":["INVOKE"]}"#;
        let body = format!("{events}{}", " ".repeat(size - events.len()));
        let name = format!("ext-{size}");
        let r = common::post(
            &addr,
            "/2020-01-01/extension/register",
            &[("Lambda-Extension-Name", name.as_str())],
            body,
        )
        .await;
        if within {
            assert_eq!(r.status, 200, "{size}: {}", r.text());
        } else {
            assert_eq!(r.status, 400);
            assert_eq!(r.json()["errorType"], "Extension.InvalidRequest");
            assert!(r.text().contains("65,536 bytes"), "{}", r.text());
        }
    }
    let names: Vec<String> = api.extensions().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["ext-65535", "ext-65536"]);
}

// ---- portside-local web ----

#[tokio::test]
async fn a_web_function_takes_6300_header_lines_and_more_get_431() {
    let app = r#"
const http = require('http');
const [host, port] = process.env.AWS_LAMBDA_HTTP_ENDPOINT.split(':');
// Node's own default is 16 KiB of headers: 6,300 lines need more.
const server = http.createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
  const n = req.rawHeaders.filter((h, i) => i % 2 === 0 && /^h[0-9]+$/.test(h)).length;
  res.end(String(n));
});
server.maxHeadersCount = 0;
server.listen(Number(port), host);
"#;
    let dir = TempDir::new("limits-web");
    std::fs::write(dir.path().join("index.js"), app).expect("write the app");
    let local = Local::start(Launch::new(&["web"]).cwd(dir.path()));
    for (lines, within) in edges(Limit::WebHeaderLines) {
        let more: Vec<(String, String)> =
            (1..lines).map(|i| (format!("h{i}"), "v".into())).collect();
        let r = exchange(local.addr(), &get_request("/", &more)).await;
        if within {
            assert_eq!(r.status, 200, "{lines}: {}", local.stderr());
            assert_eq!(
                r.text(),
                (lines - 1).to_string(),
                "every line reached the app"
            );
        } else {
            assert_eq!(r.status, 431);
        }
    }
}
