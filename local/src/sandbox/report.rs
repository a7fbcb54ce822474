//! Plain-language reports of a failed init: what failed (the process that
//! exited and how, the error a runtime or extension posted, or an init that
//! ran out of time), the last lines the runtime wrote, and for an app behind
//! the portside adapter whether anything listens where the adapter looks.
//! Builds text only; the sandbox decides when to print it.

use super::ports;
use crate::runtime_api::{FunctionError, InitState};
use std::time::Duration;

/// What the report is built from.
pub struct Facts<'a> {
    /// The init state that failed.
    pub state: &'a InitState,
    /// The bound the init ran under.
    pub init_timeout: Duration,
    /// The last lines of the runtime's output, oldest first.
    pub tail: Vec<String>,
    /// Where the portside adapter expects the app, when it serves one.
    pub app: Option<(String, u16)>,
    /// Whether something accepted a connection there when init failed.
    pub app_listening: bool,
    /// Where the function's processes listen instead (`127.0.0.1:8000`).
    pub listening_elsewhere: Vec<String>,
    /// What the runtime process is, when it is the app: `the app (python3
    /// app.py)`, `the app (started by the handler run.sh)`.
    pub app_label: Option<&'a str>,
}

/// The report, several lines, without the `portside-local:` prefix.
pub fn describe(f: &Facts<'_>) -> String {
    let mut out = match f.state {
        InitState::TimedOut => timed_out(f),
        InitState::Failed(e) => failed(f, e),
        InitState::Pending | InitState::Ready => "init did not finish".to_string(),
    };
    // What the app wrote last often says why (a traceback, or the port
    // it really listens on).
    let quote_tail = !f.tail.is_empty();
    if quote_tail {
        out.push_str("\n  its last lines of output:");
        for line in &f.tail {
            out.push_str("\n    | ");
            out.push_str(line);
        }
    }
    out
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

fn timed_out(f: &Facts<'_>) -> String {
    let lead = format!(
        "the function did not finish starting within {}: ",
        secs(f.init_timeout)
    );
    let what = match &f.app {
        Some((host, port)) if !f.app_listening && !f.listening_elsewhere.is_empty() => {
            elsewhere("its app never became ready: ", host, *port, &f.listening_elsewhere)
        }
        Some((host, port)) if !f.app_listening => format!(
            "its app never became ready: nothing listens on {host}:{port} — is your app listening on $PORT ({port})?"
        ),
        Some((host, port)) => format!(
            "its app never became ready: something accepts connections on {host}:{port}, but the adapter's readiness check did not pass (its log lines above say what it saw)"
        ),
        None => "its runtime never asked for its first event, or an extension never said it was ready. Find what its start waits on (its output may say), or make the start faster".to_string(),
    };
    // Lambda's words for it, on a line of their own: its INIT_REPORT line
    // (the duration is the limit it ran into), and the error type of an
    // invocation it could not take.
    format!(
        "{lead}{what}\n  (Lambda: INIT_REPORT Init Duration: {:.2} ms Phase: init Status: timeout; Sandbox.Timedout)",
        f.init_timeout.as_secs_f64() * 1000.0
    )
}

/// The app listens, but not where the adapter looks: what to do.
pub fn elsewhere(lead: &str, host: &str, port: u16, found: &[String]) -> String {
    let first = found.first().map(String::as_str).unwrap_or("");
    let their_port = first.rsplit(':').next().unwrap_or("");
    format!(
        "{lead}nothing listens on {host}:{port}, but the app listens on {}. Start it on $PORT ({port}), or tell portside-local the port it uses: --env PORT={their_port}",
        found.join(", ")
    )
}

fn failed(f: &Facts<'_>, e: &FunctionError) -> String {
    let how = e
        .exit
        .as_ref()
        .filter(|exit| exit.extension.is_none())
        .map(|exit| exit.how.as_str());
    match (how, f.app_label) {
        (Some(how), Some(app)) => format!(
            "init failed: {app} exited with {how} before it was ready ({})",
            e.error_type
        ),
        (Some(how), None) => format!(
            "init failed: the runtime process exited with {how} before it was ready ({})",
            e.error_type
        ),
        (None, _) if e.error_message.is_empty() => format!("init failed: {}", e.error_type),
        (None, _) => format!("init failed: {}: {}", e.error_type, e.error_message),
    }
}

/// Why nothing should listen on the app's port before the function starts.
pub fn port_taken(host: &str, port: u16) -> String {
    format!(
        "{}: an app left over from an earlier run, or another server. The adapter would take it for this function's app. Stop it, or give this function another port with --env PORT=N",
        ports::describe_holder(host, port)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime_api::ProcessExit;

    fn facts(state: &InitState) -> Facts<'_> {
        Facts {
            state,
            init_timeout: Duration::from_secs(10),
            tail: vec![
                "Traceback (most recent call last):".into(),
                "NameError: x".into(),
            ],
            app: Some(("127.0.0.1".into(), 8080)),
            app_listening: false,
            listening_elsewhere: Vec::new(),
            app_label: Some("the app (started by the handler run.sh)"),
        }
    }

    #[test]
    fn an_app_that_exits_is_named_with_its_status_and_output() {
        let state = InitState::Failed(FunctionError::process_exited(ProcessExit {
            extension: None,
            how: "exit status 3".into(),
        }));
        let text = describe(&facts(&state));
        assert!(
            text.starts_with(
                "init failed: the app (started by the handler run.sh) exited with exit status 3"
            ),
            "{text}"
        );
        assert!(text.contains("    | NameError: x"), "{text}");
    }

    #[test]
    fn an_init_timeout_says_whether_anything_listens() {
        // Lambda's INIT_REPORT line for an init that ran into its limit, as
        // the lifecycle guide's example shows it ("INIT_REPORT Init
        // Duration: ... ms Phase: init Status: timeout"), and the error type
        // of the invocation that could not run.
        let lambda = "\n  (Lambda: INIT_REPORT Init Duration: 10000.00 ms Phase: init Status: timeout; Sandbox.Timedout)";
        let text = describe(&facts(&InitState::TimedOut));
        assert!(
            text.starts_with(&format!("the function did not finish starting within 10 s: its app never became ready: nothing listens on 127.0.0.1:8080 — is your app listening on $PORT (8080)?{lambda}\n  its last lines of output:")),
            "{text}"
        );
        let mut f = facts(&InitState::TimedOut);
        f.app_listening = true;
        assert!(describe(&f).contains("readiness check did not pass"));
        // uvicorn's default port instead of $PORT: named, with the fix.
        let mut f = facts(&InitState::TimedOut);
        f.listening_elsewhere = vec!["127.0.0.1:8000".into()];
        assert!(describe(&f).starts_with(&format!("the function did not finish starting within 10 s: its app never became ready: nothing listens on 127.0.0.1:8080, but the app listens on 127.0.0.1:8000. Start it on $PORT (8080), or tell portside-local the port it uses: --env PORT=8000{lambda}")), "{}", describe(&f));
    }

    #[test]
    fn an_init_timeout_without_an_app_says_what_waited_in_plain_words() {
        let mut f = facts(&InitState::TimedOut);
        f.app = None;
        f.app_label = None;
        f.tail.clear();
        f.init_timeout = Duration::from_millis(700);
        assert_eq!(
            describe(&f),
            "the function did not finish starting within 0.7 s: its runtime never asked for its first event, or an extension never said it was ready. Find what its start waits on (its output may say), or make the start faster\n  (Lambda: INIT_REPORT Init Duration: 700.00 ms Phase: init Status: timeout; Sandbox.Timedout)"
        );
    }

    #[test]
    fn a_posted_init_error_is_quoted() {
        let state = InitState::Failed(FunctionError::lambda(
            "Portside.AppNotReady",
            "not ready after 5 s",
        ));
        let mut f = facts(&state);
        f.tail.clear();
        assert_eq!(
            describe(&f),
            "init failed: Portside.AppNotReady: not ready after 5 s"
        );
    }
}
