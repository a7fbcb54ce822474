//! The HTTP side of the Runtime and Extensions APIs: routing, headers,
//! bodies and status codes. The state changes themselves live in the parent
//! module.

use super::extensions::Extension;
use super::snapstart::{restore_failed, restore_next};
use super::state::Shared;
use super::stream::{self, Piece, PreludeSplitter};
use super::{
    FunctionError, InitState, Outcome, StreamEvent, StreamedResponse, EXTENSION_PATH, RUNTIME_PATH,
};
use crate::util;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch, Notify};

type Resp = Response<Full<Bytes>>;

pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = Arc::clone(&shared);
                    let mut stop = stop.clone();
                    tokio::spawn(async move {
                        let svc = service_fn(move |req| handle(Arc::clone(&shared), req));
                        let conn = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc);
                        tokio::select! {
                            _ = conn => {}
                            _ = stop.changed() => {}
                        }
                    });
                }
                // Out of file descriptors and the like: try again shortly.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            },
            _ = stop.changed() => return,
        }
    }
}

fn json(status: StatusCode, body: impl Into<Bytes>) -> Resp {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

fn error(status: StatusCode, error_type: &str, message: &str) -> Resp {
    json(status, util::error_json(error_type, message))
}

fn accepted() -> Resp {
    json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Resp, Infallible> {
    let full_path = req.uri().path().to_string();
    let prefix = shared.config.path_prefix.trim_end_matches('/');
    let Some(path) = full_path.strip_prefix(prefix) else {
        return Ok(not_found(&full_path));
    };
    let method = req.method().clone();
    let resp = if let Some(rest) = path.strip_prefix(RUNTIME_PATH) {
        match (&method, rest) {
            (&Method::GET, "/invocation/next") => runtime_next(&shared).await,
            (&Method::POST, "/init/error") => runtime_init_error(&shared, req).await,
            (&Method::GET, "/restore/next") => {
                restore_next(&shared).await;
                json(StatusCode::OK, "")
            }
            (&Method::POST, "/restore/error") => {
                let error_type = header(req.headers(), "lambda-runtime-function-error-type");
                let body = req
                    .into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                restore_failed(&shared, FunctionError::from_post(error_type, body));
                accepted()
            }
            (&Method::POST, r) if r.starts_with("/invocation/") => {
                let r = &r["/invocation/".len()..];
                if let Some(id) = r.strip_suffix("/response") {
                    runtime_response(&shared, id, req).await
                } else if let Some(id) = r.strip_suffix("/error") {
                    runtime_error(&shared, id, req).await
                } else {
                    not_found(&full_path)
                }
            }
            _ => not_found(&full_path),
        }
    } else if let Some(rest) = path.strip_prefix(EXTENSION_PATH) {
        match (&method, rest) {
            (&Method::POST, "/register") => extension_register(&shared, req).await,
            (&Method::GET, "/event/next") => extension_next(&shared, req.headers()).await,
            (&Method::POST, "/init/error") => extension_init_error(&shared, req).await,
            (&Method::POST, "/exit/error") => extension_exit_error(&shared, req).await,
            _ => not_found(&full_path),
        }
    } else {
        not_found(&full_path)
    };
    Ok(resp)
}

fn not_found(path: &str) -> Resp {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("portside-local serves no {path} (Runtime API under {RUNTIME_PATH}, Extensions API under {EXTENSION_PATH}; Telemetry, Logs and SnapStart APIs are not emulated)"),
    )
}

// ---------------------------------------------------------------------------
// Runtime API.

async fn runtime_next(shared: &Arc<Shared>) -> Resp {
    let rx = {
        let mut st = shared.lock();
        st.runtime_polled = true;
        st.pollers.retain(|p| !p.is_closed());
        let (tx, rx) = oneshot::channel();
        st.pollers.push_back(tx);
        shared.check_init(&mut st);
        shared.dispatch(&mut st);
        rx
    };
    shared.changed();
    // Dropping this future (client gone) closes the poller; dispatch skips it.
    let guard = PollGuard(Arc::clone(shared));
    let result = rx.await;
    drop(guard);
    let Ok(ev) = result else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sandbox.Reset",
            "the sandbox was reset; this runtime process should exit",
        );
    };
    let mut resp = json(StatusCode::OK, ev.payload);
    let h = resp.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = http::HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", &ev.request_id);
    set("lambda-runtime-deadline-ms", &ev.deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        &ev.invoked_function_arn,
    );
    set("lambda-runtime-trace-id", &ev.trace_id);
    if let Some(v) = &ev.client_context {
        set("lambda-runtime-client-context", v);
    }
    if let Some(v) = &ev.cognito_identity {
        set("lambda-runtime-cognito-identity", v);
    }
    if let Some(v) = &ev.tenant_id {
        set("lambda-runtime-aws-tenant-id", v);
    }
    resp
}

