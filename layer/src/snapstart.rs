//! SnapStart: what happens around the snapshot and the restore.
//!
//! Owns: the restore lifecycle Lambda's Runtime API defines for SnapStart
//! (`AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`) — the before-snapshot hooks,
//! `GET /runtime/restore/next` (which returns in the restored copy), the
//! after-restore hooks, and their errors (`/init/error` before, and
//! `/runtime/restore/error` after) — and the hooks themselves: no pooled
//! connection (to the app or to Lambda) survives the snapshot, and the app
//! can be told (`PORTSIDE_SNAPSTART_*_PATH`) to renew what must be unique.
//! Must not: take part in invocations.
//!
//! The hooks implement `lambda_runtime`'s `SnapStartResource`, so they read
//! as any Rust function's hooks do; the lifecycle that calls them is the one
//! `lambda_runtime` runs (before-snapshot in reverse order of registration,
//! then `/restore/next`, then after-restore in order), here with portside's
//! own Runtime API client.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderValue;
use lambda_runtime::{BoxFuture, SnapStartResource};

use crate::config::UrlPath;
use crate::deadline::Deadline;
use crate::error::PortsideError;
use crate::info;
use crate::invoke::{read_body, Adapter};
use crate::lifecycle_api::LifecycleApi;
use crate::proxy::Replay;

type BoxError = lambda_runtime::Error;

/// What must not survive a SnapStart snapshot: pooled connections (to the app
/// and to Lambda), which the restored copies would otherwise share. The app
/// can be told too (`PORTSIDE_SNAPSTART_*_PATH`), to renew its own.
pub struct SnapStartHooks {
    adapter: Arc<Adapter>,
}

impl SnapStartHooks {
    /// The hooks for the adapter's connections and app.
    pub fn new(adapter: Arc<Adapter>) -> SnapStartHooks {
        SnapStartHooks { adapter }
    }

    /// POSTs to an app path with a bounded wait; failures are errors.
    async fn notify_app(&self, path: &UrlPath) -> Result<(), BoxError> {
        let mut request = http::Request::new(Bytes::new());
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = path.uri();
        request
            .headers_mut()
            .insert(http::header::HOST, self.adapter.config.app_host.clone());
        request
            .headers_mut()
            .insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        let mut deadline = Deadline::new(Instant::now() + Duration::from_secs(10));
        let (response, lease) = self
            .adapter
            .client
            .send(request, Replay::Never, &mut deadline)
            .await?;
        let status = response.status();
        let _ = read_body(response.into_body(), &mut deadline, 64 * 1024).await?;
        drop(lease); // Never pool a connection across the snapshot.
        if !status.is_success() {
            return Err(format!("the app answered {status} to POST {path}").into());
        }
        Ok(())
    }
}

impl SnapStartResource for SnapStartHooks {
    fn before_snapshot(&self) -> BoxFuture<'_, Result<(), BoxError>> {
        Box::pin(async move {
            if let Some(path) = self.adapter.config.snapstart_before_checkpoint_path.clone() {
                self.notify_app(&path).await?;
            }
            self.adapter.client.clear();
            self.adapter.results.clear();
            info!("SnapStart: connections dropped before the snapshot");
            Ok(())
        })
    }

    fn after_restore(&self) -> BoxFuture<'_, Result<(), BoxError>> {
        Box::pin(async move {
            self.adapter.client.clear();
            self.adapter.results.clear();
            if let Some(path) = self.adapter.config.snapstart_after_restore_path.clone() {
                self.notify_app(&path).await?;
            }
            info!("SnapStart: restored; new connections from here on");
            Ok(())
        })
    }
}

/// Runs the restore lifecycle: every hook's `before_snapshot` (last
/// registered first), `/restore/next` (Lambda snapshots the sandbox while it
/// waits; it returns in each restored copy), then every `after_restore`. A
/// failure before the snapshot is an init error; after it, a restore error.
pub async fn restore_lifecycle(
    adapter: &Adapter,
    api: &LifecycleApi,
    hooks: &[Arc<dyn SnapStartResource>],
) -> Result<(), PortsideError> {
    for hook in hooks.iter().rev() {
        if let Err(err) = hook.before_snapshot().await {
            let err = PortsideError::Internal(format!("SnapStart before the snapshot: {err}"));
            if let Err(report) = api.init_error(&err).await {
                crate::error!("could not report the init error to Lambda: {report}");
            }
            return Err(err);
        }
    }
    if let Err(err) = adapter.results.restore_next().await {
        let err = PortsideError::Internal(format!("SnapStart /restore/next failed: {err}"));
        if let Err(report) = api.init_error(&err).await {
            crate::error!("could not report the init error to Lambda: {report}");
        }
        return Err(err);
    }
    for hook in hooks {
        if let Err(err) = hook.after_restore().await {
            let err = PortsideError::Internal(format!("SnapStart after the restore: {err}"));
            if let Err(report) = adapter.results.restore_error(&err).await {
                crate::error!("could not report the restore error to Lambda: {report}");
            }
            return Err(err);
        }
    }
    Ok(())
}
