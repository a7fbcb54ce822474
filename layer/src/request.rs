//! The adapter's policy for what the app receives, applied to a converted
//! event: trusted context headers, base path removal, the authorization
//! source, and the pass-through request for non-HTTP events.
//!
//! Owns: the headers portside sets (`x-amzn-request-context`,
//! `x-amzn-lambda-context`, `x-amzn-trace-id`, `x-portside-event-source`) and
//! the removal of client-sent copies of them, so the app can trust them.
//! Must not: do I/O or parse events.

use std::borrow::Cow;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, EXPECT, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};

use crate::config::Config;
use crate::error::PortsideError;
use crate::event::{HttpEvent, PassThrough};
use crate::limits::Limit;
use crate::uri::strip_base_path;

/// The event's `requestContext`, as JSON.
pub const REQUEST_CONTEXT: HeaderName = HeaderName::from_static("x-amzn-request-context");
/// The invocation's Lambda context, as JSON.
pub const LAMBDA_CONTEXT: HeaderName = HeaderName::from_static("x-amzn-lambda-context");
/// The invocation's X-Ray trace header.
pub const AMZN_TRACE_ID: HeaderName = HeaderName::from_static("x-amzn-trace-id");
/// The source of a pass-through event (`aws:sqs`, `aws:s3`, `aws.events`...).
pub const EVENT_SOURCE: HeaderName = HeaderName::from_static("x-portside-event-source");
/// A WebSocket event's type: `CONNECT`, `MESSAGE` or `DISCONNECT`.
pub const WEBSOCKET_EVENT: HeaderName = HeaderName::from_static("x-portside-websocket-event");
/// A WebSocket event's route key (`$connect`, `$default`, `sendMessage`...).
pub const WEBSOCKET_ROUTE: HeaderName = HeaderName::from_static("x-portside-websocket-route");
/// A WebSocket event's connection id.
pub const WEBSOCKET_CONNECTION_ID: HeaderName =
    HeaderName::from_static("x-portside-websocket-connection-id");

/// Headers only portside may set: a client's copy is removed (and with
/// them every other `x-portside-*` header, the prefix being portside's).
const TRUSTED: [HeaderName; 3] = [REQUEST_CONTEXT, LAMBDA_CONTEXT, AMZN_TRACE_ID];

/// Per-invocation facts that become headers.
#[derive(Debug, Clone, Copy)]
pub struct InvocationInfo<'a> {
    /// Lambda's request id for this invocation.
    pub request_id: &'a str,
    /// The Lambda context as JSON (see [`LambdaContextWriter`]).
    pub lambda_context: &'a str,
    /// Lambda's X-Ray trace header for this invocation, if any.
    pub trace_id: Option<&'a str>,
}

/// Writes the Lambda context as JSON: the shape LWA sends (request id,
/// deadline, function ARN, trace id, client context, Cognito identity,
/// tenant id, and the function's name, memory, version, log group and
/// stream), byte for byte what serde_json writes for
/// `lambda_runtime::Context`. The function's part is the same for every
/// invocation, so it is written once; the rest is written directly.
#[derive(Debug, Clone)]
pub struct LambdaContextWriter {
    /// `,"env_config":{...}}`, the end of every context's JSON.
    env_suffix: String,
}

impl LambdaContextWriter {
    /// A writer for contexts whose `env_config` is `env`.
    pub fn new(env: &lambda_runtime::Config) -> LambdaContextWriter {
        let env = serde_json::to_string(env).unwrap_or_else(|_| "{}".to_string());
        LambdaContextWriter {
            env_suffix: format!(",\"env_config\":{env}}}"),
        }
    }

