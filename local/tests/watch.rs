//! `--watch` end to end: the short form with the real adapter and a real
//! Python app over real sockets. A change under the folder is picked up by
//! the next request; a burst of changes restarts once; ignored paths do not
//! restart; a failed `--watch-build` keeps the old code serving; a request
//! in flight finishes on the old code, and the old environment is stopped
//! as Lambda stops it (SIGTERM to the app). With `--function DIR` and the
//! real portside layer: a change in DIR is served by the next request, and
//! an external extension of the layer gets Lambda's SHUTDOWN (spindown).
//!
//! Needs the adapter built next to portside-local (`cargo build -p
//! portside`; `cargo test --workspace` builds it).

mod common;

use common::local::{adapter_binary, free_port, portside_layer, Launch, Local};
use common::{get, write_exec, TempDir};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Answers `{"version": VERSION, "pid": ...}`; `/sleep/S` first sleeps S
/// seconds; on SIGTERM it says so and exits.
const APP: &str = r#"
import json, os, signal, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from version import VERSION

def stop(*_):
    print("app %d got SIGTERM" % os.getpid(), file=sys.stderr, flush=True)
    os._exit(0)
signal.signal(signal.SIGTERM, stop)

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/sleep/"):
            time.sleep(float(self.path[len("/sleep/"):]))
        body = json.dumps({"version": VERSION, "pid": os.getpid()}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"#;

fn folder(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    std::fs::write(dir.path().join("app.py"), APP).expect("write app");
    set_version(&dir, "v1");
    std::fs::create_dir_all(dir.path().join("node_modules/pkg")).expect("mkdir");
    std::fs::write(dir.path().join(".gitignore"), "*.log\n").expect("write");
    dir
}

fn set_version(dir: &TempDir, v: &str) {
    std::fs::write(dir.path().join("version.py"), format!("VERSION = {v:?}\n"))
        .expect("write version");
}

fn serve(dir: &TempDir, extra: &[&str]) -> Local {
    adapter_binary();
    let port = format!("PORT={}", free_port());
    // No bytecode: Python checks a cached .pyc by its source's size and
    // mtime in whole seconds, so a version.py rewritten (to a value of the
    // same length) within the second it was imported would be read from
    // the stale cache, and the new code never served.
    let mut args = vec![
        "--env",
        port.as_str(),
        "--env",
        "PYTHONDONTWRITEBYTECODE=1",
        "--watch",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "python3", "app.py"]);
    let local = Local::start(Launch::new(&args).cwd(dir.path()));
    assert!(
        local.stdout.contains(" is up at "),
        "not up:\n{}",
        local.stderr()
    );
    assert!(
        local.stderr().contains("portside-local: watching "),
        "{}",
        local.stderr()
    );
    local
}

async fn version(local: &Local) -> (String, i64) {
    let r = get(local.addr(), "/", &[]).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), local.stderr());
    let v = r.json();
    (
        v["version"].as_str().unwrap_or("").to_string(),
        v["pid"].as_i64().unwrap_or(0),
    )
}

