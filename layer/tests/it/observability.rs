//! Observability without code changes, end to end: the access record
//! (`PORTSIDE_ACCESS_LOG`), the CloudWatch EMF record (`PORTSIDE_METRICS`),
//! Lambda's JSON log format, and the W3C `traceparent` the app receives.
//! Real sockets, the real `portside` binary, portside-local's Runtime API.

use std::time::Duration;

use crate::support::events::{function_url, http_api};
use crate::support::{error_of, result_json, App, Function, KeepAlive, Reply};
use portside_local::runtime_api::InvokeOptions;
use serde_json::{json, Value};

const SECRET_QUERY: &str = "s3cr3t-query-value";
const SECRET_HEADER: &str = "s3cr3t-header-value";
const SECRET_BODY: &str = "s3cr3t-body-value";
const SECRET_COOKIE: &str = "s3cr3t-cookie-value";

/// A request carrying a secret in each place a log must never show: the
/// query, a cookie, headers and the body.
fn event(method: &str, path: &str) -> String {
    http_api(method, path)
        .query(&format!("token={SECRET_QUERY}"))
        .cookies(&[&format!("session={SECRET_COOKIE}")])
        .header("authorization", &format!("Bearer {SECRET_HEADER}"))
        .header("x-api-key", SECRET_HEADER)
        .body(&format!("{{\"card\": \"{SECRET_BODY}\"}}"))
        .build()
}

/// The app echoes secrets back in its body and in a header too.
async fn app() -> App {
    App::start(KeepAlive::Forever, |req| {
        if req.target.starts_with("/slow") {
            return Reply::new(200)
                .delay(Duration::from_millis(40))
                .body("late");
        }
        Reply::new(201)
            .header("Content-Type", "application/json")
            .header("X-Echo", SECRET_HEADER)
            .body(format!("{{\"echo\": \"{SECRET_BODY}\"}}"))
    })
    .await
}

fn lines_containing<'l>(log: &'l str, needle: &str) -> Vec<&'l str> {
    log.lines().filter(|l| l.contains(needle)).collect()
}

fn assert_no_secret(log: &str) {
    for secret in [SECRET_QUERY, SECRET_HEADER, SECRET_BODY, SECRET_COOKIE] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
}

#[tokio::test]
async fn one_access_record_per_invocation_without_a_query_header_value_or_body() {
    let app = app().await;
    let f = Function::start(
        app.port,
        &[
            ("PORTSIDE_ACCESS_LOG", "true"),
            ("PORTSIDE_LOG_LEVEL", "debug"),
        ],
    )
    .await
    .ready()
    .await;
    let request_id = "8f1c0a7e-access-1";
    let outcome = f
        .invoke_with(
            &event("POST", "/users/42"),
            InvokeOptions::new()
                .timeout(Duration::from_secs(10))
                .request_id(request_id),
        )
        .await;
    assert_eq!(result_json(&outcome)["statusCode"], 201);
    let outcome = f
        .invoke_with(
            &event("GET", "/slow"),
            InvokeOptions::new().timeout(Duration::from_secs(10)),
        )
        .await;
    assert_eq!(result_json(&outcome)["statusCode"], 200);
    // An invocation that fails: the app is gone.
    let port = app.stop();
    let (kind, _) = error_of(&f.invoke(&event("GET", "/gone")).await);
    assert_eq!(kind, "Portside.AppUnreachable");
    tokio::time::sleep(Duration::from_millis(100)).await;

    let log = f.log();
    let records = lines_containing(&log, "[portside] ACCESS ");
    assert_eq!(records.len(), 3, "one record per invocation:\n{log}");
    let first = records[0];
    assert!(first.contains(request_id), "{first}");
    assert!(first.contains(" http-api-v2 "), "{first}");
    assert!(first.contains(" POST /users/42 201 "), "{first}");
    let bytes = format!("{{\"echo\": \"{SECRET_BODY}\"}}").len();
    assert!(first.contains(&format!(" bytes={bytes} ")), "{first}");
    assert!(first.ends_with("cold_start=true"), "{first}");
    let slow = records[1];
    let app_ms: f64 = field(slow, "app_ms=").parse().unwrap();
    assert!(app_ms >= 40.0, "the app's 40 ms are the app's time: {slow}");
    let adapter_ms: f64 = field(slow, "adapter_ms=").parse().unwrap();
    assert!(adapter_ms < app_ms, "{slow}");
    assert!(slow.ends_with("cold_start=false"), "{slow}");
    assert!(
        records[2].contains(" GET /gone Portside.AppUnreachable "),
        "{}",
        records[2]
    );
    // Debug logging too: no secret anywhere in what the adapter wrote.
    assert_no_secret(&log);
    let _ = port;
}

fn field<'l>(line: &'l str, key: &str) -> &'l str {
    let start = line.find(key).unwrap() + key.len();
    line[start..].split(' ').next().unwrap()
}

