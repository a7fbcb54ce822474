//! Test support: a real HTTP/1.1 app on a loopback socket whose every byte
//! and keep-alive decision the test controls, and a harness that runs the
//! real `portside` binary against portside-local's Runtime API; the events
//! the tests send (`events`); apps that decline uploads (`declining`) or mix
//! every fault (`mixed`), and a proxy that resets the Runtime API's
//! connections (`faulty`).

pub mod declining;
pub mod events;
pub mod faulty;
pub mod mixed;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use portside_local::runtime_api::{self, InitState, InvokeOptions, Outcome, RuntimeApi};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

/// A request as the app received it off the wire.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub target: String,
    /// Header lines in wire order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Which accepted connection carried it (0, 1, ...).
    pub connection: usize,
    /// How many requests that connection carried before this one.
    pub nth_on_connection: usize,
}

impl Received {
    /// Every value of a header (case-insensitive name), in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The only value of a header.
    pub fn one(&self, name: &str) -> &str {
        let all = self.all(name);
        assert_eq!(all.len(), 1, "{name}: {all:?}");
        all[0]
    }
}

/// One step of a chunked (streamed) answer.
#[derive(Debug)]
pub enum Chunk {
    /// Body bytes, sent as one chunk and flushed.
    Data(Bytes),
    /// The last chunk: the answer is complete.
    End,
    /// Close the connection in the middle of the answer.
    Abort,
}

/// Where a streamed answer's chunks come from: the test sends them.
#[derive(Debug, Clone)]
pub struct ChunkSource(Arc<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Chunk>>>);

impl ChunkSource {
    /// A source and the sender that feeds it.
    pub fn new() -> (tokio::sync::mpsc::UnboundedSender<Chunk>, ChunkSource) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (tx, ChunkSource(Arc::new(tokio::sync::Mutex::new(rx))))
    }
}

/// What the app answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Raw bytes to send instead of a response, then close.
    pub raw: Option<Bytes>,
    /// Close with a reset (RST) instead of a FIN after `raw`.
    pub reset: bool,
    /// A chunked body whose chunks the test sends.
    pub chunks: Option<ChunkSource>,
    /// Wait at this barrier before answering (to prove requests overlap).
    pub gate: Option<Arc<tokio::sync::Barrier>>,
}

impl Reply {
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            delay: Duration::ZERO,
            raw: None,
            reset: false,
            chunks: None,
            gate: None,
        }
    }
    pub fn gate(mut self, barrier: Arc<tokio::sync::Barrier>) -> Reply {
        self.gate = Some(barrier);
        self
    }
    pub fn chunked(mut self, source: ChunkSource) -> Reply {
        self.chunks = Some(source);
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn body(mut self, body: impl Into<Bytes>) -> Reply {
        self.body = body.into();
        self
    }
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
    pub fn raw(mut self, raw: impl Into<Bytes>) -> Reply {
        self.raw = Some(raw.into());
        self
    }
    /// Close the connection without answering (after `raw`, if any), with a
    /// reset rather than a FIN.
    pub fn reset(mut self) -> Reply {
        self.raw.get_or_insert_with(Bytes::new);
        self.reset = true;
        self
    }
    /// A JSON echo of what was received.
    pub fn echo(req: &Received) -> Reply {
        let echo = serde_json::json!({
            "method": req.method,
            "target": req.target,
            "headers": req.headers,
            "body": String::from_utf8_lossy(&req.body),
        });
        Reply::new(200)
            .header("Content-Type", "application/json")
            .body(echo.to_string())
    }
}

type Responder = Arc<dyn Fn(&Received) -> Reply + Send + Sync>;

/// How the app treats idle keep-alive connections.
#[derive(Debug, Clone, Copy)]
pub enum KeepAlive {
    /// Keep connections open.
    Forever,
    /// Close a connection idle this long (a framework's keep-alive timeout).
    CloseIdleAfter(Duration),
}

