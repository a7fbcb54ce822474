//! One invocation, end to end: event -> request -> app -> response -> result.
//!
//! Owns: the invocation pipeline (the pure steps are `event` and `request`;
//! this module runs them in order with the app's answer in between), the
//! invocation's deadline, reading the app's body within it, buffered or
//! streamed delivery, catching a panic so it becomes that invocation's error,
//! and counting invocations in flight for shutdown.
//! Must not: parse event formats (`event`), decide request policy
//! (`request`), open connections itself (`proxy`, `runtime_api`), or know
//! the order of start-up (`lifecycle`).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http::HeaderValue;
use http_body::Frame;
use http_body_util::BodyExt;
use hyper::body::{Body as _, Incoming};
use tokio::sync::{mpsc, watch, Notify};

use crate::client::Resend;
use crate::compress;
use crate::config::{Config, InvokeMode};
use crate::deadline::{app_deadline, Deadline};
use crate::error::{AppErrorCause, PortsideError, BUFFERED_RESPONSE_LIMIT};
use crate::event::{self, Event, HttpSource, Payload, ResponseParts};
use crate::pool::Connection;
use crate::proxy::{AppClient, Lease, Replay};
use crate::record::{self, Ending, Facts};
use crate::request::{self, InvocationInfo};
use crate::runtime_api::{
    error_trailers, NextInvocation, OutBody, RuntimeApiClient, HTTP_INTEGRATION_RESPONSE,
};
use crate::{debug, error, warn};

/// Largest body read for a response that may be compressed below Lambda's limit.
const COMPRESSIBLE_READ_LIMIT: usize = 4 * BUFFERED_RESPONSE_LIMIT;

/// Whether the app is ready yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadyState {
    /// Still starting.
    Waiting,
    /// Answered the readiness check.
    Ready,
    /// Will not become ready (the readiness timeout passed).
    Failed(String),
}

/// Counts invocations from the moment `/next` hands one over until its
/// result has been delivered, so shutdown can wait for them.
#[derive(Default)]
pub struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

/// One invocation in flight, until dropped.
pub struct InFlightGuard(Arc<InFlight>);

impl InFlight {
    /// Marks an invocation in flight until the guard is dropped.
    pub fn enter(self: &Arc<Self>) -> InFlightGuard {
        self.count.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(self.clone())
    }

    /// Invocations in flight now.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Waits until nothing is in flight, or until `deadline`.
    pub async fn drain(&self, deadline: Instant) {
        let idle = async {
            loop {
                let notified = self.idle.notified();
                if self.count() == 0 {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout_at(deadline.into(), idle).await;
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Turns a panic while polling `F` into an error, so one invocation's bug
/// becomes that invocation's error and the next invocation is served. `F`
/// is pinned already (`Pin<&mut _>` from `std::pin::pin!`: the invocation's
/// future stays where it was made, in the loop's own state, where a
/// `Box::pin` would copy its several kilobytes to the heap each time).
pub struct CatchUnwind<F>(pub F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = Pin::new(&mut self.0);
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(poll) => poll.map(Ok),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_string());
                Poll::Ready(Err(message))
            }
        }
    }
}

/// Reads a body to its end before `deadline`, refusing more than `limit` bytes.
pub async fn read_body(
    body: Incoming,
    deadline: &mut Deadline,
    limit: usize,
) -> Result<Bytes, PortsideError> {
    let started = Instant::now();
    let read = async {
        let mut body = body;
        let mut buffer = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                PortsideError::AppInvalidResponse(format!(
                    "the body broke off after {} bytes: {e}",
                    buffer.len()
                ))
            })?;
            if let Ok(data) = frame.into_data() {
                if buffer.len() + data.len() > limit {
                    return Err(PortsideError::ResponseTooLarge {
                        size: buffer.len() + data.len(),
                    });
                }
                if buffer.is_empty() {
                    // One frame is the common case: no copy.
                    if body.is_end_stream() {
                        return Ok(data);
                    }
                    let expected = body.size_hint().lower() as usize;
                    buffer.reserve(data.len() + expected.min(limit));
                }
                buffer.extend_from_slice(&data);
            }
        }
        Ok(buffer.freeze())
    };
    deadline.within(read).await.unwrap_or_else(|| {
        Err(PortsideError::AppTimeout {
            waited_ms: started.elapsed().as_millis() as u64,
        })
    })
}

