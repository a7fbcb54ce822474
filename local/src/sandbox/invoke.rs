//! One invocation in the sandbox: refused (too large, stopping), answered
//! at once (init known to be failing slowly), or run: a fresh init after a
//! crash, thaw, the event, then its aftermath (reset after a timeout,
//! crash or init failure, else freeze) while the next invocation waits;
//! Lambda's END and REPORT lines after its result (START is printed as the
//! event goes out to the runtime, by the hook the sandbox gives the
//! Runtime API: see `Sandbox::with_shared_layer`).
//!
//! It must not speak the Runtime API's protocol: it calls [`RuntimeApi`].
//!
//! [`RuntimeApi`]: crate::runtime_api::RuntimeApi

use super::{platform, procs, Inner};
use crate::runtime_api::{
    FunctionError, InitState, Invocation, InvokeOptions, InvokeRejected, Outcome, ShutdownReason,
    StreamEvent,
};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

/// How long END waits at most for the output the processes wrote before
/// their result to be copied (a line without its newline never is).
const OUTPUT_DRAIN: Duration = Duration::from_millis(100);

use tokio::sync::{mpsc, oneshot, OwnedMutexGuard};

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

impl Inner {
    pub(super) async fn invoke(
        self: Arc<Self>,
        payload: Bytes,
        opts: InvokeOptions,
    ) -> Result<SandboxInvocation, InvokeRejected> {
        // Refused before a cold start is spent on it.
        self.api.check_payload(payload.len())?;
        if self.is_stopping() {
            return Err(InvokeRejected::ShuttingDown);
        }
        if let Some(error) = self.answer_at_once() {
            return Ok(SandboxInvocation::ended(Outcome::InitError(error)));
        }
        let failed_before = self.lock_failure().as_ref().map(|f| f.number);
        let serial = Arc::clone(&self.serial).lock_owned().await;
        if self.is_stopping() {
            return Err(InvokeRejected::ShuttingDown);
        }
        // It waited for an init that failed: that failure is its answer, at
        // once, rather than a second init (as Lambda answers the requests
        // that came during a failing init).
        if let Some(f) = self.lock_failure().as_ref() {
            if failed_before != Some(f.number) {
                return Ok(SandboxInvocation::ended(Outcome::InitError(
                    f.error.clone(),
                )));
            }
        }
        let concurrent = self.cfg.max_concurrency > 1;
        // A crash, or an init that failed or timed out earlier (say, the
        // eager init of `serve`): this invocation starts a fresh sandbox.
        let failed_init = matches!(
            self.api.init_state(),
            InitState::Failed(_) | InitState::TimedOut
        );
        if self.needs_fresh_start(failed_init) {
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
        let guard = if concurrent { None } else { Some(serial) };
        tokio::spawn(Arc::clone(&self).see_through(inv, tx, guard));
        Ok(SandboxInvocation {
            request_id,
            stream,
            outcome: rx,
        })
    }

    /// Sees an invocation through once its event is with the Runtime API:
    /// passes its outcome on to `tx`, records how init went, prints END and
    /// REPORT if it reached the runtime, then resets (after a timeout, crash
    /// or init failure) or freezes; `guard` (held while invocations run one
    /// at a time) is let go last, so the next one waits for all of it.
    async fn see_through(
        self: Arc<Self>,
        mut inv: Invocation,
        tx: oneshot::Sender<Outcome>,
        guard: Option<OwnedMutexGuard<()>>,
    ) {
        let request_id = inv.request_id().to_string();
        // When the event went out to the runtime (START was printed then);
        // never, if init failed or it timed out waiting.
        let started = match inv.take_dispatched() {
            Some(at) => at.await.ok(),
            None => None,
        };
        let outcome = inv.outcome().await;
        let duration = started.map(|at| at.elapsed());
        let reset = match &outcome {
            Outcome::TimedOut(_) => Some(ShutdownReason::Timeout),
            Outcome::InitError(_) => Some(ShutdownReason::Failure),
            Outcome::Error(e) if e.is_crash() => Some(ShutdownReason::Failure),
            _ => None,
        };
        match &outcome {
            Outcome::InitError(_) => {
                let state = self.api.init_state();
                self.init_failed(&state, self.cfg.init_timeout);
            }
            _ => self.init_succeeded(),
        }
        let timed_out = matches!(outcome, Outcome::TimedOut(_));
        let _ = tx.send(outcome);
        if let Some(duration) = duration {
            self.report(&request_id, duration, timed_out).await;
        }
        match reset {
            Some(reason) => self.teardown(reason).await,
            None => self.freeze_when_idle().await,
        }
        drop(guard);
    }

    /// Prints END and REPORT for an invocation that reached the runtime
    /// (after its result went out, as Lambda does), once what the processes
    /// wrote until then has been copied (bounded by [`OUTPUT_DRAIN`]). The
    /// memory is read before a reset can stop the processes.
    async fn report(&self, request_id: &str, duration: Duration, timed_out: bool) {
        if !self.cfg.show_logs {
            return;
        }
        let (groups, pipes): (Vec<i32>, Vec<_>) = {
            let life = self.lock_life();
            (
                life.list.iter().map(|p| p.pgid).collect(),
                life.list.iter().flat_map(|p| p.pipes.clone()).collect(),
            )
        };
        let drain_by = tokio::time::Instant::now() + OUTPUT_DRAIN;
        while !pipes.iter().all(|p| p.drained()) && tokio::time::Instant::now() < drain_by {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let cold = std::mem::take(&mut self.lock_life().cold);
        let report = platform::Report {
            request_id,
            duration,
            memory_size_mb: self.cfg.memory_mb,
            max_memory_used_kib: procs::peak_rss_kib(&groups),
            init_duration: if cold { self.api.init_duration() } else { None },
            timed_out,
        };
        eprintln!(
            "{}",
            self.cfg.prefixed(&format!(
                "{}\n{}",
                platform::end_line(request_id),
                platform::report_line(&report)
            ))
        );
    }
}
