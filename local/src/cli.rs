//! The command line: parsing (by hand), the help text, and the two
//! commands: serve (front door + sandbox, until Ctrl-C) and `invoke` (one
//! event, the result JSON on stdout). Errors are messages that say what to
//! do; nothing here panics on user input.

use crate::frontdoor::{self, events::Source, FrontDoorConfig};
use crate::function::Function;
use crate::layer::Layer;
use crate::runtime_api::{InitState, InvokeOptions, Outcome};
use crate::sandbox::{RuntimeKind, SandboxConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
  --adapter PATH      the portside binary for the short form (default: next
                      to this executable, e.g. target/debug/portside)
  --shim PATH         the exec wrapper for the short form (default: the
                      repository's shim/bootstrap, else a minimal one)

OPTIONS:
  --port N            front door port on 127.0.0.1 (default 3000; 0 = any)
  --event SOURCE      http-api (default), rest-api, alb, alb-multi,
                      function-url, lattice-v1, lattice-v2
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
            source: Source::HttpApi,
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
}

/// Parses the arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Command, String> {
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
                    let names: Vec<&str> = Source::ALL.iter().map(|(n, _)| *n).collect();
                    format!("--event {v:?} is not a known source; use one of {}", names.join(", "))
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
    Ok(Command::Run(Box::new(o)))
}

/// Files made for the short form, removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn write_exec(path: &Path, content: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, content).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot chmod {}: {e}", path.display()))
}

/// Where the portside adapter is for the short form.
pub fn find_adapter(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(format!("--adapter {} does not exist", p.display()))
        };
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot locate portside-local itself: {e}"))?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let candidate = dir.join("portside");
    if candidate.is_file() {
        return Ok(candidate);
    }
    Err(format!(
        "the portside adapter is not built: expected {}. Build it with `cargo build -p portside` \
         (into the same target folder as portside-local), or pass --adapter PATH",
        candidate.display()
    ))
}

fn find_shim(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    // target*/debug/portside-local → the repository's shim/bootstrap.
    let exe = std::env::current_exe().ok()?;
    let repo = exe.parent()?.parent()?.parent()?;
    let shim = repo.join("shim/bootstrap");
    shim.is_file().then_some(shim)
}

/// A function ready to run, with what must live as long as it.
pub struct Prepared {
    /// The function.
    pub function: Arc<Function>,
    _scratch: Option<Scratch>,
}

/// Builds the function the options describe.
pub async fn prepare(o: &Options) -> Result<Prepared, String> {
    let mut env = o.env.clone();
    let mut scratch = None;
    let (function_dir, handler, layer) = if o.command.is_empty() {
        let dir = o.function.clone().unwrap_or_default();
        if !dir.is_dir() {
            return Err(format!(
                "--function {} is not a folder (unpack the function zip there)",
                dir.display()
            ));
        }
        let dir = dir
            .canonicalize()
            .map_err(|e| format!("cannot resolve {}: {e}", dir.display()))?;
        let layer = match &o.layer {
            Some(l) => {
                let mut layer = Layer::open(l)?;
                scratch = layer.take_cleanup().map(Scratch);
                Some(layer)
            }
            None => None,
        };
        (
            dir,
            o.handler.clone().unwrap_or_else(|| "run.sh".into()),
            layer,
        )
    } else {
        // The short form runs the app where the user is: their folder is
        // the task root and the working folder, as with `sam local` or
        // `cargo lambda watch`; the start script and the layer live in a
        // scratch folder, and _HANDLER names the script by its full path.
        let adapter = find_adapter(o.adapter.as_deref())?;
        let cwd = std::env::current_dir()
            .and_then(|d| d.canonicalize())
            .map_err(|e| format!("cannot resolve the current folder: {e}"))?;
        let root = std::env::temp_dir().join(format!(
            "portside-local-{}-{}",
            std::process::id(),
            crate::util::random_hex(8)
        ));
        let s = Scratch(root.clone());
        let run_sh = root.join("run.sh");
        let cmd: Vec<String> = o.command.iter().map(|a| shell_quote(a)).collect();
        write_exec(&run_sh, &format!("#!/bin/sh\nexec {}\n", cmd.join(" ")))?;
        let layer_dir = root.join("layer");
        std::fs::create_dir_all(layer_dir.join("extensions"))
            .map_err(|e| format!("cannot create {}: {e}", layer_dir.display()))?;
        std::os::unix::fs::symlink(&adapter, layer_dir.join("extensions/portside"))
            .map_err(|e| format!("cannot link the adapter: {e}"))?;
        match find_shim(o.shim.as_deref()) {
            Some(shim) => std::os::unix::fs::symlink(&shim, layer_dir.join("bootstrap"))
                .map_err(|e| format!("cannot link the shim: {e}"))?,
            None => write_exec(
                &layer_dir.join("bootstrap"),
                "#!/bin/sh\n# Minimal exec wrapper: run the function's handler instead of the language runtime.\ncase \"$_HANDLER\" in /*) exec \"$_HANDLER\" ;; *) exec \"$LAMBDA_TASK_ROOT/$_HANDLER\" ;; esac\n",
            )?,
        }
        if !env.iter().any(|(k, _)| k == "PORT") {
            env.insert(0, ("PORT".into(), "8080".into()));
        }
        scratch = Some(s);
        (
            cwd,
            run_sh.display().to_string(),
            Some(Layer::from_dir(layer_dir, false)),
        )
    };
    let runtime = match &o.runtime {
        Some(r) => RuntimeKind::parse(r)?,
        None if layer.is_some() => RuntimeKind::parse("python3.12")?,
        None if function_dir.join("bootstrap").is_file() => RuntimeKind::parse("provided.al2023")?,
        None => {
            return Err(format!(
                "{} has no bootstrap file: pass --layer LAYER (the portside layer) or --runtime",
                function_dir.display()
            ))
        }
    };
    let mut cfg = SandboxConfig::new(function_dir, handler, runtime);
    cfg.function_name = o.name.clone();
    cfg.memory_mb = o.memory;
    cfg.timeout = o.timeout;
    cfg.region = o.region.clone();
    cfg.env = env;
    cfg.freeze = !o.no_freeze;
    cfg.max_concurrency = o.concurrency;
    cfg.show_logs = !o.quiet;
    if !o.command.is_empty() {
        cfg.app_command = Some(o.command.join(" "));
    }
    let environments = if o.invoke_file.is_some() {
        1
    } else {
        o.environments
    };
    let function = Function::new(cfg, layer, environments).await?;
    Ok(Prepared {
        function,
        _scratch: scratch,
    })
}

