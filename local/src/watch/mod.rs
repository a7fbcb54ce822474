//! `--watch`: a change under the function's folder restarts the function.
//!
//! Owns: watching (inotify through `notify`, one watch per folder, never in
//! ignored folders, so `node_modules` costs nothing), the debounce (a burst
//! of changes, such as a save that writes several files or a `git
//! checkout`, restarts once: the restart waits until [`QUIET`] passes with
//! no change), the `--watch-build` command (its output copied line by
//! line; if it fails, the running environments keep serving the code from
//! before and nothing restarts), and asking the function to restart
//! ([`Function::restart`]: in-flight invocations finish, the environments
//! stop as Lambda stops them, a fresh one starts, shown as a cold start).
//!
//! Changes made while the build runs are taken to be its own output and do
//! not restart the function again.
//!
//! A function that runs from a copy of its code (`portside-local up`
//! unpacks each package) gives a [`Refresh`]: the new code is prepared
//! beside the running one (if that fails, nothing restarts) and put in
//! place between the old environments' stop and the fresh one's start. One
//! file can be watched alone ([`WatchConfig::only`]: a package zip).
//!
//! Must not: start or stop processes of the function itself.

pub mod filter;

use crate::function::Function;
use filter::Filter;
use notify::{EventKind, RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

/// How long the folder must stay unchanged before the restart begins.
pub const QUIET: Duration = Duration::from_millis(50);

/// What `--watch` watches and runs.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// The function's folder.
    pub root: PathBuf,
    /// `--watch-build`: run with `sh -c` in `root` before each restart.
    pub build: Option<String>,
    /// Start the fresh environment as soon as the app's port is free, while
    /// the old processes finish exiting (not under `--debug`, whose
    /// debugger port is free only once they are gone).
    pub early: bool,
    /// Watch this one file in `root` only (no ignore rules apply to it).
    pub only: Option<PathBuf>,
    /// How the new code reaches a function that runs from a copy of it.
    pub refresh: Option<Arc<dyn Refresh>>,
}

impl std::fmt::Debug for dyn Refresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Refresh")
    }
}

/// Puts changed code where a function runs it from.
pub trait Refresh: Send + Sync {
    /// Prepares the new code beside the running one; an error keeps the
    /// running environments serving the old.
    fn prepare(&self) -> Result<(), String>;
    /// Puts the prepared code in place (the old environments have stopped).
    fn swap(&self) -> Result<(), String>;
}

/// Starts watching; the returned handle keeps the watch alive.
pub fn start(function: Arc<Function>, cfg: WatchConfig) -> Result<WatchHandle, String> {
    let (tx, rx) = mpsc::unbounded_channel::<Vec<PathBuf>>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            if !matches!(event.kind, EventKind::Access(_)) {
                let _ = tx.send(event.paths);
            }
        }
    })
    .map_err(|e| format!("--watch cannot watch files: {e}"))?;
    let filter = Filter::new(&cfg.root);
    let build = cfg
        .build
        .as_ref()
        .map(|b| format!("; each change runs `{b}` first"))
        .unwrap_or_default();
    match &cfg.only {
        Some(file) => {
            watcher
                .watch(&cfg.root, RecursiveMode::NonRecursive)
                .map_err(|e| format!("--watch cannot watch {}: {e}", cfg.root.display()))?;
            eprintln!("portside-local: watching {}{build}", file.display());
        }
        None => {
            let watched = watch_tree(&mut watcher, &filter, &cfg.root);
            eprintln!(
                "portside-local: watching {} ({watched} folders; not .git, node_modules, __pycache__, .venv, target, editor swap files, or what .gitignore ignores){build}",
                cfg.root.display(),
            );
        }
    }
    let task = tokio::spawn(run(function, cfg, rx, watcher, filter));
    Ok(WatchHandle(task))
}

/// Stops watching when dropped.
pub struct WatchHandle(tokio::task::JoinHandle<()>);

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Adds a watch on `dir` and every folder below it that is not ignored:
/// how many.
fn watch_tree(watcher: &mut notify::RecommendedWatcher, filter: &Filter, dir: &Path) -> usize {
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if watcher.watch(&d, RecursiveMode::NonRecursive).is_err() {
            continue;
        }
        count += 1;
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                let p = e.path();
                if e.file_type().is_ok_and(|t| t.is_dir()) && !filter.ignored(&p) {
                    stack.push(p);
                }
            }
        }
    }
    count
}

