//! Configuration: every setting portside reads, its `PORTSIDE_*` name, the
//! AWS Lambda Web Adapter (LWA) names it also accepts, its default, and the
//! checks that turn a bad value into an error naming the variable.
//!
//! Owns: reading the environment once (through a lookup function, so tests
//! pass a map), each setting through its typed descriptor in [`settings`]
//! (its names, parser and default; the parsers are in `parse`), into the one
//! typed [`Config`] built at start-up.
//! Must not: be read from anywhere but `main`; nothing else reads the
//! environment for settings.
//!
//! Precedence: `PORTSIDE_X`, then `AWS_LWA_X`, then LWA's older unprefixed
//! name where LWA has one (`PORT`, `HOST`, `READINESS_CHECK_PATH`...). An
//! empty value counts as unset. A value that is set but does not parse is an
//! error, never a silent fallback to the default.

use std::fmt;
use std::time::Duration;

use http::HeaderName;

mod parse;
pub mod settings;
use settings::{Documented, Fallback, Setting};

/// How the readiness check decides that the app is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadinessProtocol {
    /// `GET` the readiness path; a status in the healthy set means ready.
    Http,
    /// A TCP connection that is accepted means ready.
    Tcp,
}

/// How results go back to Lambda.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvokeMode {
    /// The whole response in one JSON result (6 MB limit).
    Buffered,
    /// Function URL and REST API responses streamed as the app writes them
    /// (every other source stays buffered).
    ResponseStream,
}

/// The threads invocations are served on when Lambda Managed Instances run
/// several at once (`PORTSIDE_WORKER_THREADS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerThreads {
    /// One per CPU the environment has.
    Auto,
    /// This many, at least 1.
    Count(u16),
}

/// A set of HTTP status codes, written as `200,201,300-399`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusSet {
    ranges: Vec<(u16, u16)>,
}

impl StatusSet {
    /// The set holding `low..=high`.
    pub fn range(low: u16, high: u16) -> Self {
        StatusSet {
            ranges: vec![(low, high)],
        }
    }

    /// Whether `status` is in the set.
    pub fn contains(&self, status: u16) -> bool {
        self.ranges
            .iter()
            .any(|&(lo, hi)| lo <= status && status <= hi)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (lo, hi)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

/// Readiness check settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// Port the check connects to (defaults to the app's port).
    pub port: u16,
    /// Path the HTTP check requests.
    pub path: String,
    /// HTTP or TCP.
    pub protocol: ReadinessProtocol,
    /// Statuses that mean "ready".
    pub healthy_status: StatusSet,
    /// Give up (and fail init) after this long; `None` waits as long as Lambda lets it.
    pub timeout: Option<Duration>,
}

/// Where the Lambda Runtime API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeApi {
    /// For Runtime API calls about invocations (the proxy, when one is set).
    pub invocations: ApiAddress,
    /// For the Extensions API (always Lambda's own).
    pub extensions: ApiAddress,
}

/// One of Lambda's API endpoints, `host:port` with an optional path prefix
/// (cargo-lambda's is `127.0.0.1:9000/.rt`), parsed once, here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAddress {
    authority: String,
    host: String,
    port: u16,
    prefix: String,
}

impl ApiAddress {
    /// Parses `host:port[/prefix]`, with or without `http://`.
    pub fn parse(text: &str) -> Result<ApiAddress, String> {
        let rest = match text.split_once("://") {
            Some(("http", rest)) => rest,
            Some((scheme, _)) => {
                return Err(format!(
                    "the scheme {scheme:?} is not supported; Lambda's APIs use http"
                ))
            }
            None => text,
        };
        let rest = rest.trim_end_matches('/');
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err("no host:port".into());
        }
        // A user name would be sent nowhere (and `@` hides the real host
        // from a reader); `?` or `#` would end the path of every call.
        if authority.contains('@') {
            return Err(format!(
                "{authority:?} holds a user name; give host:port only"
            ));
        }
        if prefix.contains(['?', '#']) {
            return Err(format!("the path prefix {prefix:?} cannot hold ? or #"));
        }
        let parsed: http::uri::Authority = authority
            .parse()
            .map_err(|e| format!("not a valid address: {e}"))?;
        if parsed.host().trim_matches(['[', ']']).is_empty() {
            return Err(format!("{authority:?} has no host"));
        }
        let port_text = authority.len() > parsed.host().len();
        if port_text && parsed.port_u16().is_none() {
            return Err(format!("{authority:?} has no valid port number"));
        }
        format!("http://{authority}{prefix}")
            .parse::<http::Uri>()
            .map_err(|e| format!("not a valid address: {e}"))?;
        Ok(ApiAddress {
            authority: authority.to_string(),
            host: parsed.host().trim_matches(['[', ']']).to_string(),
            port: parsed.port_u16().unwrap_or(80),
            prefix: prefix.to_string(),
        })
    }

    /// `http://host:port[/prefix]`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.authority, self.prefix)
    }

    /// `host:port` as given (the `Host` header of requests to it).
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The host, without IPv6 brackets (to resolve).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (80 when none is given).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The path prefix, empty or starting with `/`, without a trailing slash.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// Lambda's description of the function, from its reserved variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionInfo {
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub name: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MB.
    pub memory_mb: u32,
    /// `AWS_LAMBDA_FUNCTION_VERSION`.
    pub version: String,
    /// `AWS_LAMBDA_MAX_CONCURRENCY` (Lambda Managed Instances), at least 1.
    pub max_concurrency: u32,
    /// `AWS_LAMBDA_LOG_GROUP_NAME` (empty when unset).
    pub log_group: String,
    /// `AWS_LAMBDA_LOG_STREAM_NAME` (empty when unset).
    pub log_stream: String,
    /// `AWS_LAMBDA_INITIALIZATION_TYPE` is `snap-start`: the sandbox will be
    /// snapshotted after init and restored, perhaps many times.
    pub snapstart: bool,
}

