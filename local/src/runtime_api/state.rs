//! The state machine's shared state: the one lock over [`State`] (poison
//! is recovered, as every change is complete before the lock is released),
//! the change signal everyone waiting on the state listens to, waiting for a
//! condition, and idleness (the moment Lambda freezes a sandbox).
//!
//! It holds the state and must not decide transitions: `init`,
//! `invocation`, `extensions`, `shutdown` and `snapstart` make them.

use super::extensions::Extension;
use super::invocation::{Inflight, NextEvent, Pending};
use super::{Config, FunctionError, InitState};
use crate::util;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

pub(crate) struct State {
    pub(super) generation: u64,
    pub(super) init: InitState,
    pub(super) runtime_polled: bool,
    pub(super) extensions: Vec<Extension>,
    pub(super) pollers: VecDeque<oneshot::Sender<NextEvent>>,
    pub(super) queue: VecDeque<Pending>,
    pub(crate) inflight: HashMap<String, Inflight>,
    pub(super) shutting_down: bool,
    /// Bumped whenever an invocation starts or ends.
    pub(super) progress: u64,
    /// Init is not done before this many extensions registered.
    pub(super) expected_extensions: usize,
    /// SnapStart: the runtime called `/restore/next` (the snapshot point).
    pub(super) snapshot_ready: bool,
    /// SnapStart: the sandbox was restored (`/restore/next` answers).
    pub(super) restored: bool,
    /// SnapStart: what the runtime posted to `/restore/error`.
    pub(super) restore_error: Option<FunctionError>,
    /// When the current init started (start, or the last reset).
    pub(super) init_started: Instant,
    /// How long it took to be ready, once it is.
    pub(super) init_took: Option<Duration>,
}

pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(super) state: Mutex<State>,
    pub(super) changes: watch::Sender<u64>,
}

impl Shared {
    /// A fresh state machine for `config`, init pending.
    pub(crate) fn new(config: Config) -> Shared {
        let (changes, _) = watch::channel(0u64);
        Shared {
            config,
            state: Mutex::new(State {
                generation: 0,
                init: InitState::Pending,
                runtime_polled: false,
                extensions: Vec::new(),
                pollers: VecDeque::new(),
                queue: VecDeque::new(),
                inflight: HashMap::new(),
                shutting_down: false,
                progress: 0,
                expected_extensions: 0,
                snapshot_ready: false,
                restored: false,
                restore_error: None,
                init_started: Instant::now(),
                init_took: None,
            }),
            changes,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        util::lock(&self.state)
    }

    /// Wakes everyone waiting for a state change.
    pub(crate) fn changed(&self) {
        self.changes.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Waits until `cond` holds.
    pub(super) async fn wait_for<T>(&self, mut cond: impl FnMut(&State) -> Option<T>) -> T {
        let mut rx = self.changes.subscribe();
        loop {
            if let Some(v) = cond(&self.lock()) {
                return v;
            }
            // The sender lives in `self`, so this cannot fail while we run.
            let _ = rx.changed().await;
        }
    }
}

pub(super) fn is_idle(st: &State) -> bool {
    st.init == InitState::Ready
        && st.inflight.is_empty()
        && st.queue.is_empty()
        && st.pollers.iter().any(|p| !p.is_closed())
        && st.extensions.iter().all(Extension::is_waiting)
}
