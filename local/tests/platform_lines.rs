//! Lambda's START, END and REPORT lines as portside-local prints them
//! around each invocation, over a real sandbox: the portside-local binary
//! running AWS's own runtime client (`awslambdaric`) and a Python handler.
//!
//! Oracles: the line formats Lambda writes to CloudWatch Logs (spelled out
//! here, field by field), the request ids the Invoke API answered with,
//! and the handler's own measure of its peak memory
//! (`getrusage(RUSAGE_SELF).ru_maxrss`, the kernel's count for the process).

mod common;

use common::local::{Launch, Local};
use common::{post, venv_python, TempDir};
use std::time::Duration;

/// Answers with the process's peak resident set in KiB; `grow` first
/// writes 64 MiB (kept alive until the answer is built); `sleep` outlasts
/// the function timeout.
const HANDLER: &str = r#"
import resource, sys, time
def fn(event, context):
    time.sleep(event.get("sleep", 0))
    keep = b"x" * (64 * 1024 * 1024) if event.get("grow") else b""
    print("handling", context.aws_request_id, file=sys.stderr)
    return {"rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "kept": len(keep)}
"#;

/// One REPORT line, read field by field.
#[derive(Debug)]
struct Report {
    duration_ms: f64,
    billed_ms: u64,
    memory_size_mb: u64,
    max_memory_used_mb: u64,
    init_duration_ms: Option<f64>,
    timed_out: bool,
}

/// `NAME: VALUE UNIT` → VALUE, checking the name and unit.
fn field<'a>(text: &'a str, name: &str, unit: &str) -> &'a str {
    text.strip_prefix(name)
        .and_then(|rest| rest.strip_prefix(": "))
        .and_then(|rest| rest.strip_suffix(unit))
        .and_then(|rest| rest.strip_suffix(' '))
        .unwrap_or_else(|| panic!("{text:?} is not `{name}: N {unit}`"))
}

/// Two decimals, as Lambda prints durations.
fn two_decimals(value: &str) -> f64 {
    let (_, decimals) = value
        .split_once('.')
        .unwrap_or_else(|| panic!("{value:?} has no decimals"));
    assert_eq!(decimals.len(), 2, "{value:?} has not two decimals");
    value.parse().expect("a number")
}

fn parse_report(line: &str, request_id: &str) -> Report {
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(
        fields[0],
        format!("REPORT RequestId: {request_id}"),
        "{line:?}"
    );
    let timed_out = fields.last() == Some(&"Status: timeout");
    let fields = &fields[..fields.len() - usize::from(timed_out)];
    assert!(
        fields.len() == 5 || fields.len() == 6,
        "REPORT has the request id, 4 or 5 tab-separated fields, then perhaps a status: {line:?}"
    );
    Report {
        duration_ms: two_decimals(field(fields[1], "Duration", "ms")),
        billed_ms: field(fields[2], "Billed Duration", "ms")
            .parse()
            .expect("whole ms"),
        memory_size_mb: field(fields[3], "Memory Size", "MB").parse().expect("MB"),
        max_memory_used_mb: field(fields[4], "Max Memory Used", "MB")
            .parse()
            .expect("MB"),
        init_duration_ms: fields
            .get(5)
            .map(|f| two_decimals(field(f, "Init Duration", "ms"))),
        timed_out,
    }
}

/// The index of the one line equal to `wanted` (or starting with it, for
/// REPORT), failing if there is not exactly one.
fn only_line(lines: &[&str], wanted: &str, prefix: bool) -> usize {
    let found: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            if prefix {
                l.starts_with(wanted)
            } else {
                **l == wanted
            }
        })
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one line {wanted:?} in:\n{}",
        lines.join("\n")
    );
    found[0]
}

