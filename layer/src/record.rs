//! What each invocation leaves in the log for the function's owner: the
//! access record (`PORTSIDE_ACCESS_LOG=true`) and the CloudWatch Embedded
//! Metric Format record (`PORTSIDE_METRICS=emf`).
//!
//! Owns: [`Facts`] (what an invocation learnt on its way, gathered by
//! `invoke`), and the two records' formats, as pure functions of the facts.
//! Must not: hold a query string, a header value or a body: a record says
//! what happened, never what was sent (the path is without its query).
//!
//! The access record is one line, after the result is delivered: a text line
//! of `key=value` pairs, or with `AWS_LAMBDA_LOG_FORMAT=JSON` one JSON object
//! in Lambda's field style (`timestamp`, `level`, `message`, `requestId`,
//! then the fields). The EMF record is one JSON object on stdout, as the EMF
//! specification describes: an `_aws` member naming the namespace,
//! dimensions and metrics, and each of them as a top-level member.

use std::time::Duration;

use crate::body::escape::write_string;
use crate::event::result::push_decimal;

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The app answered (for a stream: its status; the stream may still
    /// have ended with an error in its trailers).
    Status(u16),
    /// The invocation failed with this `Portside.*` error type.
    Error(&'static str),
}

/// What an invocation learnt on its way through the adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The event source's name (`http-api-v2`, `alb`...) or a pass-through
    /// event's (`aws:sqs`...).
    pub source: String,
    /// The request's method, if it got as far as one.
    pub method: String,
    /// The request's path, without the query.
    pub path: String,
    /// How it ended.
    pub ending: Ending,
    /// Bytes of the app's response body.
    pub response_bytes: u64,
    /// Time from sending the request to the app to its last body byte.
    pub app: Duration,
    /// Time from `/next`'s answer to the result delivered.
    pub total: Duration,
    /// For a stream: time from `/next`'s answer to the first body byte
    /// passed on to Lambda.
    pub first_byte: Option<Duration>,
    /// The first invocation of this sandbox.
    pub cold_start: bool,
}

impl Default for Facts {
    fn default() -> Facts {
        Facts {
            source: String::new(),
            method: String::new(),
            path: String::new(),
            ending: Ending::Error("Portside.Internal"),
            response_bytes: 0,
            app: Duration::ZERO,
            total: Duration::ZERO,
            first_byte: None,
            cold_start: false,
        }
    }
}

impl Facts {
    /// The adapter's own time: everything but the app's.
    pub fn overhead(&self) -> Duration {
        self.total.saturating_sub(self.app)
    }
}

/// Milliseconds with three decimals (microseconds), as text.
fn push_millis(out: &mut Vec<u8>, d: Duration) {
    let micros = d.as_micros() as u64;
    push_decimal(out, micros / 1000);
    out.push(b'.');
    let frac = micros % 1000;
    out.extend_from_slice(&[
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
}

/// The access record as a text line (with its newline):
/// `[portside] ACCESS <request id> <source> <method> <path> <status> bytes=... app_ms=... adapter_ms=... cold_start=...`.
pub fn access_text(request_id: &str, facts: &Facts) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 + facts.path.len());
    out.extend_from_slice(b"[portside] ACCESS ");
    out.extend_from_slice(request_id.as_bytes());
    out.push(b' ');
    out.extend_from_slice(facts.source.as_bytes());
    out.push(b' ');
    out.extend_from_slice(if facts.method.is_empty() {
        b"-"
    } else {
        facts.method.as_bytes()
    });
    out.push(b' ');
    out.extend_from_slice(if facts.path.is_empty() {
        b"-"
    } else {
        facts.path.as_bytes()
    });
    out.push(b' ');
    match facts.ending {
        Ending::Status(status) => push_decimal(&mut out, u64::from(status)),
        Ending::Error(kind) => out.extend_from_slice(kind.as_bytes()),
    }
    out.extend_from_slice(b" bytes=");
    push_decimal(&mut out, facts.response_bytes);
    out.extend_from_slice(b" app_ms=");
    push_millis(&mut out, facts.app);
    out.extend_from_slice(b" adapter_ms=");
    push_millis(&mut out, facts.overhead());
    if let Some(first) = facts.first_byte {
        out.extend_from_slice(b" first_byte_ms=");
        push_millis(&mut out, first);
    }
    out.extend_from_slice(if facts.cold_start {
        b" cold_start=true\n"
    } else {
        b" cold_start=false\n"
    });
    out
}

