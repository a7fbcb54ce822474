//! Freezing as Lambda does: SIGSTOP to every process group once the
//! runtime is blocked in `/next` and every extension in `event/next` (done
//! when the kernel reports them all stopped), SIGCONT before the next event.
//!
//! It must not freeze with more than one invocation allowed at once, or a
//! sandbox that is stopping or broken.

use super::procs::{self, signal_group};
use super::{Inner, Phase};
use std::time::Duration;

impl Inner {
    pub(super) fn thaw(&self) {
        let mut life = self.lock_life();
        let thawed = match life.phase {
            Phase::Frozen => Phase::Running,
            Phase::Broken { frozen: true } => Phase::Broken { frozen: false },
            _ => return,
        };
        for p in &life.list {
            signal_group(p.pgid, libc::SIGCONT);
        }
        life.phase = thawed;
    }

    pub(super) async fn freeze_when_idle(&self) {
        if !self.cfg.freeze || self.cfg.max_concurrency > 1 {
            return;
        }
        // Lambda freezes once the runtime and every extension called next.
        let idle = tokio::time::timeout(self.cfg.timeout, self.api.wait_idle());
        tokio::select! {
            r = idle => if r.is_err() {
                eprintln!(
                    "portside-local: {}not freezing: the runtime or an extension did not call next again",
                    self.cfg.who()
                );
                return;
            },
            _ = self.stopped() => return,
            // A dead process never calls next: the next invocation re-inits.
            _ = self.process_died() => return,
        }
        let groups: Vec<i32> = {
            let mut life = self.lock_life();
            // Already frozen, broken, torn down, or stopping: nothing to do.
            if life.stopping || life.phase != Phase::Running {
                return;
            }
            for p in &life.list {
                signal_group(p.pgid, libc::SIGSTOP);
            }
            life.phase = Phase::Frozen;
            life.list.iter().map(|p| p.pgid).collect()
        };
        // SIGSTOP is asynchronous: the freeze is done when the kernel has
        // stopped every process of the groups.
        for _ in 0..500 {
            if procs::all_stopped(&groups) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}
