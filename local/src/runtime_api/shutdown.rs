//! The SHUTDOWN event: its reason, its delivery to the extensions that
//! registered for it, and who picked it up in time ([`ShutdownReport`]).
//! Once sent, no invocation starts.
//!
//! It must not signal or kill processes: the sandbox does.

use super::state::State;
use super::RuntimeApi;
use crate::util;
use bytes::Bytes;
use std::time::Duration;

/// `shutdownReason` of a SHUTDOWN event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownReason {
    /// Normal end of the sandbox.
    Spindown,
    /// After a function timeout.
    Timeout,
    /// After a crash or init failure.
    Failure,
}

impl ShutdownReason {
    /// The wire value (`spindown`, `timeout`, `failure`).
    pub fn as_str(self) -> &'static str {
        match self {
            ShutdownReason::Spindown => "spindown",
            ShutdownReason::Timeout => "timeout",
            ShutdownReason::Failure => "failure",
        }
    }
}

/// Who received a SHUTDOWN event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Extensions (by name) that picked the event up before the deadline.
    pub delivered: Vec<String>,
    /// Extensions registered for SHUTDOWN that did not.
    pub missed: Vec<String>,
}

impl RuntimeApi {
    /// Sends SHUTDOWN to every extension registered for it, with
    /// `deadlineMs` = now + `grace`, and waits (at most `grace`) until each
    /// has picked it up. No invocation starts afterwards.
    pub async fn shutdown(&self, reason: ShutdownReason, grace: Duration) -> ShutdownReport {
        self.shutdown_until(reason, grace, grace).await
    }

    /// [`RuntimeApi::shutdown`] with the event's `deadlineMs` = now +
    /// `deadline`, waiting at most `wait` for the extensions to pick it up
    /// (a sandbox that kills the ones not waiting for an event right away
    /// waits less than the deadline it announces).
    pub async fn shutdown_until(
        &self,
        reason: ShutdownReason,
        deadline: Duration,
        wait: Duration,
    ) -> ShutdownReport {
        let grace = wait;
        let names: Vec<String> = {
            let mut st = self.shared.lock();
            st.shutting_down = true;
            let event = serde_json::json!({
                "eventType": "SHUTDOWN",
                "deadlineMs": util::epoch_millis() + deadline.as_millis() as u64,
                "shutdownReason": reason.as_str(),
            })
            .to_string();
            let mut names = Vec::new();
            for ext in st.extensions.iter_mut().filter(|e| e.wants("SHUTDOWN")) {
                ext.deliver(Bytes::from(event.clone()), true);
                names.push(ext.id.clone());
            }
            names
        };
        self.shared.changed();
        let all_delivered = |st: &State| {
            st.extensions
                .iter()
                .filter(|e| names.contains(&e.id))
                .all(|e| e.shutdown_delivered)
                .then_some(())
        };
        let _ = tokio::time::timeout(grace, self.shared.wait_for(all_delivered)).await;
        let st = self.shared.lock();
        let mut report = ShutdownReport::default();
        for ext in st.extensions.iter().filter(|e| names.contains(&e.id)) {
            if ext.shutdown_delivered {
                report.delivered.push(ext.name.clone());
            } else {
                report.missed.push(ext.name.clone());
            }
        }
        report
    }
}
