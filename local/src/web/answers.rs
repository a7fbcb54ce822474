//! What the endpoint answers by itself, in one table: the status, the
//! `lambda-web-error-type` (platform errors only) and a short JSON message,
//! each with the documentation it rests on or the choice it is
//! (local/WEBFUNCTIONS.md, "Answers").
//!
//! Owns: the status and error type of every answer the app does not give.
//! Must not: decide when an answer is due (the server and the proxy do).

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};

/// An answer the endpoint gives without the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Not HTTP/1.1 (web-functions-http: HTTP/1.0 gets 505).
    Version,
    /// A method outside GET HEAD POST PUT PATCH OPTIONS DELETE
    /// (web-functions-http: 400 before the app).
    Method,
    /// No Host header (web-functions-http: 400).
    MissingHost,
    /// The client's body ended before its announced end (400).
    IncompleteBody,
    /// `Expect: 100-continue`: 417, as the deployed endpoint answers
    /// (local/WEBFUNCTIONS.md, "Expect").
    Expectation,
    /// Every environment is full and no more may start (429 at once).
    Throttled,
    /// The endpoint is stopping (local only: Ctrl-C).
    Stopping,
    /// The environment's init failed: its error type and why.
    InitFailed(&'static str, String),
    /// The app failed the request: its error type and why.
    AppFailed(&'static str, String),
    /// No response head within the per-request timeout.
    Timeout,
}

/// Error types of platform errors (`<Prefix>.<ErrorReason>`). Only
/// `Runtime.RequestTimeout` is documented (web-functions-revisions-timeout);
/// the others are portside-local's names in that format.
pub mod error_type {
    /// The per-request timeout passed before the response head.
    pub const REQUEST_TIMEOUT: &str = "Runtime.RequestTimeout";
    /// The app was not listening 10 s after its start.
    pub const INIT_TIMEOUT: &str = "Runtime.InitTimeout";
    /// The app's process exited (during init, or while serving).
    pub const EXIT: &str = "Runtime.ExitError";
    /// The app's command could not be started.
    pub const ENTRYPOINT: &str = "Runtime.InvalidEntrypoint";
    /// The app closed the connection or answered something not HTTP/1.1.
    pub const INVALID_RESPONSE: &str = "Runtime.InvalidResponse";
    /// Every environment is busy and none may start.
    pub const THROTTLED: &str = "Platform.Throttled";
    /// The endpoint is stopping.
    pub const STOPPING: &str = "Platform.Unavailable";
}

impl Answer {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        match self {
            Answer::Version => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            Answer::Method | Answer::MissingHost | Answer::IncompleteBody => {
                StatusCode::BAD_REQUEST
            }
            Answer::Expectation => StatusCode::EXPECTATION_FAILED,
            Answer::Throttled => StatusCode::TOO_MANY_REQUESTS,
            Answer::Stopping => StatusCode::SERVICE_UNAVAILABLE,
            Answer::InitFailed(..) => StatusCode::INTERNAL_SERVER_ERROR,
            Answer::AppFailed(..) => StatusCode::BAD_GATEWAY,
            Answer::Timeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// `lambda-web-error-type`: set on platform errors, not on the
    /// rejections of a malformed request.
    pub fn error_type(&self) -> Option<&'static str> {
        match self {
            Answer::Version
            | Answer::Method
            | Answer::MissingHost
            | Answer::IncompleteBody
            | Answer::Expectation => None,
            Answer::Throttled => Some(error_type::THROTTLED),
            Answer::Stopping => Some(error_type::STOPPING),
            Answer::InitFailed(t, _) | Answer::AppFailed(t, _) => Some(t),
            Answer::Timeout => Some(error_type::REQUEST_TIMEOUT),
        }
    }

    /// The message of the JSON body.
    pub fn message(&self) -> String {
        match self {
            Answer::Version => "HTTP Version Not Supported: the endpoint accepts HTTP/1.1 only".into(),
            Answer::Method => "Bad Request: the endpoint accepts GET, HEAD, POST, PUT, PATCH, OPTIONS and DELETE".into(),
            Answer::MissingHost => "Bad Request: the Host header is missing".into(),
            Answer::IncompleteBody => "Bad Request: the request body ended early".into(),
            Answer::Expectation => "Expectation Failed: send the request without Expect: 100-continue".into(),
            Answer::Throttled => "Too Many Requests: every execution environment is busy and --max-environments are running".into(),
            Answer::Stopping => "Service Unavailable: the endpoint is stopping".into(),
            Answer::InitFailed(_, why) | Answer::AppFailed(_, why) => why.clone(),
            Answer::Timeout => "Gateway Timeout: the app did not answer within the request timeout".into(),
        }
    }

    /// The whole response, with `lambda-web-request-id` and, when an
    /// environment was involved, its `lambda-web-logstream`.
    pub fn response(&self, request_id: &str, log_stream: Option<&str>) -> Response<Bytes> {
        let body = serde_json::json!({ "message": self.message() }).to_string();
        let mut r = Response::new(Bytes::from(body));
        *r.status_mut() = self.status();
        let h = r.headers_mut();
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(v) = HeaderValue::from_str(request_id) {
            h.insert("lambda-web-request-id", v);
        }
        if let Some(v) = log_stream.and_then(|s| HeaderValue::from_str(s).ok()) {
            h.insert("lambda-web-logstream", v);
        }
        if let Some(t) = self.error_type() {
            h.insert("lambda-web-error-type", HeaderValue::from_static(t));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_errors_carry_their_type_and_rejections_do_not() {
        let r = Answer::Timeout.response("ID", Some("2026/01/01/[local]x"));
        assert_eq!(r.status(), 504);
        assert_eq!(
            r.headers()["lambda-web-error-type"],
            "Runtime.RequestTimeout"
        );
        assert_eq!(r.headers()["lambda-web-request-id"], "ID");
        assert_eq!(r.headers()["lambda-web-logstream"], "2026/01/01/[local]x");
        let r = Answer::Version.response("ID", None);
        assert_eq!(r.status(), 505);
        assert!(r.headers().get("lambda-web-error-type").is_none());
        assert!(r.headers().get("lambda-web-logstream").is_none());
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert!(body["message"].as_str().unwrap().contains("HTTP/1.1"));
        assert_eq!(Answer::Throttled.status(), 429);
        assert_eq!(
            Answer::InitFailed(error_type::INIT_TIMEOUT, "x".into()).status(),
            500
        );
        assert_eq!(
            Answer::AppFailed(error_type::EXIT, "x".into()).status(),
            502
        );
    }
}
