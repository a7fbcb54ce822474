//! The command line as one table: clap (derive) holds every flag once, with
//! its value, its default, its validation and the line of help it gets;
//! the help and the guide's flag tables ([`flags_table`], held to
//! docs/src/portside-local.md and docs/src/portside-local-daily.md by a
//! test) are generated from it.
//!
//! Owns: the top-level command and its subcommands (`invoke`, `layer-path`,
//! `--version`; `web` and `up` hand their arguments to their own clap
//! parsers), [`Options`] with its defaults, the checks across flags, and
//! the usage errors (clap's, naming the flag and what it accepts).
//! Must not: touch files or start anything.

use super::daily::DailyOptions;
use crate::frontdoor::events::Source;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// The default for `--environments`: see [`Options::environments`].
pub const DEFAULT_ENVIRONMENTS: usize = 4;

/// The help heading of the flags that say what runs.
pub(super) const LAUNCH: &str = "Launch";
/// The help heading of the daily loop's flags (`daily`).
pub(super) const DAILY_LOOP: &str = "Daily loop";
/// The help heading of the authorizers' flags (`crate::auth::flags`).
pub(crate) const AUTHORIZERS: &str = "Authorizers (every route; see local/AUTHORIZERS.md)";

const ABOUT: &str = "\
portside-local: run a function on your machine the way AWS Lambda runs it
(extensions, exec wrapper, Runtime API, freeze between invocations, several
execution environments), behind an HTTP front door that speaks an event
source's format.";

const USAGE: &str = "\
portside-local [OPTIONS] --function DIR [--handler NAME] [--layer LAYER]
       portside-local [OPTIONS] -- COMMAND [ARGS...]
       portside-local invoke --event-file FILE [OPTIONS] (--function DIR ... | -- COMMAND...)
       portside-local web [OPTIONS] [-- COMMAND...]
       portside-local up [DIR] [OPTIONS]
       portside-local layer-path [--arch x86_64|arm64]
       portside-local --version";

const AFTER: &str = "\
Stopping: Ctrl-C or SIGTERM stops the function as Lambda does (SIGTERM to
the runtime, SHUTDOWN to extensions, SIGKILL at the 2 s deadline). If
portside-local itself is killed (even with SIGKILL), the function's
processes are killed with it. It refuses to start a function whose app port
is already taken, naming the process that holds it.

Failures: a failed init is explained (how the app exited and its last lines
of output, or that nothing listens on its port); requests are then answered
with the event source's own error, and each one tries init again.

The front door also serves Lambda's Invoke API for raw events (S3, SQS...):
  curl -X POST http://127.0.0.1:3000/2015-03-31/functions/NAME/invocations -d @event.json";

/// The command line.
#[derive(Parser, Debug)]
#[command(
    name = "portside-local",
    about = ABOUT,
    override_usage = USAGE,
    after_help = AFTER,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true,
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    subcommand: Option<Sub>,
    #[command(flatten)]
    run: Options,
}

#[derive(Subcommand, Debug)]
enum Sub {
    /// Send one event (the event JSON in FILE) and print the result JSON
    Invoke(Box<InvokeArgs>),
    /// A Lambda Web Function endpoint: the app listens on
    /// AWS_LAMBDA_HTTP_ENDPOINT (see portside-local web --help)
    #[command(disable_help_flag = true)]
    Web(Passed),
    /// A whole Terraform stack: its functions, front doors, triggers, and
    /// S3/SQS/DynamoDB in moto (see portside-local up --help)
    #[command(disable_help_flag = true)]
    Up(Passed),
    /// Print the path of the layer zip installed with portside-local (the
    /// Python wheel carries both)
    LayerPath(LayerPathArgs),
}

/// `invoke`'s own flag and the rest of the options.
#[derive(Args, Debug)]
#[command(
    override_usage = "portside-local invoke --event-file FILE [OPTIONS] (--function DIR ... | -- COMMAND...)"
)]
struct InvokeArgs {
    /// The event to send: a file holding its JSON
    #[arg(long, value_name = "FILE")]
    event_file: PathBuf,
    #[command(flatten)]
    run: Options,
}

/// A subcommand with its own parser: its arguments as given.
#[derive(Args, Debug)]
struct Passed {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    args: Vec<String>,
}

#[derive(Args, Debug)]
struct LayerPathArgs {
    /// The layer's architecture (default: this machine's)
    #[arg(long, value_name = "x86_64|arm64", value_parser = arch)]
    arch: Option<String>,
}

