//! Parsing and preparing, against what the help text promises.

use super::*;
use crate::frontdoor::events::Source;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn args(s: &[&str]) -> Vec<String> {
    s.iter().map(|a| a.to_string()).collect()
}

#[test]
fn parses_the_launch_forms() {
    let Ok(Command::Run(o)) = parse(&args(&[
        "--function",
        "f",
        "--handler",
        "run.sh",
        "--layer",
        "l.zip",
        "--port=0",
        "--event",
        "alb-multi",
        "--timeout",
        "3",
        "--memory",
        "256",
        "--env",
        "A=1",
        "--env",
        "B=x=y",
        "--no-freeze",
    ])) else {
        panic!("parsed")
    };
    assert_eq!(o.function, Some(PathBuf::from("f")));
    assert_eq!(o.layer, Some(PathBuf::from("l.zip")));
    assert_eq!(o.port, 0);
    assert_eq!(o.source, Source::Alb { multi_value: true });
    assert_eq!(o.timeout, Duration::from_secs(3));
    assert_eq!(o.memory, 256);
    assert_eq!(
        o.env,
        vec![("A".into(), "1".into()), ("B".into(), "x=y".into())]
    );
    assert!(o.no_freeze);
    let Ok(Command::Run(o)) = parse(&args(&[
        "--port",
        "8000",
        "--",
        "python3",
        "-m",
        "http.server",
        "--bind",
        "x",
    ])) else {
        panic!("parsed")
    };
    assert_eq!(
        o.command,
        args(&["python3", "-m", "http.server", "--bind", "x"])
    );
    let Ok(Command::Run(o)) = parse(&args(&[
        "invoke",
        "--event-file",
        "e.json",
        "--function",
        "f",
    ])) else {
        panic!("parsed")
    };
    assert_eq!(o.invoke_file, Some(PathBuf::from("e.json")));
    assert_eq!(parse(&args(&["--help"])), Ok(Command::Help));
    let Ok(Command::Run(o)) = parse(&args(&[
        "--function",
        "f",
        "--event",
        "rest-api",
        "--response-stream",
        "--environments",
        "3",
        "--integration-timeout=1.5",
        "--example-event",
        r#"{"Records":[]}"#,
    ])) else {
        panic!("parsed")
    };
    assert!(o.response_stream);
    assert_eq!(o.environments, 3);
    assert_eq!(o.integration_timeout, Some(Duration::from_millis(1500)));
    assert_eq!(o.example_event.as_deref(), Some(r#"{"Records":[]}"#));
    let Ok(Command::Run(o)) = parse(&args(&["--function", "f"])) else {
        panic!("parsed")
    };
    assert_eq!(o.environments, DEFAULT_ENVIRONMENTS);
    assert_eq!(o.integration_timeout, None);
}

#[test]
fn errors_say_what_to_do() {
    for (a, needle) in [
        (vec![], "--function DIR"),
        (vec!["--function"], "needs a value"),
        (vec!["--function", "f", "--event", "sqs"], "http-api"),
        (vec!["--function", "f", "--port", "x"], "port number"),
        (vec!["--function", "f", "--env", "NOEQUALS"], "KEY=VALUE"),
        (vec!["invoke", "--function", "f"], "--event-file"),
        (vec!["--bogus"], "unknown argument"),
        (vec!["--"], "followed by the command"),
        (vec!["--function", "f", "--response-stream"], "function-url"),
        (
            vec!["--function", "f", "--event", "alb", "--response-stream"],
            "alb cannot stream",
        ),
        (
            vec!["--function", "f", "--environments", "0"],
            "from 1 to 64",
        ),
        (
            vec!["--function", "f", "--integration-timeout", "x"],
            "seconds",
        ),
        (
            vec!["--function", "f", "--example-event", "{"],
            "JSON event",
        ),
    ] {
        let err = parse(&args(&a)).expect_err("an error");
        assert!(err.contains(needle), "{a:?}: {err}");
    }
}

#[test]
fn a_missing_adapter_says_so() {
    let err = find_adapter(Some(Path::new("/nonexistent/portside"))).expect_err("missing");
    assert!(err.contains("does not exist"));
}