/// The test app.
pub struct App {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
    connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl App {
    /// Starts the app on an OS-chosen loopback port.
    pub async fn start(
        keep_alive: KeepAlive,
        respond: impl Fn(&Received) -> Reply + Send + Sync + 'static,
    ) -> App {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        App::serve(listener, keep_alive, Arc::new(respond))
    }

    /// Starts the app on `port` (which must be free).
    pub async fn start_on(
        port: u16,
        keep_alive: KeepAlive,
        respond: impl Fn(&Received) -> Reply + Send + Sync + 'static,
    ) -> App {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        App::serve(listener, keep_alive, Arc::new(respond))
    }

    fn serve(listener: TcpListener, keep_alive: KeepAlive, respond: Responder) -> App {
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let r = received.clone();
        let connections = Arc::new(Mutex::new(Vec::new()));
        let tasks = connections.clone();
        let task = tokio::spawn(async move {
            let mut connection = 0;
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (r, respond) = (r.clone(), respond.clone());
                let served =
                    tokio::spawn(serve_connection(stream, connection, keep_alive, respond, r));
                tasks.lock().unwrap().push(served.abort_handle());
                connection += 1;
            }
        });
        App {
            port,
            received,
            task,
            connections,
        }
    }

    /// Every request received so far, except the adapter's readiness checks.
    pub fn received(&self) -> Vec<Received> {
        self.all_received()
            .into_iter()
            .filter(|r| !r.all("user-agent").contains(&"portside-readiness-check"))
            .collect()
    }

    /// Every request received so far, readiness checks included.
    pub fn all_received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Stops listening and closes every connection.
    pub fn stop(self) -> u16 {
        self.port
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

async fn read_request(
    reader: &mut BufReader<TcpStream>,
) -> Option<(String, String, Vec<(String, String)>, Bytes)> {
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.trim_end().splitn(3, ' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).await.ok()?;
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.to_string(), v.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).await.ok()?;
    Some((method, target, headers, Bytes::from(body)))
}

async fn serve_connection(
    stream: TcpStream,
    connection: usize,
    keep_alive: KeepAlive,
    respond: Responder,
    received: Arc<Mutex<Vec<Received>>>,
) {
    let mut reader = BufReader::new(stream);
    let mut served = 0;
    loop {
        let next = match keep_alive {
            KeepAlive::CloseIdleAfter(idle) if served > 0 => {
                match tokio::time::timeout(idle, read_request(&mut reader)).await {
                    Ok(next) => next,
                    Err(_) => return, // idle too long: close
                }
            }
            _ => read_request(&mut reader).await,
        };
        let Some((method, target, headers, body)) = next else {
            return;
        };
        let req = Received {
            method,
            target,
            headers,
            body,
            connection,
            nth_on_connection: served,
        };
        received.lock().unwrap().push(req.clone());
        let reply = respond(&req);
        if let Some(gate) = &reply.gate {
            gate.wait().await;
        }
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        let stream = reader.get_mut();
        if let Some(raw) = &reply.raw {
            let _ = stream.write_all(raw).await;
            if reply.reset {
                let _ = stream.set_zero_linger();
            }
            return;
        }
        let reason = http::StatusCode::from_u16(reply.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Whatever");
        let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason);
        for (k, v) in &reply.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(source) = &reply.chunks {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut chunks = source.0.lock().await;
            loop {
                match chunks.recv().await {
                    Some(Chunk::Data(data)) => {
                        let mut frame = format!("{:x}\r\n", data.len()).into_bytes();
                        frame.extend_from_slice(&data);
                        frame.extend_from_slice(b"\r\n");
                        if stream.write_all(&frame).await.is_err() || stream.flush().await.is_err()
                        {
                            return;
                        }
                    }
                    Some(Chunk::End) => {
                        if stream.write_all(b"0\r\n\r\n").await.is_err() {
                            return;
                        }
                        break;
                    }
                    Some(Chunk::Abort) | None => return,
                }
            }
            served += 1;
            continue;
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", reply.body.len()));
        if stream.write_all(head.as_bytes()).await.is_err()
            || stream.write_all(&reply.body).await.is_err()
        {
            return;
        }
        served += 1;
    }
}

/// A function: portside-local's Runtime API and the real `portside` binary.
pub struct Function {
    pub api: RuntimeApi,
    pub child: Child,
    pub log: Arc<Mutex<String>>,
}

/// The repository's sample events (`tests/events/`, with licences and provenance).
pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/events")
}

/// A sample event's text.
pub fn sample(file: &str) -> String {
    let path = events_dir().join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

impl Function {
    /// Starts the adapter for an app on `app_port`, with extra environment.
    pub async fn start(app_port: u16, env: &[(&str, &str)]) -> Function {
        Function::start_with(runtime_api::Config::default(), app_port, env).await
    }

    /// Like [`Function::start`], with a Runtime API config.
    pub async fn start_with(
        config: runtime_api::Config,
        app_port: u16,
        env: &[(&str, &str)],
    ) -> Function {
        let api = RuntimeApi::start(config).await.unwrap();
        let mut vars: HashMap<String, String> = HashMap::from([
            ("AWS_LAMBDA_RUNTIME_API".into(), api.runtime_api_env()),
            ("AWS_LAMBDA_FUNCTION_NAME".into(), "portside-test".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), "512".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME".into(),
                "/aws/lambda/portside-test".into(),
            ),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME".into(),
                "2026/11/22/[$LATEST]abc".into(),
            ),
            ("PORT".into(), app_port.to_string()),
            ("PORTSIDE_LOG_LEVEL".into(), "debug".into()),
        ]);
        for (k, v) in env {
            vars.insert(k.to_string(), v.to_string());
        }
        Function::spawn(api, vars)
    }

    /// Runs the binary with exactly `vars` against `api`.
    pub fn spawn(api: RuntimeApi, vars: HashMap<String, String>) -> Function {
        let (child, log) = spawn_portside(vars);
        Function { api, child, log }
    }
}

/// Runs the `portside` binary with exactly `vars`; its log lines (stderr)
/// are echoed and collected, and so are its stdout lines (EMF metrics),
/// each prefixed with `[stdout] `.
pub fn spawn_portside(vars: HashMap<String, String>) -> (Child, Arc<Mutex<String>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portside"))
        .env_clear()
        .envs(vars)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run target/debug/portside");
    let log = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("{line}");
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let stdout = child.stdout.take().unwrap();
    let sink = log.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("[stdout] {line}");
            sink.lock().unwrap().push_str(&format!("[stdout] {line}\n"));
        }
    });
    (child, log)
}

