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

use serde_json::value::RawValue;

use super::result::{check_size, header_text, LambdaResult, ResponseParts};
use crate::error::PortsideError;

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

/// The result of a pass-through invocation.
pub fn pass_through_result(response: ResponseParts) -> Result<LambdaResult, PortsideError> {
    if !response.status.is_success() {
        return Err(PortsideError::AppError {
            status: response.status.as_u16(),
            body: body_excerpt(&response.body),
        });
    }
    if response.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(LambdaResult::Json(
            RawValue::from_string("null".into()).expect("null is JSON"),
        ));
    }
    let result = match std::str::from_utf8(&response.body) {
        Ok(text) => match RawValue::from_string(text.trim().to_owned()) {
            Ok(raw) => LambdaResult::Json(raw),
            Err(_) => LambdaResult::Json(
                serde_json::value::to_raw_value(text)
                    .map_err(|e| PortsideError::Internal(e.to_string()))?,
            ),
        },
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
    };
    check_size(result)
}