/// Tells waiters that a poll ended (so idleness is re-evaluated when a
/// runtime disconnects mid-poll).
struct PollGuard(Arc<Shared>);

impl Drop for PollGuard {
    fn drop(&mut self) {
        self.0.changed();
    }
}

enum ReadError {
    /// Over the limit; carries the rest of the body, which the caller should
    /// [`drain`] before answering.
    TooLarge(Incoming),
    Broken(String),
    Cancelled,
}

/// Most of an oversized body read (and dropped) before answering 413.
const DRAIN_LIMIT: usize = 256 * 1024 * 1024;
/// How long an oversized body may take to arrive before the 413 goes out.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads and drops the rest of an oversized body, so that the client, which
/// is still writing it, gets to read the 413 and keep its connection (a
/// runtime blocked writing into a connection nobody reads never comes back
/// for its next event).
async fn drain(mut body: Incoming) {
    let mut seen = 0usize;
    let read = async {
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                seen += data.len();
                if seen > DRAIN_LIMIT {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, read).await;
}

async fn read_limited(
    headers: &HeaderMap,
    mut body: Incoming,
    limit: usize,
    cancel: Option<&Notify>,
) -> Result<Bytes, ReadError> {
    if let Some(len) = header(headers, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        if len > limit {
            return Err(ReadError::TooLarge(body));
        }
    }
    let mut buf = BytesMut::new();
    loop {
        let frame = match cancel {
            Some(cancel) => tokio::select! {
                f = body.frame() => f,
                _ = cancel.notified() => return Err(ReadError::Cancelled),
            },
            None => body.frame().await,
        };
        match frame {
            None => return Ok(buf.freeze()),
            Some(Err(e)) => return Err(ReadError::Broken(e.to_string())),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if buf.len() + data.len() > limit {
                        return Err(ReadError::TooLarge(body));
                    }
                    buf.extend_from_slice(&data);
                }
            }
        }
    }
}

fn invalid_request_id(id: &str) -> Resp {
    error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        &format!("Invalid request ID: {id} is not a running invocation"),
    )
}

/// Marks invocation `id` as being answered; `None` if it is not running or
/// already answered.
fn claim(shared: &Shared, id: &str) -> Option<(Option<mpsc::Sender<StreamEvent>>, Arc<Notify>)> {
    let mut st = shared.lock();
    let inflight = st.inflight.get_mut(id)?;
    if inflight.responding {
        return None;
    }
    inflight.responding = true;
    Some((inflight.stream_tx.clone(), Arc::clone(&inflight.cancel)))
}

fn too_large_for_runtime(limit: usize) -> Resp {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        &format!("Exceeded maximum allowed payload size ({limit} bytes)."),
    )
}

fn response_too_large(limit: usize) -> FunctionError {
    FunctionError::lambda(
        "Function.ResponseSizeTooLarge",
        &format!("Response payload size exceeded maximum allowed payload size ({limit} bytes)."),
    )
}

fn truncated(why: &str) -> FunctionError {
    FunctionError::lambda(
        "Runtime.TruncatedResponse",
        &format!("the runtime's response ended before it was complete: {why}"),
    )
}

async fn runtime_response(shared: &Arc<Shared>, id: &str, req: Request<Incoming>) -> Resp {
    let Some((stream_tx, cancel)) = claim(shared, id) else {
        return invalid_request_id(id);
    };
    let streaming = header(req.headers(), "lambda-runtime-function-response-mode")
        .is_some_and(|m| m.eq_ignore_ascii_case("streaming"));
    if streaming {
        return stream_response(shared, id, req, stream_tx, cancel).await;
    }
    complete_buffered(shared, id, req, &cancel, Outcome::Response).await
}

