//! The Lambda Runtime API and Extensions API, served in-process.
//!
//! This module owns the protocol a function's processes speak to Lambda and
//! the state machine behind it: init (extensions register, then everyone
//! calls `next`), invocations (an event handed to a `/next` poller, a
//! deadline, a buffered, streamed or error result), the payload limits, and
//! the SHUTDOWN event. It starts no processes: [`crate::sandbox`] does that
//! around it, and tests can run any real runtime or extension against it.
//!
//! # Using it from a test
//!
//! ```no_run
//! use portside_local::runtime_api::{Config, InitState, InvokeOptions, Outcome, RuntimeApi};
//! use std::time::Duration;
//!
//! # async fn demo() -> std::io::Result<()> {
//! // 127.0.0.1 with an OS-chosen port.
//! let api = RuntimeApi::start(Config::default()).await?;
//! let mut child = tokio::process::Command::new("target/debug/portside")
//!     .env("AWS_LAMBDA_RUNTIME_API", api.runtime_api_env())
//!     .spawn()?;
//! // Init is done when every registered extension called `event/next` and
//! // the runtime called `/runtime/invocation/next` (or it failed / timed out).
//! assert_eq!(api.wait_init().await, InitState::Ready);
//! let outcome = api
//!     .invoke(r#"{"hello":"world"}"#, InvokeOptions::new().timeout(Duration::from_secs(3)))
//!     .await
//!     .expect("not rejected");
//! match outcome {
//!     Outcome::Response(bytes) => println!("{}", String::from_utf8_lossy(&bytes)),
//!     Outcome::Streamed(s) => println!("prelude {:?}, body {:?}", s.prelude, s.body),
//!     other => println!("{other:?}"),
//! }
//! let report = api
//!     .shutdown(portside_local::runtime_api::ShutdownReason::Spindown, Duration::from_secs(2))
//!     .await;
//! println!("SHUTDOWN reached {:?}", report.delivered);
//! child.kill().await?;
//! # Ok(())
//! # }
//! ```
//!
//! * [`RuntimeApi::start`] binds (see [`Config::bind`], [`Config::path_prefix`]);
//!   [`RuntimeApi::runtime_api_env`] is the value for `AWS_LAMBDA_RUNTIME_API`.
//! * [`RuntimeApi::wait_init`] / [`RuntimeApi::init_state`]: [`InitState`].
//!   A runtime's `/runtime/init/error` gives [`InitState::Failed`] with the
//!   error type from `Lambda-Runtime-Function-Error-Type` (or the body's
//!   `errorType`) and the body's `errorMessage`.
//! * [`RuntimeApi::start_invoke`] queues an event and returns an
//!   [`Invocation`]: its request id, optionally a receiver of
//!   [`StreamEvent`]s as body chunks arrive ([`InvokeOptions::watch_stream`]),
//!   and [`Invocation::outcome`]. [`RuntimeApi::invoke`] does both at once.
//!   An invocation waits for init; its timeout starts when init is done.
//! * [`Outcome`] is a buffered response, a function error (`/error`, a
//!   response over 6 MB as `Function.ResponseSizeTooLarge`), a streamed
//!   response (raw bytes, prelude/body split at the eight NUL bytes, error
//!   trailers), a timeout (`Sandbox.Timedout`) or an init failure. A request
//!   over 6 MB is refused up front ([`InvokeRejected::PayloadTooLarge`],
//!   Lambda's `RequestEntityTooLargeException`).
//! * Concurrency: with [`Config::max_concurrency`] N > 1, up to N `/next`
//!   pollers each get a different event at once (Lambda Managed Instances).
//!   With 1 (Lambda's default), the next event waits until the runtime and
//!   every extension have called `next` again.
//! * [`RuntimeApi::shutdown`] sends SHUTDOWN (`deadlineMs`, `shutdownReason`)
//!   to the extensions that registered for it; [`RuntimeApi::extensions`]
//!   lists who registered for what.
//! * [`RuntimeApi::reset`] forgets the processes (registrations, pollers,
//!   in-flight invocations) and starts a fresh init, as Lambda does after a
//!   timeout or crash. [`RuntimeApi::wait_idle`] tells when the runtime is
//!   blocked in `/next` and every extension in `event/next`: the moment
//!   Lambda freezes the sandbox.
//!
//! * SnapStart: a runtime started with `AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`
//!   calls `/runtime/restore/next` when it is ready to be snapshotted
//!   ([`RuntimeApi::wait_snapshot_point`]); the call returns when the test
//!   restores the sandbox ([`RuntimeApi::restore`]), after which the runtime
//!   polls `/next` as usual. `/runtime/restore/error` is recorded
//!   ([`RuntimeApi::restore_error`]).
//!
//! Not served: the Telemetry/Logs APIs (they answer 404 with a message saying so).

mod server;
pub mod stream;

pub use stream::{ErrorSource, StreamError};

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch, Notify};

use crate::util;

