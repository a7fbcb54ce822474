//! One execution environment of the endpoint: the app's process (in a
//! process group of its own, watched by the reaper) listening on its own
//! loopback `AWS_LAMBDA_HTTP_ENDPOINT`; its init (ready once the port
//! accepts a connection, failed when the app exits first or is not
//! listening 10 s after its start); the requests it has room for; its
//! output, each line with the request id when exactly one request is in
//! flight; and its stop (no new requests, the ones in flight finish,
//! SIGTERM, SIGKILL 1 s later), with the system events of each step
//! (web-functions-env-lifecycle; local/WEBFUNCTIONS.md, "Lifecycle").
//!
//! Owns: one environment's process and phase.
//! Must not: choose which environment serves a request, decide when to
//! scale (`fleet`), or touch requests beyond counting and naming them.

use super::answers::{error_type, Answer};
use super::env::{app_environment, INITIALIZATION_TYPE};
use super::ids;
use super::logs::{millis, Log, Stream, Who};
use super::options::{WebConfig, INIT_LIMIT, SIGTERM_GRACE};
use crate::sandbox::procs::{self, PipeWatch};
use crate::sandbox::{ports, reaper};
use crate::util::lock;
use serde_json::json;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};

/// Where an environment is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Started; the app is not listening yet.
    Initializing,
    /// The app listens: requests are routed to it.
    Ready,
    /// Init failed: its error type and why.
    Failed(&'static str, String),
    /// The app exited after init (how).
    Exited(String),
}

/// One execution environment.
#[derive(Debug)]
pub struct Instance {
    /// 1 for the first environment the endpoint started, and so on.
    pub number: usize,
    /// The instance id of system events.
    pub id: String,
    /// `AWS_LAMBDA_HTTP_ENDPOINT`.
    pub endpoint: SocketAddr,
    /// `lambda-web-logstream`.
    pub log_stream: String,
    log: Arc<Log>,
    phase: watch::Sender<Phase>,
    pgid: AtomicI32,
    started: Instant,
    ready_at: Mutex<Option<Instant>>,
    reserved: AtomicUsize,
    released: Notify,
    idle_since: Mutex<Instant>,
    served: AtomicU64,
    stopping: AtomicBool,
    tracked: Mutex<Vec<String>>,
    pipes: Mutex<Vec<Arc<PipeWatch>>>,
    stopped: tokio::sync::OnceCell<()>,
}

impl Instance {
    /// Starts environment `number`: picks its port, starts the app, and
    /// watches its init in the background.
    pub fn start(number: usize, cfg: &WebConfig, log: Arc<Log>) -> Arc<Instance> {
        let port = ports::free_port();
        let id = ids::instance_id();
        let inst = Arc::new(Instance {
            number,
            log_stream: ids::log_stream(&id),
            id,
            endpoint: SocketAddr::from(([127, 0, 0, 1], *port.as_ref().unwrap_or(&0))),
            log,
            phase: watch::Sender::new(Phase::Initializing),
            pgid: AtomicI32::new(0),
            started: Instant::now(),
            ready_at: Mutex::new(None),
            reserved: AtomicUsize::new(0),
            released: Notify::new(),
            idle_since: Mutex::new(Instant::now()),
            served: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            tracked: Mutex::new(Vec::new()),
            pipes: Mutex::new(Vec::new()),
            stopped: tokio::sync::OnceCell::new(),
        });
        inst.platform(
            "platform.initStart",
            json!({ "initializationType": INITIALIZATION_TYPE, "phase": "init" }),
        );
        let spawned = port.and_then(|_| inst.spawn(cfg));
        match spawned {
            Ok(()) => {
                tokio::spawn(Arc::clone(&inst).await_listening());
            }
            Err(e) => inst.fail_init(error_type::ENTRYPOINT, e),
        }
        inst
    }

    fn platform(&self, kind: &str, fields: serde_json::Value) {
        self.log.platform(
            kind,
            Who {
                instance_id: &self.id,
            },
            fields,
        );
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase.borrow().clone()
    }

