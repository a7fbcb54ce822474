//! `portside-local web` end to end: the real binary, real app processes
//! (Python's standard library, and Node for the default command) and real
//! sockets. One test per point of the Web Functions contract it plays
//! (local/WEBFUNCTIONS.md lists each with its source); the expected values
//! come from the documentation, never from the code under test.

mod common;

use bytes::Bytes;
use common::local::{alive, Launch, Local};
use common::{get, request, TempDir};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A test app on `AWS_LAMBDA_HTTP_ENDPOINT` (Python's standard library):
///
/// - `/info`: what it received (method, path, every header line in order,
///   the body's length and sha256, when the handler started), how it runs
///   (pid, its environment as exec'd, from /proc/self/environ) and how many
///   requests it has handled, this one included;
/// - `/sleep?s=S`: answers after S seconds;
/// - `/drip?n=N&every=S`: N chunks of `chunk I\n`, one every S seconds;
/// - `/hold?n=N`: waits until N requests are in the handler at once (20 s
///   at most), then answers its pid and the most it saw at once;
/// - `/print?msg=M`: prints M on stdout, then answers;
/// - `/spoof`: answers with its own `lambda-web-error-type` and
///   `Connection` headers;
/// - `/die`: exits the process mid-request.
///
/// `APP_MODE=never-listen` never listens; `APP_MODE=exit` exits 3 at once;
/// `APP_DELAY=S` listens after S seconds. On SIGTERM it appends
/// `term <time>` to `APP_TERM_LOG` (if set) and exits, or with
/// `APP_TERM=ignore` keeps running, appending `alive <time>` every 20 ms.
const APP: &str = r#"
import hashlib, json, os, signal, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

TERM_LOG = os.environ.get("APP_TERM_LOG")

def note(text):
    if TERM_LOG:
        with open(TERM_LOG, "a") as f:
            f.write(f"{text} {time.time():.6f}\n")

def on_term(signum, frame):
    note("term")
    if os.environ.get("APP_TERM") == "ignore":
        while True:
            note("alive")
            time.sleep(0.02)
    sys.exit(0)

signal.signal(signal.SIGTERM, on_term)
mode = os.environ.get("APP_MODE", "")
print("app starting", flush=True)
if mode == "exit":
    sys.exit(3)
if mode == "never-listen":
    time.sleep(600)
time.sleep(float(os.environ.get("APP_DELAY", "0")))

lock = threading.Condition()
inside = {"now": 0, "peak": 0, "count": 0}

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send_json(self, doc, extra=()):
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        started = time.time()
        with lock:
            inside["count"] += 1
            count = inside["count"]
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length) if length else b""
        if url.path == "/sleep":
            time.sleep(float(q["s"]))
        if url.path == "/die":
            os._exit(9)
        if url.path == "/print":
            print(q["msg"], flush=True)
        if url.path == "/drip":
            return self.drip(int(q["n"]), float(q["every"]))
        if url.path == "/hold":
            return self.hold(int(q["n"]))
        extra = [("lambda-web-error-type", "App.Spoofed"), ("x-app", "1")] if url.path == "/spoof" else []
        environ = open("/proc/self/environ", "rb").read().split(b"\0")
        env = dict(e.decode().split("=", 1) for e in environ if b"=" in e)
        self.send_json({
            "pid": os.getpid(), "method": self.command, "path": self.path,
            "version": self.request_version, "headers": [[k, v] for k, v in self.headers.items()],
            "body_len": len(body), "body_sha256": hashlib.sha256(body).hexdigest(),
            "started": started, "env": env, "count": count,
        }, extra)

    def drip(self, n, every):
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for i in range(n):
            data = f"chunk {i}\n".encode()
            try:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            except OSError:
                return
            time.sleep(every)
        self.wfile.write(b"0\r\n\r\n")

    def hold(self, n):
        with lock:
            inside["now"] += 1
            inside["peak"] = max(inside["peak"], inside["now"])
            lock.notify_all()
            lock.wait_for(lambda: inside["peak"] >= n, timeout=20)
            peak = inside["peak"]
        self.send_json({"pid": os.getpid(), "peak": peak})
        with lock:
            inside["now"] -= 1

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = handle_any

    def log_message(self, *args):
        pass

class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

host, port = os.environ["AWS_LAMBDA_HTTP_ENDPOINT"].rsplit(":", 1)
Server((host, int(port)), Handler).serve_forever()
"#;

/// A folder holding the test app.
fn app_dir(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    std::fs::write(dir.path().join("app.py"), APP).expect("write app");
    dir
}

/// The Python interpreter itself, not a wrapper that would add variables
/// of its own to the app's environment (pyenv's `python3` is a shell script).
fn python() -> &'static str {
    static PYTHON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = std::process::Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 is needed (Python 3.11+)");
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_string()
    })
}

