//! The Runtime API's routes: `/next` (the event and its headers),
//! `/response` (buffered within 6 MB, or streamed with its prelude and
//! error trailers), `/error`, and `/init/error`.
//!
//! It must not change the state machine but through `Shared` (`complete`,
//! `dispatch`, `check_init`).

use super::body::{drain, read_limited, too_large_for_runtime, ReadError};
use super::{accepted, error, header, json, PollGuard, Resp};
use crate::runtime_api::state::Shared;
use crate::runtime_api::stream::{self, Piece, PreludeSplitter};
use crate::runtime_api::{FunctionError, InitState, Outcome, StreamEvent, StreamedResponse};
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

pub(super) async fn runtime_next(shared: &Arc<Shared>) -> Resp {
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
    let Ok(mut ev) = result else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sandbox.Reset",
            "the sandbox was reset; this runtime process should exit",
        );
    };
    // Before the runtime can read the event: whatever the hook prints comes
    // before anything the runtime writes about it.
    if let Some(hook) = &shared.config.on_dispatch {
        (hook.0)(&ev.request_id);
    }
    if let Some(tx) = ev.dispatched_tx.take() {
        let _ = tx.send(std::time::Instant::now());
    }
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

pub(super) fn invalid_request_id(id: &str) -> Resp {
    error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        &format!("Invalid request ID: {id} is not a running invocation"),
    )
}

/// Marks invocation `id` as being answered; `None` if it is not running or
/// already answered.
pub(super) fn claim(
    shared: &Shared,
    id: &str,
) -> Option<(Option<mpsc::Sender<StreamEvent>>, Arc<Notify>)> {
    let mut st = shared.lock();
    let inflight = st.inflight.get_mut(id)?;
    if inflight.responding {
        return None;
    }
    inflight.responding = true;
    Some((inflight.stream_tx.clone(), Arc::clone(&inflight.cancel)))
}

pub(super) fn response_too_large(limit: usize) -> FunctionError {
    FunctionError::lambda(
        "Function.ResponseSizeTooLarge",
        &format!("Response payload size exceeded maximum allowed payload size ({limit} bytes)."),
    )
}

pub(super) fn truncated(why: &str) -> FunctionError {
    FunctionError::lambda(
        "Runtime.TruncatedResponse",
        &format!("the runtime's response ended before it was complete: {why}"),
    )
}

pub(super) async fn runtime_response(
    shared: &Arc<Shared>,
    id: &str,
    req: Request<Incoming>,
) -> Resp {
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
pub(super) async fn complete_buffered(
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

pub(super) async fn emit(
    tx: &Option<mpsc::Sender<StreamEvent>>,
    cancel: &Notify,
    ev: StreamEvent,
) -> bool {
    let Some(tx) = tx else { return true };
    tokio::select! {
        _ = tx.send(ev) => true,
        _ = cancel.notified() => false,
    }
}

pub(super) async fn stream_response(
    shared: &Arc<Shared>,
    id: &str,
    req: Request<Incoming>,
    stream_tx: Option<mpsc::Sender<StreamEvent>>,
    cancel: Arc<Notify>,
) -> Resp {
    let content_type = header(req.headers(), "content-type");
    let expect_prelude = PreludeSplitter::expects_prelude(content_type.as_deref());
    let started = StreamEvent::Started {
        content_type: content_type.clone(),
    };
    if !emit(&stream_tx, &cancel, started).await {
        return invalid_request_id(id);
    }
    let body = req.into_body();
    let (raw, trailers) =
        match relay_body(shared, id, body, expect_prelude, &stream_tx, &cancel).await {
            Ok(relayed) => relayed,
            Err(resp) => return *resp,
        };
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

/// Relays a streamed `/response` body to the caller as it arrives (its
/// prelude and body pieces) within Lambda's limit, and gives the raw bytes
/// and the trailers. A body cut short or too large aborts the caller's
/// stream, completes the invocation with Lambda's error and gives the
/// runtime's answer; so does a caller gone (the invocation was cancelled).
async fn relay_body(
    shared: &Arc<Shared>,
    id: &str,
    mut body: Incoming,
    expect_prelude: bool,
    stream_tx: &Option<mpsc::Sender<StreamEvent>>,
    cancel: &Notify,
) -> Result<(Bytes, Option<HeaderMap>), Box<Resp>> {
    let limit = shared.config.max_streamed_response_bytes;
    let mut splitter = PreludeSplitter::new(expect_prelude);
    let mut raw = BytesMut::new();
    let mut trailers = None;
    let abort = |reason: &str| {
        if let Some(tx) = stream_tx {
            let _ = tx.try_send(StreamEvent::Aborted {
                reason: reason.to_string(),
            });
        }
    };
    loop {
        let frame = tokio::select! {
            f = body.frame() => f,
            _ = cancel.notified() => return Err(Box::new(invalid_request_id(id))),
        };
        match frame {
            None => break,
            Some(Err(e)) => {
                let err = truncated(&e.to_string());
                abort(&err.error_message);
                shared.complete(id, Outcome::Error(err));
                let resp = error(StatusCode::BAD_REQUEST, "InvalidRequest", &e.to_string());
                return Err(Box::new(resp));
            }
            Some(Ok(frame)) => {
                let frame = match frame.into_data() {
                    Ok(data) => {
                        if raw.len() + data.len() > limit {
                            let err = response_too_large(limit);
                            abort(&err.error_message);
                            shared.complete(id, Outcome::Error(err));
                            drain(body).await;
                            return Err(Box::new(too_large_for_runtime(limit)));
                        }
                        raw.extend_from_slice(&data);
                        for piece in splitter.push(data) {
                            if !emit(stream_tx, cancel, piece_event(piece)).await {
                                return Err(Box::new(invalid_request_id(id)));
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
        if !emit(stream_tx, cancel, piece_event(piece)).await {
            return Err(Box::new(invalid_request_id(id)));
        }
    }
    Ok((raw.freeze(), trailers))
}

pub(super) fn piece_event(piece: Piece) -> StreamEvent {
    match piece {
        Piece::Prelude(p) => StreamEvent::Prelude(p),
        Piece::Body(b) => StreamEvent::Body(b),
    }
}

pub(super) async fn runtime_error(shared: &Arc<Shared>, id: &str, req: Request<Incoming>) -> Resp {
    let Some((_, cancel)) = claim(shared, id) else {
        return invalid_request_id(id);
    };
    let error_type = header(req.headers(), "lambda-runtime-function-error-type");
    complete_buffered(shared, id, req, &cancel, |body| {
        Outcome::Error(FunctionError::from_post(error_type, body))
    })
    .await
}

pub(super) async fn runtime_init_error(shared: &Arc<Shared>, req: Request<Incoming>) -> Resp {
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

pub(super) fn fail_init(shared: &Arc<Shared>, err: FunctionError) -> Resp {
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
