//! portside-local: a local AWS Lambda, without Docker.
//!
//! * [`runtime_api`]: the Runtime API and Extensions API server and the
//!   invocation state machine (usable on its own from tests).
//! * [`util`]: identifiers and time formats.
//!
//! See ARCHITECTURE.md at the repository root for how the pieces fit.

pub mod runtime_api;
pub mod util;