impl Function {
    /// Waits for init and asserts it succeeded.
    pub async fn ready(self) -> Function {
        match tokio::time::timeout(Duration::from_secs(15), self.api.wait_init()).await {
            Ok(InitState::Ready) => self,
            other => panic!("init did not complete: {other:?}\nlog:\n{}", self.log()),
        }
    }

    /// Everything the adapter logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// One invocation with a 10 s timeout.
    pub async fn invoke(&self, payload: &str) -> Outcome {
        self.invoke_with(
            payload,
            InvokeOptions::new().timeout(Duration::from_secs(10)),
        )
        .await
    }

    /// One invocation with options.
    pub async fn invoke_with(&self, payload: &str, options: InvokeOptions) -> Outcome {
        self.api
            .invoke(payload.to_string(), options)
            .await
            .expect("the invocation is accepted")
    }
}

/// The result JSON of a buffered success.
pub fn result_json(outcome: &Outcome) -> serde_json::Value {
    match outcome {
        Outcome::Response(bytes) => serde_json::from_slice(bytes).expect("the result is JSON"),
        other => panic!("expected a response, got {other:?}"),
    }
}

/// The error type and message of a function error, as Lambda's caller sees
/// them: the error document the runtime posted.
pub fn error_of(outcome: &Outcome) -> (String, String) {
    match outcome {
        Outcome::Error(e) => {
            let doc: serde_json::Value =
                serde_json::from_slice(&e.raw).expect("the error document is JSON");
            (
                doc["errorType"].as_str().unwrap_or_default().to_string(),
                doc["errorMessage"].as_str().unwrap_or_default().to_string(),
            )
        }
        other => panic!("expected a function error, got {other:?}"),
    }
}

/// A POST over a fresh connection: `(status, body)`.
pub async fn post(address: &str, path: &str, body: String) -> (u16, Bytes) {
    use http_body_util::{BodyExt, Full};
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = http::Request::post(path)
        .header("host", address)
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}
