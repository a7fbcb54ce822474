//! What the fuzz targets share: the adapter's configuration with base-path
//! removal and the authorization source on, and an app response built from
//! fuzz bytes.

#![allow(dead_code)]

use arbitrary::Unstructured;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use portside::config::Config;
use portside::event::ResponseParts;

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