impl FunctionInfo {
    /// The function's description in `lambda_runtime`'s type, for each
    /// invocation's `Context`.
    pub fn lambda_config(&self) -> lambda_runtime::Config {
        lambda_runtime::Config {
            function_name: self.name.clone(),
            memory: i32::try_from(self.memory_mb).unwrap_or(i32::MAX),
            version: self.version.clone(),
            log_stream: self.log_stream.clone(),
            log_group: self.log_group.clone(),
        }
    }
}

/// Every setting, read once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Host the app listens on (loopback by default).
    pub host: String,
    /// Port the app listens on.
    pub port: u16,
    /// `host:port`, the `Host` header of the requests the adapter makes to
    /// the app (when the event has none).
    pub app_host: http::HeaderValue,
    /// How to tell that the app is ready.
    pub readiness: Readiness,
    /// Hand init back to Lambda before its 10 s limit and keep waiting in the first invocation.
    pub async_init: bool,
    /// Prefix removed from request paths, without a trailing slash.
    pub remove_base_path: Option<String>,
    /// Compress buffered responses.
    pub compression: bool,
    /// Buffered results, or streamed Function URL and REST API responses.
    pub invoke_mode: InvokeMode,
    /// Path non-HTTP events are POSTed to.
    pub pass_through_path: UrlPath,
    /// Request header whose value replaces `Authorization`.
    pub authorization_source: Option<HeaderName>,
    /// App statuses that fail the invocation.
    pub error_status_codes: StatusSet,
    /// How long an idle connection to the app is kept for reuse.
    pub pool_idle_timeout: Duration,
    /// Path the app receives WebSocket API events on.
    pub websocket_path: UrlPath,
    /// App path POSTed before a SnapStart snapshot.
    pub snapstart_before_checkpoint_path: Option<UrlPath>,
    /// App path POSTed after a SnapStart restore.
    pub snapstart_after_restore_path: Option<UrlPath>,
    /// Write an access record per invocation.
    pub access_log: bool,
    /// Write a CloudWatch EMF metrics record per invocation, in this namespace.
    pub metrics_namespace: Option<String>,
    /// Lambda Web Functions' request semantics, when on.
    pub web_function: Option<WebFunction>,
    /// Threads for concurrent invocations (Lambda Managed Instances).
    pub worker_threads: WorkerThreads,
    /// Where Lambda's APIs are.
    pub runtime_api: RuntimeApi,
    /// The function, as Lambda describes it.
    pub function: FunctionInfo,
}

/// A setting that could not be read: names the variable, the value and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable that was read.
    pub variable: &'static str,
    /// What is wrong, including the accepted values.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Lambda Web Functions' request semantics (`PORTSIDE_WEB_FUNCTION`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebFunction {
    /// The `lambda-web-endpoint-name` the app receives.
    pub endpoint_name: http::HeaderValue,
}

/// A URL path checked at start-up: a valid request target as it stands,
/// so the requests made with it never fail to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPath(http::uri::PathAndQuery);

impl UrlPath {
    /// The path as a request target.
    pub fn uri(&self) -> http::Uri {
        http::Uri::from(self.0.clone())
    }
}