/// Everything the command line says to serve or invoke: the flags, each
/// with its help, default and validation.
#[derive(Args, Debug, Clone, PartialEq)]
pub struct Options {
    /// `invoke --event-file F` (set by the subcommand).
    #[arg(skip)]
    pub invoke_file: Option<PathBuf>,

    /// The function folder (the unpacked function zip); it is
    /// LAMBDA_TASK_ROOT and the processes' working folder
    #[arg(long, value_name = "DIR", help_heading = LAUNCH)]
    pub function: Option<PathBuf>,

    /// _HANDLER (default: run.sh)
    #[arg(long, value_name = "NAME", help_heading = LAUNCH)]
    pub handler: Option<String>,

    /// The layer: a zip (dist/ layer zip) or a folder holding extensions/
    /// and bootstrap
    #[arg(long, value_name = "LAYER", help_heading = LAUNCH)]
    pub layer: Option<PathBuf>,

    /// python3.x (default with --layer), nodejsNN.x (with the layer) or
    /// provided.al2023 (default without: runs DIR/bootstrap)
    #[arg(long, value_name = "NAME", help_heading = LAUNCH)]
    pub runtime: Option<String>,

    /// Short form: run COMMAND as the app behind the freshly built portside
    /// adapter, in the folder you run portside-local from (LAMBDA_TASK_ROOT
    /// and the working folder are yours: `-- python3 app.py` finds app.py);
    /// the app must listen on $PORT (8080)
    #[arg(last = true, value_name = "COMMAND", help_heading = LAUNCH)]
    pub command: Vec<String>,

    /// The portside binary for the short form (default: `portside` next to
    /// this executable, e.g. target/debug/portside, else the layer zip
    /// installed with it)
    #[arg(long, value_name = "PATH", help_heading = LAUNCH)]
    pub adapter: Option<PathBuf>,

    /// The exec wrapper for the short form (default: the layer zip's, else
    /// the copy of shim/bootstrap built in)
    #[arg(long, value_name = "PATH", help_heading = LAUNCH)]
    pub shim: Option<PathBuf>,

    /// Front door port on 127.0.0.1 (0 = any)
    #[arg(long, value_name = "N", default_value_t = 3000, value_parser = port)]
    pub port: u16,

    /// The event source, named as the portside adapter names it:
    /// http-api-v2, rest-api, alb, alb-multi-value, function-url,
    /// vpc-lattice-v1, vpc-lattice-v2 (the older names http-api,
    /// alb-multi, lattice-v1 and lattice-v2 work too)
    #[arg(long = "event", value_name = "SOURCE", default_value = "http-api-v2", value_parser = source)]
    pub source: Source,

    /// Stream responses as they arrive: a Function URL in RESPONSE_STREAM
    /// mode (--event function-url) or a REST API with the STREAM response
    /// transfer mode (--event rest-api); the adapter needs --env
    /// PORTSIDE_INVOKE_MODE=response_stream
    #[arg(long)]
    pub response_stream: bool,

    /// The event source's own timeout: 29 for rest-api, 30 for http-api-v2
    /// (none for the others); past it the source answers 504 (REST) or 503
    /// (HTTP API) on its own
    #[arg(long, value_name = "SECS", value_parser = integration_timeout)]
    pub integration_timeout: Option<Duration>,

    // The default, 4, makes concurrent requests land in separate
    // environments as on Lambda (so state kept in one process, /tmp files
    // or per-process caches show their real behaviour), costs nothing while
    // requests come one at a time (environments start only when all running
    // ones are busy), and stays small enough for a laptop. 1 queues
    // concurrent requests.
    /// At most N execution environments, each started on demand when all
    /// running ones are busy, with its own processes, /tmp (TMPDIR), cold
    /// start and port (environment 1 keeps $PORT; others get a free one)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ENVIRONMENTS, value_parser = environments)]
    pub environments: usize,

