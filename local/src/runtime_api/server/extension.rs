//! The Extensions API's routes: `register` (name, events, the answer with
//! the function's details), `event/next` (the next INVOKE or SHUTDOWN),
//! `init/error` and `exit/error`.
//!
//! It must not decide when events are sent: `invocation` and `shutdown` do.

use super::body::{drain, read_limited, too_large_for_runtime, ReadError};
use super::runtime::fail_init;
use super::{accepted, error, header, json, PollGuard, Resp};
use crate::limits::Limit;
use crate::runtime_api::extensions::Extension;
use crate::runtime_api::state::Shared;
use crate::runtime_api::{FunctionError, InitState};
use crate::util;
use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;
use tokio::sync::oneshot;

pub(super) async fn extension_register(shared: &Arc<Shared>, req: Request<Incoming>) -> Resp {
    let Some(name) = header(req.headers(), "lambda-extension-name").filter(|n| !n.is_empty())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "Extension.InvalidRequest",
            "the Lambda-Extension-Name header is required",
        );
    };
    let want_account = header(req.headers(), "lambda-extension-accept-feature")
        .is_some_and(|f| f.split(',').any(|f| f.trim() == "accountId"));
    let events = match registration_events(req).await {
        Ok(events) => events,
        Err(resp) => return *resp,
    };
    let id = util::uuid_v4();
    if let Err(resp) = add_extension(shared, &id, name, events) {
        return *resp;
    }
    shared.changed();
    registered(shared, &id, want_account)
}

/// Reads a registration body within [`Limit::ExtensionRegistration`] and
/// gives the events it asks for (`INVOKE`, `SHUTDOWN`); a body too large,
/// broken, not JSON or naming another event is answered with Lambda's 400.
async fn registration_events(req: Request<Incoming>) -> Result<Vec<String>, Box<Resp>> {
    let invalid = |message: &str| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "Extension.InvalidRequest",
            message,
        ))
    };
    let (parts, body) = req.into_parts();
    let limit = Limit::ExtensionRegistration;
    let bytes = match read_limited(&parts.headers, body, limit.max(), None).await {
        Ok(b) => b,
        Err(ReadError::TooLarge(rest)) => {
            drain(rest).await;
            return Err(invalid(&format!(
                "{} is over its limit of {limit}",
                limit.what()
            )));
        }
        Err(_) => return Err(invalid("could not read the registration body")),
    };
    let events: Vec<String> = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(v) => match v.get("events").and_then(|e| e.as_array()) {
            Some(list) => list
                .iter()
                .map(|e| e.as_str().unwrap_or("").to_string())
                .collect(),
            None => Vec::new(),
        },
        Err(e) => return Err(invalid(&format!("the registration body is not JSON: {e}"))),
    };
    if let Some(bad) = events.iter().find(|e| *e != "INVOKE" && *e != "SHUTDOWN") {
        return Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "Extension.InvalidEventType",
            &format!("unknown event type {bad:?}: use INVOKE and/or SHUTDOWN"),
        )));
    }
    Ok(events)
}

/// Records extension `name` as registered under `id` for `events`; refused
/// with Lambda's 403 once init is over.
fn add_extension(
    shared: &Shared,
    id: &str,
    name: String,
    events: Vec<String>,
) -> Result<(), Box<Resp>> {
    let mut st = shared.lock();
    if st.init != InitState::Pending {
        return Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "Extension.RegistrationClosed",
            "extensions can register only during init",
        )));
    }
    st.extensions.push(Extension {
        id: id.to_string(),
        name,
        events,
        waiting: None,
        queue: Default::default(),
        next_calls: 0,
        shutdown_delivered: false,
    });
    Ok(())
}

/// The answer to a registration: the function's name, version and handler
/// (and its account when asked for), with the extension's identifier.
fn registered(shared: &Shared, id: &str, want_account: bool) -> Resp {
    let cfg = &shared.config;
    let mut body = serde_json::json!({
        "functionName": cfg.function_name,
        "functionVersion": cfg.function_version,
        "handler": cfg.handler,
    });
    if want_account {
        body["accountId"] = serde_json::Value::String(cfg.account_id.clone());
    }
    let mut resp = json(StatusCode::OK, body.to_string());
    if let Ok(v) = http::HeaderValue::from_str(id) {
        resp.headers_mut().insert("lambda-extension-identifier", v);
    }
    resp
}

