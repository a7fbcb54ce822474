//! Parsing and preparing, against what the help text promises, and the
//! guide's flag tables against the command line's definition.

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
    let Ok(Command::Help(help)) = parse(&args(&["--help"])) else {
        panic!("--help")
    };
    assert!(
        help.contains("--function <DIR>") && help.contains("--jwt-issuer <URL>"),
        "{help}"
    );
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

#[test]
fn the_command_line_definition_is_sound() {
    // clap's own checks: unique names, defaults its parsers accept, ...
    args::command().debug_assert();
}

#[test]
fn ranges_are_refused_naming_the_flag_and_the_range() {
    for (flag, value, range) in [
        ("--timeout", "0.5", "from 1 to 900"),
        ("--timeout", "901", "from 1 to 900"),
        ("--memory", "127", "from 128 to 10240"),
        ("--memory", "10241", "from 128 to 10240"),
        ("--environments", "65", "from 1 to 64"),
        ("--integration-timeout", "0.01", "from 0.05 to 900"),
        ("--port", "65536", "from 0 to 65535"),
        ("--concurrency", "0", "at least 1"),
        ("--authorizer-ttl", "3601", "from 0 (no caching) to 3600"),
    ] {
        let err = parse(&args(&["--function", "f", flag, value])).expect_err("refused");
        assert!(
            err.contains(&format!("'{flag} <")) && err.contains(range),
            "{flag} {value}: {err}"
        );
    }
    // The edges themselves are accepted.
    let Ok(Command::Run(o)) = parse(&args(&[
        "--function",
        "f",
        "--timeout",
        "900",
        "--memory",
        "128",
        "--environments",
        "64",
    ])) else {
        panic!("parsed")
    };
    assert_eq!(
        (o.timeout, o.memory, o.environments),
        (Duration::from_secs(900), 128, 64)
    );
}

#[test]
fn sources_are_named_as_the_adapter_names_them_and_older_names_work() {
    for (given, source) in [
        ("http-api", Source::HttpApiV2),
        ("http-api-v2", Source::HttpApiV2),
        ("alb-multi", Source::Alb { multi_value: true }),
        ("alb-multi-value", Source::Alb { multi_value: true }),
        ("lattice-v1", Source::LatticeV1),
        ("vpc-lattice-v2", Source::LatticeV2),
    ] {
        let Ok(Command::Run(o)) = parse(&args(&["--function", "f", "--event", given])) else {
            panic!("{given}")
        };
        assert_eq!(o.source, source, "{given}");
    }
}

#[test]
fn a_flag_given_twice_takes_the_last_value() {
    let Ok(Command::Run(o)) = parse(&args(&["--port", "1", "--function", "f", "--port=2"])) else {
        panic!("parsed")
    };
    assert_eq!(o.port, 2);
}

#[test]
fn version_layer_path_web_and_up_are_subcommands() {
    for flag in ["--version", "-V"] {
        let Ok(Command::Help(v)) = parse(&args(&[flag])) else {
            panic!("{flag}")
        };
        assert_eq!(
            v.trim_end(),
            format!(
                "portside-local {} (commit {})",
                installed::VERSION,
                installed::COMMIT
            )
        );
    }
    assert_eq!(
        parse(&args(&["layer-path", "--arch", "arm64"])),
        Ok(Command::LayerPath("arm64".into()))
    );
    assert_eq!(
        parse(&args(&["layer-path"])),
        Ok(Command::LayerPath(installed::host_arch().into()))
    );
    let err = parse(&args(&["layer-path", "--arch", "sparc"])).expect_err("refused");
    assert!(err.contains("use x86_64 or arm64"), "{err}");
    // web and up parse their own arguments, `--` and --help included.
    assert_eq!(
        parse(&args(&["web", "--port", "4", "--", "node", "x.js"])),
        Ok(Command::Web(args(&["--port", "4", "--", "node", "x.js"])))
    );
    assert_eq!(
        parse(&args(&["up", "stack", "--help"])),
        Ok(Command::Up(args(&["stack", "--help"])))
    );
}

/// The guide's table between `<!-- NAME: begin ... -->` and `<!-- NAME:
/// end -->` in `page`.
fn guide_table(page: &str, name: &str) -> (String, String) {
    let path = format!("{}/../docs/src/{page}", env!("CARGO_MANIFEST_DIR"));
    let guide = std::fs::read_to_string(&path).expect("the guide's page");
    let start = format!("<!-- {name}: begin (portside_local::cli::flags_table) -->\n");
    let end = format!("<!-- {name}: end -->");
    let table = guide
        .split_once(&start)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(table, _)| table.to_string())
        .unwrap_or_else(|| panic!("no {name} markers in {path}"));
    (path, table)
}

#[test]
fn the_guide_lists_every_flag_as_the_command_line_has_it() {
    for (page, name, headings) in [
        (
            "portside-local.md",
            "local-flags",
            &["Launch", "Options"][..],
        ),
        (
            "portside-local-daily.md",
            "daily-flags",
            &["Daily loop", args::AUTHORIZERS][..],
        ),
    ] {
        let (path, table) = guide_table(page, name);
        let want = flags_table(headings);
        assert!(
            table == want,
            "{path} is out of date; between its {name} markers goes:\n{want}"
        );
    }
}
