//! portside-local: a local AWS Lambda, without Docker.
//!
//! * [`runtime_api`]: the Runtime API and Extensions API server and the
//!   invocation state machine (usable on its own from tests).
//! * [`sandbox`]: one execution environment's processes around it: Lambda's
//!   environment, start-up order, freeze/thaw, reset, the bounded stop,
//!   failure reports, the reaper that outlives portside-local.
//! * [`function`]: up to N execution environments for one function,
//!   started on demand (Lambda's scale-out).
//! * [`frontdoor`]: the HTTP listener that speaks each event source's
//!   format and answers as it does, and Lambda's Invoke API.
//! * [`web`]: `portside-local web`, a Lambda Web Function endpoint (the
//!   app listens on `AWS_LAMBDA_HTTP_ENDPOINT`; no Runtime API).
//! * [`cli`]: the command line (`main.rs` only calls [`cli::run`]).
//! * [`layer`]: layer zips and folders.
//! * [`limits`]: every limit portside-local enforces or inherits, with its
//!   source and what a user sees past it (the guide's table).
//! * [`up`]: `portside-local up`, a whole Terraform stack (functions,
//!   front doors with their routes, triggers, S3/SQS/DynamoDB in moto).
//! * [`util`]: identifiers and time formats.
//! * the daily loop: [`auth`] (authorizers in front of the function),
//!   [`watch`] (`--watch`), [`dotenv`] (`--env-file`), [`runtimes`] (the
//!   runtime's interpreter).
//!
//! See ARCHITECTURE.md at the repository root for how the pieces fit.

// No function outside tests is longer than 80 lines (clippy.toml sets the bound).
#![warn(clippy::too_many_lines)]

pub mod auth;
pub mod cli;
pub mod dotenv;
pub mod frontdoor;
pub mod function;
pub mod layer;
pub mod limits;
pub mod runtime_api;
pub mod runtimes;
pub mod sandbox;
pub mod up;
pub mod util;
pub mod watch;
pub mod web;
