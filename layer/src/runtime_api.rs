//! Lambda's Runtime API, the invocation side: taking invocations and
//! delivering their results.
//!
//! Owns: `GET /runtime/invocation/next` (the payload read into a buffer of
//! its announced size, reused from one invocation to the next, or, when it
//! is long, handed frame by frame to `event::assemble`; and the
//! invocation's context from its headers), `POST /runtime/invocation/{id}/response`
//! and `/error`, their headers (the error type, the invocation id Lambda
//! uses against cross-wiring, the streaming mode), the streamed body with its
//! error trailers, SnapStart's `/runtime/restore/next` and `/restore/error`,
//! and one pool of keep-alive connections to the Runtime API with Nagle off,
//! so a result goes out on the connection its `/next` came in on.
//! Must not: build results (`event` does) or talk to the app.
//!
//! portside does this itself, on the one client stack of the adapter
//! (`client`), rather than through `lambda_runtime`'s own client: that one
//! cannot turn Nagle off (a streamed chunk could wait for the previous one's
//! ACK), cannot send a mid-stream error as HTTP trailers (it writes the
//! trailer lines into the body), and puts a stack of tower services, a second
//! connection and a copy of every payload on each invocation's path.
//! `lambda_runtime` remains the source of the Lambda types: `Context`,
//! `Config`, `Diagnostic`, `SnapStartResource`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, TRAILER, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use crate::body::encode_base64;
use crate::client::{self, Resend, Via};
use crate::config::ApiAddress;
use crate::error::PortsideError;
use crate::event::{self, Assembler, Payload};
use crate::limits::Limit;
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
/// The invocation's request id, on `/next`'s answer.
pub const RUNTIME_REQUEST_ID: HeaderName = HeaderName::from_static("lambda-runtime-aws-request-id");
const DEADLINE_MS: HeaderName = HeaderName::from_static("lambda-runtime-deadline-ms");
const FUNCTION_ARN: HeaderName = HeaderName::from_static("lambda-runtime-invoked-function-arn");
const RUNTIME_TRACE_ID: HeaderName = HeaderName::from_static("lambda-runtime-trace-id");
const CLIENT_CONTEXT: HeaderName = HeaderName::from_static("lambda-runtime-client-context");
const COGNITO_IDENTITY: HeaderName = HeaderName::from_static("lambda-runtime-cognito-identity");
const TENANT_ID: HeaderName = HeaderName::from_static("lambda-runtime-aws-tenant-id");

/// The largest `/next` payload read ([`Limit::Event`]).
const PAYLOAD_LIMIT: usize = Limit::Event.max();

/// One invocation, as `/next` hands it over.
#[derive(Debug)]
pub struct NextInvocation {
    /// Its context: request id, deadline, function ARN, trace id...
    pub context: lambda_runtime::Context,
    /// The event, or why it was not read: over [`Limit::Event`] (the
    /// invocation then fails with that error, and Lambda is told).
    pub payload: Result<Payload, PortsideError>,
    /// Lambda's invocation id, echoed on the result when it sent one.
    pub invocation_id: Option<HeaderValue>,
}

