//! The two commands: serve (the front door and the function until Ctrl-C
//! or SIGTERM) and `invoke` (one event, the result JSON on stdout).
//!
//! It must not parse arguments or build the function.

use super::prepare::shell_quote;
use super::{Options, Prepared};
use crate::frontdoor::{self, FrontDoorConfig};
use crate::function::Function;
use crate::runtime_api::{InitState, InvokeOptions, Outcome};
use std::path::Path;
use std::sync::Arc;

pub(super) async fn invoke_once(function: &Arc<Function>, file: &Path) -> i32 {
    let event = match std::fs::read(file) {
        Ok(e) => e,
        Err(e) => {
            eprintln!(
                "portside-local: cannot read the event file {}: {e}",
                file.display()
            );
            return 1;
        }
    };
    let code = match function.invoke(event.into(), InvokeOptions::new()).await {
        Err(e) => {
            eprintln!("portside-local: {e}");
            println!("{}", crate::util::error_json(e.error_type(), &e.message()));
            1
        }
        Ok(inv) => {
            let outcome = inv.outcome().await;
            let result = outcome.invoke_result();
            println!("{}", String::from_utf8_lossy(&result.payload));
            match outcome {
                Outcome::Response(_) | Outcome::Streamed(_) => 0,
                _ => 1,
            }
        }
    };
    function.shutdown().await;
    code
}

pub(super) async fn serve(prepared: Prepared, o: &Options) -> i32 {
    let Some(listener) = bind_front_door(o.port).await else {
        return 1;
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(o.port);
    let function = prepared.function;
    let door = match door_config(o, &function).await {
        Ok(door) => Arc::new(door),
        Err(e) => {
            eprintln!("portside-local: {e}");
            return 1;
        }
    };
    tokio::spawn(frontdoor::serve(
        listener,
        Arc::clone(&function),
        Arc::clone(&door),
    ));
    print_starting(o, &function);
    let _watch = match super::daily::announce(&door, o, &function) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("portside-local: {e}");
            function.shutdown().await;
            return 1;
        }
    };
    note_buffered_adapter(o, &function);
    let url = format!("http://127.0.0.1:{port}");
    // One listener for the whole run, registered before init: a signal that
    // comes between init and the wait below (a client that stops us right
    // after its first request) is not lost.
    let stop = stop_signal();
    tokio::pin!(stop);
    let state = tokio::select! {
        state = function.init() => state,
        _ = &mut stop => {
            eprintln!("portside-local: shutting down");
            super::daily::shutdown(&door, &function).await;
            return 0;
        }
    };
    if !print_init_outcome(&state, o, &url) {
        super::daily::shutdown(&door, &function).await;
        return 1;
    }
    stop.await;
    eprintln!("portside-local: shutting down");
    super::daily::shutdown(&door, &function).await;
    0
}

/// Binds the front door on loopback at `port`; if it cannot, says why (and
/// which process holds the port) and how to pick another, and gives `None`.
async fn bind_front_door(port: u16) -> Option<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => Some(l),
        Err(e) => {
            let holder = (e.kind() == std::io::ErrorKind::AddrInUse)
                .then(|| crate::sandbox::ports::describe_holder("127.0.0.1", port))
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            eprintln!(
                "portside-local: cannot listen on 127.0.0.1:{port}: {e}{holder}; pick another front door port with --port"
            );
            None
        }
    }
}

/// The front door's configuration from the options: the event source,
/// streaming, the integration timeout, then what `--debug`, `--auth` and
/// the rest of the daily options add ([`super::daily::prepare_door`]).
async fn door_config(o: &Options, function: &Arc<Function>) -> Result<FrontDoorConfig, String> {
    let mut door = FrontDoorConfig::new(o.source, &o.region);
    door.response_stream = o.response_stream;
    if o.integration_timeout.is_some() {
        door.integration_timeout = o.integration_timeout;
    }
    super::daily::prepare_door(&mut door, o, function).await?;
    Ok(door)
}

/// Says on stderr which function starts, on which runtime, and in how many
/// execution environments when more than one.
fn print_starting(o: &Options, function: &Function) {
    eprintln!(
        "portside-local: starting {} ({}{})",
        o.name,
        function.config().runtime.name(),
        match function.max_environments() {
            1 => String::new(),
            n => format!(", up to {n} execution environments"),
        }
    );
}

/// With `--response-stream` and a web app behind the adapter, notes that
/// the adapter streams only when its invoke mode says so.
fn note_buffered_adapter(o: &Options, function: &Function) {
    if !o.response_stream || function.first().app_address().is_none() {
        return;
    }
    let mode = crate::sandbox::ports::first_set(
        &function.config().env,
        &["PORTSIDE_INVOKE_MODE", "AWS_LWA_INVOKE_MODE"],
    );
    if mode != Some("response_stream") {
        eprintln!(
            "portside-local: note: the portside adapter streams only with --env PORTSIDE_INVOKE_MODE=response_stream; without it the function answers buffered"
        );
    }
}

/// Says on stdout how the first init went: the URL and how to try it, or
/// what the front door answers while init fails. `false` when serving
/// cannot work at all (another process holds the app's port).
fn print_init_outcome(state: &InitState, o: &Options, url: &str) -> bool {
    match state {
        InitState::Ready => {
            println!(
                "portside-local: {} is up at {url}/ (event source {})",
                o.name,
                o.source.name()
            );
            println!("  try: curl -i {url}/");
            println!(
                "  raw events: curl -X POST {url}/2015-03-31/functions/{}/invocations -d {}",
                o.name,
                shell_quote(o.example_event.as_deref().unwrap_or("{}"))
            );
        }
        // Nothing can work while another process holds the port.
        InitState::Failed(e) if e.is_port_in_use() => return false,
        _ => {
            let answer =
                frontdoor::answers::answer(o.source, frontdoor::answers::Failure::Function);
            println!(
                "portside-local: {} could not start (see above). Its front door at {url}/ answers {} as {} does while init fails; each request tries init again",
                o.name,
                answer.status,
                o.source.title()
            );
        }
    }
    true
}

/// Ctrl-C (SIGINT) or SIGTERM, listened for from the call on (the
/// listeners exist before the returned future is first polled).
pub(crate) fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        match (interrupt, terminate) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            (Ok(mut int), Err(_)) => {
                int.recv().await;
            }
            (Err(_), Ok(mut term)) => {
                term.recv().await;
            }
            // No signal handling at all: Ctrl-C kills as it always does.
            (Err(_), Err(_)) => std::future::pending().await,
        }
    }
}
