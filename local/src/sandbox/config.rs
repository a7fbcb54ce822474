//! What one function's sandbox runs and how: [`SandboxConfig`] and the
//! runtime it names ([`RuntimeKind`]).
//!
//! Plain data: it must not start anything or read the environment.

use crate::runtime_api;
use std::path::PathBuf;
use std::time::Duration;

/// What runs as the runtime process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeKind {
    /// A managed runtime such as `python3.12`: AWS's runtime interface client
    /// for Python (`python3 -m awslambdaric HANDLER`), through the exec
    /// wrapper when one is set.
    Python(String),
    /// A Node.js managed runtime such as `nodejs22.x`. Lambda's Node.js
    /// runtime interface client does not run locally, so an exec wrapper
    /// (the portside layer's shim) must start the handler; the `node` it
    /// finds is the runtime's (see `crate::runtimes`).
    Node(String),
    /// An OS-only runtime (`provided.al2023`): the function's `bootstrap`,
    /// else the layer's.
    Provided(String),
}

impl RuntimeKind {
    /// Parses a Lambda runtime identifier.
    pub fn parse(name: &str) -> Result<RuntimeKind, String> {
        if name.starts_with("python3") {
            Ok(RuntimeKind::Python(name.to_string()))
        } else if name.starts_with("provided") {
            Ok(RuntimeKind::Provided(name.to_string()))
        } else if crate::runtimes::node::runtime_major(name).is_some() {
            Ok(RuntimeKind::Node(name.to_string()))
        } else {
            Err(format!(
                "the runtime {name:?} is not available locally: use a python3.x runtime, a nodejsNN.x runtime (nodejs22.x) with the portside layer, or provided.al2023 (with a bootstrap file)"
            ))
        }
    }

    /// The identifier (`python3.12`, `nodejs22.x`, `provided.al2023`).
    pub fn name(&self) -> &str {
        match self {
            RuntimeKind::Python(n) | RuntimeKind::Node(n) | RuntimeKind::Provided(n) => n,
        }
    }

    /// Whether Lambda honours `AWS_LAMBDA_EXEC_WRAPPER` and sets
    /// `AWS_EXECUTION_ENV` for it: a managed language runtime, not an
    /// OS-only one.
    pub fn takes_exec_wrapper(&self) -> bool {
        !matches!(self, RuntimeKind::Provided(_))
    }

    /// The runtime client's command line, which the exec wrapper is given
    /// (the portside shim ignores it): `python` for Python's, `node HANDLER`
    /// standing for Node's.
    pub fn client_command(&self, python: String, handler: &str) -> Vec<String> {
        match self {
            RuntimeKind::Node(_) => vec!["node".into(), handler.into()],
            _ => vec![python, "-m".into(), "awslambdaric".into(), handler.into()],
        }
    }

    /// Why it cannot start without an exec wrapper, if it cannot.
    pub fn without_wrapper(&self) -> Option<String> {
        match self {
            RuntimeKind::Node(name) => Some(format!(
                "the {name} runtime needs an exec wrapper that starts your handler, such as the portside layer's (--layer, or the short form's own): Lambda's Node.js runtime interface client does not run locally"
            )),
            _ => None,
        }
    }
}

/// Everything needed to run one function.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The function's code (`LAMBDA_TASK_ROOT`, and the processes' working
    /// folder).
    pub function_dir: PathBuf,
    /// `_HANDLER`.
    pub handler: String,
    /// The runtime.
    pub runtime: RuntimeKind,
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub function_name: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (MB).
    pub memory_mb: u32,
    /// The function timeout.
    pub timeout: Duration,
    /// Bound on init.
    pub init_timeout: Duration,
    /// `AWS_REGION`.
    pub region: String,
    /// The user's variables (`--env`), applied last.
    pub env: Vec<(String, String)>,
    /// Freeze between invocations.
    pub freeze: bool,
    /// Concurrent invocations (Lambda Managed Instances); freezing is off
    /// when above 1.
    pub max_concurrency: usize,
    /// Copy the processes' output to stderr with a prefix.
    pub show_logs: bool,
    /// Which execution environment of the function this is (1, 2...), when
    /// it has several: process output is prefixed `[name#N]` and messages
    /// name it. `None` for a lone sandbox.
    pub environment: Option<usize>,
    /// `TMPDIR` for the processes (the environment's own /tmp).
    pub tmp_dir: Option<PathBuf>,
    /// How reports name the app when the exec wrapper makes the runtime
    /// process the app (`python3 app.py`); default: "started by the handler".
    pub app_command: Option<String>,
    /// The name every line the function prints starts with (its output,
    /// its START, END and REPORT lines, its environments' messages), as
    /// `name | ` or `name#2 | ` for environment 2, when several functions
    /// share one log (`portside-local up`).
    pub log_prefix: Option<String>,
    /// A folder put first on `PATH` holding the runtime's interpreter as
    /// `python3` (Lambda's `/var/lang/bin`; see `crate::runtimes`).
    pub interpreter_dir: Option<PathBuf>,
}

impl SandboxConfig {
    /// Defaults for a function folder and handler.
    pub fn new(function_dir: PathBuf, handler: impl Into<String>, runtime: RuntimeKind) -> Self {
        SandboxConfig {
            function_dir,
            handler: handler.into(),
            runtime,
            function_name: "portside-local".to_string(),
            memory_mb: 1024,
            timeout: Duration::from_secs(30),
            init_timeout: runtime_api::INIT_TIMEOUT,
            region: "us-east-1".to_string(),
            env: Vec::new(),
            freeze: true,
            max_concurrency: 1,
            show_logs: true,
            environment: None,
            tmp_dir: None,
            app_command: None,
            log_prefix: None,
            interpreter_dir: None,
        }
    }

    /// `text`, each line preceded by [`SandboxConfig::log_prefix`] (and
    /// the environment's number) if set.
    pub fn prefixed(&self, text: &str) -> String {
        let Some(name) = &self.log_prefix else {
            return text.to_string();
        };
        let who = match self.environment {
            Some(n) => format!("{name}#{n} |"),
            None => format!("{name} |"),
        };
        text.lines()
            .map(|l| format!("{who} {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub(super) fn user_env(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `environment 2: ` or nothing (after the function's name when several
    /// functions share the log).
    pub(super) fn who(&self) -> String {
        let name = match &self.log_prefix {
            Some(_) => format!("{}: ", self.function_name),
            None => String::new(),
        };
        match self.environment {
            Some(n) => format!("{name}environment {n}: "),
            None => name,
        }
    }
}
