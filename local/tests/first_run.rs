//! First-run friction, tried as a new user would, with the real adapter and
//! real Python and Node apps: the runtime's interpreter (and what is said
//! when it is missing), a function folder built for another Python, a
//! pass-through event the app has no route for, an app listening on another
//! port than `$PORT`, a request that came during a failing init, and
//! `--debug`.
//!
//! Interpreters are made independent of the machine: `PATH` holds a folder
//! with only `python3` (the real one) and, where a test needs it, a
//! `python3.12` that says it is 3.12 and marks the processes it runs; for
//! Node, a folder with only `node` (the real one, whatever its major
//! version) and, where needed, a `nodeNN` for another major that says it is
//! that version and marks what it runs.

mod common;

use common::local::{adapter_binary, free_port, portside_layer, Launch, Local};
use common::{get, post, repo_root, write_exec, TempDir};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Answers who runs it; POST answers 404 (no route); `/sleep/S` sleeps.
const APP: &str = r#"
import json, os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/sleep/"):
            time.sleep(float(self.path[len("/sleep/"):]))
        body = json.dumps({"ran_as": os.environ.get("RAN_AS"), "pid": os.getpid(),
                           "python": "%d.%d" % sys.version_info[:2]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        self.send_response(404)
        self.send_header("content-length", "9")
        self.end_headers()
        self.wfile.write(b"not found")
    def log_message(self, *args):
        pass

port = int(os.environ.get("LISTEN_ON") or os.environ["PORT"])
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"#;

/// The real interpreter, resolved (not a virtual environment's).
fn real_python() -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import os, sys; print(os.path.realpath(sys.executable))",
        ])
        .output()
        .expect("python3 runs");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A folder with `python3` only, and optionally a fake `python3.12`.
fn interpreters(dir: &Path, with_312: bool) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let real = real_python();
    std::os::unix::fs::symlink(&real, bin.join("python3")).expect("link python3");
    if with_312 {
        let fake = dir.join("fake");
        write_exec(
            &fake.join("python3.12"),
            &format!(
                "#!/bin/sh\n# Says it is 3.12 when asked, and marks what it runs.\nif [ \"$1\" = -c ]; then case \"$2\" in *version_info*) echo 3.12.9; echo False; exit 0;; esac; fi\nexport RAN_AS=python3.12\nexec {} \"$@\"\n",
                real.display()
            ),
        );
        return format!("{}:{}", fake.display(), bin.display());
    }
    bin.display().to_string()
}

fn app_dir(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    std::fs::write(dir.path().join("app.py"), APP).expect("write app");
    dir
}

#[tokio::test]
async fn the_runtime_named_runs_as_python3_when_it_is_installed() {
    adapter_binary();
    let dir = app_dir("rt-installed");
    let path = interpreters(dir.path(), true);
    let port = format!("PORT={}", free_port());
    let local = Local::start(
        Launch::new(&[
            "--env",
            &port,
            "--runtime",
            "python3.12",
            "--",
            "python3",
            "app.py",
        ])
        .cwd(dir.path())
        .env("PATH", &path),
    );
    let err = local.stderr();
    assert!(
        err.contains(&format!("python3.12: python3 is {}/fake/python3.12 (Python 3.12.9), first on the function's PATH as on Lambda", dir.path().display())),
        "{err}"
    );
    let r = get(local.addr(), "/", &[]).await;
    assert_eq!(
        r.json()["ran_as"],
        "python3.12",
        "the app's python3 was python3.12"
    );
}