    /// The context's JSON (with this writer's `env_config`).
    pub fn write(&self, context: &lambda_runtime::Context) -> String {
        use crate::body::escape::write_string;
        let mut out = Vec::with_capacity(256 + self.env_suffix.len());
        out.extend_from_slice(b"{\"request_id\":");
        write_string(&mut out, &context.request_id);
        out.extend_from_slice(b",\"deadline\":");
        crate::event::result::push_decimal(&mut out, context.deadline);
        out.extend_from_slice(b",\"invoked_function_arn\":");
        write_string(&mut out, &context.invoked_function_arn);
        out.extend_from_slice(b",\"xray_trace_id\":");
        write_optional_string(&mut out, context.xray_trace_id.as_deref());
        out.extend_from_slice(b",\"client_context\":");
        write_optional_json(&mut out, context.client_context.as_ref());
        out.extend_from_slice(b",\"identity\":");
        write_optional_json(&mut out, context.identity.as_ref());
        out.extend_from_slice(b",\"tenant_id\":");
        write_optional_string(&mut out, context.tenant_id.as_deref());
        out.extend_from_slice(self.env_suffix.as_bytes());
        // Only strings the escaper wrote and serde_json's own output: UTF-8.
        String::from_utf8(out).unwrap_or_else(|_| "{}".to_string())
    }
}

fn write_optional_string(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => crate::body::escape::write_string(out, text),
        None => out.extend_from_slice(b"null"),
    }
}

