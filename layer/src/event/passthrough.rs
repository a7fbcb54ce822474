//! Non-HTTP events (SQS, SNS, S3, EventBridge, DynamoDB, Kinesis, authorizers,
//! Bedrock agents, anything unknown): the app receives the event JSON as a
//! POST to the pass-through path, and its answer becomes the invocation result.
//!
//! Owns: turning the app's answer into the result.
//! Must not: interpret the event (the app does; the detector only names the
//! source for the `x-portside-event-source` header).
//!
//! The rules: a 2xx answer's body is the result, as JSON (so an SQS
//! `{"batchItemFailures": [...]}` partial-batch response reaches Lambda as
//! the app wrote it); an empty body is `null`; a body that is not JSON is
//! returned as a JSON string. Any other status fails the invocation, so
//! Lambda retries (or sends the event to a dead-letter queue) and no event is
//! lost because the app could not handle it.

use bytes::Bytes;
use serde::de::IgnoredAny;

use super::result::{check_size, header_text, ResponseParts};
use crate::error::{AppErrorCause, PortsideError};

/// Longest part of an app's error body quoted in an error message.
pub const ERROR_BODY_EXCERPT: usize = 1024;

/// The start of a body as text, for error messages.
pub fn body_excerpt(body: &[u8]) -> String {
    let end = body.len().min(ERROR_BODY_EXCERPT);
    let mut text = String::from_utf8_lossy(&body[..end]).into_owned();
    if body.len() > end {
        text.push_str("...");
    }
    text
}

/// The result of a pass-through invocation, as JSON.
pub fn pass_through_result(response: ResponseParts) -> Result<Bytes, PortsideError> {
    if !response.status.is_success() {
        return Err(PortsideError::AppError {
            status: response.status.as_u16(),
            body: body_excerpt(&response.body),
            cause: AppErrorCause::EventNotHandled,
        });
    }
    let body = response.body;
    let json = if body.iter().all(u8::is_ascii_whitespace) {
        Bytes::from_static(b"null")
    } else if std::str::from_utf8(&body).is_ok()
        && serde_json::from_slice::<IgnoredAny>(&body).is_ok()
    {
        // Valid JSON: the app's bytes, untouched. (serde_json does not check
        // the UTF-8 of strings it skips, so that is checked first.)
        body
    } else {
        match std::str::from_utf8(&body) {
            Ok(text) => {
                Bytes::from(serde_json::to_vec(text).map_err(|e| {
                    PortsideError::Internal(format!("cannot write the result: {e}"))
                })?)
            }
            Err(_) => {
                let content_type = response
                    .headers
                    .get(http::header::CONTENT_TYPE)
                    .map(header_text);
                return Err(PortsideError::AppInvalidResponse(format!(
                    "the answer to an event on the pass-through path is not UTF-8 text (content-type {}); \
                     a Lambda result must be JSON",
                    content_type.as_deref().unwrap_or("not set")
                )));
            }
        }
    };
    check_size(json.len())?;
    Ok(json)
}
