//! `portside-local web`'s options: parsed with clap (derive), checked
//! against the ranges the Lambda Web Functions API accepts, and turned once
//! into the one [`WebConfig`] every other part of the module reads.
//!
//! Owns: the flags, their defaults and accepted values, the error a bad
//! value gets (naming the flag and what it accepts), the app's command
//! (`node index.js`, or `AWS_LAMBDA_NODEJS_ENTRYPOINT`, when none is given).
//! Must not: start anything or touch the network; read the environment of
//! portside-local itself for the function's settings.
//!
//! Ranges and defaults: local/WEBFUNCTIONS.md, "Settings".

use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// The variables portside-local sets itself: `--env` cannot set them
/// (local/WEBFUNCTIONS.md, "Environment").
pub const RESERVED: [&str; 3] = [
    "AWS_LAMBDA_HTTP_ENDPOINT",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_REGION",
];

/// The variable that names another entry file than `index.js`.
pub const ENTRYPOINT_VAR: &str = "AWS_LAMBDA_NODEJS_ENTRYPOINT";

const ABOUT: &str = "\
Play a Lambda Web Function endpoint on 127.0.0.1: your app runs as it would
on Lambda Web Functions (listening on AWS_LAMBDA_HTTP_ENDPOINT), each request
goes through the endpoint's rules (HTTP/1.1 only, the documented methods and
headers, the per-request timeout), execution environments start on demand up
to --max-environments, each serving up to --max-concurrency requests at once.";

const AFTER: &str = "\
COMMAND defaults to `node index.js` in the current folder, or the file named
by --env AWS_LAMBDA_NODEJS_ENTRYPOINT=FILE. Any language works: the app must
listen on the host:port in AWS_LAMBDA_HTTP_ENDPOINT within 10 seconds.

Logs (stderr) are JSON lines as Web Functions writes them: the app's output
with its request id, and platform.* records. Ctrl-C or SIGTERM stops routing,
lets requests in flight finish, then sends SIGTERM and SIGKILL 1 s later.
See local/WEBFUNCTIONS.md for every behaviour and its source.";

/// The flags, as clap parses them.
#[derive(Parser, Debug)]
#[command(
    name = "portside-local web",
    about = ABOUT,
    after_help = AFTER,
    disable_version_flag = true
)]
struct Args {
    /// Endpoint port on 127.0.0.1 (0 = any free port)
    #[arg(long, default_value_t = 3000)]
    port: u16,

    /// Per-request timeout in seconds (timeoutSeconds: 3-900)
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(3..=900))]
    timeout: u64,

    /// Requests one environment serves at once (maxConcurrencyPerEnvironment: 1-128)
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..=128))]
    max_concurrency: u64,

    /// Execution environments at most; past them a request is throttled (429)
    /// (maxEnvironments: 2-10000 on Lambda; 1 is allowed here)
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u64).range(1..=10000))]
    max_environments: u64,

    /// Seconds an environment may stay idle before it is scaled down (1-86400)
    #[arg(long, value_name = "SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=86400))]
    idle_timeout: u64,

    /// A function environment variable (repeatable)
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,

    /// AWS_REGION
    #[arg(long, default_value = "us-east-1", value_parser = parse_region)]
    region: String,

    /// lambda-web-endpoint-name: the endpoint's name
    #[arg(long, value_name = "NAME", default_value = "default", value_parser = parse_endpoint_name)]
    endpoint_name: String,

    /// The function's name in platform records (default: the folder's name)
    #[arg(long, value_name = "NAME", value_parser = parse_function_name)]
    name: Option<String>,

    /// Do not copy the app's output to stderr (platform records still show)
    #[arg(long)]
    quiet: bool,

    /// The command that starts your app (default: node index.js)
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// Everything `portside-local web` was told, checked, read once.
#[derive(Debug, Clone, PartialEq)]
pub struct WebConfig {
    /// The endpoint's port on 127.0.0.1.
    pub port: u16,
    /// The per-request timeout.
    pub timeout: Duration,
    /// Requests one environment serves at once.
    pub max_concurrency: usize,
    /// Environments at most.
    pub max_environments: usize,
    /// Idle time before an environment is scaled down.
    pub idle_timeout: Duration,
    /// The user's variables, in order (last wins).
    pub env: Vec<(String, String)>,
    /// AWS_REGION.
    pub region: String,
    /// lambda-web-endpoint-name.
    pub endpoint_name: String,
    /// The function's name in platform records.
    pub function_name: String,
    /// Copy the app's output.
    pub show_app_output: bool,
    /// The app's command.
    pub command: Vec<String>,
    /// The package root: where the app runs.
    pub dir: PathBuf,
}