/// A rarely present part (a mobile SDK's client context, a Cognito
/// identity), through serde.
fn write_optional_json(out: &mut Vec<u8>, value: Option<&impl serde::Serialize>) {
    match value {
        Some(value) => {
            if serde_json::to_writer(&mut *out, value).is_err() {
                out.extend_from_slice(b"null");
            }
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// JSON text that fits in one header value: whitespace between tokens is
/// dropped, and characters outside printable ASCII are written as `\uXXXX`
/// escapes, so every framework reads the same JSON from the header whatever
/// encoding it assumes for header bytes.
pub fn json_header_value(json: &str) -> HeaderValue {
    let needs_work = !crate::header::is_printable_ascii(json.as_bytes());
    let text: Cow<'_, str> = if !needs_work {
        Cow::Borrowed(json)
    } else {
        let mut out = String::with_capacity(json.len());
        let mut in_string = false;
        let mut escaped = false;
        for c in json.chars() {
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            } else if c == '"' {
                in_string = true;
            } else if c.is_ascii_whitespace() {
                continue;
            }
            if (' '..'\u{7f}').contains(&c) {
                out.push(c);
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
        Cow::Owned(out)
    };
    let bytes = match text {
        Cow::Borrowed(json) => Bytes::copy_from_slice(json.as_bytes()),
        Cow::Owned(out) => Bytes::from(out),
    };
    // SAFETY: the borrowed text was just found to be printable ASCII
    // (`needs_work` is false); the rebuilt text is made of characters from
    // ' ' to '~' (every other one is written as a `\uXXXX` escape, itself
    // printable ASCII), so every byte is printable ASCII.
    unsafe { crate::header::printable_unchecked(bytes) }
}

/// Removes what must not cross from the event to the app: connection-level
/// headers (this request has its own connection and an exact length) and
/// client-sent copies of the headers portside sets.
fn remove_untrusted(headers: &mut HeaderMap) {
    for name in crate::header::HOP_BY_HOP {
        headers.remove(name);
    }
    // This request has an exact length, and its body is already here.
    for name in [EXPECT, CONTENT_LENGTH].iter().chain(TRUSTED.iter()) {
        headers.remove(name);
    }
    let ours: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("x-portside-"))
        .cloned()
        .collect();
    for name in ours {
        headers.remove(name);
    }
}

fn set_length(headers: &mut HeaderMap, method: &Method, body: &Bytes) -> Result<(), PortsideError> {
    let expects_body = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if !body.is_empty() || expects_body {
        put(headers, CONTENT_LENGTH, HeaderValue::from(body.len()))?;
    }
    Ok(())
}

/// Sets a header the adapter owns. The event's lines are within
/// [`Limit::RequestHeaderLines`], which leaves room for these; only names
/// crafted to collide in `http`'s hash can fill the map first.
fn put(headers: &mut HeaderMap, name: HeaderName, value: HeaderValue) -> Result<(), PortsideError> {
    headers.try_insert(name, value).map(drop).map_err(|_| {
        PortsideError::InvalidEvent(
            "the request's header names fill HTTP's header map; send fewer headers".into(),
        )
    })
}

fn set_invocation_headers(
    headers: &mut HeaderMap,
    info: &InvocationInfo<'_>,
) -> Result<(), PortsideError> {
    put(
        headers,
        LAMBDA_CONTEXT,
        json_header_value(info.lambda_context),
    )?;
    if let Some(trace) = info.trace_id {
        // It arrived as a header of `/next`, so it is a valid value.
        let value = crate::header::value(trace.as_bytes()).ok_or_else(|| {
            PortsideError::Internal("Lambda's trace header is not a valid header value".into())
        })?;
        put(headers, AMZN_TRACE_ID, value)?;
        // OpenTelemetry apps join the invocation's trace with no propagator
        // set up; a W3C context the client sent wins (it is the client's trace).
        if !headers.contains_key(&TRACEPARENT) {
            if let Some(value) = traceparent(trace) {
                put(headers, TRACEPARENT, value)?;
            }
        }
    }
    Ok(())
}

/// The W3C Trace Context header.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The W3C `traceparent` for an X-Ray trace header
/// (`Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`):
/// version `00`, the trace id from `Root` (its epoch part and its random
/// part, 32 hex digits), the parent id from `Parent` (16 hex digits), and
/// flags `01` when `Sampled=1`, else `00` (the mapping OpenTelemetry's
/// X-Ray propagator uses). `None` when the header has no valid `Root` or
/// `Parent` (W3C forbids all-zero ids).
pub fn traceparent(xray: &str) -> Option<HeaderValue> {
    traceparent_bytes(xray).map(|bytes| {
        // SAFETY: `traceparent_bytes` writes only `-` and lowercase hex
        // digits, all printable ASCII.
        unsafe { crate::header::printable_unchecked(Bytes::copy_from_slice(&bytes)) }
    })
}

fn traceparent_bytes(xray: &str) -> Option<[u8; 55]> {
    let (mut root, mut parent, mut sampled) = (None, None, false);
    for part in xray.split(';') {
        let Some((key, value)) = part.trim().split_once('=') else {
            continue;
        };
        match key {
            "Root" => root = Some(value),
            "Parent" => parent = Some(value),
            "Sampled" => sampled = value == "1",
            _ => {}
        }
    }
    let mut root = root?.split('-');
    let (version, epoch, random) = (root.next()?, root.next()?, root.next()?);
    let parent = parent?;
    if version != "1" || root.next().is_some() || epoch.len() != 8 || random.len() != 24 {
        return None;
    }
    // `00-` trace id (32) `-` parent id (16) `-` flags (2): 55 bytes.
    let mut out = *b"00-00000000000000000000000000000000-0000000000000000-00";
    let mut zero = [true, true];
    for (i, b) in epoch.bytes().chain(random.bytes()).enumerate() {
        if i >= 32 || !b.is_ascii_hexdigit() {
            return None;
        }
        zero[0] &= b == b'0';
        out[3 + i] = b.to_ascii_lowercase();
    }
    if parent.len() != 16 {
        return None;
    }
    for (i, b) in parent.bytes().enumerate() {
        if !b.is_ascii_hexdigit() {
            return None;
        }
        zero[1] &= b == b'0';
        out[36 + i] = b.to_ascii_lowercase();
    }
    // W3C: an all-zero trace id or parent id is invalid.
    if zero[0] || zero[1] {
        return None;
    }
    if sampled {
        out[54] = b'1';
    }
    Some(out)
}

/// The request the app receives for an HTTP event, or the typed error that
/// says why the event cannot be carried exactly (nothing is sent then).
pub fn http_request(
    event: HttpEvent<'_>,
    info: &InvocationInfo<'_>,
    config: &Config,
) -> Result<Request<Bytes>, PortsideError> {
    let HttpEvent {
        request,
        request_context,
        websocket,
        client_ip,
        ..
    } = event;
    let mut headers = request.headers;
    if config.web_function.is_some() {
        crate::web::remove_client_headers(&mut headers);
    }
    remove_untrusted(&mut headers);
    if let Some(web) = &config.web_function {
        crate::web::add_request_headers(
            &mut headers,
            info.request_id,
            &web.endpoint_name,
            client_ip.as_deref(),
        )?;
    }
    let is_websocket = websocket.is_some();
    if let Some(websocket) = websocket {
        put(&mut headers, WEBSOCKET_EVENT, websocket.event_type)?;
        put(&mut headers, WEBSOCKET_ROUTE, websocket.route_key)?;
        put(
            &mut headers,
            WEBSOCKET_CONNECTION_ID,
            websocket.connection_id,
        )?;
        if !request.body.is_empty() && !headers.contains_key(CONTENT_TYPE) {
            // A message is the frame's text.
            put(
                &mut headers,
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )?;
        }
    }

    if let Some(source) = &config.authorization_source {
        if let Some(value) = headers.remove(source) {
            put(&mut headers, AUTHORIZATION, value)?;
        }
    }
    if let Some(context) = request_context {
        put(
            &mut headers,
            REQUEST_CONTEXT,
            json_header_value(context.get()),
        )?;
    }
    set_invocation_headers(&mut headers, info)?;
    if !headers.contains_key(HOST) {
        put(&mut headers, HOST, config.app_host.clone())?;
    }
    set_length(&mut headers, &request.method, &request.body)?;

    let path = match (is_websocket, &config.remove_base_path) {
        (true, _) => &config.websocket_path,
        (false, Some(base)) => strip_base_path(&request.path, base),
        (false, None) => &request.path,
    };
    let uri = request_target(path, request.query.as_deref())?;
    let mut out = Request::new(request.body);
    *out.method_mut() = request.method;
    *out.uri_mut() = uri;
    *out.headers_mut() = headers;
    Ok(out)
}

/// The request target `path?query` (the event conversion encoded both), or
/// the error that says why it cannot be one.
fn request_target(path: &str, query: Option<&str>) -> Result<http::Uri, PortsideError> {
    let length = path.len() + query.map_or(0, |q| q.len() + 1);
    if length > Limit::RequestTarget.max() {
        return Err(PortsideError::RequestTooLarge {
            limit: Limit::RequestTarget,
            size: length,
        });
    }
    let mut target = String::with_capacity(length);
    target.push_str(path);
    if let Some(query) = query {
        target.push('?');
        target.push_str(query);
    }
    target.parse().map_err(|e: http::uri::InvalidUri| {
        PortsideError::InvalidEvent(format!("the path and query are not a request target: {e}"))
    })
}

/// The request the app receives for a non-HTTP event: a POST of the event
/// JSON to the pass-through path, naming its source.
pub fn pass_through_request(
    event: &PassThrough<'_>,
    payload: Bytes,
    info: &InvocationInfo<'_>,
    config: &Config,
) -> Result<Request<Bytes>, PortsideError> {
    let mut headers = HeaderMap::with_capacity(8);
    put(&mut headers, HOST, config.app_host.clone())?;
    put(
        &mut headers,
        CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    )?;
    let source = crate::header::value(event.source.as_bytes()).ok_or_else(|| {
        PortsideError::InvalidEvent(format!(
            "the event names its source {:?}, which cannot be sent as the {EVENT_SOURCE} header",
            event.source
        ))
    })?;
    put(&mut headers, EVENT_SOURCE, source)?;
    set_invocation_headers(&mut headers, info)?;
    set_length(&mut headers, &Method::POST, &payload)?;
    let mut out = Request::new(payload);
    *out.method_mut() = Method::POST;
    *out.uri_mut() = config.pass_through_path.uri();
    *out.headers_mut() = headers;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{parse, Event};
    use http::header::{CONNECTION, TRANSFER_ENCODING};

    fn config(extra: &[(&str, &str)]) -> Config {
        let mut env: Vec<(&str, &str)> = vec![
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("AWS_LAMBDA_FUNCTION_NAME", "f"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ];
        env.extend_from_slice(extra);
        Config::from_lookup(|name| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap()
    }

    const INFO: InvocationInfo<'static> = InvocationInfo {
        request_id: "r-1",
        lambda_context: r#"{"request_id":"r-1","deadline":1}"#,
        trace_id: Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
    };

    fn http(json: &str, config: &Config) -> Request<Bytes> {
        match parse(json).unwrap() {
            Event::Http(e) => http_request(*e, &INFO, config).unwrap(),
            Event::PassThrough(p) => panic!("{p:?}"),
        }
    }

    const FORGED: &str = r#"{"version": "2.0", "rawPath": "/prod/items", "rawQueryString": "a=1",
        "headers": {"x-amzn-request-context": "{\"forged\":1}", "x-amzn-lambda-context": "forged",
                    "x-amzn-trace-id": "Root=forged", "x-portside-event-source": "aws:sqs",
                    "content-length": "999", "transfer-encoding": "chunked", "connection": "close",
                    "x-api-token": "secret-from-client", "host": "api.example.com"},
        "requestContext": {"http": {"method": "POST"}, "domainName": "api.example.com",
                           "authorizer": {"claims": {"name": "Zoë"}}},
        "body": "hello"}"#;

    #[test]
    fn client_sent_context_headers_are_replaced_by_portsides_own() {
        let req = http(FORGED, &config(&[]));
        let h = req.headers();
        let context: serde_json::Value =
            serde_json::from_slice(h[&REQUEST_CONTEXT].as_bytes()).unwrap();
        assert_eq!(context["authorizer"]["claims"]["name"], "Zoë");
        assert!(
            h[&REQUEST_CONTEXT].as_bytes().is_ascii(),
            "non-ASCII is escaped in the header"
        );
        assert_eq!(h[&LAMBDA_CONTEXT], INFO.lambda_context);
        assert_eq!(h[&AMZN_TRACE_ID], INFO.trace_id.unwrap());
        assert!(h.get(&EVENT_SOURCE).is_none());
        assert_eq!(h.get_all(&REQUEST_CONTEXT).iter().count(), 1);
        assert_eq!(
            h[CONTENT_LENGTH], "5",
            "the length is the body's, not the client's claim"
        );
        assert!(h.get(TRANSFER_ENCODING).is_none() && h.get(CONNECTION).is_none());
        assert_eq!(h[HOST], "api.example.com");
        assert_eq!(req.uri(), "/prod/items?a=1");
        assert_eq!(req.body(), "hello");
    }

    #[test]
    fn without_a_lambda_trace_id_the_clients_is_still_removed() {
        let info = InvocationInfo {
            trace_id: None,
            ..INFO
        };
        let Event::Http(e) = parse(FORGED).unwrap() else {
            panic!()
        };
        let req = http_request(*e, &info, &config(&[])).unwrap();
        assert!(req.headers().get(&AMZN_TRACE_ID).is_none());
    }

    #[test]
    fn base_path_and_authorization_source_apply() {
        let req = http(
            FORGED,
            &config(&[
                ("AWS_LWA_REMOVE_BASE_PATH", "/prod"),
                ("AWS_LWA_AUTHORIZATION_SOURCE", "X-Api-Token"),
            ]),
        );
        assert_eq!(req.uri(), "/items?a=1");
        assert_eq!(req.headers()[AUTHORIZATION], "secret-from-client");
        assert!(req.headers().get("x-api-token").is_none());
    }

    #[test]
    fn pass_through_posts_the_event_naming_its_source() {
        let payload = Bytes::from_static(br#"{"Records":[{"eventSource":"aws:sqs"}]}"#);
        let Event::PassThrough(p) = parse(std::str::from_utf8(&payload).unwrap()).unwrap() else {
            panic!()
        };
        let req =
            pass_through_request(&p, payload.clone(), &INFO, &config(&[("PORT", "3000")])).unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri(), "/events");
        assert_eq!(req.headers()[&EVENT_SOURCE], "aws:sqs");
        assert_eq!(req.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(req.headers()[HOST], "127.0.0.1:3000");
        assert_eq!(
            req.body(),
            &payload,
            "the event reaches the app byte for byte"
        );
    }

    #[test]
    fn the_lambda_context_is_written_as_serde_json_writes_it() {
        let env = lambda_runtime::Config {
            function_name: "fn \"quoted\"".into(),
            memory: 512,
            version: "$LATEST".into(),
            log_stream: "2026/11/22/[$LATEST]abc".into(),
            log_group: "/aws/lambda/f".into(),
        };
        let writer = LambdaContextWriter::new(&env);
        let env = std::sync::Arc::new(env);
        let mut headers = HeaderMap::new();
        headers.insert(
            "lambda-runtime-deadline-ms",
            HeaderValue::from_static("1795345200000"),
        );
        headers.insert(
            "lambda-runtime-invoked-function-arn",
            HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:f"),
        );
        headers.insert(
            "lambda-runtime-trace-id",
            HeaderValue::from_static(
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            ),
        );
        let plain = crate::runtime_api::invocation_context("r-1", &HeaderMap::new(), env.clone());
        let full = {
            let mut h = headers.clone();
            h.insert(
                "lambda-runtime-client-context",
                HeaderValue::from_static(r#"{"client":{"installationId":"i","appTitle":"t","appVersionName":"1","appVersionCode":"1","appPackageName":"p"},"custom":{"k":"v"},"environment":{}}"#),
            );
            h.insert(
                "lambda-runtime-cognito-identity",
                HeaderValue::from_static(r#"{"identityId":"id","identityPoolId":"pool"}"#),
            );
            h.insert(
                "lambda-runtime-aws-tenant-id",
                HeaderValue::from_bytes("tenant-Ø".as_bytes()).unwrap(),
            );
            crate::runtime_api::invocation_context("8f1c\u{0}\"", &h, env.clone())
        };
        let traced = crate::runtime_api::invocation_context("r-2", &headers, env);
        for context in [plain, full, traced] {
            assert_eq!(
                writer.write(&context),
                serde_json::to_string(&context).unwrap()
            );
        }
    }

    #[test]
    fn the_xray_header_becomes_a_w3c_traceparent() {
        let cases = [
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"),
            ),
            (
                "Root=1-5759E988-BD862E3FE1BE46A994272793;Parent=53995C3F42CD8AD8;Sampled=0;Lineage=a:1",
                Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-00"),
            ),
            (
                "Parent=53995c3f42cd8ad8;Root=1-5759e988-bd862e3fe1be46a994272793",
                Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-00"),
            ),
            // No parent, a bad root, all-zero ids, garbage: no traceparent.
            ("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", None),
            ("Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8", None),
            ("Root=1-5759e988-bd862e3f;Parent=53995c3f42cd8ad8", None),
            ("Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8", None),
            ("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000", None),
            ("Root=1-5759e988-bd862e3fe1be46a99427279g;Parent=53995c3f42cd8ad8", None),
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793;;Parent=53995c3f42cd8ad8;",
                Some("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-00"),
            ),
            ("garbage", None),
            ("", None),
        ];
        for (xray, want) in cases {
            assert_eq!(
                traceparent(xray).map(|v| v.to_str().unwrap().to_string()),
                want.map(str::to_string),
                "{xray}"
            );
        }
    }

    #[test]
    fn the_app_gets_a_traceparent_unless_the_client_sent_its_own() {
        let info = InvocationInfo {
            trace_id: Some(
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            ),
            ..INFO
        };
        let Event::Http(e) = parse(FORGED).unwrap() else {
            panic!()
        };
        let req = http_request(*e, &info, &config(&[])).unwrap();
        assert_eq!(
            req.headers()[&TRACEPARENT],
            "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"
        );
        let theirs = r#"{"version": "2.0", "rawPath": "/", "rawQueryString": "",
            "headers": {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
            "requestContext": {"http": {"method": "GET"}}}"#;
        let Event::Http(e) = parse(theirs).unwrap() else {
            panic!()
        };
        let req = http_request(*e, &info, &config(&[])).unwrap();
        assert_eq!(
            req.headers()
                .get_all(&TRACEPARENT)
                .iter()
                .collect::<Vec<_>>(),
            ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"]
        );
    }

    #[test]
    fn json_headers_are_compact_ascii_and_still_the_same_json() {
        let pretty = "{\n  \"a\": \"x y\",\n  \"emoji\": \"😀\",\n  \"del\": \"\u{7f}\"\n}";
        let value = json_header_value(pretty);
        assert_eq!(
            value.to_str().unwrap(),
            r#"{"a":"x y","emoji":"\ud83d\ude00","del":"\u007f"}"#
        );
        let reparsed: serde_json::Value = serde_json::from_slice(value.as_bytes()).unwrap();
        assert_eq!(
            reparsed,
            serde_json::from_str::<serde_json::Value>(pretty).unwrap()
        );
    }
}