/// What an invocation produced, before delivery.
enum Reply {
    /// A whole result, as JSON.
    Buffered(Bytes),
    /// A response to stream as the app writes it.
    Stream(Streamed),
}

/// A response on its way: what the app sent so far, and where it goes.
struct Streamed {
    /// The JSON prelude (status, headers, cookies).
    prelude: Bytes,
    /// The app's body, still arriving.
    body: Incoming,
    /// The app's connection, returned once the body ends.
    lease: Lease,
    /// A connection to the Runtime API opened while the app worked.
    connection: Option<Connection<OutBody>>,
    /// When the request went to the app.
    app_started: Instant,
}

/// The app's request, ready to send, and what the rest of the invocation
/// needs to know about it.
struct Prepared {
    request: http::Request<Bytes>,
    /// The HTTP source; `None` for a pass-through event.
    source: Option<HttpSource>,
    /// The event, kept only when the request may be replayed (made again
    /// from it) after a stale connection ate it: an idempotent HTTP request.
    kept_event: Option<Payload>,
    /// The client's `Accept-Encoding`, when the response may be compressed.
    accept_encoding: Option<String>,
    /// Whether the response is to be streamed (`response_stream` mode and a
    /// source that streams).
    streams: bool,
}

/// The app's response head, and what finishing the invocation needs.
struct Exchanged {
    parts: http::response::Parts,
    body: Incoming,
    lease: Lease,
    /// For a stream: the connection to Lambda opened while the app worked.
    connection: Option<Connection<OutBody>>,
    app_started: Instant,
    source: Option<HttpSource>,
    accept_encoding: Option<String>,
    /// The response is streamed (it would be, and its status is not one
    /// that fails the invocation).
    stream: bool,
    /// The status is one of `PORTSIDE_ERROR_STATUS_CODES`.
    failed: bool,
}

/// Everything invocations need, shared by all of them.
pub struct Adapter {
    /// The settings.
    pub config: Config,
    /// The app's client.
    pub client: AppClient,
    /// The Runtime API's client: invocations in, results out.
    pub results: RuntimeApiClient,
    /// Whether the app is ready (async init may hand over before it is).
    pub ready: watch::Receiver<ReadyState>,
    /// Invocations in flight, for shutdown.
    pub in_flight: Arc<InFlight>,
    /// The function as `lambda_runtime` describes it (every `Context`'s `env_config`).
    pub function: Arc<lambda_runtime::Config>,
    /// Writes `x-amzn-lambda-context`'s JSON.
    pub context_json: request::LambdaContextWriter,
    /// No invocation has started yet: the next one is the cold start.
    pub cold: AtomicBool,
}

impl Adapter {
    /// Waits (until `deadline`) for the app, when async init handed init back early.
    async fn wait_until_ready(&self, deadline: &mut Deadline) -> Result<(), PortsideError> {
        let mut ready = self.ready.clone();
        let started = Instant::now();
        let wait = async {
            ready
                .wait_for(|state| *state != ReadyState::Waiting)
                .await
                .map(|state| state.clone())
        };
        match deadline.within(wait).await {
            Some(Ok(ReadyState::Failed(why))) => Err(PortsideError::AppNotReady(why)),
            Some(Ok(_)) => Ok(()),
            Some(Err(_)) => Err(PortsideError::AppNotReady(
                "the readiness check stopped".into(),
            )),
            None => Err(PortsideError::AppNotReady(format!(
                "still not ready after waiting {} ms in this invocation",
                started.elapsed().as_millis()
            ))),
        }
    }

    /// Whether invocations leave records (an access record, EMF metrics).
    fn records(&self) -> bool {
        self.config.access_log || self.config.metrics_namespace.is_some()
    }