#[tokio::test]
async fn a_missing_interpreter_is_said_at_start_with_what_runs_instead() {
    adapter_binary();
    let dir = app_dir("rt-missing");
    let path = interpreters(dir.path(), false);
    let port = format!("PORT={}", free_port());
    let local = Local::start(
        Launch::new(&[
            "--env",
            &port,
            "--runtime",
            "python3.12",
            "--",
            "python3",
            "app.py",
        ])
        .cwd(dir.path())
        .env("PATH", &path),
    );
    let r = get(local.addr(), "/", &[]).await;
    let actual = r.json()["python"].as_str().unwrap_or("").to_string();
    let err = local.stderr();
    assert!(
        err.contains(&format!(
            "python3.12: python3.12 is not installed here, so python3 (Python {actual}."
        )),
        "{err}"
    );
    assert!(
        err.contains("Packages with compiled parts built for Python 3.12 will not import under it"),
        "{err}"
    );
    assert!(
        err.contains(&format!("or pass --runtime python{actual} to match it")),
        "{err}"
    );
    drop(local);
    // Without --runtime, the short form's runtime is the python3 it finds.
    let port = format!("PORT={}", free_port());
    let local = Local::start(
        Launch::new(&["--env", &port, "--", "python3", "app.py"])
            .cwd(dir.path())
            .env("PATH", &path),
    );
    assert!(
        local
            .stderr()
            .contains(&format!("starting portside-local (python{actual}")),
        "{}",
        local.stderr()
    );
    assert!(
        !local.stderr().contains("is not installed"),
        "{}",
        local.stderr()
    );
}

#[test]
fn a_function_built_for_another_python_is_refused_with_the_reason() {
    let dir = TempDir::new("rt-vendored");
    let so = "pydantic_core/_pydantic_core.cpython-312-x86_64-linux-gnu.so";
    std::fs::create_dir_all(dir.path().join("pydantic_core")).expect("mkdir");
    std::fs::write(dir.path().join(so), "").expect("write");
    let path = interpreters(dir.path(), false);
    let function = dir.path().display().to_string();
    for (runtime, says) in [
        ("python3.11", format!("holds packages compiled for Python 3.12 ({so}), but the runtime is python3.11: they would fail to import, here and on Lambda")),
        ("python3.12", format!("holds packages compiled for Python 3.12 ({so}), and python3.12 is not installed here")),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_portside-local"))
            .args(["--function", &function, "--runtime", runtime, "--port", "0"])
            .env("PATH", &path)
            .output()
            .expect("run portside-local");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{runtime}: {err}");
        assert!(err.contains(&says), "{runtime}: {err}");
    }
}

/// Answers which Node runs it, who started it, and AWS_EXECUTION_ENV.
const NODE_APP: &str = r#"
const http = require('http');
http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ node: process.versions.node, ran_as: process.env.RAN_AS || null,
                           execution_env: process.env.AWS_EXECUTION_ENV || null }));
}).listen(Number(process.env.PORT), '127.0.0.1');
"#;

/// The real `node` (resolved) and its major version.
fn real_node() -> (PathBuf, u32) {
    let out = Command::new("node")
        .args(["-p", "process.execPath + ' ' + process.versions.node"])
        .output()
        .expect("node runs (Node.js is part of the machine)");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (path, version) = text.rsplit_once(' ').expect("path and version");
    let major = version.split('.').next().unwrap().parse().expect("major");
    (PathBuf::from(path), major)
}

/// A Node.js major version Lambda has a runtime for that is not the real
/// node's: 22 on a machine with Node 20.
fn other_major(real: u32) -> u32 {
    if real == 22 {
        20
    } else {
        22
    }
}

/// A folder with `node` only (the real one), and optionally a fake
/// `nodeNN` saying it is Node.js NN.12.0: the `PATH` value.
fn node_interpreters(dir: &Path, fake: Option<u32>) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let (real, _) = real_node();
    std::os::unix::fs::symlink(&real, bin.join("node")).expect("link node");
    let Some(major) = fake else {
        return bin.display().to_string();
    };
    let fake_dir = dir.join("fake");
    write_exec(
        &fake_dir.join(format!("node{major}")),
        &format!(
            "#!/bin/sh\n# Says it is Node.js {major} when asked, and marks what it runs.\nif [ \"$1\" = --version ]; then echo v{major}.12.0; exit 0; fi\nexport RAN_AS=node{major}\nexec {} \"$@\"\n",
            real.display()
        ),
    );
    format!("{}:{}", fake_dir.display(), bin.display())
}