/// The access record as one JSON object in Lambda's field style (with its
/// newline); `timestamp` is RFC 3339 with milliseconds.
pub fn access_json(request_id: &str, facts: &Facts, timestamp: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(320 + facts.path.len());
    out.extend_from_slice(b"{\"timestamp\":");
    write_string(&mut out, timestamp);
    out.extend_from_slice(b",\"level\":\"INFO\",\"logger\":\"portside\",\"message\":");
    let mut message = Vec::with_capacity(64 + facts.path.len());
    message.extend_from_slice(facts.method.as_bytes());
    message.push(b' ');
    message.extend_from_slice(facts.path.as_bytes());
    message.push(b' ');
    match facts.ending {
        Ending::Status(status) => push_decimal(&mut message, u64::from(status)),
        Ending::Error(kind) => message.extend_from_slice(kind.as_bytes()),
    }
    write_string(&mut out, &String::from_utf8_lossy(&message));
    out.extend_from_slice(b",\"requestId\":");
    write_string(&mut out, request_id);
    out.extend_from_slice(b",\"type\":\"access\",\"eventSource\":");
    write_string(&mut out, &facts.source);
    out.extend_from_slice(b",\"method\":");
    write_string(&mut out, &facts.method);
    out.extend_from_slice(b",\"path\":");
    write_string(&mut out, &facts.path);
    match facts.ending {
        Ending::Status(status) => {
            out.extend_from_slice(b",\"status\":");
            push_decimal(&mut out, u64::from(status));
        }
        Ending::Error(kind) => {
            out.extend_from_slice(b",\"errorType\":");
            write_string(&mut out, kind);
        }
    }
    out.extend_from_slice(b",\"responseBytes\":");
    push_decimal(&mut out, facts.response_bytes);
    out.extend_from_slice(b",\"appMs\":");
    push_millis(&mut out, facts.app);
    out.extend_from_slice(b",\"adapterMs\":");
    push_millis(&mut out, facts.overhead());
    if let Some(first) = facts.first_byte {
        out.extend_from_slice(b",\"firstByteMs\":");
        push_millis(&mut out, first);
    }
    out.extend_from_slice(if facts.cold_start {
        b",\"coldStart\":true}\n"
    } else {
        b",\"coldStart\":false}\n"
    });
    out
}

/// The metrics an EMF record declares, with their units.
const EMF_METRICS: [(&str, &str); 9] = [
    ("AppLatency", "Milliseconds"),
    ("AdapterOverhead", "Milliseconds"),
    ("ResponseBytes", "Bytes"),
    ("ColdStart", "Count"),
    ("Status2xx", "Count"),
    ("Status3xx", "Count"),
    ("Status4xx", "Count"),
    ("Status5xx", "Count"),
    ("Errors", "Count"),
];