/// Path prefix of the Runtime API.
pub const RUNTIME_PATH: &str = "/2018-06-01/runtime";
/// Path prefix of the Extensions API.
pub const EXTENSION_PATH: &str = "/2020-01-01/extension";
/// Largest synchronous invocation request Lambda accepts (6 MB).
pub const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;
/// Largest buffered response (Lambda's 6 MB plus its 100 bytes of slack).
pub const MAX_BUFFERED_RESPONSE_BYTES: usize = 6 * 1024 * 1024 + 100;
/// Largest streamed response (200 MB).
pub const MAX_STREAMED_RESPONSE_BYTES: usize = 200 * 1024 * 1024;
/// Lambda's bound on the init phase of an on-demand function.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// How the Runtime API is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen. Default `127.0.0.1:0` (an OS-chosen port).
    pub bind: SocketAddr,
    /// Serve every path under this prefix (e.g. `/lambda`); empty for none.
    /// [`RuntimeApi::runtime_api_env`] includes it.
    pub path_prefix: String,
    /// `functionName` in the extension registration answer, and part of the
    /// default invoked function ARN.
    pub function_name: String,
    /// `functionVersion` (default `$LATEST`).
    pub function_version: String,
    /// `handler` in the extension registration answer.
    pub handler: String,
    /// Account id for ARNs (and `accountId` when an extension asks for it).
    pub account_id: String,
    /// Region for ARNs.
    pub region: String,
    /// The function timeout used when an invocation sets none (default 30 s).
    pub timeout: Duration,
    /// Bound on init (default 10 s, as on Lambda).
    pub init_timeout: Duration,
    /// How many invocations may run at once (default 1).
    pub max_concurrency: usize,
    /// Request payload limit (default [`MAX_REQUEST_BYTES`]).
    pub max_request_bytes: usize,
    /// Buffered response limit (default [`MAX_BUFFERED_RESPONSE_BYTES`]).
    pub max_buffered_response_bytes: usize,
    /// Streamed response limit (default [`MAX_STREAMED_RESPONSE_BYTES`]).
    pub max_streamed_response_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            path_prefix: String::new(),
            function_name: "portside-local".to_string(),
            function_version: "$LATEST".to_string(),
            handler: "run.sh".to_string(),
            account_id: "123456789012".to_string(),
            region: "us-east-1".to_string(),
            timeout: Duration::from_secs(30),
            init_timeout: INIT_TIMEOUT,
            max_concurrency: 1,
            max_request_bytes: MAX_REQUEST_BYTES,
            max_buffered_response_bytes: MAX_BUFFERED_RESPONSE_BYTES,
            max_streamed_response_bytes: MAX_STREAMED_RESPONSE_BYTES,
        }
    }
}

impl Config {
    /// The ARN of the function (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`).
    pub fn function_arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account_id, self.function_name
        )
    }
}

/// Where init stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitState {
    /// Extensions and runtime have not all called `next` yet.
    Pending,
    /// Every registered extension called `event/next` and the runtime called
    /// `/runtime/invocation/next`.
    Ready,
    /// The runtime posted `/runtime/init/error` (or an extension posted
    /// `/extension/init/error`, or the sandbox saw a process die).
    Failed(FunctionError),
    /// Init did not finish within [`Config::init_timeout`].
    TimedOut,
}

/// An error result: what the runtime posted to `/error` or `/init/error`,
/// or one Lambda makes itself (size limits, crashes, timeouts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// The error type: the `Lambda-Runtime-Function-Error-Type` header when
    /// the runtime sent one, else the body's `errorType`, else `Unhandled`.
    pub error_type: String,
    /// The body's `errorMessage` (empty when absent).
    pub error_message: String,
    /// The `Lambda-Runtime-Function-Error-Type` header as sent, if any.
    pub header_error_type: Option<String>,
    /// The error document Lambda returns to the caller: the body the
    /// runtime posted, or Lambda's own `{"errorMessage","errorType"}`.
    pub raw: Bytes,
}

impl FunctionError {
    /// An error Lambda itself reports (not posted by the runtime).
    pub fn lambda(error_type: &str, message: &str) -> FunctionError {
        FunctionError {
            error_type: error_type.to_string(),
            error_message: message.to_string(),
            header_error_type: None,
            raw: Bytes::from(util::error_json(error_type, message)),
        }
    }

    /// Reads a runtime's error post: header type and JSON body.
    pub fn from_post(header_error_type: Option<String>, body: Bytes) -> FunctionError {
        let parsed: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
        let field = |name: &str| {
            parsed
                .as_ref()
                .and_then(|v| v.get(name))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let error_type = header_error_type
            .clone()
            .filter(|t| !t.is_empty())
            .or_else(|| field("errorType"))
            .unwrap_or_else(|| "Unhandled".to_string());
        FunctionError {
            error_type,
            error_message: field("errorMessage").unwrap_or_default(),
            header_error_type,
            raw: body,
        }
    }
}

/// A streamed response, complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamedResponse {
    /// The `Content-Type` the runtime sent with the stream.
    pub content_type: Option<String>,
    /// Every byte of the stream, as sent.
    pub raw: Bytes,
    /// The JSON prelude, when the content type announced one and the eight
    /// NUL bytes were found.
    pub prelude: Option<Bytes>,
    /// The body after the delimiter (or the whole stream without prelude).
    pub body: Bytes,
    /// The error the function reported mid-stream, if any.
    pub error: Option<StreamError>,
}

