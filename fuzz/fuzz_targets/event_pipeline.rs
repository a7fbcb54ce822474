//! The event pipeline: payload bytes → `event::parse` → the app's request
//! (`request::http_request` with base-path removal and the authorization
//! source on, or `pass_through_request`) → an app response built from the
//! rest of the input → `to_result` + `to_json` (or `pass_through_result`),
//! and the stream prelude.
//!
//! Input: the payload, optionally followed by `common::SEPARATOR` and the
//! bytes the response is built from.
//!
//! What must hold, beyond "no panic": a bad payload is `InvalidEvent`; the
//! app receives exactly the request the event describes or the invocation
//! fails with a typed error: the request target is the one an independent
//! oracle rebuilds from the payload (`target_oracle`: `percent-encoding` and
//! RFC 3986's sets), with no raw space, CR, LF or other byte outside visible
//! ASCII, and a target past `Limit::RequestTarget` is
//! `Portside.RequestTooLarge` naming it, never another request; no header the adapter owns survives from the event, and
//! every other header reaches the app with every value; the body reaches
//! the app unchanged; the result is valid JSON with the app's status, and
//! its body gives back the app's bytes (text as itself, binary by base64);
//! and the payload taken apart as it arrives (`event::assemble`) is given
//! back whole byte for byte, and read split is the event it is whole.

#![no_main]

#[path = "common.rs"]
mod common;
#[path = "target_oracle.rs"]
mod target_oracle;

use base64::Engine;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, EXPECT};
use http::{HeaderMap, HeaderName, Method};
use libfuzzer_sys::fuzz_target;
use portside::testing::error::PortsideError;
use portside::testing::event::{self, Event, ResponseParts};
use portside::testing::limits::Limit;
use portside::testing::request::{
    self, InvocationInfo, EVENT_SOURCE, LAMBDA_CONTEXT, REQUEST_CONTEXT, AMZN_TRACE_ID,
    WEBSOCKET_CONNECTION_ID, WEBSOCKET_EVENT, WEBSOCKET_ROUTE,
};
use std::sync::OnceLock;

const INFO: InvocationInfo<'static> = InvocationInfo {
    request_id: "r-1",
    lambda_context: r#"{"request_id":"r-1","deadline":1,"client_context":{"custom":{"k":"Zoë"}}}"#,
    trace_id: Some("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
};

fn config() -> &'static portside::testing::config::Config {
    static CONFIG: OnceLock<portside::testing::config::Config> = OnceLock::new();
    CONFIG.get_or_init(common::config)
}

/// Visible ASCII only: what a request target may hold on the wire.
fn is_target_text(text: &str) -> bool {
    text.bytes().all(|b| (0x21..0x7f).contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let (payload, spec) = common::split(data);
    let Ok(payload) = std::str::from_utf8(payload) else {
        return;
    };
    let response = common::response(spec);
    check_split(payload);
    match event::parse(payload) {
        Err(PortsideError::InvalidEvent(_)) => {}
        Err(other) => panic!("parse failed with {other:?}, not InvalidEvent"),
        Ok(Event::Http(http)) => check_http(payload, *http, response),
        Ok(Event::PassThrough(pass)) => check_pass_through(payload, &pass, response),
    }
});

/// The payload taken apart as it arrives (`event::assemble`), in frames of
/// a size from its length: given back whole, it is the payload byte for
/// byte; read split, it is the event the whole payload is.
fn check_split(payload: &str) {
    let bytes = payload.as_bytes();
    let mut assembler = event::Assembler::new(bytes.len());
    for frame in bytes.chunks(1 + bytes.len() % 97) {
        assembler.push(frame);
    }
    let split = match assembler.finish() {
        event::Payload::Whole(joined) => {
            assert_eq!(&joined[..], bytes, "the payload given back whole");
            return;
        }
        event::Payload::Split(split) => {
            assert_eq!(&split.join()[..], bytes, "the split payload joined");
            split
        }
    };
    let Some(read) = event::parse_split(&split) else {
        return;
    };
    match (event::parse(payload), read) {
        (Ok(Event::Http(whole)), Event::Http(split)) => {
            assert_eq!(whole.source, split.source);
            assert_eq!(whole.request, split.request, "the request, split and whole");
            assert_eq!(
                whole.request_context.as_ref().map(|c| c.get().to_string()),
                split.request_context.as_ref().map(|c| c.get().to_string())
            );
            assert_eq!(whole.websocket, split.websocket);
            assert_eq!(whole.client_ip, split.client_ip);
        }
        (whole, split) => panic!("read split: {split:?}; whole: {whole:?}"),
    }
}