#[tokio::test]
async fn with_lambdas_json_log_format_every_line_is_a_json_object() {
    let app = app().await;
    let f = Function::start(
        app.port,
        &[
            ("PORTSIDE_ACCESS_LOG", "true"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("PORTSIDE_LOG_LEVEL", "debug"),
        ],
    )
    .await
    .ready()
    .await;
    let request_id = "8f1c0a7e-json-1";
    let outcome = f
        .invoke_with(
            &event("POST", "/users/42"),
            InvokeOptions::new()
                .timeout(Duration::from_secs(10))
                .request_id(request_id),
        )
        .await;
    assert_eq!(result_json(&outcome)["statusCode"], 201);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = f.log();
    let mut access = None;
    for line in log.lines().filter(|l| !l.starts_with("[stdout]")) {
        let value: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        for field in ["timestamp", "level", "message"] {
            assert!(value[field].is_string(), "{field} in {line}");
        }
        if value["type"] == "access" {
            access = Some(value);
        }
    }
    let access = access.expect("an access record");
    assert_eq!(access["requestId"], request_id);
    assert_eq!(access["method"], "POST");
    assert_eq!(access["path"], "/users/42");
    assert_eq!(access["status"], 201);
    assert!(access["appMs"].as_f64().unwrap() >= 0.0);
    assert_eq!(access["coldStart"], true);
    // The debug line about the invocation carries its id as a field.
    assert!(
        log.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|v| v["level"] == "DEBUG" && v["requestId"] == request_id),
        "{log}"
    );
    assert_no_secret(&log);
}

#[tokio::test]
async fn emf_metrics_reach_stdout_one_record_per_invocation() {
    let app = app().await;
    let f = Function::start(
        app.port,
        &[
            ("PORTSIDE_METRICS", "emf"),
            ("PORTSIDE_METRICS_NAMESPACE", "shop/checkout"),
        ],
    )
    .await
    .ready()
    .await;
    for _ in 0..2 {
        let outcome = f.invoke(&event("POST", "/users/42")).await;
        assert_eq!(result_json(&outcome)["statusCode"], 201);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = f.log();
    let records: Vec<Value> = log
        .lines()
        .filter_map(|l| l.strip_prefix("[stdout] "))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{log}");
    let directive = &records[0]["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "shop/checkout");
    assert_eq!(
        directive["Dimensions"],
        json!([["FunctionName", "EventSource"]])
    );
    assert_eq!(records[0]["FunctionName"], "portside-test");
    assert_eq!(records[0]["Status2xx"], 1);
    assert_eq!(records[0]["ColdStart"], 1);
    assert_eq!(records[1]["ColdStart"], 0);
    let bytes = format!("{{\"echo\": \"{SECRET_BODY}\"}}").len();
    assert_eq!(records[0]["ResponseBytes"], bytes);
    assert_no_secret(&log);
}

#[tokio::test]
async fn a_bad_metrics_setting_fails_init_naming_the_variable() {
    for (name, value) in [
        ("PORTSIDE_METRICS", "prometheus"),
        ("PORTSIDE_METRICS_NAMESPACE", "AWS/Lambda"),
    ] {
        let f = Function::start(8080, &[("PORTSIDE_METRICS", "emf"), (name, value)]).await;
        let state = tokio::time::timeout(Duration::from_secs(10), f.api.wait_init())
            .await
            .unwrap();
        let text = format!("{state:?}");
        assert!(text.contains(name) && text.contains("accepted"), "{text}");
    }
}

#[tokio::test]
async fn the_app_joins_the_invocations_trace_through_traceparent() {
    let app = App::start(KeepAlive::Forever, Reply::echo).await;
    let f = Function::start(app.port, &[]).await.ready().await;
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let outcome = f
        .invoke_with(
            &event("GET", "/traced"),
            InvokeOptions::new()
                .timeout(Duration::from_secs(10))
                .trace_id(trace),
        )
        .await;
    assert_eq!(result_json(&outcome)["statusCode"], 200);
    let received = app.received();
    let got = received.last().unwrap();
    assert_eq!(got.one("x-amzn-trace-id"), trace);
    assert_eq!(
        got.one("traceparent"),
        "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"
    );
}

#[tokio::test]
async fn a_streamed_response_has_its_time_to_first_byte_in_the_record() {
    let app = App::start(KeepAlive::Forever, |_| {
        Reply::new(200)
            .header("Content-Type", "text/event-stream")
            .body("data: one\n\n")
    })
    .await;
    let f = Function::start(
        app.port,
        &[
            ("PORTSIDE_ACCESS_LOG", "true"),
            ("PORTSIDE_INVOKE_MODE", "response_stream"),
        ],
    )
    .await
    .ready()
    .await;
    let sse = function_url("GET", "/sse").build();
    let outcome = f.invoke(&sse).await;
    assert!(
        matches!(outcome, portside_local::runtime_api::Outcome::Streamed(_)),
        "{outcome:?}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = f.log();
    let record = lines_containing(&log, "[portside] ACCESS ")
        .pop()
        .unwrap_or_else(|| panic!("no access record:\n{log}"));
    assert!(
        record.contains(" function-url GET /sse 200 bytes=11 "),
        "{record}"
    );
    let first: f64 = field(record, "first_byte_ms=").parse().unwrap();
    assert!(first > 0.0, "{record}");
}
