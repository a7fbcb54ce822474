//! What an init or an invocation ends with: [`InitState`], [`Outcome`] and
//! what Lambda's Invoke API returns for it, [`FunctionError`] (posted by a
//! process or made by Lambda itself), [`InvokeRejected`], and Lambda's own
//! timeout error.
//!
//! Values only: it must not touch the state machine or do I/O.

use super::stream::StreamError;
use crate::util;
use bytes::Bytes;
use std::time::Duration;

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
    /// Which process exited and how, when this is Lambda's report of a
    /// runtime or extension that exited ([`FunctionError::process_exited`]).
    pub exit: Option<ProcessExit>,
}

/// A process of the sandbox that exited on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessExit {
    /// The extension's name, or `None` for the runtime.
    pub extension: Option<String>,
    /// How it ended: `exit status 3`, `signal 9 (SIGKILL)`.
    pub how: String,
}

impl FunctionError {
    /// Lambda's error type for a runtime process that exited.
    pub const RUNTIME_EXIT: &'static str = "Runtime.ExitError";
    /// Lambda's error type for an extension that exited.
    pub const EXTENSION_CRASH: &'static str = "Extension.Crash";
    /// portside-local's error type for an app port already taken at start.
    pub const PORT_IN_USE: &'static str = "Sandbox.PortInUse";

    /// An error Lambda itself reports (not posted by the runtime).
    pub fn lambda(error_type: &str, message: &str) -> FunctionError {
        FunctionError {
            error_type: error_type.to_string(),
            error_message: message.to_string(),
            header_error_type: None,
            raw: Bytes::from(util::error_json(error_type, message)),
            exit: None,
        }
    }

    /// Lambda's report of a process that exited: `Runtime.ExitError`
    /// ("Runtime exited with error: exit status 3") for the runtime,
    /// `Extension.Crash` for an extension.
    pub fn process_exited(exit: ProcessExit) -> FunctionError {
        let (error_type, message) = match &exit.extension {
            None => (
                Self::RUNTIME_EXIT,
                format!("Runtime exited with error: {}", exit.how),
            ),
            Some(name) => (
                Self::EXTENSION_CRASH,
                format!("Extension {name} exited: {}", exit.how),
            ),
        };
        FunctionError {
            exit: Some(exit),
            ..FunctionError::lambda(error_type, &message)
        }
    }

    /// Whether a process of the sandbox crashed (Lambda then resets the
    /// sandbox): Lambda's own report of an exit, or a runtime that posted
    /// that type itself.
    pub fn is_crash(&self) -> bool {
        self.exit.is_some()
            || self.error_type.starts_with(Self::RUNTIME_EXIT)
            || self.error_type == Self::EXTENSION_CRASH
    }

    /// Whether init was refused because the app's port was taken.
    pub fn is_port_in_use(&self) -> bool {
        self.error_type == Self::PORT_IN_USE
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
            exit: None,
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
    /// The payload is over [`Config::max_request_bytes`] (Lambda's Invoke
    /// API: the request is too large for the `InvokeFunction` operation).
    PayloadTooLarge {
        /// The largest payload accepted.
        limit: usize,
    },
    /// An asynchronous (`Event`) invocation's payload is over its limit.
    EventPayloadTooLarge {
        /// The payload size.
        size: usize,
        /// The largest payload accepted.
        limit: usize,
    },
    /// The Runtime API was stopped or is shutting down.
    ShuttingDown,
    /// Every execution environment the function's reserved concurrency
    /// allows is busy: Lambda throttles the invocation.
    Throttled,
}

impl InvokeRejected {
    /// Lambda's error type (`RequestEntityTooLargeException`, HTTP 413).
    pub fn error_type(&self) -> &'static str {
        match self {
            InvokeRejected::PayloadTooLarge { .. }
            | InvokeRejected::EventPayloadTooLarge { .. } => "RequestEntityTooLargeException",
            InvokeRejected::ShuttingDown => "ServiceException",
            // The Invoke API reference (Errors): TooManyRequestsException,
            // HTTP 429, with the reason
            // ReservedFunctionConcurrentInvocationLimitExceeded.
            InvokeRejected::Throttled => "TooManyRequestsException",
        }
    }

    /// The HTTP status the Invoke API answers with.
    pub fn status(&self) -> u16 {
        match self {
            InvokeRejected::PayloadTooLarge { .. }
            | InvokeRejected::EventPayloadTooLarge { .. } => 413,
            InvokeRejected::ShuttingDown => 503,
            InvokeRejected::Throttled => 429,
        }
    }

    /// Lambda's message.
    pub fn message(&self) -> String {
        match self {
            // Lambda's words (quoted in pelmers/streetwarp-web#14 and
            // JupiterOne/sdk#565; faultline/faultline#12 for Event).
            InvokeRejected::PayloadTooLarge { limit } => format!(
                "Request must be smaller than {} bytes for the InvokeFunction operation",
                limit + 1
            ),
            InvokeRejected::EventPayloadTooLarge { size, limit } => format!(
                "{size} byte payload is too large for the Event invocation type (limit {limit} bytes)"
            ),
            InvokeRejected::ShuttingDown => "the sandbox is shutting down".to_string(),
            // Lambda's words for a throttle ("Rate exceeded" and
            // TooManyRequestsException: AWS knowledge center,
            // lambda-troubleshoot-throttling).
            InvokeRejected::Throttled => "Rate exceeded".to_string(),
        }
    }
}

impl std::fmt::Display for InvokeRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type(), self.message())
    }
}

impl std::error::Error for InvokeRejected {}

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