pub(super) fn unknown_extension(id: Option<&str>) -> Resp {
    match id {
        None => error(
            StatusCode::FORBIDDEN,
            "Extension.MissingExtensionIdentifier",
            "the Lambda-Extension-Identifier header is required",
        ),
        Some(id) => error(
            StatusCode::FORBIDDEN,
            "Extension.UnknownExtensionIdentifier",
            &format!("no extension is registered as {id}"),
        ),
    }
}

pub(super) async fn extension_next(shared: &Arc<Shared>, headers: &HeaderMap) -> Resp {
    let id = header(headers, "lambda-extension-identifier");
    let rx = {
        let mut st = shared.lock();
        let Some(ext) = id
            .as_deref()
            .and_then(|id| st.extensions.iter_mut().find(|e| e.id == id))
        else {
            return unknown_extension(id.as_deref());
        };
        ext.next_calls += 1;
        if let Some((event, is_shutdown)) = ext.queue.pop_front() {
            if is_shutdown {
                ext.shutdown_delivered = true;
            }
            shared.check_init(&mut st);
            shared.dispatch(&mut st);
            drop(st);
            shared.changed();
            return extension_event(event);
        }
        let (tx, rx) = oneshot::channel();
        ext.waiting = Some(tx);
        shared.check_init(&mut st);
        shared.dispatch(&mut st);
        rx
    };
    shared.changed();
    let guard = PollGuard(Arc::clone(shared));
    let result = rx.await;
    drop(guard);
    match result {
        Ok(event) => extension_event(event),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sandbox.Reset",
            "the sandbox was reset; this extension should exit",
        ),
    }
}

pub(super) fn extension_event(event: Bytes) -> Resp {
    let mut resp = json(StatusCode::OK, event);
    if let Ok(v) = http::HeaderValue::from_str(&util::uuid_v4()) {
        resp.headers_mut()
            .insert("lambda-extension-event-identifier", v);
    }
    resp
}

pub(super) fn known_extension(shared: &Shared, headers: &HeaderMap) -> Result<String, Box<Resp>> {
    let id = header(headers, "lambda-extension-identifier");
    let st = shared.lock();
    match id
        .as_deref()
        .and_then(|id| st.extensions.iter().find(|e| e.id == id))
    {
        Some(e) => Ok(e.name.clone()),
        None => Err(Box::new(unknown_extension(id.as_deref()))),
    }
}

pub(super) async fn extension_init_error(shared: &Arc<Shared>, req: Request<Incoming>) -> Resp {
    if let Err(resp) = known_extension(shared, req.headers()) {
        return *resp;
    }
    let error_type = header(req.headers(), "lambda-extension-function-error-type");
    // Within the same limit as the runtime's own `/init/error`: a larger
    // one is refused, never cut (or dropped) silently.
    let limit = shared.config.max_buffered_response_bytes;
    let (parts, body) = req.into_parts();
    let bytes = match read_limited(&parts.headers, body, limit, None).await {
        Ok(b) => b,
        Err(ReadError::TooLarge(rest)) => {
            drain(rest).await;
            return too_large_for_runtime(limit);
        }
        Err(ReadError::Broken(why)) => {
            return error(StatusCode::BAD_REQUEST, "InvalidRequest", &why)
        }
        Err(ReadError::Cancelled) => {
            return error(StatusCode::BAD_REQUEST, "InvalidRequest", "cancelled")
        }
    };
    fail_init(shared, FunctionError::from_post(error_type, bytes))
}

pub(super) async fn extension_exit_error(shared: &Arc<Shared>, req: Request<Incoming>) -> Resp {
    match known_extension(shared, req.headers()) {
        Ok(name) => {
            let error_type = header(req.headers(), "lambda-extension-function-error-type")
                .unwrap_or_else(|| "Extension.Unknown".to_string());
            eprintln!("portside-local: extension {name} reported exit error {error_type}");
            accepted()
        }
        Err(resp) => *resp,
    }
}