/// Reads a buffered `/response` or `/error` body within Lambda's limit and
/// completes the invocation with `outcome(body)`, or with the error Lambda
/// gives a body too large or cut short.
async fn complete_buffered(
    shared: &Arc<Shared>,
    id: &str,
    req: Request<Incoming>,
    cancel: &Notify,
    outcome: impl FnOnce(Bytes) -> Outcome,
) -> Resp {
    let limit = shared.config.max_buffered_response_bytes;
    let (parts, body) = req.into_parts();
    match read_limited(&parts.headers, body, limit, Some(cancel)).await {
        Ok(bytes) => {
            if shared.complete(id, outcome(bytes)) {
                accepted()
            } else {
                invalid_request_id(id)
            }
        }
        Err(ReadError::TooLarge(rest)) => {
            shared.complete(id, Outcome::Error(response_too_large(limit)));
            drain(rest).await;
            too_large_for_runtime(limit)
        }
        Err(ReadError::Broken(why)) => {
            shared.complete(id, Outcome::Error(truncated(&why)));
            error(StatusCode::BAD_REQUEST, "InvalidRequest", &why)
        }
        Err(ReadError::Cancelled) => invalid_request_id(id),
    }
}

async fn emit(tx: &Option<mpsc::Sender<StreamEvent>>, cancel: &Notify, ev: StreamEvent) -> bool {
    let Some(tx) = tx else { return true };
    tokio::select! {
        _ = tx.send(ev) => true,
        _ = cancel.notified() => false,
    }
}

async fn stream_response(
    shared: &Arc<Shared>,
    id: &str,
    req: Request<Incoming>,
    stream_tx: Option<mpsc::Sender<StreamEvent>>,
    cancel: Arc<Notify>,
) -> Resp {
    let limit = shared.config.max_streamed_response_bytes;
    let content_type = header(req.headers(), "content-type");
    let expect_prelude = PreludeSplitter::expects_prelude(content_type.as_deref());
    let mut splitter = PreludeSplitter::new(expect_prelude);
    let mut body = req.into_body();
    let mut raw = BytesMut::new();
    let mut trailers = None;
    let started = StreamEvent::Started {
        content_type: content_type.clone(),
    };
    if !emit(&stream_tx, &cancel, started).await {
        return invalid_request_id(id);
    }
    let abort = |reason: &str| {
        if let Some(tx) = &stream_tx {
            let _ = tx.try_send(StreamEvent::Aborted {
                reason: reason.to_string(),
            });
        }
    };
    loop {
        let frame = tokio::select! {
            f = body.frame() => f,
            _ = cancel.notified() => return invalid_request_id(id),
        };
        match frame {
            None => break,
            Some(Err(e)) => {
                let err = truncated(&e.to_string());
                abort(&err.error_message);
                shared.complete(id, Outcome::Error(err));
                return error(StatusCode::BAD_REQUEST, "InvalidRequest", &e.to_string());
            }
            Some(Ok(frame)) => {
                let frame = match frame.into_data() {
                    Ok(data) => {
                        if raw.len() + data.len() > limit {
                            let err = response_too_large(limit);
                            abort(&err.error_message);
                            shared.complete(id, Outcome::Error(err));
                            drain(body).await;
                            return too_large_for_runtime(limit);
                        }
                        raw.extend_from_slice(&data);
                        for piece in splitter.push(data) {
                            if !emit(&stream_tx, &cancel, piece_event(piece)).await {
                                return invalid_request_id(id);
                            }
                        }
                        continue;
                    }
                    Err(frame) => frame,
                };
                if let Ok(t) = frame.into_trailers() {
                    trailers = Some(t);
                }
            }
        }
    }
    for piece in splitter.finish() {
        if !emit(&stream_tx, &cancel, piece_event(piece)).await {
            return invalid_request_id(id);
        }
    }
    let raw = raw.freeze();
    let error = trailers
        .as_ref()
        .and_then(stream::trailer_error)
        .or_else(|| stream::body_suffix_error(&raw));
    if !emit(
        &stream_tx,
        &cancel,
        StreamEvent::End {
            error: error.clone(),
        },
    )
    .await
    {
        return invalid_request_id(id);
    }
    let (prelude, body) = stream::split_prelude(&raw, expect_prelude);
    let outcome = Outcome::Streamed(StreamedResponse {
        content_type,
        raw,
        prelude,
        body,
        error,
    });
    if shared.complete(id, outcome) {
        accepted()
    } else {
        invalid_request_id(id)
    }
}

