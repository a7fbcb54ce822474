//! How a Runtime API is set up: [`Config`] and its defaults (Lambda's).
//!
//! Plain data: it must not hold state or start anything.

use super::{
    INIT_TIMEOUT, MAX_BUFFERED_RESPONSE_BYTES, MAX_REQUEST_BYTES, MAX_STREAMED_RESPONSE_BYTES,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How the Runtime API is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen. Default `127.0.0.1:0` (an OS-chosen port).
    pub bind: SocketAddr,
    /// Serve every path under this prefix (e.g. `/lambda`); empty for none.
    /// [`RuntimeApi::runtime_api_env`] includes it.
    pub path_prefix: String,
    /// `functionName` in the extension registration answer, and part of the
    /// default invoked function ARN.
    pub function_name: String,
    /// `functionVersion` (default `$LATEST`).
    pub function_version: String,
    /// `handler` in the extension registration answer.
    pub handler: String,
    /// Account id for ARNs (and `accountId` when an extension asks for it).
    pub account_id: String,
    /// Region for ARNs.
    pub region: String,
    /// The function timeout used when an invocation sets none (default 30 s).
    pub timeout: Duration,
    /// Bound on init (default 10 s, as on Lambda).
    pub init_timeout: Duration,
    /// How many invocations may run at once (default 1).
    pub max_concurrency: usize,
    /// The largest request payload accepted (default [`MAX_REQUEST_BYTES`]).
    pub max_request_bytes: usize,
    /// The largest buffered response accepted (default
    /// [`MAX_BUFFERED_RESPONSE_BYTES`]).
    pub max_buffered_response_bytes: usize,
    /// The largest streamed response accepted (default
    /// [`MAX_STREAMED_RESPONSE_BYTES`]).
    pub max_streamed_response_bytes: usize,
    /// Called with the request id as an event goes out to the runtime,
    /// before the runtime can read it (default none).
    pub on_dispatch: Option<OnDispatch>,
}

/// A function called as each event goes out to the runtime (the sandbox
/// prints Lambda's `START` line with it). It runs on the server's task:
/// keep it short, and never block.
#[derive(Clone)]
pub struct OnDispatch(pub Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for OnDispatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnDispatch(..)")
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            path_prefix: String::new(),
            function_name: "portside-local".to_string(),
            function_version: "$LATEST".to_string(),
            handler: "run.sh".to_string(),
            account_id: "123456789012".to_string(),
            region: "us-east-1".to_string(),
            timeout: Duration::from_secs(30),
            init_timeout: INIT_TIMEOUT,
            max_concurrency: 1,
            max_request_bytes: MAX_REQUEST_BYTES,
            max_buffered_response_bytes: MAX_BUFFERED_RESPONSE_BYTES,
            max_streamed_response_bytes: MAX_STREAMED_RESPONSE_BYTES,
            on_dispatch: None,
        }
    }
}

impl Config {
    /// The ARN of the function (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`).
    pub fn function_arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account_id, self.function_name
        )
    }
}
