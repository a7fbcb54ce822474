//! The arguments, parsed by hand: the help text, [`Options`] with their
//! defaults, and [`parse`], whose errors say what to do.
//!
//! It must not touch files or start anything.

use crate::frontdoor::events::Source;
use std::path::PathBuf;
use std::time::Duration;

/// The default for `--environments`: see [`Options::environments`].
pub const DEFAULT_ENVIRONMENTS: usize = 4;

/// The help text.
pub const HELP: &str = "\
portside-local: run a function on your machine the way AWS Lambda runs it
(extensions, exec wrapper, Runtime API, freeze between invocations, several
execution environments), behind an HTTP front door that speaks an event
source's format.

USAGE:
  portside-local [OPTIONS] --function DIR [--handler NAME] [--layer LAYER]
  portside-local [OPTIONS] -- COMMAND [ARGS...]
  portside-local invoke --event-file FILE [OPTIONS] (--function DIR ... | -- COMMAND...)
  portside-local web [OPTIONS] [-- COMMAND...]
                      a Lambda Web Function endpoint: the app listens on
                      AWS_LAMBDA_HTTP_ENDPOINT (see portside-local web --help)
  portside-local up [DIR] [OPTIONS]
                      a whole Terraform stack: its functions, front doors,
                      triggers, and S3/SQS/DynamoDB in moto (see
                      portside-local up --help)
  portside-local layer-path [--arch x86_64|arm64]
                      print the path of the layer zip installed with
                      portside-local (the Python wheel carries both)
  portside-local --version

