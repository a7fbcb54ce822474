//! Logging: one line per event worth a line, to stderr, which Lambda sends to
//! CloudWatch Logs.
//!
//! Owns: the level filter, the text and JSON line formats, and the macros.
//! Must not: log secrets: no header values, no bodies, no query strings; the
//! callers pass only what is safe.
//!
//! The format follows Lambda's logging controls: JSON lines when
//! `AWS_LAMBDA_LOG_FORMAT=JSON`, plain text otherwise; the level comes from
//! `PORTSIDE_LOG_LEVEL`, else Lambda's `AWS_LAMBDA_LOG_LEVEL`, else `info`.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Severity, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// Something failed.
    Error = 1,
    /// Something is wrong but portside carries on.
    Warn = 2,
    /// Start-up milestones.
    Info = 3,
    /// Per-invocation detail.
    Debug = 4,
    /// Everything.
    Trace = 5,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        }
    }

    /// Parses a level name (`error`, `WARN`, `fatal`...).
    pub fn parse(text: &str) -> Option<Level> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "error" | "fatal" => Level::Error,
            "warn" | "warning" => Level::Warn,
            "info" => Level::Info,
            "debug" => Level::Debug,
            "trace" => Level::Trace,
            _ => return None,
        })
    }
}

static MAX_LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
static JSON: AtomicBool = AtomicBool::new(false);

/// Sets the level and format; returns a warning to log if a value was not understood.
pub fn init(lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut warning = None;
    let setting = &crate::config::settings::LOG_LEVEL;
    let level = setting
        .names
        .iter()
        .find_map(|name| lookup(name).filter(|v| !v.is_empty()).map(|v| (*name, v)));
    if let Some((name, value)) = level {
        match (setting.parse)(&value) {
            Ok(level) => MAX_LEVEL.store(level as u8, Ordering::Relaxed),
            Err(_) => {
                warning = Some(format!(
                    "{name}={value:?} is not a log level (error, warn, info, debug, trace); logging at info"
                ))
            }
        }
    }
    let json = lookup("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    JSON.store(json, Ordering::Relaxed);
    warning
}

/// Whether a message at `level` would be written.
pub fn enabled(level: Level) -> bool {
    level as u8 <= MAX_LEVEL.load(Ordering::Relaxed)
}

/// Whether lines are JSON objects (`AWS_LAMBDA_LOG_FORMAT=JSON`).
pub fn is_json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// Writes one line. Use the macros instead.
pub fn write(level: Level, args: fmt::Arguments<'_>) {
    write_for(level, None, args);
}

/// Writes one line about an invocation: in JSON, its id is the `requestId`
/// field (Lambda's name for it); in text, the line starts with it. Use the
/// macros' `request_id = ...;` form instead.
pub fn write_for(level: Level, request_id: Option<&str>, args: fmt::Arguments<'_>) {
    let message = args.to_string();
    let line = if is_json() {
        #[derive(serde::Serialize)]
        struct Line<'a> {
            timestamp: String,
            level: &'a str,
            logger: &'a str,
            message: &'a str,
            #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
            request_id: Option<&'a str>,
        }
        let mut line = serde_json::to_string(&Line {
            timestamp: timestamp(SystemTime::now()),
            level: level.name(),
            logger: "portside",
            message: &message,
            request_id,
        })
        .unwrap_or_default();
        line.push('\n');
        line
    } else {
        match request_id {
            Some(id) => format!("[portside] {} {id}: {message}\n", level.name()),
            None => format!("[portside] {} {message}\n", level.name()),
        }
    };
    write_line(line.as_bytes());
}

/// Writes a line that is already formatted (an access record) to stderr,
/// where the adapter's lines go.
pub fn write_line(line: &[u8]) {
    // A closed stderr must not take the adapter down.
    let _ = std::io::stderr().lock().write_all(line);
}

/// The current time as the JSON lines show it.
pub fn now_timestamp() -> String {
    timestamp(SystemTime::now())
}

/// RFC 3339 UTC time with milliseconds.
fn timestamp(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = crate::civil::date_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Logs at a level: `log!(Level::Info, "ready after {} ms", ms)`, or about
/// an invocation: `log!(Level::Warn, request_id = id; "...")`.
#[macro_export]
macro_rules! log {
    ($level:expr, request_id = $id:expr; $($arg:tt)+) => {
        if $crate::__log::enabled($level) {
            $crate::__log::write_for($level, Some($id), format_args!($($arg)+));
        }
    };
    ($level:expr, $($arg:tt)+) => {
        if $crate::__log::enabled($level) {
            $crate::__log::write($level, format_args!($($arg)+));
        }
    };
}

/// Logs an error.
#[macro_export]
macro_rules! error {
    (request_id = $id:expr; $($arg:tt)+) => {
        $crate::log!($crate::__log::Level::Error, request_id = $id; $($arg)+)
    };
    ($($arg:tt)+) => { $crate::log!($crate::__log::Level::Error, $($arg)+) };
}

/// Logs a warning.
#[macro_export]
macro_rules! warn {
    (request_id = $id:expr; $($arg:tt)+) => {
        $crate::log!($crate::__log::Level::Warn, request_id = $id; $($arg)+)
    };
    ($($arg:tt)+) => { $crate::log!($crate::__log::Level::Warn, $($arg)+) };
}

/// Logs a milestone.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log!($crate::__log::Level::Info, $($arg)+) };
}

/// Logs detail.
#[macro_export]
macro_rules! debug {
    (request_id = $id:expr; $($arg:tt)+) => {
        $crate::log!($crate::__log::Level::Debug, request_id = $id; $($arg)+)
    };
    ($($arg:tt)+) => { $crate::log!($crate::__log::Level::Debug, $($arg)+) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = UNIX_EPOCH + Duration::from_millis(1_583_348_638_390);
        assert_eq!(timestamp(t), "2020-03-04T19:03:58.390Z");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(timestamp(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn levels_parse_lambdas_names_too() {
        assert_eq!(Level::parse("FATAL"), Some(Level::Error));
        assert_eq!(Level::parse("Warn"), Some(Level::Warn));
        assert_eq!(Level::parse("verbose"), None);
    }
}
