//! Every setting portside reads, described once, typed: its names in
//! precedence order, the parser that reads its value, its default, the values
//! it accepts and what it does. The reader (`Config::from_lookup`, one read
//! per setting through its descriptor), its error messages and the user
//! guide's configuration table all come from these descriptions; a test
//! checks that the guide's table (docs/src/configuration.md) is
//! `readme_table`'s.
//!
//! Owns: the descriptions, and which parser (`parse`) reads each setting.
//! Must not: read the environment (`config` does, once).

use std::borrow::Cow;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use super::{parse, ApiAddress, InvokeMode, ReadinessProtocol, StatusSet, UrlPath, WorkerThreads};
use crate::log::Level;

/// One setting, read as a `T`.
#[derive(Debug)]
pub struct Setting<T: 'static> {
    /// Its names, in precedence order: `PORTSIDE_X`, then LWA's `AWS_LWA_X`,
    /// then LWA's older unprefixed name.
    pub names: &'static [&'static str],
    /// What it is when none of its names is set.
    pub default: Fallback,
    /// Reads a value (trimmed, not empty), or says why it is not valid.
    pub parse: fn(&str) -> Result<T, String>,
    /// The values accepted, as an error names them.
    pub accepted: &'static str,
    /// What it does (Markdown).
    pub meaning: &'static str,
    /// An older LWA variable read when none of `names` is set, with its own
    /// parser (a different unit, say).
    pub older: Option<&'static Setting<T>>,
}

/// What a setting is when none of its names is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// This value, written as a user would write it: the setting's own
    /// parser reads it (the guide shows it as code).
    Value(&'static str),
    /// Nothing: the feature is off, or the value absent (the guide says
    /// none).
    None,
    /// Computed from other settings, as the text says (the guide shows the
    /// text; `Config::from_lookup` computes it).
    Derived(&'static str),
}

impl<T> Setting<T> {
    /// The name documented first (`PORTSIDE_...`).
    pub fn name(&self) -> &'static str {
        self.names[0]
    }
}

/// What the guide's table shows of a setting, whatever its type.
pub trait Documented: Sync {
    /// Its names, in precedence order.
    fn names(&self) -> &'static [&'static str];
    /// The names of the older LWA variable read in its place, if any.
    fn older_names(&self) -> &'static [&'static str];
    /// The default, as the guide says it (Markdown).
    fn default_text(&self) -> Cow<'static, str>;
    /// The values accepted.
    fn accepted(&self) -> &'static str;
    /// What it does (Markdown).
    fn meaning(&self) -> &'static str;
    /// Why its default value does not parse with its own parser, if it does not.
    #[cfg(test)]
    fn default_error(&self) -> Option<String>;
}

impl<T> Documented for Setting<T> {
    fn names(&self) -> &'static [&'static str] {
        self.names
    }

    fn older_names(&self) -> &'static [&'static str] {
        self.older.map_or(&[], |older| older.names)
    }

    fn default_text(&self) -> Cow<'static, str> {
        match self.default {
            Fallback::Value(value) => Cow::Owned(format!("`{value}`")),
            Fallback::None => Cow::Borrowed("none"),
            Fallback::Derived(text) => Cow::Borrowed(text),
        }
    }

    fn accepted(&self) -> &'static str {
        self.accepted
    }

    fn meaning(&self) -> &'static str {
        self.meaning
    }

    #[cfg(test)]
    fn default_error(&self) -> Option<String> {
        match self.default {
            Fallback::Value(value) => (self.parse)(value).err(),
            Fallback::None | Fallback::Derived(_) => None,
        }
    }
}

/// Port the app listens on.
pub const PORT: Setting<u16> = Setting {
    names: &["PORTSIDE_PORT", "AWS_LWA_PORT", "PORT"],
    default: Fallback::Value("8080"),
    parse: parse::port,
    accepted: "a TCP port from 1 to 65535",
    meaning: "Port the app listens on.",
    older: None,
};

