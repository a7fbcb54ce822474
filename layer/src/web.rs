//! Lambda Web Functions' request semantics, behind any source
//! (`PORTSIDE_WEB_FUNCTION`): an app written for a Web Function sees the
//! same headers on classic Lambda.
//!
//! Owns: the `lambda-web-*` headers, and what a Web Function's endpoint
//! removes from the client's request and adds to it (the Lambda developer
//! guide, "HTTP requests and responses", web-functions-http.html; the choices
//! it leaves open are in local/WEBFUNCTIONS.md, which portside-local's `web`
//! command follows too).
//! Must not: know event formats or do I/O; `request` and `invoke` call it.

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::error::PortsideError;

/// The request's id: the invocation's, on classic Lambda.
pub const WEB_REQUEST_ID: HeaderName = HeaderName::from_static("lambda-web-request-id");
/// The name of the endpoint that received the request.
pub const ENDPOINT_NAME: HeaderName = HeaderName::from_static("lambda-web-endpoint-name");

/// What a Web Function's endpoint removes from a client's request besides
/// the connection-level headers the adapter always removes: the proxy
/// headers, `X-Real-IP` and the method overrides.
const REMOVED: [HeaderName; 6] = [
    HeaderName::from_static("proxy-authenticate"),
    HeaderName::from_static("proxy-authorization"),
    HeaderName::from_static("x-real-ip"),
    HeaderName::from_static("x-http-method-override"),
    HeaderName::from_static("x-http-method"),
    HeaderName::from_static("x-method-override"),
];

const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Removes from the client's headers what the endpoint does not pass on:
/// the headers `Connection` names (RFC 9110 §7.6.1; read before the adapter
/// removes `Connection` itself), [`REMOVED`], and every `lambda-web-*`
/// header (only the endpoint sets those).
pub fn remove_client_headers(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok())
        .collect();
    let ours: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("lambda-web-"))
        .cloned()
        .collect();
    for name in named.iter().chain(REMOVED.iter()).chain(ours.iter()) {
        headers.remove(name);
    }
}

/// Adds the endpoint's headers: the request id, the endpoint name, and the
/// client's address as the last `X-Forwarded-For` value (kept as it is when
/// it is already last, as a front door that appends it leaves it).
pub fn add_request_headers(
    headers: &mut HeaderMap,
    request_id: &str,
    endpoint_name: &HeaderValue,
    client_ip: Option<&str>,
) -> Result<(), PortsideError> {
    let id = crate::header::value(request_id.as_bytes()).ok_or_else(|| {
        PortsideError::Internal("Lambda's request id is not a valid header value".into())
    })?;
    put(headers, WEB_REQUEST_ID, id)?;
    put(headers, ENDPOINT_NAME, endpoint_name.clone())?;
    if let Some(ip) = client_ip {
        if let Some(value) = forwarded_for(headers, ip) {
            let value = crate::header::value(value.as_bytes()).ok_or_else(|| {
                PortsideError::InvalidEvent(
                    "the client's address cannot be sent in X-Forwarded-For".into(),
                )
            })?;
            put(headers, FORWARDED_FOR, value)?;
        }
    }
    Ok(())
}

/// The `X-Forwarded-For` with `ip` last (the client's lines joined with
/// `, `), or `None` when `ip` is last already.
fn forwarded_for(headers: &HeaderMap, ip: &str) -> Option<String> {
    let sent: Vec<&str> = headers
        .get_all(&FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    let joined = sent.join(", ");
    let last = joined.rsplit(',').next().map(str::trim);
    if last == Some(ip) {
        return None;
    }
    Some(if joined.trim().is_empty() {
        ip.to_string()
    } else {
        format!("{joined}, {ip}")
    })
}

/// The response side: the app's own `lambda-web-*` headers removed (a client
/// can trust that those come from the platform), the request id added.
pub fn response_headers(headers: &mut HeaderMap, request_id: &str) {
    let ours: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("lambda-web-"))
        .cloned()
        .collect();
    for name in ours {
        headers.remove(name);
    }
    if let Some(id) = crate::header::value(request_id.as_bytes()) {
        // The response's map has room: it came from hyper's parse.
        let _ = headers.try_insert(WEB_REQUEST_ID, id);
    }
}

fn put(headers: &mut HeaderMap, name: HeaderName, value: HeaderValue) -> Result<(), PortsideError> {
    headers.try_insert(name, value).map(drop).map_err(|_| {
        PortsideError::InvalidEvent(
            "the request's header names fill HTTP's header map; send fewer headers".into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn the_client_cannot_forge_or_smuggle_what_the_endpoint_sets() {
        let mut headers = map(&[
            ("lambda-web-request-id", "forged"),
            ("Lambda-Web-Endpoint-Name", "forged"),
            ("lambda-web-anything", "x"),
            ("connection", "x-secret, keep-alive"),
            ("x-secret", "hop"),
            ("x-real-ip", "10.0.0.1"),
            ("x-http-method-override", "DELETE"),
            ("proxy-authorization", "Basic x"),
            ("x-kept", "yes"),
        ]);
        remove_client_headers(&mut headers);
        let mut names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        // `connection` itself goes with the adapter's hop-by-hop removal.
        assert_eq!(names, ["connection", "x-kept"]);
        add_request_headers(
            &mut headers,
            "8f5a-1",
            &HeaderValue::from_static("default"),
            None,
        )
        .unwrap();
        assert_eq!(headers[&WEB_REQUEST_ID], "8f5a-1");
        assert_eq!(headers[&ENDPOINT_NAME], "default");
    }

    #[test]
    fn the_clients_address_is_the_last_forwarded_for_value() {
        let add = |pairs: &[(&str, &str)], ip: &str| {
            let mut headers = map(pairs);
            let name = HeaderValue::from_static("default");
            add_request_headers(&mut headers, "id", &name, Some(ip)).unwrap();
            let all: Vec<String> = headers
                .get_all(&FORWARDED_FOR)
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .collect();
            all
        };
        assert_eq!(add(&[], "203.0.113.9"), ["203.0.113.9"]);
        assert_eq!(
            add(&[("x-forwarded-for", "198.51.100.1")], "203.0.113.9"),
            ["198.51.100.1, 203.0.113.9"]
        );
        // API Gateway appended it already: not twice.
        assert_eq!(
            add(
                &[("x-forwarded-for", "198.51.100.1, 203.0.113.9")],
                "203.0.113.9"
            ),
            ["198.51.100.1, 203.0.113.9"]
        );
        assert_eq!(
            add(
                &[
                    ("x-forwarded-for", "198.51.100.1"),
                    ("x-forwarded-for", "10.1.1.1")
                ],
                "203.0.113.9"
            ),
            ["198.51.100.1, 10.1.1.1, 203.0.113.9"]
        );
    }

    #[test]
    fn the_response_carries_the_request_id_and_none_of_the_apps_lambda_web_headers() {
        let mut headers = map(&[
            ("lambda-web-error-type", "Runtime.Fake"),
            ("content-type", "text/plain"),
        ]);
        response_headers(&mut headers, "8f5a-1");
        assert!(headers.get("lambda-web-error-type").is_none());
        assert_eq!(headers[&WEB_REQUEST_ID], "8f5a-1");
        assert_eq!(headers["content-type"], "text/plain");
    }
}
