//! Every setting portside reads, described once: its names in precedence
//! order, its default, the values it accepts and what it does. The reader
//! (`Config::from_lookup`), its error messages and the user guide's
//! configuration table all come from these descriptions; a test checks that
//! the guide's table (docs/src/configuration.md) is [`readme_table`]'s.
//!
//! Owns: the descriptions. Must not: parse values (each is read with its
//! parser in `config`).

/// One setting.
#[derive(Debug)]
pub struct Setting {
    /// Its names, in precedence order: `PORTSIDE_X`, then LWA's `AWS_LWA_X`,
    /// then LWA's older unprefixed name.
    pub names: &'static [&'static str],
    /// The default, as the guide says it (Markdown).
    pub default: &'static str,
    /// The values accepted, as an error names them.
    pub accepted: &'static str,
    /// What it does (Markdown).
    pub meaning: &'static str,
    /// An older LWA variable read when none of `names` is set, with its own
    /// values (a different unit, say).
    pub older: Option<&'static Setting>,
}

impl Setting {
    /// The name documented first (`PORTSIDE_...`).
    pub fn name(&self) -> &'static str {
        self.names[0]
    }
}

/// Port the app listens on.
pub const PORT: Setting = Setting {
    names: &["PORTSIDE_PORT", "AWS_LWA_PORT", "PORT"],
    default: "`8080`",
    accepted: "a TCP port from 1 to 65535",
    meaning: "Port the app listens on.",
    older: None,
};

/// Host the app listens on.
pub const HOST: Setting = Setting {
    names: &["PORTSIDE_HOST", "AWS_LWA_HOST", "HOST"],
    default: "`127.0.0.1`",
    accepted: "a host name or IP address, such as 127.0.0.1",
    meaning: "Host the app listens on (a name or an IP address; no scheme or port).",
    older: None,
};

/// Port of the readiness check.
pub const READINESS_CHECK_PORT: Setting = Setting {
    names: &[
        "PORTSIDE_READINESS_CHECK_PORT",
        "AWS_LWA_READINESS_CHECK_PORT",
        "READINESS_CHECK_PORT",
    ],
    default: "the app's port",
    accepted: "a TCP port from 1 to 65535",
    meaning: "Port of the readiness check.",
    older: None,
};

/// Path the HTTP readiness check requests.
pub const READINESS_CHECK_PATH: Setting = Setting {
    names: &[
        "PORTSIDE_READINESS_CHECK_PATH",
        "AWS_LWA_READINESS_CHECK_PATH",
        "READINESS_CHECK_PATH",
    ],
    default: "`/`",
    accepted: "a path starting with /, such as /health",
    meaning: "Path the HTTP readiness check requests.",
    older: None,
};

/// HTTP or TCP readiness.
pub const READINESS_CHECK_PROTOCOL: Setting = Setting {
    names: &[
        "PORTSIDE_READINESS_CHECK_PROTOCOL",
        "AWS_LWA_READINESS_CHECK_PROTOCOL",
        "READINESS_CHECK_PROTOCOL",
    ],
    default: "`http`",
    accepted: "http or tcp",
    meaning: "`http` (a `GET` with a healthy status) or `tcp` (an accepted connection).",
    older: None,
};

/// LWA's older form of the healthy statuses: everything below this one.
pub const READINESS_CHECK_MIN_UNHEALTHY_STATUS: Setting = Setting {
    names: &["AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS"],
    default: "",
    accepted: "an HTTP status code from 101 to 599",
    meaning: "",
    older: None,
};

/// Statuses that mean ready.
pub const READINESS_CHECK_HEALTHY_STATUS: Setting = Setting {
    names: &[
        "PORTSIDE_READINESS_CHECK_HEALTHY_STATUS",
        "AWS_LWA_READINESS_CHECK_HEALTHY_STATUS",
    ],
    default: "`100-499`",
    accepted: "status codes and ranges from 100 to 599, such as 200-399 or 200,204,300-399",
    meaning: "Statuses that mean ready: codes and ranges, `200-399` or `200,204,300-399`.",
    older: Some(&READINESS_CHECK_MIN_UNHEALTHY_STATUS),
};

/// How long init waits for readiness.
pub const READINESS_CHECK_TIMEOUT: Setting = Setting {
    names: &[
        "PORTSIDE_READINESS_CHECK_TIMEOUT",
        "AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS",
    ],
    default: "none",
    accepted: "seconds, such as 5 or 0.5; 0 or less waits as long as Lambda allows",
    meaning: "Seconds to wait for readiness before failing init (`Portside.AppNotReady`); `0` or \
              less waits as long as Lambda allows.",
    older: None,
};

/// Async init.
pub const ASYNC_INIT: Setting = Setting {
    names: &["PORTSIDE_ASYNC_INIT", "AWS_LWA_ASYNC_INIT", "ASYNC_INIT"],
    default: "`false`",
    accepted: "true or false",
    meaning: "Hand init back to Lambda before its 10 s limit when the app is slow to start; the \
              first invocation waits for it.",
    older: None,
};

