//! The pieces of an event several sources share: the path and query as
//! each source encodes and groups them, headers (lower-cased, grouped, with
//! what a proxy adds), the body as text or base64 by the source's rule,
//! and the maps the events carry them in.
//!
//! Pure: it must not do I/O, or know which source uses which piece (each
//! source's file says).

use super::{EventContext, HttpRequest};
use base64::Engine;
use serde_json::Value;
use std::collections::HashMap;

/// The local API id used in domains and ARNs.
pub(super) const API_ID: &str = "portsidelocal";

/// The domain of an API Gateway API (REST or HTTP) with the local API id.
pub(super) fn execute_api_domain(region: &str) -> String {
    format!("{API_ID}.execute-api.{region}.amazonaws.com")
}

fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

/// Query pairs in order; `decode` URL-decodes them (API Gateway and VPC
/// Lattice do, ALB does not: see local/FRONTDOOR.md).
fn query_pairs(query: &str, decode: bool) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            if decode {
                (decode_component(k), decode_component(v))
            } else {
                (k.to_string(), v.to_string())
            }
        })
        .collect()
}

/// The query grouped by key in the client's order; `decode` as
/// [`query_pairs`].
pub(super) fn grouped_query(req: &HttpRequest, decode: bool) -> Grouped {
    grouped(&query_pairs(&req.query, decode))
}

/// Names with their values, in the order each name first appeared (the
/// client's order: API Gateway, ALB and Lattice keep it in their maps).
pub(super) type Grouped = Vec<(String, Vec<String>)>;

/// Pairs grouped by key in first-seen order, in one pass: a request may
/// carry thousands of header lines (a search per line took seconds).
fn grouped_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Grouped {
    let mut map = Grouped::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (k, v) in pairs {
        match index.get(&k) {
            Some(&i) => map[i].1.push(v),
            None => {
                index.insert(k.clone(), map.len());
                map.push((k, vec![v]));
            }
        }
    }
    map
}

pub(super) fn grouped(pairs: &[(String, String)]) -> Grouped {
    grouped_pairs(pairs.iter().cloned())
}

fn set_grouped(map: &mut Grouped, key: &str, values: Vec<String>) {
    match map.iter_mut().find(|(k, _)| k == key) {
        Some((_, v)) => *v = values,
        None => map.push((key.to_string(), values)),
    }
}

pub(super) fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The `User-Agent` the client sent, or "".
pub(super) fn user_agent(req: &HttpRequest) -> String {
    header(req, "user-agent").unwrap_or("").to_string()
}

/// Headers with lowercase names, grouped, plus what the source adds when it
/// is a proxy (`forwarded`: API Gateway, Function URLs and ALB add
/// `x-forwarded-*` and `x-amzn-trace-id`; VPC Lattice does not).
pub(super) fn lower_headers(req: &HttpRequest, ctx: &EventContext, forwarded: bool) -> Grouped {
    let lower = req.headers.iter();
    let mut map = grouped_pairs(lower.map(|(k, v)| (k.to_ascii_lowercase(), v.clone())));
    if forwarded {
        let xff = match map.iter().find(|(k, _)| k == "x-forwarded-for") {
            Some((_, v)) => format!("{}, {}", v.join(", "), req.source_ip),
            None => req.source_ip.clone(),
        };
        set_grouped(&mut map, "x-forwarded-for", vec![xff]);
        set_grouped(&mut map, "x-forwarded-proto", vec!["http".into()]);
        set_grouped(&mut map, "x-forwarded-port", vec![req.port.to_string()]);
        set_grouped(&mut map, "x-amzn-trace-id", vec![ctx.trace_id.clone()]);
    }
    map
}

/// Which bodies a source passes as text (the rest as base64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextRule {
    /// ALB and VPC Lattice: exactly `text/*`, JSON, JavaScript and XML.
    Basic,
    /// API Gateway and Function URLs: text-like types (`+json`, `+xml`,
    /// forms, GraphQL) and no content type at all as text too.
    ApiGateway,
}

/// Whether `req`'s body travels as text under `rule`.
fn is_text(req: &HttpRequest, rule: TextRule) -> bool {
    if std::str::from_utf8(&req.body).is_err() {
        return false;
    }
    let ct = header(req, "content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let encoded =
        header(req, "content-encoding").is_some_and(|e| !e.eq_ignore_ascii_case("identity"));
    let basic = ct.starts_with("text/")
        || matches!(
            ct.as_str(),
            "application/json" | "application/javascript" | "application/xml"
        );
    match rule {
        TextRule::Basic => basic && !encoded,
        TextRule::ApiGateway => {
            !encoded
                && (basic
                    || ct.is_empty()
                    || ct.ends_with("+json")
                    || ct.ends_with("+xml")
                    || ct == "application/x-www-form-urlencoded"
                    || ct == "application/graphql")
        }
    }
}

/// The body (null when empty) and whether it is base64.
pub(super) fn body_fields(req: &HttpRequest, rule: TextRule) -> (Value, bool) {
    if req.body.is_empty() {
        return (Value::Null, false);
    }
    if is_text(req, rule) {
        (
            Value::String(String::from_utf8_lossy(&req.body).to_string()),
            false,
        )
    } else {
        (
            Value::String(base64::engine::general_purpose::STANDARD.encode(&req.body)),
            true,
        )
    }
}

/// A map of the last value of each name.
pub(super) fn last_map(map: &Grouped) -> Value {
    Value::Object(
        map.iter()
            .filter_map(|(k, v)| v.last().map(|l| (k.clone(), Value::String(l.clone()))))
            .collect(),
    )
}

/// A map of each name's values joined with `sep`.
pub(super) fn joined_map(map: &Grouped, sep: &str) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.join(sep))))
            .collect(),
    )
}

/// A map of each name's values as a list.
pub(super) fn list_map(map: &Grouped) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    Value::Array(v.iter().cloned().map(Value::String).collect()),
                )
            })
            .collect(),
    )
}
