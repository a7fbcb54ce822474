//! The parsers of setting values: each turns a (trimmed, non-empty) value
//! into its typed form, or says why it is not valid (the reader adds the
//! variable and the accepted values to make the error).
//!
//! Owns: what each kind of value may be. Must not: read the environment or
//! know which variable a value came from (`settings` pairs each setting with
//! its parser).

use std::time::Duration;

use http::{HeaderName, HeaderValue};

use super::{InvokeMode, ReadinessProtocol, StatusSet, UrlPath, WorkerThreads};

pub(super) fn port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err("not a TCP port".into()),
    }
}

pub(super) fn boolean(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("not a boolean".into()),
    }
}

pub(super) fn status(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(code) if (100..=599).contains(&code) => Ok(code),
        _ => Err(format!(
            "{text:?} is not an HTTP status code from 100 to 599"
        )),
    }
}

/// Parses `200,201,300-399`: codes and inclusive ranges, each from 100 to 599.
pub(super) fn status_set(text: &str) -> Result<StatusSet, String> {
    let mut ranges = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (lo, hi) = match part.split_once('-') {
            Some((lo, hi)) => (status(lo.trim())?, status(hi.trim())?),
            None => {
                let code = status(part)?;
                (code, code)
            }
        };
        if lo > hi {
            return Err(format!("the range {part} runs backwards"));
        }
        ranges.push((lo, hi));
    }
    if ranges.is_empty() {
        return Err("no status codes given".into());
    }
    Ok(StatusSet { ranges })
}

/// LWA's older form of the healthy statuses: everything below this one (from 100) is healthy.
pub(super) fn below_status(text: &str) -> Result<StatusSet, String> {
    match status(text)? {
        100 => Err("no status below 100 can be healthy".to_string()),
        code => Ok(StatusSet::range(100, code - 1)),
    }
}

pub(super) fn readiness_protocol(text: &str) -> Result<ReadinessProtocol, String> {
    match text.to_ascii_lowercase().as_str() {
        "http" => Ok(ReadinessProtocol::Http),
        "tcp" => Ok(ReadinessProtocol::Tcp),
        _ => Err("unknown protocol".into()),
    }
}

pub(super) fn invoke_mode(text: &str) -> Result<InvokeMode, String> {
    match text.to_ascii_lowercase().as_str() {
        "buffered" => Ok(InvokeMode::Buffered),
        "response_stream" => Ok(InvokeMode::ResponseStream),
        _ => Err("unknown invoke mode".into()),
    }
}

/// Whether EMF metrics are on.
pub(super) fn metrics(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "emf" => Ok(true),
        "none" | "off" | "false" => Ok(false),
        _ => Err("unknown metrics format".into()),
    }
}

pub(super) fn header_name(text: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(text.as_bytes()).map_err(|_| "not a header name".into())
}

/// A base path to remove, without its trailing slash; `/` removes nothing.
pub(super) fn base_path(text: &str) -> Result<Option<String>, String> {
    let path = path(text)?.trim_end_matches('/').to_string();
    Ok((!path.is_empty()).then_some(path))
}

/// LWA's older pool timeout, in milliseconds.
pub(super) fn milliseconds(text: &str) -> Result<Duration, String> {
    match text.parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err("not a positive number of milliseconds".into()),
    }
}

pub(super) fn memory_mb(text: &str) -> Result<u32, String> {
    text.parse::<u32>().map_err(|_| "not a number".to_string())
}

pub(super) fn concurrency(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("not a positive whole number".into()),
    }
}

/// `auto`, or a number of threads from 1 to 256.
pub(super) fn worker_threads(text: &str) -> Result<WorkerThreads, String> {
    if text.eq_ignore_ascii_case("auto") {
        return Ok(WorkerThreads::Auto);
    }
    match text.parse::<u16>() {
        Ok(n @ 1..=256) => Ok(WorkerThreads::Count(n)),
        _ => Err("neither auto nor a number of threads from 1 to 256".into()),
    }
}

pub(super) fn log_level(text: &str) -> Result<crate::log::Level, String> {
    crate::log::Level::parse(text).ok_or_else(|| "not a log level".to_string())
}

