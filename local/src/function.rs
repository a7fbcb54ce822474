//! A function as Lambda scales it: up to N execution environments
//! ([`Sandbox`]es), each with its own extension, runtime and app processes,
//! its own Runtime API, its own `TMPDIR` and its own cold start.
//!
//! An invocation goes to the lowest-numbered environment with room for it
//! (one invocation at a time, or `--concurrency` at once with Managed
//! Instances); when every running environment is busy and fewer than N run,
//! a new one starts for it (a cold start, printed as such); when N are busy,
//! it waits for the first to free up. (Lambda would throttle at its
//! concurrency limit instead; locally waiting is more useful.) A function
//! whose limit is its reserved concurrency ([`AtLimit::Throttle`], as
//! `up` makes it) throttles a synchronous invocation there instead, as
//! Lambda does; an event source's invocation still waits, as Lambda
//! retries those. Environments are frozen independently, reused warm, and
//! shut down together.
//!
//! Each environment's app gets its own port: environment 1 uses the port
//! the function is configured with (`PORT`, or the adapter's
//! `PORTSIDE_PORT`/`AWS_LWA_PORT`, default 8080); environment N > 1 gets a
//! free port, set in every one of those variables that is set (and in
//! `PORT`), and in the readiness-check port variables. The app must listen
//! on `$PORT`, as portside asks of it anyway. This module does not touch
//! processes itself: the sandboxes do.

use crate::layer::Layer;
use crate::runtime_api::{InitState, InvokeOptions, InvokeRejected, Outcome};
use crate::sandbox::ports::{self, PORT_VARS, READINESS_PORT_VARS};
use crate::sandbox::{Sandbox, SandboxConfig, SandboxInvocation};
use bytes::Bytes;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{oneshot, Notify};

struct Environment {
    index: usize,
    sandbox: Arc<Sandbox>,
    /// Invocations running (or settling) in it.
    busy: usize,
}

#[derive(Default)]
struct Pool {
    environments: Vec<Environment>,
    /// Environments being created (they count towards the limit).
    starting: usize,
    /// A restart (`--watch`) is replacing the environments: new
    /// invocations wait for it.
    restarting: bool,
}

/// What a synchronous invocation gets when every environment is busy and
/// no other may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtLimit {
    /// It waits for the first to free up (the limit is a local one).
    Wait,
    /// It is throttled ([`InvokeRejected::Throttled`]): the limit is the
    /// function's reserved concurrency, past which Lambda throttles.
    Throttle,
}

/// A function with up to `max_environments` execution environments.
pub struct Function {
    base: SandboxConfig,
    layer: Option<Arc<Layer>>,
    max_environments: usize,
    at_limit: AtLimit,
    per_environment: usize,
    pool: Mutex<Pool>,
    changed: Notify,
    stopping: AtomicBool,
    /// Each environment's /tmp lives under here; removed on drop.
    scratch: PathBuf,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

impl Function {
    /// Prepares the function; environment 1 exists (not started) once this
    /// returns.
    pub async fn new(
        base: SandboxConfig,
        layer: Option<Layer>,
        max_environments: usize,
    ) -> Result<Arc<Function>, String> {
        Function::with_limit(base, layer, max_environments, AtLimit::Wait).await
    }

