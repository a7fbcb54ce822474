//! Registered extensions as the Extensions API sees them: their ids and
//! events, their queue of events (INVOKE, SHUTDOWN) and whether each is
//! blocked in `event/next`, and [`ExtensionInfo`] for callers.
//!
//! It must not decide when events are sent: `invocation` and `shutdown` do.

use super::state::State;
use super::RuntimeApi;
use bytes::Bytes;
use std::collections::VecDeque;
use tokio::sync::oneshot;

/// A registered extension, as seen by the Extensions API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionInfo {
    /// `Lambda-Extension-Identifier`.
    pub id: String,
    /// `Lambda-Extension-Name`.
    pub name: String,
    /// The events it registered for (`INVOKE`, `SHUTDOWN`).
    pub events: Vec<String>,
    /// How many times it called `event/next`.
    pub next_calls: u64,
    /// Whether it is blocked in `event/next` now.
    pub waiting: bool,
}

pub(crate) struct Extension {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) events: Vec<String>,
    pub(super) waiting: Option<oneshot::Sender<Bytes>>,
    pub(super) queue: VecDeque<(Bytes, bool)>,
    pub(super) next_calls: u64,
    pub(super) shutdown_delivered: bool,
}

impl Extension {
    pub(super) fn is_waiting(&self) -> bool {
        self.queue.is_empty() && self.waiting.as_ref().is_some_and(|tx| !tx.is_closed())
    }

    pub(super) fn wants(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event)
    }

    /// Hands `event` to the waiting poll, or queues it.
    pub(super) fn deliver(&mut self, event: Bytes, is_shutdown: bool) {
        if self.queue.is_empty() {
            if let Some(tx) = self.waiting.take() {
                match tx.send(event) {
                    Ok(()) => {
                        if is_shutdown {
                            self.shutdown_delivered = true;
                        }
                        return;
                    }
                    Err(event) => {
                        self.queue.push_back((event, is_shutdown));
                        return;
                    }
                }
            }
        }
        self.queue.push_back((event, is_shutdown));
    }
}

pub(super) fn extension_infos(st: &State) -> Vec<ExtensionInfo> {
    st.extensions
        .iter()
        .map(|e| ExtensionInfo {
            id: e.id.clone(),
            name: e.name.clone(),
            events: e.events.clone(),
            next_calls: e.next_calls,
            waiting: e.is_waiting(),
        })
        .collect()
}

impl RuntimeApi {
    /// Waits until at least `n` extensions have registered.
    pub async fn wait_registered(&self, n: usize) -> Vec<ExtensionInfo> {
        self.shared
            .wait_for(|st| (st.extensions.len() >= n).then(|| extension_infos(st)))
            .await
    }

    /// The registered extensions.
    pub fn extensions(&self) -> Vec<ExtensionInfo> {
        extension_infos(&self.shared.lock())
    }

    /// Init will not complete before `n` extensions have registered (the
    /// sandbox knows how many it started; Lambda starts the runtime only
    /// after they all registered). Reset by [`RuntimeApi::reset`].
    pub fn expect_extensions(&self, n: usize) {
        self.shared.lock().expected_extensions = n;
        self.shared.changed();
    }
}
