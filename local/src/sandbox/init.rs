//! An init run to its end: start, wait, then freeze (ready) or report and
//! stop (failed); the report printed once per distinct failure; and, after
//! an init that timed out, the answer given at once while a retry runs in
//! the background.
//!
//! It must not start processes itself (`start` does) or build the report's
//! text (`report` does).

use super::{ports, report, Inner, Phase};
use crate::runtime_api::{self, FunctionError, InitState, ShutdownReason};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// The last init failure, as reported.
#[derive(Clone)]
pub(super) struct LastFailure {
    /// What an invocation answered while it lasts.
    pub(super) error: FunctionError,
    /// Whether init ran out of time (a retry then runs in the background).
    pub(super) timed_out: bool,
    /// The report printed for it.
    pub(super) summary: String,
    /// Which failure this is (each one recorded gets the next number).
    pub(super) number: u64,
}

/// Numbers the failures recorded ([`LastFailure::number`]).
static FAILURES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Inner {
    /// Starts the processes (if not running) and waits for init; reports and
    /// cleans up a failure. The caller holds `serial`.
    pub(super) async fn init_now(self: &Arc<Self>, init_timeout: Duration) -> InitState {
        if self.is_stopping() {
            return InitState::Failed(FunctionError::lambda(
                "Sandbox.Stopped",
                "the sandbox is shutting down",
            ));
        }
        let failed_before = matches!(
            self.api.init_state(),
            InitState::Failed(_) | InitState::TimedOut
        );
        if self.needs_fresh_start(failed_before) {
            self.teardown(ShutdownReason::Failure).await;
        }
        let state = match self.start(init_timeout).await {
            Err(e) => InitState::Failed(e),
            Ok(()) => tokio::select! {
                state = self.api.wait_init() => state,
                // Never ends: says once where the app listens if not on $PORT.
                never = self.port_hint() => match never {},
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

    /// Records and prints a failed init (the full report once, a short line
    /// when the same failure repeats). Call before the processes are
    /// stopped: whether the app listens is part of the report.
    pub(super) fn init_failed(&self, state: &InitState, init_timeout: Duration) {
        let app_listening = self
            .app
            .as_ref()
            .is_some_and(|(host, port)| ports::accepts(host, *port));
        let wrapper_runs_handler = self.layer.as_ref().is_some_and(|l| l.bootstrap().is_some())
            && self.cfg.runtime.takes_exec_wrapper();
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
            listening_elsewhere: if app_listening {
                Vec::new()
            } else {
                self.listening_elsewhere()
            },
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
            number: FAILURES.fetch_add(1, Ordering::SeqCst) + 1,
        });
    }

    pub(super) fn init_succeeded(&self) {
        if self.lock_failure().take().is_some() {
            eprintln!(
                "portside-local: {}init succeeded this time; the function is up",
                self.cfg.who()
            );
        }
    }

    /// Whether what runs must be torn down before the next start: a
    /// process died, or an earlier init failed (`failed_before`) and its
    /// processes are still there.
    pub(super) fn needs_fresh_start(&self, failed_before: bool) -> bool {
        match self.lock_life().phase {
            Phase::Broken { .. } => true,
            Phase::Down => false,
            Phase::Running | Phase::Frozen => failed_before,
        }
    }

    /// The error to answer with at once, if init is known to be failing
    /// slowly (it timed out): starts the background retry if none runs.
    pub(super) fn answer_at_once(self: &Arc<Self>) -> Option<FunctionError> {
        let last = self.lock_failure().clone()?;
        {
            let mut life = self.lock_life();
            if life.retrying {
                return Some(last.error);
            }
            if !last.timed_out {
                return None;
            }
            life.retrying = true;
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let serial = Arc::clone(&this.serial);
            let _serial = serial.lock().await;
            // A retried init gets the function timeout, as on Lambda.
            let bound = this.cfg.timeout.max(this.cfg.init_timeout);
            this.init_now(bound).await;
            this.lock_life().retrying = false;
        });
        Some(last.error)
    }
}