fn check_http(payload: &str, http: event::HttpEvent<'_>, response: ResponseParts) {
    let config = config();
    let source = http.source;
    let parts = http.request.clone();
    let context = http.request_context.as_ref().map(|c| c.get().to_string());
    let websocket = http.websocket.clone();

    // The conversion's own output: a path and a query as they go on the wire.
    assert!(parts.path.starts_with('/'), "path {:?}", parts.path);
    assert!(is_target_text(&parts.path), "path {:?}", parts.path);
    assert!(!parts.path.contains(['?', '#']), "path {:?}", parts.path);
    if let Some(query) = &parts.query {
        assert!(is_target_text(query), "query {query:?}");
        assert!(!query.contains('#'), "query {query:?}");
    }

    // The target: exactly the event's, never a silent fallback.
    let path = match &websocket {
        Some(_) => &*config.websocket_path,
        None => portside::testing::uri::strip_base_path(&parts.path, common::BASE_PATH),
    };
    let expected = match &parts.query {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    };
    // The same target, rebuilt from the payload by the oracle where it can.
    let oracle = target_oracle::expected_target(
        payload,
        source,
        common::BASE_PATH,
        &config.websocket_path,
    );
    if let Some(oracle) = &oracle {
        assert_eq!(&expected, oracle, "the conversion's target is the event's");
    }

    let req = match request::http_request(http, &INFO, config) {
        Ok(req) => req,
        Err(PortsideError::RequestTooLarge { limit, size }) => {
            assert_eq!(limit, Limit::RequestTarget, "only the target can be this long here");
            assert_eq!(size, expected.len());
            assert!(size > limit.max());
            return;
        }
        Err(other) => panic!("http_request failed with {other:?}"),
    };
    let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("");
    assert!(expected.len() <= Limit::RequestTarget.max());
    assert_eq!(target, expected);
    assert!(is_target_text(target), "target {target:?}");
    assert_eq!(req.method(), parts.method);
    assert_eq!(req.body(), &parts.body);

    // Headers the adapter owns carry the adapter's values only.
    let h = req.headers();
    assert_eq!(
        h[&LAMBDA_CONTEXT],
        request::json_header_value(INFO.lambda_context)
    );
    assert_eq!(h[&AMZN_TRACE_ID], INFO.trace_id.unwrap());
    assert_eq!(h.get_all(&AMZN_TRACE_ID).iter().count(), 1);
    assert_eq!(h.get_all(&LAMBDA_CONTEXT).iter().count(), 1);
    match &context {
        Some(json) => {
            assert_eq!(h.get_all(&REQUEST_CONTEXT).iter().count(), 1);
            let header = h[&REQUEST_CONTEXT].as_bytes();
            assert!(common::is_json(header), "x-amzn-request-context is JSON");
            // The same JSON, whenever serde_json's Value can hold it (not
            // a number such as 1e999, which is JSON all the same).
            if let Ok(original) = serde_json::from_str::<serde_json::Value>(json) {
                let sent: serde_json::Value =
                    serde_json::from_slice(header).expect("the same numbers as the event's");
                assert_eq!(sent, original);
            }
        }
        None => assert!(!h.contains_key(&REQUEST_CONTEXT)),
    }
    assert!(!h.contains_key(&EVENT_SOURCE));
    for name in h.keys() {
        assert!(
            !portside::testing::header::is_hop_by_hop(name),
            "{name} reached the app"
        );
        assert_ne!(name, EXPECT);
        if name.as_str().starts_with("x-portside-") {
            let ws = websocket
                .as_ref()
                .expect("x-portside-* only for WebSocket events");
            let value = if name == WEBSOCKET_EVENT {
                &ws.event_type
            } else if name == WEBSOCKET_ROUTE {
                &ws.route_key
            } else if name == WEBSOCKET_CONNECTION_ID {
                &ws.connection_id
            } else {
                panic!("{name} survived from the event")
            };
            assert_eq!(h[name].as_bytes(), value.as_bytes());
        }
    }
    let expects_body = matches!(parts.method, Method::POST | Method::PUT | Method::PATCH);
    match h.get(CONTENT_LENGTH) {
        Some(length) => {
            assert_eq!(h.get_all(CONTENT_LENGTH).iter().count(), 1);
            assert_eq!(length.to_str().unwrap(), parts.body.len().to_string());
        }
        None => assert!(parts.body.is_empty() && !expects_body),
    }

    // The authorization source replaces Authorization.
    let auth_source = HeaderName::from_static(common::AUTH_SOURCE);
    if let Some(value) = parts.headers.get(&auth_source) {
        assert!(!h.contains_key(&auth_source));
        assert_eq!(&h[AUTHORIZATION], value);
    }

    // Every other header of the event reaches the app with every value.
    every_other_header_survives(&parts.headers, h, &auth_source);

    // The app's response back to Lambda.
    if let Some(prelude) = event::stream_prelude(source, response.status, &response.headers) {
        assert!(source.streams());
        let prelude: serde_json::Value =
            serde_json::from_slice(&prelude).expect("the stream prelude is JSON");
        assert_eq!(prelude["statusCode"], response.status.as_u16());
    } else {
        assert!(!source.streams());
    }
    let result = event::to_result(source, response.clone());
    match event::to_json(&result) {
        Ok(json) => check_result_json(&json, &response),
        Err(PortsideError::ResponseTooLarge { .. }) => {}
        Err(other) => panic!("to_json failed with {other:?}"),
    }
}

