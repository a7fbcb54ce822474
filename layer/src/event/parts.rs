//! The pieces of an app's request that several sources read the same way:
//! the method, required fields, the header maps (within
//! [`Limit::RequestHeaderLines`]), the `Cookie` lines joined, the body and its
//! base64 flag, the query maps, and the whole request of the REST proxy
//! shape (REST API, HTTP API payload 1.0, ALB, WebSocket).
//!
//! Owns: turning fields of a [`RawEvent`] into [`HttpRequestParts`], with
//! the field named in every refusal.
//! Must not: detect sources or know which source an event came from (each
//! source's file picks the pieces it needs).

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Method};

use super::wire::{self, Flag, Pairs, Text};
use super::{HttpRequestParts, RawEvent, Refusal};
use crate::limits::Limit;

/// The method named by an event field.
pub(super) fn method_from(text: Option<&Text<'_>>, field: &str) -> Result<Method, String> {
    let name = text
        .ok_or_else(|| format!("`{field}` is missing"))?
        .require(field)?;
    Method::from_bytes(name.as_bytes())
        .map_err(|_| format!("`{field}` {name:?} is not an HTTP method"))
}

/// A required string field.
pub(super) fn required<'t>(text: Option<&'t Text<'_>>, field: &str) -> Result<&'t str, String> {
    text.ok_or_else(|| format!("`{field}` is missing"))?
        .require(field)
}

/// Appends one header, or says why it cannot be sent.
fn append_header(
    headers: &mut HeaderMap,
    field: &str,
    name: &str,
    value: &str,
) -> Result<(), Refusal> {
    let header_name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("`{field}` has {name:?}, which is not a valid HTTP header name"))?;
    let header_value = crate::header::value(value.as_bytes()).ok_or_else(|| {
        format!("`{field}` has a value for {name:?} with characters HTTP does not allow")
    })?;
    headers
        .try_append(header_name, header_value)
        .map_err(|_| full_header_map())?;
    Ok(())
}

/// `http`'s HeaderMap refused one more name: only names crafted to collide
/// in its hash get there below [`Limit::RequestHeaderLines`].
pub(super) fn full_header_map() -> Refusal {
    Refusal::Invalid("the header names fill HTTP's header map; send fewer headers".into())
}

/// Headers from a multi-value map (every value) and a single-value map (for
/// names the multi-value map lacks); either may be absent. More lines than
/// [`Limit::RequestHeaderLines`] are refused, counted in full.
pub(super) fn headers_from(
    multi: Option<&Pairs<'_>>,
    multi_field: &str,
    single: Option<&Pairs<'_>>,
    single_field: &str,
) -> Result<HeaderMap, Refusal> {
    const MAX: usize = Limit::RequestHeaderLines.max();
    let multi = multi.map(|m| m.require(multi_field)).transpose()?;
    let single = single.map(|s| s.require(single_field)).transpose()?;
    let in_multi =
        |name: &str| multi.is_some_and(|m| m.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)));
    let lines = multi.map_or(0, <[_]>::len)
        + single.map_or(0, |s| {
            if multi.is_some() {
                s.iter().filter(|(name, _)| !in_multi(name)).count()
            } else {
                s.len()
            }
        });
    if lines > MAX {
        return Err(Refusal::OverLimit(Limit::RequestHeaderLines, lines));
    }
    // Room for the event's headers and the few the adapter adds (context,
    // trace, length), so the map never grows and rehashes on the way.
    let mut headers = HeaderMap::try_with_capacity(lines + 8).map_err(|_| full_header_map())?;
    for (name, value) in multi.unwrap_or_default() {
        append_header(&mut headers, multi_field, name, value)?;
    }
    for (name, value) in single.unwrap_or_default() {
        if !in_multi(name) {
            append_header(&mut headers, single_field, name, value)?;
        }
    }
    Ok(headers)
}

