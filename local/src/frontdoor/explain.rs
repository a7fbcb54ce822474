//! What the front door says when an invocation fails: what happened and
//! what to do, in plain words, with Lambda's error type beside it; and, for
//! an event that is not an HTTP request and that the app refused, where the
//! portside adapter sent it (`PORTSIDE_PASS_THROUGH_PATH`).
//!
//! Pure: it builds text; the caller prints it.

use crate::runtime_api::FunctionError;
use serde_json::Value;

/// One line (without the `portside-local: ` prefix) for a failed
/// invocation.
pub fn failure(e: &FunctionError) -> String {
    let t = e.error_type.as_str();
    let msg = e.error_message.trim();
    match t {
        "Sandbox.Timedout" => format!(
            "the function did not finish in time ({msg}); Lambda stops it there. Raise --timeout, or find what it waits on ({t})"
        ),
        "Function.ResponseSizeTooLarge" => format!(
            "the function's response is over Lambda's 6 MB limit; return less, or stream it ({t})"
        ),
        _ if e.is_crash() => format!(
            "a process of the function exited during the invocation ({msg}); its last output above says why ({t})"
        ),
        "Portside.AppTimeout" => format!(
            "the app did not answer before the function's timeout: {msg} ({t})"
        ),
        "Portside.AppUnreachable" => format!(
            "the adapter could not reach the app: {msg}. Is it still running, on $PORT? ({t})"
        ),
        _ if msg.is_empty() => format!("the function failed ({t})"),
        _ => format!("the function failed: {msg} ({t})"),
    }
}

/// Whether a raw event is one of the HTTP shapes the adapter turns into a
/// request (API Gateway, Function URL, ALB, VPC Lattice); anything else goes
/// to the pass-through path.
fn is_http_event(event: &Value) -> bool {
    event.get("httpMethod").is_some()
        || event.pointer("/requestContext/http/method").is_some()
        || (event.get("method").is_some() && event.get("raw_path").is_some())
        || (event.get("method").is_some()
            && event.get("path").is_some()
            && event.get("version").is_some())
        || event.pointer("/requestContext/routeKey").is_some()
}

/// For an event the app answered with an error status: where the adapter
/// posted it and how to change that. `env` is the function's variables.
pub fn pass_through(event: &[u8], e: &FunctionError, env: &[(String, String)]) -> Option<String> {
    if e.error_type != "Portside.AppError" {
        return None;
    }
    let v: Value = serde_json::from_slice(event).ok()?;
    if is_http_event(&v) {
        return None;
    }
    let (name, path) = ["PORTSIDE_PASS_THROUGH_PATH", "AWS_LWA_PASS_THROUGH_PATH"]
        .iter()
        .find_map(|n| {
            env.iter()
                .rev()
                .find(|(k, _)| k == n)
                .map(|(_, v)| (*n, v.clone()))
        })
        .unwrap_or(("PORTSIDE_PASS_THROUGH_PATH", "/events".to_string()));
    Some(format!(
        "the event is not an HTTP request, so the portside adapter POSTed it to the app at {path} ({name}), and the app refused it. Give the app a POST route at {path} that handles these events, or point {name} at the route that does (--env {name}=/your/route)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app_error() -> FunctionError {
        FunctionError::lambda(
            "Portside.AppError",
            "the app answered the event with status 404, not 2xx",
        )
    }

    #[test]
    fn a_refused_event_names_the_path_and_the_variable() {
        let s3 = br#"{"Records": [{"eventSource": "aws:s3"}]}"#;
        let hint = pass_through(s3, &app_error(), &[]).expect("a hint");
        assert!(
            hint.contains("at /events (PORTSIDE_PASS_THROUGH_PATH)"),
            "{hint}"
        );
        let env = vec![(
            "AWS_LWA_PASS_THROUGH_PATH".to_string(),
            "/hooks".to_string(),
        )];
        let hint = pass_through(s3, &app_error(), &env).expect("a hint");
        assert!(
            hint.contains("at /hooks (AWS_LWA_PASS_THROUGH_PATH)"),
            "{hint}"
        );
        // An HTTP event is not passed through; another error is not this.
        let http = br#"{"version": "2.0", "requestContext": {"http": {"method": "GET"}}}"#;
        assert_eq!(pass_through(http, &app_error(), &[]), None);
        let other = FunctionError::lambda("Portside.AppTimeout", "late");
        assert_eq!(pass_through(s3, &other, &[]), None);
    }

    #[test]
    fn failures_say_what_to_do_and_keep_the_type() {
        let t = failure(&FunctionError::lambda(
            "Sandbox.Timedout",
            "Task timed out after 3.00 seconds",
        ));
        assert!(
            t.contains("Raise --timeout") && t.ends_with("(Sandbox.Timedout)"),
            "{t}"
        );
    }
}
