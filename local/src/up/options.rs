//! The `up` subcommand's options ([`UpOptions`], parsed by clap's derive)
//! and their checks, with errors that name the option and what it accepts.
//!
//! Owns: what `portside-local up` accepts on its command line.
//! Must not: touch files, run Terraform or start anything.

use crate::auth::iam::IamMode;
use clap::Parser;
use std::path::PathBuf;

/// `portside-local up [DIR]`: the whole Terraform stack in one process.
#[derive(Debug, Clone, Parser, PartialEq)]
#[command(
    name = "portside-local up",
    about = "Run a Terraform stack on this machine: its functions, front doors and triggers, \
             with S3, SQS and DynamoDB in a local moto server.",
    long_about = "Run a Terraform stack on this machine: its functions, front doors and triggers, \
                  with S3, SQS and DynamoDB in a local moto server.\n\n\
                  Terraform itself reads the configuration (terraform init with the providers \
                  you have, then a plan against the local AWS stand-in, rendered by terraform \
                  show -json); nothing is deployed. What cannot be run locally is named at start \
                  with its Terraform address.",
    after_help = "Stop with Ctrl-C or SIGTERM: every function is shut down as Lambda does it, then \
                  moto. See docs/src/portside-local-up.md."
)]
pub struct UpOptions {
    /// The Terraform root module (default: the current folder).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// A Terraform variable, as terraform plan -var takes it (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_pair)]
    pub vars: Vec<(String, String)>,

    /// A Terraform variable file, as terraform plan -var-file takes it
    /// (repeatable; terraform.tfvars and *.auto.tfvars are read anyway).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,

    /// The first front door's port on 127.0.0.1; the others follow it (HTTP
    /// APIs, REST APIs, Function URLs, target groups, each by address);
    /// 0: any free ports.
    #[arg(long, value_name = "N", default_value_t = 3000)]
    pub port: u16,

    /// The port of the moto server `up` starts on 127.0.0.1 (4566, as other
    /// local AWS stand-ins use; any free port when it is taken; 0: any).
    #[arg(long, value_name = "N", default_value_t = 4566)]
    pub aws_port: u16,

    /// Where terraform init finds its providers (a plugin folder, as
    /// `terraform init -plugin-dir` takes it). Default: TF_PLUGIN_DIR, else
    /// the providers DIR/.terraform already has, else what your CLI
    /// configuration says.
    #[arg(long, value_name = "DIR")]
    pub plugin_dir: Option<PathBuf>,

    /// The terraform executable.
    #[arg(long, value_name = "PATH", default_value = "terraform")]
    pub terraform: PathBuf,

    /// Fire this EventBridge schedule once as soon as the stack is ready (its
    /// rule name or Terraform address; repeatable).
    #[arg(long = "fire", value_name = "RULE")]
    pub fire: Vec<String>,