/// A prefix removed from request paths.
pub const REMOVE_BASE_PATH: Setting = Setting {
    names: &[
        "PORTSIDE_REMOVE_BASE_PATH",
        "AWS_LWA_REMOVE_BASE_PATH",
        "REMOVE_BASE_PATH",
    ],
    default: "none",
    accepted: "a path starting with /, such as /prod",
    meaning: "A prefix removed from request paths, once and on a segment boundary (`/prod` turns \
              `/prod/x` into `/x`, leaves `/prodx/y`).",
    older: None,
};

/// Response compression.
pub const ENABLE_COMPRESSION: Setting = Setting {
    names: &["PORTSIDE_ENABLE_COMPRESSION", "AWS_LWA_ENABLE_COMPRESSION"],
    default: "`false`",
    accepted: "true or false",
    meaning: "Compress buffered responses with gzip when the client's `Accept-Encoding` takes it.",
    older: None,
};

/// Buffered or streamed results.
pub const INVOKE_MODE: Setting = Setting {
    names: &["PORTSIDE_INVOKE_MODE", "AWS_LWA_INVOKE_MODE"],
    default: "`buffered`",
    accepted: "buffered or response_stream",
    meaning: "`buffered` or `response_stream` (stream Function URL and REST API responses; see \
              [Response streaming](streaming.md)).",
    older: None,
};

/// Where non-HTTP events go.
pub const PASS_THROUGH_PATH: Setting = Setting {
    names: &["PORTSIDE_PASS_THROUGH_PATH", "AWS_LWA_PASS_THROUGH_PATH"],
    default: "`/events`",
    accepted: "a path starting with /, such as /events",
    meaning: "Path non-HTTP events are POSTed to.",
    older: None,
};

/// A header that replaces `Authorization`.
pub const AUTHORIZATION_SOURCE: Setting = Setting {
    names: &[
        "PORTSIDE_AUTHORIZATION_SOURCE",
        "AWS_LWA_AUTHORIZATION_SOURCE",
    ],
    default: "none",
    accepted: "an HTTP header name, such as X-Api-Token",
    meaning: "A request header whose value replaces `Authorization` (for Function URLs with IAM \
              auth, where `Authorization` carries the SigV4 signature).",
    older: None,
};

/// App statuses that fail the invocation.
pub const ERROR_STATUS_CODES: Setting = Setting {
    names: &["PORTSIDE_ERROR_STATUS_CODES", "AWS_LWA_ERROR_STATUS_CODES"],
    default: "none",
    accepted: "status codes and ranges from 100 to 599, such as 500,502-504",
    meaning: "App statuses that fail the invocation (`Portside.AppError`), such as `500,502-504`.",
    older: None,
};

/// A Runtime API proxy for invocation traffic.
pub const LAMBDA_RUNTIME_API_PROXY: Setting = Setting {
    names: &[
        "PORTSIDE_LAMBDA_RUNTIME_API_PROXY",
        "AWS_LWA_LAMBDA_RUNTIME_API_PROXY",
    ],
    default: "none",
    accepted: "host:port or http://host:port of a Runtime API proxy",
    meaning: "Send invocation traffic through a Runtime API proxy (`host:port`); extension \
              registration still goes to Lambda.",
    older: None,
};

/// LWA's older pool timeout, in milliseconds.
pub const CLIENT_IDLE_TIMEOUT_MS: Setting = Setting {
    names: &["AWS_LWA_CLIENT_IDLE_TIMEOUT_MS"],
    default: "",
    accepted: "milliseconds greater than 0, such as 4000",
    meaning: "",
    older: None,
};

/// How long an idle connection to the app is kept.
pub const POOL_IDLE_TIMEOUT: Setting = Setting {
    names: &[
        "PORTSIDE_POOL_IDLE_TIMEOUT",
        "AWS_LWA_POOL_IDLE_TIMEOUT_SECONDS",
    ],
    default: "`4`",
    accepted: "seconds greater than 0, such as 4 or 0.5",
    meaning: "Seconds an idle keep-alive connection to the app is kept for reuse.",
    older: Some(&CLIENT_IDLE_TIMEOUT_MS),
};

/// Where WebSocket events go.
pub const WEBSOCKET_PATH: Setting = Setting {
    names: &["PORTSIDE_WEBSOCKET_PATH"],
    default: "`/websocket`",
    accepted: "a path starting with /, such as /websocket",
    meaning: "Path WebSocket API events are POSTed to (see [WebSocket APIs](websocket.md)).",
    older: None,
};

/// An app path POSTed before a SnapStart snapshot.
pub const SNAPSTART_BEFORE_CHECKPOINT_PATH: Setting = Setting {
    names: &[
        "PORTSIDE_SNAPSTART_BEFORE_CHECKPOINT_PATH",
        "AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH",
    ],
    default: "none",
    accepted: "a path starting with /, such as /before-checkpoint",
    meaning: "An app path POSTed just before a SnapStart snapshot (close connections, flush).",
    older: None,
};