fn piece_event(piece: Piece) -> StreamEvent {
    match piece {
        Piece::Prelude(p) => StreamEvent::Prelude(p),
        Piece::Body(b) => StreamEvent::Body(b),
    }
}

async fn runtime_error(shared: &Arc<Shared>, id: &str, req: Request<Incoming>) -> Resp {
    let Some((_, cancel)) = claim(shared, id) else {
        return invalid_request_id(id);
    };
    let error_type = header(req.headers(), "lambda-runtime-function-error-type");
    complete_buffered(shared, id, req, &cancel, |body| {
        Outcome::Error(FunctionError::from_post(error_type, body))
    })
    .await
}

async fn runtime_init_error(shared: &Arc<Shared>, req: Request<Incoming>) -> Resp {
    let error_type = header(req.headers(), "lambda-runtime-function-error-type");
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

fn fail_init(shared: &Arc<Shared>, err: FunctionError) -> Resp {
    let mut st = shared.lock();
    if st.init != InitState::Pending {
        return error(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "init/error is only allowed during init",
        );
    }
    st.init = InitState::Failed(err);
    Shared::fail_pending_on_init_failure(&mut st);
    drop(st);
    shared.changed();
    accepted()
}

// ---------------------------------------------------------------------------
// Extensions API.

async fn extension_register(shared: &Arc<Shared>, req: Request<Incoming>) -> Resp {
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
    let (parts, body) = req.into_parts();
    let bytes = match read_limited(&parts.headers, body, 64 * 1024, None).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Extension.InvalidRequest",
                "could not read the registration body",
            )
        }
    };
    let events: Vec<String> = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(v) => match v.get("events").and_then(|e| e.as_array()) {
            Some(list) => list
                .iter()
                .map(|e| e.as_str().unwrap_or("").to_string())
                .collect(),
            None => Vec::new(),
        },
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Extension.InvalidRequest",
                &format!("the registration body is not JSON: {e}"),
            )
        }
    };
    if let Some(bad) = events.iter().find(|e| *e != "INVOKE" && *e != "SHUTDOWN") {
        return error(
            StatusCode::BAD_REQUEST,
            "Extension.InvalidEventType",
            &format!("unknown event type {bad:?}: use INVOKE and/or SHUTDOWN"),
        );
    }
    let id = util::uuid_v4();
    {
        let mut st = shared.lock();
        if st.init != InitState::Pending {
            return error(
                StatusCode::FORBIDDEN,
                "Extension.RegistrationClosed",
                "extensions can register only during init",
            );
        }
        st.extensions.push(Extension {
            id: id.clone(),
            name: name.clone(),
            events,
            waiting: None,
            queue: Default::default(),
            next_calls: 0,
            shutdown_delivered: false,
        });
    }
    shared.changed();
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
    if let Ok(v) = http::HeaderValue::from_str(&id) {
        resp.headers_mut().insert("lambda-extension-identifier", v);
    }
    resp
}

fn unknown_extension(id: Option<&str>) -> Resp {
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

async fn extension_next(shared: &Arc<Shared>, headers: &HeaderMap) -> Resp {
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

fn extension_event(event: Bytes) -> Resp {
    let mut resp = json(StatusCode::OK, event);
    if let Ok(v) = http::HeaderValue::from_str(&util::uuid_v4()) {
        resp.headers_mut()
            .insert("lambda-extension-event-identifier", v);
    }
    resp
}

fn known_extension(shared: &Shared, headers: &HeaderMap) -> Result<String, Box<Resp>> {
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

async fn extension_init_error(shared: &Arc<Shared>, req: Request<Incoming>) -> Resp {
    if let Err(resp) = known_extension(shared, req.headers()) {
        return *resp;
    }
    let error_type = header(req.headers(), "lambda-extension-function-error-type");
    let (parts, body) = req.into_parts();
    let bytes = read_limited(&parts.headers, body, 64 * 1024, None)
        .await
        .unwrap_or_default();
    fail_init(shared, FunctionError::from_post(error_type, bytes))
}

async fn extension_exit_error(shared: &Arc<Shared>, req: Request<Incoming>) -> Resp {
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