    /// At most N execution environments per function (a function's reserved
    /// concurrency lowers it).
    #[arg(long, value_name = "N", default_value_t = crate::cli::DEFAULT_ENVIRONMENTS,
          value_parser = crate::cli::environments)]
    pub environments: usize,

    /// An environment variable for every function (repeatable; wins over
    /// the stack's own).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub env: Vec<(String, String)>,

    /// The portside adapter the portside layer maps to (default: next to this
    /// executable, e.g. target/debug/portside).
    #[arg(long, value_name = "PATH")]
    pub adapter: Option<PathBuf>,

    /// The exec wrapper the portside layer maps to (default: the repository's
    /// shim/bootstrap).
    #[arg(long, value_name = "PATH")]
    pub shim: Option<PathBuf>,

    /// Do not SIGSTOP functions between invocations.
    #[arg(long)]
    pub no_freeze: bool,

    /// Do not copy the functions' output (and their START, END and REPORT
    /// lines) to stderr.
    #[arg(long)]
    pub quiet: bool,

    /// Restart a function when its code changes: the folder or file a
    /// `data "archive_file"` zips into its package (not .git,
    /// node_modules, __pycache__, .venv, target, editor swap files or what
    /// .gitignore ignores), else its prebuilt zip itself. In-flight
    /// requests finish, its environments stop as Lambda stops them, a
    /// fresh one starts on the new code (a cold start).
    #[arg(long)]
    pub watch: bool,

    /// With --watch: run CMD (sh -c, in the watched folder) before each
    /// restart of a function built by archive_file; if it fails the
    /// running code keeps serving.
    #[arg(long, value_name = "CMD", requires = "watch")]
    pub watch_build: Option<String>,

    /// The signing keys of a JWT authorizer's issuer: ISSUER=FILE (a JSON
    /// Web Key Set) or ISSUER=URL (on this machine) (repeatable). Without
    /// it an issuer on this machine (http://127.0.0.1...) is asked at
    /// ISSUER/.well-known/openid-configuration; any other is refused.
    #[arg(long = "jwt-jwks", value_name = "ISSUER=FILE|URL", value_parser = parse_pair)]
    pub jwt_jwks: Vec<(String, String)>,

    /// AWS_IAM routes and Function URLs: IAM is not emulated (signatures
    /// are not checked, a signed request passes); an unsigned request is
    /// refused with 403 as AWS refuses it (deny) or let through (allow).
    #[arg(long = "iam-auth", value_name = "allow|deny", default_value = "deny",
          value_parser = IamMode::parse)]
    pub iam_auth: IamMode,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, got {s:?}")),
    }
}

/// Parses `up`'s arguments (without `up` itself). `Err` holds clap's text:
/// the help (exit code 0) or the error (exit code 2).
pub fn parse(args: &[String]) -> Result<UpOptions, (String, i32)> {
    let argv = std::iter::once("portside-local up".to_string()).chain(args.iter().cloned());
    UpOptions::try_parse_from(argv).map_err(|e| (e.render().to_string(), e.exit_code()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_and_repeated_options() {
        let o = parse(&args(&[])).expect("no arguments");
        assert_eq!(o.dir, PathBuf::from("."));
        assert_eq!(o.port, 3000);
        assert_eq!(o.environments, crate::cli::DEFAULT_ENVIRONMENTS);
        assert_eq!(o.iam_auth, IamMode::Deny, "AWS refuses unsigned requests");
        let o = parse(&args(&[
            "stack",
            "--var",
            "a=1",
            "--var=b=x=y",
            "--fire",
            "nightly",
            "--port",
            "4000",
        ]))
        .expect("parsed");
        assert_eq!(o.dir, PathBuf::from("stack"));
        assert_eq!(
            o.vars,
            vec![("a".into(), "1".into()), ("b".into(), "x=y".into())]
        );
        assert_eq!(o.fire, vec!["nightly".to_string()]);
        assert_eq!(o.port, 4000);
    }

    #[test]
    fn bad_values_name_the_option() {
        let (text, code) = parse(&args(&["--var", "novalue"])).expect_err("refused");
        assert_eq!(code, 2);
        assert!(
            text.contains("--var") && text.contains("NAME=VALUE"),
            "{text}"
        );
        let (text, _) = parse(&args(&["--environments", "0"])).expect_err("refused");
        assert!(text.contains("--environments"), "{text}");
        let (text, _) = parse(&args(&["--watch-build", "make"])).expect_err("refused");
        assert!(text.contains("--watch"), "{text}");
        let (text, _) = parse(&args(&["--iam-auth", "maybe"])).expect_err("refused");
        assert!(
            text.contains("--iam-auth") && text.contains("allow or deny"),
            "{text}"
        );
        let (text, _) = parse(&args(&["--jwt-jwks", "keys.json"])).expect_err("refused");
        assert!(
            text.contains("--jwt-jwks") && text.contains("NAME=VALUE"),
            "{text}"
        );
        let (text, code) = parse(&args(&["--help"])).expect_err("help");
        assert_eq!(code, 0);
        assert!(text.contains("--fire"), "{text}");
    }
}