/// A timed-out invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeout {
    /// The function timeout that ran out.
    pub after: Duration,
    /// Whether the event had reached the runtime.
    pub dispatched: bool,
    /// Lambda's error for it (`Sandbox.Timedout`, "Task timed out after N.NN seconds").
    pub error: FunctionError,
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `/response`, buffered: the bytes as posted.
    Response(Bytes),
    /// `/response` with `Lambda-Runtime-Function-Response-Mode: streaming`.
    Streamed(StreamedResponse),
    /// `/error`, or an error Lambda reports (response too large, runtime
    /// exited, stream cut).
    Error(FunctionError),
    /// Init failed (or timed out) before the event could run.
    InitError(FunctionError),
    /// The function timeout ran out.
    TimedOut(Timeout),
}

/// What Lambda's Invoke API would return for an [`Outcome`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeResult {
    /// The payload.
    pub payload: Bytes,
    /// `X-Amz-Function-Error` (`Unhandled`) for errors.
    pub function_error: Option<String>,
}

impl Outcome {
    /// The payload and function-error flag Lambda's Invoke API returns.
    pub fn invoke_result(&self) -> InvokeResult {
        let error = |e: &FunctionError| InvokeResult {
            payload: e.raw.clone(),
            function_error: Some("Unhandled".to_string()),
        };
        match self {
            Outcome::Response(b) => InvokeResult {
                payload: b.clone(),
                function_error: None,
            },
            Outcome::Streamed(s) => match &s.error {
                Some(e) => InvokeResult {
                    payload: Bytes::from(util::error_json(
                        &e.error_type,
                        &String::from_utf8_lossy(&e.error_body),
                    )),
                    function_error: Some("Unhandled".to_string()),
                },
                None => InvokeResult {
                    payload: s.raw.clone(),
                    function_error: None,
                },
            },
            Outcome::Error(e) | Outcome::InitError(e) => error(e),
            Outcome::TimedOut(t) => error(&t.error),
        }
    }
}

/// Why an invocation was refused before it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeRejected {
    /// The payload is over [`Config::max_request_bytes`].
    PayloadTooLarge {
        /// The payload size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The Runtime API was stopped or is shutting down.
    ShuttingDown,
}

impl InvokeRejected {
    /// Lambda's error type (`RequestEntityTooLargeException`, HTTP 413).
    pub fn error_type(&self) -> &'static str {
        match self {
            InvokeRejected::PayloadTooLarge { .. } => "RequestEntityTooLargeException",
            InvokeRejected::ShuttingDown => "ServiceException",
        }
    }

    /// The HTTP status the Invoke API answers with.
    pub fn status(&self) -> u16 {
        match self {
            InvokeRejected::PayloadTooLarge { .. } => 413,
            InvokeRejected::ShuttingDown => 503,
        }
    }

    /// Lambda's message.
    pub fn message(&self) -> String {
        match self {
            InvokeRejected::PayloadTooLarge { size, limit } => format!(
                "{size} byte payload is too large for the RequestResponse invocation type (limit {limit} bytes)"
            ),
            InvokeRejected::ShuttingDown => "the sandbox is shutting down".to_string(),
        }
    }
}

impl std::fmt::Display for InvokeRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type(), self.message())
    }
}

impl std::error::Error for InvokeRejected {}

/// Per-invocation settings. Everything is optional.
#[derive(Debug, Clone, Default)]
pub struct InvokeOptions {
    /// Function timeout for this invocation (default [`Config::timeout`]).
    pub timeout: Option<Duration>,
    /// Request id (default: a new UUID).
    pub request_id: Option<String>,
    /// `Lambda-Runtime-Invoked-Function-Arn` (default: the function's ARN).
    pub invoked_function_arn: Option<String>,
    /// `Lambda-Runtime-Trace-Id` (default: a new X-Ray trace header).
    pub trace_id: Option<String>,
    /// `Lambda-Runtime-Client-Context` (JSON), sent only when set.
    pub client_context: Option<String>,
    /// `Lambda-Runtime-Cognito-Identity` (JSON), sent only when set.
    pub cognito_identity: Option<String>,
    /// `Lambda-Runtime-Aws-Tenant-Id`, sent only when set.
    pub tenant_id: Option<String>,
    /// Deliver [`StreamEvent`]s through [`Invocation::take_stream`].
    pub watch_stream: bool,
}