/// How long an environment's app has to listen (web-functions-env-lifecycle).
pub const INIT_LIMIT: Duration = Duration::from_secs(10);
/// How long an app has between SIGTERM and SIGKILL (web-functions-env-lifecycle).
pub const SIGTERM_GRACE: Duration = Duration::from_secs(1);

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    /// Run the endpoint.
    Run(Box<WebConfig>),
    /// Print this text and exit 0 (--help).
    Help(String),
}

/// A bad command line: the message (naming the flag and what it accepts)
/// and the exit code.
#[derive(Debug)]
pub struct UsageError {
    /// What to tell the user.
    pub message: String,
    /// 2 for a bad flag, 1 for a missing app.
    pub code: i32,
}

/// Parses `args` (after `web`), in `dir` (the current folder).
pub fn parse(args: &[String], dir: PathBuf) -> Result<Parsed, UsageError> {
    let argv = std::iter::once("portside-local web".to_string()).chain(args.iter().cloned());
    let a = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            return Ok(Parsed::Help(e.render().to_string()))
        }
        Err(e) => {
            return Err(UsageError {
                message: e.render().to_string(),
                code: 2,
            })
        }
    };
    let command = match a.command.is_empty() {
        false => a.command,
        true => default_command(&a.env, &dir)?,
    };
    let function_name = a.name.unwrap_or_else(|| folder_name(&dir));
    Ok(Parsed::Run(Box::new(WebConfig {
        port: a.port,
        timeout: Duration::from_secs(a.timeout),
        max_concurrency: a.max_concurrency as usize,
        max_environments: a.max_environments as usize,
        idle_timeout: Duration::from_secs(a.idle_timeout),
        env: a.env,
        region: a.region,
        endpoint_name: a.endpoint_name,
        function_name,
        show_app_output: !a.quiet,
        command,
        dir,
    })))
}

/// `node index.js`, or `node FILE` for `AWS_LAMBDA_NODEJS_ENTRYPOINT=FILE`
/// (web-functions-runtimes), when that file is in `dir`.
fn default_command(
    env: &[(String, String)],
    dir: &std::path::Path,
) -> Result<Vec<String>, UsageError> {
    let named = env
        .iter()
        .rev()
        .find(|(k, _)| k == ENTRYPOINT_VAR)
        .map(|(_, v)| v.clone());
    let entry = named.clone().unwrap_or_else(|| "index.js".into());
    if !dir.join(&entry).is_file() {
        let why = match named {
            Some(_) => format!("{ENTRYPOINT_VAR} names {entry}"),
            None => "Web Functions runs index.js at the package root".into(),
        };
        return Err(UsageError {
            message: format!(
                "portside-local web: there is no {entry} in {} ({why}); run it from your app's folder, name another file with --env {ENTRYPOINT_VAR}=FILE, or give the command after -- (for example: -- python3 app.py)\n",
                dir.display()
            ),
            code: 1,
        });
    }
    Ok(vec!["node".into(), entry])
}

fn folder_name(dir: &std::path::Path) -> String {
    let name: String = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(64)
        .collect();
    if name.is_empty() {
        "web-function".into()
    } else {
        name
    }
}

/// `KEY=VALUE`: the key as the service model's `EnvironmentVariablesKeyString`
/// (`[a-zA-Z]([a-zA-Z0-9_])*`), a value of at least one character
/// (`EnvironmentVariablesValueString`, min 1), not one portside-local sets.
fn parse_env(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("want KEY=VALUE, got {s:?}"))?;
    let mut chars = k.chars();
    let key_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !key_ok {
        return Err(format!(
            "{k:?} is not a variable name Lambda accepts: a letter, then letters, digits or _"
        ));
    }
    if v.is_empty() {
        return Err(format!(
            "{k} has an empty value; Lambda Web Functions accepts values of at least one character"
        ));
    }
    if RESERVED.contains(&k) {
        let how = match k {
            "AWS_REGION" => "use --region",
            _ => "portside-local sets it for each environment",
        };
        return Err(format!("{k} cannot be set ({how})"));
    }
    Ok((k.to_string(), v.to_string()))
}

/// A Region name as the service model's `Region` (`([a-z]{2,}-){2,}[0-9]`).
fn parse_region(s: &str) -> Result<String, String> {
    let parts: Vec<&str> = s.split('-').collect();
    let ok = parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.len() >= 2 && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].len() == 1
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a Region name such as us-east-1"))
    }
}

/// Letters, digits, `-` and `_`, not starting or ending with `-` or `_`,
/// at most 64 characters (the service model's `EndpointConfig.endpointName`).
fn parse_endpoint_name(s: &str) -> Result<String, String> {
    let chars_ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    let ends_ok = !s.starts_with(['-', '_']) && !s.ends_with(['-', '_']);
    if !s.is_empty() && s.len() <= 64 && chars_ok && ends_ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?}: 1 to 64 letters, digits, - or _, not starting or ending with - or _"
        ))
    }
}

