//! Which paths under the watched folder are not the function's code:
//! `.git`, `node_modules`, `__pycache__`, `.venv`, `target` (anywhere in
//! the path), editors' swap and backup files, and what the folder's
//! `.gitignore` files ignore (the root one and nested ones, deeper rules
//! winning, `!` re-including, as git reads them).
//!
//! Owns: the rules and reloading them when a `.gitignore` changes.
//! Must not: watch anything.

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
use std::path::{Path, PathBuf};

/// Folder names never watched.
pub const IGNORED_DIRS: [&str; 5] = [".git", "node_modules", "__pycache__", ".venv", "target"];

/// Whether a file name is an editor's temporary file: vim's `.x.swp`,
/// `.x.swx`, `x~` and its `4913` probe, emacs's `#x#` and `.#x`, kate's
/// `.x.kate-swp`, JetBrains' `x___jb_tmp___`/`x___jb_old___`.
pub fn is_editor_file(name: &str) -> bool {
    name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".swo")
        || name.ends_with('~')
        || name == "4913"
        || (name.starts_with('#') && name.ends_with('#'))
        || name.starts_with(".#")
        || name.ends_with(".kate-swp")
        || name.ends_with("___jb_tmp___")
        || name.ends_with("___jb_old___")
}

/// The rules for one watched folder.
pub struct Filter {
    root: PathBuf,
    /// Each `.gitignore` with the folder it applies to, shallowest first.
    gitignores: Vec<Gitignore>,
}

impl Filter {
    /// Reads every `.gitignore` under `root` (outside ignored folders).
    pub fn new(root: &Path) -> Filter {
        let mut f = Filter {
            root: root.to_path_buf(),
            gitignores: Vec::new(),
        };
        f.reload();
        f
    }

    /// Reads the `.gitignore` files again.
    pub fn reload(&mut self) {
        let mut found = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let file = dir.join(".gitignore");
            if file.is_file() {
                let mut b = GitignoreBuilder::new(&dir);
                if b.add(&file).is_none() {
                    if let Ok(g) = b.build() {
                        found.push(g);
                    }
                }
            }
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    if e.file_type().is_ok_and(|t| t.is_dir()) {
                        let p = e.path();
                        if !self.ignored_with(&found, &p, true) {
                            stack.push(p);
                        }
                    }
                }
            }
        }
        found.sort_by_key(|g| g.path().components().count());
        self.gitignores = found;
    }

    fn ignored_with(&self, gitignores: &[Gitignore], path: &Path, is_dir: bool) -> bool {
        let Ok(rel) = path.strip_prefix(&self.root) else {
            return true;
        };
        for part in rel.components() {
            let name = part.as_os_str().to_string_lossy();
            if IGNORED_DIRS.contains(&name.as_ref()) {
                return true;
            }
        }
        if path
            .file_name()
            .is_some_and(|n| is_editor_file(&n.to_string_lossy()))
        {
            return true;
        }
        // The deepest .gitignore with an opinion decides.
        for g in gitignores.iter().rev() {
            if !path.starts_with(g.path()) {
                continue;
            }
            match g.matched_path_or_any_parents(path, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }

    /// Whether a change at `path` is not the function's code.
    pub fn ignored(&self, path: &Path) -> bool {
        self.ignored_with(&self.gitignores, path, path.is_dir())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_folders_swap_files_and_gitignore_rules() {
        let root = std::env::temp_dir().join(format!("filter-{}", crate::util::random_hex(8)));
        std::fs::create_dir_all(root.join("src/gen")).unwrap();
        std::fs::create_dir_all(root.join("logs")).unwrap();
        std::fs::write(
            root.join(".gitignore"),
            "*.log\n/logs/\nsrc/gen/*\n!src/gen/keep.py\n",
        )
        .unwrap();
        std::fs::write(root.join("src/.gitignore"), "local.py\n").unwrap();
        let f = Filter::new(&root);
        let ignored = |p: &str| f.ignored(&root.join(p));
        assert!(!ignored("app.py"));
        assert!(ignored("node_modules/x/index.js"));
        assert!(ignored("a/__pycache__/m.cpython-311.pyc"));
        assert!(ignored(".git/index"));
        assert!(ignored("target/debug/app"));
        assert!(ignored(".venv/lib/site.py"));
        assert!(ignored(".app.py.swp"));
        assert!(ignored("app.py~"));
        assert!(ignored("4913"));
        assert!(ignored("server.log"));
        assert!(ignored("logs/today.txt"));
        assert!(ignored("src/gen/out.py"));
        assert!(!ignored("src/gen/keep.py"));
        assert!(
            ignored("src/local.py"),
            "a nested .gitignore applies below it"
        );
        assert!(!ignored("local.py"), "and only there");
        let _ = std::fs::remove_dir_all(&root);
    }
}
