//! A Lambda result read by the fields a source names ([`ResultShape`]):
//! the status, headers (single, multi-value or merged), cookies, the body
//! (base64 or not); and the head of a streamed response from its JSON
//! prelude.
//!
//! Pure: it must not do I/O, build events, or answer for a source (a result
//! it cannot read is an `Err` with the reason; the source answers).

use super::{HeaderFields, ResponseHead, ResultShape};
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};

/// An HTTP response made from a Lambda result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (repeated names allowed, `set-cookie` among them).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Bytes,
}

impl HttpResponse {
    /// A JSON error response as the gateway in front would send it.
    pub fn gateway_error(status: u16, message: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from(json!({ "message": message }).to_string()),
        }
    }
}

/// Headers a proxy does not pass on from a Lambda result. `Content-Length`
/// is the front door's own (the body it sends), except for a HEAD response,
/// where no body is sent and the app's value is what the client must see
/// (API Gateway passes it; see FRONTDOOR.md).
fn hop_by_hop(name: &str, head: bool) -> bool {
    match name.to_ascii_lowercase().as_str() {
        "connection" | "transfer-encoding" | "keep-alive" | "upgrade" => true,
        "content-length" => !head,
        _ => false,
    }
}

fn value_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn push_values(out: &mut Vec<(String, String)>, name: &str, v: &Value) {
    match v {
        Value::Array(list) => out.extend(
            list.iter()
                .filter_map(value_str)
                .map(|s| (name.to_string(), s)),
        ),
        other => {
            if let Some(s) = value_str(other) {
                out.push((name.to_string(), s));
            }
        }
    }
}

/// Reads the header fields `fields` names into a header list.
fn collect_headers(
    obj: &Map<String, Value>,
    fields: HeaderFields,
    head: bool,
    out: &mut Vec<(String, String)>,
) {
    let single = obj.get("headers").and_then(Value::as_object);
    let multi = obj.get("multiValueHeaders").and_then(Value::as_object);
    if fields != HeaderFields::Multi {
        for (k, v) in single.into_iter().flatten() {
            let shadowed = fields == HeaderFields::Merged
                && multi.is_some_and(|m| m.keys().any(|mk| mk.eq_ignore_ascii_case(k)));
            if !shadowed {
                push_values(out, k, v);
            }
        }
    }
    if fields != HeaderFields::Single {
        for (k, v) in multi.into_iter().flatten() {
            if v.is_array() {
                push_values(out, k, v);
            }
        }
    }
    out.retain(|(k, _)| !hop_by_hop(k, head));
}

/// Payload 2.0 and stream preludes: `cookies` become `Set-Cookie` lines.
fn collect_cookies(obj: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    if let Some(cookies) = obj.get("cookies").and_then(Value::as_array) {
        for c in cookies.iter().filter_map(value_str) {
            out.push(("set-cookie".into(), c));
        }
    }
}

fn status_of(obj: &Map<String, Value>) -> Option<u16> {
    match obj.get("statusCode")? {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|s| (100..=599).contains(s))
}

fn decode_body(obj: &Map<String, Value>) -> Result<Bytes, String> {
    let body = match obj.get("body") {
        None | Some(Value::Null) => return Ok(Bytes::new()),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if obj
        .get("isBase64Encoded")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map(Bytes::from)
            .map_err(|e| format!("isBase64Encoded is true but the body is not base64: {e}"))
    } else {
        Ok(Bytes::from(body))
    }
}

/// Reads a buffered result as `shape` says (`head`: the request was a
/// HEAD, whose `Content-Length` is kept). `Err`: why the source cannot read
/// it.
pub(super) fn read(shape: ResultShape, payload: &[u8], head: bool) -> Result<HttpResponse, String> {
    let Ok(value) = serde_json::from_slice::<Value>(payload) else {
        return Err("not JSON".into());
    };
    let obj = match value.as_object() {
        Some(o) if status_of(o).is_some() => o,
        // Payload 2.0: valid JSON without statusCode is a 200 JSON body.
        _ if shape.payload_v2 => {
            return Ok(HttpResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: Bytes::copy_from_slice(payload),
            })
        }
        _ => return Err("no statusCode".into()),
    };
    let status = status_of(obj).unwrap_or(200);
    let mut headers = Vec::new();
    collect_headers(obj, shape.fields, head, &mut headers);
    if shape.payload_v2 {
        collect_cookies(obj, &mut headers);
    }
    let body = decode_body(obj)?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// Why a stream's head could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreludeError {
    /// A REST API needs the metadata and it did not come.
    Missing,
    /// The metadata came after the first 16 KB (REST API).
    TooLong(usize),
    /// The prelude is not a JSON object.
    NotJson,
    /// The source does not stream (nothing asks it to).
    NotStreamed,
}

/// API Gateway's bound on a streamed REST response's metadata (16 KB).
pub const REST_PRELUDE_LIMIT: usize = 16 * 1024;

/// A stream's JSON prelude: `statusCode` (200 without one), `headers` and
/// `multiValueHeaders` (winning for a name in both), `cookies` as
/// `Set-Cookie` lines.
pub(super) fn read_prelude(prelude: &[u8], head: bool) -> Result<ResponseHead, PreludeError> {
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(prelude) else {
        return Err(PreludeError::NotJson);
    };
    let mut headers = Vec::new();
    collect_headers(&obj, HeaderFields::Merged, head, &mut headers);
    collect_cookies(&obj, &mut headers);
    Ok(ResponseHead {
        status: status_of(&obj).unwrap_or(200),
        headers,
    })
}

/// `statusDescription` for ALB: `"200 OK"`.
pub fn status_description(status: u16) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("{status} {reason}")
}