impl InvokeOptions {
    /// All defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the function timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// Sets the request id.
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }
    /// Sets the invoked function ARN.
    pub fn invoked_function_arn(mut self, arn: impl Into<String>) -> Self {
        self.invoked_function_arn = Some(arn.into());
        self
    }
    /// Sets the X-Ray trace header.
    pub fn trace_id(mut self, trace: impl Into<String>) -> Self {
        self.trace_id = Some(trace.into());
        self
    }
    /// Sets the client context JSON.
    pub fn client_context(mut self, json: impl Into<String>) -> Self {
        self.client_context = Some(json.into());
        self
    }
    /// Sets the Cognito identity JSON.
    pub fn cognito_identity(mut self, json: impl Into<String>) -> Self {
        self.cognito_identity = Some(json.into());
        self
    }
    /// Sets the tenant id.
    pub fn tenant_id(mut self, id: impl Into<String>) -> Self {
        self.tenant_id = Some(id.into());
        self
    }
    /// Asks for [`StreamEvent`]s.
    pub fn watch_stream(mut self, on: bool) -> Self {
        self.watch_stream = on;
        self
    }
}

/// What a streaming invocation reports while it runs (see
/// [`InvokeOptions::watch_stream`]). Buffered responses send none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// The runtime opened a streamed response.
    Started {
        /// Its `Content-Type`.
        content_type: Option<String>,
    },
    /// The JSON prelude (without the delimiter).
    Prelude(Bytes),
    /// Body bytes, as they arrived.
    Body(Bytes),
    /// The stream ended normally, perhaps with an error report.
    End {
        /// The error trailers (or body suffix), if any.
        error: Option<StreamError>,
    },
    /// The stream was cut: timeout, size limit, or the runtime went away.
    Aborted {
        /// Why.
        reason: String,
    },
}

/// An invocation in progress.
#[derive(Debug)]
pub struct Invocation {
    request_id: String,
    outcome: oneshot::Receiver<Outcome>,
    stream: Option<mpsc::Receiver<StreamEvent>>,
}

impl Invocation {
    /// The request id the runtime sees.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The stream events (once; `None` without [`InvokeOptions::watch_stream`]).
    /// The channel closes when the invocation ends.
    pub fn take_stream(&mut self) -> Option<mpsc::Receiver<StreamEvent>> {
        self.stream.take()
    }

    /// Waits for the end of the invocation.
    pub async fn outcome(self) -> Outcome {
        match self.outcome.await {
            Ok(o) => o,
            Err(_) => Outcome::Error(FunctionError::lambda(
                "Sandbox.Stopped",
                "the Runtime API stopped before the invocation ended",
            )),
        }
    }
}

/// `shutdownReason` of a SHUTDOWN event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownReason {
    /// Normal end of the sandbox.
    Spindown,
    /// After a function timeout.
    Timeout,
    /// After a crash or init failure.
    Failure,
}

impl ShutdownReason {
    /// The wire value (`spindown`, `timeout`, `failure`).
    pub fn as_str(self) -> &'static str {
        match self {
            ShutdownReason::Spindown => "spindown",
            ShutdownReason::Timeout => "timeout",
            ShutdownReason::Failure => "failure",
        }
    }
}

/// Who received a SHUTDOWN event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Extensions (by name) that picked the event up before the deadline.
    pub delivered: Vec<String>,
    /// Extensions registered for SHUTDOWN that did not.
    pub missed: Vec<String>,
}

/// A registered extension, as seen by the Extensions API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionInfo {
    /// `Lambda-Extension-Identifier`.
    pub id: String,
    /// `Lambda-Extension-Name`.
    pub name: String,
    /// The events it registered for (`INVOKE`, `SHUTDOWN`).
    pub events: Vec<String>,
    /// How many times it called `event/next`.
    pub next_calls: u64,
    /// Whether it is blocked in `event/next` now.
    pub waiting: bool,
}

// ---------------------------------------------------------------------------
// Shared state.

/// What a `/next` poller receives.
#[derive(Debug)]
pub(crate) struct NextEvent {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_ms: u64,
    pub invoked_function_arn: String,
    pub trace_id: String,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub tenant_id: Option<String>,
}

struct Pending {
    request_id: String,
    payload: Bytes,
    opts: InvokeOptions,
    outcome_tx: oneshot::Sender<Outcome>,
    stream_tx: Option<mpsc::Sender<StreamEvent>>,
}

pub(crate) struct Inflight {
    generation: u64,
    timeout: Duration,
    outcome_tx: oneshot::Sender<Outcome>,
    pub(crate) stream_tx: Option<mpsc::Sender<StreamEvent>>,
    /// A response post is being read (a second one is refused).
    pub(crate) responding: bool,
    /// Woken when the invocation ends by other means (timeout) while a
    /// streamed response is still being read.
    pub(crate) cancel: Arc<Notify>,
}

pub(crate) struct Extension {
    id: String,
    name: String,
    events: Vec<String>,
    waiting: Option<oneshot::Sender<Bytes>>,
    queue: VecDeque<(Bytes, bool)>,
    next_calls: u64,
    shutdown_delivered: bool,
}

impl Extension {
    fn is_waiting(&self) -> bool {
        self.queue.is_empty() && self.waiting.as_ref().is_some_and(|tx| !tx.is_closed())
    }

