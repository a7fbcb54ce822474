//! portside: run an unmodified web app on AWS Lambda.
//!
//! The adapter runs as a Lambda extension beside the app. For each
//! invocation, data flows one way:
//!
//! ```text
//! Runtime API --payload--> event::parse --> request --> proxy --> app
//! Runtime API <--result--- event::to_result <-- response <---------+
//! ```
//!
//! See ARCHITECTURE.md at the repository root for the code map.
//!
//! The modules are the crate's own: the binary (`main.rs`) uses the few
//! items re-exported below, and the tests, fuzz targets and benchmarks reach
//! further through [`testing`], so the compiler sees what nothing uses.

mod alloc;
mod body;
mod civil;
mod client;
mod compress;
mod config;
mod deadline;
mod error;
mod event;
mod header;
mod invoke;
mod lifecycle;
mod lifecycle_api;
mod limits;
mod log;
mod pool;
mod proxy;
mod readiness;
mod record;
mod request;
mod runtime_api;
mod snapstart;
mod uri;
mod web;

// What the binary uses: the allocator, the configuration, the init error's
// report, logging, and the adapter's run.
pub use alloc::Global;
pub use config::{ApiAddress, Config, ConfigError};
pub use error::PortsideError;
pub use lifecycle::run;
pub use lifecycle_api::LifecycleApi;
pub use log::init as init_log;

/// What the exported logging macros (`error!`, `warn!`, `info!`, `debug!`,
/// `log!`) expand to: not an API.
#[doc(hidden)]
pub mod __log {
    pub use crate::log::{enabled, write, write_for, Level};
}

#[doc(hidden)]
pub mod testing;
