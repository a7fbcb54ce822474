//! The portside-local binary end to end: real front door, real Runtime
//! API, real runtimes (AWS's awslambdaric for Python, and small Python
//! programs speaking the protocol by hand).

mod common;

use common::{post, request, venv_python, write_exec, TempDir};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `portside-local`, stopped with SIGINT (so it shuts the
/// function down) when dropped.
struct Served {
    child: Child,
    addr: String,
}

impl Served {
    fn start(args: &[&str], python: Option<&Path>) -> Served {
        Served::start_with_env(args, python, &[])
    }

    fn start_with_env(args: &[&str], python: Option<&Path>, env: &[(&str, &Path)]) -> Served {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portside-local"));
        cmd.envs(env.iter().copied());
        cmd.args(args)
            .arg("--port")
            .arg("0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(p) = python {
            cmd.env("PORTSIDE_LOCAL_PYTHON", p);
        }
        let mut child = cmd.spawn().expect("spawn portside-local");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("portside-local exited before its front door was up")
                .expect("read");
            if let Some(rest) = line.split(" is up at http://").nth(1) {
                break rest
                    .trim_end_matches('/')
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .to_string();
            }
        };
        // Keep draining stdout so the child never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        Served { child, addr }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // SAFETY: signalling our own child process.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let _ = self.child.wait();
    }
}

const HANDLER: &str = r#"
import base64, json
def fn(event, context):
    if event.get("fail"):
        raise ValueError("bad input")
    if "rawPath" in event:
        return {"statusCode": 201, "headers": {"x-path": event["rawPath"]}, "cookies": ["a=1", "b=2"],
                "body": base64.b64encode(b"\x00\x01binary").decode(), "isBase64Encoded": True}
    return {"echo": event, "request_id": context.aws_request_id,
            "remaining_ok": context.get_remaining_time_in_millis() > 0,
            "function_name": context.function_name}
"#;

#[tokio::test]
async fn awslambdaric_runs_a_plain_python_handler() {
    let python = venv_python();
    let dir = TempDir::new("ric");
    std::fs::write(dir.path().join("handler.py"), HANDLER).expect("write");
    let fdir = dir.path().display().to_string();
    let served = Served::start(
        &[
            "--function",
            &fdir,
            "--runtime",
            "python3.12",
            "--handler",
            "handler.fn",
            "--name",
            "ric-fn",
            "--quiet",
        ],
        Some(&python),
    );
    let invoke = "/2015-03-31/functions/ric-fn/invocations";
    // Buffered, twice: the second runs in the thawed sandbox.
    for n in 0..2 {
        let r = post(&served.addr, invoke, &[], format!(r#"{{"n":{n}}}"#)).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.header("x-amz-function-error").is_none());
        let body = r.json();
        assert_eq!(body["echo"]["n"], n);
        assert_eq!(body["remaining_ok"], true);
        assert_eq!(body["function_name"], "ric-fn");
        assert_eq!(body["request_id"].as_str().map(str::len), Some(36));
    }
    // An exception: Lambda's error document and X-Amz-Function-Error.
    let r = post(&served.addr, invoke, &[], r#"{"fail":true}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-amz-function-error").as_deref(),
        Some("Unhandled")
    );
    let body = r.json();
    assert_eq!(body["errorType"], "ValueError");
    assert_eq!(body["errorMessage"], "bad input");
    // Through the front door as an HTTP API request.
    let r = request(&served.addr, "GET", "/some/path?x=1", &[], "").await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("x-path").as_deref(), Some("/some/path"));
    assert_eq!(r.headers.get_all("set-cookie").iter().count(), 2);
    assert_eq!(&r.body[..], b"\x00\x01binary");
    // An oversized request is refused as Lambda refuses it.
    let r = post(&served.addr, invoke, &[], vec![b' '; 6 * 1024 * 1024 + 1]).await;
    assert_eq!(r.status, 413);
    assert_eq!(
        r.header("x-amzn-errortype").as_deref(),
        Some("RequestEntityTooLargeException")
    );
}

#[test]
fn invoke_prints_the_result_json() {
    let python = venv_python();
    let dir = TempDir::new("invoke");
    std::fs::write(dir.path().join("handler.py"), HANDLER).expect("write");
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"k":"v"}"#).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_portside-local"))
        .args(["invoke", "--event-file"])
        .arg(&event)
        .args(["--function"])
        .arg(dir.path())
        .args([
            "--runtime",
            "python3.12",
            "--handler",
            "handler.fn",
            "--quiet",
        ])
        .env("PORTSIDE_LOCAL_PYTHON", &python)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is the result JSON");
    assert_eq!(v["echo"]["k"], "v");
}