impl std::ops::Deref for UrlPath {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl PartialEq<&str> for UrlPath {
    fn eq(&self, other: &&str) -> bool {
        self.0.as_str() == *other
    }
}

impl fmt::Display for UrlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// A view of the environment through a lookup function.
struct Env<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// The first of `names` that is set to a non-empty value.
    fn first(&self, names: &[&'static str]) -> Option<(&'static str, String)> {
        names.iter().find_map(|&name| {
            (self.lookup)(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (name, v))
        })
    }

    /// Reads `setting` (the first of its names that is set) with its parser;
    /// `Ok(None)` when none is set. A value that does not parse is an error
    /// naming the variable and the accepted values.
    fn read_names<T>(&self, setting: &Setting<T>) -> Result<Option<T>, ConfigError> {
        match self.first(setting.names) {
            None => Ok(None),
            Some((variable, value)) => {
                (setting.parse)(value.trim())
                    .map(Some)
                    .map_err(|why| ConfigError {
                        variable,
                        message: format!(
                            "{value:?} is not valid ({why}); accepted: {}",
                            setting.accepted
                        ),
                    })
            }
        }
    }

    /// Reads `setting`, or, when none of its names is set, its older LWA
    /// variable with that one's parser; `Ok(None)` when neither is set.
    fn read<T>(&self, setting: &Setting<T>) -> Result<Option<T>, ConfigError> {
        match (self.read_names(setting)?, setting.older) {
            (Some(value), _) => Ok(Some(value)),
            (None, Some(older)) => self.read_names(older),
            (None, None) => Ok(None),
        }
    }

    /// Reads `setting`, or gives its default value when it is not set.
    fn value<T>(&self, setting: &Setting<T>) -> Result<T, ConfigError> {
        match self.read(setting)? {
            Some(value) => Ok(value),
            None => default_value(setting),
        }
    }
}

/// A setting's default value, read by its own parser (a test holds every
/// default to it). Only a setting whose default is a value has one.
fn default_value<T>(setting: &Setting<T>) -> Result<T, ConfigError> {
    let Fallback::Value(text) = setting.default else {
        return Err(ConfigError {
            variable: setting.name(),
            message: "has no default value to fall back on".into(),
        });
    };
    (setting.parse)(text).map_err(|why| ConfigError {
        variable: setting.name(),
        message: format!("portside's default {text:?} is not valid ({why})"),
    })
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (a variable name to its
    /// value): each setting through its descriptor in `settings`, which
    /// holds its parser and its default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let env = Env { lookup };
        let (host, port) = app_address(&env)?;
        let web_function = web_function(&env)?;
        let readiness = readiness(&env, port, web_function.is_some())?;
        let remove_base_path = env.read(&settings::REMOVE_BASE_PATH)?.flatten();
        let pool_idle_timeout = env.value(&settings::POOL_IDLE_TIMEOUT)?;
        let runtime_api = runtime_api(&env)?;
        let function = function_info(&env)?;
        // A host `parse::host` accepted makes a valid authority, so a valid
        // header value; said, not assumed.
        let app_host =
            http::HeaderValue::from_str(&crate::uri::authority(&host, port)).map_err(|_| {
                ConfigError {
                    variable: settings::HOST.name(),
                    message: format!("{host:?} does not make a valid Host header"),
                }
            })?;
        Ok(Config {
            host,
            port,
            app_host,
            readiness,
            async_init: env.value(&settings::ASYNC_INIT)?,
            remove_base_path,
            compression: env.value(&settings::ENABLE_COMPRESSION)?,
            invoke_mode: env.value(&settings::INVOKE_MODE)?,
            pass_through_path: env.value(&settings::PASS_THROUGH_PATH)?,
            authorization_source: env.read(&settings::AUTHORIZATION_SOURCE)?,
            error_status_codes: env.read(&settings::ERROR_STATUS_CODES)?.unwrap_or_default(),
            pool_idle_timeout,
            websocket_path: env.value(&settings::WEBSOCKET_PATH)?,
            snapstart_before_checkpoint_path: env
                .read(&settings::SNAPSTART_BEFORE_CHECKPOINT_PATH)?,
            snapstart_after_restore_path: env.read(&settings::SNAPSTART_AFTER_RESTORE_PATH)?,
            access_log: env.value(&settings::ACCESS_LOG)?,
            metrics_namespace: match env.read(&settings::METRICS)? {
                Some(true) => Some(env.value(&settings::METRICS_NAMESPACE)?),
                _ => None,
            },
            web_function,
            worker_threads: env.value(&settings::WORKER_THREADS)?,
            runtime_api,
            function,
        })
    }

    /// The threads the adapter runs on; `cpus` tells how many CPUs the
    /// environment has (asked only for `auto`: it reads cgroup files). One
    /// while invocations come one at a time, whatever the setting (a second
    /// thread would only add wake-ups between them); under Managed
    /// Instances, `PORTSIDE_WORKER_THREADS`, never more than the invocations
    /// that can be in flight.
    pub fn threads(&self, cpus: impl FnOnce() -> usize) -> usize {
        let concurrency = self.function.max_concurrency as usize;
        if concurrency <= 1 {
            return 1;
        }
        let wanted = match self.worker_threads {
            WorkerThreads::Auto => cpus(),
            WorkerThreads::Count(n) => usize::from(n),
        };
        wanted.clamp(1, concurrency)
    }
}

/// Lambda Web Functions' request semantics, when `PORTSIDE_WEB_FUNCTION` is on.
fn web_function<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Option<WebFunction>, ConfigError> {
    Ok(match env.value(&settings::WEB_FUNCTION)? {
        true => Some(WebFunction {
            endpoint_name: env.value(&settings::WEB_ENDPOINT_NAME)?,
        }),
        false => None,
    })
}

/// The readiness check: its port defaults to the app's, and a Web Function
/// (which has no health path) is ready once it listens.
fn readiness<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    app_port: u16,
    web_function: bool,
) -> Result<Readiness, ConfigError> {
    let port = env
        .read(&settings::READINESS_CHECK_PORT)?
        .unwrap_or(app_port);
    let path = env.value(&settings::READINESS_CHECK_PATH)?;
    let protocol = match env.read(&settings::READINESS_CHECK_PROTOCOL)? {
        Some(protocol) => protocol,
        None if web_function => ReadinessProtocol::Tcp,
        None => default_value(&settings::READINESS_CHECK_PROTOCOL)?,
    };
    Ok(Readiness {
        port,
        path,
        protocol,
        healthy_status: env.value(&settings::READINESS_CHECK_HEALTHY_STATUS)?,
        timeout: env.read(&settings::READINESS_CHECK_TIMEOUT)?.flatten(),
    })
}

