//! The `Portside.*` error types: every way an invocation or init can fail, with
//! a message that tells the reader what happened and what to do.
//!
//! Owns: the error enum, its Lambda error type names and messages.
//! Must not: do I/O, or decide *when* an error happens (callers do that).
//!
//! An error reaches Lambda as `{"errorType": "Portside.X", "errorMessage": "..."}`
//! through `/invocation/{id}/error` or `/init/error`, so the function's log and
//! the caller both say why, in words.

use std::fmt;

use crate::limits::{group_thousands, Limit};

/// Everything that can make an invocation (or init) fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortsideError {
    /// A configuration variable does not parse. Reported at init.
    InvalidConfig(String),
    /// The event is JSON that claims to be an HTTP event but breaks its schema.
    InvalidEvent(String),
    /// The event describes a request past one of the adapter's limits: it
    /// cannot be carried exactly, so nothing is sent.
    RequestTooLarge {
        /// The limit.
        limit: Limit,
        /// What the event has (bytes or lines, as the limit counts).
        size: usize,
    },
    /// Nothing answers on the app's address.
    AppUnreachable {
        /// `host:port` the adapter connects to.
        address: String,
        /// What the operating system said.
        reason: String,
    },
    /// The app did not answer before the invocation's deadline.
    AppTimeout {
        /// Milliseconds the adapter waited.
        waited_ms: u64,
    },
    /// The app answered with a status that fails the invocation.
    AppError {
        /// The status the app returned.
        status: u16,
        /// The start of the app's body, as text.
        body: String,
        /// Why that status is a failure.
        cause: AppErrorCause,
    },
    /// The app sent something that is not a valid HTTP response, or broke the
    /// connection in the middle of one.
    AppInvalidResponse(String),
    /// The result would exceed Lambda's buffered response limit.
    ResponseTooLarge {
        /// Size the result would have, in bytes.
        size: usize,
    },
    /// The app never became ready within the configured readiness timeout.
    AppNotReady(String),
    /// A bug in portside (a caught panic, an impossible state).
    Internal(String),
}

/// Why an app's status fails the invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppErrorCause {
    /// The status is listed in `PORTSIDE_ERROR_STATUS_CODES`.
    ListedStatus,
    /// A non-HTTP event got a non-2xx answer: failing lets Lambda retry it.
    EventNotHandled,
}

/// Lambda's limit for a buffered response payload (see [`Limit::BufferedResult`]).
pub const BUFFERED_RESPONSE_LIMIT: usize = Limit::BufferedResult.max();

impl PortsideError {
    /// The `errorType` Lambda records for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            PortsideError::InvalidConfig(_) => "Portside.InvalidConfig",
            PortsideError::InvalidEvent(_) => "Portside.InvalidEvent",
            PortsideError::RequestTooLarge { .. } => "Portside.RequestTooLarge",
            PortsideError::AppUnreachable { .. } => "Portside.AppUnreachable",
            PortsideError::AppTimeout { .. } => "Portside.AppTimeout",
            PortsideError::AppError { .. } => "Portside.AppError",
            PortsideError::AppInvalidResponse(_) => "Portside.AppInvalidResponse",
            PortsideError::ResponseTooLarge { .. } => "Portside.ResponseTooLarge",
            PortsideError::AppNotReady(_) => "Portside.AppNotReady",
            PortsideError::Internal(_) => "Portside.Internal",
        }
    }
}