/// The CloudWatch Embedded Metric Format record (with its newline):
/// dimensions `FunctionName` and `EventSource`, the metrics of [`EMF_METRICS`]
/// (a status class counts 1 when the app answered in it; `Errors` counts
/// an invocation that failed), and `requestId` as a property to search by.
pub fn emf(
    request_id: &str,
    facts: &Facts,
    namespace: &str,
    function_name: &str,
    epoch_ms: u64,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(720);
    out.extend_from_slice(b"{\"_aws\":{\"Timestamp\":");
    push_decimal(&mut out, epoch_ms);
    out.extend_from_slice(b",\"CloudWatchMetrics\":[{\"Namespace\":");
    write_string(&mut out, namespace);
    out.extend_from_slice(b",\"Dimensions\":[[\"FunctionName\",\"EventSource\"]],\"Metrics\":[");
    for (i, (name, unit)) in EMF_METRICS.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"Name\":\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\",\"Unit\":\"");
        out.extend_from_slice(unit.as_bytes());
        out.extend_from_slice(b"\"}");
    }
    out.extend_from_slice(b"]}]},\"FunctionName\":");
    write_string(&mut out, function_name);
    out.extend_from_slice(b",\"EventSource\":");
    write_string(&mut out, &facts.source);
    out.extend_from_slice(b",\"AppLatency\":");
    push_millis(&mut out, facts.app);
    out.extend_from_slice(b",\"AdapterOverhead\":");
    push_millis(&mut out, facts.overhead());
    out.extend_from_slice(b",\"ResponseBytes\":");
    push_decimal(&mut out, facts.response_bytes);
    out.extend_from_slice(b",\"ColdStart\":");
    out.push(if facts.cold_start { b'1' } else { b'0' });
    let class = match facts.ending {
        Ending::Status(status) => Some(status / 100),
        Ending::Error(_) => None,
    };
    for (digit, name) in [
        (2, "Status2xx"),
        (3, "Status3xx"),
        (4, "Status4xx"),
        (5, "Status5xx"),
    ] {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        out.push(if class == Some(digit) { b'1' } else { b'0' });
    }
    out.extend_from_slice(b",\"Errors\":");
    out.push(if class.is_none() { b'1' } else { b'0' });
    out.extend_from_slice(b",\"requestId\":");
    write_string(&mut out, request_id);
    out.extend_from_slice(b"}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn facts() -> Facts {
        Facts {
            source: "http-api-v2".into(),
            method: "GET".into(),
            path: "/users/42".into(),
            ending: Ending::Status(201),
            response_bytes: 104,
            app: Duration::from_micros(1_204),
            total: Duration::from_micros(1_295),
            first_byte: None,
            cold_start: true,
        }
    }

    #[test]
    fn the_text_record_has_every_fact_in_one_line() {
        let line = String::from_utf8(access_text("r-1", &facts())).unwrap();
        assert_eq!(
            line,
            "[portside] ACCESS r-1 http-api-v2 GET /users/42 201 bytes=104 app_ms=1.204 \
             adapter_ms=0.091 cold_start=true\n"
        );
        let mut failed = facts();
        failed.ending = Ending::Error("Portside.AppTimeout");
        failed.first_byte = Some(Duration::from_micros(350));
        let line = String::from_utf8(access_text("r-2", &failed)).unwrap();
        assert!(
            line.contains(" Portside.AppTimeout bytes=104 ")
                && line.contains("first_byte_ms=0.350"),
            "{line}"
        );
    }

    #[test]
    fn the_json_record_is_one_object_in_lambdas_field_style() {
        let line = access_json("r-1", &facts(), "2026-12-01T10:00:00.123Z");
        assert_eq!(line.last(), Some(&b'\n'));
        let record: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(record["timestamp"], "2026-12-01T10:00:00.123Z");
        assert_eq!(record["level"], "INFO");
        assert_eq!(record["requestId"], "r-1");
        assert_eq!(record["message"], "GET /users/42 201");
        assert_eq!(record["status"], 201);
        assert_eq!(record["responseBytes"], 104);
        assert_eq!(record["appMs"], 1.204);
        assert_eq!(record["adapterMs"], 0.091);
        assert_eq!(record["coldStart"], true);
        assert!(record.get("errorType").is_none());
    }

    /// Checks a record against the Embedded Metric Format specification
    /// (CloudWatch user guide, "Specification: Embedded metric format"),
    /// written out from the specification, not from [`emf`].
    fn assert_valid_emf(record: &Value) {
        const UNITS: [&str; 27] = [
            "Seconds",
            "Microseconds",
            "Milliseconds",
            "Bytes",
            "Kilobytes",
            "Megabytes",
            "Gigabytes",
            "Terabytes",
            "Bits",
            "Kilobits",
            "Megabits",
            "Gigabits",
            "Terabits",
            "Percent",
            "Count",
            "Bytes/Second",
            "Kilobytes/Second",
            "Megabytes/Second",
            "Gigabytes/Second",
            "Terabytes/Second",
            "Bits/Second",
            "Kilobits/Second",
            "Megabits/Second",
            "Gigabits/Second",
            "Terabits/Second",
            "Count/Second",
            "None",
        ];
        let root = record.as_object().expect("the record is a JSON object");
        let aws = root["_aws"].as_object().expect("_aws is an object");
        assert!(aws["Timestamp"].as_u64().is_some(), "Timestamp: epoch ms");
        let directives = aws["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1);
        for directive in directives {
            let namespace = directive["Namespace"].as_str().unwrap();
            assert!(!namespace.is_empty() && namespace.len() <= 255);
            for set in directive["Dimensions"].as_array().unwrap() {
                let keys = set.as_array().unwrap();
                assert!(
                    !keys.is_empty() && keys.len() <= 30,
                    "1 to 30 dimension keys"
                );
                for key in keys {
                    let key = key.as_str().unwrap();
                    assert!(
                        root.get(key).is_some_and(Value::is_string),
                        "dimension {key} is a string member of the root"
                    );
                }
            }
            let metrics = directive["Metrics"].as_array().unwrap();
            assert!(metrics.len() <= 100, "at most 100 metrics");
            for metric in metrics {
                let name = metric["Name"].as_str().unwrap();
                assert!(!name.is_empty() && name.len() <= 1024);
                if let Some(unit) = metric.get("Unit") {
                    assert!(UNITS.contains(&unit.as_str().unwrap()), "unit {unit}");
                }
                assert!(
                    root.get(name).is_some_and(Value::is_number),
                    "metric {name} is a number member of the root"
                );
            }
        }
    }

    #[test]
    fn the_emf_record_meets_the_specification_and_counts_the_status_class() {
        let line = emf("r-1", &facts(), "portside", "users-api", 1_764_583_200_123);
        let record: Value = serde_json::from_slice(&line).unwrap();
        assert_valid_emf(&record);
        assert_eq!(record["_aws"]["Timestamp"], 1_764_583_200_123u64);
        assert_eq!(
            record["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "portside"
        );
        assert_eq!(record["FunctionName"], "users-api");
        assert_eq!(record["EventSource"], "http-api-v2");
        assert_eq!(record["AppLatency"], 1.204);
        assert_eq!(record["AdapterOverhead"], 0.091);
        assert_eq!(record["ResponseBytes"], 104);
        assert_eq!(record["ColdStart"], 1);
        assert_eq!(
            (
                record["Status2xx"].clone(),
                record["Status5xx"].clone(),
                record["Errors"].clone()
            ),
            (1.into(), 0.into(), 0.into())
        );
        let mut failed = facts();
        failed.ending = Ending::Error("Portside.AppUnreachable");
        let record: Value =
            serde_json::from_slice(&emf("r-2", &failed, "my/app ns", "f", 1)).unwrap();
        assert_valid_emf(&record);
        assert_eq!(
            (record["Status2xx"].clone(), record["Errors"].clone()),
            (0.into(), 1.into())
        );
    }
}
