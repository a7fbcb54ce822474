//! The runtime you deploy is the runtime you run: which runtime a function
//! folder gets, and which interpreter runs for a language runtime: `python3`
//! for `python3.12` ([`python`]), `node` for `nodejs22.x` ([`node`]). Lambda
//! puts the runtime's interpreter first on `PATH` (`/var/lang/bin`);
//! locally, the one the runtime names runs when it is installed, else what
//! runs instead is said plainly at start with what that may break.
//!
//! Owns: the runtime's default, the choice for each runtime, the folder that
//! holds the interpreter's links, first on the function's `PATH`.
//!
//! Must not: start the function.

pub mod node;
pub mod python;

pub use python::short_form_runtime;

use crate::sandbox::RuntimeKind;
use std::path::{Path, PathBuf};

/// The runtime a function folder runs with: `explicit` (`--runtime`),
/// else `python3.12` with a layer, else `provided.al2023` when the folder
/// has a `bootstrap`.
pub fn function_runtime(
    explicit: Option<&str>,
    dir: &Path,
    has_layer: bool,
) -> Result<RuntimeKind, String> {
    match explicit {
        Some(r) => RuntimeKind::parse(r),
        None if has_layer => RuntimeKind::parse("python3.12"),
        None if dir.join("bootstrap").is_file() => RuntimeKind::parse("provided.al2023"),
        None => Err(format!(
            "{} has no bootstrap file: pass --layer LAYER (the portside layer) or --runtime",
            dir.display()
        )),
    }
}

/// Decides and says (on stderr) which interpreter runs `runtime` for the
/// function in `dir`: the folder to put first on its `PATH`, if one is
/// needed. `wrapped`: an exec wrapper starts the handler (no runtime
/// interface client runs). An error refuses the function.
pub fn interpreter_for(
    runtime: &RuntimeKind,
    dir: &Path,
    wrapped: bool,
) -> Result<Option<InterpreterDir>, String> {
    let path = std::env::var("PATH").unwrap_or_default();
    match runtime {
        RuntimeKind::Python(name) => python::interpreter_for(name, dir, !wrapped, &path),
        RuntimeKind::Node(name) => node::interpreter_for(name, &path),
        RuntimeKind::Provided(_) => Ok(None),
    }
}

/// A folder holding links to one interpreter under the names the function
/// calls it by (`python3` and `python`, `node`), first on the function's
/// `PATH`; removed on drop.
#[derive(Debug)]
pub struct InterpreterDir(PathBuf);

impl InterpreterDir {
    /// Makes the folder (`tag` names it) with `names` linked to `program`.
    pub fn new(tag: &str, program: &Path, names: &[&str]) -> Result<InterpreterDir, String> {
        let dir = std::env::temp_dir().join(format!(
            "portside-local-{tag}-{}-{}",
            std::process::id(),
            crate::util::random_hex(8)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let guard = InterpreterDir(dir);
        for name in names {
            std::os::unix::fs::symlink(program, guard.0.join(name))
                .map_err(|e| format!("cannot link {}: {e}", program.display()))?;
        }
        Ok(guard)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for InterpreterDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Finds `command` on `path` (a `PATH` value): the first folder that has it.
pub(crate) fn on_path(command: &str, path: &str) -> Option<PathBuf> {
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(command))
        .find(|p| p.is_file())
}