    /// [`Function::new`], with what a synchronous invocation gets at
    /// `max_environments`.
    pub async fn with_limit(
        base: SandboxConfig,
        layer: Option<Layer>,
        max_environments: usize,
        at_limit: AtLimit,
    ) -> Result<Arc<Function>, String> {
        let scratch = std::env::temp_dir().join(format!(
            "portside-local-env-{}-{}",
            std::process::id(),
            crate::util::random_hex(8)
        ));
        std::fs::create_dir_all(&scratch)
            .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
        let function = Arc::new(Function {
            per_environment: base.max_concurrency.max(1),
            base,
            layer: layer.map(Arc::new),
            max_environments: max_environments.max(1),
            at_limit,
            pool: Mutex::new(Pool::default()),
            changed: Notify::new(),
            stopping: AtomicBool::new(false),
            scratch,
        });
        let first = function.create(1).await?;
        function.lock().environments.push(Environment {
            index: 1,
            sandbox: first,
            busy: 0,
        });
        Ok(function)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pool> {
        crate::util::lock(&self.pool)
    }

    /// The configuration every environment starts from.
    pub fn config(&self) -> &SandboxConfig {
        &self.base
    }

    /// The most environments it runs.
    pub fn max_environments(&self) -> usize {
        self.max_environments
    }

    /// The environments that exist now, by number.
    pub fn environments(&self) -> Vec<(usize, Arc<Sandbox>)> {
        self.lock()
            .environments
            .iter()
            .map(|e| (e.index, Arc::clone(&e.sandbox)))
            .collect()
    }

    /// Environment 1.
    pub fn first(&self) -> Arc<Sandbox> {
        Arc::clone(&self.lock().environments[0].sandbox)
    }

    async fn create(&self, index: usize) -> Result<Arc<Sandbox>, String> {
        let mut cfg = self.base.clone();
        if self.max_environments > 1 {
            cfg.environment = Some(index);
        }
        let tmp = self.scratch.join(format!("env-{index}")).join("tmp");
        std::fs::create_dir_all(&tmp)
            .map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        cfg.tmp_dir = Some(tmp);
        if index > 1 {
            cfg.env.extend(own_ports(&cfg.env)?);
        }
        Ok(Arc::new(
            Sandbox::with_shared_layer(cfg, self.layer.clone()).await?,
        ))
    }

    /// Starts environment 1 and waits for its init.
    pub async fn init(&self) -> InitState {
        self.first().init().await
    }

    /// Runs one event in an environment with room for it, starting one if
    /// all are busy and fewer than the maximum run, else waiting for one
    /// (an event source's invocation: Lambda retries those it throttles).
    pub async fn invoke(
        self: &Arc<Self>,
        payload: Bytes,
        opts: InvokeOptions,
    ) -> Result<SandboxInvocation, InvokeRejected> {
        self.run(payload, opts, false).await
    }

    /// [`Function::invoke`] for a synchronous invocation (a front door's):
    /// with [`AtLimit::Throttle`], throttled at once when every environment
    /// is busy and no other may start.
    pub async fn invoke_sync(
        self: &Arc<Self>,
        payload: Bytes,
        opts: InvokeOptions,
    ) -> Result<SandboxInvocation, InvokeRejected> {
        self.run(payload, opts, self.at_limit == AtLimit::Throttle)
            .await
    }

    async fn run(
        self: &Arc<Self>,
        payload: Bytes,
        opts: InvokeOptions,
        throttle: bool,
    ) -> Result<SandboxInvocation, InvokeRejected> {
        let (index, sandbox, cold) = self.acquire(throttle).await?;
        if cold {
            let started = Instant::now();
            let state = sandbox.init().await;
            if state != InitState::Ready {
                self.release(index);
                let error = match state {
                    InitState::Failed(e) => e,
                    _ => crate::runtime_api::init_timeout_error(),
                };
                return Ok(SandboxInvocation::ended(Outcome::InitError(error)));
            }
            eprintln!(
                "{}",
                self.base.prefixed(&format!(
                    "portside-local: environment {index} is up (init {:.2} s)",
                    started.elapsed().as_secs_f64()
                ))
            );
        }
        let mut inv = match sandbox.invoke(payload, opts).await {
            Ok(inv) => inv,
            Err(e) => {
                self.release(index);
                return Err(e);
            }
        };
        let request_id = inv.request_id.clone();
        let stream = inv.stream.take();
        let (tx, rx) = oneshot::channel();
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let outcome = inv.outcome().await;
            // Room again: the next invocation waits for the aftermath
            // (a freeze, or the reset after a failure) in the sandbox
            // rather than starting another environment for it.
            this.release(index);
            let _ = tx.send(outcome);
            drop(sandbox);
        });
        Ok(SandboxInvocation {
            request_id,
            stream,
            outcome: rx,
        })
    }

