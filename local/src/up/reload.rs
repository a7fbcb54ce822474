//! `up --watch`: each function's code watched where it comes from, through
//! the short form's watcher (`crate::watch`). A function whose package a
//! `data "archive_file"` zips from a local folder (`source_dir`) or file
//! (`source_file`) is watched there: a change copies the folder as the
//! archive would hold it (its `excludes` left out) beside the function's
//! unpacked code, and the restart puts it in place. A prebuilt zip is
//! watched itself (up cannot tell which folder it was built from): once it
//! is rebuilt, it is unpacked again. Inline `source` blocks have nothing to
//! watch: said.
//!
//! Owns: what each function is watched at, preparing and swapping its code.
//! Must not: watch files or restart functions itself (`crate::watch` does).

use super::stack::{CodeSource, FunctionSpec};
use crate::function::Function;
use crate::watch::{self, Refresh, WatchConfig, WatchHandle};
use globset::{GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a function's new code comes from.
enum Origin {
    /// A folder (or one file of it), as an archive_file zips it.
    Folder {
        dir: PathBuf,
        file: Option<PathBuf>,
        excludes: GlobSet,
    },
    /// A zip, unpacked.
    Zip(PathBuf),
}

/// A function's code folder and how to renew it.
struct Code {
    task: PathBuf,
    from: Origin,
}

impl Code {
    fn next(&self) -> PathBuf {
        self.task.with_extension("next")
    }
}

impl Refresh for Code {
    fn prepare(&self) -> Result<(), String> {
        let next = self.next();
        if next.exists() {
            std::fs::remove_dir_all(&next)
                .map_err(|e| format!("cannot clear {}: {e}", next.display()))?;
        }
        std::fs::create_dir_all(&next)
            .map_err(|e| format!("cannot create {}: {e}", next.display()))?;
        match &self.from {
            Origin::Zip(zip) => crate::layer::unzip(zip, &next)
                .map_err(|e| format!("cannot unpack {}: {e}", zip.display())),
            Origin::Folder {
                file: Some(file), ..
            } => copy_file(file, &next.join(file.file_name().unwrap_or_default())),
            Origin::Folder { dir, excludes, .. } => copy_tree(dir, dir, &next, excludes),
        }
    }

    fn swap(&self) -> Result<(), String> {
        let old = self.task.with_extension("old");
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(&self.task, &old)
            .and_then(|_| std::fs::rename(self.next(), &self.task))
            .map_err(|e| {
                format!(
                    "cannot put the new code in place at {}: {e}",
                    self.task.display()
                )
            })?;
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    }
}

fn copy_file(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {}: {e}", from.display()))
}

/// Copies `dir` (under `root`) into `to`, leaving out what `excludes`
/// matches (paths relative to `root`; a folder takes its contents along).
fn copy_tree(root: &Path, dir: &Path, to: &Path, excludes: &GlobSet) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(&path);
        if excludes.is_match(rel) {
            continue;
        }
        let target = to.join(entry.file_name());
        if path.is_dir() {
            std::fs::create_dir_all(&target)
                .map_err(|e| format!("cannot create {}: {e}", target.display()))?;
            copy_tree(root, &path, &target, excludes)?;
        } else {
            copy_file(&path, &target)?;
        }
    }
    Ok(())
}

/// An archive_file's `excludes` as globs (`*` within a path segment, `**`
/// across them), or why one is not a pattern.
fn globs(patterns: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let glob = globset::GlobBuilder::new(p.trim_start_matches("./"))
            .literal_separator(true)
            .build()
            .map_err(|e| format!("its excludes entry {p:?} is not a pattern: {e}"))?;
        b.add(glob);
    }
    b.build().map_err(|e| e.to_string())
}

