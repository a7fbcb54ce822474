//! The execution environment: the function's processes and their lifecycle
//! around a [`RuntimeApi`].
//!
//! It owns Lambda's environment variables, the order of start-up (every
//! extension starts and registers before the runtime starts, the runtime
//! through `AWS_LAMBDA_EXEC_WRAPPER` on managed runtimes), the process
//! groups (each process starts its own group, which its children inherit, so
//! a signal to the groups reaches every process of the function, and the
//! [`reaper`] kills them if portside-local dies without stopping them),
//! freezing (SIGSTOP once the runtime is blocked in `/next` and the
//! extensions in `event/next`, SIGCONT before the next event), reset (after
//! a timeout, crash or init failure: the runtime is killed, the extensions
//! get SHUTDOWN, then everything is killed; the next invocation inits
//! afresh), the report of a failed init ([`report`]), and the prefixed
//! copies of the processes' output on stderr ([`procs`]).
//!
//! One [`Sandbox`] is one execution environment; [`crate::function`] runs
//! several of them for one function.
//!
//! Its state is explicit: a `Phase` (down, running, frozen, broken), whether
//! it is stopping, whether an init retry runs and whether the next REPORT is
//! a cold start's, changed together with the list of its processes under
//! one lock (`Life`).
//!
//! Stopping is bounded: SHUTDOWN announces a 2 s deadline (Lambda's, with
//! external extensions), and whatever still runs then is killed. After a
//! failure (crash, timeout, failed init) an extension that is not waiting
//! for an event cannot take SHUTDOWN and is killed at once.
//!
//! # Where things are
//!
//! | module | owns |
//! | --- | --- |
//! | `config` | [`SandboxConfig`], [`RuntimeKind`] |
//! | `env` | Lambda's environment variables and the runtime's command line |
//! | `start` | starting the processes in Lambda's order, and watching each for its exit |
//! | `init` | an init run to its end, its failure report (once, then a short line) and the retry in the background |
//! | `invoke` | one invocation: thaw, the event, Lambda's END and REPORT lines, the aftermath (freeze or reset); START comes from the Runtime API's dispatch hook set up here, before the runtime can read the event |
//! | `platform` | the text of the START, END and REPORT lines, billing's rounding |
//! | `freeze` | SIGSTOP once idle, SIGCONT before the next event |
//! | `teardown` | the bounded stop: SIGTERM or SIGKILL, SHUTDOWN, SIGKILL at the deadline |
//! | `procs` | process groups, signals, /proc, the copies of the output |
//! | `reaper`, `ports`, `report` | the orphan killer, the app's port, the init failure text |
//! | `hints` | while init waits, an app listening elsewhere than `$PORT`, named |

mod config;
mod env;
mod freeze;
mod hints;
mod init;
mod invoke;
pub mod platform;
pub mod ports;
pub mod procs;
pub mod reaper;
pub mod report;
mod start;
mod teardown;

pub use config::{RuntimeKind, SandboxConfig};
pub use invoke::SandboxInvocation;
pub use teardown::SHUTDOWN_GRACE;

use crate::layer::Layer;
use crate::runtime_api::{
    Config, FunctionError, InitState, InvokeOptions, InvokeRejected, OnDispatch, RuntimeApi,
    ShutdownReason,
};
use bytes::Bytes;
use init::LastFailure;
use procs::{signal_group, Tail};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// Which part of the function a process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Extension,
    Runtime,
}

/// A process the sandbox started: the leader of its own process group.
struct Proc {
    name: String,
    kind: Kind,
    pgid: i32,
    /// Its output pipes, when they are copied.
    pipes: Vec<Arc<procs::PipeWatch>>,
}

/// Where the execution environment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No processes: not started yet, or torn down. The next init (or
    /// invocation) starts them.
    Down,
    /// Started: its processes run (some may still be starting).
    Running,
    /// Started, and every process group stopped (SIGSTOP) until the next
    /// event.
    Frozen,
    /// A process died, or a teardown began: exits are expected from here
    /// on, nothing freezes, and the next init tears down what is left and
    /// starts afresh. `frozen`: the other processes are still stopped (a
    /// frozen process was killed from outside).
    Broken {
        /// The processes left are stopped.
        frozen: bool,
    },
}

impl Phase {
    /// Whether processes were started and none died: a process exit now
    /// is a failure.
    fn is_up(self) -> bool {
        matches!(self, Phase::Running | Phase::Frozen)
    }
}