#[tokio::test]
async fn a_node_runtime_runs_the_node_of_its_major_version() {
    adapter_binary();
    let (_, real) = real_node();
    let other = other_major(real);
    let dir = TempDir::new("node-installed");
    std::fs::write(dir.path().join("server.js"), NODE_APP).expect("write app");
    let path = node_interpreters(dir.path(), Some(other));
    // The node on PATH is the runtime's (nodejs20.x on a machine with Node
    // 20): it runs as it is, and nothing needs saying.
    let runtime = format!("nodejs{real}.x");
    let port = format!("PORT={}", free_port());
    let local = Local::start(
        Launch::new(&[
            "--env",
            &port,
            "--runtime",
            &runtime,
            "--",
            "node",
            "server.js",
        ])
        .cwd(dir.path())
        .env("PATH", &path),
    );
    let r = get(local.addr(), "/", &[]).await.json();
    assert!(
        r["node"]
            .as_str()
            .unwrap_or("")
            .starts_with(&format!("{real}.")),
        "{r}"
    );
    assert_eq!(r["ran_as"], serde_json::Value::Null, "{r}");
    // Lambda's AWS_EXECUTION_ENV: the runtime identifier after AWS_Lambda_.
    assert_eq!(r["execution_env"], format!("AWS_Lambda_{runtime}"));
    let err = local.stderr();
    assert!(!err.contains("runs instead"), "{err}");
    assert!(!err.contains("first on the function's PATH"), "{err}");
    drop(local);
    // Another major (nodejs22.x): node22 is installed and runs as node.
    let runtime = format!("nodejs{other}.x");
    let port = format!("PORT={}", free_port());
    let local = Local::start(
        Launch::new(&[
            "--env",
            &port,
            "--runtime",
            &runtime,
            "--",
            "node",
            "server.js",
        ])
        .cwd(dir.path())
        .env("PATH", &path),
    );
    let err = local.stderr();
    assert!(
        err.contains(&format!("{runtime}: node is {}/fake/node{other} (Node.js {other}.12.0), first on the function's PATH as on Lambda", dir.path().display())),
        "{err}"
    );
    let r = get(local.addr(), "/", &[]).await.json();
    assert_eq!(
        r["ran_as"],
        format!("node{other}"),
        "the app's node was node{other}"
    );
    assert_eq!(r["execution_env"], format!("AWS_Lambda_{runtime}"));
}

#[tokio::test]
async fn a_missing_node_is_said_at_start_with_what_runs_instead() {
    adapter_binary();
    let (_, real) = real_node();
    let other = other_major(real);
    let dir = TempDir::new("node-missing");
    let function = dir.path().join("function");
    std::fs::create_dir_all(&function).expect("mkdir");
    // No handler script: the shim starts index.js, as Web Functions does.
    std::fs::write(function.join("index.js"), NODE_APP).expect("write app");
    let layer = portside_layer(dir.path());
    let path = node_interpreters(dir.path(), None);
    let runtime = format!("nodejs{other}.x");
    let port = format!("PORT={}", free_port());
    let function_arg = function.display().to_string();
    let layer_arg = layer.display().to_string();
    let local = Local::start(
        Launch::new(&[
            "--function",
            &function_arg,
            "--layer",
            &layer_arg,
            "--runtime",
            &runtime,
            "--env",
            &port,
        ])
        .env("PATH", &path),
    );
    let r = get(local.addr(), "/", &[]).await.json();
    let version = r["node"].as_str().unwrap_or("").to_string();
    assert!(version.starts_with(&format!("{real}.")), "{r}");
    let err = local.stderr();
    assert!(
        err.contains(&format!(
            "{runtime}: Node.js {other} is not installed here (neither node nor node{other} on PATH is), so node (Node.js {version}, {}/bin/node) runs instead.",
            dir.path().display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "native addons (.node files) built for Node.js {other} will not load under it"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("or pass --runtime nodejs{real}.x to match it")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "Node.js {real} and {other} differ (APIs added and removed)"
        )),
        "{err}"
    );
    assert_eq!(r["execution_env"], format!("AWS_Lambda_{runtime}"));
    drop(local);
    // Without an exec wrapper to start it, a Node runtime is refused at
    // start: Lambda's Node.js runtime client does not run locally.
    let out = Command::new(env!("CARGO_BIN_EXE_portside-local"))
        .args([
            "--function",
            &function_arg,
            "--runtime",
            &runtime,
            "--port",
            "0",
        ])
        .env("PATH", &path)
        .output()
        .expect("run portside-local");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "the {runtime} runtime needs an exec wrapper that starts your handler"
        )),
        "{err}"
    );
}

