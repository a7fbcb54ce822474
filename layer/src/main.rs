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
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            error!("Portside.InvalidConfig: {err}");
            report_init_error(&PortsideError::InvalidConfig(err.to_string()));
            return ExitCode::from(2);
        }
    };
    let threads = config.threads(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads > 1 {
        info!("serving on {threads} threads (PORTSIDE_WORKER_THREADS)");
    }
    let runtime = match runtime(threads) {
        Ok(runtime) => runtime,
        Err(err) => {
            error!("cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
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

/// The async runtime: the current thread alone for one thread (classic
/// invocations, and Managed Instances unless told otherwise), else a pool of
/// `threads` workers that share the invocation loops.
fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = if threads > 1 {
        let mut pool = tokio::runtime::Builder::new_multi_thread();
        pool.worker_threads(threads);
        pool
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build()
}

/// Inside Lambda, says why init failed where the function's owner looks.
fn report_init_error(report: &PortsideError) {
    let Some(api) = std::env::var("AWS_LAMBDA_RUNTIME_API")
        .ok()
        .and_then(|raw| ApiAddress::parse(&raw).ok())
        .and_then(|address| LifecycleApi::new(&address).ok())
    else {
        return;
    };
    match runtime(1) {
        Ok(runtime) => {
            if let Err(e) = runtime.block_on(api.init_error(report)) {
                error!("could not report the init error to Lambda: {e}");
            }
        }
        Err(e) => error!("could not report the init error to Lambda: {e}"),
    }
}
