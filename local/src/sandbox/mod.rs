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
//! Stopping is bounded: SHUTDOWN announces a 2 s deadline (Lambda's, with
//! external extensions), and whatever still runs then is killed. After a
//! failure (crash, timeout, failed init) an extension that is not waiting
//! for an event cannot take SHUTDOWN and is killed at once.

pub mod ports;
pub mod procs;
pub mod reaper;
pub mod report;

use crate::layer::Layer;
use crate::runtime_api::{
    self, Config, FunctionError, InitState, InvokeOptions, InvokeRejected, Outcome, ProcessExit,
    RuntimeApi, ShutdownReason, StreamEvent,
};
use bytes::Bytes;
use procs::{any_alive, signal_group, Output, Tail};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Notify};

/// The SHUTDOWN deadline: how long extensions (and the runtime, after
/// SIGTERM) get before whatever is left is killed. Lambda allows 2 s when
/// external extensions are registered.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How long SHUTDOWN is offered after a failure to extensions that are not
/// waiting for an event before they are killed.
const FAILURE_DELIVERY_WAIT: Duration = Duration::from_millis(50);

/// What runs as the runtime process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeKind {
    /// A managed runtime such as `python3.12`: AWS's runtime interface client
    /// for Python (`python3 -m awslambdaric HANDLER`), through the exec
    /// wrapper when one is set.
    Python(String),
    /// An OS-only runtime (`provided.al2023`): the function's `bootstrap`,
    /// else the layer's.
    Provided(String),
}

impl RuntimeKind {
    /// Parses a Lambda runtime identifier.
    pub fn parse(name: &str) -> Result<RuntimeKind, String> {
        if name.starts_with("python3") {
            Ok(RuntimeKind::Python(name.to_string()))
        } else if name.starts_with("provided") {
            Ok(RuntimeKind::Provided(name.to_string()))
        } else {
            Err(format!(
                "the runtime {name:?} is not available locally: use a python3.x runtime or provided.al2023 (with a bootstrap file)"
            ))
        }
    }

    /// The identifier (`python3.12`, `provided.al2023`).
    pub fn name(&self) -> &str {
        match self {
            RuntimeKind::Python(n) | RuntimeKind::Provided(n) => n,
        }
    }
}

/// Everything needed to run one function.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The function's code (`LAMBDA_TASK_ROOT`, and the processes' working
    /// folder).
    pub function_dir: PathBuf,
    /// `_HANDLER`.
    pub handler: String,
    /// The runtime.
    pub runtime: RuntimeKind,
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub function_name: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (MB).
    pub memory_mb: u32,
    /// The function timeout.
    pub timeout: Duration,
    /// Bound on init.
    pub init_timeout: Duration,
    /// `AWS_REGION`.
    pub region: String,
    /// The user's variables (`--env`), applied last.
    pub env: Vec<(String, String)>,
    /// Freeze between invocations.
    pub freeze: bool,
    /// Concurrent invocations (Lambda Managed Instances); freezing is off
    /// when above 1.
    pub max_concurrency: usize,
    /// Copy the processes' output to stderr with a prefix.
    pub show_logs: bool,
    /// Which execution environment of the function this is (1, 2...), when
    /// it has several: process output is prefixed `[name#N]` and messages
    /// name it. `None` for a lone sandbox.
    pub environment: Option<usize>,
    /// `TMPDIR` for the processes (the environment's own /tmp).
    pub tmp_dir: Option<PathBuf>,
    /// How reports name the app when the exec wrapper makes the runtime
    /// process the app (`python3 app.py`); default: "started by the handler".
    pub app_command: Option<String>,
}

impl SandboxConfig {
    /// Defaults for a function folder and handler.
    pub fn new(function_dir: PathBuf, handler: impl Into<String>, runtime: RuntimeKind) -> Self {
        SandboxConfig {
            function_dir,
            handler: handler.into(),
            runtime,
            function_name: "portside-local".to_string(),
            memory_mb: 1024,
            timeout: Duration::from_secs(30),
            init_timeout: runtime_api::INIT_TIMEOUT,
            region: "us-east-1".to_string(),
            env: Vec::new(),
            freeze: true,
            max_concurrency: 1,
            show_logs: true,
            environment: None,
            tmp_dir: None,
            app_command: None,
        }
    }

