//! The public handle, [`RuntimeApi`]: starting the server, its address and
//! `AWS_LAMBDA_RUNTIME_API` value, its configuration, and idleness. The
//! other operations live with their concern (`init`, `invocation`,
//! `extensions`, `shutdown`, `snapstart`).
//!
//! It must not hold state of its own beyond the address and the stop signal.

use super::state::{is_idle, Shared};
use super::{server, Config};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

/// A running Runtime API + Extensions API server. Dropping it stops the
/// server.
pub struct RuntimeApi {
    pub(super) shared: Arc<Shared>,
    addr: SocketAddr,
    pub(super) stop: watch::Sender<bool>,
}

impl std::fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeApi")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl RuntimeApi {
    /// Binds and starts serving; init starts now (its timer runs from here).
    pub async fn start(config: Config) -> std::io::Result<RuntimeApi> {
        let listener = tokio::net::TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let (stop, stop_rx) = watch::channel(false);
        shared.start_init_timer(0, shared.config.init_timeout);
        tokio::spawn(server::serve(listener, Arc::clone(&shared), stop_rx));
        Ok(RuntimeApi { shared, addr, stop })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`: `127.0.0.1:PORT` plus the
    /// path prefix, if any.
    pub fn runtime_api_env(&self) -> String {
        format!(
            "{}{}",
            self.addr,
            self.shared.config.path_prefix.trim_end_matches('/')
        )
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Whether the sandbox is idle as Lambda means it before a freeze: init
    /// ready, no invocation running or queued, the runtime blocked in
    /// `/next` and every extension blocked in `event/next`.
    pub fn is_idle(&self) -> bool {
        is_idle(&self.shared.lock())
    }

    /// Waits until [`RuntimeApi::is_idle`].
    pub async fn wait_idle(&self) {
        self.shared.wait_for(|st| is_idle(st).then_some(())).await
    }
}
