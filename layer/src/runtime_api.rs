//! Delivering results to Lambda's Runtime API: buffered responses, streamed
//! responses, and errors.
//!
//! Owns: `POST /runtime/invocation/{id}/response` and `/error`, their headers
//! (the error type, the invocation id Lambda uses against cross-wiring,
//! the streaming mode), the streamed body with its error trailers, and a pool
//! of keep-alive connections to the Runtime API with Nagle off.
//! Must not: build results (`event` does) or talk to the app.
//!
//! `lambda_runtime` polls `/next` and hands each invocation over; portside
//! posts the result itself, because `lambda_runtime` 1.5 can neither turn
//! Nagle off on its connection (a streamed chunk could wait for the previous
//! one's ACK) nor send a mid-stream error as HTTP trailers (it writes the
//! trailer lines into the body, where the client would see them).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, TRAILER, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use crate::body::encode_base64;
use crate::client::{self, Resend, Via};
use crate::config::ApiAddress;
use crate::error::PortsideError;
use crate::pool::{Connection, ConnectionPool};

/// The error type of a failed invocation, as Lambda records it.
pub const ERROR_TYPE: HeaderName = HeaderName::from_static("lambda-runtime-function-error-type");
/// A streamed response's error document, base64, in a trailer.
pub const ERROR_BODY: HeaderName = HeaderName::from_static("lambda-runtime-function-error-body");
/// Lambda's invocation id, echoed back so a late result cannot land on another invocation.
pub const INVOCATION_ID: HeaderName = HeaderName::from_static("lambda-runtime-invocation-id");
const RESPONSE_MODE: HeaderName = HeaderName::from_static("lambda-runtime-function-response-mode");
/// The content type of a streamed HTTP response: JSON prelude, eight NUL bytes, body.
pub const HTTP_INTEGRATION_RESPONSE: &str = "application/vnd.awslambda.http-integration-response";

/// A request body for the Runtime API: all at once, or frames as they come.
pub enum OutBody {
    /// A buffered body.
    Full(Option<Bytes>),
    /// Frames from a channel; a trailers frame ends it.
    Stream(mpsc::Receiver<Frame<Bytes>>),
}

impl Body for OutBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            OutBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            OutBody::Stream(rx) => rx.poll_recv(cx).map(|frame| frame.map(Ok)),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, OutBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            OutBody::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            OutBody::Full(None) => SizeHint::with_exact(0),
            OutBody::Stream(_) => SizeHint::default(),
        }
    }
}

/// The error document Lambda returns to the caller.
pub fn error_document(err: &PortsideError) -> Bytes {
    Bytes::from(err.document())
}

/// The trailers that end a streamed response which failed part way.
pub fn error_trailers(err: &PortsideError) -> HeaderMap {
    let mut trailers = HeaderMap::new();
    trailers.insert(ERROR_TYPE, HeaderValue::from_static(err.error_type()));
    if let Ok(body) = HeaderValue::from_str(&encode_base64(&error_document(err))) {
        trailers.insert(ERROR_BODY, body);
    }
    trailers
}

/// A client for the result endpoints of the Runtime API.
pub struct RuntimeApiClient {
    authority: HeaderValue,
    prefix: String,
    pool: ConnectionPool<OutBody>,
}

impl RuntimeApiClient {
    /// A client for the Runtime API at `address`, whose host is at
    /// `addresses`, keeping up to `max_idle` connections.
    pub fn new(
        address: &ApiAddress,
        addresses: Vec<SocketAddr>,
        max_idle: usize,
    ) -> Result<RuntimeApiClient, String> {
        Ok(RuntimeApiClient {
            authority: HeaderValue::from_str(address.authority()).map_err(|e| e.to_string())?,
            prefix: address.prefix().to_string(),
            // Lambda's API keeps connections open; a frozen sandbox's idle
            // connection is still checked on reuse.
            pool: ConnectionPool::new(addresses, Duration::from_secs(60), max_idle),
        })
    }

    /// Drops every idle connection (after a SnapStart restore).
    pub fn clear(&self) {
        self.pool.clear();
    }

    /// A new connection, for a streamed response (whose body cannot be sent
    /// twice, so it never goes on a pooled connection that may have closed).
    /// Opened while the app works, it costs the first bytes nothing.
    pub async fn connect(&self) -> Result<Connection<OutBody>, String> {
        self.pool.connect().await.map_err(|e| {
            format!(
                "cannot reach the Runtime API at {}: {e}",
                self.pool.address()
            )
        })
    }