    fn user_env(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `environment 2: ` or nothing.
    fn who(&self) -> String {
        match self.environment {
            Some(n) => format!("environment {n}: "),
            None => String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Extension,
    Runtime,
}

struct Proc {
    name: String,
    kind: Kind,
    pgid: i32,
}

#[derive(Default)]
struct Procs {
    list: Vec<Proc>,
    frozen: bool,
}

/// The last init failure, as reported.
#[derive(Clone)]
struct LastFailure {
    /// What an invocation answered while it lasts.
    error: FunctionError,
    /// Whether init ran out of time (a retry then runs in the background).
    timed_out: bool,
    /// The report printed for it.
    summary: String,
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
    procs: Mutex<Procs>,
    /// Set when a process died or an invocation failed in a way that needs
    /// a fresh init.
    broken: AtomicBool,
    started: AtomicBool,
    serial: Arc<tokio::sync::Mutex<()>>,
    log_stream: String,
    /// Set once the sandbox is stopping: nothing starts any more, and a
    /// pending freeze gives up.
    stopping: AtomicBool,
    stop_notify: Notify,
    /// Woken when a process of the sandbox dies unexpectedly.
    died: Notify,
    /// The last lines of the runtime's output.
    tail: Tail,
    /// Where the portside adapter expects the app, when the layer has it.
    app: Option<(String, u16)>,
    /// An init retry runs in the background (after an init that timed out).
    retrying: AtomicBool,
    last_failure: Mutex<Option<LastFailure>>,
}

/// An invocation running in a [`Sandbox`].
pub struct SandboxInvocation {
    /// The request id.
    pub request_id: String,
    /// Stream events, when asked for ([`InvokeOptions::watch_stream`]).
    pub stream: Option<mpsc::Receiver<StreamEvent>>,
    pub(crate) outcome: oneshot::Receiver<Outcome>,
}

impl SandboxInvocation {
    /// Waits for the outcome.
    pub async fn outcome(self) -> Outcome {
        self.outcome.await.unwrap_or_else(|_| {
            Outcome::Error(FunctionError::lambda(
                "Sandbox.Stopped",
                "the sandbox stopped before the invocation ended",
            ))
        })
    }

    /// An invocation that ended before it started (an init failure).
    pub(crate) fn ended(outcome: Outcome) -> SandboxInvocation {
        let (tx, rx) = oneshot::channel();
        let _ = tx.send(outcome);
        SandboxInvocation {
            request_id: String::new(),
            stream: None,
            outcome: rx,
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.stop_notify.notify_waiters();
        let procs = self.inner.lock_procs();
        for p in &procs.list {
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
            ..Config::default()
        })
        .await
        .map_err(|e| format!("cannot start the Runtime API on 127.0.0.1: {e}"))?;
        Ok(Sandbox::with_api(api, cfg, layer))
    }

    fn with_api(api: RuntimeApi, cfg: SandboxConfig, layer: Option<Arc<Layer>>) -> Sandbox {
        let now = crate::util::UtcTime::now();
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
                procs: Mutex::new(Procs::default()),
                broken: AtomicBool::new(false),
                started: AtomicBool::new(false),
                serial: Arc::new(tokio::sync::Mutex::new(())),
                log_stream: format!(
                    "{}/[$LATEST]{}",
                    now.ymd_slashes(),
                    crate::util::random_hex(32)
                ),
                stopping: AtomicBool::new(false),
                stop_notify: Notify::new(),
                died: Notify::new(),
                tail: Arc::new(Mutex::new(VecDeque::new())),
                app,
                retrying: AtomicBool::new(false),
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
        self.inner.lock_procs().frozen
    }

    /// The function's processes: name (extension file name or `runtime`)
    /// and process group id (the pid of the process we started).
    pub fn processes(&self) -> Vec<(String, i32)> {
        self.inner
            .lock_procs()
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
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.stop_notify.notify_waiters();
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
    fn lock_procs(&self) -> std::sync::MutexGuard<'_, Procs> {
        crate::util::lock(&self.procs)
    }

    fn lock_failure(&self) -> std::sync::MutexGuard<'_, Option<LastFailure>> {
        crate::util::lock(&self.last_failure)
    }

    /// Returns once a process died (the sandbox is broken).
    async fn process_died(&self) {
        loop {
            let notified = self.died.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.broken.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    /// Returns once the sandbox is stopping.
    async fn stopped(&self) {
        loop {
            let notified = self.stop_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.stopping.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    fn environment(&self) -> Vec<(String, String)> {
        let cfg = &self.cfg;
        let mut env: Vec<(String, String)> = Vec::new();
        let mut set = |k: &str, v: String| env.push((k.to_string(), v));
        let host_path =
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
        let opt = self.layer.as_ref().map(|l| l.dir().to_path_buf());
        match &opt {
            Some(opt) => {
                set("PATH", format!("{}:{host_path}", opt.join("bin").display()));
                let mut ld = opt.join("lib").display().to_string();
                if let Ok(host_ld) = std::env::var("LD_LIBRARY_PATH") {
                    ld = format!("{ld}:{host_ld}");
                }
                set("LD_LIBRARY_PATH", ld);
                if let RuntimeKind::Python(_) = cfg.runtime {
                    set("PYTHONPATH", opt.join("python").display().to_string());
                }
            }
            None => set("PATH", host_path),
        }
        set("LANG", "en_US.UTF-8".into());
        set("TZ", ":UTC".into());
        set("LAMBDA_TASK_ROOT", cfg.function_dir.display().to_string());
        set("_HANDLER", cfg.handler.clone());
        set("AWS_LAMBDA_RUNTIME_API", self.api.runtime_api_env());
        set("AWS_LAMBDA_FUNCTION_NAME", cfg.function_name.clone());
        set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", cfg.memory_mb.to_string());
        set("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into());
        set(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", cfg.function_name),
        );
        set("AWS_LAMBDA_LOG_STREAM_NAME", self.log_stream.clone());
        set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into());
        if let Some(tmp) = &cfg.tmp_dir {
            // Each execution environment has a /tmp of its own on Lambda.
            set("TMPDIR", tmp.display().to_string());
        }
        set("AWS_REGION", cfg.region.clone());
        set("AWS_DEFAULT_REGION", cfg.region.clone());
        if let RuntimeKind::Python(name) = &cfg.runtime {
            set("AWS_EXECUTION_ENV", format!("AWS_Lambda_{name}"));
        }
        if cfg.max_concurrency > 1 {
            set(
                "AWS_LAMBDA_MAX_CONCURRENCY",
                cfg.max_concurrency.to_string(),
            );
        }
        if opt.is_some() && matches!(cfg.runtime, RuntimeKind::Python(_)) {
            // The layer's shim is the exec wrapper unless the user set one.
            if self.layer.as_ref().and_then(|l| l.bootstrap()).is_some() {
                set("AWS_LAMBDA_EXEC_WRAPPER", "/opt/bootstrap".into());
            }
        }
        // Lambda hands the function its role's credentials; locally, the
        // caller's (and endpoint overrides for local AWS emulators) stand in.
        for (k, v) in std::env::vars() {
            if matches!(
                k.as_str(),
                "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN"
            ) || k.starts_with("AWS_ENDPOINT_URL")
            {
                set(&k, v);
            }
        }
        for (k, v) in &cfg.env {
            set(k, v.clone());
        }
        // Last value wins, as with repeated --env.
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in env {
            out.retain(|(ok, _)| *ok != k);
            out.push((k, v));
        }
        out
    }

    fn runtime_command(&self) -> Result<Vec<String>, String> {
        let cfg = &self.cfg;
        match &cfg.runtime {
            RuntimeKind::Provided(name) => {
                let own = cfg.function_dir.join("bootstrap");
                let layer = self.layer.as_ref().and_then(|l| l.bootstrap());
                let Some(bootstrap) = own.is_file().then_some(own).or(layer) else {
                    return Err(format!(
                        "the {name} runtime runs a file named bootstrap, and neither {} nor the layer has one",
                        cfg.function_dir.display()
                    ));
                };
                Ok(vec![bootstrap.display().to_string()])
            }
            RuntimeKind::Python(_) => {
                let python =
                    std::env::var("PORTSIDE_LOCAL_PYTHON").unwrap_or_else(|_| "python3".into());
                let mut cmd = vec![
                    python,
                    "-m".into(),
                    "awslambdaric".into(),
                    cfg.handler.clone(),
                ];
                let wrapper = match cfg.user_env("AWS_LAMBDA_EXEC_WRAPPER") {
                    Some("") => None,
                    Some(w) => Some(match &self.layer {
                        Some(l) => l.translate(w),
                        None => PathBuf::from(w),
                    }),
                    None => self.layer.as_ref().and_then(|l| l.bootstrap()),
                };
                if let Some(w) = wrapper {
                    if !w.is_file() {
                        return Err(format!(
                            "the exec wrapper {} does not exist (AWS_LAMBDA_EXEC_WRAPPER; /opt/ means the layer)",
                            w.display()
                        ));
                    }
                    cmd.insert(0, w.display().to_string());
                }
                Ok(cmd)
            }
        }
    }

    fn spawn(
        self: &Arc<Self>,
        name: &str,
        kind: Kind,
        argv: &[String],
        env: &[(String, String)],
    ) -> Result<(), String> {
        let Some((program, args)) = argv.split_first() else {
            return Err("empty command".into());
        };
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&self.cfg.function_dir)
            .stdin(Stdio::null())
            .process_group(0)
            .kill_on_drop(false);
        // SAFETY: the closure runs in the child between fork and exec and
        // only calls signal(2), which is async-signal-safe. It undoes a
        // shell's SIG_IGN for SIGINT/SIGQUIT (a backgrounded portside-local,
        // as serve.sh runs it, inherits them), so the function's processes
        // get default dispositions as on Lambda.
        unsafe {
            cmd.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                libc::signal(libc::SIGQUIT, libc::SIG_DFL);
                Ok(())
            });
        }
        // The runtime's output is always read: its last lines explain a
        // failed init even with --quiet.
        let read_output = self.cfg.show_logs || kind == Kind::Runtime;
        if read_output {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        } else {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name} ({program}): {e}"))?;
        let pid = child.id().map(|p| p as i32).unwrap_or(0);
        reaper::watch(pid);
        let output = Arc::new(Output {
            own_prefix: format!("[{name}]"),
            shown_prefix: match self.cfg.environment {
                Some(n) => format!("[{name}#{n}]"),
                None => format!("[{name}]"),
            },
            show: self.cfg.show_logs,
            tail: (kind == Kind::Runtime).then(|| Arc::clone(&self.tail)),
        });
        if let Some(out) = child.stdout.take() {
            tokio::spawn(procs::copy_lines(Arc::clone(&output), out));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(procs::copy_lines(output, err));
        }
        self.lock_procs().list.push(Proc {
            name: name.to_string(),
            kind,
            pgid: pid,
        });
        // Watch for the process dying: during init that fails init, during
        // an invocation it ends it, and either way the next one re-inits.
        let this = Arc::clone(self);
        let generation = self.api.generation();
        let name = name.to_string();
        tokio::spawn(async move {
            let status = child.wait().await;
            if this.api.generation() != generation || this.broken.load(Ordering::SeqCst) {
                return;
            }
            let how = match status {
                Ok(s) => procs::describe_exit(s),
                Err(e) => e.to_string(),
            };
            let err = FunctionError::process_exited(ProcessExit {
                extension: (kind == Kind::Extension).then_some(name),
                how,
            });
            this.broken.store(true, Ordering::SeqCst);
            this.died.notify_waiters();
            if this.api.init_state() == InitState::Pending {
                this.api.fail_init(err);
            } else {
                this.api.abort_inflight(err);
            }
        });
        Ok(())
    }

    /// Starts the processes (if not running) and waits for init; reports and
    /// cleans up a failure. The caller holds `serial`.
    async fn init_now(self: &Arc<Self>, init_timeout: Duration) -> InitState {
        if self.stopping.load(Ordering::SeqCst) {
            return InitState::Failed(FunctionError::lambda(
                "Sandbox.Stopped",
                "the sandbox is shutting down",
            ));
        }
        let failed_before = matches!(
            self.api.init_state(),
            InitState::Failed(_) | InitState::TimedOut
        );
        if self.broken.load(Ordering::SeqCst)
            || (failed_before && self.started.load(Ordering::SeqCst))
        {
            self.teardown(ShutdownReason::Failure).await;
        }
        let state = match self.start(init_timeout).await {
            Err(e) => InitState::Failed(e),
            Ok(()) => tokio::select! {
                state = self.api.wait_init() => state,
                _ = self.stopped() => return InitState::Failed(FunctionError::lambda(
                    "Sandbox.Stopped",
                    "the sandbox was stopped during init",
                )),
            },
        };
        if state == InitState::Ready {
            self.init_succeeded();
            // Lambda freezes an initialised sandbox until its first event.
            self.freeze_when_idle().await;
        } else {
            self.init_failed(&state, init_timeout);
            self.teardown(ShutdownReason::Failure).await;
        }
        state
    }

    async fn start(self: &Arc<Self>, init_timeout: Duration) -> Result<(), FunctionError> {
        if self.started.load(Ordering::SeqCst) {
            return Ok(());
        }
        let extensions = self
            .layer
            .as_ref()
            .map(|l| l.extensions())
            .unwrap_or_default();
        self.api.reset_with_init_timeout(init_timeout);
        self.api.expect_extensions(extensions.len());
        self.broken.store(false, Ordering::SeqCst);
        self.lock_tail().clear();
        let fail = |e: String, error_type: &str| {
            let err = FunctionError::lambda(error_type, &e);
            self.api.fail_init(err.clone());
            err
        };
        // Something on the app's port would pass the new adapter's
        // readiness check in place of this function's app.
        if let Some((host, port)) = &self.app {
            if ports::accepts(host, *port) {
                return Err(fail(
                    report::port_taken(host, *port),
                    FunctionError::PORT_IN_USE,
                ));
            }
        }
        self.started.store(true, Ordering::SeqCst);
        let env = self.environment();
        for ext in &extensions {
            let name = ext
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| "extension".into());
            self.spawn(&name, Kind::Extension, &[ext.display().to_string()], &env)
                .map_err(|e| fail(e, "Runtime.InvalidEntrypoint"))?;
        }
        // Lambda starts the runtime once every extension has registered.
        if !extensions.is_empty() {
            let registered =
                tokio::time::timeout(init_timeout, self.api.wait_registered(extensions.len()));
            // Init cannot be ready before they all registered, so wait_init
            // returning here means init failed (a crash) or timed out.
            tokio::select! {
                r = registered => if r.is_err() { return Ok(()) },
                _ = self.api.wait_init() => return Ok(()),
                _ = self.stopped() => return Ok(()),
            }
        }
        let argv = self
            .runtime_command()
            .map_err(|e| fail(e, "Runtime.InvalidEntrypoint"))?;
        self.spawn("runtime", Kind::Runtime, &argv, &env)
            .map_err(|e| fail(e, "Runtime.InvalidEntrypoint"))?;
        Ok(())
    }

    fn lock_tail(&self) -> std::sync::MutexGuard<'_, VecDeque<String>> {
        crate::util::lock(&self.tail)
    }

    /// Records and prints a failed init (the full report once, a short line
    /// when the same failure repeats). Call before the processes are
    /// stopped: whether the app listens is part of the report.
    fn init_failed(&self, state: &InitState, init_timeout: Duration) {
        let app_listening = self
            .app
            .as_ref()
            .is_some_and(|(host, port)| ports::accepts(host, *port));
        let wrapper_runs_handler = self.layer.as_ref().is_some_and(|l| l.bootstrap().is_some())
            && matches!(self.cfg.runtime, RuntimeKind::Python(_));
        let app_label = wrapper_runs_handler.then(|| match &self.cfg.app_command {
            Some(cmd) => format!("the app ({cmd})"),
            None => format!("the app (started by the handler {})", self.cfg.handler),
        });
        let tail: Vec<String> = self.lock_tail().iter().cloned().collect();
        let summary = report::describe(&report::Facts {
            state,
            init_timeout,
            tail,
            app: self.app.clone(),
            app_listening,
            app_label: app_label.as_deref(),
        });
        let (error, timed_out) = match state {
            InitState::Failed(e) => (e.clone(), false),
            _ => (runtime_api::init_timeout_error(), true),
        };
        let mut last = self.lock_failure();
        let repeated = last.as_ref().is_some_and(|l| l.summary == summary);
        if repeated {
            eprintln!(
                "portside-local: {}init failed again, for the same reason",
                self.cfg.who()
            );
        } else {
            eprintln!("portside-local: {}{summary}", self.cfg.who());
        }
        *last = Some(LastFailure {
            error,
            timed_out,
            summary,
        });
    }

    fn init_succeeded(&self) {
        if self.lock_failure().take().is_some() {
            eprintln!(
                "portside-local: {}init succeeded this time; the function is up",
                self.cfg.who()
            );
        }
    }

    /// The error to answer with at once, if init is known to be failing
    /// slowly (it timed out): starts the background retry if none runs.
    fn answer_at_once(self: &Arc<Self>) -> Option<FunctionError> {
        let last = self.lock_failure().clone()?;
        if self.retrying.load(Ordering::SeqCst) {
            return Some(last.error);
        }
        if !last.timed_out {
            return None;
        }
        if !self.retrying.swap(true, Ordering::SeqCst) {
            let this = Arc::clone(self);
            tokio::spawn(async move {
                let serial = Arc::clone(&this.serial);
                let _serial = serial.lock().await;
                // A retried init gets the function timeout, as on Lambda.
                let bound = this.cfg.timeout.max(this.cfg.init_timeout);
                this.init_now(bound).await;
                this.retrying.store(false, Ordering::SeqCst);
            });
        }
        Some(last.error)
    }

    async fn invoke(
        self: Arc<Self>,
        payload: Bytes,
        opts: InvokeOptions,
    ) -> Result<SandboxInvocation, InvokeRejected> {
        if payload.len() > self.api.config().max_request_bytes {
            return Err(InvokeRejected::PayloadTooLarge {
                size: payload.len(),
                limit: self.api.config().max_request_bytes,
            });
        }
        if self.stopping.load(Ordering::SeqCst) {
            return Err(InvokeRejected::ShuttingDown);
        }
        if let Some(error) = self.answer_at_once() {
            return Ok(SandboxInvocation::ended(Outcome::InitError(error)));
        }
        let serial = Arc::clone(&self.serial).lock_owned().await;
        if self.stopping.load(Ordering::SeqCst) {
            return Err(InvokeRejected::ShuttingDown);
        }
        let concurrent = self.cfg.max_concurrency > 1;
        // A crash, or an init that failed or timed out earlier (say, the
        // eager init of `serve`): this invocation starts a fresh sandbox.
        let failed_init = matches!(
            self.api.init_state(),
            InitState::Failed(_) | InitState::TimedOut
        );
        if self.broken.load(Ordering::SeqCst)
            || (failed_init && self.started.load(Ordering::SeqCst))
        {
            self.teardown(ShutdownReason::Failure).await;
        }
        if let Err(e) = self.start(self.cfg.init_timeout).await {
            let state = InitState::Failed(e.clone());
            self.init_failed(&state, self.cfg.init_timeout);
            self.teardown(ShutdownReason::Failure).await;
            drop(serial);
            return Ok(SandboxInvocation::ended(Outcome::InitError(e)));
        }
        self.thaw();
        let mut inv = self.api.start_invoke(payload, opts)?;
        let request_id = inv.request_id().to_string();
        let stream = inv.take_stream();
        let (tx, rx) = oneshot::channel();
        let this = Arc::clone(&self);
        let guard = if concurrent { None } else { Some(serial) };
        tokio::spawn(async move {
            let outcome = inv.outcome().await;
            let reset = match &outcome {
                Outcome::TimedOut(_) => Some(ShutdownReason::Timeout),
                Outcome::InitError(_) => Some(ShutdownReason::Failure),
                Outcome::Error(e) if e.is_crash() => Some(ShutdownReason::Failure),
                _ => None,
            };
            match &outcome {
                Outcome::InitError(_) => {
                    let state = this.api.init_state();
                    this.init_failed(&state, this.cfg.init_timeout);
                }
                _ => this.init_succeeded(),
            }
            let _ = tx.send(outcome);
            match reset {
                Some(reason) => this.teardown(reason).await,
                None => this.freeze_when_idle().await,
            }
            drop(guard);
        });
        Ok(SandboxInvocation {
            request_id,
            stream,
            outcome: rx,
        })
    }

    fn thaw(&self) {
        let mut procs = self.lock_procs();
        if procs.frozen {
            for p in &procs.list {
                signal_group(p.pgid, libc::SIGCONT);
            }
            procs.frozen = false;
        }
    }

    async fn freeze_when_idle(&self) {
        if !self.cfg.freeze || self.cfg.max_concurrency > 1 {
            return;
        }
        // Lambda freezes once the runtime and every extension called next.
        let idle = tokio::time::timeout(self.cfg.timeout, self.api.wait_idle());
        tokio::select! {
            r = idle => if r.is_err() {
                eprintln!(
                    "portside-local: {}not freezing: the runtime or an extension did not call next again",
                    self.cfg.who()
                );
                return;
            },
            _ = self.stopped() => return,
            // A dead process never calls next: the next invocation re-inits.
            _ = self.process_died() => return,
        }
        if self.stopping.load(Ordering::SeqCst) {
            return;
        }
        let groups: Vec<i32> = {
            let mut procs = self.lock_procs();
            if procs.frozen || self.broken.load(Ordering::SeqCst) {
                return;
            }
            for p in &procs.list {
                signal_group(p.pgid, libc::SIGSTOP);
            }
            procs.frozen = true;
            procs.list.iter().map(|p| p.pgid).collect()
        };
        // SIGSTOP is asynchronous: the freeze is done when the kernel has
        // stopped every process of the groups.
        for _ in 0..500 {
            if procs::all_stopped(&groups) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Stops every process: SIGTERM (spindown) or SIGKILL (after a failure)
    /// to the runtime, SHUTDOWN to the extensions registered for it, then
    /// SIGKILL for whatever is left at the deadline. At most
    /// [`SHUTDOWN_GRACE`] and a little more.
    async fn teardown(&self, reason: ShutdownReason) {
        if !self.started.load(Ordering::SeqCst) {
            return;
        }
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        // From here on, process exits are expected.
        self.broken.store(true, Ordering::SeqCst);
        let procs: Vec<(String, Kind, i32)> = {
            let mut procs = self.lock_procs();
            for p in &procs.list {
                signal_group(p.pgid, libc::SIGCONT);
            }
            procs.frozen = false;
            procs
                .list
                .iter()
                .map(|p| (p.name.clone(), p.kind, p.pgid))
                .collect()
        };
        let runtime: Vec<i32> = procs
            .iter()
            .filter(|p| p.1 == Kind::Runtime)
            .map(|p| p.2)
            .collect();
        let all: Vec<i32> = procs.iter().map(|p| p.2).collect();
        let signal = if reason == ShutdownReason::Spindown {
            libc::SIGTERM
        } else {
            libc::SIGKILL
        };
        for g in &runtime {
            signal_group(*g, signal);
        }
        // After a failure, or while init has not finished (a spindown during
        // an init retry), an extension that is not waiting for an event
        // cannot take SHUTDOWN: it is killed at once rather than awaited.
        let patient =
            reason == ShutdownReason::Spindown && self.api.init_state() == InitState::Ready;
        let wait = if patient {
            SHUTDOWN_GRACE
        } else {
            FAILURE_DELIVERY_WAIT
        };
        let report = self.api.shutdown_until(reason, SHUTDOWN_GRACE, wait).await;
        let ext_group = |name: &str| {
            procs
                .iter()
                .filter(|p| p.1 == Kind::Extension && p.0 == name)
                .map(|p| p.2)
                .collect::<Vec<i32>>()
        };
        // Wait for the runtime and the extensions that took SHUTDOWN. After a
        // failure, the others (stuck in init, or registered without
        // SHUTDOWN) cannot take it and are killed now; at spindown they get
        // until the deadline to finish.
        let mut awaited: Vec<i32> = runtime.clone();
        for name in &report.delivered {
            awaited.extend(ext_group(name));
        }
        if patient {
            awaited = all.clone();
        } else {
            for g in all.iter().filter(|g| !awaited.contains(g)) {
                signal_group(*g, libc::SIGKILL);
            }
        }
        while tokio::time::Instant::now() < deadline && any_alive(&awaited) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let late: Vec<String> = procs
            .iter()
            .filter(|p| p.1 == Kind::Extension && any_alive(&[p.2]))
            .map(|p| p.0.clone())
            .collect();
        for g in &all {
            signal_group(*g, libc::SIGKILL);
        }
        // SIGKILL is asynchronous too: wait until the groups are gone, so
        // that the app's port is free for the next start.
        let gone_by = tokio::time::Instant::now() + Duration::from_millis(500);
        while tokio::time::Instant::now() < gone_by && any_alive(&all) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if patient {
            for name in &report.missed {
                eprintln!(
                    "portside-local: {}the extension {name} was busy and never took its SHUTDOWN event within {} s; it was killed, as Lambda kills it",
                    self.cfg.who(),
                    SHUTDOWN_GRACE.as_secs()
                );
            }
            for name in late.iter().filter(|n| report.delivered.contains(n)) {
                eprintln!(
                    "portside-local: {}the extension {name} took its SHUTDOWN event but had not exited {} s later; it was killed, as Lambda kills it (make it exit once it has flushed)",
                    self.cfg.who(),
                    SHUTDOWN_GRACE.as_secs()
                );
            }
        }
        {
            let mut procs = self.lock_procs();
            for p in &procs.list {
                reaper::forget(p.pgid);
            }
            procs.list.clear();
        }
        self.started.store(false, Ordering::SeqCst);
    }
}