#[tokio::test]
async fn an_event_the_app_has_no_route_for_names_the_pass_through_path() {
    adapter_binary();
    let dir = app_dir("passthrough");
    let s3 = r#"{"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]}"#;
    for (extra, path, var) in [
        (None, "/events", "PORTSIDE_PASS_THROUGH_PATH"),
        (
            Some("AWS_LWA_PASS_THROUGH_PATH=/hooks"),
            "/hooks",
            "AWS_LWA_PASS_THROUGH_PATH",
        ),
    ] {
        let port = format!("PORT={}", free_port());
        let mut args = vec!["--env", port.as_str()];
        if let Some(e) = extra {
            args.extend(["--env", e]);
        }
        args.extend(["--", "python3", "app.py"]);
        let local = Local::start(Launch::new(&args).cwd(dir.path()));
        let r = post(
            local.addr(),
            "/2015-03-31/functions/portside-local/invocations",
            &[],
            s3.to_string(),
        )
        .await;
        assert_eq!(
            r.header("x-amz-function-error").as_deref(),
            Some("Unhandled"),
            "{}",
            r.text()
        );
        let err = local.wait_for_stderr("is not an HTTP request", Duration::from_secs(5));
        assert!(
            err.contains(&format!("the event is not an HTTP request, so the portside adapter POSTed it to the app at {path} ({var}), and the app refused it")),
            "{err}"
        );
        assert!(
            err.contains("(Portside.AppError)"),
            "the Lambda error type stays beside it: {err}"
        );
    }
}

#[tokio::test]
async fn an_app_on_another_port_is_named_with_the_port_and_the_fix() {
    adapter_binary();
    let dir = app_dir("other-port");
    let expected = free_port();
    let actual = free_port();
    let env = format!("PORT={expected}");
    let listen = format!("LISTEN_ON={actual}");
    let started = Instant::now();
    let local = Local::start(
        Launch::new(&["--env", &env, "--env", &listen, "--", "python3", "app.py"]).cwd(dir.path()),
    );
    let err = local.stderr();
    let named = format!(
        "nothing listens on 127.0.0.1:{expected}, but the app listens on 127.0.0.1:{actual}. Start it on $PORT ({expected}), or tell portside-local the port it uses: --env PORT={actual}"
    );
    // Said while init still waits...
    let early = err.find(&named).expect("named while init waits");
    // ...and again in the report when init times out, with Lambda's words
    // for it on the next line.
    assert!(
        err.contains(&format!("the function did not finish starting within 10 s: its app never became ready: {named}\n  (Lambda: INIT_REPORT Init Duration: 10000.00 ms Phase: init Status: timeout; Sandbox.Timedout)")),
        "{err}"
    );
    assert!(
        early < err.find("did not finish starting").unwrap_or(0),
        "{err}"
    );
    eprintln!(
        "measured: the init report came after {:?}",
        started.elapsed()
    );
}

