//! Which interpreter is `python3` for a Python runtime (`python3.12`).
//!
//! Lambda's `python3.12` runtime puts Python 3.12 first on `PATH`
//! (`/var/lang/bin`). Locally the choice is, in order:
//! * the `python3` already on `PATH` when it is that version;
//! * else `python3.12` when it is installed (it runs as `python3` and
//!   `python`, first on the function's `PATH`), unless `python3` is a
//!   virtual environment's and the function folder vendors no compiled
//!   packages (the environment's packages are the function's, locally);
//! * else the `python3` on `PATH`, said plainly at start with what that
//!   breaks.
//!
//! A function folder holding compiled packages (`*.cpython-312-*.so`) for
//! another Python than the runtime's, or for one that is not installed, is
//! refused with that reason: they would fail to import.
//!
//! Owns: probing interpreters (a command that fails, such as a pyenv shim
//! for a version not selected, is not installed), finding vendored compiled
//! packages, the decision and its words.
//!
//! Must not: start the function.

use super::InterpreterDir;
use crate::sandbox::RuntimeKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An interpreter that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// The command as found (`python3`, `python3.12`).
    pub command: String,
    /// Where it is.
    pub path: PathBuf,
    /// `3.12.4`.
    pub version: String,
    /// Whether it is a virtual environment's.
    pub venv: bool,
}

impl Interpreter {
    /// `(3, 12)`.
    pub fn minor(&self) -> Option<(u32, u32)> {
        let mut it = self.version.split('.').map(|p| p.parse::<u32>().ok());
        Some((it.next()??, it.next()??))
    }
}

/// Finds `command` on `path` (a `PATH` value) and asks it its version; `None`
/// when it is not there or does not answer as a Python does.
pub fn probe(command: &str, path: &str) -> Option<Interpreter> {
    let found = super::on_path(command, path)?;
    let out = Command::new(&found)
        .args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.prefix != sys.base_prefix)"])
        .env("PATH", path)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let version = lines.next()?.trim().to_string();
    let venv = lines.next()?.trim() == "True";
    let i = Interpreter {
        command: command.to_string(),
        path: found,
        version,
        venv,
    };
    i.minor().map(|_| i)
}

/// `python3.12` → `(3, 12)`.
pub fn runtime_minor(runtime: &str) -> Option<(u32, u32)> {
    let rest = runtime.strip_prefix("python")?;
    let (major, minor) = rest.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The first compiled extension module under `dir` built for one CPython
/// version: that version and the file (relative). Virtual environments,
/// `.git` and `node_modules` are not looked into.
pub fn vendored_python(dir: &Path) -> Option<((u32, u32), PathBuf)> {
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            seen += 1;
            if seen > 50_000 {
                return None;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if !matches!(
                    name.as_str(),
                    ".git" | "node_modules" | ".venv" | "venv" | "__pycache__"
                ) && !e.path().join("pyvenv.cfg").is_file()
                {
                    stack.push(e.path());
                }
                continue;
            }
            // name.cpython-312-x86_64-linux-gnu.so
            let Some(tag) = name.split(".cpython-").nth(1) else {
                continue;
            };
            if !name.ends_with(".so") {
                continue;
            }
            let digits: String = tag.chars().take_while(char::is_ascii_digit).collect();
            if digits.len() >= 2 {
                let minor = digits[1..].parse().ok()?;
                let rel = e
                    .path()
                    .strip_prefix(dir)
                    .map(Path::to_path_buf)
                    .unwrap_or(e.path());
                return Some(((3, minor), rel));
            }
        }
    }
    None
}

/// What runs as `python3` for a Python runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PythonChoice {
    /// `python3` on `PATH` is the runtime's version: nothing to do.
    AsIs(Interpreter),
    /// The runtime's `python3.X` runs as `python3` (first on `PATH`).
    Use(Interpreter),
    /// Another Python runs; the note says which and what that breaks.
    Instead {
        /// What runs (`None`: no `python3` at all).
        running: Option<Interpreter>,
        /// The notice for the start-up output.
        note: String,
    },
}

