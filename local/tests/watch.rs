//! `--watch` end to end: the short form with the real adapter and a real
//! Python app over real sockets. A change under the folder is picked up by
//! the next request; a burst of changes restarts once; ignored paths do not
//! restart; a failed `--watch-build` keeps the old code serving; a request
//! in flight finishes on the old code, and the old environment is stopped
//! as Lambda stops it (SIGTERM to the app).
//!
//! Needs the adapter built next to portside-local (`cargo build -p
//! portside`; `cargo test --workspace` builds it).

mod common;

use common::local::{adapter_binary, free_port, Launch, Local};
use common::{get, TempDir};
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