/// Runs the command; the exit code.
pub async fn run(args: Vec<String>) -> i32 {
    let o = match parse(&args) {
        Ok(Command::Help) => {
            print!("{HELP}");
            return 0;
        }
        Ok(Command::Run(o)) => o,
        Err(e) => {
            eprintln!("portside-local: {e}");
            return 2;
        }
    };
    let prepared = match prepare(&o).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("portside-local: {e}");
            return 1;
        }
    };
    match &o.invoke_file {
        Some(file) => invoke_once(&prepared.function, file).await,
        None => serve(prepared, &o).await,
    }
}

async fn invoke_once(function: &Arc<Function>, file: &Path) -> i32 {
    let event = match std::fs::read(file) {
        Ok(e) => e,
        Err(e) => {
            eprintln!(
                "portside-local: cannot read the event file {}: {e}",
                file.display()
            );
            return 1;
        }
    };
    let code = match function.invoke(event.into(), InvokeOptions::new()).await {
        Err(e) => {
            eprintln!("portside-local: {e}");
            println!("{}", crate::util::error_json(e.error_type(), &e.message()));
            1
        }
        Ok(inv) => {
            let outcome = inv.outcome().await;
            let result = outcome.invoke_result();
            println!("{}", String::from_utf8_lossy(&result.payload));
            match outcome {
                Outcome::Response(_) | Outcome::Streamed(_) => 0,
                _ => 1,
            }
        }
    };
    function.shutdown().await;
    code
}

async fn serve(prepared: Prepared, o: &Options) -> i32 {
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", o.port)).await {
        Ok(l) => l,
        Err(e) => {
            let holder = (e.kind() == std::io::ErrorKind::AddrInUse)
                .then(|| crate::sandbox::ports::describe_holder("127.0.0.1", o.port))
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            eprintln!(
                "portside-local: cannot listen on 127.0.0.1:{}: {e}{holder}; pick another front door port with --port",
                o.port
            );
            return 1;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(o.port);
    let function = prepared.function;
    let mut door = FrontDoorConfig::new(o.source, &o.region);
    door.response_stream = o.response_stream;
    if o.integration_timeout.is_some() {
        door.integration_timeout = o.integration_timeout;
    }
    let door = Arc::new(door);
    tokio::spawn(frontdoor::serve(
        listener,
        Arc::clone(&function),
        Arc::clone(&door),
    ));
    let cfg = function.config();
    eprintln!(
        "portside-local: starting {} ({}{})",
        o.name,
        cfg.runtime.name(),
        match function.max_environments() {
            1 => String::new(),
            n => format!(", up to {n} execution environments"),
        }
    );
    if o.response_stream && function.first().app_address().is_some() {
        let mode = crate::sandbox::ports::first_set(
            &cfg.env,
            &["PORTSIDE_INVOKE_MODE", "AWS_LWA_INVOKE_MODE"],
        );
        if mode != Some("response_stream") {
            eprintln!(
                "portside-local: note: the portside adapter streams only with --env PORTSIDE_INVOKE_MODE=response_stream; without it the function answers buffered"
            );
        }
    }
    let url = format!("http://127.0.0.1:{port}");
    let state = tokio::select! {
        state = function.init() => state,
        _ = wait_for_stop_signal() => {
            eprintln!("portside-local: shutting down");
            function.shutdown().await;
            return 0;
        }
    };
    match state {
        InitState::Ready => {
            println!(
                "portside-local: {} is up at {url}/ (event source {})",
                o.name,
                o.source.name()
            );
            println!("  try: curl -i {url}/");
            println!(
                "  raw events: curl -X POST {url}/2015-03-31/functions/{}/invocations -d {}",
                o.name,
                shell_quote(o.example_event.as_deref().unwrap_or("{}"))
            );
        }
        InitState::Failed(e) if e.is_port_in_use() => {
            // Nothing can work while another process holds the port.
            function.shutdown().await;
            return 1;
        }
        _ => {
            let answer =
                frontdoor::answers::answer(o.source, frontdoor::answers::Failure::Function);
            println!(
                "portside-local: {} could not start (see above). Its front door at {url}/ answers {} as {} does while init fails; each request tries init again",
                o.name,
                answer.status,
                source_title(o.source)
            );
        }
    }
    wait_for_stop_signal().await;
    eprintln!("portside-local: shutting down");
    function.shutdown().await;
    0
}

fn source_title(source: Source) -> &'static str {
    match source {
        Source::HttpApi => "an HTTP API",
        Source::RestApi => "a REST API",
        Source::Alb | Source::AlbMulti => "an ALB",
        Source::FunctionUrl => "a Function URL",
        Source::LatticeV1 | Source::LatticeV2 => "VPC Lattice",
    }
}