/// An app path POSTed after a SnapStart restore.
pub const SNAPSTART_AFTER_RESTORE_PATH: Setting = Setting {
    names: &[
        "PORTSIDE_SNAPSTART_AFTER_RESTORE_PATH",
        "AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH",
    ],
    default: "none",
    accepted: "a path starting with /, such as /after-restore",
    meaning: "An app path POSTed right after a restore (reconnect, reseed anything that must be \
              unique). A non-2xx answer fails the restore.",
    older: None,
};

/// One access record per invocation.
pub const ACCESS_LOG: Setting = Setting {
    names: &["PORTSIDE_ACCESS_LOG"],
    default: "`false`",
    accepted: "true or false",
    meaning: "One access record per invocation, after its result is delivered: request id, event \
              source, method, path without the query, status or error type, response bytes, the \
              app's time, the adapter's own, cold start, and a stream's time to first byte (see \
              [Observability](observability.md)).",
    older: None,
};

/// CloudWatch metrics through the Embedded Metric Format.
pub const METRICS: Setting = Setting {
    names: &["PORTSIDE_METRICS"],
    default: "none",
    accepted: "emf, or none",
    meaning: "`emf`: a CloudWatch Embedded Metric Format record per invocation on stdout \
              (`AppLatency`, `AdapterOverhead`, `ResponseBytes`, `ColdStart`, a count per status \
              class), which CloudWatch Logs turns into metrics at no API cost.",
    older: None,
};

/// The metrics' namespace.
pub const METRICS_NAMESPACE: Setting = Setting {
    names: &["PORTSIDE_METRICS_NAMESPACE"],
    default: "`portside`",
    accepted: "a CloudWatch namespace: 1 to 255 printable ASCII characters, not starting with : \
               or AWS/",
    meaning: "The CloudWatch namespace of the metrics.",
    older: None,
};

/// Lambda Web Functions' request semantics, whatever the source.
pub const WEB_FUNCTION: Setting = Setting {
    names: &["PORTSIDE_WEB_FUNCTION"],
    default: "`false`",
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
pub const WEB_ENDPOINT_NAME: Setting = Setting {
    names: &["PORTSIDE_WEB_ENDPOINT_NAME"],
    default: "`default`",
    accepted: "1 to 64 letters, digits, - or _, not starting or ending with - or _",
    meaning: "The `lambda-web-endpoint-name` the app receives with `PORTSIDE_WEB_FUNCTION`.",
    older: None,
};

/// The log level (read by `log`, before the rest).
pub const LOG_LEVEL: Setting = Setting {
    names: &["PORTSIDE_LOG_LEVEL", "AWS_LAMBDA_LOG_LEVEL"],
    default: "`info`",
    accepted: "error, warn, info, debug or trace",
    meaning: "`error`, `warn`, `info`, `debug` or `trace`. Lines are JSON when \
              `AWS_LAMBDA_LOG_FORMAT=JSON`. Header values, bodies and queries are never logged.",
    older: None,
};

/// Every setting a user sets, in the guide's order.
pub const SETTINGS: &[&Setting] = &[
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
pub const AWS_LAMBDA_RUNTIME_API: Setting = Setting {
    names: &["AWS_LAMBDA_RUNTIME_API"],
    default: "",
    accepted: "host:port with an optional path prefix, as Lambda sets it",
    meaning: "",
    older: None,
};

/// Where a Web Function's app listens: Lambda's own variable for Web
/// Functions, which a classic function (or a container image) may set too.
pub const AWS_LAMBDA_HTTP_ENDPOINT: Setting = Setting {
    names: &["AWS_LAMBDA_HTTP_ENDPOINT"],
    default: "",
    accepted: "host:port, such as 127.0.0.1:3000 (an IPv6 host in brackets: [::1]:3000)",
    meaning: "",
    older: None,
};

/// The function's memory.
pub const AWS_LAMBDA_FUNCTION_MEMORY_SIZE: Setting = Setting {
    names: &["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
    default: "",
    accepted: "memory in MB, as Lambda sets it",
    meaning: "",
    older: None,
};

/// Lambda Managed Instances' concurrency.
pub const AWS_LAMBDA_MAX_CONCURRENCY: Setting = Setting {
    names: &["AWS_LAMBDA_MAX_CONCURRENCY"],
    default: "",
    accepted: "a whole number of concurrent invocations, 1 or more",
    meaning: "",
    older: None,
};

/// The configuration table of the user guide (docs/src/configuration.md),
/// in Markdown.
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
        let mut also = code(&setting.names[1..]);
        if let Some(older) = setting.older {
            also.push_str(&format!(" (and the older {})", code(older.names)));
        }
        let also = if also.is_empty() {
            String::new()
        } else {
            format!(" {also}")
        };
        out.push_str(&format!(
            "| `{}` |{} | {} | {} |\n",
            setting.name(),
            also,
            setting.default,
            setting.meaning
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
            for name in setting
                .names
                .iter()
                .chain(setting.older.map_or(&[][..], |o| o.names))
            {
                assert!(seen.insert(*name), "{name} belongs to two settings");
            }
            assert!(
                setting.name().starts_with("PORTSIDE_"),
                "{}",
                setting.name()
            );
            assert!(!setting.accepted.is_empty() && !setting.meaning.is_empty());
        }
    }
}