#[test]
fn a_request_during_a_failing_init_is_answered_when_it_fails_not_after_another_init() {
    adapter_binary();
    let dir = TempDir::new("init-wait");
    // Fails after 2 s, each time it starts.
    std::fs::write(
        dir.path().join("app.py"),
        "import sys, time\ntime.sleep(2)\nprint('config missing', file=sys.stderr)\nsys.exit(3)\n",
    )
    .expect("write");
    let door = free_port();
    let started = Instant::now();
    // The request goes out as soon as the front door listens, during init.
    let asked = std::thread::spawn(move || loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", door)) {
            use std::io::{Read, Write};
            let sent = Instant::now();
            s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                .expect("write");
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            return (sent.elapsed(), out);
        }
        std::thread::sleep(Duration::from_millis(10));
    });
    let env = format!("PORT={}", free_port());
    let door_arg = door.to_string();
    let local = Local::start(
        Launch::new(&[
            "--port", &door_arg, "--env", &env, "--", "python3", "app.py",
        ])
        .cwd(dir.path()),
    );
    let (took, answer) = asked.join().expect("the request");
    eprintln!(
        "measured: the request sent during init was answered after {took:?} (init fails after 2 s)"
    );
    assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");
    assert!(
        answer.contains(r#"{"message":"Internal Server Error"}"#),
        "{answer}"
    );
    assert!(
        took < Duration::from_millis(3500),
        "held for another init: {took:?}\n{}",
        local.stderr()
    );
    assert!(started.elapsed() < Duration::from_secs(6));
    assert!(
        local.stderr().contains("| config missing"),
        "{}",
        local.stderr()
    );
}

#[tokio::test]
async fn debug_keeps_one_environment_unfrozen_without_a_timeout() {
    adapter_binary();
    let dir = app_dir("debug");
    let port = format!("PORT={}", free_port());
    let local = Local::start(
        Launch::new(&[
            "--env",
            &port,
            "--debug",
            "--timeout",
            "1",
            "--event",
            "rest-api",
            "--",
            "python3",
            "app.py",
        ])
        .cwd(dir.path()),
    );
    let err = local.stderr();
    assert!(
        err.contains("--debug: one execution environment, never frozen; the function timeout (1 s), the init limit and the event source's integration timeout are suspended (12 h), so an invocation can wait in your debugger"),
        "{err}"
    );
    assert!(!err.contains("up to 4 execution environments"), "{err}");
    // Longer than --timeout: answered, as if paused in a debugger.
    let addr = local.addr().to_string();
    let (a, b) = tokio::join!(get(&addr, "/sleep/2", &[]), get(&addr, "/sleep/0.1", &[]));
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(b.status, 200);
    assert_eq!(
        a.json()["pid"],
        b.json()["pid"],
        "one environment serves both"
    );
    assert!(
        !local.stderr().contains("environment 2"),
        "{}",
        local.stderr()
    );
    // Idle, yet not frozen: a debugger stays attached.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = a.json()["pid"].as_i64().expect("pid");
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|s| s.trim().chars().next());
    assert_ne!(state, Some('T'), "the app is stopped: {stat}");
}

#[tokio::test]
async fn the_readmes_node_debugging_recipe_leaves_the_inspector_reachable() {
    adapter_binary();
    // The README's command, with a free inspector port.
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let recipe = readme
        .lines()
        .find(|l| l.starts_with("portside-local --debug -- node --inspect="))
        .expect("README.md shows the Node.js debugging recipe");
    let inspector = free_port();
    let recipe = recipe.replace("127.0.0.1:9229", &format!("127.0.0.1:{inspector}"));
    let args: Vec<&str> = recipe.split_whitespace().skip(1).collect();
    let dir = TempDir::new("debug-node");
    std::fs::write(dir.path().join("server.js"), NODE_APP).expect("write app");
    let port = format!("PORT={}", free_port());
    let mut all = vec!["--env", port.as_str()];
    all.extend(args);
    let local = Local::start(Launch::new(&all).cwd(dir.path()));
    let r = get(local.addr(), "/", &[]).await;
    assert_eq!(r.status, 200, "{}", local.stderr());
    // Idle after the request, the environment is not frozen: the inspector
    // still lists the app, as chrome://inspect and VS Code discover it
    // (Node's inspector: GET /json/list, each target with its WebSocket URL).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let targets = tokio::time::timeout(
        Duration::from_secs(5),
        get(&format!("127.0.0.1:{inspector}"), "/json/list", &[]),
    )
    .await
    .unwrap_or_else(|_| panic!("the inspector did not answer: frozen?\n{}", local.stderr()));
    assert_eq!(targets.status, 200);
    let list = targets.json();
    let url = list[0]["webSocketDebuggerUrl"].as_str().unwrap_or("");
    assert!(
        url.starts_with(&format!("ws://127.0.0.1:{inspector}/")),
        "{list}"
    );
}