/// Host the app listens on.
pub const HOST: Setting<String> = Setting {
    names: &["PORTSIDE_HOST", "AWS_LWA_HOST", "HOST"],
    default: Fallback::Value("127.0.0.1"),
    parse: parse::host,
    accepted: "a host name or IP address, such as 127.0.0.1",
    meaning: "Host the app listens on (a name or an IP address; no scheme or port).",
    older: None,
};

/// Port of the readiness check.
pub const READINESS_CHECK_PORT: Setting<u16> = Setting {
    names: &[
        "PORTSIDE_READINESS_CHECK_PORT",
        "AWS_LWA_READINESS_CHECK_PORT",
        "READINESS_CHECK_PORT",
    ],
    default: Fallback::Derived("the app's port"),
    parse: parse::port,
    accepted: "a TCP port from 1 to 65535",
    meaning: "Port of the readiness check.",
    older: None,
};

/// Path the HTTP readiness check requests.
pub const READINESS_CHECK_PATH: Setting<String> = Setting {
    names: &[
        "PORTSIDE_READINESS_CHECK_PATH",
        "AWS_LWA_READINESS_CHECK_PATH",
        "READINESS_CHECK_PATH",
    ],
    default: Fallback::Value("/"),
    parse: parse::path,
    accepted: "a path starting with /, such as /health",
    meaning: "Path the HTTP readiness check requests.",
    older: None,
};

/// HTTP or TCP readiness.
pub const READINESS_CHECK_PROTOCOL: Setting<ReadinessProtocol> = Setting {
    names: &[
        "PORTSIDE_READINESS_CHECK_PROTOCOL",
        "AWS_LWA_READINESS_CHECK_PROTOCOL",
        "READINESS_CHECK_PROTOCOL",
    ],
    default: Fallback::Value("http"),
    parse: parse::readiness_protocol,
    accepted: "http or tcp",
    meaning: "`http` (a `GET` with a healthy status) or `tcp` (an accepted connection).",
    older: None,
};

/// LWA's older form of the healthy statuses: everything below this one.
pub const READINESS_CHECK_MIN_UNHEALTHY_STATUS: Setting<StatusSet> = Setting {
    names: &["AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS"],
    default: Fallback::None,
    parse: parse::below_status,
    accepted: "an HTTP status code from 101 to 599",
    meaning: "",
    older: None,
};

/// Statuses that mean ready.
pub const READINESS_CHECK_HEALTHY_STATUS: Setting<StatusSet> = Setting {
    names: &[
        "PORTSIDE_READINESS_CHECK_HEALTHY_STATUS",
        "AWS_LWA_READINESS_CHECK_HEALTHY_STATUS",
    ],
    default: Fallback::Value("100-499"),
    parse: parse::status_set,
    accepted: "status codes and ranges from 100 to 599, such as 200-399 or 200,204,300-399",
    meaning: "Statuses that mean ready: codes and ranges, `200-399` or `200,204,300-399`.",
    older: Some(&READINESS_CHECK_MIN_UNHEALTHY_STATUS),
};

/// How long init waits for readiness.
pub const READINESS_CHECK_TIMEOUT: Setting<Option<Duration>> = Setting {
    names: &[
        "PORTSIDE_READINESS_CHECK_TIMEOUT",
        "AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS",
    ],
    default: Fallback::None,
    parse: parse::seconds_or_unbounded,
    accepted: "seconds, such as 5 or 0.5; 0 or less waits as long as Lambda allows",
    meaning: "Seconds to wait for readiness before failing init (`Portside.AppNotReady`); `0` or \
              less waits as long as Lambda allows.",
    older: None,
};

/// Async init.
pub const ASYNC_INIT: Setting<bool> = Setting {
    names: &["PORTSIDE_ASYNC_INIT", "AWS_LWA_ASYNC_INIT", "ASYNC_INIT"],
    default: Fallback::Value("false"),
    parse: parse::boolean,
    accepted: "true or false",
    meaning: "Hand init back to Lambda before its 10 s limit when the app is slow to start; the \
              first invocation waits for it.",
    older: None,
};