    fn request(
        &self,
        id: &str,
        endpoint: &str,
        invocation_id: Option<&HeaderValue>,
        body: OutBody,
    ) -> Request<OutBody> {
        let mut request = Request::new(body);
        *request.method_mut() = Method::POST;
        let path = format!(
            "{}/2018-06-01/runtime/invocation/{id}/{endpoint}",
            self.prefix
        );
        *request.uri_mut() = path.parse().unwrap_or_else(|_| http::Uri::from_static("/"));
        request.headers_mut().insert(HOST, self.authority.clone());
        if let Some(invocation_id) = invocation_id {
            request
                .headers_mut()
                .insert(INVOCATION_ID, invocation_id.clone());
        }
        request
    }

    /// Sends a request the way `via` says and reads Lambda's answer. Results
    /// and errors are POSTs: under the one retry rule (`client`), each is
    /// sent again only if it provably never reached Lambda.
    async fn send(
        &self,
        build: impl FnMut() -> Option<Request<OutBody>>,
        via: Via<OutBody>,
    ) -> Result<(), String> {
        let (response, connection) = client::send(&self.pool, via, Resend::IfNotSent, build)
            .await
            .map_err(|e| {
                if e.is_connect() {
                    format!(
                        "cannot reach the Runtime API at {}: {e}",
                        self.pool.address()
                    )
                } else {
                    format!("the Runtime API did not answer: {e}")
                }
            })?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        self.pool.give_back(connection);
        if status == StatusCode::ACCEPTED || status.is_success() {
            Ok(())
        } else {
            Err(format!(
                "the Runtime API answered {status}: {}",
                String::from_utf8_lossy(&body).trim()
            ))
        }
    }

    /// Posts a buffered result.
    pub async fn response(
        &self,
        id: &str,
        invocation_id: Option<&HeaderValue>,
        json: Bytes,
    ) -> Result<(), String> {
        self.send(
            || {
                let mut request = self.request(
                    id,
                    "response",
                    invocation_id,
                    OutBody::Full(Some(json.clone())),
                );
                let headers = request.headers_mut();
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                headers.insert(CONTENT_LENGTH, HeaderValue::from(json.len()));
                Some(request)
            },
            Via::Pool,
        )
        .await
    }

    /// Posts a failed invocation's error.
    pub async fn error(
        &self,
        id: &str,
        invocation_id: Option<&HeaderValue>,
        err: &PortsideError,
    ) -> Result<(), String> {
        let document = error_document(err);
        self.send(
            || {
                let mut request = self.request(
                    id,
                    "error",
                    invocation_id,
                    OutBody::Full(Some(document.clone())),
                );
                let headers = request.headers_mut();
                headers.insert(ERROR_TYPE, HeaderValue::from_static(err.error_type()));
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                headers.insert(CONTENT_LENGTH, HeaderValue::from(document.len()));
                Some(request)
            },
            Via::Pool,
        )
        .await
    }

    /// Posts a streamed response whose frames arrive on `frames`; a trailers
    /// frame at the end reports a failure part way. Returns once Lambda has
    /// answered, after the last frame.
    pub async fn stream(
        &self,
        id: &str,
        invocation_id: Option<&HeaderValue>,
        content_type: &'static str,
        frames: mpsc::Receiver<Frame<Bytes>>,
        connection: Option<Connection<OutBody>>,
    ) -> Result<(), String> {
        // The body cannot be built twice (hyper hands an unsent request back
        // whole), and goes on a fresh connection.
        let mut frames = Some(frames);
        self.send(
            || {
                let frames = frames.take()?;
                let mut request =
                    self.request(id, "response", invocation_id, OutBody::Stream(frames));
                let headers = request.headers_mut();
                headers.insert(RESPONSE_MODE, HeaderValue::from_static("streaming"));
                headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
                headers.append(
                    TRAILER,
                    HeaderValue::from_static("Lambda-Runtime-Function-Error-Type"),
                );
                headers.append(
                    TRAILER,
                    HeaderValue::from_static("Lambda-Runtime-Function-Error-Body"),
                );
                Some(request)
            },
            Via::Fresh(connection),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_trailers_carry_the_type_and_the_base64_document() {
        let err = PortsideError::AppTimeout { waited_ms: 5 };
        let trailers = error_trailers(&err);
        assert_eq!(trailers[ERROR_TYPE], "Portside.AppTimeout");
        let doc =
            crate::body::decode_event_body(Some(trailers[ERROR_BODY].to_str().unwrap()), true)
                .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&doc).unwrap();
        assert_eq!(doc["errorType"], "Portside.AppTimeout");
        assert!(doc["errorMessage"].as_str().unwrap().contains("5 ms"));
    }
}