/// The processes and the environment's state, changed together under one
/// lock.
struct Life {
    /// The processes now running.
    list: Vec<Proc>,
    /// Where the environment is in its life.
    phase: Phase,
    /// The sandbox is ending (never unset): nothing starts any more, and a
    /// pending freeze gives up.
    stopping: bool,
    /// An init retry runs in the background (after an init that timed out).
    retrying: bool,
    /// The processes were started and no invocation has reported yet: the
    /// next REPORT line carries the init duration (a cold start).
    cold: bool,
}

/// A running function: its Runtime API, its processes and its lifecycle.
/// Dropping it kills every process it started.
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    api: RuntimeApi,
    cfg: SandboxConfig,
    layer: Option<Arc<Layer>>,
    life: Mutex<Life>,
    serial: Arc<tokio::sync::Mutex<()>>,
    log_stream: String,
    /// Woken when the sandbox starts stopping.
    stop_notify: Notify,
    /// Woken when a process of the sandbox dies unexpectedly.
    died: Notify,
    /// The last lines of the runtime's output.
    tail: Tail,
    /// Where the portside adapter expects the app, when the layer has it.
    app: Option<(String, u16)>,
    last_failure: Mutex<Option<LastFailure>>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.inner.stop();
        let life = self.inner.lock_life();
        for p in &life.list {
            signal_group(p.pgid, libc::SIGCONT);
            signal_group(p.pgid, libc::SIGKILL);
            reaper::forget(p.pgid);
        }
    }
}

impl Sandbox {
    /// Starts the Runtime API (on 127.0.0.1, an OS-chosen port). Processes
    /// start with the first invocation (or [`Sandbox::init`]).
    pub async fn new(cfg: SandboxConfig, layer: Option<Layer>) -> Result<Sandbox, String> {
        Sandbox::with_shared_layer(cfg, layer.map(Arc::new)).await
    }

    /// A sandbox sharing a layer already opened (environments of one
    /// function share their layer).
    pub(crate) async fn with_shared_layer(
        cfg: SandboxConfig,
        layer: Option<Arc<Layer>>,
    ) -> Result<Sandbox, String> {
        let api = RuntimeApi::start(Config {
            function_name: cfg.function_name.clone(),
            handler: cfg.handler.clone(),
            region: cfg.region.clone(),
            timeout: cfg.timeout,
            init_timeout: cfg.init_timeout,
            max_concurrency: cfg.max_concurrency.max(1),
            on_dispatch: cfg.show_logs.then(|| {
                let version = Config::default().function_version;
                let cfg = cfg.clone();
                OnDispatch(Arc::new(move |request_id: &str| {
                    eprintln!(
                        "{}",
                        cfg.prefixed(&platform::start_line(request_id, &version))
                    );
                }))
            }),
            ..Config::default()
        })
        .await
        .map_err(|e| format!("cannot start the Runtime API on 127.0.0.1: {e}"))?;
        Ok(Sandbox::with_api(api, cfg, layer))
    }

    fn with_api(api: RuntimeApi, cfg: SandboxConfig, layer: Option<Arc<Layer>>) -> Sandbox {
        let now = crate::util::UtcTime::now();
        let log_stream = format!(
            "{}/[{}]{}",
            now.ymd_slashes(),
            api.config().function_version,
            crate::util::random_hex(32)
        );
        let serves_app = layer.as_ref().is_some_and(|l| {
            l.extensions()
                .iter()
                .any(|e| e.file_name().is_some_and(|n| n == "portside"))
        });
        let app = if serves_app {
            ports::app_address(&cfg.env)
        } else {
            None
        };
        Sandbox {
            inner: Arc::new(Inner {
                api,
                layer,
                life: Mutex::new(Life {
                    list: Vec::new(),
                    phase: Phase::Down,
                    stopping: false,
                    retrying: false,
                    cold: false,
                }),
                serial: Arc::new(tokio::sync::Mutex::new(())),
                log_stream,
                stop_notify: Notify::new(),
                died: Notify::new(),
                tail: Arc::new(Mutex::new(VecDeque::new())),
                app,
                last_failure: Mutex::new(None),
                cfg,
            }),
        }
    }

    /// The Runtime API.
    pub fn api(&self) -> &RuntimeApi {
        &self.inner.api
    }

    /// The configuration.
    pub fn config(&self) -> &SandboxConfig {
        &self.inner.cfg
    }

    /// Where the portside adapter expects the app (host, port), when the
    /// layer holds the adapter.
    pub fn app_address(&self) -> Option<(String, u16)> {
        self.inner.app.clone()
    }