/// A prefix removed from request paths.
pub const REMOVE_BASE_PATH: Setting<Option<String>> = Setting {
    names: &[
        "PORTSIDE_REMOVE_BASE_PATH",
        "AWS_LWA_REMOVE_BASE_PATH",
        "REMOVE_BASE_PATH",
    ],
    default: Fallback::None,
    parse: parse::base_path,
    accepted: "a path starting with /, such as /prod",
    meaning: "A prefix removed from request paths, once and on a segment boundary (`/prod` turns \
              `/prod/x` into `/x`, leaves `/prodx/y`).",
    older: None,
};

/// Response compression.
pub const ENABLE_COMPRESSION: Setting<bool> = Setting {
    names: &["PORTSIDE_ENABLE_COMPRESSION", "AWS_LWA_ENABLE_COMPRESSION"],
    default: Fallback::Value("false"),
    parse: parse::boolean,
    accepted: "true or false",
    meaning: "Compress buffered responses with gzip when the client's `Accept-Encoding` takes it.",
    older: None,
};

/// Buffered or streamed results.
pub const INVOKE_MODE: Setting<InvokeMode> = Setting {
    names: &["PORTSIDE_INVOKE_MODE", "AWS_LWA_INVOKE_MODE"],
    default: Fallback::Value("buffered"),
    parse: parse::invoke_mode,
    accepted: "buffered or response_stream",
    meaning: "`buffered` or `response_stream` (stream Function URL and REST API responses; see \
              [Response streaming](streaming.md)).",
    older: None,
};

/// Where non-HTTP events go.
pub const PASS_THROUGH_PATH: Setting<UrlPath> = Setting {
    names: &["PORTSIDE_PASS_THROUGH_PATH", "AWS_LWA_PASS_THROUGH_PATH"],
    default: Fallback::Value("/events"),
    parse: parse::url_path,
    accepted: "a path starting with /, such as /events",
    meaning: "Path non-HTTP events are POSTed to.",
    older: None,
};

/// A header that replaces `Authorization`.
pub const AUTHORIZATION_SOURCE: Setting<HeaderName> = Setting {
    names: &[
        "PORTSIDE_AUTHORIZATION_SOURCE",
        "AWS_LWA_AUTHORIZATION_SOURCE",
    ],
    default: Fallback::None,
    parse: parse::header_name,
    accepted: "an HTTP header name, such as X-Api-Token",
    meaning: "A request header whose value replaces `Authorization` (for Function URLs with IAM \
              auth, where `Authorization` carries the SigV4 signature).",
    older: None,
};

/// App statuses that fail the invocation.
pub const ERROR_STATUS_CODES: Setting<StatusSet> = Setting {
    names: &["PORTSIDE_ERROR_STATUS_CODES", "AWS_LWA_ERROR_STATUS_CODES"],
    default: Fallback::None,
    parse: parse::status_set,
    accepted: "status codes and ranges from 100 to 599, such as 500,502-504",
    meaning: "App statuses that fail the invocation (`Portside.AppError`), such as `500,502-504`.",
    older: None,
};

/// A Runtime API proxy for invocation traffic.
pub const LAMBDA_RUNTIME_API_PROXY: Setting<ApiAddress> = Setting {
    names: &[
        "PORTSIDE_LAMBDA_RUNTIME_API_PROXY",
        "AWS_LWA_LAMBDA_RUNTIME_API_PROXY",
    ],
    default: Fallback::None,
    parse: ApiAddress::parse,
    accepted: "host:port or http://host:port of a Runtime API proxy",
    meaning: "Send invocation traffic through a Runtime API proxy (`host:port`); extension \
              registration still goes to Lambda.",
    older: None,
};