/// Where Lambda's APIs are: the invocations' through the proxy when one is set.
fn runtime_api<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<RuntimeApi, ConfigError> {
    let lambda = env
        .read(&settings::AWS_LAMBDA_RUNTIME_API)?
        .ok_or(ConfigError {
            variable: settings::AWS_LAMBDA_RUNTIME_API.name(),
            message:
                "is not set, so this is not a Lambda execution environment; portside runs as a \
                 Lambda extension (use portside-local to run a function on this machine)"
                    .into(),
        })?;
    let proxy = env.read(&settings::LAMBDA_RUNTIME_API_PROXY)?;
    Ok(RuntimeApi {
        invocations: proxy.unwrap_or_else(|| lambda.clone()),
        extensions: lambda,
    })
}

/// The function, from Lambda's reserved variables.
fn function_info<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<FunctionInfo, ConfigError> {
    let always_set = |variable: &'static str| ConfigError {
        variable,
        message: "is not set; Lambda always sets it (portside-local does too)".into(),
    };
    let required = |name: &'static str| {
        env.first(&[name])
            .map(|(_, v)| v)
            .ok_or_else(|| always_set(name))
    };
    let optional = |name: &'static str| env.first(&[name]).map(|(_, v)| v);
    Ok(FunctionInfo {
        name: required("AWS_LAMBDA_FUNCTION_NAME")?,
        memory_mb: env
            .read(&settings::AWS_LAMBDA_FUNCTION_MEMORY_SIZE)?
            .ok_or_else(|| always_set(settings::AWS_LAMBDA_FUNCTION_MEMORY_SIZE.name()))?,
        version: required("AWS_LAMBDA_FUNCTION_VERSION")?,
        max_concurrency: env.value(&settings::AWS_LAMBDA_MAX_CONCURRENCY)?,
        log_group: optional("AWS_LAMBDA_LOG_GROUP_NAME").unwrap_or_default(),
        log_stream: optional("AWS_LAMBDA_LOG_STREAM_NAME").unwrap_or_default(),
        snapstart: optional("AWS_LAMBDA_INITIALIZATION_TYPE").is_some_and(|v| v == "snap-start"),
    })
}

