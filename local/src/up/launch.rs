//! The stack's functions as portside-local runs them: each package zip
//! unpacked (modes kept), the portside layer laid out from the local build
//! (the adapter next to this executable, the repository's shim), other
//! local layer zips unpacked beside it, and a [`Function`] per function
//! with its configuration: its own app port in every environment (two
//! functions may both say `PORT=8000`), the stand-in's endpoint and test
//! credentials, its name before every line it logs.
//!
//! Owns: turning a [`FunctionSpec`] into a [`Function`].
//! Must not: start the functions (the caller inits them).

use super::options::UpOptions;
use super::stack::{FunctionSpec, LayerUse, Runtime};
use crate::function::{own_ports, Function};
use crate::layer::Layer;
use crate::sandbox::{RuntimeKind, SandboxConfig};
use std::path::PathBuf;
use std::sync::Arc;

/// The functions, with the folders they run from.
pub struct Launched {
    /// The stack's functions, by index.
    pub functions: Arc<Vec<Arc<Function>>>,
    /// The folder each one's package is unpacked in (its code), by index.
    pub tasks: Vec<PathBuf>,
    scratch: PathBuf,
}

impl Drop for Launched {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

fn runtime(r: &Runtime) -> RuntimeKind {
    match r {
        Runtime::Python(n) | Runtime::Wrapped(n) => RuntimeKind::Python(n.clone()),
        Runtime::Provided(n) => RuntimeKind::Provided(n.clone()),
    }
}

/// `/opt` for a function: the local portside build and any local layer
/// zips, in the function's order (a later layer's files win, as on Lambda).
fn opt_folder(
    spec: &FunctionSpec,
    dir: &std::path::Path,
    o: &UpOptions,
) -> Result<Option<Layer>, String> {
    if spec
        .layers
        .iter()
        .all(|l| matches!(l, LayerUse::Remote { .. }))
    {
        return Ok(None);
    }
    for l in &spec.layers {
        match l {
            LayerUse::Portside { .. } => {
                if !dir.join("extensions/portside").exists() {
                    let adapter = crate::cli::find_adapter(o.adapter.as_deref())?;
                    crate::cli::local_layer(dir, &adapter, o.shim.as_deref())?;
                }
            }
            LayerUse::LocalZip { path, arn } => crate::layer::unzip(path, dir)
                .map_err(|e| format!("cannot unpack the layer {arn} ({}): {e}", path.display()))?,
            LayerUse::Remote { .. } => {}
        }
    }
    Ok(Some(Layer::from_dir(dir.to_path_buf(), false)))
}

/// Where a function's package is unpacked.
fn task_dir(root: &std::path::Path, spec: &FunctionSpec) -> PathBuf {
    root.join(&spec.name).join("task")
}

async fn one(
    spec: &FunctionSpec,
    root: &std::path::Path,
    o: &UpOptions,
    aws_env: &[(String, String)],
) -> Result<Arc<Function>, String> {
    let code = task_dir(root, spec);
    std::fs::create_dir_all(&code).map_err(|e| format!("cannot create {}: {e}", code.display()))?;
    crate::layer::unzip(&spec.zip, &code).map_err(|e| {
        format!(
            "cannot unpack the package of {} ({}): {e}",
            spec.address,
            spec.zip_shown.display()
        )
    })?;
    let layer = opt_folder(spec, &root.join(&spec.name).join("opt"), o)?;
    let mut cfg = SandboxConfig::new(code, spec.handler.clone(), runtime(&spec.runtime));
    cfg.function_name = spec.name.clone();
    cfg.memory_mb = spec.memory;
    cfg.timeout = spec.timeout;
    cfg.env = spec.env.clone();
    cfg.env.extend(aws_env.iter().cloned());
    cfg.env.extend(o.env.iter().cloned());
    // Environment 1 gets a free port too: several functions may name one.
    let ports = own_ports(&cfg.env)?;
    cfg.env.extend(ports);
    cfg.freeze = !o.no_freeze;
    cfg.max_concurrency = spec.per_environment;
    cfg.show_logs = !o.quiet;
    cfg.log_prefix = Some(spec.name.clone());
    let environments = spec
        .reserved
        .map_or(o.environments, |r| r.min(o.environments))
        .max(1);
    Function::new(cfg, layer, environments).await
}

/// Prepares every function of the stack (none is started).
pub async fn launch(
    specs: &[FunctionSpec],
    o: &UpOptions,
    aws_env: &[(String, String)],
) -> Result<Launched, String> {
    let scratch = std::env::temp_dir().join(format!(
        "portside-up-fn-{}-{}",
        std::process::id(),
        crate::util::random_hex(8)
    ));
    let mut functions = Vec::new();
    let mut launched = Launched {
        functions: Arc::new(Vec::new()),
        tasks: Vec::new(),
        scratch: scratch.clone(),
    };
    for spec in specs {
        functions.push(one(spec, &scratch, o, aws_env).await?);
        launched.tasks.push(task_dir(&scratch, spec));
    }
    launched.functions = Arc::new(functions);
    Ok(launched)
}
