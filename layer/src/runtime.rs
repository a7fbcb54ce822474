//! The adapter's lifecycle and its invocations: register as an extension,
//! wait for the app, then serve invocations.
//!
//! Owns: the order of start-up, async init, the invocation pipeline (event ->
//! request -> app -> response -> result), buffered and streamed delivery,
//! deadlines, panics, concurrency, SnapStart hooks and shutdown.
//! Must not: parse event formats (`event`), decide request policy
//! (`request`), or open connections itself (`proxy`, `runtime_api`).
//!
//! `lambda_runtime` runs the loop: it polls `/next` (with N pollers under
//! Lambda Managed Instances), builds each invocation's context, and runs the
//! SnapStart lifecycle. Its handler-and-response stack is replaced by
//! [`Invocations`], a tower layer that takes the raw invocation and delivers
//! the result through [`RuntimeApiClient`] (see that module for why).

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http::HeaderValue;
use http_body::Frame;
use http_body_util::BodyExt;
use hyper::body::{Body as _, Incoming};
use lambda_runtime::tower::layer::layer_fn;
use lambda_runtime::tower::Service;
use lambda_runtime::{
    service_fn, BoxFuture, Diagnostic, LambdaEvent, LambdaInvocation, SnapStartResource,
};
use serde::de::IgnoredAny;
use tokio::sync::{mpsc, watch, Notify};

use crate::client::Resend;
use crate::compress;
use crate::config::{Config, InvokeMode};
use crate::error::{AppErrorCause, PortsideError, BUFFERED_RESPONSE_LIMIT};
use crate::event::{self, Event, HttpSource, ResponseParts};
use crate::lambda_api::LambdaApi;
use crate::pool::Connection;
use crate::proxy::{AppClient, Lease};
use crate::readiness::{Outcome, ReadinessCheck};
use crate::request::{self, InvocationInfo};
use crate::runtime_api::{
    error_trailers, OutBody, RuntimeApiClient, HTTP_INTEGRATION_RESPONSE, INVOCATION_ID,
};
use crate::{debug, error, info, warn};

type BoxError = lambda_runtime::Error;

/// Lambda gives init 10 s; async init hands it back with this much used.
const ASYNC_INIT_BUDGET: Duration = Duration::from_millis(9_500);

/// Largest body read for a response that may be compressed below Lambda's limit.
const COMPRESSIBLE_READ_LIMIT: usize = 4 * BUFFERED_RESPONSE_LIMIT;

/// Any real deadline is after this (2001-09-09 in epoch milliseconds).
const PLAUSIBLE_EPOCH_MS: u64 = 1_000_000_000_000;

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

/// Counts invocations from the moment `lambda_runtime` hands one over until
/// its result has been delivered, so shutdown can wait for them.
#[derive(Default)]
struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

/// One invocation in flight, until dropped.
struct InFlightGuard(Arc<InFlight>);