    /// Starts the app's process with its output copied and its exit watched.
    fn spawn(self: &Arc<Self>, cfg: &WebConfig) -> Result<(), String> {
        let env = app_environment(cfg, &self.endpoint.to_string());
        let mut cmd = procs::group_command(&cfg.command, &env, &cfg.dir)?;
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start the app ({}): {e}", cfg.command.join(" ")))?;
        let pgid = child.id().map(|p| p as i32).unwrap_or(0);
        self.pgid.store(pgid, Ordering::SeqCst);
        reaper::watch(pgid);
        if let Some(out) = child.stdout.take() {
            self.copy_output(out.as_raw_fd(), out, Stream::Stdout);
        }
        if let Some(err) = child.stderr.take() {
            self.copy_output(err.as_raw_fd(), err, Stream::Stderr);
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let how = match child.wait().await {
                Ok(s) => procs::describe_exit(s),
                Err(e) => e.to_string(),
            };
            this.exited(how);
        });
        Ok(())
    }

    /// Copies one of the app's pipes to the log, line by line.
    fn copy_output(
        self: &Arc<Self>,
        fd: std::os::fd::RawFd,
        reader: impl tokio::io::AsyncRead + Unpin + Send + 'static,
        stream: Stream,
    ) {
        let watch = PipeWatch::new(fd);
        lock(&self.pipes).push(Arc::clone(&watch));
        let this = Arc::clone(self);
        tokio::spawn(procs::for_each_line(reader, watch, move |line| {
            let id = this.current_request();
            this.log.app(stream, &line, id.as_deref());
        }));
    }

    /// Polls the endpoint until the app accepts a connection, it exits, or
    /// 10 s pass since its start.
    async fn await_listening(self: Arc<Self>) {
        let deadline = self.started + INIT_LIMIT;
        loop {
            if self.phase() != Phase::Initializing || self.stopping.load(Ordering::SeqCst) {
                return;
            }
            let attempt = tokio::time::timeout(
                Duration::from_millis(200),
                tokio::net::TcpStream::connect(self.endpoint),
            );
            if let Ok(Ok(_)) = attempt.await {
                self.became_ready();
                return;
            }
            if Instant::now() >= deadline {
                let why = format!(
                    "the app was not listening on {} (AWS_LAMBDA_HTTP_ENDPOINT) {} s after it started; bind exactly that host and port",
                    self.endpoint,
                    INIT_LIMIT.as_secs()
                );
                self.fail_init(error_type::INIT_TIMEOUT, why);
                procs::signal_group(self.pgid.load(Ordering::SeqCst), libc::SIGKILL);
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn became_ready(&self) {
        let changed = self.phase.send_if_modified(|p| {
            let init = *p == Phase::Initializing;
            if init {
                *p = Phase::Ready;
            }
            init
        });
        if !changed {
            return;
        }
        let now = Instant::now();
        *lock(&self.ready_at) = Some(now);
        *lock(&self.idle_since) = now;
        self.platform(
            "platform.initReport",
            json!({
                "initializationType": INITIALIZATION_TYPE,
                "phase": "init",
                "status": "success",
                "metrics": { "durationMs": millis(now - self.started) },
            }),
        );
        self.platform("platform.invokeStart", json!({}));
    }

    /// Fails init (once): the initReport record and a line that says why.
    fn fail_init(&self, error_type: &'static str, why: String) {
        let changed = self.phase.send_if_modified(|p| {
            let init = *p == Phase::Initializing;
            if init {
                *p = Phase::Failed(error_type, why.clone());
            }
            init
        });
        if !changed {
            return;
        }
        self.platform(
            "platform.initReport",
            json!({
                "initializationType": INITIALIZATION_TYPE,
                "phase": "init",
                "status": "failure",
                "errorType": error_type,
                "metrics": { "durationMs": millis(self.started.elapsed()) },
            }),
        );
        eprintln!(
            "portside-local: execution environment #{} failed its init ({error_type}): {why}",
            self.number
        );
    }

    /// The app's process exited.
    fn exited(&self, how: String) {
        if self.stopping.load(Ordering::SeqCst) {
            return;
        }
        match self.phase() {
            Phase::Initializing => {
                let why = format!(
                    "the app exited ({how}) before it listened on {} (AWS_LAMBDA_HTTP_ENDPOINT)",
                    self.endpoint
                );
                self.fail_init(error_type::EXIT, why);
            }
            Phase::Ready => {
                self.phase.send_replace(Phase::Exited(how.clone()));
                eprintln!(
                    "portside-local: the app of execution environment #{} exited ({how}); the next request starts a new one",
                    self.number
                );
            }
            Phase::Failed(..) | Phase::Exited(_) => {}
        }
        // What it left in its group goes with it, as the environment does.
        let pgid = self.pgid.load(Ordering::SeqCst);
        procs::signal_group(pgid, libc::SIGKILL);
        reaper::forget(pgid);
    }

    /// Waits for the end of init: `Ok` once the app listens (even if the
    /// environment stops since: a request that got a place is served), else
    /// the answer for the requests that waited.
    pub async fn ready(&self) -> Result<(), Answer> {
        let mut rx = self.phase.subscribe();
        loop {
            let phase = rx.borrow_and_update().clone();
            match phase {
                Phase::Ready => return Ok(()),
                Phase::Failed(t, _) if t == error_type::STOPPING => return Err(Answer::Stopping),
                Phase::Failed(t, why) => return Err(Answer::InitFailed(t, why)),
                Phase::Exited(how) => {
                    let why = format!("the app exited ({how})");
                    return Err(Answer::AppFailed(error_type::EXIT, why));
                }
                Phase::Initializing => {}
            }
            if rx.changed().await.is_err() {
                return Err(Answer::Stopping);
            }
        }
    }

    /// Takes a place for one request if this environment serves (or will
    /// serve) requests and has fewer than `max` of them.
    pub fn try_reserve(&self, max: usize) -> bool {
        if !self.is_live() {
            return false;
        }
        self.reserved
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }

    /// Takes the first place of a new environment, whatever its phase.
    pub fn reserve_first(&self) {
        self.reserved.fetch_add(1, Ordering::SeqCst);
    }

    /// Gives a place back.
    pub fn release(&self) {
        self.reserved.fetch_sub(1, Ordering::SeqCst);
        *lock(&self.idle_since) = Instant::now();
        self.released.notify_waiters();
    }

    /// Counts a request handed to the app.
    pub fn count_served(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
    }

    /// Initializing or ready, and not stopping.
    pub fn is_live(&self) -> bool {
        matches!(self.phase(), Phase::Initializing | Phase::Ready)
            && !self.stopping.load(Ordering::SeqCst)
    }

    /// How long it has had nothing to do, when ready and idle.
    pub fn idle_for(&self) -> Option<Duration> {
        let idle = self.phase() == Phase::Ready && self.reserved.load(Ordering::SeqCst) == 0;
        idle.then(|| lock(&self.idle_since).elapsed())
    }

    /// Stops routing to it (true if it was live). The fleet calls this
    /// under its lock, so no request takes a place after it.
    pub fn mark_stopping(&self) -> bool {
        let live = self.is_live();
        self.stopping.store(true, Ordering::SeqCst);
        live
    }

    /// Names `id` as in flight (for the app's log lines) until the guard
    /// drops and the app's output written by then is copied.
    pub fn track(self: &Arc<Self>, id: &str) -> Tracked {
        lock(&self.tracked).push(id.to_string());
        Tracked {
            instance: Arc::clone(self),
            id: id.to_string(),
        }
    }

    /// The request in flight when there is exactly one.
    fn current_request(&self) -> Option<String> {
        let t = lock(&self.tracked);
        (t.len() == 1).then(|| t[0].clone())
    }

    fn drained(&self) -> bool {
        lock(&self.pipes).iter().all(|p| p.drained())
    }
}

/// A request in flight, for the log: see [`Instance::track`].
#[derive(Debug)]
pub struct Tracked {
    instance: Arc<Instance>,
    id: String,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let instance = Arc::clone(&self.instance);
        let id = std::mem::take(&mut self.id);
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            lock(&instance.tracked).retain(|t| *t != id);
            return;
        };
        rt.spawn(async move {
            // Lines the app wrote while serving it are still its own.
            let until = Instant::now() + Duration::from_millis(100);
            while !instance.drained() && Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            lock(&instance.tracked).retain(|t| *t != id);
        });
    }
}