fn every_other_header_survives(event: &HeaderMap, app: &HeaderMap, auth_source: &HeaderName) {
    for name in event.keys() {
        let owned = portside::testing::header::is_hop_by_hop(name)
            || name == EXPECT
            || name == CONTENT_LENGTH
            || name == LAMBDA_CONTEXT
            || name == REQUEST_CONTEXT
            || name == AMZN_TRACE_ID
            || name.as_str().starts_with("x-portside-")
            || name == auth_source
            || (name == AUTHORIZATION && event.contains_key(auth_source));
        if owned {
            continue;
        }
        let sent: Vec<_> = event.get_all(name).iter().collect();
        let received: Vec<_> = app.get_all(name).iter().collect();
        assert_eq!(sent, received, "header {name}");
    }
}

fn check_result_json(json: &Bytes, response: &ResponseParts) {
    let value: serde_json::Value = serde_json::from_slice(json).expect("the result is JSON");
    assert_eq!(value["statusCode"], response.status.as_u16());
    let body = value["body"]
        .as_str()
        .expect("the result has a string body");
    let base64 = value["isBase64Encoded"].as_bool().expect("isBase64Encoded");
    let bytes = if base64 {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("a base64 body decodes")
    } else {
        body.as_bytes().to_vec()
    };
    assert_eq!(bytes, response.body.as_ref(), "the body round-trips");
}

fn check_pass_through(payload: &str, pass: &event::PassThrough<'_>, response: ResponseParts) {
    let config = config();
    let body = Bytes::copy_from_slice(payload.as_bytes());
    // The source names itself in a header, or the event is refused.
    let req = match request::pass_through_request(pass, body.clone(), &INFO, config) {
        Ok(req) => req,
        Err(PortsideError::InvalidEvent(_)) => {
            assert!(http::HeaderValue::from_str(&pass.source).is_err());
            return;
        }
        Err(other) => panic!("pass_through_request failed with {other:?}"),
    };
    assert_eq!(req.method(), Method::POST);
    assert_eq!(
        req.uri().path_and_query().unwrap().as_str(),
        &*config.pass_through_path
    );
    assert_eq!(req.body(), &body);
    let h = req.headers();
    assert_eq!(h[CONTENT_LENGTH].to_str().unwrap(), body.len().to_string());
    assert_eq!(h[&EVENT_SOURCE].as_bytes(), pass.source.as_bytes());
    assert_eq!(h[&AMZN_TRACE_ID], INFO.trace_id.unwrap());
    let app_json = common::is_json(&response.body);
    match event::pass_through_result(response.clone()) {
        Ok(json) => {
            assert!(response.status.is_success());
            // RFC 8259's grammar, not serde_json's reader: a number such
            // as 1e999 is JSON, even if serde_json's Value cannot hold it.
            assert!(
                common::is_json(&json),
                "a pass-through result is JSON: {json:?}"
            );
            if app_json {
                assert_eq!(json, response.body, "the app's JSON goes back untouched");
            } else if response.body.iter().all(u8::is_ascii_whitespace) {
                assert_eq!(json.as_ref(), b"null");
            } else {
                let value: serde_json::Value =
                    serde_json::from_slice(&json).expect("a JSON string serde_json wrote");
                assert_eq!(
                    value.as_str().map(str::as_bytes),
                    Some(response.body.as_ref())
                );
            }
        }
        Err(PortsideError::AppError { status, .. }) => {
            assert!(!response.status.is_success());
            assert_eq!(status, response.status.as_u16());
        }
        Err(PortsideError::AppInvalidResponse(_)) => {
            assert!(std::str::from_utf8(&response.body).is_err());
        }
        Err(PortsideError::ResponseTooLarge { .. }) => {}
        Err(other) => panic!("pass_through_result failed with {other:?}"),
    }
}
