//! The bounded stop: SIGTERM (spindown) or SIGKILL (after a failure) to
//! the runtime, SHUTDOWN to the extensions registered for it, SIGKILL for
//! whatever is left at the deadline, and waiting until the groups are gone
//! (so the app's port is free for the next start).
//!
//! It must not take longer than [`SHUTDOWN_GRACE`] and a little more.

use super::procs::{any_alive, signal_group};
use super::{reaper, Inner, Kind, Phase};
use crate::runtime_api::{InitState, ShutdownReason};
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
        let procs: Vec<Group> = {
            let mut life = self.lock_life();
            if life.phase == Phase::Down {
                return;
            }
            // From here on, process exits are expected.
            life.phase = Phase::Broken { frozen: false };
            for p in &life.list {
                signal_group(p.pgid, libc::SIGCONT);
            }
            life.list
                .iter()
                .map(|p| Group {
                    name: p.name.clone(),
                    kind: p.kind,
                    pgid: p.pgid,
                })
                .collect()
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
        let ext_group = |name: &str| {
            procs
                .iter()
                .filter(|p| p.kind == Kind::Extension && p.name == name)
                .map(|p| p.pgid)
                .collect::<Vec<i32>>()
        };
        // Wait for the runtime and the extensions that took SHUTDOWN. After a
        // failure, the others (stuck in init, or registered without
        // SHUTDOWN) cannot take it and are killed now; at spindown they get
        // until the deadline to finish.
        let mut awaited: Vec<i32> = runtime.clone();
        for name in &report.delivered {
            awaited.extend(ext_group(name));
        }
        if patient {
            awaited = all.clone();
        } else {
            for g in all.iter().filter(|g| !awaited.contains(g)) {
                signal_group(*g, libc::SIGKILL);
            }
        }
        while tokio::time::Instant::now() < deadline && any_alive(&awaited) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let late: Vec<String> = procs
            .iter()
            .filter(|p| p.kind == Kind::Extension && any_alive(&[p.pgid]))
            .map(|p| p.name.clone())
            .collect();
        for g in &all {
            signal_group(*g, libc::SIGKILL);
        }
        // SIGKILL is asynchronous too: wait until the groups are gone, so
        // that the app's port is free for the next start.
        let gone_by = tokio::time::Instant::now() + Duration::from_millis(500);
        while tokio::time::Instant::now() < gone_by && any_alive(&all) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if patient {
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
        let mut life = self.lock_life();
        for p in &life.list {
            reaper::forget(p.pgid);
        }
        life.list.clear();
        life.phase = Phase::Down;
    }
}
