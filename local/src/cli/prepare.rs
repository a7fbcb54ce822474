//! The function the options describe: its folder and handler (or, for the
//! short form, a scratch folder with a handler that runs the command), the
//! layer (or, for the short form, the installed layer zip or one assembled
//! from the adapter and the shim: see `installed`), and the [`Function`]
//! with its configuration.
//!
//! It must not serve or invoke.

use super::installed::{find_adapter, Adapter, SHIM};
use super::Options;
use crate::function::Function;
use crate::layer::Layer;
use crate::sandbox::{RuntimeKind, SandboxConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Files made for the short form, removed on drop.
pub(super) struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(super) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

pub(super) fn write_exec(path: &Path, content: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, content).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot chmod {}: {e}", path.display()))
}

/// A function ready to run, with what must live as long as it.
pub struct Prepared {
    /// The function.
    pub function: Arc<Function>,
    _scratch: Vec<Scratch>,
    _interpreter: Option<crate::runtimes::InterpreterDir>,
}

/// Builds the function the options describe.
pub async fn prepare(o: &Options) -> Result<Prepared, String> {
    // --env-file values first: --env wins.
    let mut env = crate::dotenv::load(&o.daily.env_files, &|k| std::env::var(k).ok())
        .map_err(|e| e.to_string())?;
    env.extend(o.env.iter().cloned());
    let mut scratch = Vec::new();
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
                scratch.extend(layer.take_cleanup().map(Scratch));
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
        short_form(o, &mut env, &mut scratch)?
    };
    let (runtime, interpreter) = runtime_for(o, &function_dir, layer.as_ref(), &env)?;
    let mut cfg = SandboxConfig::new(function_dir, handler, runtime);
    cfg.interpreter_dir = interpreter.as_ref().map(|d| d.path().to_path_buf());
    cfg.function_name = o.name.clone();
    cfg.memory_mb = o.memory;
    cfg.timeout = o.timeout;
    cfg.region = o.region.clone();
    cfg.env = env;
    cfg.freeze = !o.no_freeze;
    cfg.max_concurrency = o.concurrency;
    cfg.show_logs = !o.quiet;
    if o.daily.debug {
        cfg.freeze = false;
        cfg.timeout = super::daily::DEBUG_TIMEOUT;
        cfg.init_timeout = super::daily::DEBUG_TIMEOUT;
    }
    if !o.command.is_empty() {
        cfg.app_command = Some(o.command.join(" "));
    }
    let environments = if o.invoke_file.is_some() || o.daily.debug {
        1
    } else {
        o.environments
    };
    let function = Function::new(cfg, layer, environments).await?;
    Ok(Prepared {
        function,
        _scratch: scratch,
        _interpreter: interpreter,
    })
}

/// The function's runtime, and the folder holding the interpreter it names
/// when that must come first on its `PATH` (said at start, with what runs
/// instead when it is not installed). A runtime that needs an exec wrapper
/// and has none is refused.
fn runtime_for(
    o: &Options,
    function_dir: &Path,
    layer: Option<&Layer>,
    env: &[(String, String)],
) -> Result<(RuntimeKind, Option<crate::runtimes::InterpreterDir>), String> {
    let runtime = match (&o.runtime, o.command.is_empty()) {
        // The short form's app is your command: its runtime is the python3
        // it finds, unless you name one.
        (None, false) => crate::runtimes::short_form_runtime(),
        (explicit, _) => {
            crate::runtimes::function_runtime(explicit.as_deref(), function_dir, layer.is_some())?
        }
    };
    // The layer's shim starts the handler: no runtime client runs.
    let wrapped = layer.is_some_and(|l| l.bootstrap().is_some());
    let own_wrapper = env
        .iter()
        .rev()
        .find(|(k, _)| k == "AWS_LAMBDA_EXEC_WRAPPER")
        .is_some_and(|(_, v)| !v.is_empty());
    if let (Some(why), false) = (runtime.without_wrapper(), wrapped || own_wrapper) {
        return Err(why);
    }
    // The short form's default runtime is the python3 it finds already.
    let interpreter = if o.command.is_empty() || o.runtime.is_some() {
        crate::runtimes::interpreter_for(&runtime, function_dir, wrapped)?
    } else {
        None
    };
    Ok((runtime, interpreter))
}

/// The short form: the app runs where the user is: their folder is the task
/// root and the working folder, as with `sam local` or `cargo lambda watch`;
/// the start script and the layer live in a scratch folder, and `_HANDLER`
/// names the script by its full path. The function folder, the handler and
/// the layer.
fn short_form(
    o: &Options,
    env: &mut Vec<(String, String)>,
    scratch: &mut Vec<Scratch>,
) -> Result<(PathBuf, String, Option<Layer>), String> {
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
    let (layer, unpacked) = short_form_layer(&root, o)?;
    scratch.extend(unpacked.map(Scratch));
    if !env.iter().any(|(k, _)| k == "PORT") {
        env.insert(0, ("PORT".into(), "8080".into()));
    }
    scratch.push(s);
    Ok((cwd, run_sh.display().to_string(), Some(layer)))
}

/// The short form's layer: the installed layer zip (unpacked; the folder
/// to remove afterwards comes with it), or a folder in `root` with the
/// adapter and the embedded shim. `--shim` replaces the shim in either.
fn short_form_layer(root: &Path, o: &Options) -> Result<(Layer, Option<PathBuf>), String> {
    let (layer, cleanup) = match find_adapter(o.adapter.as_deref())? {
        Adapter::LayerZip(zip) => {
            let mut layer = Layer::open(&zip)?;
            let cleanup = layer.take_cleanup();
            (layer, cleanup)
        }
        adapter @ Adapter::Binary(_) => {
            let dir = root.join("layer");
            local_layer(&dir, &adapter, None)?;
            (Layer::from_dir(dir, false), None)
        }
    };
    if let Some(shim) = &o.shim {
        replace_shim(layer.dir(), shim)?;
    }
    Ok((layer, cleanup))
}

/// Lays out the portside layer in `layer_dir` (`portside-local up` does, for
/// every function that names it): the installed layer zip unpacked there,
/// or the adapter linked as `extensions/portside` beside the shim
/// portside-local carries; `shim` replaces the shim.
pub fn local_layer(layer_dir: &Path, adapter: &Adapter, shim: Option<&Path>) -> Result<(), String> {
    match adapter {
        Adapter::LayerZip(zip) => crate::layer::unzip(zip, layer_dir)
            .map_err(|e| format!("cannot unpack the layer {}: {e}", zip.display()))?,
        Adapter::Binary(adapter) => {
            std::fs::create_dir_all(layer_dir.join("extensions"))
                .map_err(|e| format!("cannot create {}: {e}", layer_dir.display()))?;
            std::os::unix::fs::symlink(adapter, layer_dir.join("extensions/portside"))
                .map_err(|e| format!("cannot link the adapter: {e}"))?;
            write_exec(&layer_dir.join("bootstrap"), SHIM)?;
        }
    }
    match shim {
        Some(shim) => replace_shim(layer_dir, shim),
        None => Ok(()),
    }
}

fn replace_shim(layer_dir: &Path, shim: &Path) -> Result<(), String> {
    let bootstrap = layer_dir.join("bootstrap");
    let _ = std::fs::remove_file(&bootstrap);
    std::os::unix::fs::symlink(shim, &bootstrap).map_err(|e| format!("cannot link the shim: {e}"))
}