/// Decides for runtime `runtime` (`python3.12`) and the function `dir`;
/// `path` is the host's `PATH`. An error refuses the function.
pub fn choose_python(runtime: &str, dir: &Path, path: &str) -> Result<PythonChoice, String> {
    let Some((major, minor)) = runtime_minor(runtime) else {
        return Err(format!(
            "{runtime:?} is not a Python runtime name such as python3.12"
        ));
    };
    let wanted = format!("{major}.{minor}");
    let current = probe("python3", path);
    let vendored = vendored_python(dir);
    if let Some(((vmaj, vmin), file)) = &vendored {
        if (*vmaj, *vmin) != (major, minor) {
            return Err(format!(
                "{} holds packages compiled for Python {vmaj}.{vmin} ({}), but the runtime is {runtime}: they would fail to import, here and on Lambda. Build the package for {wanted} (pip install --python-version {wanted} --only-binary=:all: ...), or pass --runtime python{vmaj}.{vmin}",
                dir.display(),
                file.display()
            ));
        }
    }
    if let Some(c) = current
        .as_ref()
        .filter(|c| c.minor() == Some((major, minor)))
    {
        return Ok(PythonChoice::AsIs(c.clone()));
    }
    let installed = probe(&format!("python{wanted}"), path);
    let describe = |c: &Option<Interpreter>| match c {
        Some(c) => format!("python3 (Python {}, {})", c.version, c.path.display()),
        None => "no python3".to_string(),
    };
    match (installed, &vendored) {
        (Some(i), Some(_)) => Ok(PythonChoice::Use(i)),
        (None, Some((_, file))) => Err(format!(
            "{} holds packages compiled for Python {wanted} ({}), and python{wanted} is not installed here ({} is): they would fail to import. Install Python {wanted} so that python{wanted} is on PATH, then run again",
            dir.display(),
            file.display(),
            describe(&current)
        )),
        (Some(i), None) if current.as_ref().is_some_and(|c| c.venv) => Ok(PythonChoice::Instead {
            note: format!(
                "{runtime}: python3 is your virtual environment's (Python {}, {}), so it runs, with its packages, instead of python{wanted} ({}); on Lambda the function gets Python {wanted}: bytecode differs and packages with compiled parts must be built for {wanted}. Make the environment with python{wanted} to match",
                current.as_ref().map_or("", |c| c.version.as_str()),
                current.as_ref().map_or(String::new(), |c| c.path.display().to_string()),
                i.version
            ),
            running: current,
        }),
        (Some(i), None) => Ok(PythonChoice::Use(i)),
        (None, None) => Ok(PythonChoice::Instead {
            note: format!(
                "{runtime}: python{wanted} is not installed here, so {} runs instead. Packages with compiled parts built for Python {wanted} will not import under it, and its bytecode and standard library differ from Lambda's; install Python {wanted} to run what Lambda runs, or pass --runtime python{} to match it",
                describe(&current),
                current.as_ref().and_then(|c| c.minor()).map_or("3.x".into(), |(a, b)| format!("{a}.{b}"))
            ),
            running: current,
        }),
    }
}

/// The short form's runtime when none is named: `python3.X` for the
/// `python3` on `PATH` (a Lambda Python 3.9 to 3.14), else `python3.12`.
pub fn short_form_runtime() -> RuntimeKind {
    let path = std::env::var("PATH").unwrap_or_default();
    let name = probe("python3", &path)
        .and_then(|p| p.minor())
        .filter(|(major, minor)| *major == 3 && (9..=14).contains(minor))
        .map_or("python3.12".to_string(), |(a, b)| format!("python{a}.{b}"));
    RuntimeKind::Python(name)
}

/// Whether `interp` can import `module`.
fn has_module(interp: &Interpreter, module: &str) -> bool {
    Command::new(&interp.path)
        .args(["-c", &format!("import {module}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Decides and says which interpreter runs runtime `name` for the function
/// in `dir`, `path` being the host's `PATH`: the folder to put first on the
/// function's `PATH`, if one is needed. `needs_ric`: the runtime runs
/// `python3 -m awslambdaric` (no exec wrapper), so the interpreter must have
/// Lambda's runtime client.
pub fn interpreter_for(
    name: &str,
    dir: &Path,
    needs_ric: bool,
    path: &str,
) -> Result<Option<InterpreterDir>, String> {
    match choose_python(name, dir, path)? {
        PythonChoice::AsIs(_) => Ok(None),
        PythonChoice::Use(i) if needs_ric && !has_module(&i, "awslambdaric") => {
            eprintln!(
                "portside-local: {name}: python{} ({}) lacks awslambdaric, the runtime interface client Lambda's Python runtime includes, so python3 runs instead; install it with `{} -m pip install awslambdaric`",
                i.minor().map_or(String::new(), |(a, b)| format!("{a}.{b}")),
                i.path.display(),
                i.path.display()
            );
            Ok(None)
        }
        PythonChoice::Use(i) => {
            eprintln!(
                "portside-local: {name}: python3 is {} (Python {}), first on the function's PATH as on Lambda",
                i.path.display(),
                i.version
            );
            InterpreterDir::new("python", &i.path, &["python3", "python"]).map(Some)
        }
        PythonChoice::Instead { note, .. } => {
            eprintln!("portside-local: {note}");
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_names_and_vendored_tags() {
        assert_eq!(runtime_minor("python3.12"), Some((3, 12)));
        assert_eq!(runtime_minor("provided.al2023"), None);
        let dir = std::env::temp_dir().join(format!("vendored-{}", crate::util::random_hex(8)));
        std::fs::create_dir_all(dir.join("pydantic_core")).unwrap();
        std::fs::create_dir_all(dir.join(".venv/lib")).unwrap();
        std::fs::write(dir.join(".venv/lib/x.cpython-311-x86_64-linux-gnu.so"), "").unwrap();
        assert_eq!(
            vendored_python(&dir),
            None,
            "a virtual environment is not the package"
        );
        std::fs::write(
            dir.join("pydantic_core/_pydantic_core.cpython-312-x86_64-linux-gnu.so"),
            "",
        )
        .unwrap();
        let found = vendored_python(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            found,
            Some((
                (3, 12),
                PathBuf::from("pydantic_core/_pydantic_core.cpython-312-x86_64-linux-gnu.so")
            ))
        );
    }
}