impl Instance {
    /// Stops it: routing has stopped (`mark_stopping`); the requests in
    /// flight may finish for `drain` at most; then SIGTERM, and SIGKILL
    /// after 1 s. `why` is the spinDownStart reason. A second caller waits
    /// for the first one's stop.
    pub async fn stop(&self, drain: Duration, why: &str) {
        self.stopped
            .get_or_init(|| self.stop_once(drain, why))
            .await;
    }

    async fn stop_once(&self, drain: Duration, why: &str) {
        self.stopping.store(true, Ordering::SeqCst);
        self.phase.send_if_modified(|p| {
            let init = *p == Phase::Initializing;
            if init {
                *p = Phase::Failed(error_type::STOPPING, "the endpoint is stopping".into());
            }
            init
        });
        let until = Instant::now() + drain;
        while self.reserved.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            let wait = self.released.notified();
            let _ = tokio::time::timeout(Duration::from_millis(50), wait).await;
        }
        if let Some(since) = *lock(&self.ready_at) {
            self.platform(
                "platform.invokeReport",
                json!({ "metrics": {
                    "durationMs": millis(since.elapsed()),
                    "requestCount": self.served.load(Ordering::Relaxed),
                }}),
            );
        }
        self.platform("platform.spinDownStart", json!({ "reason": why }));
        let started = Instant::now();
        let status = self.terminate().await;
        self.platform(
            "platform.spinDownReport",
            json!({ "status": status, "metrics": { "durationMs": millis(started.elapsed()) } }),
        );
    }

    /// SIGTERM to the app's group, SIGKILL 1 s later if any of it lives:
    /// "success" or "timeout".
    async fn terminate(&self) -> &'static str {
        let pgid = self.pgid.load(Ordering::SeqCst);
        if pgid <= 1 {
            return "success";
        }
        procs::signal_group(pgid, libc::SIGTERM);
        let grace = Instant::now() + SIGTERM_GRACE;
        while procs::any_alive(&[pgid]) && Instant::now() < grace {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let status = if procs::any_alive(&[pgid]) {
            procs::signal_group(pgid, libc::SIGCONT);
            procs::signal_group(pgid, libc::SIGKILL);
            let gone = Instant::now() + Duration::from_secs(2);
            while procs::any_alive(&[pgid]) && Instant::now() < gone {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            "timeout"
        } else {
            "success"
        };
        reaper::forget(pgid);
        status
    }

    /// SIGKILL to the app's group at once (a second Ctrl-C).
    pub fn kill(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let pgid = self.pgid.load(Ordering::SeqCst);
        procs::signal_group(pgid, libc::SIGKILL);
        reaper::forget(pgid);
    }
}
