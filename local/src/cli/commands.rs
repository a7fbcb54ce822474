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
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", o.port)).await {
        Ok(l) => l,
        Err(e) => {
            let holder = (e.kind() == std::io::ErrorKind::AddrInUse)
                .then(|| crate::sandbox::ports::describe_holder("127.0.0.1", o.port))
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            eprintln!(
                "portside-local: cannot listen on 127.0.0.1:{}: {e}{holder}; pick another front door port with --port",
                o.port
            );
            return 1;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(o.port);
    let function = prepared.function;
    let mut door = FrontDoorConfig::new(o.source, &o.region);
    door.response_stream = o.response_stream;
    if o.integration_timeout.is_some() {
        door.integration_timeout = o.integration_timeout;
    }
    match super::daily::prepare_door(&mut door, o, &function).await {
        Ok(()) => {}
        Err(e) => {
            eprintln!("portside-local: {e}");
            return 1;
        }
    }
    let door = Arc::new(door);
    tokio::spawn(frontdoor::serve(
        listener,
        Arc::clone(&function),
        Arc::clone(&door),
    ));
    let cfg = function.config();
    eprintln!(
        "portside-local: starting {} ({}{})",
        o.name,
        cfg.runtime.name(),
        match function.max_environments() {
            1 => String::new(),
            n => format!(", up to {n} execution environments"),
        }
    );
    let _watch = match super::daily::announce(&door, o, &function) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("portside-local: {e}");
            function.shutdown().await;
            return 1;
        }
    };
    if o.response_stream && function.first().app_address().is_some() {
        let mode = crate::sandbox::ports::first_set(
            &cfg.env,
            &["PORTSIDE_INVOKE_MODE", "AWS_LWA_INVOKE_MODE"],
        );
        if mode != Some("response_stream") {
            eprintln!(
                "portside-local: note: the portside adapter streams only with --env PORTSIDE_INVOKE_MODE=response_stream; without it the function answers buffered"
            );
        }
    }
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
        InitState::Failed(e) if e.is_port_in_use() => {
            // Nothing can work while another process holds the port.
            super::daily::shutdown(&door, &function).await;
            return 1;
        }
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
    stop.await;
    eprintln!("portside-local: shutting down");
    super::daily::shutdown(&door, &function).await;
    0
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
