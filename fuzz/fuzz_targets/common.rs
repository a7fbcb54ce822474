//! What the fuzz targets share: the adapter's configuration with base-path
//! removal and the authorization source on, and an app response built from
//! fuzz bytes.

#![allow(dead_code)]

use arbitrary::Unstructured;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use portside::testing::config::Config;
use portside::testing::event::ResponseParts;

/// Separates the event payload from the response description in an input.
pub const SEPARATOR: &[u8] = b"\n--portside-response--\n";

/// The base path the adapter removes.
pub const BASE_PATH: &str = "/prod";
/// The header whose value replaces `Authorization`.
pub const AUTH_SOURCE: &str = "x-auth-source";

/// A configuration as a function sets it, with every request policy on.
pub fn config() -> Config {
    let env = [
        ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
        ("AWS_LAMBDA_FUNCTION_NAME", "fuzz"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("PORTSIDE_REMOVE_BASE_PATH", BASE_PATH),
        ("PORTSIDE_AUTHORIZATION_SOURCE", AUTH_SOURCE),
    ];
    Config::from_lookup(|name| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
    .expect("the fuzz configuration is valid")
}

/// Splits an input into the payload and the response description.
pub fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        Some(i) => (&data[..i], &data[i + SEPARATOR.len()..]),
        None => (data, &[]),
    }
}

const CONTENT_TYPES: [&str; 6] = [
    "text/plain; charset=utf-8",
    "application/json",
    "application/octet-stream",
    "image/png",
    "text/html",
    "application/problem+json",
];

/// An app response: a status, headers (some the adapter cares about:
/// content type and encoding, set-cookie) and a body, from `spec`.
pub fn response(spec: &[u8]) -> ResponseParts {
    let mut u = Unstructured::new(spec);
    let status = u.int_in_range(100u16..=599).unwrap_or(200);
    let mut headers = HeaderMap::new();
    let count = u.int_in_range(0u8..=8).unwrap_or(0);
    for _ in 0..count {
        let kind = u.int_in_range(0u8..=4).unwrap_or(0);
        let name = match kind {
            0 => HeaderName::from_static("content-type"),
            1 => HeaderName::from_static("set-cookie"),
            2 => HeaderName::from_static("content-encoding"),
            _ => {
                let raw: &[u8] = u.arbitrary().unwrap_or(b"x-a");
                match HeaderName::from_bytes(raw) {
                    Ok(name) => name,
                    Err(_) => continue,
                }
            }
        };
        let value = if kind == 0 {
            let i = u.choose_index(CONTENT_TYPES.len()).unwrap_or(0);
            HeaderValue::from_static(CONTENT_TYPES[i])
        } else {
            let raw: &[u8] = u.arbitrary().unwrap_or(b"v");
            match HeaderValue::from_bytes(raw) {
                Ok(value) => value,
                Err(_) => continue,
            }
        };
        headers.append(name, value);
    }
    let body = Bytes::copy_from_slice(u.take_rest());
    ResponseParts {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        headers,
        body,
    }
}

/// Whether `text` is one JSON text by RFC 8259's grammar (any number's
/// size, any `\u` escape): the oracle for bytes the adapter passes on as
/// they are, independent of serde_json.
pub fn is_json(text: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(text) else {
        return false;
    };
    let b = text.as_bytes();
    let mut i = 0;
    fn ws(b: &[u8], i: &mut usize) {
        while *i < b.len() && matches!(b[*i], b' ' | b'\t' | b'\n' | b'\r') {
            *i += 1;
        }
    }
    fn digits(b: &[u8], i: &mut usize) -> bool {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    }
    fn value(b: &[u8], i: &mut usize, depth: usize) -> bool {
        if depth > 128 {
            return false;
        }
        ws(b, i);
        let Some(&c) = b.get(*i) else { return false };
        let ok = match c {
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                *i += 1;
                ws(b, i);
                if b.get(*i) == Some(&close) {
                    *i += 1;
                    return true;
                }
                loop {
                    if c == b'{' {
                        ws(b, i);
                        if b.get(*i) != Some(&b'"') || !string(b, i) {
                            return false;
                        }
                        ws(b, i);
                        if b.get(*i) != Some(&b':') {
                            return false;
                        }
                        *i += 1;
                    }
                    if !value(b, i, depth + 1) {
                        return false;
                    }
                    ws(b, i);
                    match b.get(*i) {
                        Some(&b',') => *i += 1,
                        Some(&x) if x == close => {
                            *i += 1;
                            break true;
                        }
                        _ => return false,
                    }
                }
            }
            b'"' => string(b, i),
            b't' | b'f' | b'n' => {
                let word: &[u8] = match c {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                let ok = b[*i..].starts_with(word);
                *i += word.len();
                ok
            }
            b'-' | b'0'..=b'9' => {
                if c == b'-' {
                    *i += 1;
                }
                if b.get(*i) == Some(&b'0') {
                    *i += 1;
                } else if !digits(b, i) {
                    return false;
                }
                if b.get(*i) == Some(&b'.') {
                    *i += 1;
                    if !digits(b, i) {
                        return false;
                    }
                }
                if matches!(b.get(*i), Some(b'e' | b'E')) {
                    *i += 1;
                    if matches!(b.get(*i), Some(b'+' | b'-')) {
                        *i += 1;
                    }
                    if !digits(b, i) {
                        return false;
                    }
                }
                true
            }
            _ => false,
        };
        ok
    }
    fn string(b: &[u8], i: &mut usize) -> bool {
        *i += 1; // the opening quote
        while let Some(&c) = b.get(*i) {
            *i += 1;
            match c {
                b'"' => return true,
                b'\\' => match b.get(*i) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => *i += 1,
                    Some(b'u') => {
                        let hex = b.get(*i + 1..*i + 5);
                        if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                            return false;
                        }
                        *i += 5;
                    }
                    _ => return false,
                },
                0x00..=0x1f => return false,
                _ => {}
            }
        }
        false
    }
    if !value(b, &mut i, 0) {
        return false;
    }
    ws(b, &mut i);
    i == b.len()
}