impl InFlight {
    fn enter(self: &Arc<Self>) -> InFlightGuard {
        self.count.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(self.clone())
    }

    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Waits until nothing is in flight, or until `deadline`.
    async fn drain(&self, deadline: Instant) {
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
/// becomes that invocation's error and the next invocation is served.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
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

/// The instant by which the app must have answered: Lambda's deadline minus
/// a reserve to report the error before Lambda's own timeout hits.
fn app_deadline(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    // Lambda sends epoch milliseconds. Some emulators send nothing, or a
    // duration (cargo-lambda sends 600000): with no usable deadline, allow
    // Lambda's longest timeout and let the emulator enforce its own.
    let remaining = if deadline_ms < PLAUSIBLE_EPOCH_MS {
        15 * 60 * 1000
    } else {
        deadline_ms.saturating_sub(now_ms)
    };
    let reserve = (remaining / 10).min(100);
    Instant::now() + Duration::from_millis(remaining - reserve)
}

/// Reads a body to its end before `deadline`, refusing more than `limit` bytes.
async fn read_body(
    body: Incoming,
    deadline: Instant,
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
    tokio::time::timeout_at(deadline.into(), read)
        .await
        .unwrap_or_else(|_| {
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
    /// When the app must be done.
    deadline: Instant,
    /// A connection to the Runtime API opened while the app worked.
    connection: Option<Connection<OutBody>>,
}

/// Everything invocations need, shared by all of them.
pub struct Adapter {
    config: Config,
    client: AppClient,
    results: RuntimeApiClient,
    ready: watch::Receiver<ReadyState>,
    in_flight: Arc<InFlight>,
}

impl Adapter {
    /// Waits (until `deadline`) for the app, when async init handed init back early.
    async fn wait_until_ready(&self, deadline: Instant) -> Result<(), PortsideError> {
        let mut ready = self.ready.clone();
        let started = Instant::now();
        let wait = async {
            ready
                .wait_for(|state| *state != ReadyState::Waiting)
                .await
                .map(|state| state.clone())
        };
        match tokio::time::timeout_at(deadline.into(), wait).await {
            Ok(Ok(ReadyState::Failed(why))) => Err(PortsideError::AppNotReady(why)),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(PortsideError::AppNotReady(
                "the readiness check stopped".into(),
            )),
            Err(_) => Err(PortsideError::AppNotReady(format!(
                "still not ready after waiting {} ms in this invocation",
                started.elapsed().as_millis()
            ))),
        }
    }

    /// Handles one invocation end to end and delivers its result.
    async fn handle(self: Arc<Self>, invocation: LambdaInvocation) {
        let _in_flight = self.in_flight.enter();
        let request_id = invocation.context.request_id.clone();
        let invocation_id = invocation.parts.headers.get(INVOCATION_ID).cloned();
        let reply = CatchUnwind(Box::pin(self.invoke(invocation))).await;
        let delivered = match reply {
            Ok(Ok(Reply::Buffered(json))) => {
                self.results
                    .response(&request_id, invocation_id.as_ref(), json)
                    .await
            }
            Ok(Ok(Reply::Stream(streamed))) => {
                self.stream(&request_id, invocation_id.as_ref(), streamed)
                    .await
            }
            Ok(Err(err)) => {
                warn!("{request_id}: {}: {}", err.error_type(), err.log_line());
                self.results
                    .error(&request_id, invocation_id.as_ref(), &err)
                    .await
            }
            Err(panic) => {
                let err = PortsideError::Internal(format!(
                    "panic while handling the invocation: {panic}"
                ));
                error!("{request_id}: {err}");
                self.results
                    .error(&request_id, invocation_id.as_ref(), &err)
                    .await
            }
        };
        if let Err(err) = delivered {
            error!("{request_id}: the result could not be delivered to Lambda: {err}");
        }
        crate::alloc::end_of_invocation();
    }

    /// One invocation: event -> request -> app -> response -> result.
    async fn invoke(&self, invocation: LambdaInvocation) -> Result<Reply, PortsideError> {
        let LambdaInvocation {
            body: payload,
            context,
            ..
        } = invocation;
        let deadline = app_deadline(context.deadline);
        if *self.ready.borrow() != ReadyState::Ready {
            self.wait_until_ready(deadline).await?;
        }

        let lambda_context = request::lambda_context_json(&context);
        let info = InvocationInfo {
            lambda_context: &lambda_context,
            trace_id: context.xray_trace_id.as_deref(),
        };
        let text = std::str::from_utf8(&payload)
            .map_err(|_| PortsideError::InvalidEvent("the payload is not UTF-8 text".into()))?;
        let (source, request) = match event::parse(text)? {
            Event::Http(http) => (
                Some(http.source),
                request::http_request(*http, &info, &self.config),
            ),
            Event::PassThrough(pass) => (
                None,
                request::pass_through_request(&pass, payload.clone(), &info, &self.config),
            ),
        };
        // The request owns what it needs now; a large event's payload need
        // not stay in memory while the app works.
        drop(payload);
        debug!(
            "{}: {} {} ({})",
            context.request_id,
            request.method(),
            request.uri().path(),
            source.map_or("pass-through", HttpSource::name)
        );

        let accept_encoding = match source {
            Some(source) if self.config.compression && source != HttpSource::WebSocket => request
                .headers()
                .get(http::header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            _ => None,
        };
        let streams = self.config.invoke_mode == InvokeMode::ResponseStream
            && source.is_some_and(HttpSource::streams);
        // A request the app may have acted on is never sent twice; only an
        // idempotent HTTP request may be, when a stale connection ate it.
        let resend = match source {
            Some(HttpSource::WebSocket) | None => Resend::IfNotSent,
            Some(_) => Resend::for_method(request.method()),
        };
        let (sent, connection) = if streams {
            // The stream's connection to Lambda opens while the app works.
            let (sent, connection) = tokio::join!(
                self.client.send(request, resend, deadline),
                self.results.connect()
            );
            (sent, connection.ok())
        } else {
            (self.client.send(request, resend, deadline).await, None)
        };
        let (response, lease) = sent?;
        let (parts, body) = response.into_parts();
        let status = parts.status.as_u16();
        let failed = self.config.error_status_codes.contains(status);

        let prelude = match source {
            Some(source) if streams && !failed => {
                event::stream_prelude(source, parts.status, &parts.headers)
            }
            _ => None,
        };
        if let Some(prelude) = prelude {
            return Ok(Reply::Stream(Streamed {
                prelude,
                body,
                lease,
                deadline,
                connection,
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
        if failed {
            return Err(PortsideError::AppError {
                status,
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
    ) -> Result<(), String> {
        let Streamed {
            prelude,
            body,
            lease,
            deadline,
            connection,
        } = streamed;
        let (frames, receiver) = mpsc::channel::<Frame<Bytes>>(8);
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
                match tokio::time::timeout_at(deadline.into(), body.frame()).await {
                    Err(_) => {
                        break Some(PortsideError::AppTimeout {
                            waited_ms: started.elapsed().as_millis() as u64,
                        })
                    }
                    Ok(None) => break None,
                    Ok(Some(Err(e))) => {
                        break Some(PortsideError::AppInvalidResponse(format!(
                            "the streamed body broke off: {e}"
                        )))
                    }
                    Ok(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            if frames.send(Frame::data(data)).await.is_err() {
                                return; // Lambda stopped reading; its answer says why.
                            }
                        }
                    }
                }
            };
            match failure {
                None => lease.release(),
                Some(err) => {
                    warn!("{}: {} (mid-stream)", err.error_type(), err.log_line());
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

/// The tower service that replaces `lambda_runtime`'s handler-and-response
/// stack: each invocation is handled, and its result delivered, by the adapter.
#[derive(Clone)]
struct Invocations {
    adapter: Arc<Adapter>,
}

impl Service<LambdaInvocation> for Invocations {
    type Response = ();
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        let adapter = self.adapter.clone();
        // Errors are delivered to Lambda as the invocation's result; an error
        // here would stop lambda_runtime's loop, so there never is one.
        Box::pin(async move {
            adapter.handle(invocation).await;
            Ok(())
        })
    }
}

/// `lambda_runtime` builds its runtime around a handler; [`Invocations`]
/// replaces the stack that would call it, so it never runs.
async fn replaced_by_invocations(_: LambdaEvent<IgnoredAny>) -> Result<(), Diagnostic> {
    Err(PortsideError::Internal("the replaced lambda_runtime handler was called".into()).into())
}

/// What must not survive a SnapStart snapshot: pooled connections (to the app
/// and to Lambda), which the restored copies would otherwise share. The app
/// can be told too (`PORTSIDE_SNAPSTART_*_PATH`), to renew its own.
struct SnapStartHooks {
    adapter: Arc<Adapter>,
}

impl SnapStartHooks {
    /// POSTs to an app path with a bounded wait; failures are errors.
    async fn notify_app(&self, path: &str) -> Result<(), BoxError> {
        let mut request = http::Request::new(Bytes::new());
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = path.parse()?;
        let host = crate::uri::authority(&self.adapter.config.host, self.adapter.config.port);
        request
            .headers_mut()
            .insert(http::header::HOST, HeaderValue::from_str(&host)?);
        request
            .headers_mut()
            .insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        let deadline = Instant::now() + Duration::from_secs(10);
        let (response, lease) = self
            .adapter
            .client
            .send(request, Resend::IfNotSent, deadline)
            .await?;
        let status = response.status();
        let _ = read_body(response.into_body(), deadline, 64 * 1024).await?;
        drop(lease); // Never pool a connection across the snapshot.
        if !status.is_success() {
            return Err(format!("the app answered {status} to POST {path}").into());
        }
        Ok(())
    }
}

impl SnapStartResource for SnapStartHooks {
    fn before_snapshot(&self) -> BoxFuture<'_, Result<(), BoxError>> {
        Box::pin(async move {
            if let Some(path) = self.adapter.config.snapstart_before_checkpoint_path.clone() {
                self.notify_app(&path).await?;
            }
            self.adapter.client.clear();
            self.adapter.results.clear();
            info!("SnapStart: connections dropped before the snapshot");
            Ok(())
        })
    }

    fn after_restore(&self) -> BoxFuture<'_, Result<(), BoxError>> {
        Box::pin(async move {
            self.adapter.client.clear();
            self.adapter.results.clear();
            if let Some(path) = self.adapter.config.snapstart_after_restore_path.clone() {
                self.notify_app(&path).await?;
            }
            info!("SnapStart: restored; new connections from here on");
            Ok(())
        })
    }
}

/// The addresses of `host:port`, or the init error naming the variable.
fn resolve(host: &str, port: u16, what: &str) -> Result<Vec<SocketAddr>, PortsideError> {
    crate::pool::resolve(host, port)
        .map_err(|e| PortsideError::InvalidConfig(format!("{what}: cannot resolve {host:?}: {e}")))
}

/// The name Lambda knows this extension by: its file name in /opt/extensions.
fn extension_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|arg0| {
            std::path::Path::new(&arg0)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "portside".to_string())
}

/// Starts the readiness check on its own thread; its verdict arrives on the channel.
fn start_readiness(check: ReadinessCheck, until: Option<Instant>) -> watch::Receiver<ReadyState> {
    let (tx, rx) = watch::channel(ReadyState::Waiting);
    let spawned = std::thread::Builder::new()
        .name("readiness".into())
        .spawn(move || {
            let target = check
                .addresses
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            let outcome = check.wait(until, |waited, problem| {
                info!(
                    "waiting for the app at {target}: not ready after {} ms ({problem})",
                    waited.as_millis()
                );
            });
            let state = match outcome {
                Outcome::Ready { waited, attempts } => {
                    info!(
                        "the app is ready at {target} after {} us ({attempts} checks)",
                        waited.as_micros()
                    );
                    ReadyState::Ready
                }
                Outcome::GaveUp {
                    waited,
                    last_problem,
                } => ReadyState::Failed(format!(
                    "not ready at {target} after {} ms, the readiness timeout: {last_problem}",
                    waited.as_millis()
                )),
            };
            let _ = tx.send(state);
        });
    if let Err(err) = spawned {
        let (tx, rx) = watch::channel(ReadyState::Failed(format!(
            "cannot start the readiness check: {err}"
        )));
        drop(tx);
        return rx;
    }
    rx
}

/// Reports an init failure to Lambda and returns it for `main` to print.
async fn fail_init(api: &LambdaApi, err: PortsideError) -> PortsideError {
    error!("{}: {err}", err.error_type());
    if let Err(report) = api.init_error(&err).await {
        error!("could not report the init error to Lambda: {report}");
    }
    err
}

/// Serves SHUTDOWN (and SIGTERM): lets the invocations in flight finish
/// within the deadline, then exits.
async fn watch_shutdown(in_flight: Arc<InFlight>, api: LambdaApi, extension_id: Option<String>) {
    let mut sigterm =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let sigterm = async {
        match sigterm.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    let shutdown_event = async {
        let Some(id) = extension_id else {
            return std::future::pending::<(u64, String)>().await;
        };
        loop {
            match api.next_extension_event(&id).await {
                Ok(event) if event.event_type == "SHUTDOWN" => {
                    return (event.deadline_ms, event.shutdown_reason.unwrap_or_default());
                }
                Ok(event) => debug!("extension event {} ignored", event.event_type),
                Err(err) => {
                    warn!("the Extensions API failed ({err}); SHUTDOWN will not be seen");
                    return std::future::pending().await;
                }
            }
        }
    };
    let (deadline_ms, reason) = tokio::select! {
        event = shutdown_event => event,
        _ = sigterm => (0, "SIGTERM".to_string()),
    };
    let deadline = if deadline_ms == 0 {
        Instant::now() + Duration::from_millis(500)
    } else {
        app_deadline(deadline_ms)
    };
    info!(
        "shutting down ({reason}); {} invocation(s) in flight",
        in_flight.count()
    );
    in_flight.drain(deadline).await;
    std::process::exit(0);
}

/// Runs the adapter until Lambda shuts it down. `started` is when the process began.
pub async fn run(config: Config, started: Instant) -> Result<(), PortsideError> {
    let api =
        LambdaApi::new(&config.runtime_api.extensions).map_err(PortsideError::InvalidConfig)?;

    // Register before anything slow: Lambda waits for extensions to register
    // before it starts the runtime (the app).
    let extension_id = match api
        .register_extension(&extension_name(), &["SHUTDOWN"])
        .await
    {
        Ok(id) => Some(id),
        Err(err) => {
            warn!("not registered as a Lambda extension ({err}); serving invocations without SHUTDOWN events");
            None
        }
    };

    let invocations = &config.runtime_api.invocations;
    let resolved = (|| {
        Ok::<_, PortsideError>((
            resolve(&config.host, config.port, "PORTSIDE_HOST")?,
            resolve(&config.host, config.readiness.port, "PORTSIDE_HOST")?,
            resolve(
                invocations.host(),
                invocations.port(),
                "AWS_LAMBDA_RUNTIME_API",
            )?,
        ))
    })();
    let (app, readiness_addresses, runtime_api) = match resolved {
        Ok(addresses) => addresses,
        Err(err) => return Err(fail_init(&api, err).await),
    };
    let check = ReadinessCheck {
        addresses: readiness_addresses,
        host_header: crate::uri::authority(&config.host, config.readiness.port),
        path: config.readiness.path.clone(),
        protocol: config.readiness.protocol,
        healthy_status: config.readiness.healthy_status.clone(),
        attempt_timeout: Duration::from_secs(2),
    };
    let mut ready = start_readiness(check, config.readiness.timeout.map(|t| Instant::now() + t));

    // Everything invocations need is built while the app starts, so the first
    // /next follows readiness at once.
    let concurrency = config.function.max_concurrency as usize;
    let results = match RuntimeApiClient::new(
        &config.runtime_api.invocations,
        runtime_api,
        concurrency + 1,
    ) {
        Ok(results) => results,
        Err(err) => return Err(fail_init(&api, PortsideError::InvalidConfig(err)).await),
    };
    let in_flight = Arc::new(InFlight::default());
    let async_init = config.async_init;
    let adapter = Arc::new(Adapter {
        client: AppClient::new(app, config.pool_idle_timeout, concurrency + 1),
        config,
        results,
        ready: ready.clone(),
        in_flight: in_flight.clone(),
    });
    let hooks = Arc::new(SnapStartHooks {
        adapter: adapter.clone(),
    });
    let runtime = lambda_runtime::Runtime::new(service_fn(replaced_by_invocations))
        .register_snapstart_resource(hooks)
        .layer(layer_fn(move |_replaced| Invocations {
            adapter: adapter.clone(),
        }));

    if async_init {
        let budget = (started + ASYNC_INIT_BUDGET).into();
        let waited =
            tokio::time::timeout_at(budget, ready.wait_for(|s| *s != ReadyState::Waiting)).await;
        if waited.is_err() {
            info!(
                "async init: the app is not ready after {} ms; handing init back to Lambda, \
                 the first invocation will wait for the app",
                started.elapsed().as_millis()
            );
        }
    } else {
        let _ = ready.wait_for(|s| *s != ReadyState::Waiting).await;
    }
    let state = ready.borrow().clone();
    if let ReadyState::Failed(why) = state {
        return Err(fail_init(&api, PortsideError::AppNotReady(why)).await);
    }
    tokio::spawn(watch_shutdown(in_flight, api, extension_id));

    let ran = if concurrency > 1 {
        info!("serving up to {concurrency} invocations at once (AWS_LAMBDA_MAX_CONCURRENCY)");
        runtime.run_concurrent().await
    } else {
        runtime.run().await
    };
    ran.map_err(|e| PortsideError::Internal(format!("the Lambda runtime loop stopped: {e}")))
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

    #[test]
    fn deadlines_keep_a_reserve_and_ignore_implausible_values() {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let deadline = app_deadline(now_ms + 3_000);
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            left <= Duration::from_millis(2_900) && left > Duration::from_millis(2_500),
            "{left:?}"
        );
        // cargo-lambda's 600000 is a duration, not an epoch time: no early timeout.
        let left = app_deadline(600_000).saturating_duration_since(Instant::now());
        assert!(left > Duration::from_secs(14 * 60), "{left:?}");
    }
}
