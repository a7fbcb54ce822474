//! `portside`: the Lambda extension that serves a web app's invocations.
//! Reads the configuration, then hands over to the library; see lib.rs.

use std::process::ExitCode;
use std::time::Instant;

use portside::{error, warn, ApiAddress, Config, LifecycleApi, PortsideError};

// Large buffers are reused across invocations instead of being unmapped and
// faulted in again each time (see alloc.rs).
#[global_allocator]
static ALLOCATOR: portside::Global = portside::Global;

fn main() -> ExitCode {
    let started = Instant::now();
    if let Some(warning) = portside::init_log(|name| std::env::var(name).ok()) {
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