/// Joins several `Cookie` header lines into one, `a=b; c=d`, in order: RFC
/// 6265 §5.4 allows a single Cookie header, and frameworks that read only the
/// first line would lose the rest. (Multi-value maps, ALB's among them, give
/// one line per cookie; the v2 `cookies` list is joined the same way.)
pub(super) fn join_cookies(headers: &mut HeaderMap) -> Result<(), Refusal> {
    let mut values = headers.get_all(http::header::COOKIE).iter();
    let (Some(first), Some(_)) = (values.next(), values.next()) else {
        return Ok(());
    };
    let mut joined = first.as_bytes().to_vec();
    for value in headers.get_all(http::header::COOKIE).iter().skip(1) {
        joined.extend_from_slice(b"; ");
        joined.extend_from_slice(value.as_bytes());
    }
    // Valid values joined by `; ` are a valid value.
    let value = crate::header::value(&joined)
        .ok_or_else(|| Refusal::Invalid("the Cookie values cannot be joined".into()))?;
    headers.insert(http::header::COOKIE, value);
    Ok(())
}

/// The body bytes from `body` and its base64 flag.
pub(super) fn body_from(
    body: Option<&Text<'_>>,
    is_base64: Option<Flag>,
    flag_field: &str,
) -> Result<Bytes, String> {
    let is_base64 = match is_base64 {
        Some(flag) => flag.require(flag_field)?,
        None => false,
    };
    let body = body.map(|b| b.require("body")).transpose()?;
    crate::body::decode_event_body(body, is_base64)
}

/// How a source delivers query values: decoded (API Gateway, WebSocket) or
/// as the client sent them (ALB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum QueryValues {
    /// Decoded text: encoded once on the way to the app.
    Decoded,
    /// As the client sent them: never encoded again.
    Encoded,
}

/// The query from the event's multi-value map (every value, in the event's
/// order), else from its single-value map; `None` when it has neither.
pub(super) fn query_from_maps(
    event: &RawEvent<'_>,
    values: QueryValues,
) -> Result<Option<String>, String> {
    let build = |pairs: &[wire::Pair<'_>]| {
        let pairs = pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref()));
        match values {
            QueryValues::Decoded => crate::uri::query_from_decoded(pairs),
            QueryValues::Encoded => crate::uri::query_from_encoded(pairs),
        }
    };
    let multi = event.multi_value_query_string_parameters.as_ref();
    let single = event.query_string_parameters.as_ref();
    Ok(match (multi, single) {
        (Some(multi), _) if !multi.entries.is_empty() || multi.problem.is_some() => {
            Some(build(multi.require("multiValueQueryStringParameters")?))
        }
        (_, Some(single)) => Some(build(single.require("queryStringParameters")?)),
        (Some(_), None) => Some(String::new()),
        (None, None) => None,
    })
}

/// The request of an event in the REST proxy shape (REST API, HTTP API
/// payload 1.0, ALB): `httpMethod`, `path` (which a hand-written event may
/// give with its query), the query maps, the header maps and the body.
pub(super) fn proxy_request(
    event: &RawEvent<'_>,
    values: QueryValues,
) -> Result<HttpRequestParts, Refusal> {
    let method = method_from(event.http_method.as_ref(), "httpMethod")?;
    let (path, query_in_path) = split_path_query(required(event.path.as_ref(), "path")?);
    let query = match query_from_maps(event, values)? {
        Some(query) => query,
        None => query_in_path
            .map(|q| crate::uri::encode_raw_query(q).into_owned())
            .unwrap_or_default(),
    };
    proxy_parts(
        event,
        method,
        crate::uri::encode_path(path).into_owned(),
        query,
    )
}

/// A request from its method, path and query, with the headers of the
/// event's multi-value and single-value maps and its (base64) body.
pub(super) fn proxy_parts(
    event: &RawEvent<'_>,
    method: Method,
    path: String,
    query: String,
) -> Result<HttpRequestParts, Refusal> {
    Ok(HttpRequestParts {
        method,
        path,
        query: non_empty(query),
        headers: headers_from(
            event.multi_value_headers.as_ref(),
            "multiValueHeaders",
            event.headers.as_ref(),
            "headers",
        )?,
        body: body_from(
            event.body.as_ref(),
            event.is_base64_encoded,
            "isBase64Encoded",
        )?,
    })
}

/// Splits `path?query` as some sources deliver it.
pub(super) fn split_path_query(path: &str) -> (&str, Option<&str>) {
    match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    }
}

pub(super) fn non_empty(query: String) -> Option<String> {
    (!query.is_empty()).then_some(query)
}
