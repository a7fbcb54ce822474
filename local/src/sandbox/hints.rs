//! Plain-language hints about a function that is starting: an app that
//! listens, but not where the adapter looks (uvicorn's 8000 for `$PORT`
//! 8080), named while init still waits, with the fix.
//!
//! It must not change what init does: it only reads `/proc` and prints.

use super::{ports, procs, Inner};
use std::time::Duration;

/// What never happens: [`Inner::port_hint`] never ends.
pub(super) enum Never {}

/// When the first look is taken (an app that starts normally is ready by
/// then), and how often after.
const FIRST_LOOK: Duration = Duration::from_secs(1);
const LOOK_EVERY: Duration = Duration::from_millis(500);

impl Inner {
    /// Where the function's processes listen, when not where the adapter
    /// looks.
    pub(super) fn listening_elsewhere(&self) -> Vec<String> {
        let Some((_, port)) = &self.app else {
            return Vec::new();
        };
        let groups: Vec<i32> = self.lock_life().list.iter().map(|p| p.pgid).collect();
        let suffix = format!(":{port}");
        ports::listening_on(&procs::group_members(&groups))
            .into_iter()
            .filter(|a| !a.ends_with(&suffix))
            .collect()
    }

    /// While init waits: once the app listens elsewhere and not on its
    /// port, says so (once). Never returns.
    pub(super) async fn port_hint(&self) -> Never {
        let Some((host, port)) = self.app.clone() else {
            return std::future::pending().await;
        };
        tokio::time::sleep(FIRST_LOOK).await;
        loop {
            if !ports::accepts(&host, port) {
                let found = self.listening_elsewhere();
                if !found.is_empty() {
                    eprintln!(
                        "portside-local: {}{}",
                        self.cfg.who(),
                        super::report::elsewhere("", &host, port, &found)
                    );
                    return std::future::pending().await;
                }
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
    }
}