    /// Function timeout in seconds
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = timeout)]
    pub timeout: Duration,

    /// Memory size in MB
    #[arg(long, value_name = "MB", default_value_t = 1024, value_parser = memory)]
    pub memory: u32,

    /// A function environment variable (repeatable)
    #[arg(long, value_name = "KEY=VALUE", value_parser = key_value)]
    pub env: Vec<(String, String)>,

    /// Function name
    #[arg(long, value_name = "NAME", default_value = "portside-local")]
    pub name: String,

    /// AWS_REGION
    #[arg(long, value_name = "REGION", default_value = "us-east-1")]
    pub region: String,

    /// AWS_LAMBDA_MAX_CONCURRENCY (Managed Instances: each environment takes
    /// N invocations at once; no freeze)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = concurrency)]
    pub concurrency: usize,

    /// Do not SIGSTOP the function between invocations
    #[arg(long)]
    pub no_freeze: bool,

    /// The raw event the start-up message's curl sends
    #[arg(long, value_name = "JSON", value_parser = example_event)]
    pub example_event: Option<String>,

    /// Do not copy the function's output to stderr
    #[arg(long)]
    pub quiet: bool,

    /// `--env-file`, `--watch`, `--debug`, the authorizers (`daily`).
    #[command(flatten)]
    pub daily: DailyOptions,
}

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Print this text (the help, or `--version`) and exit 0.
    Help(String),
    /// Serve (or invoke once, when `invoke_file` is set).
    Run(Box<Options>),
    /// `web ARGS`: a Web Function endpoint, parsed by `crate::web`.
    Web(Vec<String>),
    /// `up ARGS`: a Terraform stack, parsed by `crate::up`.
    Up(Vec<String>),
    /// `layer-path`: the installed layer zip for this architecture.
    LayerPath(String),
}

/// The command line's definition, with `--version` saying the commit.
pub(super) fn command() -> clap::Command {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let version = VERSION.get_or_init(super::installed::version_number);
    Cli::command().version(version.as_str())
}

/// Parses the arguments (without the program name). `Err` is the usage
/// error, as clap renders it (naming the flag and what it accepts).
pub fn parse(args: &[String]) -> Result<Command, String> {
    let mut cmd = command();
    let argv = std::iter::once("portside-local".to_string()).chain(args.iter().cloned());
    let matches = match cmd.try_get_matches_from_mut(argv) {
        Ok(m) => m,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            return Ok(Command::Help(e.render().to_string()))
        }
        Err(e) => return Err(usage_error(&mut cmd, e)),
    };
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.render().to_string())?;
    let o = match cli.subcommand {
        None => cli.run,
        Some(Sub::Invoke(i)) => {
            let InvokeArgs { event_file, run } = *i;
            Options {
                invoke_file: Some(event_file),
                ..run
            }
        }
        Some(Sub::Web(p)) => return Ok(Command::Web(p.args)),
        Some(Sub::Up(p)) => return Ok(Command::Up(p.args)),
        Some(Sub::LayerPath(l)) => {
            let arch = l
                .arch
                .unwrap_or_else(|| super::installed::host_arch().into());
            return Ok(Command::LayerPath(arch));
        }
    };
    let dashes = args.iter().any(|a| a == "--");
    check(&o, dashes).map_err(|message| {
        cmd.error(ErrorKind::ArgumentConflict, message)
            .render()
            .to_string()
    })?;
    Ok(Command::Run(Box::new(o)))
}

/// What clap cannot say for one flag alone: what runs, what works together.
fn check(o: &Options, dashes: bool) -> Result<(), String> {
    if dashes && o.command.is_empty() {
        return Err("-- must be followed by the command that starts your app".into());
    }
    if o.function.is_none() && o.command.is_empty() {
        return Err("say what to run: --function DIR (with --handler and --layer), or -- COMMAND to run your app behind the portside adapter; see --help".into());
    }
    if o.function.is_some() && !o.command.is_empty() {
        return Err("use either --function DIR or -- COMMAND, not both".into());
    }
    if o.response_stream && !o.source.streams() {
        return Err(format!(
            "--response-stream streams Function URLs and REST APIs only ({} cannot stream): add --event function-url or --event rest-api",
            o.source.name()
        ));
    }
    super::daily::check(o)
}

/// clap's error, in portside-local's words where they say more: an
/// unknown argument (the app's command goes after `--`), a flag without
/// its value.
fn usage_error(cmd: &mut clap::Command, e: clap::Error) -> String {
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => return e.render().to_string(),
    };
    let empty_value = matches!(
        e.get(ContextKind::InvalidValue),
        Some(ContextValue::String(v)) if v.is_empty()
    );
    let flag = arg.split(' ').next().unwrap_or(&arg).to_string();
    let message = match e.kind() {
        ErrorKind::UnknownArgument => format!(
            "unknown argument {arg:?}; see portside-local --help (the app's command goes after --)"
        ),
        ErrorKind::InvalidValue if empty_value => format!("{flag} needs a value (see --help)"),
        _ => return e.render().to_string(),
    };
    cmd.error(e.kind(), message).render().to_string()
}