/// The app's host (to connect to) and port: `AWS_LAMBDA_HTTP_ENDPOINT` when
/// it is set, else `PORTSIDE_HOST` and `PORTSIDE_PORT` (and their LWA
/// names). When both say, they must agree: the app listens on one address,
/// and the adapter cannot tell which variable it read.
fn app_address<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<(String, u16), ConfigError> {
    let port = env.read(&settings::PORT)?;
    let host = env.read(&settings::HOST)?;
    let Some((endpoint_host, endpoint_port)) = env.read(&settings::AWS_LAMBDA_HTTP_ENDPOINT)?
    else {
        return Ok((
            host.map_or_else(|| default_value(&settings::HOST), Ok)?,
            port.map_or_else(|| default_value(&settings::PORT), Ok)?,
        ));
    };
    let conflict = |setting: &dyn Documented, theirs: String| {
        let (variable, _) = env
            .first(setting.names())
            .unwrap_or((setting.names()[0], theirs.clone()));
        ConfigError {
            variable: settings::AWS_LAMBDA_HTTP_ENDPOINT.name(),
            message: format!(
                "AWS_LAMBDA_HTTP_ENDPOINT and {variable} disagree ({variable} says {theirs}); \
                 the app listens on one address: set only AWS_LAMBDA_HTTP_ENDPOINT, or make \
                 them the same"
            ),
        }
    };
    if let Some(port) = port.filter(|&p| p != endpoint_port) {
        return Err(conflict(&settings::PORT, port.to_string()));
    }
    let wildcard = matches!(endpoint_host.as_str(), "0.0.0.0" | "::");
    if let Some(host) = host.filter(|h| *h != endpoint_host && !wildcard) {
        return Err(conflict(&settings::HOST, host));
    }
    // An app told to listen on every address is reached on loopback.
    let connect = match endpoint_host.as_str() {
        "0.0.0.0" => "127.0.0.1".to_string(),
        "::" => "::1".to_string(),
        _ => endpoint_host,
    };
    Ok((connect, endpoint_port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lambda_env() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("AWS_LAMBDA_FUNCTION_NAME", "users"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ])
    }

    fn config_with(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        let mut env = lambda_env();
        env.extend(extra.iter().copied());
        Config::from_lookup(|name| env.get(name).map(|v| v.to_string()))
    }

    #[test]
    fn the_app_is_where_aws_lambda_http_endpoint_says() {
        let config = config_with(&[("AWS_LAMBDA_HTTP_ENDPOINT", "127.0.0.1:3000")]).unwrap();
        assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 3000));
        assert_eq!(config.readiness.port, 3000);
        assert_eq!(config.app_host, "127.0.0.1:3000");
        // Web Functions' own value: every address, reached on loopback.
        let config = config_with(&[("AWS_LAMBDA_HTTP_ENDPOINT", "0.0.0.0:3000")]).unwrap();
        assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 3000));
        let config = config_with(&[("AWS_LAMBDA_HTTP_ENDPOINT", "[::1]:8000")]).unwrap();
        assert_eq!((config.host.as_str(), config.port), ("::1", 8000));
        assert_eq!(config.app_host, "[::1]:8000");
        // Agreeing settings are fine.
        let config = config_with(&[
            ("AWS_LAMBDA_HTTP_ENDPOINT", "0.0.0.0:3000"),
            ("AWS_LWA_PORT", "3000"),
            ("PORTSIDE_HOST", "127.0.0.1"),
        ])
        .unwrap();
        assert_eq!(config.port, 3000);
    }

    #[test]
    fn an_endpoint_and_a_port_that_disagree_fail_init_naming_both_variables() {
        for (variable, value) in [
            ("PORTSIDE_PORT", "8080"),
            ("AWS_LWA_PORT", "8080"),
            ("PORT", "8080"),
            ("PORTSIDE_HOST", "127.0.0.2"),
        ] {
            let err = config_with(&[
                ("AWS_LAMBDA_HTTP_ENDPOINT", "127.0.0.1:3000"),
                (variable, value),
            ])
            .expect_err(variable);
            assert_eq!(err.variable, "AWS_LAMBDA_HTTP_ENDPOINT");
            let message = err.to_string();
            assert!(message.contains(variable), "{message}");
            assert!(message.contains("AWS_LAMBDA_HTTP_ENDPOINT"), "{message}");
        }
        for bad in [
            "localhost",
            "127.0.0.1:",
            "http://127.0.0.1:3000",
            "a@b:3",
            "h:0",
            "h:99999",
        ] {
            let err = config_with(&[("AWS_LAMBDA_HTTP_ENDPOINT", bad)]).expect_err(bad);
            assert_eq!(err.variable, "AWS_LAMBDA_HTTP_ENDPOINT", "{bad}");
            assert!(err.to_string().contains("host:port"), "{bad}: {err}");
        }
    }

    #[test]
    fn web_function_semantics_name_their_endpoint_and_check_readiness_by_tcp() {
        let config = config_with(&[]).unwrap();
        assert!(config.web_function.is_none());
        assert_eq!(config.readiness.protocol, ReadinessProtocol::Http);
        let config = config_with(&[("PORTSIDE_WEB_FUNCTION", "true")]).unwrap();
        let web = config.web_function.expect("on");
        assert_eq!(web.endpoint_name, "default");
        assert_eq!(config.readiness.protocol, ReadinessProtocol::Tcp);
        // A readiness protocol set explicitly wins.
        let config = config_with(&[
            ("PORTSIDE_WEB_FUNCTION", "true"),
            ("AWS_LWA_READINESS_CHECK_PROTOCOL", "http"),
            ("PORTSIDE_WEB_ENDPOINT_NAME", "api-1"),
        ])
        .unwrap();
        assert_eq!(config.readiness.protocol, ReadinessProtocol::Http);
        assert_eq!(config.web_function.unwrap().endpoint_name, "api-1");
        for bad in ["-x", "x_", "a b", "é"] {
            let err = config_with(&[
                ("PORTSIDE_WEB_FUNCTION", "1"),
                ("PORTSIDE_WEB_ENDPOINT_NAME", bad),
            ])
            .expect_err(bad);
            assert_eq!(err.variable, "PORTSIDE_WEB_ENDPOINT_NAME");
        }
        let long = "a".repeat(65);
        let mut env = lambda_env();
        env.insert("PORTSIDE_WEB_FUNCTION", "true");
        let err = Config::from_lookup(|name| match name {
            "PORTSIDE_WEB_ENDPOINT_NAME" => Some(long.clone()),
            _ => env.get(name).map(|v| v.to_string()),
        })
        .expect_err("65 characters");
        assert_eq!(err.variable, "PORTSIDE_WEB_ENDPOINT_NAME");
    }

    #[test]
    fn defaults_match_lwa() {
        let config = config_with(&[]).unwrap();
        assert_eq!(config.host, "127.0.0.1");
        assert_eq!(config.port, 8080);
        assert_eq!(config.readiness.port, 8080);
        assert_eq!(config.readiness.path, "/");
        assert_eq!(config.readiness.protocol, ReadinessProtocol::Http);
        assert!(config.readiness.healthy_status.contains(100));
        assert!(config.readiness.healthy_status.contains(499));
        assert!(!config.readiness.healthy_status.contains(500));
        assert_eq!(config.readiness.timeout, None);
        assert!(!config.async_init);
        assert_eq!(config.remove_base_path, None);
        assert!(!config.compression);
        assert_eq!(config.invoke_mode, InvokeMode::Buffered);
        assert_eq!(config.pass_through_path, "/events");
        assert_eq!(config.authorization_source, None);
        assert!(config.error_status_codes.is_empty());
        assert_eq!(config.pool_idle_timeout, Duration::from_secs(4));
        assert_eq!(config.websocket_path, "/websocket");
        assert_eq!(config.snapstart_before_checkpoint_path, None);
        assert_eq!(config.snapstart_after_restore_path, None);
        assert_eq!(
            config.runtime_api.invocations.url(),
            "http://127.0.0.1:9001"
        );
        assert_eq!(config.runtime_api.extensions.url(), "http://127.0.0.1:9001");
        assert_eq!(config.function.memory_mb, 512);
        assert_eq!(config.function.max_concurrency, 1);
    }

    #[test]
    fn portside_names_win_over_lwa_names_which_win_over_legacy_names() {
        let config = config_with(&[("PORT", "3000")]).unwrap();
        assert_eq!((config.port, config.readiness.port), (3000, 3000));
        let config = config_with(&[("PORT", "3000"), ("AWS_LWA_PORT", "4000")]).unwrap();
        assert_eq!(config.port, 4000);
        let config = config_with(&[
            ("PORT", "3000"),
            ("AWS_LWA_PORT", "4000"),
            ("PORTSIDE_PORT", "5000"),
        ])
        .unwrap();
        assert_eq!(config.port, 5000);
        let config = config_with(&[
            ("READINESS_CHECK_PATH", "/old"),
            ("AWS_LWA_READINESS_CHECK_PATH", "/new"),
        ])
        .unwrap();
        assert_eq!(config.readiness.path, "/new");
        let config = config_with(&[
            ("AWS_LWA_PORT", "4000"),
            ("AWS_LWA_READINESS_CHECK_PORT", "4001"),
        ])
        .unwrap();
        assert_eq!((config.port, config.readiness.port), (4000, 4001));
    }

    #[test]
    fn every_lwa_setting_is_accepted_with_its_meaning() {
        let config = config_with(&[
            ("AWS_LWA_HOST", "localhost"),
            ("AWS_LWA_READINESS_CHECK_PROTOCOL", "TCP"),
            ("AWS_LWA_READINESS_CHECK_HEALTHY_STATUS", "200-299, 404"),
            ("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS", "2.5"),
            ("AWS_LWA_ASYNC_INIT", "true"),
            ("AWS_LWA_REMOVE_BASE_PATH", "/prod/"),
            ("AWS_LWA_ENABLE_COMPRESSION", "true"),
            ("AWS_LWA_INVOKE_MODE", "RESPONSE_STREAM"),
            ("AWS_LWA_PASS_THROUGH_PATH", "/lambda-events"),
            ("AWS_LWA_AUTHORIZATION_SOURCE", "X-Api-Token"),
            ("AWS_LWA_ERROR_STATUS_CODES", "500,502-504"),
            ("AWS_LWA_LAMBDA_RUNTIME_API_PROXY", "127.0.0.1:9009"),
            ("AWS_LWA_POOL_IDLE_TIMEOUT_SECONDS", "0.5"),
            ("AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH", "/snap"),
            ("AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH", "/restored"),
        ])
        .unwrap();
        assert_eq!(config.host, "localhost");
        assert_eq!(config.readiness.protocol, ReadinessProtocol::Tcp);
        assert!(config.readiness.healthy_status.contains(204));
        assert!(config.readiness.healthy_status.contains(404));
        assert!(!config.readiness.healthy_status.contains(301));
        assert_eq!(config.readiness.timeout, Some(Duration::from_millis(2500)));
        assert!(config.async_init);
        assert_eq!(config.remove_base_path.as_deref(), Some("/prod"));
        assert!(config.compression);
        assert_eq!(config.invoke_mode, InvokeMode::ResponseStream);
        assert_eq!(config.pass_through_path, "/lambda-events");
        assert_eq!(
            config.authorization_source.as_ref().map(|h| h.as_str()),
            Some("x-api-token")
        );
        assert!(config.error_status_codes.contains(503));
        assert!(!config.error_status_codes.contains(501));
        assert_eq!(
            config.runtime_api.invocations.url(),
            "http://127.0.0.1:9009"
        );
        assert_eq!(config.runtime_api.extensions.url(), "http://127.0.0.1:9001");
        assert_eq!(config.pool_idle_timeout, Duration::from_millis(500));
        assert_eq!(
            config.snapstart_before_checkpoint_path.as_deref(),
            Some("/snap")
        );
        assert_eq!(
            config.snapstart_after_restore_path.as_deref(),
            Some("/restored")
        );
    }

    #[test]
    fn lwa_older_settings_keep_their_meaning() {
        let config =
            config_with(&[("AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS", "400")]).unwrap();
        assert!(config.readiness.healthy_status.contains(399));
        assert!(!config.readiness.healthy_status.contains(400));
        let config = config_with(&[("AWS_LWA_CLIENT_IDLE_TIMEOUT_MS", "1500")]).unwrap();
        assert_eq!(config.pool_idle_timeout, Duration::from_millis(1500));
        let config = config_with(&[
            ("REMOVE_BASE_PATH", "/v1"),
            ("ASYNC_INIT", "true"),
            ("HOST", "::1"),
        ])
        .unwrap();
        assert_eq!(config.remove_base_path.as_deref(), Some("/v1"));
        assert!(config.async_init);
        assert_eq!(config.host, "::1");
        let config = config_with(&[("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS", "0")]).unwrap();
        assert_eq!(
            config.readiness.timeout, None,
            "0 means no limit, as in LWA"
        );
    }

    #[test]
    fn bad_values_name_the_variable_and_the_accepted_values() {
        let cases: &[(&str, &str, &str)] = &[
            ("AWS_LWA_PORT", "eighty", "1 to 65535"),
            ("PORTSIDE_PORT", "0", "1 to 65535"),
            ("PORT", "70000", "1 to 65535"),
            ("AWS_LWA_READINESS_CHECK_PROTOCOL", "grpc", "http or tcp"),
            (
                "AWS_LWA_READINESS_CHECK_HEALTHY_STATUS",
                "200-abc",
                "status codes",
            ),
            (
                "AWS_LWA_READINESS_CHECK_HEALTHY_STATUS",
                "399-200",
                "runs backwards",
            ),
            ("AWS_LWA_READINESS_CHECK_PATH", "health", "starting with /"),
            ("AWS_LWA_ASYNC_INIT", "maybe", "true or false"),
            (
                "AWS_LWA_INVOKE_MODE",
                "streaming",
                "buffered or response_stream",
            ),
            ("AWS_LWA_ERROR_STATUS_CODES", "5xx", "500,502-504"),
            ("AWS_LWA_AUTHORIZATION_SOURCE", "X Token", "header name"),
            ("AWS_LWA_HOST", "http://localhost", "host name"),
            ("AWS_LWA_HOST", "localhost:8080", "PORTSIDE_PORT"),
            ("AWS_LWA_POOL_IDLE_TIMEOUT_SECONDS", "0", "greater than 0"),
            ("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS", "soon", "seconds"),
        ];
        for &(variable, value, accepted) in cases {
            let err = config_with(&[(variable, value)]).expect_err(variable);
            assert_eq!(err.variable, variable);
            let text = err.to_string();
            assert!(text.starts_with(variable), "{text}");
            assert!(text.contains(value), "{text}");
            assert!(text.contains(accepted), "{variable}: {text}");
        }
    }

    #[test]
    fn empty_values_count_as_unset() {
        let config = config_with(&[("PORTSIDE_PORT", ""), ("PORT", "9000")]).unwrap();
        assert_eq!(config.port, 9000);
    }

    #[test]
    fn runtime_api_may_carry_a_scheme_and_a_path_prefix() {
        let rt = ApiAddress::parse("127.0.0.1:9000/.rt").unwrap();
        assert_eq!(rt.url(), "http://127.0.0.1:9000/.rt");
        assert_eq!(
            (rt.authority(), rt.host(), rt.port(), rt.prefix()),
            ("127.0.0.1:9000", "127.0.0.1", 9000, "/.rt")
        );
        assert_eq!(ApiAddress::parse("http://127.0.0.1:9000/.rt/").unwrap(), rt);
        let v6 = ApiAddress::parse("[::1]:9001").unwrap();
        assert_eq!(v6.url(), "http://[::1]:9001");
        assert_eq!((v6.host(), v6.port(), v6.prefix()), ("::1", 9001, ""));
        assert_eq!(ApiAddress::parse("localhost").unwrap().port(), 80);
        assert!(ApiAddress::parse("https://x:1").is_err());
        assert!(ApiAddress::parse("/only/path").is_err());
        assert!(ApiAddress::parse("host:notaport").is_err());
    }

    #[test]
    fn outside_lambda_the_error_says_so() {
        let env: HashMap<&str, &str> = HashMap::new();
        let err = Config::from_lookup(|name| env.get(name).map(|v| v.to_string())).unwrap_err();
        assert_eq!(err.variable, "AWS_LAMBDA_RUNTIME_API");
        assert!(err.message.contains("not a Lambda execution environment"));
    }

    #[test]
    fn max_concurrency_is_read_for_managed_instances() {
        let config = config_with(&[("AWS_LAMBDA_MAX_CONCURRENCY", "8")]).unwrap();
        assert_eq!(config.function.max_concurrency, 8);
        assert!(config_with(&[("AWS_LAMBDA_MAX_CONCURRENCY", "0")]).is_err());
    }

    #[test]
    fn invocations_that_come_one_at_a_time_run_on_one_thread_whatever_the_setting() {
        for value in ["1", "4", "auto", "AUTO"] {
            let config = config_with(&[("PORTSIDE_WORKER_THREADS", value)]).unwrap();
            assert_eq!(
                config.threads(|| panic!("no CPU count is needed")),
                1,
                "{value}"
            );
        }
        let default = config_with(&[("AWS_LAMBDA_MAX_CONCURRENCY", "64")]).unwrap();
        assert_eq!(default.worker_threads, WorkerThreads::Count(1));
        assert_eq!(
            default.threads(|| 8),
            1,
            "Managed Instances: one thread unless told"
        );
    }

    #[test]
    fn managed_instances_get_the_threads_asked_for_never_more_than_can_be_in_flight() {
        let threads = |concurrency: &'static str, value: &'static str, cpus: usize| {
            config_with(&[
                ("AWS_LAMBDA_MAX_CONCURRENCY", concurrency),
                ("PORTSIDE_WORKER_THREADS", value),
            ])
            .unwrap()
            .threads(|| cpus)
        };
        assert_eq!(threads("64", "auto", 4), 4, "one per CPU");
        assert_eq!(
            threads("2", "auto", 16),
            2,
            "no more than invocations in flight"
        );
        assert_eq!(threads("64", "auto", 0), 1, "at least one");
        assert_eq!(threads("64", "3", 16), 3);
        assert_eq!(threads("8", "256", 16), 8);
    }

    #[test]
    fn a_bad_worker_thread_count_names_the_variable_and_the_accepted_values() {
        for bad in ["0", "257", "-1", "many", "2.5"] {
            let err = config_with(&[("PORTSIDE_WORKER_THREADS", bad)]).expect_err(bad);
            assert_eq!(err.variable, "PORTSIDE_WORKER_THREADS", "{bad}");
            let text = err.to_string();
            assert!(
                text.contains("from 1 to 256") && text.contains("auto"),
                "{bad}: {text}"
            );
        }
    }
}