    /// Whether the processes are stopped now.
    pub fn is_frozen(&self) -> bool {
        matches!(
            self.inner.lock_life().phase,
            Phase::Frozen | Phase::Broken { frozen: true }
        )
    }

    /// The function's processes: name (extension file name or `runtime`)
    /// and process group id (the pid of the process we started).
    pub fn processes(&self) -> Vec<(String, i32)> {
        self.inner
            .lock_life()
            .list
            .iter()
            .map(|p| (p.name.clone(), p.pgid))
            .collect()
    }

    /// Waits until the last invocation's aftermath (freeze or reset) is done.
    pub async fn settle(&self) {
        drop(self.inner.serial.lock().await);
    }

    /// The report of the last failed init, while init keeps failing.
    pub fn init_failure(&self) -> Option<String> {
        self.inner
            .lock_failure()
            .as_ref()
            .map(|f| f.summary.clone())
    }

    /// The environment every process of the function gets.
    pub fn environment(&self) -> Vec<(String, String)> {
        self.inner.environment()
    }

    /// The runtime's command line: the wrapper (if any), then the runtime.
    pub fn runtime_command(&self) -> Result<Vec<String>, String> {
        self.inner.runtime_command()
    }

    /// Starts the processes and waits for init (at most the init timeout).
    /// A failed init is reported on stderr, and its processes are stopped
    /// at once; the next invocation tries again.
    pub async fn init(&self) -> InitState {
        let _serial = self.inner.serial.lock().await;
        self.inner.init_now(self.inner.cfg.init_timeout).await
    }

    /// Sends one event; returns once the event is queued. The outcome (and
    /// stream events) arrive through the returned handle; the sandbox is
    /// frozen, or reset, after the outcome.
    ///
    /// While init keeps failing: after a crash or an init error the
    /// invocation retries init and waits for it (as Lambda does); after an
    /// init that timed out it is answered at once with the error while the
    /// retry runs in the background (bounded by the function timeout, as
    /// Lambda bounds a retried init), so requests are not held for the
    /// whole init limit again and again.
    pub async fn invoke(
        &self,
        payload: Bytes,
        opts: InvokeOptions,
    ) -> Result<SandboxInvocation, InvokeRejected> {
        Arc::clone(&self.inner).invoke(payload, opts).await
    }

    /// Ends the sandbox as Lambda's spindown does: SIGTERM to the runtime,
    /// SHUTDOWN to the extensions, SIGKILL for whatever is left at the
    /// deadline (2 s at most).
    pub async fn shutdown(&self) {
        self.inner.stop();
        // An init or a freeze gives up when told; an invocation in flight
        // does not wait: it ends with the sandbox (its result, if it comes
        // within the deadline, still counts).
        let serial = tokio::time::timeout(
            Duration::from_millis(200),
            Arc::clone(&self.inner.serial).lock_owned(),
        )
        .await
        .ok();
        self.inner.teardown(ShutdownReason::Spindown).await;
        self.inner.api.abort_inflight(FunctionError::lambda(
            "Sandbox.Stopped",
            "portside-local stopped while the invocation ran",
        ));
        drop(serial);
    }
}

impl Inner {
    pub(super) fn lock_life(&self) -> MutexGuard<'_, Life> {
        crate::util::lock(&self.life)
    }

    /// Whether the sandbox is stopping.
    pub(super) fn is_stopping(&self) -> bool {
        self.lock_life().stopping
    }

    /// The sandbox starts stopping, for good: what waits on [`Inner::stopped`]
    /// returns.
    fn stop(&self) {
        self.lock_life().stopping = true;
        self.stop_notify.notify_waiters();
    }

    pub(super) fn lock_failure(&self) -> MutexGuard<'_, Option<LastFailure>> {
        crate::util::lock(&self.last_failure)
    }

    /// Returns once a process died (the sandbox is broken), or the
    /// processes are gone.
    pub(super) async fn process_died(&self) {
        loop {
            let notified = self.died.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.lock_life().phase.is_up() {
                return;
            }
            notified.await;
        }
    }

    /// Returns once the sandbox is stopping.
    pub(super) async fn stopped(&self) {
        loop {
            let notified = self.stop_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_stopping() {
                return;
            }
            notified.await;
        }
    }

    pub(super) fn lock_tail(&self) -> MutexGuard<'_, VecDeque<String>> {
        crate::util::lock(&self.tail)
    }
}
