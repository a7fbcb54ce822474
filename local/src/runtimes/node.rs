//! Which `node` runs for a Node.js runtime (`nodejs22.x`).
//!
//! Lambda's `nodejs22.x` runtime puts Node.js 22 first on `PATH`
//! (`/var/lang/bin`). Locally the choice is, in order:
//! * the `node` already on `PATH` when `node --version` says major 22;
//! * else `node22` on `PATH` when it says major 22 (as some installs name a
//!   second Node): it runs as `node`, first on the function's `PATH`;
//! * else the `node` on `PATH`, said plainly at start with what that may
//!   break (features of the runtime's Node missing, native addons built for
//!   another Node's ABI that do not load).
//!
//! Owns: asking a `node` its version (a command that fails, such as a
//! version manager's shim for a version not installed, is not installed),
//! the decision and its words.
//!
//! Must not: start the function.

use super::InterpreterDir;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A `node` that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Where it is.
    pub path: PathBuf,
    /// `20.19.2` (`node --version` without its `v`).
    pub version: String,
}

impl Node {
    /// `20`.
    pub fn major(&self) -> Option<u32> {
        self.version.split('.').next()?.parse().ok()
    }
}

/// `nodejs22.x` → `22`; `None` for anything else.
pub fn runtime_major(runtime: &str) -> Option<u32> {
    let digits = runtime.strip_prefix("nodejs")?.strip_suffix(".x")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Finds `command` on `path` (a `PATH` value) and asks it `--version`;
/// `None` when it is not there or does not answer as a Node does (`v20.19.2`).
pub fn probe(command: &str, path: &str) -> Option<Node> {
    let found = super::on_path(command, path)?;
    let out = Command::new(&found)
        .arg("--version")
        .env("PATH", path)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.trim().strip_prefix('v')?.to_string();
    let node = Node {
        path: found,
        version,
    };
    node.major().map(|_| node)
}

/// What runs as `node` for a Node.js runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeChoice {
    /// `node` on `PATH` is the runtime's major version: nothing to do.
    AsIs(Node),
    /// `nodeNN` is the runtime's and runs as `node` (first on `PATH`).
    Use(Node),
    /// Another Node runs (or none); the note says which and what that may
    /// break.
    Instead {
        /// What runs (`None`: no `node` at all).
        running: Option<Node>,
        /// The notice for the start-up output.
        note: String,
    },
}

/// Decides for runtime `runtime` (`nodejs22.x`); `path` is the host's
/// `PATH`. An error names a runtime that is not a Node.js one.
pub fn choose_node(runtime: &str, path: &str) -> Result<NodeChoice, String> {
    let Some(major) = runtime_major(runtime) else {
        return Err(format!(
            "{runtime:?} is not a Node.js runtime name such as nodejs22.x"
        ));
    };
    let current = probe("node", path);
    if let Some(c) = current.as_ref().filter(|c| c.major() == Some(major)) {
        return Ok(NodeChoice::AsIs(c.clone()));
    }
    let named = format!("node{major}");
    if let Some(n) = probe(&named, path).filter(|n| n.major() == Some(major)) {
        return Ok(NodeChoice::Use(n));
    }
    let note = match &current {
        Some(c) => {
            let theirs = c.major().unwrap_or(0);
            // Lambda's Node.js runtimes are the even (long-term support) majors.
            let matching = if theirs % 2 == 0 {
                format!(", or pass --runtime nodejs{theirs}.x to match it")
            } else {
                String::new()
            };
            format!(
                "{runtime}: Node.js {major} is not installed here (neither node nor {named} on PATH is), so node (Node.js {}, {}) runs instead. Node.js {theirs} and {major} differ (APIs added and removed), so code can work here and fail on Lambda or the other way round, and native addons (.node files) built for Node.js {major} will not load under it; install Node.js {major} (as node, or {named} on PATH) to run what Lambda runs{matching}",
                c.version,
                c.path.display()
            )
        }
        None => format!(
            "{runtime}: there is no node on PATH (nor {named}), so a Node.js app cannot start here; install Node.js {major} (as node, or {named} on PATH)"
        ),
    };
    Ok(NodeChoice::Instead {
        running: current,
        note,
    })
}

/// Decides and says which `node` runs runtime `name`, `path` being the
/// host's `PATH`: the folder to put first on the function's `PATH`, if one
/// is needed.
pub fn interpreter_for(name: &str, path: &str) -> Result<Option<InterpreterDir>, String> {
    match choose_node(name, path)? {
        NodeChoice::AsIs(_) => Ok(None),
        NodeChoice::Use(n) => {
            eprintln!(
                "portside-local: {name}: node is {} (Node.js {}), first on the function's PATH as on Lambda",
                n.path.display(),
                n.version
            );
            InterpreterDir::new("node", &n.path, &["node"]).map(Some)
        }
        NodeChoice::Instead { note, .. } => {
            eprintln!("portside-local: {note}");
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_names() {
        assert_eq!(runtime_major("nodejs22.x"), Some(22));
        assert_eq!(runtime_major("nodejs24.x"), Some(24));
        for not in ["nodejs", "nodejs.x", "nodejs22", "nodejs2a.x", "python3.12"] {
            assert_eq!(runtime_major(not), None, "{not}");
        }
    }
}