LAUNCH:
  --function DIR      the function folder (the unpacked function zip); it is
                      LAMBDA_TASK_ROOT and the processes' working folder
  --handler NAME      _HANDLER (default: run.sh)
  --layer LAYER       the layer: a zip (dist/ layer zip) or a folder holding
                      extensions/ and bootstrap
  --runtime NAME      python3.x (default with --layer) or provided.al2023
                      (default without: runs DIR/bootstrap)
  -- COMMAND...       short form: run COMMAND as the app behind the freshly
                      built portside adapter, in the folder you run
                      portside-local from (LAMBDA_TASK_ROOT and the working
                      folder are yours: `-- python3 app.py` finds app.py);
                      the app must listen on $PORT (8080)
  --adapter PATH      the portside binary for the short form (default:
                      `portside` next to this executable, e.g.
                      target/debug/portside, else the layer zip installed
                      with it)
  --shim PATH         the exec wrapper for the short form (default: the
                      layer zip's, else the copy of shim/bootstrap built in)

OPTIONS:
  --port N            front door port on 127.0.0.1 (default 3000; 0 = any)
  --event SOURCE      the event source, named as the portside adapter names
                      it: http-api-v2 (the default), rest-api, alb,
                      alb-multi-value, function-url, vpc-lattice-v1,
                      vpc-lattice-v2; the older names http-api, alb-multi,
                      lattice-v1 and lattice-v2 work too
  --response-stream   stream responses as they arrive: a Function URL in
                      RESPONSE_STREAM mode (--event function-url) or a REST
                      API with the STREAM response transfer mode (--event
                      rest-api); the adapter needs
                      --env PORTSIDE_INVOKE_MODE=response_stream
  --integration-timeout SECS
                      the event source's own timeout: 29 for rest-api, 30 for
                      http-api (none for the others); past it the source
                      answers 504 (REST) or 503 (HTTP API) on its own
  --environments N    at most N execution environments (default 4), each
                      started on demand when all running ones are busy, with
                      its own processes, /tmp (TMPDIR), cold start and port
                      (environment 1 keeps $PORT; others get a free one)
  --timeout SECS      function timeout (default 30)
  --memory MB         memory size (default 1024)
  --env KEY=VALUE     a function environment variable (repeatable)
  --name NAME         function name (default: portside-local)
  --region REGION     AWS_REGION (default us-east-1)
  --concurrency N     AWS_LAMBDA_MAX_CONCURRENCY (Managed Instances: each
                      environment takes N invocations at once; no freeze)
  --no-freeze         do not SIGSTOP the function between invocations
  --example-event JSON
                      the raw event the start-up message's curl sends
  --quiet             do not copy the function's output to stderr
  -h, --help          this help

DAILY LOOP:
  --env-file FILE     function variables from a dotenv file (repeatable; a
                      later file wins; --env wins over all): KEY=value,
                      export KEY=value, quotes, # comments, ${VAR} and
                      ${VAR:-default}, read as python-dotenv reads them
  --watch             restart the function when a file under its folder
                      changes (not .git, node_modules, __pycache__, .venv,
                      target, editor swap files or what .gitignore ignores):
                      in-flight requests finish, the environments stop as
                      Lambda stops them, fresh ones start (a cold start)
  --watch-build CMD   with --watch: run CMD (sh -c, in the function folder)
                      before each restart; if it fails the running code keeps
                      serving and its output says why
  --debug             for a debugger: one execution environment, never
                      frozen, no function, init or integration timeout

AUTHORIZERS (every route; see local/AUTHORIZERS.md):
  --jwt-issuer URL    an HTTP API JWT authorizer for tokens from this issuer
  --jwt-audience AUD  an accepted audience (aud, else client_id) (repeatable)
  --jwt-jwks URL|FILE the issuer's keys: a JWKS URL on this machine or a file
                      (default: ISSUER/.well-known/openid-configuration)
  --jwt-scope SCOPE   a route authorization scope (repeatable; one suffices)
  --identity-source EXPR
                      where the token or identity is (repeatable):
                      $request.header.NAME, $request.querystring.NAME
                      (HTTP API), method.request.header.NAME (REST API)...
                      (default: the Authorization header)
  --authorizer-function DIR
                      a Lambda authorizer: the function in DIR, run by
                      portside-local (with --authorizer-handler NAME,
                      --authorizer-runtime NAME, --authorizer-layer LAYER,
                      --authorizer-env KEY=VALUE, as --function)
  --authorizer-type request|token
                      REQUEST (default) or TOKEN (REST APIs)
  --authorizer-payload 1.0|2.0
                      an HTTP API authorizer's payload format (default 2.0)
  --authorizer-simple-response
                      HTTP API 2.0: it answers {\"isAuthorized\", \"context\"}
  --authorizer-ttl SECS
                      cache results by identity source (default 300; 0 = off)
  --authorizer-validation REGEX
                      a TOKEN authorizer's identity validation expression
  --iam-auth allow|deny
                      AWS_IAM routes or Function URL: IAM is not emulated
                      (signatures are not checked); unsigned requests are
                      let through or refused with 403

STOPPING: Ctrl-C or SIGTERM stops the function as Lambda does (SIGTERM to
the runtime, SHUTDOWN to extensions, SIGKILL at the 2 s deadline). If
portside-local itself is killed (even with SIGKILL), the function's
processes are killed with it. It refuses to start a function whose app port
is already taken, naming the process that holds it.

FAILURES: a failed init is explained (how the app exited and its last lines
of output, or that nothing listens on its port); requests are then answered
with the event source's own error, and each one tries init again.

The front door also serves Lambda's Invoke API for raw events (S3, SQS...):
  curl -X POST http://127.0.0.1:3000/2015-03-31/functions/NAME/invocations -d @event.json
";

/// Everything the command line says.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `invoke --event-file F`.
    pub invoke_file: Option<PathBuf>,
    /// `--function`.
    pub function: Option<PathBuf>,
    /// `--handler`.
    pub handler: Option<String>,
    /// `--layer`.
    pub layer: Option<PathBuf>,
    /// `--runtime`.
    pub runtime: Option<String>,
    /// `-- COMMAND...`.
    pub command: Vec<String>,
    /// `--adapter`.
    pub adapter: Option<PathBuf>,
    /// `--shim`.
    pub shim: Option<PathBuf>,
    /// `--port`.
    pub port: u16,
    /// `--event`.
    pub source: Source,
    /// `--response-stream`.
    pub response_stream: bool,
    /// `--timeout` in seconds.
    pub timeout: Duration,
    /// `--memory`.
    pub memory: u32,
    /// `--env`.
    pub env: Vec<(String, String)>,
    /// `--name`.
    pub name: String,
    /// `--region`.
    pub region: String,
    /// `--concurrency`.
    pub concurrency: usize,
    /// `--no-freeze`.
    pub no_freeze: bool,
    /// `--quiet`.
    pub quiet: bool,
    /// `--environments`: the most execution environments. The default, 4,
    /// makes concurrent requests land in separate environments as on Lambda
    /// (so state kept in one process, /tmp files or per-process caches show
    /// their real behaviour), costs nothing while requests come one at a
    /// time (environments start only when all running ones are busy), and
    /// stays small enough for a laptop. 1 queues concurrent requests.
    pub environments: usize,
    /// `--integration-timeout` (`None`: the source's default).
    pub integration_timeout: Option<Duration>,
    /// `--example-event`.
    pub example_event: Option<String>,
    /// `--env-file`, `--watch`, `--debug`, the authorizers (`daily`).
    pub daily: super::daily::DailyOptions,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            invoke_file: None,
            function: None,
            handler: None,
            layer: None,
            runtime: None,
            command: Vec::new(),
            adapter: None,
            shim: None,
            port: 3000,
            source: Source::HttpApiV2,
            response_stream: false,
            timeout: Duration::from_secs(30),
            memory: 1024,
            env: Vec::new(),
            name: "portside-local".into(),
            region: "us-east-1".into(),
            concurrency: 1,
            no_freeze: false,
            quiet: false,
            environments: DEFAULT_ENVIRONMENTS,
            integration_timeout: None,
            example_event: None,
            daily: Default::default(),
        }
    }
}

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Print the help.
    Help,
    /// Serve (or invoke once, when `invoke_file` is set).
    Run(Box<Options>),
    /// `web ARGS`: a Web Function endpoint, parsed by `crate::web`.
    Web(Vec<String>),
}

