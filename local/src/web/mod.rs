//! `portside-local web`: a Lambda Web Function endpoint on 127.0.0.1. The
//! app is an ordinary HTTP server listening on `AWS_LAMBDA_HTTP_ENDPOINT`;
//! the endpoint plays what Lambda does around it, from the AWS documentation
//! (local/WEBFUNCTIONS.md cites each point and says what it leaves open).
//!
//! * `options`: the flags, checked once into [`WebConfig`];
//! * `env`: the app's environment;
//! * `instance`: one execution environment (process, init, stop);
//! * `fleet`: which environment serves a request, scaling, throttling;
//! * `request`: the endpoint's request and response header rules;
//! * `proxy`: one exchange with the app, the streamed body, the timeout;
//! * `answers`: the endpoint's own answers and error types;
//! * `server`: the listener and one request's steps;
//! * `logs`: the JSON log lines; `ids`: request and instance ids.
//!
//! Owns: running the endpoint until Ctrl-C or SIGTERM.
//! Must not: share state with the Lambda (`sandbox`, `runtime_api`) side,
//! which it does not use: a Web Function has no Runtime API.

mod answers;
mod env;
mod fleet;
mod ids;
mod instance;
mod logs;
mod options;
mod proxy;
mod request;
mod server;

pub use options::{parse, Parsed, UsageError, WebConfig};

use std::sync::Arc;

/// Runs `portside-local web ARGS`; the exit code.
pub async fn run(args: Vec<String>) -> i32 {
    let dir = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("portside-local web: cannot read the current folder: {e}");
            return 1;
        }
    };
    let cfg = match parse(&args, dir) {
        Ok(Parsed::Run(cfg)) => Arc::new(*cfg),
        Ok(Parsed::Help(text)) => {
            print!("{text}");
            return 0;
        }
        Err(e) => {
            eprint!("{}", e.message);
            return e.code;
        }
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", cfg.port)).await {
        Ok(l) => l,
        Err(e) => {
            let holder = (e.kind() == std::io::ErrorKind::AddrInUse)
                .then(|| crate::sandbox::ports::describe_holder("127.0.0.1", cfg.port))
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            eprintln!(
                "portside-local web: cannot listen on 127.0.0.1:{}: {e}{holder}; pick another port with --port",
                cfg.port
            );
            return 1;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(cfg.port);
    serve(cfg, listener, port).await
}

/// Serves until a stop signal, then stops every environment.
async fn serve(cfg: Arc<WebConfig>, listener: tokio::net::TcpListener, port: u16) -> i32 {
    let log = Arc::new(logs::Log {
        region: cfg.region.clone(),
        endpoint_name: cfg.endpoint_name.clone(),
        function_name: cfg.function_name.clone(),
        show_app_output: cfg.show_app_output,
    });
    let fleet = fleet::Fleet::new(Arc::clone(&cfg), log);
    let endpoint = Arc::new(server::Endpoint {
        cfg: Arc::clone(&cfg),
        fleet: Arc::clone(&fleet),
    });
    // Listening for signals from here on: one between start-up and the wait
    // below is not lost.
    let stop = crate::cli::stop_signal();
    let accept = tokio::spawn(server::serve(listener, endpoint));
    tokio::spawn(Arc::clone(&fleet).scale_down_idle());
    fleet.prewarm();
    let url = format!("http://127.0.0.1:{port}");
    println!(
        "portside-local: web function {} is up at {url}/ (endpoint {}, up to {} execution environments of {} requests each; app: {})",
        cfg.function_name,
        cfg.endpoint_name,
        cfg.max_environments,
        cfg.max_concurrency,
        cfg.command.join(" ")
    );
    println!("  try: curl -i {url}/");
    stop.await;
    accept.abort();
    eprintln!("portside-local: stopping: requests in flight finish, then each app gets SIGTERM (Ctrl-C again: SIGKILL now)");
    let again = crate::cli::stop_signal();
    tokio::select! {
        _ = fleet.stop() => {}
        _ = again => fleet.kill(),
    }
    0
}