/// `portside-local web ARGS -- python3 app.py` in `dir` (the app's
/// variables go through `--env`).
fn web(dir: &TempDir, args: &[&str]) -> Local {
    let mut all = vec!["web"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--", python(), "app.py"]);
    let local = Local::start(Launch::new(&all).cwd(dir.path()));
    assert!(
        local.stdout.contains(" is up at "),
        "not up\nstdout:\n{}\nstderr:\n{}",
        local.stdout,
        local.stderr()
    );
    local
}

/// The JSON system events and log events portside-local wrote so far.
fn log_lines(local: &Local) -> Vec<serde_json::Value> {
    local
        .stderr()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn events<'a>(lines: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    lines.iter().filter(|l| l["type"] == kind).collect()
}

/// Writes `raw` on a fresh connection and reads the status code and the
/// whole answer (until the peer closes or the head and Content-Length are
/// in).
async fn raw(addr: &str, raw: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(raw.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.split_once(':')
                        .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                })
                .and_then(|(_, v)| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let status = text
                    .split(' ')
                    .nth(1)
                    .and_then(|c| c.parse().ok())
                    .expect("status");
                return (status, text);
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(20), s.read(&mut tmp))
            .await
            .expect("answer in time")
            .expect("read");
        assert!(
            n > 0,
            "closed before an answer: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&tmp[..n]);
    }
}

