//! A client's request as the endpoint passes it on (web-functions-http):
//! which requests it refuses before the app (not HTTP/1.1, a method it does
//! not support, no Host, `Expect: 100-continue`), the request headers it
//! removes (connection-level ones, `Upgrade`, the method overrides,
//! `X-Real-IP`, any `lambda-web-*`, headers named in `Connection`), the ones
//! it adds (`lambda-web-request-id`, `lambda-web-endpoint-name`, the client
//! address appended to `X-Forwarded-For`) and, for the response, what it
//! removes from the app's head before adding its own.
//!
//! Owns: those rules, as pure functions of the head.
//! Must not: do I/O, or read or hold the body.

use super::answers::Answer;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Version};
use std::net::IpAddr;

/// Request headers removed before the app sees the request
/// (web-functions-http, "Request headers"), besides `lambda-web-*` and the
/// ones `Connection` names. `Transfer-Encoding` and `Content-Length`
/// describe the client's framing; the endpoint sends its own.
const REMOVED: [&str; 15] = [
    "connection",
    "keep-alive",
    "upgrade",
    "expect",
    "te",
    "trailer",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "x-real-ip",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "transfer-encoding",
    "content-length",
];

/// Response headers that describe the app's connection, not the response
/// (RFC 9110 7.6.1; web-functions-http: "removes connection-scoped headers
/// and HTTP trailers from the application's response").
const RESPONSE_REMOVED: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The prefix of the endpoint's own headers.
pub const OWN_PREFIX: &str = "lambda-web-";

/// The methods the endpoint supports (web-functions-http, "HTTP methods").
pub const METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::OPTIONS,
    Method::DELETE,
];