    /// An environment with room: (number, sandbox, whether it is new). At
    /// the limit: waits, or with `throttle` is throttled.
    async fn acquire(&self, throttle: bool) -> Result<(usize, Arc<Sandbox>, bool), InvokeRejected> {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let index = {
                let mut pool = self.lock();
                if self.stopping.load(Ordering::SeqCst) {
                    return Err(InvokeRejected::ShuttingDown);
                }
                if pool.restarting {
                    None
                } else {
                    let per = self.per_environment;
                    if let Some(env) = pool.environments.iter_mut().find(|e| e.busy < per) {
                        env.busy += 1;
                        return Ok((env.index, Arc::clone(&env.sandbox), false));
                    }
                    let running = pool.environments.len() + pool.starting;
                    if running < self.max_environments {
                        pool.starting += 1;
                        Some(running + 1)
                    } else if throttle {
                        drop(pool);
                        return Err(self.throttled(running));
                    } else {
                        None
                    }
                }
            };
            let Some(index) = index else {
                changed.await;
                continue;
            };
            eprintln!(
                "{}",
                self.base.prefixed(&format!(
                    "portside-local: environment {index} starting (a cold start: {} busy)",
                    match index - 1 {
                        1 => "the running environment is".to_string(),
                        n => format!("all {n} running environments are"),
                    }
                ))
            );
            let created = self.create(index).await;
            let mut pool = self.lock();
            pool.starting -= 1;
            match created {
                Ok(sandbox) => {
                    pool.environments.push(Environment {
                        index,
                        sandbox: Arc::clone(&sandbox),
                        busy: 1,
                    });
                    pool.environments.sort_by_key(|e| e.index);
                    return Ok((index, sandbox, true));
                }
                Err(e) => {
                    eprintln!(
                        "{}",
                        self.base.prefixed(&format!(
                            "portside-local: environment {index} could not start: {e}"
                        ))
                    );
                    drop(pool);
                    self.changed.notify_waiters();
                    // Wait for one of the running environments instead.
                    if self.lock().environments.is_empty() {
                        return Err(InvokeRejected::ShuttingDown);
                    }
                }
            }
        }
    }

    /// Says that an invocation was throttled at `running` environments.
    fn throttled(&self, running: usize) -> InvokeRejected {
        eprintln!(
            "{}",
            self.base.prefixed(&format!(
                "portside-local: throttled (TooManyRequestsException): all {running} environments its reserved concurrency allows are busy"
            ))
        );
        InvokeRejected::Throttled
    }

    fn release(&self, index: usize) {
        if let Some(env) = self
            .lock()
            .environments
            .iter_mut()
            .find(|e| e.index == index)
        {
            env.busy = env.busy.saturating_sub(1);
        }
        self.changed.notify_waiters();
    }

    /// Replaces every execution environment (`--watch`): new invocations
    /// wait, those in flight finish, the environments stop as Lambda stops
    /// them (SIGTERM to the runtime, SHUTDOWN to the extensions), and a
    /// fresh environment 1 starts at once, shown as a cold start (`why`
    /// says what caused it). With `early`, the fresh one starts as soon as
    /// nothing accepts on the app's port any more, while the old processes
    /// finish exiting; without, once they are gone (a debugger's own port,
    /// say, is free again only then).
    pub async fn restart(&self, why: &str, early: bool) -> InitState {
        self.restart_with(why, early, None).await
    }

    /// [`Function::restart`], running `between` once the old environments
    /// have stopped and before the fresh one starts (`portside-local up`
    /// puts the new code in place there); if it fails, the fresh
    /// environment starts all the same, and the error is said.
    pub async fn restart_with(
        &self,
        why: &str,
        early: bool,
        between: Option<&(dyn Fn() -> Result<(), String> + Send + Sync)>,
    ) -> InitState {
        self.lock().restarting = true;
        // In-flight invocations (and environments being created) finish.
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let pool = self.lock();
                if pool.starting == 0 && pool.environments.iter().all(|e| e.busy == 0) {
                    break;
                }
            }
            changed.await;
        }
        let old: Vec<Arc<Sandbox>> = self
            .lock()
            .environments
            .drain(..)
            .map(|e| e.sandbox)
            .collect();
        stop_environments(old, early).await;
        if let Some(Err(e)) = between.map(|f| f()) {
            eprintln!("portside-local: {e}");
        }
        if self.stopping.load(Ordering::SeqCst) {
            // portside-local is stopping: nothing new starts.
            return InitState::Failed(crate::runtime_api::FunctionError::lambda(
                "Sandbox.Stopped",
                "portside-local is stopping",
            ));
        }
        // `up` runs several functions: say whose environment it is.
        let who = match &self.config().log_prefix {
            Some(name) => format!("{name}: "),
            None => String::new(),
        };
        eprintln!("portside-local: {who}environment 1 starting (a cold start: {why})");
        let started = Instant::now();
        let fresh = match self.create(1).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("portside-local: {who}environment 1 could not start: {e}");
                self.lock().restarting = false;
                self.changed.notify_waiters();
                return InitState::Failed(crate::runtime_api::FunctionError::lambda(
                    "Sandbox.Stopped",
                    &e,
                ));
            }
        };
        {
            let mut pool = self.lock();
            pool.environments.push(Environment {
                index: 1,
                sandbox: Arc::clone(&fresh),
                busy: 0,
            });
            pool.restarting = false;
        }
        self.changed.notify_waiters();
        let state = fresh.init().await;
        if state == InitState::Ready {
            eprintln!(
                "portside-local: {who}environment 1 is up (init {:.2} s)",
                started.elapsed().as_secs_f64()
            );
        }
        state
    }

    /// Shuts every environment down at once (each takes at most the
    /// SHUTDOWN deadline).
    pub async fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.changed.notify_waiters();
        let sandboxes: Vec<Arc<Sandbox>> = self
            .lock()
            .environments
            .iter()
            .map(|e| Arc::clone(&e.sandbox))
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        for sandbox in sandboxes {
            tasks.spawn(async move { sandbox.shutdown().await });
        }
        while tasks.join_next().await.is_some() {}
        // The environments' /tmp go with them (the front door may keep the
        // function itself alive until the process exits).
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// Stops `old` as Lambda stops environments; returns once they are gone,
/// or (with `early`) once nothing accepts on environment 1's app port any
/// more, the rest of the stop going on in the background.
async fn stop_environments(old: Vec<Arc<Sandbox>>, early: bool) {
    let port = old.first().and_then(|s| s.app_address());
    let (done, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut tasks = tokio::task::JoinSet::new();
        for sandbox in old {
            tasks.spawn(async move { sandbox.shutdown().await });
        }
        while tasks.join_next().await.is_some() {}
        let _ = done.send(());
    });
    let Some((host, port)) = port.filter(|_| early) else {
        let _ = stopped.await;
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            _ = tokio::time::sleep(std::time::Duration::from_millis(5)) => {
                if !ports::accepts(&host, port) {
                    return;
                }
            }
        }
    }
}

