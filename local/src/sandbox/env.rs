//! Lambda's environment for the function's processes (`AWS_LAMBDA_*`,
//! `_HANDLER`, the layer's paths, the caller's credentials, the user's
//! `--env` last) and the runtime's command line (the exec wrapper, then
//! the runtime interface client or the `bootstrap`).
//!
//! It computes values only: it must not start processes.

use super::{Inner, RuntimeKind};
use std::path::PathBuf;

impl Inner {
    pub(super) fn environment(&self) -> Vec<(String, String)> {
        let cfg = &self.cfg;
        let mut env = self.search_paths();
        let mut set = |k: &str, v: String| env.push((k.to_string(), v));
        set("LANG", "en_US.UTF-8".into());
        set("TZ", ":UTC".into());
        set("LAMBDA_TASK_ROOT", cfg.function_dir.display().to_string());
        set("_HANDLER", cfg.handler.clone());
        set("AWS_LAMBDA_RUNTIME_API", self.api.runtime_api_env());
        set("AWS_LAMBDA_FUNCTION_NAME", cfg.function_name.clone());
        set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", cfg.memory_mb.to_string());
        set(
            "AWS_LAMBDA_FUNCTION_VERSION",
            self.api.config().function_version.clone(),
        );
        set(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", cfg.function_name),
        );
        set("AWS_LAMBDA_LOG_STREAM_NAME", self.log_stream.clone());
        set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into());
        if let Some(tmp) = &cfg.tmp_dir {
            // Each execution environment has a /tmp of its own on Lambda.
            set("TMPDIR", tmp.display().to_string());
        }
        set("AWS_REGION", cfg.region.clone());
        set("AWS_DEFAULT_REGION", cfg.region.clone());
        if cfg.runtime.takes_exec_wrapper() {
            set(
                "AWS_EXECUTION_ENV",
                format!("AWS_Lambda_{}", cfg.runtime.name()),
            );
        }
        if cfg.max_concurrency > 1 {
            set(
                "AWS_LAMBDA_MAX_CONCURRENCY",
                cfg.max_concurrency.to_string(),
            );
        }
        if self.layer.is_some() && cfg.runtime.takes_exec_wrapper() {
            // The layer's shim is the exec wrapper unless the user set one.
            if self.layer.as_ref().and_then(|l| l.bootstrap()).is_some() {
                set("AWS_LAMBDA_EXEC_WRAPPER", "/opt/bootstrap".into());
            }
        }
        for (k, v) in caller_credentials() {
            set(&k, v);
        }
        for (k, v) in &cfg.env {
            set(k, v.clone());
        }
        last_wins(env)
    }

    /// The search paths: `PATH` (the runtime's interpreter first, as
    /// /var/lang/bin is on Lambda, then the layer's `bin`, then the host's)
    /// and, with a layer, `LD_LIBRARY_PATH` (its `lib` before the host's)
    /// and on Python `PYTHONPATH` (its `python`).
    fn search_paths(&self) -> Vec<(String, String)> {
        let cfg = &self.cfg;
        let host_path =
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
        let first = cfg
            .interpreter_dir
            .as_ref()
            .map(|d| format!("{}:", d.display()))
            .unwrap_or_default();
        let Some(opt) = self.layer.as_ref().map(|l| l.dir()) else {
            return vec![("PATH".into(), format!("{first}{host_path}"))];
        };
        let mut paths = vec![(
            "PATH".to_string(),
            format!("{first}{}:{host_path}", opt.join("bin").display()),
        )];
        let mut ld = opt.join("lib").display().to_string();
        if let Ok(host_ld) = std::env::var("LD_LIBRARY_PATH") {
            ld = format!("{ld}:{host_ld}");
        }
        paths.push(("LD_LIBRARY_PATH".into(), ld));
        if let RuntimeKind::Python(_) = cfg.runtime {
            paths.push((
                "PYTHONPATH".into(),
                opt.join("python").display().to_string(),
            ));
        }
        paths
    }

    pub(super) fn runtime_command(&self) -> Result<Vec<String>, String> {
        let cfg = &self.cfg;
        match &cfg.runtime {
            RuntimeKind::Provided(name) => {
                let own = cfg.function_dir.join("bootstrap");
                let layer = self.layer.as_ref().and_then(|l| l.bootstrap());
                let Some(bootstrap) = own.is_file().then_some(own).or(layer) else {
                    return Err(format!(
                        "the {name} runtime runs a file named bootstrap, and neither {} nor the layer has one",
                        cfg.function_dir.display()
                    ));
                };
                Ok(vec![bootstrap.display().to_string()])
            }
            RuntimeKind::Python(_) | RuntimeKind::Node(_) => {
                let python =
                    std::env::var("PORTSIDE_LOCAL_PYTHON").unwrap_or_else(|_| "python3".into());
                let mut cmd = cfg.runtime.client_command(python, &cfg.handler);
                let wrapper = match cfg.user_env("AWS_LAMBDA_EXEC_WRAPPER") {
                    Some("") => None,
                    Some(w) => Some(match &self.layer {
                        Some(l) => l.translate(w),
                        None => PathBuf::from(w),
                    }),
                    None => self.layer.as_ref().and_then(|l| l.bootstrap()),
                };
                if let Some(w) = wrapper {
                    if !w.is_file() {
                        return Err(format!(
                            "the exec wrapper {} does not exist (AWS_LAMBDA_EXEC_WRAPPER; /opt/ means the layer)",
                            w.display()
                        ));
                    }
                    cmd.insert(0, w.display().to_string());
                } else if let Some(why) = cfg.runtime.without_wrapper() {
                    return Err(why);
                }
                Ok(cmd)
            }
        }
    }
}

/// The caller's AWS credentials and endpoint overrides (for local AWS
/// emulators): Lambda hands the function its role's credentials; locally,
/// the caller's stand in.
fn caller_credentials() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN"
            ) || k.starts_with("AWS_ENDPOINT_URL")
        })
        .collect()
}

/// One entry per name, the last value winning (as with repeated `--env`),
/// at the place of its last setting.
fn last_wins(env: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in env {
        out.retain(|(ok, _)| *ok != k);
        out.push((k, v));
    }
    out
}
