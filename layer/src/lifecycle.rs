//! The adapter's lifecycle: register as an extension, wait for the app,
//! then serve invocations until Lambda shuts the sandbox down.
//!
//! Owns: the order of start-up, async init, reporting an init failure, the
//! SnapStart restore point (`snapstart`), the invocation loops (one per
//! concurrent invocation Lambda allows: each takes an invocation from
//! `/next` and hands it to `invoke`), and shutdown (SHUTDOWN and SIGTERM).
//! Must not: handle an invocation itself (`invoke`) or open connections
//! (`runtime_api`, `lifecycle_api`, `proxy`).
//!
//! Start-up, in order:
//!
//! 1. Register with the Extensions API for SHUTDOWN (Lambda starts the
//!    runtime, and with it the app, only once every extension has registered).
//! 2. Resolve the app and the Runtime API; start the readiness check on its
//!    own thread; build everything invocations need while the app starts.
//! 3. Wait for the app to be ready (or, with async init, until init's budget
//!    is spent), else report the init error and exit.
//! 4. With SnapStart: the restore lifecycle (the snapshot happens here).
//! 5. Serve: N loops of `/next` -> invocation -> result (N = 1, or Lambda
//!    Managed Instances' `AWS_LAMBDA_MAX_CONCURRENCY`), until SHUTDOWN or
//!    SIGTERM lets the invocations in flight finish and exits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::sync::watch;

use crate::config::Config;
use crate::deadline::{app_deadline, Deadline};
use crate::error::PortsideError;
use crate::invoke::{Adapter, InFlight, ReadyState};
use crate::lifecycle_api::LifecycleApi;
use crate::proxy::AppClient;
use crate::readiness::{ReadinessCheck, Verdict};
use crate::runtime_api::RuntimeApiClient;
use crate::snapstart::{restore_lifecycle, SnapStartHooks};
use crate::{debug, error, info, warn};

/// Lambda gives init 10 s; async init hands it back with this much used.
const ASYNC_INIT_BUDGET: Duration = Duration::from_millis(9_500);

/// Consecutive `/next` failures after which the adapter gives up: Lambda's
/// Runtime API is gone, and only a new sandbox helps.
const NEXT_FAILURES_LIMIT: u32 = 5;

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