/// 1 to 64 letters, digits, `-` or `_` (a function name without its ARN).
fn parse_function_name(s: &str) -> Result<String, String> {
    if !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?}: 1 to 64 letters, digits, - or _"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<WebConfig, UsageError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse(&args, PathBuf::from("/nonexistent/app"))? {
            Parsed::Run(c) => Ok(*c),
            Parsed::Help(h) => panic!("help: {h}"),
        }
    }

    fn err(args: &[&str]) -> String {
        run(args).expect_err("must be refused").message
    }

    #[test]
    fn defaults_are_the_services_and_a_command_after_dashes_is_taken_as_is() {
        let c = run(&["--", "python3", "app.py"]).unwrap();
        assert_eq!(c.timeout, Duration::from_secs(30));
        assert_eq!(c.max_concurrency, 64);
        assert_eq!(c.port, 3000);
        assert_eq!(c.region, "us-east-1");
        assert_eq!(c.endpoint_name, "default");
        assert_eq!(c.function_name, "app");
        assert_eq!(c.command, ["python3", "app.py"]);
    }

    #[test]
    fn values_out_of_range_name_the_flag_and_the_range() {
        for (args, flag, range) in [
            (&["--timeout", "2"][..], "--timeout", "3..=900"),
            (&["--timeout", "901"][..], "--timeout", "3..=900"),
            (
                &["--max-concurrency", "0"][..],
                "--max-concurrency",
                "1..=128",
            ),
            (
                &["--max-concurrency", "129"][..],
                "--max-concurrency",
                "1..=128",
            ),
            (
                &["--max-environments", "0"][..],
                "--max-environments",
                "1..=10000",
            ),
            (&["--idle-timeout", "0"][..], "--idle-timeout", "1..=86400"),
        ] {
            let mut a = args.to_vec();
            a.extend(["--", "x"]);
            let m = err(&a);
            assert!(m.contains(flag) && m.contains(range), "{args:?}: {m}");
        }
        let m = err(&["--timeout", "soon", "--", "x"]);
        assert!(m.contains("--timeout"), "{m}");
    }

    #[test]
    fn env_keys_values_and_reserved_names_are_checked() {
        let c = run(&["--env", "A_1=x=y", "--env", "B=2", "--", "x"]).unwrap();
        assert_eq!(
            c.env,
            [("A_1".into(), "x=y".into()), ("B".into(), "2".into())]
        );
        for bad in [
            "1A=x",
            "A-B=x",
            "NOEQUALS",
            "A=",
            "AWS_LAMBDA_HTTP_ENDPOINT=1.2.3.4:5",
        ] {
            let m = err(&["--env", bad, "--", "x"]);
            assert!(m.contains("--env"), "{bad}: {m}");
        }
        assert!(err(&["--env", "AWS_REGION=eu-west-1", "--", "x"]).contains("--region"));
    }

    #[test]
    fn names_and_regions_follow_the_service_model() {
        assert!(run(&["--endpoint-name", "prod_1-a", "--", "x"]).is_ok());
        for bad in ["-prod", "prod_", "pr od", ""] {
            let arg = format!("--endpoint-name={bad}");
            assert!(err(&[&arg, "--", "x"]).contains("--endpoint-name"), "{bad}");
        }
        assert!(run(&["--region", "eu-central-1", "--", "x"]).is_ok());
        for bad in ["useast1", "US-east-1", "us-east-12"] {
            assert!(
                err(&["--region", bad, "--", "x"]).contains("--region"),
                "{bad}"
            );
        }
    }

    #[test]
    fn without_a_command_the_entry_file_must_exist() {
        let m = run(&[]).expect_err("no index.js there");
        assert_eq!(m.code, 1);
        assert!(
            m.message.contains("no index.js in /nonexistent/app"),
            "{}",
            m.message
        );
        let m = run(&["--env", "AWS_LAMBDA_NODEJS_ENTRYPOINT=server.js"]).expect_err("none");
        assert!(m
            .message
            .contains("AWS_LAMBDA_NODEJS_ENTRYPOINT names server.js"));
        let dir = std::env::temp_dir().join(format!("web-opts-{}", crate::util::random_hex(8)));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("server.js"), "").unwrap();
        let args: Vec<String> = ["--env", "AWS_LAMBDA_NODEJS_ENTRYPOINT=server.js"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let Ok(Parsed::Run(c)) = parse(&args, dir.clone()) else {
            panic!("server.js is there")
        };
        assert_eq!(c.command, ["node", "server.js"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn help_is_not_an_error() {
        let Ok(Parsed::Help(h)) = parse(&["--help".to_string()], PathBuf::from("/")) else {
            panic!("--help")
        };
        assert!(h.contains("--max-concurrency") && h.contains("AWS_LAMBDA_HTTP_ENDPOINT"));
    }
}
