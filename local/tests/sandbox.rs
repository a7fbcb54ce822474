//! The sandbox with real processes: small Python programs act as runtime
//! and extension, and the tests watch what Lambda's lifecycle does to them.

mod common;

use common::{write_exec, TempDir};
use portside_local::layer::Layer;
use portside_local::runtime_api::{InitState, InvokeOptions, Outcome};
use portside_local::sandbox::{RuntimeKind, Sandbox, SandboxConfig};
use std::path::Path;
use std::time::Duration;

/// A provided.al2023 runtime: answers each event according to its "action"
/// and reports its pid and the longest gap its 10 ms ticker saw.
const RUNTIME: &str = r#"#!/usr/bin/env python3
import json, os, sys, threading, time, urllib.request
log = os.environ.get("EXT_LOG")
if log:
    with open(log, "a") as f:
        f.write("runtime-start\n")
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
base = "http://%s/2018-06-01/runtime" % api
if os.path.exists(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "fail-init")):
    body = json.dumps({"errorMessage": "config missing", "errorType": "Custom.ConfigError"}).encode()
    urllib.request.urlopen(urllib.request.Request(base + "/init/error", data=body, method="POST",
        headers={"Lambda-Runtime-Function-Error-Type": "Custom.ConfigError"}))
    sys.exit(1)
if os.path.exists(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "slow-init")):
    time.sleep(60)
ticks = {"gap": 0.0, "last": time.monotonic()}
def tick():
    while True:
        time.sleep(0.01)
        now = time.monotonic()
        ticks["gap"] = max(ticks["gap"], now - ticks["last"])
        ticks["last"] = now
def max_gap():
    # The gap still open counts too: the ticker may not have run since a thaw.
    return max(ticks["gap"], time.monotonic() - ticks["last"])
threading.Thread(target=tick, daemon=True).start()
env_names = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
             "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION", "AWS_DEFAULT_REGION",
             "_HANDLER", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_INITIALIZATION_TYPE", "TZ", "MY_SETTING"]