impl fmt::Display for PortsideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortsideError::InvalidConfig(msg) => write!(f, "{msg}"),
            PortsideError::InvalidEvent(msg) => write!(f, "the event is not a valid HTTP event: {msg}"),
            PortsideError::RequestTooLarge { limit, size } => write!(
                f,
                "{} is {} {}, over portside's limit of {limit}, so nothing was sent to the \
                 app",
                limit.what(),
                group_thousands(*size),
                limit.unit()
            ),
            PortsideError::AppUnreachable { address, reason } => write!(
                f,
                "the app is not reachable at {address} ({reason}); check that it listens on that host and port \
                 (PORTSIDE_HOST / PORTSIDE_PORT) and that it has not exited"
            ),
            PortsideError::AppTimeout { waited_ms } => write!(
                f,
                "the app did not answer within the invocation's remaining time ({waited_ms} ms); \
                 the response came too late for Lambda's deadline"
            ),
            PortsideError::AppError { status, body, cause } => {
                match cause {
                    AppErrorCause::ListedStatus => {
                        write!(f, "the app answered with status {status}, listed in PORTSIDE_ERROR_STATUS_CODES")?
                    }
                    AppErrorCause::EventNotHandled => write!(
                        f,
                        "the app answered the event with status {status}, not 2xx, so the invocation fails \
                         and Lambda can retry it"
                    )?,
                }
                let body = body.trim();
                if !body.is_empty() {
                    write!(f, "; body: {body}")?;
                }
                Ok(())
            }
            PortsideError::AppInvalidResponse(msg) => write!(f, "the app's response is not valid HTTP: {msg}"),
            PortsideError::ResponseTooLarge { size } => write!(
                f,
                "the response is {} bytes as a Lambda result, over Lambda's buffered limit of \
                 {}; return less, or stream it (a Function URL or REST API with \
                 PORTSIDE_INVOKE_MODE=response_stream)",
                group_thousands(*size),
                Limit::BufferedResult
            ),
            PortsideError::AppNotReady(msg) => write!(f, "the app did not become ready: {msg}"),
            PortsideError::Internal(msg) => write!(f, "internal error in portside: {msg}"),
        }
    }
}

impl std::error::Error for PortsideError {}

impl PortsideError {
    /// The error for the adapter's own log: the message without anything the
    /// app sent (its body may hold personal data or secrets; the caller still
    /// gets it in the error document).
    pub fn log_line(&self) -> String {
        match self {
            PortsideError::AppError { status, cause, .. } => PortsideError::AppError {
                status: *status,
                body: String::new(),
                cause: *cause,
            }
            .to_string(),
            other => other.to_string(),
        }
    }
}

/// The error document Lambda returns to the caller: `{"errorType", "errorMessage"}`.
#[derive(serde::Serialize)]
struct ErrorDocument<'a> {
    #[serde(rename = "errorType")]
    error_type: &'a str,
    #[serde(rename = "errorMessage")]
    error_message: String,
}

impl PortsideError {
    /// This error as Lambda's error document, in JSON.
    pub fn document(&self) -> Vec<u8> {
        serde_json::to_vec(&ErrorDocument {
            error_type: self.error_type(),
            error_message: self.to_string(),
        })
        .unwrap_or_default()
    }
}

impl From<PortsideError> for lambda_runtime::Diagnostic {
    fn from(err: PortsideError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: err.error_type().to_string(),
            error_message: err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_namespaced_and_messages_say_what_to_do() {
        let err = PortsideError::AppUnreachable {
            address: "127.0.0.1:8080".into(),
            reason: "connection refused".into(),
        };
        assert_eq!(err.error_type(), "Portside.AppUnreachable");
        let msg = err.to_string();
        assert!(msg.contains("127.0.0.1:8080"), "{msg}");
        assert!(msg.contains("PORTSIDE_PORT"), "{msg}");

        let diag: lambda_runtime::Diagnostic = PortsideError::AppError {
            status: 502,
            body: "upstream down\n".into(),
            cause: AppErrorCause::ListedStatus,
        }
        .into();
        assert!(diag.error_message.ends_with("body: upstream down"));
        let pass = PortsideError::AppError {
            status: 400,
            body: String::new(),
            cause: AppErrorCause::EventNotHandled,
        };
        assert!(
            !pass.to_string().contains("PORTSIDE_ERROR_STATUS_CODES"),
            "{pass}"
        );
        assert_eq!(diag.error_type, "Portside.AppError");
        assert!(diag.error_message.contains("502"));
        assert!(diag.error_message.contains("upstream down"));
    }
}
