//! Reading a request body within a limit (cut short when the invocation
//! ends), and draining an oversized one so the client reads the 413 and
//! keeps its connection.
//!
//! It must not decide what a too-large body means for an invocation. The
//! front door reads its request bodies here too.

use super::{error, header, Resp};
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::Notify;

pub(crate) enum ReadError {
    /// Over the limit; carries the rest of the body, which the caller should
    /// [`drain`] before answering.
    TooLarge(Incoming),
    Broken(String),
    Cancelled,
}

/// Most of an oversized body read (and dropped) before answering 413.
const DRAIN_LIMIT: usize = crate::limits::Limit::Drain.max();
/// How long an oversized body may take to arrive before the 413 goes out.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads and drops the rest of an oversized body, so that the client, which
/// is still writing it, gets to read the 413 and keep its connection (a
/// runtime blocked writing into a connection nobody reads never comes back
/// for its next event).
pub(crate) async fn drain(mut body: Incoming) {
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

pub(crate) async fn read_limited(
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

pub(super) fn too_large_for_runtime(limit: usize) -> Resp {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        &format!("Exceeded maximum allowed payload size ({limit} bytes)."),
    )
}