/// A provided.al2023 runtime that echoes the event as a REST/ALB-style
/// result, or streams a Function URL response in two parts with a gate
/// file in between.
const ECHO_RUNTIME: &str = r#"#!/usr/bin/env python3
import base64, http.client, json, os, time, urllib.request
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
base = "http://%s/2018-06-01/runtime" % api
gate = os.path.join(os.environ["LAMBDA_TASK_ROOT"], "gate")
while True:
    with urllib.request.urlopen(base + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    if os.environ.get("STREAM"):
        host, port = api.split(":")
        conn = http.client.HTTPConnection(host, int(port))
        conn.putrequest("POST", "/2018-06-01/runtime/invocation/%s/response" % rid)
        conn.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
        conn.putheader("Content-Type", "application/vnd.awslambda.http-integration-response")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        def chunk(data):
            conn.send(b"%x\r\n%s\r\n" % (len(data), data))
        chunk(json.dumps({"statusCode": 200, "headers": {"content-type": "text/plain"}}).encode() + b"\0" * 8)
        chunk(b"first,")
        while not os.path.exists(gate):
            time.sleep(0.01)
        chunk(b"second")
        conn.send(b"0\r\n\r\n")
        conn.getresponse().read()
        continue
    body = event.get("body") or ""
    result = {"statusCode": 200, "statusDescription": "200 OK",
              "multiValueHeaders": {"set-cookie": ["a=1", "b=2"], "x-event": [json.dumps(event)[:1]]},
              "body": body, "isBase64Encoded": event.get("isBase64Encoded", False)}
    keys = ",".join(sorted(event.keys()))
    # Both fields: each source reads the one(s) it documents.
    result["headers"] = {"x-event-keys": keys}
    result["multiValueHeaders"]["x-event-keys"] = [keys]
    urllib.request.urlopen(urllib.request.Request(base + "/invocation/%s/response" % rid,
        data=json.dumps(result).encode(), method="POST"))
"#;

#[tokio::test]
async fn rest_api_and_alb_events_round_trip_binary_bodies() {
    let dir = TempDir::new("echo");
    write_exec(&dir.path().join("bootstrap"), ECHO_RUNTIME);
    let fdir = dir.path().display().to_string();
    for (source, key) in [
        ("rest-api", "multiValueHeaders"),
        ("alb-multi", "multiValueHeaders"),
        ("alb", "headers"),
    ] {
        let served = Served::start(&["--function", &fdir, "--event", source, "--quiet"], None);
        let png = vec![0x89u8, b'P', b'N', b'G', 0, 0xff, 0xfe];
        let r = request(
            &served.addr,
            "POST",
            "/upload?a=1",
            &[("content-type", "image/png")],
            png.clone(),
        )
        .await;
        assert_eq!(r.status, 200, "{source}: {}", r.text());
        assert_eq!(
            r.body.as_ref(),
            &png[..],
            "{source}: binary body survives base64 both ways"
        );
        let keys = r.header("x-event-keys").unwrap_or_default();
        assert!(keys.split(',').any(|k| k == key), "{source}: {keys}");
        assert!(
            keys.split(',').any(|k| k == "requestContext"),
            "{source}: {keys}"
        );
        if source != "alb" {
            assert_eq!(
                r.headers.get_all("set-cookie").iter().count(),
                2,
                "{source}"
            );
        }
    }
}

#[tokio::test]
async fn a_layer_zip_is_unpacked_for_the_run_and_removed_after_a_stop_signal() {
    let dir = TempDir::new("layer-zip");
    let function = dir.path().join("function");
    write_exec(&function.join("bootstrap"), ECHO_RUNTIME);
    let zip_path = dir.path().join("layer.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).expect("create"));
        let exec = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        zip.add_directory("extensions/", exec).expect("dir");
        zip.start_file("bin/tool", exec).expect("file");
        zip.write_all(b"#!/bin/sh\necho tool\n").expect("write");
        zip.finish().expect("finish");
    }
    // The child's temporary folder: what it unpacks, and whether it cleans up.
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp");
    let leftovers = || -> Vec<String> {
        std::fs::read_dir(&tmp)
            .expect("read tmp")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| {
                name.starts_with("portside-local-layer-") || name.starts_with("portside-local-env-")
            })
            .collect()
    };
    let served = Served::start_with_env(
        &[
            "--function",
            &function.display().to_string(),
            "--runtime",
            "provided.al2023",
            "--layer",
            &zip_path.display().to_string(),
            "--quiet",
        ],
        None,
        &[("TMPDIR", &tmp)],
    );
    let r = request(&served.addr, "GET", "/", &[], "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        leftovers().len(),
        2,
        "the layer is unpacked and the environment has its /tmp while it runs: {:?}",
        leftovers()
    );
    drop(served); // SIGINT, then wait for the exit
    assert_eq!(
        leftovers(),
        Vec::<String>::new(),
        "the unpacked layer and the environments' /tmp are removed"
    );
}

#[test]
fn streamed_function_url_bytes_arrive_before_the_function_finishes() {
    let dir = TempDir::new("stream");
    write_exec(&dir.path().join("bootstrap"), ECHO_RUNTIME);
    let fdir = dir.path().display().to_string();
    let served = Served::start(
        &[
            "--function",
            &fdir,
            "--event",
            "function-url",
            "--response-stream",
            "--env",
            "STREAM=1",
            "--quiet",
        ],
        None,
    );
    let mut conn = std::net::TcpStream::connect(&served.addr).expect("connect");
    write!(
        conn,
        "GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    .expect("send");
    // Read until the first body bytes are in: the function is still blocked
    // on its gate file, so it cannot have finished.
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains("first,") {
        let n = conn.read(&mut buf).expect("read");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&got).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain"),
        "{head}"
    );
    assert!(!head.contains("second"));
    std::fs::write(dir.path().join("gate"), "").expect("open the gate");
    conn.read_to_end(&mut got).expect("read rest");
    let all = String::from_utf8_lossy(&got).to_string();
    let body_start = all.find("\r\n\r\n").expect("head end") + 4;
    // Chunked framing aside, both parts arrived in order.
    let body = &all[body_start..];
    assert!(
        body.find("first,").expect("first") < body.find("second").expect("second"),
        "{body}"
    );
}

#[test]
fn a_missing_adapter_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_portside-local"))
        .args(["--adapter", "/nonexistent/portside", "--", "true"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--adapter /nonexistent/portside does not exist"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_portside-local"))
        .arg("--bogus")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--help"));
}
