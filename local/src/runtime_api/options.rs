//! The caller's side of an invocation: its settings ([`InvokeOptions`]),
//! the handle it waits on ([`Invocation`]) and what a streamed response
//! reports while it runs ([`StreamEvent`]).
//!
//! Values and channels only: it must not touch the state machine.

use super::stream::StreamError;
use super::{FunctionError, Outcome};
use bytes::Bytes;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

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
    pub(super) request_id: String,
    pub(super) outcome: oneshot::Receiver<Outcome>,
    pub(super) stream: Option<mpsc::Receiver<StreamEvent>>,
    pub(super) dispatched: Option<oneshot::Receiver<Instant>>,
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

    /// When the event went out to the runtime (the `/next` answer), once:
    /// the receiver fails if the invocation ended before it got there (a
    /// failed init, a timeout in the queue, a runtime gone mid-poll).
    pub fn take_dispatched(&mut self) -> Option<oneshot::Receiver<Instant>> {
        self.dispatched.take()
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