/// LWA's older pool timeout, in milliseconds.
pub const CLIENT_IDLE_TIMEOUT_MS: Setting<Duration> = Setting {
    names: &["AWS_LWA_CLIENT_IDLE_TIMEOUT_MS"],
    default: Fallback::None,
    parse: parse::milliseconds,
    accepted: "milliseconds greater than 0, such as 4000",
    meaning: "",
    older: None,
};

/// How long an idle connection to the app is kept.
pub const POOL_IDLE_TIMEOUT: Setting<Duration> = Setting {
    names: &[
        "PORTSIDE_POOL_IDLE_TIMEOUT",
        "AWS_LWA_POOL_IDLE_TIMEOUT_SECONDS",
    ],
    default: Fallback::Value("4"),
    parse: parse::positive_seconds,
    accepted: "seconds greater than 0, such as 4 or 0.5",
    meaning: "Seconds an idle keep-alive connection to the app is kept for reuse.",
    older: Some(&CLIENT_IDLE_TIMEOUT_MS),
};

/// Threads for concurrent invocations (Lambda Managed Instances).
pub const WORKER_THREADS: Setting<WorkerThreads> = Setting {
    names: &["PORTSIDE_WORKER_THREADS"],
    default: Fallback::Value("1"),
    parse: parse::worker_threads,
    accepted: "a number of threads from 1 to 256, or auto (one per CPU)",
    meaning: "Threads that serve invocations when Lambda Managed Instances run several at \
              once (`AWS_LAMBDA_MAX_CONCURRENCY` > 1), never more than that; invocations \
              that come one at a time always run on one thread. One thread serves about \
              10,000 small or 5,000 64 KiB invocations a second per core; `auto` (one per \
              CPU) pays only when that one thread is the limit (see \
              [Lambda Managed Instances](managed-instances.md#threads)).",
    older: None,
};

/// Where WebSocket events go.
pub const WEBSOCKET_PATH: Setting<UrlPath> = Setting {
    names: &["PORTSIDE_WEBSOCKET_PATH"],
    default: Fallback::Value("/websocket"),
    parse: parse::url_path,
    accepted: "a path starting with /, such as /websocket",
    meaning: "Path WebSocket API events are POSTed to (see [WebSocket APIs](websocket.md)).",
    older: None,
};

/// An app path POSTed before a SnapStart snapshot.
pub const SNAPSTART_BEFORE_CHECKPOINT_PATH: Setting<UrlPath> = Setting {
    names: &[
        "PORTSIDE_SNAPSTART_BEFORE_CHECKPOINT_PATH",
        "AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH",
    ],
    default: Fallback::None,
    parse: parse::url_path,
    accepted: "a path starting with /, such as /before-checkpoint",
    meaning: "An app path POSTed just before a SnapStart snapshot (close connections, flush).",
    older: None,
};

/// An app path POSTed after a SnapStart restore.
pub const SNAPSTART_AFTER_RESTORE_PATH: Setting<UrlPath> = Setting {
    names: &[
        "PORTSIDE_SNAPSTART_AFTER_RESTORE_PATH",
        "AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH",
    ],
    default: Fallback::None,
    parse: parse::url_path,
    accepted: "a path starting with /, such as /after-restore",
    meaning: "An app path POSTed right after a restore (reconnect, reseed anything that must be \
              unique). A non-2xx answer fails the restore.",
    older: None,
};

/// One access record per invocation.
pub const ACCESS_LOG: Setting<bool> = Setting {
    names: &["PORTSIDE_ACCESS_LOG"],
    default: Fallback::Value("false"),
    parse: parse::boolean,
    accepted: "true or false",
    meaning: "One access record per invocation, after its result is delivered: request id, event \
              source, method, path without the query, status or error type, response bytes, the \
              app's time, the adapter's own, cold start, and a stream's time to first byte (see \
              [Observability](observability.md)).",
    older: None,
};