#[tokio::test]
async fn each_invocation_is_framed_by_start_end_and_report() {
    let python = venv_python();
    let dir = TempDir::new("platform-lines");
    std::fs::write(dir.path().join("handler.py"), HANDLER).expect("write handler");
    let fdir = dir.path().display().to_string();
    let python = python.display().to_string();
    let local = Local::start(
        Launch::new(&[
            "--function",
            &fdir,
            "--runtime",
            "python3.12",
            "--handler",
            "handler.fn",
            "--name",
            "platform-fn",
            "--memory",
            "512",
            "--timeout",
            "2",
        ])
        .env("PORTSIDE_LOCAL_PYTHON", &python),
    );
    let invoke = "/2015-03-31/functions/platform-fn/invocations";
    let mut runs = Vec::new();
    for event in [r#"{"grow":false}"#, r#"{"grow":true}"#] {
        let r = post(local.addr(), invoke, &[], event).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let id = r.header("x-amzn-requestid").expect("x-amzn-requestid");
        let rss_kib = r.json()["rss_kib"].as_u64().expect("rss_kib");
        // END and REPORT follow the result.
        local.wait_for_stderr(&format!("REPORT RequestId: {id}"), Duration::from_secs(10));
        runs.push((id, rss_kib));
    }
    let stderr = local.stderr();
    let lines: Vec<&str> = stderr.lines().collect();
    let mut previous_report = None;
    for (n, (id, rss_kib)) in runs.iter().enumerate() {
        let start = only_line(
            &lines,
            &format!("START RequestId: {id} Version: $LATEST"),
            false,
        );
        // The handler's own line, as the sandbox copies it (`[runtime#1] ...`).
        let handled = lines
            .iter()
            .position(|l| l.starts_with("[runtime") && l.ends_with(&format!("] handling {id}")))
            .unwrap_or_else(|| panic!("the handler's line for {id}:\n{stderr}"));
        let end = only_line(&lines, &format!("END RequestId: {id}"), false);
        let report = only_line(&lines, &format!("REPORT RequestId: {id}\t"), true);
        assert!(
            start < handled && handled < end && end == report - 1,
            "START, the handler's line, END, then REPORT right after:\n{stderr}"
        );
        if let Some(prev) = previous_report {
            assert!(prev < start, "one invocation after the other:\n{stderr}");
        }
        previous_report = Some(report);

        let r = parse_report(lines[report], id);
        assert_eq!(r.memory_size_mb, 512, "{}", lines[report]);
        assert!(!r.timed_out, "{}", lines[report]);
        // Only the cold start's first invocation reports its init, and
        // billing (init included, as Lambda bills it since August 2025)
        // rounds up to the next millisecond; the two-decimal print can hide
        // up to 0.005 ms each way.
        assert_eq!(r.init_duration_ms.is_some(), n == 0, "{}", lines[report]);
        let billed_exact = r.duration_ms + r.init_duration_ms.unwrap_or(0.0);
        let slack = if r.init_duration_ms.is_some() {
            0.01
        } else {
            0.005
        };
        let low = (billed_exact - slack).ceil().max(1.0) as u64;
        let high = (billed_exact + slack).ceil().max(1.0) as u64;
        assert!(
            (low..=high).contains(&r.billed_ms),
            "billed {} ms for {} ms: {}",
            r.billed_ms,
            billed_exact,
            lines[report]
        );
        assert!(
            r.duration_ms > 0.0 && r.duration_ms < 10_000.0,
            "{}",
            lines[report]
        );
        // The environment is the runtime process alone here: its peak, as
        // the kernel counted it for the handler, rounded up to MB; it may
        // grow a little between the handler's answer and the report.
        let rss_mb = rss_kib.div_ceil(1024);
        assert!(
            r.max_memory_used_mb >= rss_mb && r.max_memory_used_mb <= rss_mb + 8,
            "max memory used {} MB, the handler saw {} MB: {}",
            r.max_memory_used_mb,
            rss_mb,
            lines[report]
        );
    }
    // The second invocation wrote 64 MiB more (less what the first one's
    // peak held and gave back).
    assert!(runs[1].1 >= runs[0].1 + 60 * 1024, "{runs:?}");

    // One the function timeout (2 s) ends: Lambda's error, and its REPORT
    // says so, with at least the timeout as its duration (and not the
    // handler's 5 s).
    let r = post(local.addr(), invoke, &[], r#"{"sleep":5}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["errorType"], "Sandbox.Timedout", "{}", r.text());
    let id = r.header("x-amzn-requestid").expect("x-amzn-requestid");
    let stderr = local.wait_for_stderr(&format!("REPORT RequestId: {id}"), Duration::from_secs(10));
    let lines: Vec<&str> = stderr.lines().collect();
    let start = only_line(
        &lines,
        &format!("START RequestId: {id} Version: $LATEST"),
        false,
    );
    let end = only_line(&lines, &format!("END RequestId: {id}"), false);
    let report = only_line(&lines, &format!("REPORT RequestId: {id}\t"), true);
    assert!(start < end && end == report - 1, "{stderr}");
    let r = parse_report(lines[report], &id);
    assert!(r.timed_out, "{}", lines[report]);
    assert!(r.init_duration_ms.is_none(), "{}", lines[report]);
    assert!(
        (2000.0..4900.0).contains(&r.duration_ms),
        "{}",
        lines[report]
    );
    assert!(r.billed_ms >= 2000, "{}", lines[report]);
}