while True:
    with urllib.request.urlopen(base + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    action = event.get("action")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "crash":
        os._exit(3)
    result = {"pid": os.getpid(), "max_gap": max_gap(), "env": {k: os.environ.get(k) for k in env_names},
              "cwd": os.getcwd()}
    ticks["gap"] = 0.0
    urllib.request.urlopen(urllib.request.Request(base + "/invocation/%s/response" % rid,
        data=json.dumps(result).encode(), method="POST"))
"#;

/// An external extension that logs every event it receives.
const EXTENSION: &str = r#"#!/usr/bin/env python3
import json, os, sys, urllib.request
base = "http://%s/2020-01-01/extension" % os.environ["AWS_LAMBDA_RUNTIME_API"]
name = os.path.basename(sys.argv[0])
req = urllib.request.Request(base + "/register", data=json.dumps({"events": ["INVOKE", "SHUTDOWN"]}).encode(),
                             headers={"Lambda-Extension-Name": name}, method="POST")
with urllib.request.urlopen(req) as r:
    eid = r.headers["Lambda-Extension-Identifier"]
log = open(os.environ["EXT_LOG"], "a")
log.write("registered\n"); log.flush()
while True:
    req = urllib.request.Request(base + "/event/next", headers={"Lambda-Extension-Identifier": eid})
    with urllib.request.urlopen(req) as r:
        ev = json.loads(r.read())
    log.write(json.dumps(ev) + "\n"); log.flush()
    if ev["eventType"] == "SHUTDOWN":
        sys.exit(0)
"#;

struct Fixture {
    _dir: TempDir,
    function: std::path::PathBuf,
    layer: std::path::PathBuf,
    log: std::path::PathBuf,
}

fn fixture() -> Fixture {
    let dir = TempDir::new("sandbox");
    let function = dir.path().join("function");
    let layer = dir.path().join("layer");
    write_exec(&function.join("bootstrap"), RUNTIME);
    write_exec(&layer.join("extensions/logger"), EXTENSION);
    let log = dir.path().join("events.log");
    Fixture {
        function,
        layer,
        log,
        _dir: dir,
    }
}

fn config(f: &Fixture) -> SandboxConfig {
    let mut cfg = SandboxConfig::new(
        f.function.clone(),
        "handler.fn",
        RuntimeKind::parse("provided.al2023").expect("kind"),
    );
    cfg.function_name = "sandboxed".into();
    cfg.memory_mb = 512;
    cfg.show_logs = false;
    cfg.env = vec![
        ("EXT_LOG".into(), f.log.display().to_string()),
        ("MY_SETTING".into(), "on".into()),
    ];
    cfg
}

async fn run(sb: &Sandbox, event: &str, timeout: Duration) -> Outcome {
    sb.invoke(
        event.to_string().into(),
        InvokeOptions::new().timeout(timeout),
    )
    .await
    .expect("accepted")
    .outcome()
    .await
}

fn response(o: Outcome) -> serde_json::Value {
    match o {
        Outcome::Response(b) => serde_json::from_slice(&b).expect("json"),
        other => panic!("expected a response, got {other:?}"),
    }
}

/// The state letter of /proc/PID/stat (R, S, T, Z...).
fn proc_state(pid: i32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    after.chars().next().expect("state")
}

fn log_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn lambdas_environment_order_and_freeze() {
    let f = fixture();
    let sb = Sandbox::new(config(&f), Some(Layer::open(&f.layer).expect("layer")))
        .await
        .expect("sandbox");
    let first = response(run(&sb, "{}", Duration::from_secs(10)).await);
    let env = &first["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "sandboxed");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "512");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/sandboxed");
    assert!(env["AWS_LAMBDA_LOG_STREAM_NAME"]
        .as_str()
        .expect("stream")
        .contains("/[$LATEST]"));
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["AWS_DEFAULT_REGION"], "us-east-1");
    assert_eq!(env["_HANDLER"], "handler.fn");
    assert_eq!(env["LAMBDA_TASK_ROOT"], f.function.display().to_string());
    assert_eq!(first["cwd"], f.function.display().to_string());
    assert_eq!(env["AWS_LAMBDA_INITIALIZATION_TYPE"], "on-demand");
    assert_eq!(env["TZ"], ":UTC");
    assert_eq!(env["MY_SETTING"], "on");
    // After the response, once both called next: every process is stopped.
    sb.settle().await;
    assert!(sb.is_frozen());
    // The extension registered before the runtime started, and saw the INVOKE.
    let lines = log_lines(&f.log);
    assert_eq!(lines[0], "registered");
    assert_eq!(lines[1], "runtime-start");
    assert!(lines[2].contains("\"INVOKE\""));

    let procs = sb.processes();
    assert_eq!(procs.len(), 2);
    for (name, pid) in &procs {
        assert_eq!(proc_state(*pid), 'T', "{name} is stopped");
    }
    // The runtime's own timer notices the freeze: its ticks stop while frozen.
    let frozen_for = Duration::from_millis(400);
    tokio::time::sleep(frozen_for).await;
    let second = response(run(&sb, "{}", Duration::from_secs(10)).await);
    assert_eq!(second["pid"], first["pid"], "the same sandbox, thawed");
    let gap = second["max_gap"].as_f64().expect("gap");
    assert!(
        gap >= frozen_for.as_secs_f64(),
        "the ticker saw a {gap}s gap"
    );
    sb.shutdown().await;
    let last = log_lines(&f.log).pop().expect("a line");
    assert!(
        last.contains("\"SHUTDOWN\"") && last.contains("spindown"),
        "{last}"
    );
    for (_, pid) in procs {
        assert!(std::fs::metadata(format!("/proc/{pid}")).is_err() || proc_state(pid) == 'Z');
    }
}

#[tokio::test]
async fn an_initialised_sandbox_is_frozen_until_its_first_event() {
    let f = fixture();
    let sb = Sandbox::new(config(&f), Some(Layer::open(&f.layer).expect("layer")))
        .await
        .expect("sandbox");
    assert_eq!(sb.init().await, InitState::Ready);
    assert!(sb.is_frozen());
    for (name, pid) in sb.processes() {
        assert_eq!(proc_state(pid), 'T', "{name} is stopped");
    }
    response(run(&sb, "{}", Duration::from_secs(10)).await);
    sb.shutdown().await;
}

