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

// No function outside tests is longer than 80 lines (clippy.toml sets the bound).
#![warn(clippy::too_many_lines)]

// The modules in reading order, the pipeline of one invocation, grouped by
// stage (rustfmt.toml keeps this order).

// Start-up: the configuration (read once, by `main`) and logging; then the
// lifecycle: register with Lambda, wait for the app, run the invocation loops.
mod config;
mod log;
mod lifecycle;
mod lifecycle_api;
mod readiness;
mod snapstart;

// One invocation, in the order it runs: taken from the Runtime API and
// handled by `invoke`: the event detected and converted, the app's request
// built (with Web Functions' semantics when on), sent to the app within the
// deadline, the response compressed and turned into the result, delivered,
// and the invocation's records written.
mod runtime_api;
mod invoke;
mod event;
mod request;
mod web;
mod proxy;
mod deadline;
mod compress;
mod record;

// Connections: the one HTTP/1.1 client (to the app and to Lambda) and its
// keep-alive pools.
mod client;
mod pool;

// What every stage uses: the errors, the limits, header values, request
// targets, bodies (base64, JSON strings), dates, the allocator.
mod error;
mod limits;
mod header;
mod uri;
mod body;
mod civil;
mod alloc;

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
