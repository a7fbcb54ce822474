//! The invocation's deadline: the instant by which the app must have
//! answered, and one timer per invocation loop that bounds the wait for it.
//!
//! Owns: turning Lambda's `Lambda-Runtime-Deadline-Ms` into an [`Instant`]
//! with a reserve ([`app_deadline`]), and bounding an invocation's waits for
//! the app (for it to be ready after async init, its head, its body, each
//! streamed chunk) by that instant ([`Deadline::within`]).
//! Must not: decide what a passed deadline means for the invocation (the
//! caller's error), or bound waits outside an invocation (the readiness
//! check's own polling, the Runtime API).
//!
//! Why one timer moved from deadline to deadline instead of a
//! `tokio::time::timeout_at` each time: a timer tokio's driver did not know
//! when it last parked, and earlier than any it knew, makes tokio wake its
//! own thread so the driver can shorten its sleep: an eventfd `write`, and an
//! `epoll_pwait` that returns at once, on every invocation (the driver had
//! parked on `/next` with no timer at all). A timer still registered at the
//! last invocation's deadline, moved to a later one, needs no wake
//! (bench/README.md measures the two side by side).

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::time::Sleep;

/// Any real deadline is after this (2001-09-09 in epoch milliseconds).
const PLAUSIBLE_EPOCH_MS: u64 = 1_000_000_000_000;

/// The instant by which the app must have answered: Lambda's deadline minus
/// a reserve to report the error before Lambda's own timeout hits.
pub fn app_deadline(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    // Lambda sends epoch milliseconds. Some emulators send nothing, or a
    // duration (cargo-lambda sends 600000): with no usable deadline, allow
    // Lambda's longest timeout and let the emulator enforce its own.
    let remaining = if deadline_ms < PLAUSIBLE_EPOCH_MS {
        15 * 60 * 1000
    } else {
        deadline_ms.saturating_sub(now_ms)
    };
    let reserve = (remaining / 10).min(100);
    Instant::now() + Duration::from_millis(remaining - reserve)
}

/// A deadline and the timer that enforces it. One per invocation loop:
/// [`Deadline::set`] moves it to each invocation's deadline.
pub struct Deadline {
    at: Instant,
    timer: Pin<Box<Sleep>>,
}

impl Deadline {
    /// A deadline at `at`.
    pub fn new(at: Instant) -> Deadline {
        Deadline {
            at,
            timer: Box::pin(tokio::time::sleep_until(at.into())),
        }
    }

    /// Moves the deadline to `at` (the next invocation's).
    pub fn set(&mut self, at: Instant) {
        self.at = at;
        self.timer.as_mut().reset(at.into());
    }

    /// When it is.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// Runs `work` until it ends or the deadline passes, whichever is first;
    /// `None` when the deadline passed first. `work` is polled before the
    /// timer, so work that is ready when the deadline has passed still ends.
    pub async fn within<F: Future>(&mut self, work: F) -> Option<F::Output> {
        let mut work = pin!(work);
        let timer = &mut self.timer;
        std::future::poll_fn(|cx| {
            if let Poll::Ready(output) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(output));
            }
            timer.as_mut().poll(cx).map(|()| None)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_keep_a_reserve_and_ignore_implausible_values() {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let deadline = app_deadline(now_ms + 3_000);
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            left <= Duration::from_millis(2_900) && left > Duration::from_millis(2_500),
            "{left:?}"
        );
        // cargo-lambda's 600000 is a duration, not an epoch time: no early timeout.
        let left = app_deadline(600_000).saturating_duration_since(Instant::now());
        assert!(left > Duration::from_secs(14 * 60), "{left:?}");
    }

    /// Paused time has advanced `ms` milliseconds since `start`, to the tick.
    fn assert_waited(start: Instant, ms: u64) {
        let waited = tokio::time::Instant::now().into_std() - start;
        assert!(
            waited >= Duration::from_millis(ms) && waited < Duration::from_millis(ms + 2),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn work_that_ends_in_time_ends_and_slow_work_is_cut_at_the_deadline() {
        let start = tokio::time::Instant::now().into_std();
        let mut deadline = Deadline::new(start + Duration::from_millis(100));
        let quick = deadline
            .within(tokio::time::sleep(Duration::from_millis(40)))
            .await;
        assert_eq!(quick, Some(()));
        let slow = deadline
            .within(tokio::time::sleep(Duration::from_secs(5)))
            .await;
        assert_eq!(slow, None);
        // Paused time advances only to the next timer: the deadline's
        // (tokio's timers tick in whole milliseconds).
        assert_waited(start, 100);
    }

    #[tokio::test(start_paused = true)]
    async fn a_moved_deadline_bounds_the_next_wait_even_after_it_fired() {
        let start = tokio::time::Instant::now().into_std();
        let mut deadline = Deadline::new(start + Duration::from_millis(10));
        assert_eq!(deadline.within(std::future::pending::<()>()).await, None);
        // Fired once; moved later, it bounds again, at the new instant.
        deadline.set(start + Duration::from_millis(500));
        assert_eq!(deadline.at(), start + Duration::from_millis(500));
        let got = deadline
            .within(tokio::time::sleep(Duration::from_millis(200)))
            .await;
        assert_eq!(got, Some(()));
        assert_eq!(deadline.within(std::future::pending::<()>()).await, None);
        assert_waited(start, 500);
        // Moved earlier than now: already passed, but ready work still ends.
        deadline.set(start);
        assert_eq!(deadline.within(async { 7 }).await, Some(7));
        assert_eq!(deadline.within(std::future::pending::<()>()).await, None);
    }
}
