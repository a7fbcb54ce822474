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
}

/// Builds the function the options describe.
pub async fn prepare(o: &Options) -> Result<Prepared, String> {
    let mut env = o.env.clone();
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
        Adapter::Binary(adapter) => {
            let dir = root.join("layer");
            std::fs::create_dir_all(dir.join("extensions"))
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            std::os::unix::fs::symlink(&adapter, dir.join("extensions/portside"))
                .map_err(|e| format!("cannot link the adapter: {e}"))?;
            write_exec(&dir.join("bootstrap"), SHIM)?;
            (Layer::from_dir(dir, false), None)
        }
    };
    if let Some(shim) = &o.shim {
        let bootstrap = layer.dir().join("bootstrap");
        let _ = std::fs::remove_file(&bootstrap);
        std::os::unix::fs::symlink(shim, &bootstrap)
            .map_err(|e| format!("cannot link the shim: {e}"))?;
    }
    Ok((layer, cleanup))
}