/// Parses the arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Command, String> {
    if args.first().map(String::as_str) == Some("web") {
        return Ok(Command::Web(args[1..].to_vec()));
    }
    let mut o = Options::default();
    let mut i = 0;
    if args.first().map(String::as_str) == Some("invoke") {
        i = 1;
        o.invoke_file = Some(PathBuf::new());
    }
    while i < args.len() {
        let arg = args[i].as_str();
        // --key=value and --key value both work.
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k, Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value = || -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| format!("{key} needs a value (see --help)"))
        };
        match key {
            "-h" | "--help" => return Ok(Command::Help),
            "--" => {
                o.command = args[i + 1..].to_vec();
                if o.command.is_empty() {
                    return Err("-- must be followed by the command that starts your app".into());
                }
                break;
            }
            "--function" => o.function = Some(PathBuf::from(value()?)),
            "--handler" => o.handler = Some(value()?),
            "--layer" => o.layer = Some(PathBuf::from(value()?)),
            "--runtime" => o.runtime = Some(value()?),
            "--adapter" => o.adapter = Some(PathBuf::from(value()?)),
            "--shim" => o.shim = Some(PathBuf::from(value()?)),
            "--event-file" => o.invoke_file = Some(PathBuf::from(value()?)),
            "--port" => {
                let v = value()?;
                o.port = v.parse().map_err(|_| format!("--port wants a port number, got {v:?}"))?;
            }
            "--event" => {
                let v = value()?;
                o.source = Source::parse(&v).ok_or_else(|| {
                    format!(
                        "--event {v:?} is not a known source; use one of {}",
                        Source::front_door_names()
                    )
                })?;
            }
            "--response-stream" => o.response_stream = true,
            "--timeout" => {
                let v = value()?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0 && *s <= 900.0)
                    .ok_or_else(|| format!("--timeout wants seconds between 1 and 900, got {v:?}"))?;
                o.timeout = Duration::from_secs_f64(secs);
            }
            "--memory" => {
                let v = value()?;
                o.memory = v
                    .parse()
                    .ok()
                    .filter(|m| (128..=10240).contains(m))
                    .ok_or_else(|| format!("--memory wants MB between 128 and 10240, got {v:?}"))?;
            }
            "--env" => {
                let v = value()?;
                let (k, val) = v
                    .split_once('=')
                    .filter(|(k, _)| !k.is_empty())
                    .ok_or_else(|| format!("--env wants KEY=VALUE, got {v:?}"))?;
                o.env.push((k.to_string(), val.to_string()));
            }
            "--name" => o.name = value()?,
            "--region" => o.region = value()?,
            "--concurrency" => {
                let v = value()?;
                o.concurrency = v
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| format!("--concurrency wants a number of at least 1, got {v:?}"))?;
            }
            "--environments" => {
                let v = value()?;
                o.environments = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=64).contains(n))
                    .ok_or_else(|| format!("--environments wants a number from 1 to 64, got {v:?}"))?;
            }
            "--integration-timeout" => {
                let v = value()?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s >= 0.05 && *s <= 900.0)
                    .ok_or_else(|| {
                        format!("--integration-timeout wants seconds between 0.05 and 900, got {v:?}")
                    })?;
                o.integration_timeout = Some(Duration::from_secs_f64(secs));
            }
            "--example-event" => {
                let v = value()?;
                serde_json::from_str::<serde::de::IgnoredAny>(&v)
                    .map_err(|e| format!("--example-event wants a JSON event: {e}"))?;
                o.example_event = Some(v);
            }
            "--no-freeze" => o.no_freeze = true,
            "--quiet" => o.quiet = true,
            other if super::daily::takes(other) => super::daily::apply(&mut o.daily, other, &mut value)?,
            other => {
                return Err(format!(
                    "unknown argument {other:?}; see portside-local --help (the app's command goes after --)"
                ))
            }
        }
        i += 1;
    }
    if o.invoke_file
        .as_ref()
        .is_some_and(|f| f.as_os_str().is_empty())
    {
        return Err("invoke needs --event-file FILE (the event JSON to send)".into());
    }
    if o.function.is_none() && o.command.is_empty() {
        return Err("say what to run: --function DIR (with --handler and --layer), or -- COMMAND to run your app behind the portside adapter; see --help".into());
    }
    if o.function.is_some() && !o.command.is_empty() {
        return Err("use either --function DIR or -- COMMAND, not both".into());
    }
    if o.response_stream && !matches!(o.source, Source::FunctionUrl | Source::RestApi) {
        return Err(format!(
            "--response-stream streams Function URLs and REST APIs only ({} cannot stream): add --event function-url or --event rest-api",
            o.source.name()
        ));
    }
    super::daily::check(&o)?;
    Ok(Command::Run(Box::new(o)))
}
