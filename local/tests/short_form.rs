//! The short form (`portside-local -- COMMAND`) end to end with the real
//! adapter and a real Python app over real sockets: where the app runs,
//! that nothing outlives portside-local, stopping, failed inits, several
//! execution environments, and VPC Lattice queries reaching the app.
//!
//! Needs the adapter built next to portside-local (`cargo build -p
//! portside`; `cargo test --workspace` builds it).

mod common;

use common::local::{adapter_binary, alive, descendants, free_port, Launch, Local};
use common::{get, TempDir};
use std::time::{Duration, Instant};

/// An app that reports where and how it runs; `/sleep/S` answers after S
/// seconds; `/big` answers 7 MB.
const APP: &str = r#"
import json, os, sys, tempfile, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlsplit(self.path)
        if url.path.startswith("/sleep/"):
            time.sleep(float(url.path[len("/sleep/"):]))
        if url.path == "/big":
            body, ctype = b"x" * (7 * 1024 * 1024), "text/plain"
        else:
            body = json.dumps({
                "pid": os.getpid(), "cwd": os.getcwd(),
                "task_root": os.environ.get("LAMBDA_TASK_ROOT"),
                "port": os.environ.get("PORT"), "tmp": tempfile.gettempdir(),
                "path": url.path, "query": url.query,
            }).encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"#;

/// A folder holding `app.py` (and whatever else a test puts there).
fn app_dir(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    std::fs::write(dir.path().join("app.py"), APP).expect("write app");
    dir
}

fn serve(dir: &TempDir, extra: &[&str], port: u16) -> Local {
    adapter_binary();
    let port_env = format!("PORT={port}");
    let mut args: Vec<&str> = vec!["--env", &port_env];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "python3", "app.py"]);
    let local = Local::start(Launch::new(&args).cwd(dir.path()));
    assert!(
        local.stdout.contains(" is up at "),
        "not up\nstdout:\n{}\nstderr:\n{}",
        local.stdout,
        local.stderr()
    );
    local
}

