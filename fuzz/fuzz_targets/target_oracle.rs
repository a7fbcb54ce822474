//! An independent oracle for the request target an HTTP event describes:
//! the path and query rebuilt from the payload's own fields with the
//! `percent-encoding` crate and RFC 3986's character sets written out, by
//! the rules the AWS documentation gives each source (HTTP APIs deliver
//! `rawPath` decoded and `rawQueryString` as sent; REST APIs and payload 1.0
//! give decoded query maps; ALB gives query values as the client sent them;
//! WebSocket events go to the adapter's WebSocket path), then the base path
//! removed on a segment boundary.
//!
//! The payload is read as ordered pairs, duplicates kept, so the oracle sees
//! what the event says rather than what `serde_json::Value` keeps. Where a
//! field that shapes the target is not a plain string (or a map of strings
//! and string lists), the oracle does not guess: it says `None`.

#![allow(dead_code)]

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use portside::testing::event::HttpSource;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// RFC 3986 `unreserved`: all a decoded query key or value keeps.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// `pchar` (unreserved, sub-delims, `:`, `@`) and `/`; `%` is encoded
/// unless it starts a valid escape (handled apart).
const PATH: &AsciiSet = &COMPONENT
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@')
    .remove(b'/');
/// A raw query: the path's characters and `?`.
const QUERY: &AsciiSet = &PATH.remove(b'?');

/// An object as its ordered members, duplicates kept (members' values as
/// their JSON text, so nested objects keep their order too).
struct Ordered(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(Ordered(members))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

impl Ordered {
    /// The only member named `name`: `Some(None)` when absent, `None` when
    /// it is there twice.
    fn one(&self, name: &str) -> Option<Option<&RawValue>> {
        let mut found = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| &**v);
        let first = found.next();
        match found.next() {
            Some(_) => None,
            None => Some(first),
        }
    }
}

/// Copies `text`, keeping bytes outside `set` and `%XX` escapes, encoding
/// the rest (UTF-8, then `%XX` per byte).
fn encode_keeping_escapes(text: &str, set: &'static AsciiSet) -> String {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let escape = bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit();
        if escape {
            out.extend(utf8_percent_encode(&text[start..i], set));
            out.push_str(&text[i..i + 3]);
            i += 3;
            start = i;
        } else {
            i += 1;
        }
    }
    out.extend(utf8_percent_encode(&text[start..], set));
    out
}

fn path(raw: &str) -> String {
    let encoded = encode_keeping_escapes(raw, PATH);
    if encoded.starts_with('/') {
        encoded
    } else {
        format!("/{encoded}")
    }
}

/// The pairs of a query map: strings, lists of strings (nulls in a list
/// skipped), null values skipped; anything else is `None`.
fn pairs(map: Option<&RawValue>) -> Option<Option<Vec<(String, String)>>> {
    let Some(map) = map else {
        return Some(None);
    };
    if map.get() == "null" {
        return Some(Some(Vec::new()));
    }
    let map: Ordered = serde_json::from_str(map.get()).ok()?;
    let mut out = Vec::new();
    for (key, value) in map.0 {
        match serde_json::from_str::<Value>(value.get()).ok()? {
            Value::String(v) => out.push((key, v)),
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(v) => out.push((key.clone(), v)),
                        Value::Null => {}
                        _ => return None,
                    }
                }
            }
            _ => return None,
        }
    }
    Some(Some(out))
}

fn decoded_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, COMPONENT),
                utf8_percent_encode(v, COMPONENT)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn encoded_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                encode_keeping_escapes(k, QUERY),
                encode_keeping_escapes(v, QUERY)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A string member, `Some(None)` when absent; `None` when it is not a string.
fn text(event: &Ordered, name: &str) -> Option<Option<String>> {
    match event.one(name)? {
        None => Some(None),
        Some(raw) => match serde_json::from_str::<Value>(raw.get()).ok()? {
            Value::String(s) => Some(Some(s)),
            _ => None,
        },
    }
}

/// Removes `/prod`-style `base` once, on a segment boundary.
fn strip_base(path: &str, base: &str) -> String {
    match path.strip_prefix(base) {
        Some("") => "/".to_string(),
        Some(rest) if rest.starts_with('/') => rest.to_string(),
        _ => path.to_string(),
    }
}

/// `path?query` (no `?` for an empty query).
fn join(path: String, query: String) -> String {
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

/// The query of the REST proxy shape: the multi-value map when it has a
/// pair, else the single-value map when present, else the query written
/// after `?` in the path.
fn proxy_query(
    event: &Ordered,
    in_path: Option<&str>,
    build: fn(&[(String, String)]) -> String,
) -> Option<String> {
    let multi = pairs(event.one("multiValueQueryStringParameters")?)?;
    let single = pairs(event.one("queryStringParameters")?)?;
    Some(match (multi, single) {
        (Some(multi), _) if !multi.is_empty() => build(&multi),
        (_, Some(single)) => build(&single),
        (Some(_), None) => String::new(),
        (None, None) => in_path.map_or_else(String::new, |q| encode_keeping_escapes(q, QUERY)),
    })
}

/// The request target `source`'s event in `payload` describes, with `base`
/// removed and WebSocket events sent to `websocket_path`; `None` when the
/// oracle cannot tell.
pub fn expected_target(
    payload: &str,
    source: HttpSource,
    base: &str,
    websocket_path: &str,
) -> Option<String> {
    let event: Ordered = serde_json::from_str(payload).ok()?;
    let split = |p: &str| -> (String, Option<String>) {
        match p.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (p.to_string(), None),
        }
    };
    let (raw_path, query) = match source {
        HttpSource::HttpApiV2 | HttpSource::FunctionUrl => {
            let raw_path = text(&event, "rawPath")??;
            let query = match text(&event, "rawQueryString")? {
                Some(raw) => encode_keeping_escapes(&raw, QUERY),
                None => decoded_query(&pairs(event.one("queryStringParameters")?)?.unwrap_or_default()),
            };
            (raw_path, query)
        }
        HttpSource::RestApi | HttpSource::HttpApiV1 => {
            let (p, q) = split(&text(&event, "path")??);
            (p, proxy_query(&event, q.as_deref(), decoded_query)?)
        }
        HttpSource::Alb { .. } => {
            let (p, q) = split(&text(&event, "path")??);
            (p, proxy_query(&event, q.as_deref(), encoded_query)?)
        }
        HttpSource::WebSocket => {
            let query = proxy_query(&event, None, decoded_query)?;
            return Some(join(websocket_path.to_string(), query));
        }
        HttpSource::LatticeV1 | HttpSource::LatticeV2 => {
            let field = if source == HttpSource::LatticeV1 {
                "raw_path"
            } else {
                "path"
            };
            let (p, q) = split(&text(&event, field)??);
            let query = match q {
                Some(raw) => encode_keeping_escapes(&raw, QUERY),
                None => {
                    let map = match event.one("queryStringParameters")? {
                        Some(map) => Some(map),
                        None => event.one("query_string_parameters")?,
                    };
                    decoded_query(&pairs(map)?.unwrap_or_default())
                }
            };
            (p, query)
        }
    };
    Some(join(strip_base(&path(&raw_path), base), query))
}
