//! Running Terraform in the [`Workspace`]: `init` (offline when the user's
//! providers are at hand), `plan -out` against the local AWS stand-in,
//! `show -json` of that plan, and `test -json -verbose` of the generated
//! test file that makes the plan's unknown values known (`resolve`).
//!
//! Terraform runs with the user's own variables (`TF_VAR_*`, `--var`,
//! `--var-file`, `terraform.tfvars`) and CLI configuration, its data folder
//! inside the workspace, and AWS pointed at the stand-in with test
//! credentials (the user's profile and keys are never handed to it).
//!
//! Owns: the terraform command lines, their environment, their errors.
//! Must not: interpret the plan.

use super::workspace::Workspace;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// What Terraform needs from `up`.
#[derive(Debug, Clone)]
pub struct Terraform {
    /// The executable.
    pub exe: PathBuf,
    /// `-plugin-dir` for init, if any.
    pub plugin_dir: Option<PathBuf>,
    /// `-var NAME=VALUE` for plan and test.
    pub vars: Vec<(String, String)>,
    /// `-var-file FILE` for plan and test.
    pub var_files: Vec<PathBuf>,
    /// The AWS endpoint the provider talks to while planning.
    pub endpoint: String,
    /// The region for the provider when the stack does not set one.
    pub region: String,
}

/// The folder of providers init should install from: the one given, else
/// `TF_PLUGIN_DIR`, else what `terraform init` installed in `dir` earlier.
pub fn plugin_dir(given: Option<&Path>, dir: &Path) -> Option<PathBuf> {
    if let Some(p) = given {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("TF_PLUGIN_DIR").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let installed = dir.join(".terraform/providers");
    installed.is_dir().then_some(installed)
}

/// A line of `terraform test -json` that may hold a run's plan.
#[derive(serde::Deserialize)]
struct TestPlanLine {
    test_plan: Option<TestPlanChanges>,
}

#[derive(serde::Deserialize)]
struct TestPlanChanges {
    #[serde(default)]
    resource_changes: Value,
}

/// The tail of a command's output worth showing in an error.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(40);
    lines[start..].join("\n")
}

impl Terraform {
    fn command(&self, ws: &Workspace, args: &[String]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.exe);
        cmd.arg(format!("-chdir={}", ws.root().display()))
            .args(args)
            .current_dir(ws.root())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            // The user's AWS identity and endpoints stay out; so does a data
            // folder or workspace that belongs to their own runs.
            if k.starts_with("AWS_") || k == "TF_DATA_DIR" || k == "TF_WORKSPACE" {
                cmd.env_remove(&*k);
            }
        }
        if let Some(cfg) = std::env::var_os("TF_CLI_CONFIG_FILE") {
            // A configuration file that is named but missing only warns.
            if !Path::new(&cfg).is_file() {
                cmd.env_remove("TF_CLI_CONFIG_FILE");
            }
        }
        cmd.env("TF_DATA_DIR", ws.root().join(".terraform"))
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", &self.region)
            .env("AWS_EC2_METADATA_DISABLED", "true");
        cmd
    }

    async fn run(&self, ws: &Workspace, what: &str, args: Vec<String>) -> Result<String, String> {
        let out = self
            .command(ws, &args)
            .output()
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => format!(
                    "terraform is not installed (no {} on PATH): up reads the stack through Terraform itself; install Terraform 1.11 or newer, or pass --terraform PATH",
                    self.exe.display()
                ),
                _ => format!("cannot run {}: {e}", self.exe.display()),
            })?;
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        if out.status.success() {
            return Ok(stdout);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "terraform {what} failed in {} ({}):\n{}",
            ws.real().display(),
            out.status,
            tail(&format!("{stdout}{stderr}"))
        ))
    }

    fn var_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for (k, v) in &self.vars {
            args.push(format!("-var={k}={v}"));
        }
        for f in &self.var_files {
            let f = if f.is_absolute() {
                f.clone()
            } else {
                std::env::current_dir().unwrap_or_default().join(f)
            };
            args.push(format!("-var-file={}", f.display()));
        }
        args
    }

    /// `terraform init`, without a backend (nothing is read from or written
    /// to the user's state).
    pub async fn init(&self, ws: &Workspace) -> Result<(), String> {
        let mut args = vec![
            "init".to_string(),
            "-backend=false".into(),
            "-input=false".into(),
            "-no-color".into(),
        ];
        if let Some(dir) = &self.plugin_dir {
            args.push(format!("-plugin-dir={}", dir.display()));
        }
        self.run(ws, "init", args).await.map(|_| ()).map_err(|e| {
            if e.starts_with("terraform init failed") {
                format!("{e}\n(up runs terraform init as you would, offline when the providers are at hand: pass --plugin-dir DIR or set TF_PLUGIN_DIR to a provider mirror, or run terraform init in the stack once)")
            } else {
                e
            }
        })
    }

    /// `terraform plan -out`, then `terraform show -json` of it.
    pub async fn plan_json(&self, ws: &Workspace) -> Result<Value, String> {
        let planfile = ws.own("up.tfplan");
        let mut args = vec![
            "plan".to_string(),
            "-input=false".into(),
            "-lock=false".into(),
            "-refresh=false".into(),
            "-no-color".into(),
            format!("-out={}", planfile.display()),
        ];
        args.extend(self.var_args());
        self.run(ws, "plan", args).await?;
        let shown = self
            .run(
                ws,
                "show",
                vec![
                    "show".into(),
                    "-json".into(),
                    "-no-color".into(),
                    planfile.display().to_string(),
                ],
            )
            .await?;
        serde_json::from_str(&shown)
            .map_err(|e| format!("terraform show -json printed no JSON: {e}"))
    }

    /// Runs the test file `file` (written by `resolve`, under `dir` inside
    /// the root module) and returns its run's plan (`test_plan`).
    pub async fn test_plan(&self, ws: &Workspace, dir: &str, file: &str) -> Result<Value, String> {
        let mut args = vec![
            "test".to_string(),
            format!("-test-directory={dir}"),
            format!("-filter={dir}/{file}"),
            "-json".into(),
            "-verbose".into(),
            "-no-color".into(),
        ];
        args.extend(self.var_args());
        let out = self
            .command(ws, &args)
            .output()
            .await
            .map_err(|e| format!("cannot run {}: {e}", self.exe.display()))?;
        let mut errors = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            // The run's plan carries the provider's whole schema (megabytes):
            // only its resource changes are read.
            if let Ok(TestPlanLine {
                test_plan: Some(plan),
            }) = serde_json::from_str(line)
            {
                return Ok(serde_json::json!({ "resource_changes": plan.resource_changes }));
            }
            let Ok(msg) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if msg["@level"] == "error" {
                let d = &msg["diagnostic"];
                errors.push(format!(
                    "{}{}{}",
                    d["summary"]
                        .as_str()
                        .or(msg["@message"].as_str())
                        .unwrap_or(""),
                    d["address"]
                        .as_str()
                        .map(|a| format!(" ({a})"))
                        .unwrap_or_default(),
                    d["detail"]
                        .as_str()
                        .filter(|s| !s.is_empty())
                        .map(|s| format!(": {s}"))
                        .unwrap_or_default()
                ));
            }
        }
        if errors.is_empty() {
            errors.push(tail(&String::from_utf8_lossy(&out.stderr)));
        }
        Err(errors.join("\n"))
    }
}