pub(super) fn url_path(text: &str) -> Result<UrlPath, String> {
    let path = path(text)?;
    path.parse()
        .map(UrlPath)
        .map_err(|_| "not a valid URL path; percent-encode other characters".into())
}

pub(super) fn path(text: &str) -> Result<String, String> {
    if !text.starts_with('/') {
        return Err("a path must start with /".into());
    }
    if text
        .bytes()
        .any(|b| b <= b' ' || b == 0x7f || b == b'?' || b == b'#')
    {
        return Err("a path cannot hold spaces, control characters, ? or #".into());
    }
    // Each path is a request target as it stands (the request builders
    // would otherwise replace it).
    if text.parse::<http::uri::PathAndQuery>().is_err() {
        return Err("not a valid URL path; percent-encode other characters".into());
    }
    Ok(text.to_string())
}

/// Seconds as a decimal (`0.5`, `30`); zero or negative means "no limit".
pub(super) fn seconds_or_unbounded(text: &str) -> Result<Option<Duration>, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| "not a number of seconds".to_string())?;
    if !secs.is_finite() {
        return Err("not a finite number of seconds".into());
    }
    if secs <= 0.0 {
        return Ok(None);
    }
    Duration::try_from_secs_f64(secs)
        .map(Some)
        .map_err(|_| "too large".into())
}

pub(super) fn positive_seconds(text: &str) -> Result<Duration, String> {
    match seconds_or_unbounded(text)? {
        Some(d) => Ok(d),
        None => Err("must be more than 0".into()),
    }
}

/// A CloudWatch metric namespace: 1 to 255 printable ASCII characters, not
/// starting with `:` (CloudWatch's pattern) or `AWS/` (reserved for AWS).
pub(super) fn namespace(text: &str) -> Result<String, String> {
    if text.len() > 255 {
        return Err("longer than 255 characters".into());
    }
    if !text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err("not printable ASCII".into());
    }
    if text.starts_with(':') || text.starts_with("AWS/") {
        return Err("a namespace cannot start with : or AWS/".into());
    }
    Ok(text.to_string())
}

pub(super) fn host(text: &str) -> Result<String, String> {
    if text.contains("://") || text.contains('/') {
        return Err("give a host name or IP address only, without scheme or path".into());
    }
    if text.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err("a host cannot hold spaces or control characters".into());
    }
    // `::1` is an IPv6 address, `[::1]` the same in URL form; `host:port` is not a host.
    let unbracketed = text.trim_start_matches('[').trim_end_matches(']');
    if unbracketed.parse::<std::net::Ipv6Addr>().is_err() && text.contains(':') {
        return Err("give the port in PORTSIDE_PORT, not in the host".into());
    }
    // The `Host` header of every request to the app is made from it.
    if unbracketed.contains('@')
        || crate::uri::authority(unbracketed, 80)
            .parse::<http::uri::Authority>()
            .is_err()
    {
        return Err("not a host name or IP address".into());
    }
    Ok(unbracketed.to_string())
}

/// `host:port` (an IPv6 host in brackets), as `AWS_LAMBDA_HTTP_ENDPOINT` has it.
pub(super) fn endpoint(text: &str) -> Result<(String, u16), String> {
    let authority: http::uri::Authority = text.parse().map_err(|_| "not host:port".to_string())?;
    if text.contains('@') {
        return Err("not host:port".into());
    }
    let port = authority
        .port_u16()
        .filter(|&p| p > 0)
        .ok_or("no port: give host:port")?;
    let host = host(authority.host())?;
    Ok((host, port))
}

/// A Web Function endpoint's name: 1 to 64 letters, digits, `-` or `_`, not
/// starting or ending with `-` or `_` (the `lambda-web` service model).
pub(super) fn endpoint_name(text: &str) -> Result<HeaderValue, String> {
    let edge = |b: u8| b == b'-' || b == b'_';
    let bytes = text.as_bytes();
    if bytes.is_empty()
        || bytes.len() > 64
        || !bytes.iter().all(|&b| b.is_ascii_alphanumeric() || edge(b))
        || edge(bytes[0])
        || edge(bytes[bytes.len() - 1])
    {
        return Err("not an endpoint name".into());
    }
    HeaderValue::from_str(text).map_err(|_| "not an endpoint name".into())
}