/// What `--watch` does for one function: its watch config, or why it is
/// not watched.
fn plan(spec: &FunctionSpec, task: PathBuf, build: Option<&String>) -> Result<WatchConfig, String> {
    let (root, only, from, build) = match &spec.code {
        CodeSource::Archive {
            address,
            dir,
            file,
            excludes,
        } => {
            let excludes = globs(excludes).map_err(|e| format!("{address}: {e}"))?;
            let from = Origin::Folder {
                dir: dir.clone(),
                file: file.clone(),
                excludes,
            };
            (dir.clone(), file.clone(), from, build.cloned())
        }
        CodeSource::Inline { address } => {
            return Err(format!(
                "not watched: {address} zips inline source blocks, no file"
            ))
        }
        CodeSource::Prebuilt => {
            let zip = spec.zip_shown.clone();
            let dir = zip.parent().map(PathBuf::from).unwrap_or_default();
            let from = Origin::Zip(zip.clone());
            (dir, Some(zip), from, None)
        }
    };
    Ok(WatchConfig {
        root,
        build,
        early: true,
        only,
        refresh: Some(Arc::new(Code { task, from })),
    })
}

/// Starts watching every function; the handles keep the watches alive.
pub fn watch_all(
    specs: &[FunctionSpec],
    functions: &[Arc<Function>],
    tasks: &[PathBuf],
    build: Option<&String>,
) -> Vec<WatchHandle> {
    let mut handles = Vec::new();
    for ((spec, function), task) in specs.iter().zip(functions).zip(tasks) {
        if spec.code == CodeSource::Prebuilt {
            let also = if build.is_some() {
                " (--watch-build is not run for it)"
            } else {
                ""
            };
            eprintln!("portside-local up: {}: its sources are not watched: {} is a prebuilt zip, and up cannot tell which folder it was built from; the zip itself is watched: rebuild it and the function restarts{also}", spec.name, spec.zip_shown.display());
        }
        let started =
            plan(spec, task.clone(), build).and_then(|cfg| watch::start(Arc::clone(function), cfg));
        match started {
            Ok(h) => handles.push(h),
            Err(e) => eprintln!("portside-local up: {}: {e}", spec.name),
        }
    }
    handles
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(root: &Path, files: &[&str]) {
        for f in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, f.as_bytes()).expect("write");
        }
    }

    fn listing(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("list").flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                } else {
                    let rel = e.path().strip_prefix(root).expect("under").to_path_buf();
                    out.push(rel.display().to_string());
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_folder_is_copied_without_its_excludes_and_swapped_in() {
        let base = std::env::temp_dir().join(format!("reload-{}", crate::util::random_hex(6)));
        let src = base.join("src");
        tree(
            &src,
            &[
                "app.py",
                "lib/util.py",
                "tests/test_app.py",
                "lib/x.pyc",
                "README.md",
            ],
        );
        let task = base.join("fn/task");
        tree(&task, &["old.py"]);
        // The archive provider's excludes: paths under source_dir, globs
        // with ** across folders.
        let excludes = ["tests", "**/*.pyc", "./README.md"].map(String::from);
        let code = Code {
            task: task.clone(),
            from: Origin::Folder {
                dir: src.clone(),
                file: None,
                excludes: globs(&excludes).expect("globs"),
            },
        };
        code.prepare().expect("prepared");
        assert_eq!(listing(&task), ["old.py"], "the running code is untouched");
        code.swap().expect("swapped");
        assert_eq!(listing(&task), ["app.py", "lib/util.py"]);
        assert!(!base.join("fn/task.next").exists() && !base.join("fn/task.old").exists());

        // source_file: that file alone.
        let one = Code {
            task: task.clone(),
            from: Origin::Folder {
                dir: src.clone(),
                file: Some(src.join("app.py")),
                excludes: globs(&[]).expect("globs"),
            },
        };
        one.prepare().expect("prepared");
        one.swap().expect("swapped");
        assert_eq!(listing(&task), ["app.py"]);
        assert!(globs(&["[".to_string()])
            .unwrap_err()
            .contains("not a pattern"));
        let _ = std::fs::remove_dir_all(&base);
    }
}
