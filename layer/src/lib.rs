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

pub mod alloc;
pub mod body;
pub mod civil;
pub mod client;
pub mod compress;
pub mod config;
pub mod deadline;
pub mod error;
pub mod event;
pub mod header;
pub mod invoke;
pub mod lambda_api;
pub mod lifecycle;
pub mod limits;
pub mod log;
pub mod pool;
pub mod proxy;
pub mod readiness;
pub mod record;
pub mod request;
pub mod runtime_api;
pub mod snapstart;
pub mod uri;
pub mod web;
