//! One request from the endpoint to an environment's app and its response
//! back: a fresh HTTP/1.1 connection to `AWS_LAMBDA_HTTP_ENDPOINT`, the
//! whole body sent at once, the response head within the per-request
//! timeout (else 504 `Runtime.RequestTimeout`), then the body passed on as
//! the app writes it and cut when the timeout passes, with the status
//! already sent and no error header (web-functions-revisions-timeout);
//! the app's trailers are dropped (web-functions-http).
//!
//! Owns: the exchange with the app and the relayed body.
//! Must not: decide which headers pass (`request`) or which environment
//! serves (`fleet`).

use super::answers::{error_type, Answer};
use super::fleet::Slot;
use super::instance::{Phase, Tracked};
use super::request;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Errors of a relayed body.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body of every response the endpoint gives.
pub type OutBody = BoxBody<Bytes, BoxError>;

/// What goes to the app.
#[derive(Debug)]
pub struct Outgoing {
    /// The client's method.
    pub method: Method,
    /// The client's path and query.
    pub uri: Uri,
    /// The headers the app gets (`request::to_app`).
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

/// A whole body.
pub fn full(bytes: Bytes) -> OutBody {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// An answer of the endpoint's own as a response.
pub fn answer(a: &Answer, request_id: &str, log_stream: Option<&str>) -> Response<OutBody> {
    a.response(request_id, log_stream).map(full)
}

/// Sends `out` to the slot's app and relays its answer, within `deadline`.
pub async fn forward(
    slot: Slot,
    out: Outgoing,
    request_id: &str,
    deadline: Instant,
) -> Response<OutBody> {
    let instance = std::sync::Arc::clone(&slot.instance);
    let stream = instance.log_stream.clone();
    let tracked = instance.track(request_id);
    instance.count_served();
    let sent = tokio::time::timeout_at(deadline, exchange(instance.endpoint, out)).await;
    let response = match sent {
        Err(_) => return answer(&Answer::Timeout, request_id, Some(&stream)),
        Ok(Err(why)) => {
            let a = failure(&instance, why).await;
            return answer(&a, request_id, Some(&stream));
        }
        Ok(Ok(r)) => r,
    };
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        let why = "the app switched protocols; Web Functions endpoints do not (no WebSocket)";
        let a = Answer::AppFailed(error_type::INVALID_RESPONSE, why.into());
        return answer(&a, request_id, Some(&stream));
    }
    let (mut parts, body) = response.into_parts();
    request::to_client(&mut parts.headers, request_id, &stream);
    let relay = Relay {
        inner: body,
        deadline: Box::pin(tokio::time::sleep_until(deadline)),
        _slot: slot,
        _tracked: tracked,
    };
    Response::from_parts(parts, relay.boxed())
}

/// Connects, sends, and reads the response head.
async fn exchange(
    endpoint: std::net::SocketAddr,
    out: Outgoing,
) -> Result<Response<Incoming>, String> {
    let stream = tokio::net::TcpStream::connect(endpoint)
        .await
        .map_err(|e| format!("cannot connect to the app at {endpoint}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .max_headers(super::server::MAX_HEADERS)
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP/1.1 with the app failed: {e}"))?;
    tokio::spawn(conn);
    let target = out
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let mut req = Request::builder()
        .method(out.method)
        .uri(target)
        .body(Full::new(out.body))
        .map_err(|e| format!("the request cannot be sent on: {e}"))?;
    *req.headers_mut() = out.headers;
    sender
        .send_request(req)
        .await
        .map_err(|e| format!("the app gave no valid HTTP/1.1 response: {e}"))
}

/// The answer for a request the app failed: its process exited (the exit
/// may show a moment after the connection broke), or it answered wrong.
async fn failure(instance: &super::instance::Instance, why: String) -> Answer {
    let until = Instant::now() + Duration::from_millis(200);
    loop {
        if let Phase::Exited(how) = instance.phase() {
            return Answer::AppFailed(error_type::EXIT, format!("the app exited ({how})"));
        }
        if Instant::now() >= until {
            return Answer::AppFailed(error_type::INVALID_RESPONSE, why);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The app's body on its way to the client: data frames as they come,
/// trailers dropped, an error once the request's time is up; it holds the
/// request's place in its environment until it ends.
struct Relay {
    inner: Incoming,
    deadline: Pin<Box<Sleep>>,
    _slot: Slot,
    _tracked: Tracked,
}

impl Body for Relay {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err("the request timeout passed".into())));
        }
        loop {
            return match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) if !frame.is_data() => continue,
                Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            };
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