/// The answer for a request the endpoint refuses before the app, if any.
pub fn refusal(version: Version, method: &Method, headers: &HeaderMap) -> Option<Answer> {
    if version != Version::HTTP_11 {
        return Some(Answer::Version);
    }
    if !METHODS.contains(method) {
        return Some(Answer::Method);
    }
    if !headers.contains_key(http::header::HOST) {
        return Some(Answer::MissingHost);
    }
    let continues = headers
        .get_all(http::header::EXPECT)
        .iter()
        .any(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    continues.then_some(Answer::Expectation)
}

/// The names listed in the `Connection` headers, lower case.
fn connection_named(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The headers the app receives: the client's, less the removed ones, plus
/// the endpoint's, `X-Forwarded-For` ending with `client`, and the length
/// of the whole body the endpoint read.
pub fn to_app(
    headers: &HeaderMap,
    client: IpAddr,
    request_id: &str,
    endpoint_name: &str,
    body_len: usize,
) -> HeaderMap {
    let named = connection_named(headers);
    let mut out = HeaderMap::with_capacity(headers.len() + 4);
    let mut forwarded_for: Vec<&str> = Vec::new();
    for (name, value) in headers {
        let n = name.as_str();
        if REMOVED.contains(&n) || n.starts_with(OWN_PREFIX) || named.iter().any(|c| c == n) {
            continue;
        }
        if name == "x-forwarded-for" {
            forwarded_for.extend(value.to_str().ok());
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    let client = client.to_string();
    forwarded_for.push(&client);
    if let Ok(v) = HeaderValue::from_str(&forwarded_for.join(", ")) {
        out.insert(HeaderName::from_static("x-forwarded-for"), v);
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        out.insert(HeaderName::from_static("lambda-web-request-id"), v);
    }
    if let Ok(v) = HeaderValue::from_str(endpoint_name) {
        out.insert(HeaderName::from_static("lambda-web-endpoint-name"), v);
    }
    if body_len > 0 {
        out.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body_len));
    }
    out
}

/// The app's response headers as the client gets them: without the
/// connection's own, the ones `Connection` names and any `lambda-web-*` the
/// app set (those are the endpoint's), then with `lambda-web-request-id`
/// and `lambda-web-logstream`.
pub fn to_client(headers: &mut HeaderMap, request_id: &str, log_stream: &str) {
    let named = connection_named(headers);
    let drop: Vec<HeaderName> = headers
        .keys()
        .filter(|k| {
            let n = k.as_str();
            RESPONSE_REMOVED.contains(&n)
                || n.starts_with(OWN_PREFIX)
                || named.iter().any(|c| c == n)
        })
        .cloned()
        .collect();
    for k in drop {
        headers.remove(k);
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert(HeaderName::from_static("lambda-web-request-id"), v);
    }
    if let Ok(v) = HeaderValue::from_str(log_stream) {
        headers.insert(HeaderName::from_static("lambda-web-logstream"), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn pairs(h: &HeaderMap) -> Vec<(String, String)> {
        h.iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect()
    }

    #[test]
    fn only_http_11_with_a_supported_method_and_a_host_gets_through() {
        let host = map(&[("host", "h")]);
        assert_eq!(
            refusal(Version::HTTP_10, &Method::GET, &host),
            Some(Answer::Version)
        );
        assert_eq!(
            refusal(Version::HTTP_2, &Method::GET, &host),
            Some(Answer::Version)
        );
        for m in ["TRACE", "CONNECT", "PROPFIND", "PURGE"] {
            let m = Method::from_bytes(m.as_bytes()).unwrap();
            assert_eq!(
                refusal(Version::HTTP_11, &m, &host),
                Some(Answer::Method),
                "{m}"
            );
        }
        for m in METHODS {
            assert_eq!(refusal(Version::HTTP_11, &m, &host), None, "{m}");
        }
        assert_eq!(
            refusal(Version::HTTP_11, &Method::GET, &HeaderMap::new()),
            Some(Answer::MissingHost)
        );
        let expect = map(&[("host", "h"), ("expect", "100-Continue")]);
        assert_eq!(
            refusal(Version::HTTP_11, &Method::POST, &expect),
            Some(Answer::Expectation)
        );
    }

    #[test]
    fn the_app_gets_the_clients_headers_less_the_documented_ones_plus_the_endpoints() {
        let sent = map(&[
            ("host", "127.0.0.1:3000"),
            ("connection", "Upgrade, X-Hop"),
            ("upgrade", "websocket"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("x-hop", "named in Connection"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("trailer", "x-sum"),
            ("expect", "something-else"),
            ("proxy-authorization", "Basic x"),
            ("proxy-connection", "keep-alive"),
            ("x-real-ip", "10.0.0.1"),
            ("x-http-method-override", "DELETE"),
            ("x-http-method", "DELETE"),
            ("x-method-override", "DELETE"),
            ("lambda-web-request-id", "SPOOFED"),
            ("Lambda-Web-Anything", "x"),
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-for", "198.51.100.2"),
            ("transfer-encoding", "chunked"),
            ("x-tag", "a"),
            ("x-tag", "b"),
        ]);
        let got = to_app(&sent, "127.0.0.1".parse().unwrap(), "RID", "default", 11);
        assert_eq!(
            pairs(&got),
            [
                ("host", "127.0.0.1:3000"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("x-tag", "a"),
                ("x-tag", "b"),
                ("x-forwarded-for", "203.0.113.7, 198.51.100.2, 127.0.0.1"),
                ("lambda-web-request-id", "RID"),
                ("lambda-web-endpoint-name", "default"),
                ("content-length", "11"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        let got = to_app(&map(&[("host", "h")]), "::1".parse().unwrap(), "R", "e", 0);
        assert_eq!(got["x-forwarded-for"], "::1");
        assert!(got.get("content-length").is_none());
    }

    #[test]
    fn the_client_gets_the_apps_headers_less_the_connections_plus_the_endpoints() {
        let mut h = map(&[
            ("content-type", "text/plain"),
            ("connection", "keep-alive, x-internal"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("x-internal", "1"),
            ("lambda-web-error-type", "Spoofed.ByApp"),
            ("set-cookie", "a=1"),
            ("set-cookie", "b=2"),
        ]);
        to_client(&mut h, "RID", "2026/01/01/[local]i");
        assert_eq!(
            pairs(&h),
            [
                ("content-type", "text/plain"),
                ("set-cookie", "a=1"),
                ("set-cookie", "b=2"),
                ("lambda-web-request-id", "RID"),
                ("lambda-web-logstream", "2026/01/01/[local]i"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }
}