/// Port variables for environment N > 1 (and, under `up`, for every
/// environment of every function, which may share a configured port): each
/// port the function is configured with (the app's, and a separate
/// readiness-check port) mapped to a free one, in every variable that names
/// it, plus `PORT`.
pub fn own_ports(env: &[(String, String)]) -> Result<Vec<(String, String)>, String> {
    let app_port = ports::first_set(env, &PORT_VARS)
        .unwrap_or("8080")
        .to_string();
    let mut mapping: Vec<(String, u16)> = Vec::new();
    let mut out = Vec::new();
    let mut map = |old: &str| -> Result<u16, String> {
        if let Some((_, new)) = mapping.iter().find(|(o, _)| o == old) {
            return Ok(*new);
        }
        let new = ports::free_port()?;
        mapping.push((old.to_string(), new));
        Ok(new)
    };
    let new_app = map(&app_port)?;
    for name in PORT_VARS {
        if name == "PORT" || ports::first_set(env, &[name]).is_some() {
            out.push((name.to_string(), new_app.to_string()));
        }
    }
    for name in READINESS_PORT_VARS {
        if let Some(old) = ports::first_set(env, &[name]) {
            let old = old.to_string();
            out.push((name.to_string(), map(&old)?.to_string()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn get<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
        vars.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn another_environment_gets_its_own_port_in_every_variable_that_names_it() {
        let base = env(&[
            ("PORT", "8000"),
            ("AWS_LWA_PORT", "8000"),
            ("AWS_LWA_READINESS_CHECK_PORT", "8000"),
        ]);
        let over = own_ports(&base).expect("ports");
        let port = get(&over, "PORT").expect("PORT");
        assert_ne!(port, "8000");
        assert_eq!(get(&over, "AWS_LWA_PORT"), Some(port));
        assert_eq!(get(&over, "AWS_LWA_READINESS_CHECK_PORT"), Some(port));
        assert_eq!(
            get(&over, "PORTSIDE_PORT"),
            None,
            "unset variables stay unset"
        );
        // A separate health port gets a separate new port.
        let over =
            own_ports(&env(&[("PORT", "8000"), ("READINESS_CHECK_PORT", "9000")])).expect("ports");
        assert_ne!(get(&over, "READINESS_CHECK_PORT"), get(&over, "PORT"));
        // Nothing set: the default 8080 moves, through PORT.
        let over = own_ports(&[]).expect("ports");
        assert_ne!(get(&over, "PORT"), Some("8080"));
    }
}