/// CloudWatch metrics through the Embedded Metric Format.
pub const METRICS: Setting<bool> = Setting {
    names: &["PORTSIDE_METRICS"],
    default: Fallback::None,
    parse: parse::metrics,
    accepted: "emf, or none",
    meaning: "`emf`: a CloudWatch Embedded Metric Format record per invocation on stdout \
              (`AppLatency`, `AdapterOverhead`, `ResponseBytes`, `ColdStart`, a count per status \
              class), which CloudWatch Logs turns into metrics at no API cost.",
    older: None,
};

/// The metrics' namespace.
pub const METRICS_NAMESPACE: Setting<String> = Setting {
    names: &["PORTSIDE_METRICS_NAMESPACE"],
    default: Fallback::Value("portside"),
    parse: parse::namespace,
    accepted: "a CloudWatch namespace: 1 to 255 printable ASCII characters, not starting with : \
               or AWS/",
    meaning: "The CloudWatch namespace of the metrics.",
    older: None,
};

/// Lambda Web Functions' request semantics, whatever the source.
pub const WEB_FUNCTION: Setting<bool> = Setting {
    names: &["PORTSIDE_WEB_FUNCTION"],
    default: Fallback::Value("false"),
    parse: parse::boolean,
    accepted: "true or false",
    meaning: "Give the app a Lambda Web Function's request semantics behind any source: \
              `lambda-web-request-id` (the invocation's request id) and \
              `lambda-web-endpoint-name` added, the client's IP last in `X-Forwarded-For`, \
              the client's `lambda-web-*` and connection headers removed, \
              `lambda-web-request-id` on the response. Readiness then defaults to `tcp` (a \
              Web Function has no health path).",
    older: None,
};

/// The endpoint name a Web Function's app is told.
pub const WEB_ENDPOINT_NAME: Setting<HeaderValue> = Setting {
    names: &["PORTSIDE_WEB_ENDPOINT_NAME"],
    default: Fallback::Value("default"),
    parse: parse::endpoint_name,
    accepted: "1 to 64 letters, digits, - or _, not starting or ending with - or _",
    meaning: "The `lambda-web-endpoint-name` the app receives with `PORTSIDE_WEB_FUNCTION`.",
    older: None,
};

/// The log level (read by `log`, before the rest).
pub const LOG_LEVEL: Setting<Level> = Setting {
    names: &["PORTSIDE_LOG_LEVEL", "AWS_LAMBDA_LOG_LEVEL"],
    default: Fallback::Value("info"),
    parse: parse::log_level,
    accepted: "error, warn, info, debug or trace",
    meaning: "`error`, `warn`, `info`, `debug` or `trace`. Lines are JSON when \
              `AWS_LAMBDA_LOG_FORMAT=JSON`. Header values, bodies and queries are never logged.",
    older: None,
};

/// Every setting a user sets, in the guide's order.
pub const SETTINGS: &[&dyn Documented] = &[
    &PORT,
    &HOST,
    &READINESS_CHECK_PORT,
    &READINESS_CHECK_PATH,
    &READINESS_CHECK_PROTOCOL,
    &READINESS_CHECK_HEALTHY_STATUS,
    &READINESS_CHECK_TIMEOUT,
    &ASYNC_INIT,
    &REMOVE_BASE_PATH,
    &ENABLE_COMPRESSION,
    &INVOKE_MODE,
    &PASS_THROUGH_PATH,
    &AUTHORIZATION_SOURCE,
    &ERROR_STATUS_CODES,
    &LAMBDA_RUNTIME_API_PROXY,
    &POOL_IDLE_TIMEOUT,
    &WORKER_THREADS,
    &WEBSOCKET_PATH,
    &SNAPSTART_BEFORE_CHECKPOINT_PATH,
    &SNAPSTART_AFTER_RESTORE_PATH,
    &ACCESS_LOG,
    &METRICS,
    &METRICS_NAMESPACE,
    &WEB_FUNCTION,
    &WEB_ENDPOINT_NAME,
    &LOG_LEVEL,
];

// Lambda's own variables: set by Lambda, not by users, so not in the table.

