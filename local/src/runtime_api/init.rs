//! Init: when it is done (the runtime polled `/next`, every expected
//! extension registered and called `event/next`), its timer, its failure
//! (which answers every queued invocation with it), and reset (a fresh init
//! after a timeout or crash).
//!
//! It must not start or stop processes: the sandbox does that and tells it.

use super::state::{Shared, State};
use super::{FunctionError, InitState, Outcome, RuntimeApi};
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Shared {
    pub(super) fn check_init(&self, st: &mut State) {
        if st.init == InitState::Pending
            && st.runtime_polled
            && st.extensions.len() >= st.expected_extensions
            && st.extensions.iter().all(|e| e.next_calls > 0)
        {
            st.init = InitState::Ready;
            st.init_took = Some(st.init_started.elapsed());
        }
    }

    pub(super) fn fail_pending_on_init_failure(st: &mut State) {
        let error = match &st.init {
            InitState::Failed(e) => e.clone(),
            InitState::TimedOut => init_timeout_error(),
            _ => return,
        };
        for p in st.queue.drain(..) {
            let _ = p.outcome_tx.send(Outcome::InitError(error.clone()));
        }
    }

    pub(super) fn start_init_timer(self: &Arc<Self>, generation: u64, after: Duration) {
        let shared = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let mut st = shared.lock();
            if st.generation == generation && st.init == InitState::Pending {
                st.init = InitState::TimedOut;
                Shared::fail_pending_on_init_failure(&mut st);
                drop(st);
                shared.changed();
            }
        });
    }
}

impl RuntimeApi {
    /// How long the current init took, from its start (the server's start,
    /// or the last [`RuntimeApi::reset`]) until it was ready: Lambda's
    /// `Init Duration`. `None` while init is not ready.
    pub fn init_duration(&self) -> Option<Duration> {
        self.shared.lock().init_took
    }

    /// Where init stands now.
    pub fn init_state(&self) -> InitState {
        self.shared.lock().init.clone()
    }

    /// Waits until init is ready, failed or timed out.
    pub async fn wait_init(&self) -> InitState {
        self.shared
            .wait_for(|st| (st.init != InitState::Pending).then(|| st.init.clone()))
            .await
    }

    /// Marks init as failed (for the sandbox, when a process dies during
    /// init). Does nothing unless init is pending.
    pub fn fail_init(&self, error: FunctionError) {
        let mut st = self.shared.lock();
        if st.init == InitState::Pending {
            st.init = InitState::Failed(error);
            Shared::fail_pending_on_init_failure(&mut st);
            drop(st);
            self.shared.changed();
        }
    }

    /// Forgets the current processes and starts a fresh init: registrations,
    /// pollers and running invocations go (running ones end with
    /// `Sandbox.Reset`); queued invocations stay and run after the new init.
    pub fn reset(&self) {
        self.reset_with_init_timeout(self.shared.config.init_timeout)
    }

    /// [`RuntimeApi::reset`] with another bound on the new init: Lambda
    /// bounds an init it retries during an invocation (after one that failed
    /// or timed out) by the function timeout instead of the 10 s init limit.
    pub fn reset_with_init_timeout(&self, init_timeout: Duration) {
        self.abort_inflight(FunctionError::lambda(
            "Sandbox.Reset",
            "the sandbox was reset while the invocation ran",
        ));
        let generation = {
            let mut st = self.shared.lock();
            st.generation += 1;
            st.init = InitState::Pending;
            st.init_started = Instant::now();
            st.init_took = None;
            st.runtime_polled = false;
            st.extensions.clear();
            st.pollers.clear();
            st.shutting_down = false;
            st.expected_extensions = 0;
            st.generation
        };
        self.shared.start_init_timer(generation, init_timeout);
        self.shared.changed();
    }

    /// The current init generation (bumped by every [`RuntimeApi::reset`]).
    pub fn generation(&self) -> u64 {
        self.shared.lock().generation
    }
}

/// Lambda's error for an invocation that could not run because init timed out.
pub fn init_timeout_error() -> FunctionError {
    FunctionError::lambda(
        "Sandbox.Timedout",
        "the function's init did not finish within the init limit, so it could not take the event",
    )
}
