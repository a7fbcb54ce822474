//! The bounded stop: SIGTERM (spindown) or SIGKILL (after a failure) to
//! the runtime, SHUTDOWN to the extensions registered for it, SIGKILL for
//! whatever is left at the deadline, and waiting until the groups are gone
//! (so the app's port is free for the next start).
//!
//! It must not take longer than [`SHUTDOWN_GRACE`] and a little more.

use super::procs::{any_alive, signal_group};
use super::{reaper, Inner, Kind, Phase};
use crate::runtime_api::{InitState, ShutdownReason, ShutdownReport};
use std::time::Duration;

/// The SHUTDOWN deadline: how long extensions (and the runtime, after
/// SIGTERM) get before whatever is left is killed. Lambda allows 2 s when
/// external extensions are registered.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How long SHUTDOWN is offered after a failure to extensions that are not
/// waiting for an event before they are killed.
const FAILURE_DELIVERY_WAIT: Duration = Duration::from_millis(50);

/// A process group being stopped, and which process leads it.
struct Group {
    name: String,
    kind: Kind,
    pgid: i32,
}

impl Inner {
    /// Stops every process: SIGTERM (spindown) or SIGKILL (after a failure)
    /// to the runtime, SHUTDOWN to the extensions registered for it, then
    /// SIGKILL for whatever is left at the deadline. At most
    /// [`SHUTDOWN_GRACE`] and a little more.
    pub(super) async fn teardown(&self, reason: ShutdownReason) {
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        let Some(procs) = self.begin_teardown() else {
            return;
        };
        let runtime: Vec<i32> = procs
            .iter()
            .filter(|p| p.kind == Kind::Runtime)
            .map(|p| p.pgid)
            .collect();
        let all: Vec<i32> = procs.iter().map(|p| p.pgid).collect();
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
        let awaited = awaited_groups(&procs, runtime, &report, patient);
        while tokio::time::Instant::now() < deadline && any_alive(&awaited) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let late: Vec<String> = procs
            .iter()
            .filter(|p| p.kind == Kind::Extension && any_alive(&[p.pgid]))
            .map(|p| p.name.clone())
            .collect();
        kill_and_wait(&all).await;
        if patient {
            self.warn_late_extensions(&report, &late);
        }
        let mut life = self.lock_life();
        for p in &life.list {
            reaper::forget(p.pgid);
        }
        life.list.clear();
        life.phase = Phase::Down;
    }

    /// The groups to stop, taken under the lock that marks the stop begun
    /// (from here on, process exits are expected) and continued if frozen;
    /// `None` if the sandbox is already down.
    fn begin_teardown(&self) -> Option<Vec<Group>> {
        let mut life = self.lock_life();
        if life.phase == Phase::Down {
            return None;
        }
        life.phase = Phase::Broken { frozen: false };
        for p in &life.list {
            signal_group(p.pgid, libc::SIGCONT);
        }
        Some(
            life.list
                .iter()
                .map(|p| Group {
                    name: p.name.clone(),
                    kind: p.kind,
                    pgid: p.pgid,
                })
                .collect(),
        )
    }

    /// At spindown, names the extensions that never took their SHUTDOWN
    /// event, and those that took it but had not exited by the deadline.
    fn warn_late_extensions(&self, report: &ShutdownReport, late: &[String]) {
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
}

/// The groups to wait for until the deadline: the runtime's and those of
/// the extensions that took SHUTDOWN. After a failure, the others (stuck in
/// init, or registered without SHUTDOWN) cannot take it and are killed
/// now; at spindown (`patient`) they get until the deadline to finish.
fn awaited_groups(
    procs: &[Group],
    runtime: Vec<i32>,
    report: &ShutdownReport,
    patient: bool,
) -> Vec<i32> {
    let all = procs.iter().map(|p| p.pgid);
    if patient {
        return all.collect();
    }
    let mut awaited = runtime;
    for name in &report.delivered {
        awaited.extend(
            procs
                .iter()
                .filter(|p| p.kind == Kind::Extension && p.name == *name)
                .map(|p| p.pgid),
        );
    }
    for g in all.filter(|g| !awaited.contains(g)) {
        signal_group(g, libc::SIGKILL);
    }
    awaited
}

/// SIGKILL to every group, then a wait (at most 500 ms) until they are
/// gone: SIGKILL is asynchronous too, and the app's port must be free for
/// the next start.
async fn kill_and_wait(all: &[i32]) {
    for g in all {
        signal_group(*g, libc::SIGKILL);
    }
    let gone_by = tokio::time::Instant::now() + Duration::from_millis(500);
    while tokio::time::Instant::now() < gone_by && any_alive(all) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
