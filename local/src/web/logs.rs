//! The endpoint's log on stderr, one JSON object per line, as Web Functions
//! writes to CloudWatch Logs: the app's output as log events with
//! `timestamp`, `level`, `message` and, inside a request, `requestId` and
//! `endpointName`, plus `region`; and Lambda's system events
//! (`platform.initStart`, `platform.initReport`, ...) in their envelope
//! `{timestamp, level, type, region, record}` (web-functions-logging,
//! web-functions-logging-system-log-schema; local/WEBFUNCTIONS.md, "Logs").
//!
//! Owns: the shape of every line and writing it whole.
//! Must not: decide when a record is due (the environment does) or hold a
//! header value, a query or a body (only what the app itself printed).

use crate::util::{epoch_millis, UtcTime};
use serde_json::{json, Value};
use std::time::Duration;

/// Where the endpoint's lines go, with what every line carries.
#[derive(Debug, Clone)]
pub struct Log {
    /// `region` of every line.
    pub region: String,
    /// `endpointName` of a request's lines.
    pub endpoint_name: String,
    /// `functionName` of system events.
    pub function_name: String,
    /// Whether the app's lines are written at all.
    pub show_app_output: bool,
}

/// Which of the app's streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output: `INFO`.
    Stdout,
    /// Standard error: `ERROR`.
    Stderr,
}

/// An environment, as system events name it.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    /// The instance id.
    pub instance_id: &'a str,
}

/// `2026-09-25T11:12:30.893Z`.
pub fn timestamp(ms: u64) -> String {
    let t = UtcTime::from_epoch_millis(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis
    )
}

/// Milliseconds with three decimals, as system events report durations.
pub fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

impl Log {
    /// One line the app wrote, as a log event.
    pub fn app_event(&self, stream: Stream, line: &str, request_id: Option<&str>) -> Value {
        let level = match stream {
            Stream::Stdout => "INFO",
            Stream::Stderr => "ERROR",
        };
        let mut v = json!({
            "timestamp": timestamp(epoch_millis()),
            "level": level,
            "message": line,
        });
        if let Some(id) = request_id {
            v["requestId"] = json!(id);
            v["endpointName"] = json!(self.endpoint_name);
        }
        v["region"] = json!(self.region);
        v
    }

    /// A system event of `kind` (`platform.initStart`...) about `who`, with
    /// `fields` added to the record after the environment's identity.
    pub fn platform_event(&self, kind: &str, who: Who<'_>, fields: Value) -> Value {
        let mut record = json!({
            "functionName": self.function_name,
            "revisionId": "local",
            "instanceId": who.instance_id,
        });
        if let (Some(r), Value::Object(extra)) = (record.as_object_mut(), fields) {
            r.extend(extra);
        }
        json!({
            "timestamp": timestamp(epoch_millis()),
            "level": "INFO",
            "type": kind,
            "region": self.region,
            "record": record,
        })
    }

    /// Writes a line the app printed (unless `--quiet`).
    pub fn app(&self, stream: Stream, line: &str, request_id: Option<&str>) {
        if self.show_app_output {
            write(&self.app_event(stream, line, request_id));
        }
    }

    /// Writes a system event.
    pub fn platform(&self, kind: &str, who: Who<'_>, fields: Value) {
        write(&self.platform_event(kind, who, fields));
    }
}

/// One whole line on stderr (eprintln! holds the lock for the line).
fn write(v: &Value) {
    eprintln!("{v}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> Log {
        Log {
            region: "eu-west-1".into(),
            endpoint_name: "default".into(),
            function_name: "shop".into(),
            show_app_output: true,
        }
    }

    #[test]
    fn timestamps_are_iso_8601_in_utc_with_milliseconds() {
        // 2020-03-12T19:03:58.123Z, as util's own test of the same instant.
        assert_eq!(timestamp(1_584_039_838_123), "2020-03-12T19:03:58.123Z");
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn an_apps_line_inside_a_request_names_it_and_outside_does_not() {
        let v = log().app_event(Stream::Stdout, "GET / {\"x\":1}", Some("REQ"));
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "timestamp",
                "level",
                "message",
                "requestId",
                "endpointName",
                "region"
            ]
        );
        assert_eq!(v["message"], "GET / {\"x\":1}");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["requestId"], "REQ");
        let v = log().app_event(Stream::Stderr, "boot", None);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["timestamp", "level", "message", "region"]);
        assert_eq!(v["level"], "ERROR");
    }

    #[test]
    fn system_events_have_the_envelope_and_the_environments_identity() {
        let v = log().platform_event(
            "platform.initReport",
            Who { instance_id: "abc" },
            json!({"status": "failure", "errorType": "Runtime.InitTimeout"}),
        );
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["timestamp", "level", "type", "region", "record"]);
        assert_eq!(v["type"], "platform.initReport");
        assert_eq!(
            v["record"],
            json!({"functionName": "shop", "revisionId": "local", "instanceId": "abc",
                   "status": "failure", "errorType": "Runtime.InitTimeout"})
        );
        assert_eq!(millis(Duration::from_micros(1_234_567)), 1234.567);
    }
}