    fn wants(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event)
    }

    /// Hands `event` to the waiting poll, or queues it.
    fn deliver(&mut self, event: Bytes, is_shutdown: bool) {
        if self.queue.is_empty() {
            if let Some(tx) = self.waiting.take() {
                match tx.send(event) {
                    Ok(()) => {
                        if is_shutdown {
                            self.shutdown_delivered = true;
                        }
                        return;
                    }
                    Err(event) => {
                        self.queue.push_back((event, is_shutdown));
                        return;
                    }
                }
            }
        }
        self.queue.push_back((event, is_shutdown));
    }
}

pub(crate) struct State {
    generation: u64,
    init: InitState,
    runtime_polled: bool,
    extensions: Vec<Extension>,
    pollers: VecDeque<oneshot::Sender<NextEvent>>,
    queue: VecDeque<Pending>,
    pub(crate) inflight: HashMap<String, Inflight>,
    shutting_down: bool,
    /// Bumped whenever an invocation starts or ends.
    progress: u64,
    /// Init is not done before this many extensions registered.
    expected_extensions: usize,
    /// SnapStart: the runtime called `/restore/next` (the snapshot point).
    snapshot_ready: bool,
    /// SnapStart: the sandbox was restored (`/restore/next` answers).
    restored: bool,
    /// SnapStart: what the runtime posted to `/restore/error`.
    restore_error: Option<FunctionError>,
}

pub(crate) struct Shared {
    pub(crate) config: Config,
    state: Mutex<State>,
    changes: watch::Sender<u64>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Wakes everyone waiting for a state change.
    pub(crate) fn changed(&self) {
        self.changes.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Waits until `cond` holds.
    async fn wait_for<T>(&self, mut cond: impl FnMut(&State) -> Option<T>) -> T {
        let mut rx = self.changes.subscribe();
        loop {
            if let Some(v) = cond(&self.lock()) {
                return v;
            }
            // The sender lives in `self`, so this cannot fail while we run.
            let _ = rx.changed().await;
        }
    }

    fn check_init(&self, st: &mut State) {
        if st.init == InitState::Pending
            && st.runtime_polled
            && st.extensions.len() >= st.expected_extensions
            && st.extensions.iter().all(|e| e.next_calls > 0)
        {
            st.init = InitState::Ready;
        }
    }

    fn fail_pending_on_init_failure(st: &mut State) {
        let error = match &st.init {
            InitState::Failed(e) => e.clone(),
            InitState::TimedOut => init_timeout_error(),
            _ => return,
        };
        for p in st.queue.drain(..) {
            let _ = p.outcome_tx.send(Outcome::InitError(error.clone()));
        }
    }

    /// Hands queued events to waiting pollers while the rules allow.
    fn dispatch(self: &Arc<Self>, st: &mut State) {
        loop {
            if st.init != InitState::Ready || st.shutting_down || st.queue.is_empty() {
                return;
            }
            if st.inflight.len() >= self.config.max_concurrency.max(1) {
                return;
            }
            // Lambda (one invocation at a time) starts the next invoke only
            // when every extension is done with the previous one.
            if self.config.max_concurrency <= 1 && !st.extensions.iter().all(Extension::is_waiting)
            {
                return;
            }
            let Some(poller) = st.pollers.pop_front() else {
                return;
            };
            if poller.is_closed() {
                continue;
            }
            let Some(pending) = st.queue.pop_front() else {
                return;
            };
            let timeout = pending.opts.timeout.unwrap_or(self.config.timeout);
            let deadline_ms = util::epoch_millis() + timeout.as_millis() as u64;
            let arn = pending
                .opts
                .invoked_function_arn
                .clone()
                .unwrap_or_else(|| self.config.function_arn());
            let trace_id = pending
                .opts
                .trace_id
                .clone()
                .unwrap_or_else(util::new_trace_id);
            let event = NextEvent {
                request_id: pending.request_id.clone(),
                payload: pending.payload.clone(),
                deadline_ms,
                invoked_function_arn: arn.clone(),
                trace_id: trace_id.clone(),
                client_context: pending.opts.client_context.clone(),
                cognito_identity: pending.opts.cognito_identity.clone(),
                tenant_id: pending.opts.tenant_id.clone(),
            };
            if let Err(_event) = poller.send(event) {
                st.queue.push_front(pending);
                continue;
            }
            let invoke_event = serde_json::json!({
                "eventType": "INVOKE",
                "deadlineMs": deadline_ms,
                "requestId": pending.request_id,
                "invokedFunctionArn": arn,
                "tracing": { "type": "X-Amzn-Trace-Id", "value": trace_id },
            })
            .to_string();
            for ext in st.extensions.iter_mut().filter(|e| e.wants("INVOKE")) {
                ext.deliver(Bytes::from(invoke_event.clone()), false);
            }
            st.inflight.insert(
                pending.request_id.clone(),
                Inflight {
                    generation: st.generation,
                    timeout,
                    outcome_tx: pending.outcome_tx,
                    stream_tx: pending.stream_tx,
                    responding: false,
                    cancel: Arc::new(Notify::new()),
                },
            );
            st.progress += 1;
            let shared = Arc::clone(self);
            let id = pending.request_id;
            let generation = st.generation;
            tokio::spawn(async move {
                tokio::time::sleep(timeout).await;
                shared.time_out(&id, generation, true);
            });
        }
    }

    /// Ends invocation `id` with `Sandbox.Timedout` if it is still running.
    fn time_out(self: &Arc<Self>, id: &str, generation: u64, dispatched: bool) {
        let mut st = self.lock();
        if dispatched {
            let current = st
                .inflight
                .get(id)
                .is_some_and(|i| i.generation == generation);
            if !current {
                return;
            }
            if let Some(inflight) = st.inflight.remove(id) {
                st.progress += 1;
                inflight.cancel.notify_one();
                let reason = timeout_error(id, inflight.timeout);
                if let Some(tx) = &inflight.stream_tx {
                    let _ = tx.try_send(StreamEvent::Aborted {
                        reason: reason.error_message.clone(),
                    });
                }
                let _ = inflight.outcome_tx.send(Outcome::TimedOut(Timeout {
                    after: inflight.timeout,
                    dispatched: true,
                    error: reason,
                }));
            }
        } else if let Some(pos) = st.queue.iter().position(|p| p.request_id == id) {
            if let Some(p) = st.queue.remove(pos) {
                let after = p.opts.timeout.unwrap_or(self.config.timeout);
                let _ = p.outcome_tx.send(Outcome::TimedOut(Timeout {
                    after,
                    dispatched: false,
                    error: timeout_error(id, after),
                }));
            }
        }
        self.dispatch(&mut st);
        drop(st);
        self.changed();
    }

    /// Ends invocation `id` with `outcome`. False if it was not running.
    pub(crate) fn complete(self: &Arc<Self>, id: &str, outcome: Outcome) -> bool {
        let mut st = self.lock();
        let Some(inflight) = st.inflight.remove(id) else {
            return false;
        };
        let _ = inflight.outcome_tx.send(outcome);
        st.progress += 1;
        self.dispatch(&mut st);
        drop(st);
        self.changed();
        true
    }

    fn start_init_timer(self: &Arc<Self>, generation: u64, after: Duration) {
        let shared = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let mut st = shared.lock();
            if st.generation == generation && st.init == InitState::Pending {
                st.init = InitState::TimedOut;
                Shared::fail_pending_on_init_failure(&mut st);
                drop(st);
                shared.changed();
            }
        });
    }
}