/// Starts the readiness check on its own thread; its verdict arrives on the
/// channel. With `keep`, the connection that found the app ready joins that
/// client's pool first (the readiness port is the app's), so the first
/// invocation needs no new connection.
fn start_readiness(
    check: ReadinessCheck,
    until: Option<Instant>,
    keep: Option<AppClient>,
) -> watch::Receiver<ReadyState> {
    let (tx, rx) = watch::channel(ReadyState::Waiting);
    let runtime = tokio::runtime::Handle::current();
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
                Verdict::Ready {
                    waited,
                    attempts,
                    connection,
                } => {
                    info!(
                        "the app is ready at {target} after {} us ({attempts} checks)",
                        waited.as_micros()
                    );
                    if let (Some(client), Some(handover)) = (keep, connection) {
                        runtime.spawn(async move {
                            if let Err(err) = client.adopt(handover.stream, handover.used).await {
                                debug!("the readiness connection is not reused: {err}");
                            }
                            let _ = tx.send(ReadyState::Ready);
                        });
                        return;
                    }
                    ReadyState::Ready
                }
                Verdict::GaveUp {
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
async fn fail_init(api: &LifecycleApi, err: PortsideError) -> PortsideError {
    error!("{}: {err}", err.error_type());
    if let Err(report) = api.init_error(&err).await {
        error!("could not report the init error to Lambda: {report}");
    }
    err
}

/// Serves SHUTDOWN (and SIGTERM): lets the invocations in flight finish
/// within the deadline, then exits.
async fn watch_shutdown(
    in_flight: Arc<InFlight>,
    api: Arc<LifecycleApi>,
    extension_id: Option<String>,
) {
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

/// Takes invocations from `/next` and serves them, one at a time, for ever.
async fn serve(adapter: Arc<Adapter>) -> Result<(), PortsideError> {
    let env = adapter.function.clone();
    let mut buffer = BytesMut::new();
    let mut failures = 0;
    // One timer for the loop, moved to each invocation's deadline (see
    // `deadline` for why not a new one each time).
    let mut deadline = Deadline::new(Instant::now());
    loop {
        match adapter.results.next(&mut buffer, &env).await {
            Ok(invocation) => {
                failures = 0;
                adapter.handle(invocation, &mut deadline).await;
            }
            Err(err) => {
                failures += 1;
                if failures >= NEXT_FAILURES_LIMIT {
                    return Err(PortsideError::Internal(format!(
                        "the Runtime API failed {failures} times in a row, the last: {err}"
                    )));
                }
                warn!("taking the next invocation failed ({err}); trying again");
                tokio::time::sleep(Duration::from_millis(10 << failures)).await;
            }
        }
    }
}

/// Runs the adapter until Lambda shuts it down. `started` is when the process began.
pub async fn run(config: Config, started: Instant) -> Result<(), PortsideError> {
    let api = Arc::new(
        LifecycleApi::new(&config.runtime_api.extensions).map_err(PortsideError::InvalidConfig)?,
    );
    // Register before anything slow: Lambda waits for extensions to register
    // before it starts the runtime (the app).
    let extension_id = register(&api).await;
    let (adapter, ready) = match start(config) {
        Ok(started) => started,
        Err(err) => return Err(fail_init(&api, err).await),
    };
    wait_for_init(&adapter, ready, started, &api).await?;
    if adapter.config.function.snapstart {
        let hooks: Vec<Arc<dyn lambda_runtime::SnapStartResource>> =
            vec![Arc::new(SnapStartHooks::new(adapter.clone()))];
        restore_lifecycle(&adapter, &api, &hooks).await?;
    }
    tokio::spawn(watch_shutdown(adapter.in_flight.clone(), api, extension_id));
    serve_all(adapter).await
}

/// Registers for SHUTDOWN; `None` (and a warning) when Lambda's Extensions
/// API does not take the registration: invocations are served all the same.
async fn register(api: &LifecycleApi) -> Option<String> {
    match api
        .register_extension(&extension_name(), &["SHUTDOWN"])
        .await
    {
        Ok(id) => Some(id),
        Err(err) => {
            warn!("not registered as a Lambda extension ({err}); serving invocations without SHUTDOWN events");
            None
        }
    }
}

/// Starts the readiness check and builds everything invocations need while
/// the app starts, so the first /next follows readiness at once.
fn start(config: Config) -> Result<(Arc<Adapter>, watch::Receiver<ReadyState>), PortsideError> {
    let invocations = &config.runtime_api.invocations;
    let app = resolve(&config.host, config.port, "PORTSIDE_HOST")?;
    let readiness_addresses = resolve(&config.host, config.readiness.port, "PORTSIDE_HOST")?;
    let runtime_api = resolve(
        invocations.host(),
        invocations.port(),
        "AWS_LAMBDA_RUNTIME_API",
    )?;
    let check = ReadinessCheck {
        addresses: readiness_addresses,
        host_header: crate::uri::authority(&config.host, config.readiness.port),
        path: config.readiness.path.clone(),
        protocol: config.readiness.protocol,
        healthy_status: config.readiness.healthy_status.clone(),
        attempt_timeout: Duration::from_secs(2),
    };
    let concurrency = config.function.max_concurrency as usize;
    // Large buffers kept for every invocation in flight, not only one.
    crate::alloc::size_for(concurrency);
    let client = AppClient::new(app, config.pool_idle_timeout, concurrency + 1);
    let keep = (config.readiness.port == config.port).then(|| client.clone());
    let ready = start_readiness(
        check,
        config.readiness.timeout.map(|t| Instant::now() + t),
        keep,
    );
    let results = RuntimeApiClient::new(invocations, runtime_api, concurrency + 1)
        .map_err(PortsideError::InvalidConfig)?;
    let function = Arc::new(config.function.lambda_config());
    let adapter = Arc::new(Adapter {
        context_json: crate::request::LambdaContextWriter::new(&function),
        cold: std::sync::atomic::AtomicBool::new(true),
        function,
        client,
        config,
        results,
        ready: ready.clone(),
        in_flight: Arc::new(InFlight::default()),
    });
    Ok((adapter, ready))
}

/// Waits for the app to be ready (with async init, at most until init's
/// budget is spent), with a connection to the Runtime API opened meanwhile
/// for the first /next; a readiness failure is reported as the init error.
async fn wait_for_init(
    adapter: &Arc<Adapter>,
    mut ready: watch::Receiver<ReadyState>,
    started: Instant,
    api: &LifecycleApi,
) -> Result<(), PortsideError> {
    let warm_up = {
        let adapter = adapter.clone();
        tokio::spawn(async move {
            if let Err(err) = adapter.results.warm_up().await {
                debug!("no connection to the Runtime API ahead of /next: {err}");
            }
        })
    };
    if adapter.config.async_init {
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
        return Err(fail_init(api, PortsideError::AppNotReady(why)).await);
    }
    let _ = warm_up.await;
    Ok(())
}

/// Runs the invocation loops (one, or `AWS_LAMBDA_MAX_CONCURRENCY`): each
/// runs until the Runtime API is gone for good; the first to give up ends
/// the process (Lambda then starts a new sandbox).
async fn serve_all(adapter: Arc<Adapter>) -> Result<(), PortsideError> {
    let concurrency = adapter.config.function.max_concurrency as usize;
    if concurrency > 1 {
        info!("serving up to {concurrency} invocations at once (AWS_LAMBDA_MAX_CONCURRENCY)");
    }
    let mut loops = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        loops.spawn(serve(adapter.clone()));
    }
    match loops.join_next().await {
        Some(Ok(Err(err))) => Err(err),
        Some(Err(panic)) => Err(PortsideError::Internal(format!(
            "an invocation loop stopped: {panic}"
        ))),
        Some(Ok(Ok(()))) | None => Ok(()),
    }
}
