//! Non-HTTP events (SQS, SNS, S3, EventBridge, DynamoDB, Kinesis, authorizers,
//! Bedrock agents, anything unknown): the app receives the event JSON as a
//! POST to the pass-through path, and its answer becomes the invocation result.
//!
//! Owns: the detection checks that recognise these events and name their
//! source for the `x-portside-event-source` header (TYPES.md steps 1-4 and
//! 11; an event no check recognises is `unknown`), and turning the app's
//! answer into the result.
//! Must not: interpret the event beyond its source's name (the app does).
//!
//! The rules: a 2xx answer's body is the result, as JSON (so an SQS
//! `{"batchItemFailures": [...]}` partial-batch response reaches Lambda as
//! the app wrote it); an empty body is `null`; a body that is not JSON is
//! returned as a JSON string. Any other status fails the invocation, so
//! Lambda retries (or sends the event to a dead-letter queue) and no event is
//! lost because the app could not handle it.

use std::borrow::Cow;

use bytes::Bytes;
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::result::{check_size, header_text, ResponseParts};
use super::wire::{First, Obj, Text};
use super::{ContextProbe, Detected, RawEvent};
use crate::error::{AppErrorCause, PortsideError};

/// The fields of a record that name its source (`eventSource`, or SNS's
/// `EventSource`).
#[derive(Deserialize, Default)]
pub(super) struct RecordProbe<'a> {
    #[serde(rename = "eventSource", borrow)]
    event_source: Option<Text<'a>>,
    #[serde(rename = "EventSource", borrow)]
    event_source_sns: Option<Text<'a>>,
}

fn owned_text(text: &Option<Text<'_>>) -> Option<String> {
    text.as_ref().and_then(|t| t.as_str().map(str::to_owned))
}

fn named(source: &'static str) -> Option<Detected<'static>> {
    Some(Detected::PassThrough(Cow::Borrowed(source)))
}

/// TYPES.md step 1: records-based sources, named by their first record
/// (`Records[0].eventSource`, SNS's `EventSource`); Kafka and MQ name their
/// source at the top (`eventSource`).
pub(super) fn detect_records<'a>(
    event: &RawEvent<'a>,
    _: &ContextProbe<'a>,
) -> Option<Detected<'a>> {
    if let Some(records) = &event.records {
        let source = match records {
            First::Item(Obj::Value(record)) => {
                owned_text(&record.event_source).or_else(|| owned_text(&record.event_source_sns))
            }
            _ => None,
        };
        return Some(Detected::PassThrough(
            source.map_or(Cow::Borrowed("unknown"), Cow::Owned),
        ));
    }
    owned_text(&event.event_source).map(|source| Detected::PassThrough(Cow::Owned(source)))
}

/// TYPES.md step 2: a CloudWatch Logs subscription.
pub(super) fn detect_logs<'a>(event: &RawEvent<'a>, _: &ContextProbe<'a>) -> Option<Detected<'a>> {
    event.awslogs.as_ref().and_then(|_| named("aws.logs"))
}

/// TYPES.md step 3: EventBridge, including scheduled events.
pub(super) fn detect_eventbridge<'a>(
    event: &RawEvent<'a>,
    _: &ContextProbe<'a>,
) -> Option<Detected<'a>> {
    if event.detail_type.is_some() && event.source.is_some() && event.detail.is_some() {
        return named("aws.events");
    }
    None
}

/// TYPES.md step 4: Lambda authorizers (REST, HTTP API 1.0/2.0, WebSocket),
/// which are not requests: a `type` of `TOKEN` or `REQUEST` with a
/// `methodArn` or `routeArn`.
pub(super) fn detect_authorizer<'a>(
    event: &RawEvent<'a>,
    _: &ContextProbe<'a>,
) -> Option<Detected<'a>> {
    let kind = event.kind.as_ref().and_then(Text::as_str);
    if matches!(kind, Some("TOKEN" | "REQUEST"))
        && (event.method_arn.is_some() || event.route_arn.is_some())
    {
        return named("aws.apigateway.authorizer");
    }
    None
}

/// TYPES.md step 11: Bedrock Agents action groups.
pub(super) fn detect_bedrock<'a>(
    event: &RawEvent<'a>,
    _: &ContextProbe<'a>,
) -> Option<Detected<'a>> {
    if event.message_version.is_some() && event.agent.is_some() && event.action_group.is_some() {
        return named("aws.bedrock.agent");
    }
    None
}

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
    } else if crate::body::as_text(&body).is_some()
        && serde_json::from_slice::<IgnoredAny>(&body).is_ok()
    {
        // Valid JSON: the app's bytes, untouched. (serde_json does not check
        // the UTF-8 of strings it skips, so that is checked first.)
        body
    } else {
        match crate::body::as_text(&body) {
            Some(text) => {
                Bytes::from(serde_json::to_vec(text).map_err(|e| {
                    PortsideError::Internal(format!("cannot write the result: {e}"))
                })?)
            }
            None => {
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