fn header_lines(info: &serde_json::Value) -> Vec<(String, String)> {
    info["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_ascii_lowercase(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

// --- Requests ----------------------------------------------------------------------

#[tokio::test]
async fn http_10_gets_505_before_the_app() {
    let dir = app_dir("v10");
    let local = web(&dir, &[]);
    let (status, text) = raw(local.addr(), "GET /info HTTP/1.0\r\nHost: x\r\n\r\n").await;
    assert_eq!(status, 505, "{text}");
    assert!(
        text.to_ascii_lowercase().contains("lambda-web-request-id:"),
        "{text}"
    );
    assert!(
        !text.to_ascii_lowercase().contains("lambda-web-error-type"),
        "{text}"
    );
    // The same request in HTTP/1.1 reaches the app.
    let (status, _) = raw(local.addr(), "GET /info HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(status, 200);
    let info = get(local.addr(), "/info", &[]).await.json();
    assert_eq!(
        info["count"], 2,
        "only the HTTP/1.1 requests reached the app: {info}"
    );
}

#[tokio::test]
async fn methods_outside_the_documented_seven_get_400_before_the_app() {
    let dir = app_dir("methods");
    let local = web(&dir, &[]);
    for method in ["TRACE", "PROPFIND", "PURGE", "CONNECT"] {
        let target = if method == "CONNECT" {
            "example.com:443"
        } else {
            "/info"
        };
        let (status, text) = raw(
            local.addr(),
            &format!("{method} {target} HTTP/1.1\r\nHost: x\r\n\r\n"),
        )
        .await;
        assert_eq!(status, 400, "{method}: {text}");
    }
    // No Host: 400 as well (web-functions-http, Host).
    let (status, _) = raw(local.addr(), "GET /info HTTP/1.1\r\n\r\n").await;
    assert_eq!(status, 400);
    // The seven documented methods reach the app.
    for (i, method) in ["GET", "HEAD", "POST", "PUT", "PATCH", "OPTIONS", "DELETE"]
        .iter()
        .enumerate()
    {
        let r = request(local.addr(), method, "/info", &[], Bytes::new()).await;
        assert_eq!(r.status, 200, "{method}");
        if *method != "HEAD" {
            assert_eq!(r.json()["method"], *method);
            assert_eq!(
                r.json()["count"],
                i + 1,
                "{method} is request {} the app sees",
                i + 1
            );
        }
    }
}

#[tokio::test]
async fn expect_100_continue_gets_417_and_never_reaches_the_app() {
    let dir = app_dir("expect");
    let local = web(&dir, &[]);
    let (status, text) = raw(
        local.addr(),
        "POST /info HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
    )
    .await;
    assert_eq!(status, 417, "{text}");
    let info = get(local.addr(), "/info", &[]).await.json();
    assert_eq!(info["count"], 1, "{info}");
}

#[tokio::test]
async fn request_headers_are_stripped_and_added_as_documented() {
    let dir = app_dir("headers");
    let local = web(&dir, &["--endpoint-name", "prod"]);
    // A WebSocket handshake with every header the endpoint removes.
    let sent = [
        ("Connection", "Upgrade, X-Hop"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
        ("X-Hop", "named in Connection"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"),
        ("Trailer", "X-Sum"),
        ("Proxy-Authorization", "Basic eDp5"),
        ("Proxy-Connection", "keep-alive"),
        ("X-Real-IP", "10.1.2.3"),
        ("X-HTTP-Method-Override", "DELETE"),
        ("X-HTTP-Method", "DELETE"),
        ("X-Method-Override", "DELETE"),
        ("lambda-web-request-id", "SPOOFED"),
        ("lambda-web-endpoint-name", "spoofed"),
        ("Lambda-Web-Other", "x"),
        ("X-Forwarded-For", "203.0.113.7"),
        ("X-Tag", "a"),
        ("X-Tag", "b"),
    ];
    let r = get(local.addr(), "/info?q=1", &sent).await;
    assert_eq!(
        r.status,
        200,
        "a WebSocket handshake is a plain GET, not a 101: {}",
        r.text()
    );
    let info = r.json();
    assert_eq!(info["method"], "GET");
    assert_eq!(info["path"], "/info?q=1");
    assert_eq!(info["version"], "HTTP/1.1");
    let id = r.header("lambda-web-request-id").expect("request id");
    let want: Vec<(String, String)> = [
        ("host", local.addr()),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("sec-websocket-version", "13"),
        ("x-tag", "a"),
        ("x-tag", "b"),
        ("x-forwarded-for", "203.0.113.7, 127.0.0.1"),
        ("lambda-web-request-id", &id),
        ("lambda-web-endpoint-name", "prod"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(header_lines(&info), want);
    // Without a client X-Forwarded-For, the client's address alone.
    let info = get(local.addr(), "/info", &[]).await.json();
    let xff: Vec<_> = header_lines(&info)
        .into_iter()
        .filter(|(k, _)| k == "x-forwarded-for")
        .collect();
    assert_eq!(
        xff,
        [("x-forwarded-for".to_string(), "127.0.0.1".to_string())]
    );
}

#[tokio::test]
async fn response_headers_carry_the_request_id_and_log_stream_but_not_the_apps_own() {
    let dir = app_dir("resp");
    let local = web(&dir, &[]);
    let r = get(local.addr(), "/spoof", &[]).await;
    assert_eq!(r.status, 200);
    let info = r.json();
    let seen_id = header_lines(&info)
        .into_iter()
        .find(|(k, _)| k == "lambda-web-request-id")
        .map(|(_, v)| v)
        .expect("the app got a request id");
    assert_eq!(r.header("lambda-web-request-id"), Some(seen_id.clone()));
    assert_eq!(seen_id.len(), 26, "{seen_id}");
    assert!(
        r.header("lambda-web-error-type").is_none(),
        "the app's lambda-web-* header passed"
    );
    assert_eq!(r.header("x-app").as_deref(), Some("1"));
    let stream = r.header("lambda-web-logstream").expect("log stream");
    // The stream of the environment that served it: the one its initStart names.
    let lines = log_lines(&local);
    let start = events(&lines, "platform.initStart");
    let instance = start[0]["record"]["instanceId"].as_str().unwrap();
    assert!(
        stream.ends_with(&format!("[local]{instance}")),
        "{stream} vs {instance}"
    );
    // A second request: another id, the same environment.
    let r2 = get(local.addr(), "/info", &[]).await;
    assert_ne!(r2.header("lambda-web-request-id"), Some(seen_id));
    assert_eq!(r2.header("lambda-web-logstream"), Some(stream));
}

#[tokio::test]
async fn the_whole_body_reaches_the_app_before_it_answers() {
    let dir = app_dir("body");
    let local = web(&dir, &[]);
    let addr: std::net::SocketAddr = local.addr().parse().unwrap();
    let mut upload = common::RawChunkedPost::start(addr, "/info", &[]).await;
    upload.chunk(b"first part, ").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let last_sent = std::time::SystemTime::now();
    upload.chunk(b"second part").await;
    let (status, body) = upload.finish(&[("x-sum", "1")]).await;
    assert_eq!(status, 200, "{body}");
    let info: serde_json::Value = serde_json::from_str(&body).unwrap();
    let whole = b"first part, second part";
    assert_eq!(info["body_len"], whole.len());
    let sha = {
        use std::process::Command;
        // sha256 by the system's tool: an oracle independent of the app.
        let dir = TempDir::new("sha");
        let f = dir.path().join("b");
        std::fs::write(&f, whole).unwrap();
        let out = Command::new("sha256sum")
            .arg(&f)
            .output()
            .expect("sha256sum");
        String::from_utf8(out.stdout)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(info["body_sha256"], sha);
    let lines = header_lines(&info);
    assert!(
        lines.contains(&("content-length".into(), whole.len().to_string())),
        "{lines:?}"
    );
    assert!(
        !lines
            .iter()
            .any(|(k, _)| k == "transfer-encoding" || k == "x-sum"),
        "{lines:?}"
    );
    // The app's handler started only once the last byte was sent.
    let last = last_sent
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        info["started"].as_f64().unwrap() >= last - 0.01,
        "the app got the head before the body was whole"
    );
}

// --- Lifecycle -----------------------------------------------------------------------

#[tokio::test]
async fn the_app_gets_the_documented_environment_and_no_other() {
    let dir = app_dir("env");
    let local = web(
        &dir,
        &[
            "--region",
            "eu-west-3",
            "--env",
            "FOO=bar",
            "--env",
            "APP_DELAY=0",
        ],
    );
    let info = get(local.addr(), "/info", &[]).await.json();
    let env = info["env"].as_object().unwrap();
    let endpoint = env["AWS_LAMBDA_HTTP_ENDPOINT"].as_str().unwrap();
    let (host, port) = endpoint.rsplit_once(':').unwrap();
    assert_eq!(host, "127.0.0.1", "loopback only");
    assert_ne!(
        port,
        local.addr().rsplit_once(':').unwrap().1,
        "the app has its own port"
    );
    assert_eq!(env["AWS_LAMBDA_INITIALIZATION_TYPE"], "native-http");
    assert_eq!(env["AWS_REGION"], "eu-west-3");
    assert_eq!(env["FOO"], "bar");
    // Exactly these, and the caller's credentials (the role's stand-in).
    let mut want: Vec<String> = [
        "PATH",
        "AWS_LAMBDA_HTTP_ENDPOINT",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_REGION",
        "FOO",
        "APP_DELAY",
    ]
    .map(String::from)
    .to_vec();
    want.extend(std::env::vars().map(|(k, _)| k).filter(|k| {
        matches!(
            k.as_str(),
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN"
        ) || k.starts_with("AWS_ENDPOINT_URL")
    }));
    want.sort();
    let mut got: Vec<String> = env.keys().cloned().collect();
    got.sort();
    assert_eq!(
        got, want,
        "PORT and classic Lambda's variables must not be set"
    );
}

#[tokio::test]
async fn requests_wait_until_the_app_listens() {
    let dir = app_dir("late");
    let started = Instant::now();
    let local = web(&dir, &["--env", "APP_DELAY=1.5"]);
    let r = get(local.addr(), "/info", &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "answered before the app listened"
    );
    let lines = log_lines(&local);
    let report = events(&lines, "platform.initReport");
    assert_eq!(report.len(), 1, "{lines:?}");
    assert_eq!(report[0]["record"]["status"], "success");
    let ms = report[0]["record"]["metrics"]["durationMs"]
        .as_f64()
        .unwrap();
    assert!(
        ms >= 1500.0,
        "init took {ms} ms: the app listened after 1.5 s"
    );
}

#[tokio::test]
async fn an_app_not_listening_10_s_after_start_fails_init_with_a_report_and_500() {
    let dir = app_dir("never");
    let local = web(&dir, &["--env", "APP_MODE=never-listen"]);
    let sent = Instant::now();
    let r = get(local.addr(), "/info", &[]).await;
    let waited = sent.elapsed();
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(
        r.header("lambda-web-error-type").as_deref(),
        Some("Runtime.InitTimeout")
    );
    assert!(r.header("lambda-web-logstream").is_some());
    assert!(
        r.text().contains("AWS_LAMBDA_HTTP_ENDPOINT"),
        "{}",
        r.text()
    );
    // Ten seconds from the app's start (the prewarmed environment started
    // just before the request).
    assert!(
        waited >= Duration::from_millis(9_000) && waited < Duration::from_secs(14),
        "{waited:?}"
    );
    let lines = log_lines(&local);
    let failed: Vec<_> = events(&lines, "platform.initReport")
        .into_iter()
        .filter(|e| e["record"]["status"] == "failure")
        .collect();
    assert!(
        !failed.is_empty(),
        "no failed initReport:\n{}",
        local.stderr()
    );
    assert_eq!(failed[0]["record"]["errorType"], "Runtime.InitTimeout");
    let ms = failed[0]["record"]["metrics"]["durationMs"]
        .as_f64()
        .unwrap();
    assert!((10_000.0..11_000.0).contains(&ms), "{ms}");
    assert!(
        local.stderr().contains("failed its init"),
        "a line that says why"
    );
}

#[tokio::test]
async fn an_app_that_exits_during_init_fails_at_once_with_its_exit() {
    let dir = app_dir("exits");
    let local = web(&dir, &["--env", "APP_MODE=exit"]);
    let sent = Instant::now();
    let r = get(local.addr(), "/info", &[]).await;
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(
        r.header("lambda-web-error-type").as_deref(),
        Some("Runtime.ExitError")
    );
    assert!(r.text().contains("exit status 3"), "{}", r.text());
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "it waited for the 10 s limit"
    );
    let lines = log_lines(&local);
    assert!(events(&lines, "platform.initReport")
        .iter()
        .any(|e| e["record"]["errorType"] == "Runtime.ExitError"));
}

#[tokio::test]
async fn an_app_that_dies_mid_request_gets_502_and_the_next_request_a_new_environment() {
    let dir = app_dir("dies");
    let local = web(&dir, &[]);
    let first = get(local.addr(), "/info", &[]).await.json()["pid"].clone();
    let r = get(local.addr(), "/die", &[]).await;
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(
        r.header("lambda-web-error-type").as_deref(),
        Some("Runtime.ExitError")
    );
    let again = get(local.addr(), "/info", &[]).await;
    assert_eq!(again.status, 200);
    assert_ne!(again.json()["pid"], first, "served by a new environment");
}

/// Reads `/tmp/...` lines `term <t>` / `alive <t>` the app appends.
fn term_log(path: &std::path::Path) -> Vec<(String, f64)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, t)| (k.to_string(), t.parse().unwrap()))
        .collect()
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[tokio::test]
async fn stopping_lets_requests_in_flight_finish_then_sends_sigterm() {
    let dir = app_dir("drain");
    let term = dir.path().join("term.log");
    let log_arg = format!("APP_TERM_LOG={}", term.display());
    let mut local = web(&dir, &["--env", &log_arg]);
    let addr = local.addr().to_string();
    get(&addr, "/info", &[]).await;
    let slow = tokio::spawn(async move { get(&addr, "/sleep?s=1.5", &[]).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = local.pid();
    let stopper = std::thread::spawn(move || {
        let started = Instant::now();
        let (took, code) = local.stop_with(libc::SIGTERM);
        (started, took, code, local)
    });
    let r = slow.await.unwrap();
    let answered = now_secs();
    assert_eq!(
        r.status,
        200,
        "the request in flight finished: {}",
        r.text()
    );
    let (_, took, code, local) = stopper.join().unwrap();
    assert_eq!(code, Some(0), "{}", local.stderr());
    assert!(!alive(pid));
    let log = term_log(&term);
    let sigterm = log
        .iter()
        .find(|(k, _)| k == "term")
        .expect("the app got SIGTERM")
        .1;
    assert!(
        sigterm >= answered - 0.05,
        "SIGTERM came before the request in flight was answered"
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
    let lines = log_lines(&local);
    let report = events(&lines, "platform.spinDownReport");
    assert_eq!(report[0]["record"]["status"], "success", "{lines:?}");
}

#[tokio::test]
async fn an_app_that_ignores_sigterm_is_killed_1_s_later() {
    let dir = app_dir("grace");
    let term = dir.path().join("term.log");
    let log_arg = format!("APP_TERM_LOG={}", term.display());
    let mut local = web(&dir, &["--env", &log_arg, "--env", "APP_TERM=ignore"]);
    let pid = get(local.addr(), "/info", &[]).await.json()["pid"]
        .as_i64()
        .unwrap() as i32;
    // Nothing in flight: the app gets SIGTERM as soon as portside-local
    // does; measured from here, not from the app's handler, which may run
    // late on a loaded machine.
    let stopped_at = now_secs();
    let (took, code) = local.stop_with(libc::SIGTERM);
    assert_eq!(code, Some(0));
    assert!(!alive(pid), "the app outlived the stop");
    let log = term_log(&term);
    assert!(log.iter().any(|(k, _)| k == "term"), "the app got SIGTERM");
    let last_alive = log
        .iter()
        .filter(|(k, _)| k == "alive")
        .map(|(_, t)| *t)
        .fold(0.0, f64::max);
    let grace = last_alive - stopped_at;
    // Alive for the whole second (heartbeats every 20 ms), dead soon after.
    assert!(
        (0.9..1.3).contains(&grace),
        "lived {grace:.3} s after the stop"
    );
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let lines = log_lines(&local);
    assert_eq!(
        events(&lines, "platform.spinDownReport")[0]["record"]["status"],
        "timeout"
    );
}

// [lifecycle] "Lambda stops routing new requests to the environment, lets
// in-flight requests finish"; WEBFUNCTIONS.md ("Lifecycle", "Answers"):
// portside-local stops its listener and answers requests still arriving on
// open connections 503 `Platform.Unavailable`.
#[tokio::test]
async fn requests_arriving_while_the_endpoint_stops_get_503_and_never_reach_the_app() {
    let dir = app_dir("unavailable");
    let mut local = web(&dir, &[]);
    let addr = local.addr().to_string();
    // A kept-alive connection, opened while the endpoint takes requests.
    let stream = TcpStream::connect(&addr).await.expect("connect");
    let (mut open, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let on_open = |path: &str| {
        http::Request::get(path)
            .header("host", &addr)
            .body(http_body_util::Empty::<Bytes>::new())
            .unwrap()
    };
    let first = open.send_request(on_open("/info")).await.expect("send");
    assert_eq!(first.status(), 200);
    first.into_body().collect().await.expect("body");
    // A slow request keeps the environment draining.
    let slow_addr = addr.clone();
    let slow = tokio::spawn(async move { get(&slow_addr, "/sleep?s=2", &[]).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    local.signal(libc::SIGTERM);
    local.wait_for_stderr("portside-local: stopping", Duration::from_secs(5));

    open.ready()
        .await
        .expect("the open connection is still served");
    let late = open
        .send_request(on_open("/print?msg=late-request-marker"))
        .await
        .expect("an answer on the open connection");
    let (parts, body) = late.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    assert_eq!(parts.status, 503, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        parts.headers["lambda-web-error-type"],
        "Platform.Unavailable"
    );
    let id = parts.headers["lambda-web-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 26, "{id}");
    let message: serde_json::Value = serde_json::from_slice(&body).expect("a JSON body");
    assert!(message["message"].is_string(), "{message}");
    // No new connection is taken either.
    let deadline = Instant::now() + Duration::from_secs(1);
    while TcpStream::connect(&addr).await.is_ok() {
        assert!(Instant::now() < deadline, "still accepting connections");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let r = slow.await.unwrap();
    assert_eq!(
        r.status,
        200,
        "the request in flight finished: {}",
        r.text()
    );
    assert_eq!(local.wait(), Some(0), "{}", local.stderr());
    // The app prints what /print names: the late request never reached it.
    let stderr = local.stderr();
    assert!(!stderr.contains("late-request-marker"), "{stderr}");
}

#[tokio::test]
async fn an_idle_environment_is_scaled_down_and_the_next_request_starts_a_new_one() {
    let dir = app_dir("idle");
    let term = dir.path().join("term.log");
    let log_arg = format!("APP_TERM_LOG={}", term.display());
    let local = web(&dir, &["--idle-timeout", "1", "--env", &log_arg]);
    let first = get(local.addr(), "/info", &[]).await.json()["pid"]
        .as_i64()
        .unwrap() as i32;
    local.wait_for_stderr("platform.spinDownReport", Duration::from_secs(10));
    assert!(!alive(first), "the idle app was stopped");
    assert!(
        term_log(&term).iter().any(|(k, _)| k == "term"),
        "with SIGTERM first"
    );
    let lines = log_lines(&local);
    assert_eq!(
        events(&lines, "platform.spinDownStart")[0]["record"]["reason"],
        "idle"
    );
    let second = get(local.addr(), "/info", &[]).await.json()["pid"]
        .as_i64()
        .unwrap() as i32;
    assert_ne!(second, first);
    assert_eq!(
        events(&log_lines(&local), "platform.initStart").len(),
        2,
        "a cold start"
    );
}

// [lifecycle] "Lambda sends SIGTERM. The process has up to 1 second to
// complete cleanup before Lambda terminates and removes the environment":
// the same on an idle scale-down as on a stop.
#[tokio::test]
async fn an_idle_app_that_ignores_sigterm_is_killed_1_s_later() {
    let dir = app_dir("idle-grace");
    let term = dir.path().join("term.log");
    let log_arg = format!("APP_TERM_LOG={}", term.display());
    let local = web(
        &dir,
        &[
            "--idle-timeout",
            "1",
            "--env",
            &log_arg,
            "--env",
            "APP_TERM=ignore",
        ],
    );
    let pid = get(local.addr(), "/info", &[]).await.json()["pid"]
        .as_i64()
        .unwrap() as i32;
    local.wait_for_stderr("platform.spinDownReport", Duration::from_secs(10));
    assert!(!alive(pid), "the idle app outlived its scale-down");
    let log = term_log(&term);
    let sigterm = log
        .iter()
        .find(|(k, _)| k == "term")
        .expect("the app got SIGTERM")
        .1;
    let last_alive = log
        .iter()
        .filter(|(k, _)| k == "alive")
        .map(|(_, t)| *t)
        .fold(0.0, f64::max);
    // Alive for the whole second after SIGTERM (heartbeats every 20 ms),
    // dead soon after.
    let grace = last_alive - sigterm;
    assert!(
        (0.9..1.3).contains(&grace),
        "lived {grace:.3} s after SIGTERM"
    );
    let lines = log_lines(&local);
    assert_eq!(
        events(&lines, "platform.spinDownStart")[0]["record"]["reason"],
        "idle"
    );
    assert_eq!(
        events(&lines, "platform.spinDownReport")[0]["record"]["status"],
        "timeout"
    );
}

// --- Concurrency ---------------------------------------------------------------------

#[tokio::test]
async fn one_environment_serves_64_requests_at_once_in_one_process() {
    let dir = app_dir("c64");
    let local = web(&dir, &[]);
    let mut held = Vec::new();
    for _ in 0..64 {
        let addr = local.addr().to_string();
        held.push(tokio::spawn(
            async move { get(&addr, "/hold?n=64", &[]).await },
        ));
    }
    let mut pids = std::collections::HashSet::new();
    for h in held {
        let r = h.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        assert_eq!(v["peak"], 64, "the app saw {} at once", v["peak"]);
        pids.insert(v["pid"].as_i64().unwrap());
    }
    assert_eq!(pids.len(), 1, "all 64 in one process: {pids:?}");
    assert_eq!(
        events(&log_lines(&local), "platform.initStart").len(),
        1,
        "one environment"
    );
}

#[tokio::test]
async fn past_the_last_environment_a_request_is_throttled_at_once() {
    let dir = app_dir("throttle");
    let local = web(&dir, &["--max-concurrency", "1", "--max-environments", "2"]);
    let mut held = Vec::new();
    for _ in 0..2 {
        let addr = local.addr().to_string();
        held.push(tokio::spawn(
            async move { get(&addr, "/sleep?s=2", &[]).await },
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both environments are full (one still starting): the third is refused.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = Instant::now();
    let r = get(local.addr(), "/info", &[]).await;
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(
        sent.elapsed() < Duration::from_millis(500),
        "not at once: {:?}",
        sent.elapsed()
    );
    assert_eq!(
        r.header("lambda-web-error-type").as_deref(),
        Some("Platform.Throttled")
    );
    let mut pids = std::collections::HashSet::new();
    let mut endpoints = std::collections::HashSet::new();
    for h in held {
        let r = h.await.unwrap();
        assert_eq!(r.status, 200);
        pids.insert(r.json()["pid"].as_i64().unwrap());
        endpoints.insert(
            r.json()["env"]["AWS_LAMBDA_HTTP_ENDPOINT"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(pids.len(), 2, "two environments, two processes");
    assert_eq!(endpoints.len(), 2, "each environment has its own endpoint");
    // With room again, requests are served.
    assert_eq!(get(local.addr(), "/info", &[]).await.status, 200);
}

// --- Timeout and streaming -----------------------------------------------------------

#[tokio::test]
async fn a_request_past_the_timeout_gets_504_runtime_request_timeout() {
    let dir = app_dir("timeout");
    let local = web(&dir, &["--timeout", "3"]);
    get(local.addr(), "/info", &[]).await;
    let sent = Instant::now();
    let r = get(local.addr(), "/sleep?s=6", &[]).await;
    let took = sent.elapsed();
    assert_eq!(r.status, 504, "{}", r.text());
    assert_eq!(
        r.header("lambda-web-error-type").as_deref(),
        Some("Runtime.RequestTimeout")
    );
    assert!(
        r.header("lambda-web-request-id").is_some() && r.header("lambda-web-logstream").is_some()
    );
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_millis(4500),
        "{took:?}"
    );
}

/// (status, headers, [(seconds since sent, chunk)], whether the body ended
/// cleanly) for a GET read frame by frame.
async fn read_timed(addr: &str, path: &str) -> (u16, http::HeaderMap, Vec<(f64, Bytes)>, bool) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let req = http::Request::get(path)
        .header("host", addr)
        .body(http_body_util::Empty::<Bytes>::new())
        .unwrap();
    let sent = Instant::now();
    let resp = sender.send_request(req).await.expect("head");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let mut body = resp.into_body();
    let mut chunks = Vec::new();
    let clean = loop {
        match body.frame().await {
            Some(Ok(f)) => {
                if let Ok(data) = f.into_data() {
                    chunks.push((sent.elapsed().as_secs_f64(), data));
                }
            }
            Some(Err(_)) => break false,
            None => break true,
        }
    };
    (status, headers, chunks, clean)
}

#[tokio::test]
async fn responses_stream_as_the_app_writes_them() {
    let dir = app_dir("stream");
    let local = web(&dir, &[]);
    get(local.addr(), "/info", &[]).await;
    let (status, headers, chunks, clean) = read_timed(local.addr(), "/drip?n=5&every=0.4").await;
    assert_eq!(status, 200);
    assert!(clean);
    assert!(headers.contains_key("lambda-web-request-id"));
    let body: Vec<u8> = chunks.iter().flat_map(|(_, c)| c.to_vec()).collect();
    let want: String = (0..5).map(|i| format!("chunk {i}\n")).collect();
    assert_eq!(String::from_utf8(body).unwrap(), want);
    // The app writes chunk i at about 0.4 * i s: the first arrives long
    // before the last is written, the last only then.
    let first = chunks[0].0;
    let last = chunks.last().unwrap().0;
    assert!(first < 0.8, "first chunk after {first:.2} s: buffered");
    assert!(
        !chunks[0].1.ends_with(b"chunk 4\n"),
        "the first chunk held the last one"
    );
    assert!(
        last >= 1.5,
        "everything by {last:.2} s: the app's pauses were lost"
    );
}

#[tokio::test]
async fn a_stream_past_the_timeout_is_cut_with_the_status_already_sent() {
    let dir = app_dir("cut");
    let local = web(&dir, &["--timeout", "3"]);
    get(local.addr(), "/info", &[]).await;
    let (status, headers, chunks, clean) = read_timed(local.addr(), "/drip?n=20&every=0.5").await;
    assert_eq!(status, 200, "the status already sent");
    assert!(headers.get("lambda-web-error-type").is_none());
    assert!(
        !clean,
        "the body must end as an error, not as a complete response"
    );
    let body: Vec<u8> = chunks.iter().flat_map(|(_, c)| c.to_vec()).collect();
    let text = String::from_utf8(body).unwrap();
    assert!(text.starts_with("chunk 0\nchunk 1\n"), "{text}");
    assert!(
        !text.contains("chunk 19"),
        "the whole stream arrived: {text}"
    );
    let last = chunks.last().unwrap().0;
    assert!((2.5..4.0).contains(&last), "cut after {last:.2} s");
}

// --- Logs ----------------------------------------------------------------------------

#[tokio::test]
async fn the_apps_output_carries_the_request_id_and_platform_records_are_json() {
    let dir = app_dir("logs");
    let local = web(&dir, &["--endpoint-name", "prod", "--region", "eu-west-1"]);
    let r = get(local.addr(), "/print?msg=hello-from-the-handler", &[]).await;
    let id = r.header("lambda-web-request-id").unwrap();
    local.wait_for_stderr("hello-from-the-handler", Duration::from_secs(5));
    let lines = log_lines(&local);
    let line = lines
        .iter()
        .find(|l| l["message"] == "hello-from-the-handler")
        .unwrap();
    assert_eq!(line["requestId"], id.as_str());
    assert_eq!(line["endpointName"], "prod");
    assert_eq!(line["region"], "eu-west-1");
    assert_eq!(line["level"], "INFO");
    let boot = lines
        .iter()
        .find(|l| l["message"] == "app starting")
        .unwrap();
    assert!(
        boot.get("requestId").is_none(),
        "module-load lines have no request id"
    );
    for kind in [
        "platform.initStart",
        "platform.initReport",
        "platform.invokeStart",
    ] {
        let e = events(&lines, kind);
        assert_eq!(e.len(), 1, "{kind}");
        let keys: Vec<&String> = e[0].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["timestamp", "level", "type", "region", "record"],
            "{kind}"
        );
        assert_eq!(e[0]["region"], "eu-west-1");
        assert!(e[0]["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}

// --- The command line ---------------------------------------------------------------

#[test]
fn bad_flag_values_name_the_flag_and_the_accepted_range() {
    for (args, needle) in [
        (&["--max-concurrency", "129"][..], "--max-concurrency"),
        (&["--max-concurrency", "0"][..], "1..=128"),
        (&["--max-environments", "0"][..], "--max-environments"),
        (&["--timeout", "901"][..], "3..=900"),
        (&["--timeout", "2"][..], "--timeout"),
        (
            &["--env", "AWS_LAMBDA_HTTP_ENDPOINT=0.0.0.0:1"][..],
            "AWS_LAMBDA_HTTP_ENDPOINT cannot be set",
        ),
        (&["--env", "NOVALUE"][..], "--env"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_portside-local"))
            .arg("web")
            .args(args)
            .args(["--", "true"])
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn without_a_command_node_runs_index_js_or_the_named_entry_file() {
    let app = r#"
const http = require('http');
const [host, port] = process.env.AWS_LAMBDA_HTTP_ENDPOINT.split(':');
http.createServer((req, res) => res.end(require('path').basename(__filename)))
  .listen(Number(port), host);
"#;
    let dir = TempDir::new("node");
    std::fs::write(dir.path().join("index.js"), app).unwrap();
    std::fs::write(dir.path().join("server.js"), app).unwrap();
    let local = Local::start(Launch::new(&["web"]).cwd(dir.path()));
    assert_eq!(
        get(local.addr(), "/", &[]).await.text(),
        "index.js",
        "{}",
        local.stderr()
    );
    drop(local);
    let local = Local::start(
        Launch::new(&["web", "--env", "AWS_LAMBDA_NODEJS_ENTRYPOINT=server.js"]).cwd(dir.path()),
    );
    assert_eq!(
        get(local.addr(), "/", &[]).await.text(),
        "server.js",
        "{}",
        local.stderr()
    );
    // No index.js: a clear error.
    let empty = TempDir::new("node-empty");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portside-local"))
        .arg("web")
        .current_dir(empty.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no index.js"));
}

#[tokio::test]
async fn a_request_carries_up_to_6300_header_lines_and_more_get_431() {
    // maxHeadersCount 0: Node keeps every header line it gets.
    let app = r#"
const http = require('http');
const [host, port] = process.env.AWS_LAMBDA_HTTP_ENDPOINT.split(':');
const server = http.createServer((req, res) => {
  const n = req.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase().startsWith('x-n-')).length;
  res.setHeader('x-many', Array.from({ length: 150 }, (_, i) => i).map(String));
  res.end(String(n));
});
server.maxHeadersCount = 0;
server.listen(Number(port), host);
"#;
    let dir = TempDir::new("many");
    std::fs::write(dir.path().join("index.js"), app).unwrap();
    let local = Local::start(Launch::new(&["web"]).cwd(dir.path()));
    // Read raw: hyper's own client stops at 100 header lines.
    let mut head = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
    for i in 0..1_500 {
        head.push_str(&format!("x-n-{i}: v\r\n"));
    }
    head.push_str("\r\n");
    let (status, text) = raw(local.addr(), &head).await;
    assert_eq!(status, 200, "{}", local.stderr());
    assert!(
        text.ends_with("\r\n\r\n1500"),
        "every header line reached the app: {text}"
    );
    let many = text
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("x-many:"))
        .count();
    assert_eq!(many, 150, "and every line of its answer came back");
    // Past the quota: 431 from the endpoint, before the app.
    let mut head = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
    for i in 0..6_300 {
        head.push_str(&format!("x-n-{i}: v\r\n"));
    }
    head.push_str("\r\n");
    let (status, _) = raw(local.addr(), &head).await;
    assert_eq!(status, 431);
}