/// The invocation's context from `/next`'s headers. Never fails: a header
/// that is missing or does not parse leaves its field empty (a deadline of
/// 0 means "none given", which the deadline rule treats as Lambda's
/// longest), so a Runtime API that sends something odd still gets its
/// invocation served.
pub fn invocation_context(
    request_id: &str,
    headers: &HeaderMap,
    env: Arc<lambda_runtime::Config>,
) -> lambda_runtime::Context {
    let text = |name: &HeaderName| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    fn json<T: serde::de::DeserializeOwned>(headers: &HeaderMap, name: &HeaderName) -> Option<T> {
        headers
            .get(name)
            .filter(|v| !v.is_empty())
            .and_then(|v| serde_json::from_slice(v.as_bytes()).ok())
    }
    let mut context = lambda_runtime::Context::default();
    context.request_id = request_id.to_string();
    context.deadline = text(&DEADLINE_MS)
        .and_then(|d| d.trim().parse().ok())
        .unwrap_or(0);
    context.invoked_function_arn = text(&FUNCTION_ARN).unwrap_or_default();
    context.xray_trace_id = text(&RUNTIME_TRACE_ID);
    context.client_context = json(headers, &CLIENT_CONTEXT);
    context.identity = json(headers, &COGNITO_IDENTITY);
    context.tenant_id = text(&TENANT_ID);
    context.env_config = env;
    context
}

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
    /// `/next`, built once (it is asked for on every invocation).
    next: http::Uri,
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
        let prefix = address.prefix().to_string();
        Ok(RuntimeApiClient {
            authority: HeaderValue::from_str(address.authority()).map_err(|e| e.to_string())?,
            next: runtime_uri(&prefix, "invocation/next")?,
            prefix,
            // Lambda's API keeps connections open; a frozen sandbox's idle
            // connection is still checked on reuse.
            pool: ConnectionPool::new(addresses, Duration::from_secs(60), max_idle),
        })
    }

    /// Opens a connection and leaves it idle in the pool, so the first
    /// `/next` does not wait for one.
    pub async fn warm_up(&self) -> Result<(), String> {
        let connection = self.connect().await?;
        self.pool.give_back(connection);
        Ok(())
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

    /// A request to `uri` (under the Runtime API's prefix).
    fn to_uri(&self, method: Method, uri: http::Uri, body: OutBody) -> Request<OutBody> {
        let mut request = Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        request.headers_mut().insert(HOST, self.authority.clone());
        request
    }

    /// The address of an invocation's `endpoint` (`response`, `error`): the
    /// request id as one path segment, percent-encoded (Lambda's are UUIDs,
    /// which need no encoding; any other id is carried exactly).
    fn invocation_uri(&self, id: &str, endpoint: &str) -> Result<http::Uri, String> {
        let mut path = String::with_capacity(id.len() + 32);
        path.push_str("invocation/");
        crate::uri::push_query_component(&mut path, id);
        path.push('/');
        path.push_str(endpoint);
        runtime_uri(&self.prefix, &path)
    }

    fn request(
        &self,
        uri: &http::Uri,
        invocation_id: Option<&HeaderValue>,
        body: OutBody,
    ) -> Request<OutBody> {
        let mut request = self.to_uri(Method::POST, uri.clone(), body);
        if let Some(invocation_id) = invocation_id {
            request
                .headers_mut()
                .insert(INVOCATION_ID, invocation_id.clone());
        }
        request
    }

    /// Waits for the next invocation (`GET /next`, a long poll) and reads its
    /// payload into `buffer`, which keeps its memory from one invocation to
    /// the next (the payload's previous views must be gone by then for it to
    /// be reused; they are, once an invocation is done).
    pub async fn next(
        &self,
        buffer: &mut BytesMut,
        env: &Arc<lambda_runtime::Config>,
    ) -> Result<NextInvocation, String> {
        let build = || Some(self.to_uri(Method::GET, self.next.clone(), OutBody::Full(None)));
        let (response, connection) =
            client::send(&self.pool, Via::Pool, Resend::IfUnanswered, build)
                .await
                .map_err(|e| self.describe(&e))?;
        let (parts, body) = response.into_parts();
        let payload = read_payload(body, buffer).await?;
        if payload.is_ok() {
            self.pool.give_back(connection);
        }
        if let Ok(payload) = &payload {
            client::expect_success("/next", parts.status, payload.excerpt())?;
        }
        let request_id = parts
            .headers
            .get(RUNTIME_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|id| !id.is_empty())
            .ok_or("/next answered without a Lambda-Runtime-Aws-Request-Id")?
            .to_string();
        Ok(NextInvocation {
            context: invocation_context(&request_id, &parts.headers, env.clone()),
            invocation_id: parts.headers.get(INVOCATION_ID).cloned(),
            payload,
        })
    }

    /// SnapStart: tells Lambda that init is done and waits (across the
    /// snapshot) until this copy of the sandbox has been restored.
    pub async fn restore_next(&self) -> Result<(), String> {
        let uri = runtime_uri(&self.prefix, "restore/next")?;
        let build = || Some(self.to_uri(Method::GET, uri.clone(), OutBody::Full(None)));
        self.send_with(build, Via::Pool, Resend::IfUnanswered).await
    }

    /// SnapStart: reports a failure after the restore.
    pub async fn restore_error(&self, err: &PortsideError) -> Result<(), String> {
        let document = error_document(err);
        let uri = runtime_uri(&self.prefix, "restore/error")?;
        self.send(
            || {
                let mut request = self.to_uri(
                    Method::POST,
                    uri.clone(),
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

    fn describe(&self, err: &client::SendError) -> String {
        if err.is_connect() {
            format!(
                "cannot reach the Runtime API at {}: {err}",
                self.pool.address()
            )
        } else {
            format!("the Runtime API did not answer: {err}")
        }
    }

    /// Sends a request the way `via` says and reads Lambda's answer. Results
    /// and errors are POSTs: under the one retry rule (`client`), each is
    /// sent again only if it provably never reached Lambda.
    async fn send(
        &self,
        build: impl FnMut() -> Option<Request<OutBody>>,
        via: Via<OutBody>,
    ) -> Result<(), String> {
        self.send_with(build, via, Resend::IfNotSent).await
    }

    async fn send_with(
        &self,
        build: impl FnMut() -> Option<Request<OutBody>>,
        via: Via<OutBody>,
        resend: Resend,
    ) -> Result<(), String> {
        let (response, connection) = client::send(&self.pool, via, resend, build)
            .await
            .map_err(|e| self.describe(&e))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        self.pool.give_back(connection);
        client::expect_success("the Runtime API", status, &body)
    }

    /// Posts a buffered result.
    pub async fn response(
        &self,
        id: &str,
        invocation_id: Option<&HeaderValue>,
        json: Bytes,
    ) -> Result<(), String> {
        let uri = self.invocation_uri(id, "response")?;
        self.send(
            || {
                let mut request =
                    self.request(&uri, invocation_id, OutBody::Full(Some(json.clone())));
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
        let uri = self.invocation_uri(id, "error")?;
        self.send(
            || {
                let mut request =
                    self.request(&uri, invocation_id, OutBody::Full(Some(document.clone())));
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
        let uri = self.invocation_uri(id, "response")?;
        self.send(
            || {
                let frames = frames.take()?;
                let mut request = self.request(&uri, invocation_id, OutBody::Stream(frames));
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

/// `{prefix}/2018-06-01/runtime/{path}` as a request target, or why not.
fn runtime_uri(prefix: &str, path: &str) -> Result<http::Uri, String> {
    let target = format!("{prefix}/2018-06-01/runtime/{path}");
    target
        .parse()
        .map_err(|e| format!("cannot address the Runtime API at {target:?}: {e}"))
}

/// Reads `/next`'s payload: a long one ([`event::LONG_BODY`] and more)
/// frame by frame into an [`Assembler`], which may take its body apart as
/// it comes; any other into `buffer`. `Ok(Err(..))` when it is over
/// [`Limit::Event`] (then it is not read: the connection must be dropped).
async fn read_payload(
    mut body: hyper::body::Incoming,
    buffer: &mut BytesMut,
) -> Result<Result<Payload, PortsideError>, String> {
    let too_large = |size| {
        Ok(Err(PortsideError::RequestTooLarge {
            limit: Limit::Event,
            size,
        }))
    };
    let length = body.size_hint().exact().unwrap_or(0) as usize;
    if length > PAYLOAD_LIMIT {
        return too_large(length);
    }
    let mut assembler = (length >= event::LONG_BODY).then(|| Assembler::new(length));
    buffer.clear();
    if assembler.is_none() {
        buffer.reserve(length);
    }
    let mut read = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("/next's payload broke off: {e}"))?;
        if let Ok(data) = frame.into_data() {
            read += data.len();
            if read > PAYLOAD_LIMIT {
                return too_large(read);
            }
            match &mut assembler {
                Some(assembler) => assembler.push(&data),
                None => buffer.extend_from_slice(&data),
            }
        }
    }
    Ok(Ok(match assembler {
        Some(assembler) => assembler.finish(),
        None => Payload::Whole(buffer.split().freeze()),
    }))
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