/// Polls until the app answers with `want`: how long it took.
async fn until_version(local: &Local, want: &str) -> Duration {
    let started = Instant::now();
    loop {
        let r = get(local.addr(), "/", &[]).await;
        if r.status == 200 && r.json()["version"] == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{want} never served:\n{}",
            local.stderr()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn restarts(local: &Local) -> usize {
    local
        .stderr()
        .matches("environment 1 starting (a cold start: the code changed)")
        .count()
}

#[tokio::test]
async fn a_change_is_served_by_the_next_request_after_a_cold_start() {
    let dir = folder("watch-change");
    let local = serve(&dir, &[]);
    let (v, old_pid) = version(&local).await;
    assert_eq!(v, "v1");
    set_version(&dir, "v2");
    let took = until_version(&local, "v2").await;
    eprintln!("measured: change to the new code answering took {took:?}");
    let err = local.wait_for_stderr("environment 1 is up (init", Duration::from_secs(5));
    assert!(
        err.contains("portside-local: version.py changed; restarting the function"),
        "{err}"
    );
    assert_eq!(restarts(&local), 1, "{err}");
    // Stopped as Lambda stops an environment: SIGTERM to the app.
    assert!(err.contains(&format!("app {old_pid} got SIGTERM")), "{err}");
    let (_, new_pid) = version(&local).await;
    assert_ne!(new_pid, old_pid);
}

#[tokio::test]
async fn a_burst_of_changes_restarts_once_and_ignored_paths_not_at_all() {
    let dir = folder("watch-burst");
    let local = serve(&dir, &[]);
    version(&local).await;
    // Not the function's code: no restart.
    std::fs::write(dir.path().join("node_modules/pkg/index.js"), "x").expect("write");
    std::fs::write(dir.path().join("server.log"), "x").expect("write");
    std::fs::write(dir.path().join(".app.py.swp"), "x").expect("write");
    std::fs::create_dir_all(dir.path().join("__pycache__")).expect("mkdir");
    std::fs::write(dir.path().join("__pycache__/x.pyc"), "x").expect("write");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(restarts(&local), 0, "{}", local.stderr());
    // A save that writes several files, like a checkout: one restart.
    for i in 0..5 {
        std::fs::write(dir.path().join(format!("mod{i}.py")), "X = 1\n").expect("write");
    }
    set_version(&dir, "v2");
    until_version(&local, "v2").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let err = local.stderr();
    assert_eq!(restarts(&local), 1, "{err}");
    assert!(err.contains("changed; restarting the function"), "{err}");
    assert!(err.contains("and 5 more changed"), "{err}");
}

#[tokio::test]
async fn a_failed_build_keeps_the_old_code_serving() {
    let dir = folder("watch-build");
    // The "build": fails while version.py says "broken".
    std::fs::write(
        dir.path().join("build.sh"),
        "if grep -q broken version.py; then echo 'error: version.py is broken' >&2; exit 3; fi\necho built\n",
    )
    .expect("write");
    let local = serve(&dir, &["--watch-build", "sh build.sh"]);
    let (_, pid) = version(&local).await;
    set_version(&dir, "broken");
    let err = local.wait_for_stderr("the build failed", Duration::from_secs(10));
    assert!(err.contains("[build] error: version.py is broken"), "{err}");
    assert!(err.contains("the build failed (exit status 3); the running environments keep serving the code from before the change"), "{err}");
    assert_eq!(
        version(&local).await,
        ("v1".to_string(), pid),
        "the old environment serves on"
    );
    assert_eq!(restarts(&local), 0);
    set_version(&dir, "v3");
    until_version(&local, "v3").await;
    assert!(local.stderr().contains("[build] built"));
    assert_eq!(restarts(&local), 1);
}

#[tokio::test]
async fn a_request_in_flight_finishes_on_the_old_code() {
    let dir = folder("watch-drain");
    let local = serve(&dir, &[]);
    let addr = local.addr().to_string();
    let slow = tokio::spawn(async move { get(&addr, "/sleep/1.5", &[]).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    set_version(&dir, "v2");
    let r = slow.await.expect("the slow request");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["version"],
        "v1",
        "it finished on the code it started on"
    );
    until_version(&local, "v2").await;
}

/// An external extension (a layer's `extensions/recorder`): registers for
/// SHUTDOWN, then writes its pid on registering and the event it receives,
/// with the wall-clock time it got it, to `$EXT_LOG`, and exits.
const RECORDER: &str = r#"#!/usr/bin/env python3
import json, os, sys, time, urllib.request
base = "http://%s/2020-01-01/extension" % os.environ["AWS_LAMBDA_RUNTIME_API"]
def record(entry):
    entry["pid"] = os.getpid()
    with open(os.environ["EXT_LOG"], "a") as f:
        f.write(json.dumps(entry) + "\n")
req = urllib.request.Request(base + "/register", data=json.dumps({"events": ["SHUTDOWN"]}).encode(),
                             headers={"Lambda-Extension-Name": "recorder"}, method="POST")
with urllib.request.urlopen(req) as r:
    eid = r.headers["Lambda-Extension-Identifier"]
record({"registered": True})
req = urllib.request.Request(base + "/event/next", headers={"Lambda-Extension-Identifier": eid})
with urllib.request.urlopen(req) as r:
    event = json.loads(r.read())
record({"received_ms": int(time.time() * 1000), "event": event})
sys.exit(0)
"#;

/// A function folder (`DIR/function`, with the app and `run.sh`, the
/// handler that starts it), and the portside layer beside it, with the
/// recorder extension when `recorder`.
fn function_folder(tag: &str, recorder: bool) -> (TempDir, PathBuf, PathBuf) {
    let dir = TempDir::new(tag);
    let function = dir.path().join("function");
    std::fs::create_dir_all(&function).expect("mkdir");
    std::fs::write(function.join("app.py"), APP).expect("write app");
    std::fs::write(function.join("version.py"), "VERSION = \"v1\"\n").expect("write");
    write_exec(&function.join("run.sh"), "#!/bin/sh\nexec python3 app.py\n");
    let layer = portside_layer(dir.path());
    if recorder {
        write_exec(&layer.join("extensions/recorder"), RECORDER);
    }
    (dir, function, layer)
}

/// `--function FUNCTION --layer LAYER --watch`, with `extra` flags.
fn serve_function(function: &Path, layer: &Path, extra: &[&str]) -> Local {
    adapter_binary();
    let port = format!("PORT={}", free_port());
    let function_arg = function.display().to_string();
    let layer_arg = layer.display().to_string();
    let mut args = vec![
        "--function",
        function_arg.as_str(),
        "--layer",
        layer_arg.as_str(),
        "--env",
        port.as_str(),
        // No bytecode: see `serve`.
        "--env",
        "PYTHONDONTWRITEBYTECODE=1",
        "--watch",
    ];
    args.extend_from_slice(extra);
    let local = Local::start(Launch::new(&args));
    assert!(
        local.stdout.contains(" is up at "),
        "not up:\n{}",
        local.stderr()
    );
    local
}

#[tokio::test]
async fn with_function_a_change_in_its_folder_is_served_by_the_next_request() {
    let (_dir, function, layer) = function_folder("watch-function", false);
    let local = serve_function(&function, &layer, &[]);
    let err = local.stderr();
    assert!(
        err.contains(&format!(
            "portside-local: watching {} (",
            function.display()
        )),
        "the function's folder is watched: {err}"
    );
    let (v, old_pid) = version(&local).await;
    assert_eq!(v, "v1");
    std::fs::write(function.join("version.py"), "VERSION = \"v2\"\n").expect("write");
    let took = until_version(&local, "v2").await;
    eprintln!("measured: change to the new code answering took {took:?}");
    let err = local.wait_for_stderr("environment 1 is up (init", Duration::from_secs(5));
    assert!(
        err.contains("portside-local: version.py changed; restarting the function"),
        "{err}"
    );
    assert_eq!(restarts(&local), 1, "{err}");
    assert!(err.contains(&format!("app {old_pid} got SIGTERM")), "{err}");
}

/// The recorder's lines so far.
fn recorded(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[tokio::test]
async fn a_restart_sends_the_layers_extensions_shutdown_as_lambda_does() {
    let (dir, function, layer) = function_folder("watch-shutdown", true);
    let log = dir.path().join("extension.log");
    let ext_log = format!("EXT_LOG={}", log.display());
    let local = serve_function(&function, &layer, &["--env", &ext_log]);
    version(&local).await;
    let first = recorded(&log);
    assert_eq!(first.len(), 1, "one extension registered: {first:?}");
    let old_pid = first[0]["pid"].as_i64().expect("pid");
    std::fs::write(function.join("version.py"), "VERSION = \"v2\"\n").expect("write");
    until_version(&local, "v2").await;
    // The old environment's extension took its SHUTDOWN and exited.
    let deadline = Instant::now() + Duration::from_secs(10);
    let shutdown = loop {
        let found = recorded(&log)
            .into_iter()
            .find(|e| e["pid"] == old_pid && e.get("event").is_some());
        if let Some(found) = found {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "no event reached the old extension: {:?}\n{}",
            recorded(&log),
            local.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Lambda's Extensions API reference: a SHUTDOWN event carries
    // shutdownReason (spindown, timeout or failure) and deadlineMs; the
    // Shutdown phase lasts 2,000 ms when external extensions are registered.
    let event = &shutdown["event"];
    assert_eq!(event["eventType"], "SHUTDOWN", "{shutdown}");
    assert_eq!(event["shutdownReason"], "spindown", "{shutdown}");
    let left = event["deadlineMs"].as_i64().expect("deadlineMs")
        - shutdown["received_ms"].as_i64().expect("received");
    assert!(
        left > 0 && left <= 2_000,
        "{left} ms left of the 2,000 ms shutdown: {shutdown}"
    );
    // A fresh extension serves the new environment; the old one exited in
    // time, so nothing had to be killed.
    let registered: Vec<i64> = recorded(&log)
        .iter()
        .filter(|e| e["registered"] == true)
        .filter_map(|e| e["pid"].as_i64())
        .collect();
    assert_eq!(registered.len(), 2, "{registered:?}");
    assert_ne!(registered[1], old_pid);
    let err = local.stderr();
    assert!(!err.contains("the extension recorder"), "{err}");
    assert_eq!(restarts(&local), 1, "{err}");
}
