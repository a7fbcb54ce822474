//! The adapter's lifecycle and its invocation handler: register as an
//! extension, wait for the app, then serve invocations with `lambda_runtime`.
//!
//! Owns: the order of start-up, async init, the invocation handler (event ->
//! request -> app -> response -> result), deadlines, and shutdown.
//! Must not: parse event formats (`event`), decide request policy
//! (`request`), or open connections to the app itself (`proxy`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Body as _;
use hyper::body::Incoming;
use lambda_runtime::tower::layer::layer_fn;
use lambda_runtime::tower::Service;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent, LambdaInvocation};
use std::future::Future;
use std::pin::Pin;

type BoxError = lambda_runtime::Error;
use serde_json::value::RawValue;
use tokio::sync::{watch, Notify};

use crate::config::Config;
use crate::error::{PortsideError, BUFFERED_RESPONSE_LIMIT};
use crate::event::{self, Event, LambdaResult, ResponseParts};
use crate::lambda_api::LambdaApi;
use crate::proxy::AppClient;
use crate::readiness::{Outcome, ReadinessCheck};
use crate::request::{self, InvocationInfo};
use crate::{debug, error, info, warn};

/// Lambda gives init 10 s; async init hands it back with this much used.
const ASYNC_INIT_BUDGET: Duration = Duration::from_millis(9_500);

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

/// Everything one invocation needs, shared by all of them.
pub struct Adapter {
    config: Config,
    client: AppClient,
    ready: watch::Receiver<ReadyState>,
}

/// Counts invocations from the moment `lambda_runtime` hands one over until
/// its result has been posted to the Runtime API, so shutdown can wait for them.
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

/// The tower service around `lambda_runtime`'s own, counting invocations in flight.
#[derive(Clone)]
struct TrackInFlight<S> {
    inner: S,
    in_flight: Arc<InFlight>,
}

impl<S> Service<LambdaInvocation> for TrackInFlight<S>
where
    S: Service<LambdaInvocation, Response = (), Error = BoxError>,
    S::Future: 'static,
{
    type Response = ();
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<(), BoxError>>>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        let guard = self.in_flight.enter();
        let posted = self.inner.call(invocation);
        Box::pin(async move {
            let result = posted.await;
            drop(guard);
            result
        })
    }
}

/// Any real deadline is after this (2001-09-09 in epoch milliseconds).
const PLAUSIBLE_EPOCH_MS: u64 = 1_000_000_000_000;

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
                    buffer.reserve(data.len());
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

impl Adapter {
    /// An adapter for `config`, talking to the app through `client`.
    pub fn new(config: Config, client: AppClient, ready: watch::Receiver<ReadyState>) -> Adapter {
        Adapter {
            config,
            client,
            ready,
        }
    }

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

    /// One invocation: event -> request -> app -> response -> result.
    pub async fn invoke(
        &self,
        event: LambdaEvent<Box<RawValue>>,
    ) -> Result<LambdaResult, PortsideError> {
        let LambdaEvent { payload, context } = event;
        let deadline = app_deadline(context.deadline);
        if *self.ready.borrow() != ReadyState::Ready {
            self.wait_until_ready(deadline).await?;
        }

        let lambda_context = request::lambda_context_json(&context);
        let info = InvocationInfo {
            lambda_context: &lambda_context,
            trace_id: context.xray_trace_id.as_deref(),
        };
        let parsed = event::parse(payload.get())?;
        let (source, request) = match parsed {
            Event::Http(http) => (
                Some(http.source),
                request::http_request(http, &info, &self.config),
            ),
            Event::PassThrough(pass) => {
                let body = Bytes::copy_from_slice(payload.get().as_bytes());
                (
                    None,
                    request::pass_through_request(&pass, body, &info, &self.config),
                )
            }
        };
        debug!(
            "request {}: {} {} ({})",
            context.request_id,
            request.method(),
            request.uri().path(),
            source.map_or("pass-through", |s| s.name())
        );

        let (response, lease) = self.client.send(request, deadline).await?;
        let (parts, body) = response.into_parts();
        let body = read_body(body, deadline, BUFFERED_RESPONSE_LIMIT).await?;
        lease.release();

        let status = parts.status.as_u16();
        if self.config.error_status_codes.contains(status) {
            return Err(PortsideError::AppError {
                status,
                body: event::body_excerpt(&body),
            });
        }
        let response = ResponseParts {
            status: parts.status,
            headers: parts.headers,
            body,
        };
        match source {
            Some(source) => event::to_result(source, response),
            None => event::pass_through_result(response),
        }
    }
}

/// Resolves `host:port` to socket addresses, IPv4 first (apps most often
/// listen on 127.0.0.1 even when `localhost` also means `::1`).
async fn resolve(host: &str, port: u16, variable: &str) -> Result<Vec<SocketAddr>, PortsideError> {
    let mut addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| {
            PortsideError::InvalidConfig(format!("{variable}: cannot resolve {host:?}: {e}"))
        })?
        .collect();
    addresses.sort_by_key(|a| !a.is_ipv4());
    if addresses.is_empty() {
        return Err(PortsideError::InvalidConfig(format!(
            "{variable}: {host:?} resolves to no address"
        )));
    }
    Ok(addresses)
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

/// Serves SHUTDOWN (and SIGTERM): lets the invocation in flight finish within
/// the deadline, then exits.
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

    let app = match resolve(&config.host, config.port, "PORTSIDE_HOST").await {
        Ok(addresses) => addresses,
        Err(err) => return Err(fail_init(&api, err).await),
    };
    let readiness_addresses =
        match resolve(&config.host, config.readiness.port, "PORTSIDE_HOST").await {
            Ok(addresses) => addresses,
            Err(err) => return Err(fail_init(&api, err).await),
        };
    let host_header = if config.host.contains(':') {
        format!("[{}]:{}", config.host, config.readiness.port)
    } else {
        format!("{}:{}", config.host, config.readiness.port)
    };
    let check = ReadinessCheck {
        addresses: readiness_addresses,
        host_header,
        path: config.readiness.path.clone(),
        protocol: config.readiness.protocol,
        healthy_status: config.readiness.healthy_status.clone(),
        attempt_timeout: Duration::from_secs(2),
    };
    let mut ready = start_readiness(check, config.readiness.timeout.map(|t| Instant::now() + t));

    if config.async_init {
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

    let client = AppClient::new(
        app,
        config.pool_idle_timeout,
        config.function.max_concurrency as usize + 1,
    );
    let adapter = Arc::new(Adapter::new(config, client, ready));
    let in_flight = Arc::new(InFlight::default());
    tokio::spawn(watch_shutdown(in_flight.clone(), api, extension_id));

    let handler = service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let adapter = adapter.clone();
        async move {
            adapter.invoke(event).await.map_err(|err| {
                warn!("{}: {err}", err.error_type());
                Diagnostic::from(err)
            })
        }
    });
    lambda_runtime::Runtime::new(handler)
        .layer(layer_fn(move |inner| TrackInFlight {
            inner,
            in_flight: in_flight.clone(),
        }))
        .run()
        .await
        .map_err(|e| PortsideError::Internal(format!("the Lambda runtime loop stopped: {e}")))
}