/// Lambda's timeout error for request `id`.
pub fn timeout_error(id: &str, after: Duration) -> FunctionError {
    FunctionError::lambda(
        "Sandbox.Timedout",
        &format!(
            "RequestId: {id} Error: Task timed out after {:.2} seconds",
            after.as_secs_f64()
        ),
    )
}

/// Lambda's error for an invocation that could not run because init timed out.
pub fn init_timeout_error() -> FunctionError {
    FunctionError::lambda(
        "Sandbox.Timedout",
        "INIT_REPORT Status: timeout: init did not finish in time (the runtime and every extension must call next)",
    )
}

// ---------------------------------------------------------------------------
// The public handle.

/// A running Runtime API + Extensions API server. Dropping it stops the
/// server.
pub struct RuntimeApi {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeApi")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl RuntimeApi {
    /// Binds and starts serving; init starts now (its timer runs from here).
    pub async fn start(config: Config) -> std::io::Result<RuntimeApi> {
        let listener = tokio::net::TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        let (changes, _) = watch::channel(0u64);
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(State {
                generation: 0,
                init: InitState::Pending,
                runtime_polled: false,
                extensions: Vec::new(),
                pollers: VecDeque::new(),
                queue: VecDeque::new(),
                inflight: HashMap::new(),
                shutting_down: false,
                progress: 0,
                expected_extensions: 0,
                snapshot_ready: false,
                restored: false,
                restore_error: None,
            }),
            changes,
        });
        let (stop, stop_rx) = watch::channel(false);
        shared.start_init_timer(0, shared.config.init_timeout);
        tokio::spawn(server::serve(listener, Arc::clone(&shared), stop_rx));
        Ok(RuntimeApi { shared, addr, stop })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`: `127.0.0.1:PORT` plus the
    /// path prefix, if any.
    pub fn runtime_api_env(&self) -> String {
        format!(
            "{}{}",
            self.addr,
            self.shared.config.path_prefix.trim_end_matches('/')
        )
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Where init stands now.
    pub fn init_state(&self) -> InitState {
        self.shared.lock().init.clone()
    }

    /// Waits until init is ready, failed or timed out.
    pub async fn wait_init(&self) -> InitState {
        self.shared
            .wait_for(|st| (st.init != InitState::Pending).then(|| st.init.clone()))
            .await
    }

    /// Waits until at least `n` extensions have registered.
    pub async fn wait_registered(&self, n: usize) -> Vec<ExtensionInfo> {
        self.shared
            .wait_for(|st| (st.extensions.len() >= n).then(|| extension_infos(st)))
            .await
    }

    /// Marks init as failed (for the sandbox, when a process dies during
    /// init). Does nothing unless init is pending.
    pub fn fail_init(&self, error: FunctionError) {
        let mut st = self.shared.lock();
        if st.init == InitState::Pending {
            st.init = InitState::Failed(error);
            Shared::fail_pending_on_init_failure(&mut st);
            drop(st);
            self.shared.changed();
        }
    }

    /// Queues an invocation. It reaches the runtime when init is ready and a
    /// `/next` poller is free; its timeout starts counting when init is ready.
    pub fn start_invoke(
        &self,
        payload: impl Into<Bytes>,
        opts: InvokeOptions,
    ) -> Result<Invocation, InvokeRejected> {
        let payload = payload.into();
        let limit = self.shared.config.max_request_bytes;
        if payload.len() > limit {
            return Err(InvokeRejected::PayloadTooLarge {
                size: payload.len(),
                limit,
            });
        }
        let request_id = opts.request_id.clone().unwrap_or_else(util::uuid_v4);
        let (outcome_tx, outcome_rx) = oneshot::channel();
        let (stream_tx, stream_rx) = if opts.watch_stream {
            let (tx, rx) = mpsc::channel(64);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let timeout = opts.timeout.unwrap_or(self.shared.config.timeout);
        {
            let mut st = self.shared.lock();
            if st.shutting_down || *self.stop.borrow() {
                return Err(InvokeRejected::ShuttingDown);
            }
            match &st.init {
                InitState::Failed(e) => {
                    let _ = outcome_tx.send(Outcome::InitError(e.clone()));
                }
                InitState::TimedOut => {
                    let _ = outcome_tx.send(Outcome::InitError(init_timeout_error()));
                }
                _ => {
                    st.queue.push_back(Pending {
                        request_id: request_id.clone(),
                        payload,
                        opts,
                        outcome_tx,
                        stream_tx,
                    });
                    self.shared.dispatch(&mut st);
                }
            }
        }
        self.shared.changed();
        // Bound the wait for a poller: the timeout counts from init ready.
        let shared = Arc::clone(&self.shared);
        let id = request_id.clone();
        tokio::spawn(async move {
            loop {
                shared
                    .wait_for(|st| (st.init != InitState::Pending).then_some(()))
                    .await;
                let progress = shared.lock().progress;
                tokio::time::sleep(timeout).await;
                let (still_queued, moved) = {
                    let st = shared.lock();
                    (
                        st.queue.iter().any(|p| p.request_id == id),
                        st.progress != progress,
                    )
                };
                if !still_queued {
                    return;
                }
                // Waiting behind other invocations that are making progress
                // is not a timeout; waiting for a runtime that never polls is.
                if !moved {
                    shared.time_out(&id, 0, false);
                    return;
                }
            }
        });
        Ok(Invocation {
            request_id,
            outcome: outcome_rx,
            stream: stream_rx,
        })
    }

    /// Invokes and waits for the outcome.
    pub async fn invoke(
        &self,
        payload: impl Into<Bytes>,
        opts: InvokeOptions,
    ) -> Result<Outcome, InvokeRejected> {
        Ok(self.start_invoke(payload, opts)?.outcome().await)
    }

    /// The registered extensions.
    pub fn extensions(&self) -> Vec<ExtensionInfo> {
        extension_infos(&self.shared.lock())
    }

    /// How many invocations are running.
    pub fn inflight(&self) -> usize {
        self.shared.lock().inflight.len()
    }

    /// Whether the sandbox is idle as Lambda means it before a freeze: init
    /// ready, no invocation running or queued, the runtime blocked in
    /// `/next` and every extension blocked in `event/next`.
    pub fn is_idle(&self) -> bool {
        is_idle(&self.shared.lock())
    }

    /// Waits until [`RuntimeApi::is_idle`].
    pub async fn wait_idle(&self) {
        self.shared.wait_for(|st| is_idle(st).then_some(())).await
    }

    /// Sends SHUTDOWN to every extension registered for it, with
    /// `deadlineMs` = now + `grace`, and waits (at most `grace`) until each
    /// has picked it up. No invocation starts afterwards.
    pub async fn shutdown(&self, reason: ShutdownReason, grace: Duration) -> ShutdownReport {
        self.shutdown_until(reason, grace, grace).await
    }

    /// [`RuntimeApi::shutdown`] with the event's `deadlineMs` = now +
    /// `deadline`, waiting at most `wait` for the extensions to pick it up
    /// (a sandbox that kills the ones not waiting for an event right away
    /// waits less than the deadline it announces).
    pub async fn shutdown_until(
        &self,
        reason: ShutdownReason,
        deadline: Duration,
        wait: Duration,
    ) -> ShutdownReport {
        let grace = wait;
        let names: Vec<String> = {
            let mut st = self.shared.lock();
            st.shutting_down = true;
            let event = serde_json::json!({
                "eventType": "SHUTDOWN",
                "deadlineMs": util::epoch_millis() + deadline.as_millis() as u64,
                "shutdownReason": reason.as_str(),
            })
            .to_string();
            let mut names = Vec::new();
            for ext in st.extensions.iter_mut().filter(|e| e.wants("SHUTDOWN")) {
                ext.deliver(Bytes::from(event.clone()), true);
                names.push(ext.id.clone());
            }
            names
        };
        self.shared.changed();
        let all_delivered = |st: &State| {
            st.extensions
                .iter()
                .filter(|e| names.contains(&e.id))
                .all(|e| e.shutdown_delivered)
                .then_some(())
        };
        let _ = tokio::time::timeout(grace, self.shared.wait_for(all_delivered)).await;
        let st = self.shared.lock();
        let mut report = ShutdownReport::default();
        for ext in st.extensions.iter().filter(|e| names.contains(&e.id)) {
            if ext.shutdown_delivered {
                report.delivered.push(ext.name.clone());
            } else {
                report.missed.push(ext.name.clone());
            }
        }
        report
    }

    /// Ends every running invocation with `error` (for the sandbox, when the
    /// runtime process died).
    pub fn abort_inflight(&self, error: FunctionError) {
        let mut st = self.shared.lock();
        for (_, inflight) in st.inflight.drain() {
            inflight.cancel.notify_one();
            if let Some(tx) = &inflight.stream_tx {
                let _ = tx.try_send(StreamEvent::Aborted {
                    reason: error.error_message.clone(),
                });
            }
            let _ = inflight.outcome_tx.send(Outcome::Error(error.clone()));
        }
        drop(st);
        self.shared.changed();
    }

    /// Forgets the current processes and starts a fresh init: registrations,
    /// pollers and running invocations go (running ones end with
    /// `Sandbox.Reset`); queued invocations stay and run after the new init.
    pub fn reset(&self) {
        self.reset_with_init_timeout(self.shared.config.init_timeout)
    }

    /// [`RuntimeApi::reset`] with another bound on the new init: Lambda
    /// bounds an init it retries during an invocation (after one that failed
    /// or timed out) by the function timeout instead of the 10 s init limit.
    pub fn reset_with_init_timeout(&self, init_timeout: Duration) {
        self.abort_inflight(FunctionError::lambda(
            "Sandbox.Reset",
            "the sandbox was reset while the invocation ran",
        ));
        let generation = {
            let mut st = self.shared.lock();
            st.generation += 1;
            st.init = InitState::Pending;
            st.runtime_polled = false;
            st.extensions.clear();
            st.pollers.clear();
            st.shutting_down = false;
            st.expected_extensions = 0;
            st.generation
        };
        self.shared.start_init_timer(generation, init_timeout);
        self.shared.changed();
    }

    /// Init will not complete before `n` extensions have registered (the
    /// sandbox knows how many it started; Lambda starts the runtime only
    /// after they all registered). Reset by [`RuntimeApi::reset`].
    pub fn expect_extensions(&self, n: usize) {
        self.shared.lock().expected_extensions = n;
        self.shared.changed();
    }

    /// The current init generation (bumped by every [`RuntimeApi::reset`]).
    pub fn generation(&self) -> u64 {
        self.shared.lock().generation
    }

    /// SnapStart: waits until the runtime calls `/runtime/restore/next`, the
    /// point where Lambda takes the snapshot.
    pub async fn wait_snapshot_point(&self) {
        self.shared
            .wait_for(|st| st.snapshot_ready.then_some(()))
            .await
    }

    /// SnapStart: restores the sandbox: `/runtime/restore/next` answers, and
    /// the runtime goes on to `/next`.
    pub fn restore(&self) {
        self.shared.lock().restored = true;
        self.shared.changed();
    }

    /// SnapStart: what the runtime posted to `/runtime/restore/error`, if anything.
    pub fn restore_error(&self) -> Option<FunctionError> {
        self.shared.lock().restore_error.clone()
    }
}

/// `GET /runtime/restore/next`: the snapshot point; answers once restored.
pub(crate) async fn restore_next(shared: &Arc<Shared>) {
    shared.lock().snapshot_ready = true;
    shared.changed();
    shared.wait_for(|st| st.restored.then_some(())).await;
}

/// `POST /runtime/restore/error`: the runtime could not restore.
pub(crate) fn restore_failed(shared: &Arc<Shared>, error: FunctionError) {
    let mut st = shared.lock();
    st.restore_error = Some(error.clone());
    if st.init == InitState::Pending {
        st.init = InitState::Failed(error);
    }
    drop(st);
    shared.changed();
}

fn is_idle(st: &State) -> bool {
    st.init == InitState::Ready
        && st.inflight.is_empty()
        && st.queue.is_empty()
        && st.pollers.iter().any(|p| !p.is_closed())
        && st.extensions.iter().all(Extension::is_waiting)
}

fn extension_infos(st: &State) -> Vec<ExtensionInfo> {
    st.extensions
        .iter()
        .map(|e| ExtensionInfo {
            id: e.id.clone(),
            name: e.name.clone(),
            events: e.events.clone(),
            next_calls: e.next_calls,
            waiting: e.is_waiting(),
        })
        .collect()
}