/// Where Lambda's APIs are.
pub const AWS_LAMBDA_RUNTIME_API: Setting<ApiAddress> = Setting {
    names: &["AWS_LAMBDA_RUNTIME_API"],
    default: Fallback::None,
    parse: ApiAddress::parse,
    accepted: "host:port with an optional path prefix, as Lambda sets it",
    meaning: "",
    older: None,
};

/// Where a Web Function's app listens: Lambda's own variable for Web
/// Functions, which a classic function (or a container image) may set too.
pub const AWS_LAMBDA_HTTP_ENDPOINT: Setting<(String, u16)> = Setting {
    names: &["AWS_LAMBDA_HTTP_ENDPOINT"],
    default: Fallback::None,
    parse: parse::endpoint,
    accepted: "host:port, such as 127.0.0.1:3000 (an IPv6 host in brackets: [::1]:3000)",
    meaning: "",
    older: None,
};

/// The function's memory.
pub const AWS_LAMBDA_FUNCTION_MEMORY_SIZE: Setting<u32> = Setting {
    names: &["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
    default: Fallback::None,
    parse: parse::memory_mb,
    accepted: "memory in MB, as Lambda sets it",
    meaning: "",
    older: None,
};

/// Lambda Managed Instances' concurrency.
pub const AWS_LAMBDA_MAX_CONCURRENCY: Setting<u32> = Setting {
    names: &["AWS_LAMBDA_MAX_CONCURRENCY"],
    default: Fallback::Value("1"),
    parse: parse::concurrency,
    accepted: "a whole number of concurrent invocations, 1 or more",
    meaning: "",
    older: None,
};

/// Lambda's own variables that portside reads through a descriptor (the
/// function's name, version and log names are read as they stand).
pub const LAMBDA_SETTINGS: &[&dyn Documented] = &[
    &AWS_LAMBDA_RUNTIME_API,
    &AWS_LAMBDA_HTTP_ENDPOINT,
    &AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    &AWS_LAMBDA_MAX_CONCURRENCY,
];

/// The configuration table of the user guide (docs/src/configuration.md),
/// in Markdown (a test holds the guide to it).
#[cfg(test)]
pub fn readme_table() -> String {
    let code = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = String::from(
        "| Variable (PORTSIDE_...) | Also accepted | Default | Meaning |\n| --- | --- | --- | --- |\n",
    );
    for setting in SETTINGS {
        let names = setting.names();
        let mut also = code(&names[1..]);
        if !setting.older_names().is_empty() {
            also.push_str(&format!(" (and the older {})", code(setting.older_names())));
        }
        let also = if also.is_empty() {
            String::new()
        } else {
            format!(" {also}")
        };
        out.push_str(&format!(
            "| `{}` |{} | {} | {} |\n",
            names[0],
            also,
            setting.default_text(),
            setting.meaning()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guides_table_is_the_one_these_descriptions_give() {
        let guide = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/src/configuration.md");
        let page = std::fs::read_to_string(guide).expect("docs/src/configuration.md");
        let table = readme_table();
        assert!(
            page.contains(&table),
            "docs/src/configuration.md's table differs from layer/src/config/settings.rs; \
             replace it with:\n\n{table}"
        );
    }

    #[test]
    fn every_name_is_read_by_one_setting_only() {
        let mut seen = std::collections::HashSet::new();
        for setting in SETTINGS {
            for name in setting.names().iter().chain(setting.older_names()) {
                assert!(seen.insert(*name), "{name} belongs to two settings");
            }
            assert!(
                setting.names()[0].starts_with("PORTSIDE_"),
                "{}",
                setting.names()[0]
            );
            assert!(!setting.accepted().is_empty() && !setting.meaning().is_empty());
        }
    }

    #[test]
    fn every_default_is_a_value_its_own_parser_reads() {
        for setting in SETTINGS.iter().chain(LAMBDA_SETTINGS) {
            assert_eq!(
                setting.default_error(),
                None,
                "{}'s default {}",
                setting.names()[0],
                setting.default_text()
            );
        }
    }
}