/// Ctrl-C (SIGINT) or SIGTERM.
async fn wait_for_stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn parses_the_launch_forms() {
        let Ok(Command::Run(o)) = parse(&args(&[
            "--function",
            "f",
            "--handler",
            "run.sh",
            "--layer",
            "l.zip",
            "--port=0",
            "--event",
            "alb-multi",
            "--timeout",
            "3",
            "--memory",
            "256",
            "--env",
            "A=1",
            "--env",
            "B=x=y",
            "--no-freeze",
        ])) else {
            panic!("parsed")
        };
        assert_eq!(o.function, Some(PathBuf::from("f")));
        assert_eq!(o.layer, Some(PathBuf::from("l.zip")));
        assert_eq!(o.port, 0);
        assert_eq!(o.source, Source::AlbMulti);
        assert_eq!(o.timeout, Duration::from_secs(3));
        assert_eq!(o.memory, 256);
        assert_eq!(
            o.env,
            vec![("A".into(), "1".into()), ("B".into(), "x=y".into())]
        );
        assert!(o.no_freeze);
        let Ok(Command::Run(o)) = parse(&args(&[
            "--port",
            "8000",
            "--",
            "python3",
            "-m",
            "http.server",
            "--bind",
            "x",
        ])) else {
            panic!("parsed")
        };
        assert_eq!(
            o.command,
            args(&["python3", "-m", "http.server", "--bind", "x"])
        );
        let Ok(Command::Run(o)) = parse(&args(&[
            "invoke",
            "--event-file",
            "e.json",
            "--function",
            "f",
        ])) else {
            panic!("parsed")
        };
        assert_eq!(o.invoke_file, Some(PathBuf::from("e.json")));
        assert_eq!(parse(&args(&["--help"])), Ok(Command::Help));
        let Ok(Command::Run(o)) = parse(&args(&[
            "--function",
            "f",
            "--event",
            "rest-api",
            "--response-stream",
            "--environments",
            "3",
            "--integration-timeout=1.5",
            "--example-event",
            r#"{"Records":[]}"#,
        ])) else {
            panic!("parsed")
        };
        assert!(o.response_stream);
        assert_eq!(o.environments, 3);
        assert_eq!(o.integration_timeout, Some(Duration::from_millis(1500)));
        assert_eq!(o.example_event.as_deref(), Some(r#"{"Records":[]}"#));
        let Ok(Command::Run(o)) = parse(&args(&["--function", "f"])) else {
            panic!("parsed")
        };
        assert_eq!(o.environments, DEFAULT_ENVIRONMENTS);
        assert_eq!(o.integration_timeout, None);
    }

    #[test]
    fn errors_say_what_to_do() {
        for (a, needle) in [
            (vec![], "--function DIR"),
            (vec!["--function"], "needs a value"),
            (vec!["--function", "f", "--event", "sqs"], "http-api"),
            (vec!["--function", "f", "--port", "x"], "port number"),
            (vec!["--function", "f", "--env", "NOEQUALS"], "KEY=VALUE"),
            (vec!["invoke", "--function", "f"], "--event-file"),
            (vec!["--bogus"], "unknown argument"),
            (vec!["--"], "followed by the command"),
            (vec!["--function", "f", "--response-stream"], "function-url"),
            (
                vec!["--function", "f", "--event", "alb", "--response-stream"],
                "alb cannot stream",
            ),
            (
                vec!["--function", "f", "--environments", "0"],
                "from 1 to 64",
            ),
            (
                vec!["--function", "f", "--integration-timeout", "x"],
                "seconds",
            ),
            (
                vec!["--function", "f", "--example-event", "{"],
                "JSON event",
            ),
        ] {
            let err = parse(&args(&a)).expect_err("an error");
            assert!(err.contains(needle), "{a:?}: {err}");
        }
    }

    #[test]
    fn a_missing_adapter_says_how_to_build_it() {
        let err = find_adapter(Some(Path::new("/nonexistent/portside"))).expect_err("missing");
        assert!(err.contains("does not exist"));
    }
}
