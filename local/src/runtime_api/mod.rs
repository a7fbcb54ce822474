//! The Lambda Runtime API and Extensions API, served in-process.
//!
//! This module owns the protocol a function's processes speak to Lambda and
//! the state machine behind it: init (extensions register, then everyone
//! calls `next`), invocations (an event handed to a `/next` poller, a
//! deadline, a buffered, streamed or error result), the payload limits, and
//! the SHUTDOWN event. It starts no processes: [`crate::sandbox`] does that
//! around it, and tests can run any real runtime or extension against it.
//!
//! # Using it from a test
//!
//! ```no_run
//! use portside_local::runtime_api::{Config, InitState, InvokeOptions, Outcome, RuntimeApi};
//! use std::time::Duration;
//!
//! # async fn demo() -> std::io::Result<()> {
//! // 127.0.0.1 with an OS-chosen port.
//! let api = RuntimeApi::start(Config::default()).await?;
//! let mut child = tokio::process::Command::new("target/debug/portside")
//!     .env("AWS_LAMBDA_RUNTIME_API", api.runtime_api_env())
//!     .spawn()?;
//! // Init is done when every registered extension called `event/next` and
//! // the runtime called `/runtime/invocation/next` (or it failed / timed out).
//! assert_eq!(api.wait_init().await, InitState::Ready);
//! let outcome = api
//!     .invoke(r#"{"hello":"world"}"#, InvokeOptions::new().timeout(Duration::from_secs(3)))
//!     .await
//!     .expect("not rejected");
//! match outcome {
//!     Outcome::Response(bytes) => println!("{}", String::from_utf8_lossy(&bytes)),
//!     Outcome::Streamed(s) => println!("prelude {:?}, body {:?}", s.prelude, s.body),
//!     other => println!("{other:?}"),
//! }
//! let report = api
//!     .shutdown(portside_local::runtime_api::ShutdownReason::Spindown, Duration::from_secs(2))
//!     .await;
//! println!("SHUTDOWN reached {:?}", report.delivered);
//! child.kill().await?;
//! # Ok(())
//! # }
//! ```
//!
//! * [`RuntimeApi::start`] binds (see [`Config::bind`], [`Config::path_prefix`]);
//!   [`RuntimeApi::runtime_api_env`] is the value for `AWS_LAMBDA_RUNTIME_API`.
//! * [`RuntimeApi::wait_init`] / [`RuntimeApi::init_state`]: [`InitState`].
//!   A runtime's `/runtime/init/error` gives [`InitState::Failed`] with the
//!   error type from `Lambda-Runtime-Function-Error-Type` (or the body's
//!   `errorType`) and the body's `errorMessage`.
//! * [`RuntimeApi::start_invoke`] queues an event and returns an
//!   [`Invocation`]: its request id, optionally a receiver of
//!   [`StreamEvent`]s as body chunks arrive ([`InvokeOptions::watch_stream`]),
//!   and [`Invocation::outcome`]. [`RuntimeApi::invoke`] does both at once.
//!   An invocation waits for init; its timeout starts when init is done.
//! * [`Outcome`] is a buffered response, a function error (`/error`, a
//!   response over 6 MB as `Function.ResponseSizeTooLarge`), a streamed
//!   response (raw bytes, prelude/body split at the eight NUL bytes, error
//!   trailers), a timeout (`Sandbox.Timedout`) or an init failure. A request
//!   of 6,291,456 bytes or more is refused up front
//!   ([`InvokeRejected::PayloadTooLarge`], Lambda's
//!   `RequestEntityTooLargeException`).
//! * Concurrency: with [`Config::max_concurrency`] N > 1, up to N `/next`
//!   pollers each get a different event at once (Lambda Managed Instances).
//!   With 1 (Lambda's default), the next event waits until the runtime and
//!   every extension have called `next` again.
//! * [`RuntimeApi::shutdown`] sends SHUTDOWN (`deadlineMs`, `shutdownReason`)
//!   to the extensions that registered for it; [`RuntimeApi::extensions`]
//!   lists who registered for what.
//! * [`RuntimeApi::reset`] forgets the processes (registrations, pollers,
//!   in-flight invocations) and starts a fresh init, as Lambda does after a
//!   timeout or crash. [`RuntimeApi::wait_idle`] tells when the runtime is
//!   blocked in `/next` and every extension in `event/next`: the moment
//!   Lambda freezes the sandbox.
//!
//! * SnapStart: a runtime started with `AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`
//!   calls `/runtime/restore/next` when it is ready to be snapshotted
//!   ([`RuntimeApi::wait_snapshot_point`]); the call returns when the test
//!   restores the sandbox ([`RuntimeApi::restore`]), after which the runtime
//!   polls `/next` as usual. `/runtime/restore/error` is recorded
//!   ([`RuntimeApi::restore_error`]).
//!
//! Not served: the Telemetry/Logs APIs (they answer 404 with a message saying so).
//!
//! # Where things are
//!
//! | module | owns |
//! | --- | --- |
//! | `config` | [`Config`] and its defaults |
//! | `outcome` | what an invocation or init ends with: [`Outcome`], [`FunctionError`], [`InitState`], [`InvokeRejected`], Lambda's own errors |
//! | `state` | the one lock over the state machine, the change signal and waiting for a condition; idleness |
//! | `handle` | the [`RuntimeApi`] handle: start, address, idleness |
//! | `init` | init: when it is done, its timer, its failure, reset |
//! | `options` | the caller's side of an invocation: [`InvokeOptions`], [`Invocation`], [`StreamEvent`] |
//! | `invocation` | invocation bookkeeping: queueing, dispatch to `/next` pollers, the INVOKE event, timeouts, completion |
//! | `extensions` | registered extensions and their event queues |
//! | `shutdown` | the SHUTDOWN event |
//! | `snapstart` | the restore point |
//! | `server` | the HTTP side: the listener and routing; `server::runtime` and `server::extension` the routes of each API, `server::body` bodies within their limits |
//! | `stream` | streamed responses: prelude, delimiter, error trailers |

