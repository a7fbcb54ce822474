//! The daily-loop flags of the short form and `--function`: `--env-file`,
//! `--watch`, `--watch-build`, `--debug` and the authorizers' flags
//! ([`crate::auth::flags`]), flattened into the command line's table
//! (`args`) under their own help headings; [`check`] runs once parsing ends.
//!
//! It must not touch files or start anything.

use super::args::DAILY_LOOP;
use super::Options;
use crate::auth::flags::{AuthFlags, FunctionDefaults};
use crate::frontdoor::FrontDoorConfig;
use crate::function::Function;
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The function, init and integration timeouts under `--debug`: long
/// enough for a debugging session, still a bound.
pub const DEBUG_TIMEOUT: Duration = Duration::from_secs(12 * 3600);

/// What these flags say.
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct DailyOptions {
    /// Function variables from a dotenv file (repeatable; a later file wins;
    /// --env wins over all): KEY=value, export KEY=value, quotes, #
    /// comments, ${VAR} and ${VAR:-default}, read as python-dotenv reads
    /// them
    #[arg(long = "env-file", value_name = "FILE", help_heading = DAILY_LOOP)]
    pub env_files: Vec<PathBuf>,

    /// Restart the function when a file under its folder changes (not .git,
    /// node_modules, __pycache__, .venv, target, editor swap files or what
    /// .gitignore ignores): in-flight requests finish, the environments
    /// stop as Lambda stops them, fresh ones start (a cold start)
    #[arg(long, help_heading = DAILY_LOOP)]
    pub watch: bool,

    /// With --watch: run CMD (sh -c, in the function folder) before each
    /// restart; if it fails the running code keeps serving and its output
    /// says why
    #[arg(long, value_name = "CMD", value_parser = build_command, help_heading = DAILY_LOOP)]
    pub watch_build: Option<String>,

    /// For a debugger: one execution environment, never frozen, no
    /// function, init or integration timeout
    #[arg(long, help_heading = DAILY_LOOP)]
    pub debug: bool,

    /// The authorizers' flags.
    #[command(flatten)]
    pub auth: AuthFlags,
}

fn build_command(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("wants the build command, such as 'npm run build'".into());
    }
    Ok(s.to_string())
}

/// Refuses what cannot work together, naming the flags.
pub fn check(o: &Options) -> Result<(), String> {
    let d = &o.daily;
    if d.watch_build.is_some() && !d.watch {
        return Err("--watch-build runs before each --watch restart: add --watch".into());
    }
    if (d.watch || d.debug) && o.invoke_file.is_some() {
        return Err("invoke runs one event and exits: --watch and --debug are for serving".into());
    }
    if d.debug && o.concurrency > 1 {
        return Err("--debug runs one invocation at a time: drop --concurrency".into());
    }
    if d.auth.any() && o.invoke_file.is_some() {
        return Err("invoke sends one event straight to the function (as Lambda's Invoke API): authorizers are for the front door".into());
    }
    d.auth.check(o.source)
}

/// Sets up the front door for these flags: the authorizers (keys fetched,
/// the authorizer's function prepared), no integration timeout under
/// `--debug`.
pub(super) async fn prepare_door(
    door: &mut FrontDoorConfig,
    o: &Options,
    function: &Arc<Function>,
) -> Result<(), String> {
    if o.daily.debug {
        door.integration_timeout = None;
    }
    let cfg = function.config();
    let defaults = FunctionDefaults {
        region: o.region.clone(),
        timeout: cfg.timeout,
        memory_mb: o.memory,
        environments: function.max_environments(),
        show_logs: cfg.show_logs,
        freeze: cfg.freeze,
    };
    door.auth = o.daily.auth.build(o.source, &defaults).await?.map(Arc::new);
    Ok(())
}

/// Says at start what these flags do, and starts watching (the handle
/// keeps the watch alive).
pub(super) fn announce(
    door: &FrontDoorConfig,
    o: &Options,
    function: &Arc<Function>,
) -> Result<Option<crate::watch::WatchHandle>, String> {
    if let Some(gate) = &door.auth {
        for notice in gate.notices() {
            eprintln!("portside-local: {notice}");
        }
    }
    if o.daily.debug {
        eprintln!(
            "portside-local: --debug: one execution environment, never frozen; the function timeout ({} s), the init limit and the event source's integration timeout are suspended ({} h), so an invocation can wait in your debugger",
            o.timeout.as_secs_f64(),
            DEBUG_TIMEOUT.as_secs() / 3600
        );
    }
    if !o.daily.watch {
        return Ok(None);
    }
    let cfg = crate::watch::WatchConfig {
        root: function.config().function_dir.clone(),
        build: o.daily.watch_build.clone(),
        early: !o.daily.debug,
        only: None,
        refresh: None,
    };
    crate::watch::start(Arc::clone(function), cfg).map(Some)
}

/// Stops the function and the authorizers' functions together.
pub(super) async fn shutdown(door: &FrontDoorConfig, function: &Arc<Function>) {
    let gate = async {
        if let Some(g) = &door.auth {
            g.shutdown().await;
        }
    };
    tokio::join!(function.shutdown(), gate);
}

#[cfg(test)]
mod tests {
    use crate::cli::{parse, Command};

    fn parse_args(a: &[&str]) -> Result<Command, String> {
        parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_daily_flags_parse_and_what_cannot_work_together_is_named() {
        let Ok(Command::Run(o)) = parse_args(&[
            "--watch",
            "--watch-build",
            "make",
            "--env-file",
            "a",
            "--env-file",
            "b",
            "--debug",
            "--jwt-issuer",
            "http://127.0.0.1:1/i",
            "--jwt-audience",
            "x",
            "--",
            "app",
        ]) else {
            panic!("parses");
        };
        assert!(o.daily.watch && o.daily.debug);
        assert_eq!(o.daily.watch_build.as_deref(), Some("make"));
        assert_eq!(o.daily.env_files, ["a", "b"].map(std::path::PathBuf::from));
        assert_eq!(o.daily.auth.jwt_audiences, ["x"]);
        for (args, says) in [
            (vec!["--watch-build", "make", "--", "app"], "add --watch"),
            (
                vec!["--watch-build", " ", "--watch", "--", "app"],
                "wants the build command",
            ),
            (
                vec!["invoke", "--event-file", "e", "--watch", "--", "app"],
                "for serving",
            ),
            (
                vec!["--debug", "--concurrency", "2", "--", "app"],
                "drop --concurrency",
            ),
            (
                vec![
                    "invoke",
                    "--event-file",
                    "e",
                    "--iam-auth",
                    "deny",
                    "--",
                    "app",
                ],
                "authorizers are for the front door",
            ),
            (vec!["--jwt-audience", "x", "--", "app"], "add --jwt-issuer"),
        ] {
            let e = parse_args(&args).expect_err("refused");
            assert!(e.contains(says), "{args:?}: {e}");
        }
    }
}
