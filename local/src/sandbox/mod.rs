//! The execution environment: the function's processes and their lifecycle
//! around a [`RuntimeApi`].
//!
//! It owns Lambda's environment variables, the order of start-up (every
//! extension starts and registers before the runtime starts, the runtime
//! through `AWS_LAMBDA_EXEC_WRAPPER` on managed runtimes), the process
//! groups (each process starts its own group, which its children inherit, so
//! a signal to the groups reaches every process of the function), freezing
//! (SIGSTOP once the runtime is blocked in `/next` and the extensions in
//! `event/next`, SIGCONT before the next event), reset (after a timeout,
//! crash or init failure: the runtime is killed, the extensions get
//! SHUTDOWN, then everything is killed; the next invocation inits afresh),
//! and the prefixed copies of the processes' output on stderr.

use crate::layer::Layer;
use crate::runtime_api::{
    self, Config, FunctionError, InitState, InvokeOptions, InvokeRejected, Outcome, RuntimeApi,
    ShutdownReason, StreamEvent,
};
use bytes::Bytes;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{mpsc, oneshot};

/// How long extensions get for SHUTDOWN before everything is killed
/// (Lambda: 2 s with external extensions).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

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
    /// The unpacked function zip (`LAMBDA_TASK_ROOT`).
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
        }
    }

    fn user_env(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
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

/// A running function: its Runtime API, its processes and its lifecycle.
pub struct Sandbox {
    api: Arc<RuntimeApi>,
    cfg: SandboxConfig,
    layer: Option<Arc<Layer>>,
    procs: Arc<Mutex<Procs>>,
    /// Set when a process died or an invocation failed in a way that needs
    /// a fresh init.
    broken: Arc<AtomicBool>,
    started: Arc<AtomicBool>,
    serial: Arc<tokio::sync::Mutex<()>>,
    log_stream: String,
}

/// An invocation running in a [`Sandbox`].
pub struct SandboxInvocation {
    /// The request id.
    pub request_id: String,
    /// Stream events, when asked for ([`InvokeOptions::watch_stream`]).
    pub stream: Option<mpsc::Receiver<StreamEvent>>,
    outcome: oneshot::Receiver<Outcome>,
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
}

fn signal_groups(procs: &Procs, signal: i32) {
    for p in &procs.list {
        signal_group(p.pgid, signal);
    }
}

fn signal_group(pgid: i32, signal: i32) {
    if pgid > 1 {
        // SAFETY: kill(2) with a negative pid signals a process group we
        // created; it has no memory-safety preconditions.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let procs = self.procs.lock().unwrap_or_else(|p| p.into_inner());
        signal_groups(&procs, libc::SIGCONT);
        signal_groups(&procs, libc::SIGKILL);
    }
}

impl Sandbox {
    /// Starts the Runtime API (on 127.0.0.1, an OS-chosen port). Processes
    /// start with the first invocation (or [`Sandbox::init`]).
    pub async fn new(cfg: SandboxConfig, layer: Option<Layer>) -> Result<Sandbox, String> {
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
        let now = crate::util::UtcTime::now();
        Ok(Sandbox {
            api: Arc::new(api),
            layer: layer.map(Arc::new),
            procs: Arc::new(Mutex::new(Procs::default())),
            broken: Arc::new(AtomicBool::new(false)),
            started: Arc::new(AtomicBool::new(false)),
            serial: Arc::new(tokio::sync::Mutex::new(())),
            log_stream: format!(
                "{}/[$LATEST]{}",
                now.ymd_slashes(),
                crate::util::random_hex(32)
            ),
            cfg,
        })
    }

    /// The Runtime API.
    pub fn api(&self) -> &RuntimeApi {
        &self.api
    }

    /// The configuration.
    pub fn config(&self) -> &SandboxConfig {
        &self.cfg
    }

    /// Whether the processes are stopped now.
    pub fn is_frozen(&self) -> bool {
        self.lock_procs().frozen
    }

    /// The function's processes: name (extension file name or `runtime`)
    /// and process group id (the pid of the process we started).
    pub fn processes(&self) -> Vec<(String, i32)> {
        self.lock_procs()
            .list
            .iter()
            .map(|p| (p.name.clone(), p.pgid))
            .collect()
    }

    /// Waits until the last invocation's aftermath (freeze or reset) is done.
    pub async fn settle(&self) {
        drop(self.serial.lock().await);
    }

    fn lock_procs(&self) -> std::sync::MutexGuard<'_, Procs> {
        self.procs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The environment every process of the function gets.
    pub fn environment(&self) -> Vec<(String, String)> {
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

    /// The runtime's command line: the wrapper (if any), then the runtime.
    pub fn runtime_command(&self) -> Result<Vec<String>, String> {
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
        &self,
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
        if self.cfg.show_logs {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        } else {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name} ({program}): {e}"))?;
        let pid = child.id().map(|p| p as i32).unwrap_or(0);
        let prefix = format!("[{name}]");
        if let Some(out) = child.stdout.take() {
            tokio::spawn(copy_lines(prefix.clone(), out));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(copy_lines(prefix.clone(), err));
        }
        self.lock_procs().list.push(Proc {
            name: name.to_string(),
            kind,
            pgid: pid,
        });
        // Watch for the process dying: during init that fails init, during
        // an invocation it ends it, and either way the next one re-inits.
        let api = Arc::clone(&self.api);
        let broken = Arc::clone(&self.broken);
        let generation = self.api.generation();
        let name = name.to_string();
        tokio::spawn(async move {
            let status = child.wait().await;
            if api.generation() != generation || broken.load(Ordering::SeqCst) {
                return;
            }
            let how = match status {
                Ok(s) => describe_exit(s),
                Err(e) => e.to_string(),
            };
            let (error_type, message) = match kind {
                Kind::Runtime => (
                    "Runtime.ExitError",
                    format!("Runtime exited with error: {how}"),
                ),
                Kind::Extension => ("Extension.Crash", format!("Extension {name} exited: {how}")),
            };
            broken.store(true, Ordering::SeqCst);
            let err = FunctionError::lambda(error_type, &message);
            if api.init_state() == InitState::Pending {
                api.fail_init(err);
            } else {
                api.abort_inflight(err);
            }
        });
        Ok(())
    }

    /// Starts the processes and waits for init (at most the init timeout).
    pub async fn init(&self) -> InitState {
        let _serial = self.serial.lock().await;
        if let Err(e) = self.start().await {
            return InitState::Failed(e);
        }
        let state = self.api.wait_init().await;
        if state == InitState::Ready {
            // Lambda freezes an initialised sandbox until its first event.
            self.handle().freeze_when_idle().await;
        }
        state
    }

    async fn start(&self) -> Result<(), FunctionError> {
        if self.started.load(Ordering::SeqCst) {
            return Ok(());
        }
        let extensions = self
            .layer
            .as_ref()
            .map(|l| l.extensions())
            .unwrap_or_default();
        self.api.reset();
        self.api.expect_extensions(extensions.len());
        self.broken.store(false, Ordering::SeqCst);
        self.started.store(true, Ordering::SeqCst);
        let env = self.environment();
        let spawn_error = |e: String| {
            let err = FunctionError::lambda("Runtime.InvalidEntrypoint", &e);
            self.api.fail_init(err.clone());
            err
        };
        for ext in &extensions {
            let name = ext
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| "extension".into());
            self.spawn(&name, Kind::Extension, &[ext.display().to_string()], &env)
                .map_err(spawn_error)?;
        }
        // Lambda starts the runtime once every extension has registered.
        if !extensions.is_empty() {
            let registered = tokio::time::timeout(
                self.cfg.init_timeout,
                self.api.wait_registered(extensions.len()),
            );
            // Init cannot be ready before they all registered, so wait_init
            // returning here means init failed (a crash) or timed out.
            tokio::select! {
                r = registered => if r.is_err() { return Ok(()) },
                _ = self.api.wait_init() => return Ok(()),
            }
        }
        let argv = self.runtime_command().map_err(spawn_error)?;
        self.spawn("runtime", Kind::Runtime, &argv, &env)
            .map_err(spawn_error)?;
        Ok(())
    }

    /// Sends one event; returns once the event is queued. The outcome (and
    /// stream events) arrive through the returned handle; the sandbox is
    /// frozen, or reset, after the outcome.
    pub async fn invoke(
        &self,
        payload: Bytes,
        opts: InvokeOptions,
    ) -> Result<SandboxInvocation, InvokeRejected> {
        if payload.len() > self.api.config().max_request_bytes {
            return Err(InvokeRejected::PayloadTooLarge {
                size: payload.len(),
                limit: self.api.config().max_request_bytes,
            });
        }
        let serial = Arc::clone(&self.serial).lock_owned().await;
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
        if let Err(e) = self.start().await {
            drop(serial);
            let (tx, rx) = oneshot::channel();
            let _ = tx.send(Outcome::InitError(e));
            self.teardown(ShutdownReason::Failure).await;
            return Ok(SandboxInvocation {
                request_id: String::new(),
                stream: None,
                outcome: rx,
            });
        }
        self.thaw();
        let mut inv = self.api.start_invoke(payload, opts)?;
        let request_id = inv.request_id().to_string();
        let stream = inv.take_stream();
        let (tx, rx) = oneshot::channel();
        let this = self.handle();
        let guard = if concurrent { None } else { Some(serial) };
        tokio::spawn(async move {
            let outcome = inv.outcome().await;
            let reset = match &outcome {
                Outcome::TimedOut(_) => Some(ShutdownReason::Timeout),
                Outcome::InitError(_) => Some(ShutdownReason::Failure),
                Outcome::Error(e)
                    if e.error_type.starts_with("Runtime.ExitError")
                        || e.error_type == "Extension.Crash" =>
                {
                    Some(ShutdownReason::Failure)
                }
                _ => None,
            };
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

    fn handle(&self) -> SandboxHandle {
        SandboxHandle {
            api: Arc::clone(&self.api),
            procs: Arc::clone(&self.procs),
            broken: Arc::clone(&self.broken),
            started: Arc::clone(&self.started),
            freeze: self.cfg.freeze && self.cfg.max_concurrency <= 1,
            idle_bound: self.cfg.timeout,
        }
    }

    fn thaw(&self) {
        let mut procs = self.lock_procs();
        if procs.frozen {
            signal_groups(&procs, libc::SIGCONT);
            procs.frozen = false;
        }
    }

    async fn teardown(&self, reason: ShutdownReason) {
        self.handle().teardown(reason).await
    }

    /// Ends the sandbox as Lambda's spindown does: SIGTERM to the runtime,
    /// SHUTDOWN to the extensions, SIGKILL for whatever is left after the
    /// grace period.
    pub async fn shutdown(&self) {
        let _serial = self.serial.lock().await;
        self.handle().teardown(ShutdownReason::Spindown).await
    }
}

/// The parts of a [`Sandbox`] its background tasks need.
struct SandboxHandle {
    api: Arc<RuntimeApi>,
    procs: Arc<Mutex<Procs>>,
    broken: Arc<AtomicBool>,
    started: Arc<AtomicBool>,
    freeze: bool,
    idle_bound: Duration,
}

impl SandboxHandle {
    fn lock_procs(&self) -> std::sync::MutexGuard<'_, Procs> {
        self.procs.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn freeze_when_idle(&self) {
        if !self.freeze {
            return;
        }
        // Lambda freezes once the runtime and every extension called next.
        if tokio::time::timeout(self.idle_bound, self.api.wait_idle())
            .await
            .is_err()
        {
            eprintln!(
                "portside-local: not freezing: the runtime or an extension did not call next again"
            );
            return;
        }
        let groups: Vec<i32> = {
            let mut procs = self.lock_procs();
            if procs.frozen || self.broken.load(Ordering::SeqCst) {
                return;
            }
            signal_groups(&procs, libc::SIGSTOP);
            procs.frozen = true;
            procs.list.iter().map(|p| p.pgid).collect()
        };
        // SIGSTOP is asynchronous: the freeze is done when the kernel has
        // stopped every process of the groups.
        for _ in 0..500 {
            if all_stopped(&groups) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    async fn teardown(&self, reason: ShutdownReason) {
        if !self.started.load(Ordering::SeqCst) {
            return;
        }
        // From here on, process exits are expected.
        self.broken.store(true, Ordering::SeqCst);
        let (runtime_groups, all_groups) = {
            let mut procs = self.lock_procs();
            signal_groups(&procs, libc::SIGCONT);
            procs.frozen = false;
            let runtime: Vec<i32> = procs
                .list
                .iter()
                .filter(|p| p.kind == Kind::Runtime)
                .map(|p| p.pgid)
                .collect();
            let all: Vec<i32> = procs.list.iter().map(|p| p.pgid).collect();
            (runtime, all)
        };
        let signal = if reason == ShutdownReason::Spindown {
            libc::SIGTERM
        } else {
            libc::SIGKILL
        };
        for g in &runtime_groups {
            signal_group(*g, signal);
        }
        let report = self.api.shutdown(reason, SHUTDOWN_GRACE).await;
        if !report.missed.is_empty() {
            eprintln!(
                "portside-local: SHUTDOWN did not reach {}",
                report.missed.join(", ")
            );
        }
        // Give extensions what is left of the grace period to exit.
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        while tokio::time::Instant::now() < deadline && all_groups.iter().any(|g| group_alive(*g)) {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        for g in &all_groups {
            signal_group(*g, libc::SIGKILL);
        }
        self.lock_procs().list.clear();
        self.started.store(false, Ordering::SeqCst);
    }
}

/// Whether every process in `groups` is stopped (or dead), per /proc.
fn all_stopped(groups: &[i32]) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return true;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command name: state, ppid, pgrp, ...
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let mut fields = stat[close + 1..].split_whitespace();
        let state = fields.next().unwrap_or("");
        let pgrp: i32 = fields.nth(1).and_then(|f| f.parse().ok()).unwrap_or(0);
        if groups.contains(&pgrp) && !matches!(state, "T" | "t" | "Z" | "X") {
            return false;
        }
    }
    true
}

fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    pgid > 1 && unsafe { libc::kill(-pgid, 0) } == 0
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => status.to_string(),
    }
}

async fn copy_lines(prefix: String, reader: impl tokio::io::AsyncRead + Unpin) {
    let mut lines = BufReader::new(reader).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        // A process that already names itself (portside's "[portside] ...") is not named twice.
        if line.starts_with(&prefix) {
            eprintln!("{line}");
        } else {
            eprintln!("{prefix} {line}");
        }
    }
}