#[tokio::test]
async fn the_short_form_runs_the_app_in_the_callers_folder() {
    let dir = app_dir("cwd");
    std::fs::write(dir.path().join("hello.txt"), "hello from your folder").expect("write");
    let mut local = serve(&dir, &[], free_port());
    let r = get(local.addr(), "/", &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let here = dir.path().canonicalize().expect("canonical");
    let v = r.json();
    assert_eq!(v["cwd"], here.display().to_string());
    assert_eq!(v["task_root"], here.display().to_string());
    local.stop_with(libc::SIGTERM);

    // `python3 -m http.server` serves the caller's files.
    let port = free_port();
    let cmd = format!("exec python3 -m http.server {port} --bind 127.0.0.1");
    let env = format!("PORT={port}");
    let local = Local::start(Launch::new(&["--env", &env, "--", "sh", "-c", &cmd]).cwd(dir.path()));
    let r = get(local.addr(), "/hello.txt", &[]).await;
    assert_eq!(r.status, 200, "{}", local.stderr());
    assert_eq!(r.text(), "hello from your folder");
}

#[tokio::test]
async fn the_function_dies_with_portside_local_even_on_sigkill() {
    let dir = app_dir("orphans");
    let port = free_port();
    let mut local = serve(&dir, &[], port);
    let app_pid = get(local.addr(), "/", &[]).await.json()["pid"]
        .as_i64()
        .expect("pid") as i32;
    let tree = descendants(local.pid());
    assert!(tree.iter().any(|(p, _)| *p == app_pid), "{tree:?}");
    assert!(
        tree.len() >= 3,
        "adapter, app and reaper at least: {tree:?}"
    );
    local.stop_with(libc::SIGKILL);
    // Nothing of the function survives, and its port is free again.
    let deadline = Instant::now() + Duration::from_secs(3);
    while tree.iter().any(|(p, _)| alive(*p)) {
        assert!(
            Instant::now() < deadline,
            "still alive after SIGKILL of portside-local: {:?}",
            tree.iter().filter(|(p, _)| alive(*p)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn a_taken_app_port_is_refused_with_the_pid_that_holds_it() {
    adapter_binary();
    let dir = app_dir("taken");
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = squatter.local_addr().expect("addr").port();
    let env = format!("PORT={port}");
    let mut local =
        Local::start(Launch::new(&["--env", &env, "--", "python3", "app.py"]).cwd(dir.path()));
    let status = local.child.wait().expect("wait");
    assert_eq!(status.code(), Some(1), "{}", local.stderr());
    let err = local.stderr();
    assert!(
        err.contains(&format!(
            "127.0.0.1:{port} is taken by pid {}",
            std::process::id()
        )),
        "{err}"
    );
    assert!(err.contains("--env PORT="), "{err}");
    assert!(!local.stdout.contains("is up"), "{}", local.stdout);
}

#[tokio::test]
async fn stopping_takes_under_two_seconds_after_a_large_response_too() {
    let dir = app_dir("stop");
    let mut local = serve(&dir, &["--event", "rest-api"], free_port());
    let r = get(local.addr(), "/big", &[]).await;
    assert_eq!(r.status, 502, "over 6 MB: API Gateway's answer");
    assert_eq!(r.json()["message"], "Internal server error");
    // The sandbox stays usable.
    let r = get(local.addr(), "/after", &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let (took, code) = local.stop_with(libc::SIGTERM);
    eprintln!("measured: stop after a response over 6 MB took {took:?}");
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(!local.stderr().contains("SHUTDOWN"), "{}", local.stderr());
}

#[tokio::test]
async fn a_crashing_app_is_explained_answered_at_once_and_retried_per_request() {
    let dir = TempDir::new("crash");
    std::fs::write(
        dir.path().join("app.py"),
        "import sys\nprint('Traceback (most recent call last):', file=sys.stderr)\nprint(\"NameError: name 'conifg' is not defined\", file=sys.stderr)\nsys.exit(3)\n",
    )
    .expect("write");
    adapter_binary();
    let env = format!("PORT={}", free_port());
    let mut local =
        Local::start(Launch::new(&["--env", &env, "--", "python3", "app.py"]).cwd(dir.path()));
    assert!(!local.stdout.contains("is up"), "{}", local.stdout);
    assert!(
        local
            .stdout
            .contains("answers 500 as an HTTP API does while init fails"),
        "{}",
        local.stdout
    );
    let err = local.stderr();
    assert!(
        err.contains("init failed: the app (python3 app.py) exited with exit status 3 before it was ready (Runtime.ExitError)"),
        "{err}"
    );
    assert!(
        err.contains("| NameError: name 'conifg' is not defined"),
        "{err}"
    );
    for _ in 0..3 {
        let asked = Instant::now();
        let r = get(local.addr(), "/", &[]).await;
        let took = asked.elapsed();
        eprintln!("measured: a request while init keeps failing (crash) answered in {took:?}");
        assert_eq!(r.status, 500);
        assert_eq!(r.json()["message"], "Internal Server Error");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
    let err = local.stderr();
    assert!(
        err.contains("init failed again, for the same reason"),
        "{err}"
    );
    assert!(!err.contains("SHUTDOWN"), "{err}");
    // Fixed: the next request inits again and is served.
    std::fs::write(dir.path().join("app.py"), APP).expect("fix the app");
    let r = get(local.addr(), "/", &[]).await;
    assert_eq!(r.status, 200, "{}", local.stderr());
    assert!(local.stderr().contains("init succeeded this time"));
    let (took, _) = local.stop_with(libc::SIGTERM);
    eprintln!("measured: stop after failed inits took {took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[tokio::test]
async fn an_app_that_never_listens_is_named_and_requests_do_not_wait() {
    let dir = TempDir::new("silent");
    std::fs::write(
        dir.path().join("app.py"),
        "import time\nprint('Listening on http://127.0.0.1:5000', flush=True)\ntime.sleep(600)\n",
    )
    .expect("write");
    adapter_binary();
    let port = free_port();
    let env = format!("PORT={port}");
    let mut local = Local::start(
        Launch::new(&[
            "--env", &env, "--event", "rest-api", "--", "python3", "app.py",
        ])
        .cwd(dir.path()),
    );
    // Init's 10 s limit passed before the address was printed.
    let err = local.stderr();
    assert!(
        err.contains(&format!(
            "the function did not finish starting within 10 s: its app never became ready: nothing listens on 127.0.0.1:{port} — is your app listening on $PORT ({port})?"
        )),
        "{err}"
    );
    assert!(
        err.contains("| Listening on http://127.0.0.1:5000"),
        "{err}"
    );
    for _ in 0..3 {
        let asked = Instant::now();
        let r = get(local.addr(), "/", &[]).await;
        let took = asked.elapsed();
        eprintln!(
            "measured: a request while init keeps failing (never listens) answered in {took:?}"
        );
        assert_eq!(r.status, 502);
        assert_eq!(r.json()["message"], "Internal server error");
        assert!(took < Duration::from_secs(1), "{took:?}");
    }
    let (took, _) = local.stop_with(libc::SIGTERM);
    eprintln!("measured: stop during an init retry took {took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

/// Three concurrent requests of `seconds` each; (wall time, distinct pids,
/// distinct ports, distinct temp folders).
async fn three_at_once(addr: &str, seconds: f64) -> (Duration, usize, usize, usize) {
    let started = Instant::now();
    let path = format!("/sleep/{seconds}");
    let (a, b, c) = tokio::join!(
        get(addr, &path, &[]),
        get(addr, &path, &[]),
        get(addr, &path, &[])
    );
    let took = started.elapsed();
    let replies: Vec<serde_json::Value> = [a, b, c]
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "{}", r.text());
            r.json()
        })
        .collect();
    let distinct = |key: &str| {
        let mut v: Vec<String> = replies.iter().map(|r| r[key].to_string()).collect();
        v.sort();
        v.dedup();
        v.len()
    };
    (took, distinct("pid"), distinct("port"), distinct("tmp"))
}

#[tokio::test]
async fn concurrent_requests_get_their_own_execution_environments() {
    let dir = app_dir("envs");
    let local = serve(&dir, &["--environments", "3"], free_port());
    // First round: environments 2 and 3 start cold, each its own init.
    let (cold, pids, _, _) = three_at_once(local.addr(), 1.0).await;
    assert_eq!(pids, 3);
    let err = local.stderr();
    assert!(
        err.contains("environment 2 starting (a cold start"),
        "{err}"
    );
    assert!(
        err.contains("environment 3 starting (a cold start"),
        "{err}"
    );
    assert!(err.contains("environment 3 is up (init"), "{err}");
    // Warm: the same three environments, reused.
    let (warm, pids, ports, tmps) = three_at_once(local.addr(), 1.0).await;
    eprintln!(
        "measured: 3 concurrent 1 s requests, --environments 3: {cold:?} cold, {warm:?} warm"
    );
    assert_eq!(
        (pids, ports, tmps),
        (3, 3, 3),
        "own app process, port and /tmp each"
    );
    assert!(warm < Duration::from_millis(1900), "{warm:?}");
    assert!(!local.stderr().contains("environment 4"));

    let dir = app_dir("one-env");
    let local = serve(&dir, &["--environments", "1"], free_port());
    let (took, pids, _, _) = three_at_once(local.addr(), 1.0).await;
    eprintln!("measured: 3 concurrent 1 s requests, --environments 1: {took:?}");
    assert_eq!(pids, 1);
    assert!(took >= Duration::from_millis(2900), "{took:?}");
}

#[tokio::test]
async fn managed_instances_take_several_invocations_per_environment() {
    let dir = app_dir("mi");
    let local = serve(
        &dir,
        &["--environments", "1", "--concurrency", "3"],
        free_port(),
    );
    let (took, pids, _, _) = three_at_once(local.addr(), 1.0).await;
    eprintln!("measured: 3 concurrent 1 s requests, --concurrency 3 in one environment: {took:?}");
    assert_eq!(pids, 1, "one environment, one app process");
    assert!(took < Duration::from_millis(1900), "{took:?}");
}

#[tokio::test]
async fn lattice_query_values_reach_the_app_encoded_once() {
    // FRONTDOOR.md: Lattice hands the function decoded values, the adapter
    // encodes them once: the app sees what the client sent.
    for (event, sent, seen) in [
        ("lattice-v1", "x=%26&y=a%20b", "x=%26&y=a%20b"),
        ("lattice-v2", "x=%26&y=a%20b&x=2", "x=%26&y=a%20b&x=2"),
    ] {
        let dir = app_dir(event);
        let local = serve(&dir, &["--event", event], free_port());
        let r = get(local.addr(), &format!("/q?{sent}"), &[]).await;
        assert_eq!(r.status, 200, "{event}: {}", r.text());
        assert_eq!(r.json()["query"], seen, "{event}");
    }
}
