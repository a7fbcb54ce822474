//! `portside`: the Lambda extension that serves a web app's invocations.
//! Reads the configuration, then hands over to the library; see lib.rs.

// No function outside tests is longer than 80 lines (clippy.toml sets the bound).
#![warn(clippy::too_many_lines)]

use std::process::ExitCode;
use std::time::Instant;

use portside::{error, info, warn, ApiAddress, Config, LifecycleApi, PortsideError};

// Large buffers are reused across invocations instead of being unmapped and
// faulted in again each time (see alloc.rs).
#[global_allocator]
static ALLOCATOR: portside::Global = portside::Global;

/// The version and the commit this binary was built from: `build.sh` sets
/// `PORTSIDE_COMMIT` for release builds; other builds say `unknown`.
const VERSION: &str = env!("CARGO_PKG_VERSION");
const COMMIT: &str = match option_env!("PORTSIDE_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};

fn main() -> ExitCode {
    let started = Instant::now();
    // Lambda starts extensions without arguments; `--version` is for people.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == "--version")
    {
        println!("portside {VERSION} (commit {COMMIT})");
        return ExitCode::SUCCESS;
    }
    let warning = portside::init_log(|name| std::env::var(name).ok());
    info!("portside {VERSION} (commit {COMMIT}) starting");
    if let Some(warning) = warning {
        warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            error!("cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            error!("Portside.InvalidConfig: {err}");
            // Inside Lambda, say why init failed where the function's owner looks.
            if let Some(api) = std::env::var("AWS_LAMBDA_RUNTIME_API")
                .ok()
                .and_then(|raw| ApiAddress::parse(&raw).ok())
                .and_then(|address| LifecycleApi::new(&address).ok())
            {
                let report = PortsideError::InvalidConfig(err.to_string());
                if let Err(e) = runtime.block_on(api.init_error(&report)) {
                    error!("could not report the init error to Lambda: {e}");
                }
            }
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(portside::run(config, started)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            error!("stopping: {}: {err}", err.error_type());
            ExitCode::FAILURE
        }
    }
}