async fn run(
    function: Arc<Function>,
    cfg: WatchConfig,
    mut rx: mpsc::UnboundedReceiver<Vec<PathBuf>>,
    mut watcher: notify::RecommendedWatcher,
    mut filter: Filter,
) {
    loop {
        // The first change that matters...
        let mut changed: Vec<PathBuf> = Vec::new();
        while changed.is_empty() {
            let Some(paths) = rx.recv().await else { return };
            take(&mut changed, paths, &cfg, &mut filter, &mut watcher);
        }
        // ...and every one until the folder is quiet.
        loop {
            match tokio::time::timeout(QUIET, rx.recv()).await {
                Ok(Some(paths)) => take(&mut changed, paths, &cfg, &mut filter, &mut watcher),
                Ok(None) => return,
                Err(_) => break,
            }
        }
        let what = match changed.as_slice() {
            [one] => display(&cfg.root, one),
            [first, rest @ ..] => format!("{} and {} more", display(&cfg.root, first), rest.len()),
            [] => continue,
        };
        // `up` runs several functions: say whose code it is.
        let what = match &function.config().log_prefix {
            Some(name) => format!("{name}: {what}"),
            None => what,
        };
        if let Some(cmd) = &cfg.build {
            eprintln!("portside-local: {what} changed; building: {cmd}");
            let ok = build(cmd, &cfg.root).await;
            // What the build wrote is not a new change.
            while rx.try_recv().is_ok() {}
            if !ok {
                continue;
            }
        } else {
            eprintln!("portside-local: {what} changed; restarting the function");
        }
        let Some(refresh) = &cfg.refresh else {
            function.restart("the code changed", cfg.early).await;
            continue;
        };
        if let Err(e) = refresh.prepare() {
            eprintln!("portside-local: {e}; the running environments keep serving the code from before the change");
            continue;
        }
        let swap = || refresh.swap();
        function
            .restart_with("the code changed", cfg.early, Some(&swap))
            .await;
    }
}

/// Adds the paths that matter; a new folder gets its watch, a changed
/// `.gitignore` reloads the rules.
fn take(
    changed: &mut Vec<PathBuf>,
    paths: Vec<PathBuf>,
    cfg: &WatchConfig,
    filter: &mut Filter,
    watcher: &mut notify::RecommendedWatcher,
) {
    if let Some(only) = &cfg.only {
        if paths.contains(only) && !changed.contains(only) {
            changed.push(only.clone());
        }
        return;
    }
    for p in paths {
        if p.file_name().is_some_and(|n| n == ".gitignore") {
            filter.reload();
        }
        if filter.ignored(&p) {
            continue;
        }
        if p.is_dir() {
            watch_tree(watcher, filter, &p);
        }
        if !changed.contains(&p) {
            changed.push(p);
        }
    }
}

fn display(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

/// Runs the build; its output goes to stderr as `[build] ...`. Whether it
/// succeeded.
async fn build(cmd: &str, dir: &Path) -> bool {
    let child = tokio::process::Command::new("sh")
        .args(["-c", cmd])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!("portside-local: cannot run the build (sh -c {cmd:?}): {e}; the running environments keep serving the code from before the change");
            return false;
        }
    };
    let copy = |out: Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>| async move {
        if let Some(out) = out {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[build] {line}");
            }
        }
    };
    let out = child
        .stdout
        .take()
        .map(|o| Box::new(o) as Box<dyn tokio::io::AsyncRead + Unpin + Send>);
    let err = child
        .stderr
        .take()
        .map(|o| Box::new(o) as Box<dyn tokio::io::AsyncRead + Unpin + Send>);
    let (_, _, status) = tokio::join!(copy(out), copy(err), child.wait());
    match status {
        Ok(s) if s.success() => true,
        Ok(s) => {
            eprintln!(
                "portside-local: the build failed ({}); the running environments keep serving the code from before the change. Fix it and save again",
                crate::sandbox::procs::describe_exit(s)
            );
            false
        }
        Err(e) => {
            eprintln!("portside-local: the build could not be waited for: {e}; the running environments keep serving the code from before the change");
            false
        }
    }
}