/// A whole number from `lo` to `hi` (`what`: "a number", "MB").
fn whole(s: &str, lo: u64, hi: u64, what: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .ok()
        .filter(|n| (lo..=hi).contains(n))
        .ok_or_else(|| format!("wants {what} from {lo} to {hi}"))
}

/// Seconds from `lo` to `hi`, fractions allowed.
fn seconds(s: &str, lo: f64, hi: f64) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .filter(|secs| (lo..=hi).contains(secs))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("wants seconds from {lo} to {hi}"))
}

fn port(s: &str) -> Result<u16, String> {
    s.parse()
        .map_err(|_| "wants a port number from 0 to 65535".to_string())
}

fn source(s: &str) -> Result<Source, String> {
    Source::parse(s).ok_or_else(|| {
        format!(
            "is not a known source; use one of {}",
            Source::front_door_names()
        )
    })
}

fn integration_timeout(s: &str) -> Result<Duration, String> {
    seconds(s, 0.05, 900.0)
}

/// `--environments` (here and in `portside-local up`): 1 to 64.
pub(crate) fn environments(s: &str) -> Result<usize, String> {
    whole(s, 1, 64, "a number").map(|n| n as usize)
}

/// Lambda's function timeout: 1 to 900 seconds.
fn timeout(s: &str) -> Result<Duration, String> {
    seconds(s, 1.0, 900.0)
}

/// Lambda's memory sizes: 128 to 10240 MB.
fn memory(s: &str) -> Result<u32, String> {
    whole(s, 128, 10240, "MB").map(|n| n as u32)
}

fn concurrency(s: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| "wants a number of at least 1".to_string())
}

/// `KEY=VALUE`, the key not empty.
pub(crate) fn key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| "wants KEY=VALUE".to_string())
}

fn example_event(s: &str) -> Result<String, String> {
    serde_json::from_str::<serde::de::IgnoredAny>(s)
        .map(|_| s.to_string())
        .map_err(|e| format!("wants a JSON event: {e}"))
}

fn arch(s: &str) -> Result<String, String> {
    match s {
        "x86_64" | "arm64" => Ok(s.to_string()),
        _ => Err("is not a layer architecture; use x86_64 or arm64".into()),
    }
}

/// The guide's table of the flags under `headings` (docs/src/portside-local.md
/// holds the launch flags, the options and `invoke`'s; docs/src/
/// portside-local-daily.md the daily loop's and the authorizers'), one row
/// per flag: its name and value, its help, its default.
pub fn flags_table(headings: &[&str]) -> String {
    let cmd = command();
    let invoke = cmd.find_subcommand("invoke").cloned();
    let args = cmd
        .get_arguments()
        .chain(invoke.iter().flat_map(|i| i.get_arguments()))
        .filter(|a| headings.contains(&a.get_help_heading().unwrap_or("Options")));
    let mut table = String::from("| flag | what it does |\n| --- | --- |\n");
    let mut seen = std::collections::HashSet::new();
    for arg in args {
        let name = match (arg.get_long(), arg.get_value_names()) {
            (Some(long), Some(values)) if arg.get_action().takes_values() => {
                format!("--{long} {}", values[0])
            }
            (Some(long), _) => format!("--{long}"),
            (None, values) => format!("-- {}...", values.map_or("ARGS", |v| v[0].as_str())),
        };
        if !seen.insert(name.clone()) {
            continue;
        }
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        let default = match arg.get_default_values() {
            [] => String::new(),
            values => format!(" (default: `{}`)", values[0].to_string_lossy()),
        };
        table.push_str(&format!(
            "| `{}` | {}{default} |\n",
            name.replace('|', "\\|"),
            markdown(&help)
        ));
    }
    table
}

/// Help text as a table cell: `|` escaped, and `_` and `*` outside code
/// spans (`__pycache__` is a name, not bold).
fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut code = false;
    for c in text.chars() {
        match c {
            '`' => code = !code,
            '|' => out.push('\\'),
            '_' | '*' if !code => out.push('\\'),
            _ => {}
        }
        out.push(c);
    }
    out
}
