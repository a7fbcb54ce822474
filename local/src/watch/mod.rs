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
    let watched = watch_tree(&mut watcher, &filter, &cfg.root);
    eprintln!(
        "portside-local: watching {} ({watched} folders; not .git, node_modules, __pycache__, .venv, target, editor swap files, or what .gitignore ignores){}",
        cfg.root.display(),
        cfg.build
            .as_ref()
            .map(|b| format!("; each change runs `{b}` first"))
            .unwrap_or_default()
    );
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
            take(&mut changed, paths, &mut filter, &mut watcher);
        }
        // ...and every one until the folder is quiet.
        loop {
            match tokio::time::timeout(QUIET, rx.recv()).await {
                Ok(Some(paths)) => take(&mut changed, paths, &mut filter, &mut watcher),
                Ok(None) => return,
                Err(_) => break,
            }
        }
        let what = match changed.as_slice() {
            [one] => display(&cfg.root, one),
            [first, rest @ ..] => format!("{} and {} more", display(&cfg.root, first), rest.len()),
            [] => continue,
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
        function.restart("the code changed", cfg.early).await;
    }
}

/// Adds the paths that matter; a new folder gets its watch, a changed
/// `.gitignore` reloads the rules.
fn take(
    changed: &mut Vec<PathBuf>,
    paths: Vec<PathBuf>,
    filter: &mut Filter,
    watcher: &mut notify::RecommendedWatcher,
) {
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
