//! The HTTP side of the Runtime and Extensions APIs: the listener, routing,
//! and the response helpers every route uses. The routes are in `runtime`
//! (the Runtime API) and `extension` (the Extensions API); `body` reads
//! request bodies within their limits.
//!
//! It speaks HTTP only: the state changes themselves live in the parent's
//! modules (`init`, `invocation`, `extensions`, `snapstart`).

pub(crate) mod body;
mod extension;
mod runtime;

use super::snapstart::{restore_failed, restore_next};
use super::state::Shared;
use super::{FunctionError, EXTENSION_PATH, RUNTIME_PATH};
use crate::limits::Limit;
use crate::util;
use bytes::Bytes;
use extension::{extension_exit_error, extension_init_error, extension_next, extension_register};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use runtime::{runtime_error, runtime_init_error, runtime_next, runtime_response};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub(super) type Resp = Response<Full<Bytes>>;

/// A request head, and a stream's trailers, within hyper's own bound
/// (raised from ~400 KiB and 16 KiB: [`Limit::RuntimeApiHead`],
/// [`Limit::StreamTrailers`]).
const HEAD_LIMIT: usize = Limit::RuntimeApiHead.max();

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
                            .max_header_size(HEAD_LIMIT)
                            .max_buf_size(HEAD_LIMIT + 64 * 1024)
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

pub(super) fn json(status: StatusCode, body: impl Into<Bytes>) -> Resp {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

pub(super) fn error(status: StatusCode, error_type: &str, message: &str) -> Resp {
    json(status, util::error_json(error_type, message))
}

pub(super) fn accepted() -> Resp {
    json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

pub(super) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
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
            (&Method::POST, "/restore/error") => restore_error(&shared, req).await,
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

/// `POST /runtime/restore/error`, its body within the buffered limit.
async fn restore_error(shared: &Arc<Shared>, req: Request<Incoming>) -> Resp {
    let error_type = header(req.headers(), "lambda-runtime-function-error-type");
    let limit = shared.config.max_buffered_response_bytes;
    let (parts, body) = req.into_parts();
    match body::read_limited(&parts.headers, body, limit, None).await {
        Ok(bytes) => {
            restore_failed(shared, FunctionError::from_post(error_type, bytes));
            accepted()
        }
        Err(body::ReadError::TooLarge(rest)) => {
            body::drain(rest).await;
            body::too_large_for_runtime(limit)
        }
        Err(_) => error(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "could not read the body",
        ),
    }
}

pub(super) fn not_found(path: &str) -> Resp {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("portside-local serves no {path} (Runtime API under {RUNTIME_PATH}, Extensions API under {EXTENSION_PATH}; Telemetry, Logs and SnapStart APIs are not emulated)"),
    )
}

/// Tells waiters that a poll ended (so idleness is re-evaluated when a
/// runtime disconnects mid-poll).
pub(super) struct PollGuard(Arc<Shared>);

impl Drop for PollGuard {
    fn drop(&mut self) {
        self.0.changed();
    }
}