    /// Handles one invocation end to end and delivers its result. `deadline`
    /// is the invocation loop's timer, moved to this invocation's deadline.
    pub async fn handle(&self, invocation: NextInvocation, deadline: &mut Deadline) {
        let started = Instant::now();
        let _in_flight = self.in_flight.enter();
        let request_id = invocation.context.request_id.clone();
        let invocation_id = invocation.invocation_id.clone();
        let mut facts = Facts {
            cold_start: self.cold.swap(false, Ordering::Relaxed),
            ..Facts::default()
        };
        let reply = {
            let invoke = std::pin::pin!(self.invoke(invocation, deadline, &mut facts));
            CatchUnwind(invoke).await
        };
        let delivered = match reply {
            Ok(Ok(Reply::Buffered(json))) => {
                self.results
                    .response(&request_id, invocation_id.as_ref(), json)
                    .await
            }
            Ok(Ok(Reply::Stream(streamed))) => {
                self.stream(
                    &request_id,
                    invocation_id.as_ref(),
                    streamed,
                    deadline,
                    started,
                    &mut facts,
                )
                .await
            }
            Ok(Err(err)) => {
                warn!(request_id = &request_id; "{}: {}", err.error_type(), err.log_line());
                facts.ending = Ending::Error(err.error_type());
                self.results
                    .error(&request_id, invocation_id.as_ref(), &err)
                    .await
            }
            Err(panic) => {
                let err = PortsideError::Internal(format!(
                    "panic while handling the invocation: {panic}"
                ));
                error!(request_id = &request_id; "{err}");
                facts.ending = Ending::Error(err.error_type());
                self.results
                    .error(&request_id, invocation_id.as_ref(), &err)
                    .await
            }
        };
        if let Err(err) = delivered {
            error!(request_id = &request_id; "the result could not be delivered to Lambda: {err}");
        }
        if self.records() {
            facts.total = started.elapsed();
            self.write_records(&request_id, &facts);
        }
        crate::alloc::end_of_invocation();
    }

    /// Writes the invocation's access record and metrics, as configured.
    fn write_records(&self, request_id: &str, facts: &Facts) {
        if self.config.access_log {
            let line = if crate::log::is_json() {
                record::access_json(request_id, facts, &crate::log::now_timestamp())
            } else {
                record::access_text(request_id, facts)
            };
            crate::log::write_line(&line);
        }
        if let Some(namespace) = &self.config.metrics_namespace {
            let epoch_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            let line = record::emf(
                request_id,
                facts,
                namespace,
                &self.config.function.name,
                epoch_ms,
            );
            use std::io::Write as _;
            // A closed stdout must not take the adapter down.
            let _ = std::io::stdout().lock().write_all(&line);
        }
    }

    /// One invocation: event -> request -> app -> response -> result, in
    /// three steps: [`Adapter::prepare`], [`Adapter::exchange`],
    /// [`Adapter::finish`].
    async fn invoke(
        &self,
        invocation: NextInvocation,
        deadline: &mut Deadline,
        facts: &mut Facts,
    ) -> Result<Reply, PortsideError> {
        let NextInvocation {
            payload, context, ..
        } = invocation;
        deadline.set(app_deadline(context.deadline));
        let payload = payload?;
        if *self.ready.borrow() != ReadyState::Ready {
            self.wait_until_ready(deadline).await?;
        }
        let lambda_context = self.context_json.write(&context);
        let info = InvocationInfo {
            request_id: &context.request_id,
            lambda_context: &lambda_context,
            trace_id: context.xray_trace_id.as_deref(),
        };
        let prepared = self.prepare(payload, &info, facts)?;
        let exchanged = self.exchange(prepared, &info, deadline, facts).await?;
        self.finish(exchanged, deadline, facts).await
    }

    /// The app's request from the event, and what the rest of the
    /// invocation needs to know about it. A payload taken apart as it came
    /// (`event::assemble`) is read in its parts; whenever that does not
    /// fit, it is read whole.
    fn prepare(
        &self,
        payload: Payload,
        info: &InvocationInfo<'_>,
        facts: &mut Facts,
    ) -> Result<Prepared, PortsideError> {
        let bytes = match payload {
            Payload::Split(split) => match event::parse_split(&split) {
                Some(event) => {
                    return self.prepare_event(event, Payload::Split(split), info, facts)
                }
                None => split.join(),
            },
            Payload::Whole(bytes) => bytes,
        };
        let text = crate::body::as_text(&bytes)
            .ok_or_else(|| PortsideError::InvalidEvent("the payload is not UTF-8 text".into()))?;
        let event = event::parse(text)?;
        self.prepare_event(event, Payload::Whole(bytes.clone()), info, facts)
    }

