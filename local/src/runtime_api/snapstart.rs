//! SnapStart's restore point: `/runtime/restore/next` blocks until the
//! caller restores the sandbox, and `/runtime/restore/error` is recorded
//! (and fails a pending init).
//!
//! It must not take snapshots or touch processes.

use super::state::Shared;
use super::{FunctionError, InitState, RuntimeApi};
use std::sync::Arc;

impl RuntimeApi {
    /// SnapStart: waits until the runtime calls `/runtime/restore/next`, the
    /// point where Lambda takes the snapshot.
    pub async fn wait_snapshot_point(&self) {
        self.shared
            .wait_for(|st| st.snapshot_ready.then_some(()))
            .await
    }

    /// SnapStart: restores the sandbox: `/runtime/restore/next` answers, and
    /// the runtime goes on to `/next`.
    pub fn restore(&self) {
        self.shared.lock().restored = true;
        self.shared.changed();
    }

    /// SnapStart: what the runtime posted to `/runtime/restore/error`, if anything.
    pub fn restore_error(&self) -> Option<FunctionError> {
        self.shared.lock().restore_error.clone()
    }
}

/// `GET /runtime/restore/next`: the snapshot point; answers once restored.
pub(crate) async fn restore_next(shared: &Arc<Shared>) {
    shared.lock().snapshot_ready = true;
    shared.changed();
    shared.wait_for(|st| st.restored.then_some(())).await;
}

/// `POST /runtime/restore/error`: the runtime could not restore.
pub(crate) fn restore_failed(shared: &Arc<Shared>, error: FunctionError) {
    let mut st = shared.lock();
    st.restore_error = Some(error.clone());
    if st.init == InitState::Pending {
        st.init = InitState::Failed(error);
    }
    drop(st);
    shared.changed();
}