mod config;
mod extensions;
mod handle;
mod init;
mod invocation;
mod options;
mod outcome;
mod server;
mod shutdown;
mod snapstart;
mod state;
pub mod stream;

pub use config::{Config, OnDispatch};
pub use extensions::ExtensionInfo;
pub use handle::RuntimeApi;
pub use init::init_timeout_error;
pub use options::{Invocation, InvokeOptions, StreamEvent};
pub use outcome::{
    timeout_error, FunctionError, InitState, InvokeRejected, InvokeResult, Outcome, ProcessExit,
    StreamedResponse, Timeout,
};
pub(crate) use server::body::{drain, read_limited, ReadError};
pub use shutdown::{ShutdownReason, ShutdownReport};
pub use stream::{ErrorSource, StreamError};

use crate::limits::Limit;
use std::time::Duration;

/// Path prefix of the Runtime API.
pub const RUNTIME_PATH: &str = "/2018-06-01/runtime";
/// Path prefix of the Extensions API.
pub const EXTENSION_PATH: &str = "/2020-01-01/extension";
/// Largest synchronous invocation request Lambda accepts: "Request must be
/// smaller than 6291456 bytes" ([`Limit::InvokePayload`]).
pub const MAX_REQUEST_BYTES: usize = Limit::InvokePayload.max();
/// Largest buffered response (Lambda's 6 MB plus its 100 bytes of slack;
/// [`Limit::BufferedResult`]).
pub const MAX_BUFFERED_RESPONSE_BYTES: usize = Limit::BufferedResult.max();
/// Largest streamed response (200 MB; [`Limit::StreamedResult`]).
pub const MAX_STREAMED_RESPONSE_BYTES: usize = Limit::StreamedResult.max();
/// Lambda's bound on the init phase of an on-demand function.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
