//! A place for Terraform to plan the user's root module without writing
//! anything into it: a scratch folder that mirrors the folder's absolute
//! path with symbolic links, so `path.module`, `../dist/app.zip` and
//! `source = "../modules/x"` resolve exactly as they do from the user's own
//! folder, while Terraform's working files (`.terraform/`, the lock file, the
//! plan, the generated test file) land in the scratch folder.
//!
//! Every entry of the root module is linked except what a deploy leaves
//! behind (`.terraform/`, `terraform.tfstate*`): `up` plans from nothing,
//! never from the deployed state. The lock file is copied, so Terraform
//! checks the providers it installs against it without changing it. Each
//! ancestor folder's other entries are linked too (that is what makes
//! `../` work). The scratch folder is removed on drop.
//!
//! Owns: the scratch view and the mapping of its paths back to real ones.
//! Must not: run Terraform or read the configuration.

use std::path::{Path, PathBuf};

/// The scratch view of a root module.
#[derive(Debug)]
pub struct Workspace {
    scratch: PathBuf,
    real: PathBuf,
    root: PathBuf,
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// Entries of the root module left out of the view.
fn left_out(name: &str) -> bool {
    name == ".terraform" || name == ".terraform.lock.hcl" || name.starts_with("terraform.tfstate")
}

fn link(target: &Path, at: &Path) -> Result<(), String> {
    std::os::unix::fs::symlink(target, at)
        .map_err(|e| format!("cannot link {} at {}: {e}", target.display(), at.display()))
}

impl Workspace {
    /// Mirrors `dir` (a folder) under a new scratch folder.
    pub fn new(dir: &Path) -> Result<Workspace, String> {
        let real = dir
            .canonicalize()
            .map_err(|e| format!("cannot resolve {}: {e}", dir.display()))?;
        if !real.is_dir() {
            return Err(format!(
                "{} is not a folder: give up the folder of a Terraform root module",
                dir.display()
            ));
        }
        let scratch = std::env::temp_dir().join(format!(
            "portside-up-{}-{}",
            std::process::id(),
            crate::util::random_hex(8)
        ));
        let ws = Workspace {
            root: scratch.join(real.strip_prefix("/").unwrap_or(&real)),
            scratch,
            real,
        };
        std::fs::create_dir_all(&ws.root)
            .map_err(|e| format!("cannot create {}: {e}", ws.root.display()))?;
        ws.mirror_ancestors()?;
        ws.mirror_root()?;
        Ok(ws)
    }

    fn mirror_ancestors(&self) -> Result<(), String> {
        let mut child = self.real.as_path();
        while let Some(parent) = child.parent() {
            let here = self
                .scratch
                .join(parent.strip_prefix("/").unwrap_or(parent));
            let entries = std::fs::read_dir(parent)
                .map_err(|e| format!("cannot list {}: {e}", parent.display()))?;
            for entry in entries.flatten() {
                let name = entry.file_name();
                if Some(name.as_os_str()) == child.file_name() {
                    continue;
                }
                let at = here.join(&name);
                // The scratch folder itself may sit under an ancestor (/tmp).
                if at.symlink_metadata().is_err() && !self.scratch.starts_with(entry.path()) {
                    link(&entry.path(), &at)?;
                }
            }
            child = parent;
        }
        Ok(())
    }

    fn mirror_root(&self) -> Result<(), String> {
        let entries = std::fs::read_dir(&self.real)
            .map_err(|e| format!("cannot list {}: {e}", self.real.display()))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if !left_out(&name) {
                link(&entry.path(), &self.root.join(&name))?;
            }
        }
        let lock = self.real.join(".terraform.lock.hcl");
        if lock.is_file() {
            std::fs::copy(&lock, self.root.join(".terraform.lock.hcl"))
                .map_err(|e| format!("cannot copy {}: {e}", lock.display()))?;
        }
        Ok(())
    }

    /// The root module as Terraform sees it (its working folder).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The user's own root module.
    pub fn real(&self) -> &Path {
        &self.real
    }

    /// A scratch file or folder of `up`'s own, beside the view.
    pub fn own(&self, name: &str) -> PathBuf {
        self.scratch.join(name)
    }

    /// A path as Terraform reported it (relative to the root module, or
    /// absolute within the view) as the real path it stands for.
    pub fn real_path(&self, reported: &str) -> PathBuf {
        let p = Path::new(reported);
        let joined = if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        };
        match joined.strip_prefix(&self.scratch) {
            // Inside the view: the same path outside it.
            Ok(rest) => normalize(&Path::new("/").join(rest)),
            Err(_) => normalize(&joined),
        }
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system (the view's
/// links must not be resolved: `..` means the parent of the path as
/// written, as it does for Terraform).
fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_resolves_parent_paths_and_leaves_state_out() {
        let base = std::env::temp_dir().join(format!("ws-test-{}", crate::util::random_hex(6)));
        let stack = base.join("repo/stack");
        std::fs::create_dir_all(stack.join(".terraform")).expect("mkdir");
        std::fs::create_dir_all(base.join("repo/dist")).expect("mkdir");
        std::fs::write(base.join("repo/dist/app.zip"), b"zip").expect("write");
        std::fs::write(stack.join("main.tf"), b"# tf").expect("write");
        std::fs::write(stack.join("terraform.tfstate"), b"{}").expect("write");
        std::fs::write(stack.join(".terraform.lock.hcl"), b"# lock").expect("write");
        let ws = Workspace::new(&stack).expect("view");
        let root = ws.root().to_path_buf();
        assert_eq!(
            std::fs::read(root.join("../dist/app.zip")).expect("../dist through the view"),
            b"zip"
        );
        assert!(root.join("main.tf").exists());
        assert!(!root.join("terraform.tfstate").exists(), "state left out");
        assert!(!root.join(".terraform").exists(), "plugins left out");
        assert!(
            !root
                .join(".terraform.lock.hcl")
                .symlink_metadata()
                .expect("lock")
                .file_type()
                .is_symlink(),
            "the lock file is a copy"
        );
        let real_stack = stack.canonicalize().expect("canonical");
        assert_eq!(
            ws.real_path("./../dist/app.zip"),
            real_stack.parent().expect("parent").join("dist/app.zip")
        );
        assert_eq!(
            ws.real_path(&root.join("x.zip").display().to_string()),
            real_stack.join("x.zip")
        );
        assert_eq!(ws.real_path("/opt/y.zip"), PathBuf::from("/opt/y.zip"));
        let scratch = ws.own("");
        drop(ws);
        assert!(!scratch.exists(), "removed on drop");
        let _ = std::fs::remove_dir_all(&base);
    }
}