#[tokio::test]
async fn no_freeze_leaves_processes_running() {
    let f = fixture();
    let mut cfg = config(&f);
    cfg.freeze = false;
    let sb = Sandbox::new(cfg, Some(Layer::open(&f.layer).expect("layer")))
        .await
        .expect("sandbox");
    response(run(&sb, "{}", Duration::from_secs(10)).await);
    sb.settle().await;
    sb.api().wait_idle().await;
    assert!(!sb.is_frozen());
    for (name, pid) in sb.processes() {
        assert_ne!(proc_state(pid), 'T', "{name} runs");
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn a_timeout_resets_the_sandbox() {
    let f = fixture();
    let sb = Sandbox::new(config(&f), Some(Layer::open(&f.layer).expect("layer")))
        .await
        .expect("sandbox");
    let first = response(run(&sb, "{}", Duration::from_secs(10)).await);
    let outcome = run(
        &sb,
        r#"{"action":"sleep","seconds":60}"#,
        Duration::from_millis(800),
    )
    .await;
    let Outcome::TimedOut(t) = outcome else {
        panic!("timeout, got {outcome:?}")
    };
    assert!(
        t.error
            .error_message
            .ends_with("Task timed out after 0.80 seconds"),
        "{}",
        t.error.error_message
    );
    sb.settle().await;
    // The extension was told why, and the old runtime is gone.
    let lines = log_lines(&f.log);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"SHUTDOWN\"") && l.contains("\"timeout\"")),
        "{lines:?}"
    );
    let old_pid = first["pid"].as_i64().expect("pid") as i32;
    assert!(std::fs::metadata(format!("/proc/{old_pid}")).is_err() || proc_state(old_pid) == 'Z');
    // The next invocation inits a fresh sandbox.
    let third = response(run(&sb, "{}", Duration::from_secs(10)).await);
    assert_ne!(third["pid"], first["pid"]);
    assert_eq!(
        log_lines(&f.log)
            .iter()
            .filter(|l| *l == "registered")
            .count(),
        2
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn init_failure_and_crash_are_reported_and_recovered() {
    let f = fixture();
    std::fs::write(f.function.join("fail-init"), "").expect("marker");
    let sb = Sandbox::new(config(&f), Some(Layer::open(&f.layer).expect("layer")))
        .await
        .expect("sandbox");
    let outcome = run(&sb, "{}", Duration::from_secs(10)).await;
    let Outcome::InitError(e) = outcome else {
        panic!("init error, got {outcome:?}")
    };
    assert_eq!(e.error_type, "Custom.ConfigError");
    assert_eq!(e.error_message, "config missing");
    sb.settle().await;
    // Fixed: the next invocation inits again and works.
    std::fs::remove_file(f.function.join("fail-init")).expect("rm");
    let ok = response(run(&sb, "{}", Duration::from_secs(10)).await);
    // A crash mid-invocation is Runtime.ExitError, then a fresh init.
    let outcome = run(&sb, r#"{"action":"crash"}"#, Duration::from_secs(10)).await;
    let Outcome::Error(e) = outcome else {
        panic!("exit error, got {outcome:?}")
    };
    assert_eq!(e.error_type, "Runtime.ExitError");
    assert!(
        e.error_message.contains("exit status 3"),
        "{}",
        e.error_message
    );
    let again = response(run(&sb, "{}", Duration::from_secs(10)).await);
    assert_ne!(again["pid"], ok["pid"]);
    sb.shutdown().await;
}

#[tokio::test]
async fn init_is_bounded_and_retried_in_the_background_without_holding_requests() {
    let f = fixture();
    std::fs::write(f.function.join("slow-init"), "").expect("marker");
    let mut cfg = config(&f);
    cfg.init_timeout = Duration::from_millis(700);
    let sb = Sandbox::new(cfg, Some(Layer::open(&f.layer).expect("layer")))
        .await
        .expect("sandbox");
    let started = std::time::Instant::now();
    assert_eq!(sb.init().await, InitState::TimedOut);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let report = sb.init_failure().expect("a report");
    assert!(
        report.starts_with("the function did not finish starting within 0.7 s: its runtime never asked for its first event"),
        "{report}"
    );
    // The cause goes away; the next request is answered at once with the
    // init error (not held for another init limit) and starts a retry.
    std::fs::remove_file(f.function.join("slow-init")).expect("rm");
    let lines_before = log_lines(&f.log).len();
    let asked = std::time::Instant::now();
    let outcome = run(&sb, "{}", Duration::from_secs(10)).await;
    assert!(
        matches!(outcome, Outcome::InitError(ref e) if e.error_type == "Sandbox.Timedout"),
        "{outcome:?}"
    );
    assert!(
        asked.elapsed() < Duration::from_millis(500),
        "{:?}",
        asked.elapsed()
    );
    // Once the background retry is done, requests are served.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        match run(&sb, "{}", Duration::from_secs(10)).await {
            Outcome::Response(_) => break,
            Outcome::InitError(_) => {}
            other => panic!("{other:?}"),
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the retry never succeeded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sb.init_failure(), None, "a success clears the report");
    // A fresh runtime served it.
    assert!(
        log_lines(&f.log)[lines_before..]
            .iter()
            .any(|l| l == "runtime-start"),
        "{:?}",
        log_lines(&f.log)
    );
    sb.shutdown().await;
}