    /// [`Adapter::prepare`], the event read from `payload`.
    fn prepare_event(
        &self,
        event: Event<'_>,
        payload: Payload,
        info: &InvocationInfo<'_>,
        facts: &mut Facts,
    ) -> Result<Prepared, PortsideError> {
        let mut pass_through_source = None;
        let (source, request) = match event {
            Event::Http(http) => (
                Some(http.source),
                request::http_request(*http, info, &self.config)?,
            ),
            Event::PassThrough(pass) => {
                if self.records() {
                    pass_through_source = Some(pass.source.to_string());
                }
                (
                    None,
                    request::pass_through_request(
                        &pass,
                        payload.clone().into_whole(),
                        info,
                        &self.config,
                    )?,
                )
            }
        };
        // A request the app may have acted on is never sent twice; only an
        // idempotent HTTP request may be, when a stale connection ate it:
        // then it is made again from the event (rarely; so the event is
        // kept, not a copy of the request made on every invocation). Any
        // other payload need not stay in memory while the app works: the
        // request owns what it needs.
        let replayable = match source {
            Some(HttpSource::WebSocket) | None => false,
            Some(_) => Resend::for_method(request.method()) == Resend::IfUnanswered,
        };
        let kept_event = replayable.then_some(payload);
        debug!(
            request_id = info.request_id;
            "{} {} ({})",
            request.method(),
            request.uri().path(),
            source.map_or("pass-through", HttpSource::name)
        );
        if self.records() {
            facts.source = match (source, &pass_through_source) {
                (Some(source), _) => source.name().to_string(),
                (None, Some(name)) => name.clone(),
                (None, None) => "unknown".to_string(),
            };
            facts.method = request.method().as_str().to_string();
            facts.path = request.uri().path().to_string();
        }
        let accept_encoding = match source {
            Some(source) if self.config.compression && source != HttpSource::WebSocket => request
                .headers()
                .get(http::header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            _ => None,
        };
        Ok(Prepared {
            request,
            source,
            kept_event,
            accept_encoding,
            streams: self.config.invoke_mode == InvokeMode::ResponseStream
                && source.is_some_and(HttpSource::streams),
        })
    }

    /// Sends the request to the app (with, for a stream, a connection to
    /// Lambda opened meanwhile) and takes its response head.
    async fn exchange(
        &self,
        prepared: Prepared,
        info: &InvocationInfo<'_>,
        deadline: &mut Deadline,
        facts: &mut Facts,
    ) -> Result<Exchanged, PortsideError> {
        let Prepared {
            request,
            source,
            kept_event,
            accept_encoding,
            streams,
        } = prepared;
        let rebuild = || {
            let event = match kept_event.as_ref()? {
                Payload::Split(split) => event::parse_split(split)?,
                Payload::Whole(bytes) => event::parse(std::str::from_utf8(bytes).ok()?).ok()?,
            };
            match event {
                Event::Http(http) => request::http_request(*http, info, &self.config).ok(),
                Event::PassThrough(_) => None,
            }
        };
        let replay = match kept_event {
            Some(_) => Replay::Rebuild(&rebuild),
            None => Replay::Never,
        };
        let app_started = Instant::now();
        let (sent, connection) = if streams {
            // The stream's connection to Lambda opens while the app works.
            let (sent, connection) = tokio::join!(
                self.client.send(request, replay, deadline),
                self.results.connect()
            );
            (sent, connection.ok())
        } else {
            (self.client.send(request, replay, deadline).await, None)
        };
        let (response, lease) = sent?;
        let (mut parts, body) = response.into_parts();
        if self.config.web_function.is_some() && source.is_some() {
            crate::web::response_headers(&mut parts.headers, info.request_id);
        }
        let failed = self
            .config
            .error_status_codes
            .contains(parts.status.as_u16());
        facts.ending = Ending::Status(parts.status.as_u16());
        Ok(Exchanged {
            parts,
            body,
            lease,
            connection,
            app_started,
            source,
            accept_encoding,
            stream: streams && !failed,
            failed,
        })
    }

    /// The reply from the app's response: a stream started with its
    /// prelude, or the body read whole (within the deadline) and turned into
    /// the result.
    async fn finish(
        &self,
        exchanged: Exchanged,
        deadline: &mut Deadline,
        facts: &mut Facts,
    ) -> Result<Reply, PortsideError> {
        let Exchanged {
            parts,
            body,
            lease,
            connection,
            app_started,
            source,
            accept_encoding,
            stream,
            failed,
        } = exchanged;
        let prelude = match source {
            Some(source) if stream => event::stream_prelude(source, parts.status, &parts.headers),
            _ => None,
        };
        if let Some(prelude) = prelude {
            return Ok(Reply::Stream(Streamed {
                prelude,
                body,
                lease,
                connection,
                app_started,
            }));
        }
        // A body the client will get compressed may be larger than Lambda's
        // limit before compression.
        let limit = if accept_encoding.is_some() {
            COMPRESSIBLE_READ_LIMIT
        } else {
            BUFFERED_RESPONSE_LIMIT
        };
        let body = read_body(body, deadline, limit).await?;
        lease.release();
        facts.app = app_started.elapsed();
        facts.response_bytes = body.len() as u64;
        if failed {
            return Err(PortsideError::AppError {
                status: parts.status.as_u16(),
                body: event::body_excerpt(&body),
                cause: AppErrorCause::ListedStatus,
            });
        }
        let mut response = ResponseParts {
            status: parts.status,
            headers: parts.headers,
            body,
        };
        compress::compress_response(&mut response, accept_encoding.as_deref());
        let json = match source {
            Some(source) => event::to_json(&event::to_result(source, response))?,
            None => event::pass_through_result(response)?,
        };
        Ok(Reply::Buffered(json))
    }

    /// Streams the app's body to Lambda as it arrives: the prelude, eight NUL
    /// bytes, then each chunk; a failure part way ends it with error trailers.
    async fn stream(
        &self,
        request_id: &str,
        invocation_id: Option<&HeaderValue>,
        streamed: Streamed,
        deadline: &mut Deadline,
        invocation_started: Instant,
        facts: &mut Facts,
    ) -> Result<(), String> {
        let Streamed {
            prelude,
            body,
            lease,
            connection,
            app_started,
        } = streamed;
        let (frames, receiver) = mpsc::channel::<Frame<Bytes>>(8);
        // The pump owns the sender, so the stream ends when the pump does.
        let pump = async move {
            let mut head = BytesMut::with_capacity(prelude.len() + 8);
            head.extend_from_slice(&prelude);
            head.extend_from_slice(&[0u8; 8]);
            if frames.send(Frame::data(head.freeze())).await.is_err() {
                return;
            }
            let started = Instant::now();
            let mut body = body;
            let failure = loop {
                match deadline.within(body.frame()).await {
                    None => {
                        break Some(PortsideError::AppTimeout {
                            waited_ms: started.elapsed().as_millis() as u64,
                        })
                    }
                    Some(None) => break None,
                    Some(Some(Err(e))) => {
                        break Some(PortsideError::AppInvalidResponse(format!(
                            "the streamed body broke off: {e}"
                        )))
                    }
                    Some(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            if facts.first_byte.is_none() && !data.is_empty() {
                                facts.first_byte = Some(invocation_started.elapsed());
                            }
                            facts.response_bytes += data.len() as u64;
                            if frames.send(Frame::data(data)).await.is_err() {
                                return; // Lambda stopped reading; its answer says why.
                            }
                        }
                    }
                }
            };
            facts.app = app_started.elapsed();
            match failure {
                None => lease.release(),
                Some(err) => {
                    warn!(request_id = request_id; "{}: {} (mid-stream)", err.error_type(), err.log_line());
                    let _ = frames.send(Frame::trailers(error_trailers(&err))).await;
                }
            }
        };
        let post = self.results.stream(
            request_id,
            invocation_id,
            HTTP_INTEGRATION_RESPONSE,
            receiver,
            connection,
        );
        let ((), posted) = tokio::join!(pump, post);
        posted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[tokio::test]
    async fn a_panic_in_an_invocation_becomes_an_error_not_a_crash() {
        let panics = async {
            let items: Vec<u32> = Vec::new();
            // An out-of-bounds index: the kind of bug that must not kill the process.
            items[items.len()]
        };
        let caught = CatchUnwind(Box::pin(panics)).await;
        let message = caught.expect_err("the panic is caught");
        assert!(message.contains("index out of bounds"), "{message}");

        let fine = CatchUnwind(Box::pin(async { 7 })).await;
        assert_eq!(fine, Ok(7));
    }
}
