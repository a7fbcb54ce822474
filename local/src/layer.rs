//! The function's code on disk: a layer given as a zip (unpacked to a
//! temporary folder, file modes and symlinks kept) or as a folder, and what
//! Lambda looks for in it (`extensions/*`, `bootstrap`, `bin`, `lib`,
//! `python`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A layer ready to use: a folder that stands in for `/opt`.
#[derive(Debug)]
pub struct Layer {
    dir: PathBuf,
    /// Set when we unpacked a zip: removed on drop.
    temp: bool,
}

impl Drop for Layer {
    fn drop(&mut self) {
        if self.temp {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

impl Layer {
    /// Opens `path`: a folder is used as is, a zip file is unpacked.
    pub fn open(path: &Path) -> Result<Layer, String> {
        let meta = fs::metadata(path)
            .map_err(|e| format!("cannot read the layer {}: {e}", path.display()))?;
        if meta.is_dir() {
            let dir = path
                .canonicalize()
                .map_err(|e| format!("cannot resolve {}: {e}", path.display()))?;
            return Ok(Layer { dir, temp: false });
        }
        let dir = std::env::temp_dir().join(format!(
            "portside-local-layer-{}-{}",
            std::process::id(),
            crate::util::random_hex(8)
        ));
        unzip(path, &dir).map_err(|e| {
            let _ = fs::remove_dir_all(&dir);
            format!(
                "cannot unpack the layer {} (expected a zip file or a folder holding extensions/ and bootstrap): {e}",
                path.display()
            )
        })?;
        Ok(Layer { dir, temp: true })
    }

    /// Wraps a folder made by the caller (removed on drop when `temp`).
    pub fn from_dir(dir: PathBuf, temp: bool) -> Layer {
        Layer { dir, temp }
    }

    /// Hands the removal of an unpacked folder to the caller: the sandbox
    /// owning the layer may outlive `main` (a task keeps it), and a process
    /// ending with `exit` runs no destructors.
    pub fn take_cleanup(&mut self) -> Option<PathBuf> {
        std::mem::take(&mut self.temp).then(|| self.dir.clone())
    }

    /// The folder that stands in for `/opt`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The external extensions: executable files in `extensions/`, by name.
    pub fn extensions(&self) -> Vec<PathBuf> {
        extensions_in(&self.dir)
    }

    /// `/opt/bootstrap`, if the layer has one.
    pub fn bootstrap(&self) -> Option<PathBuf> {
        let p = self.dir.join("bootstrap");
        p.is_file().then_some(p)
    }

    /// Translates an `/opt/...` path (as written in Lambda settings such as
    /// `AWS_LAMBDA_EXEC_WRAPPER`) into this folder.
    pub fn translate(&self, path: &str) -> PathBuf {
        match path.strip_prefix("/opt/") {
            Some(rest) => self.dir.join(rest),
            None if path == "/opt" => self.dir.clone(),
            None => PathBuf::from(path),
        }
    }
}

/// Executable regular files in `dir/extensions`, sorted by file name.
pub fn extensions_in(dir: &Path) -> Vec<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let mut out: Vec<PathBuf> = fs::read_dir(dir.join("extensions"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
        .collect();
    out.sort();
    out
}

/// Unpacks `zip` into `dest`, keeping Unix modes and symlinks. Entries that
/// would land outside `dest` are refused.
pub fn unzip(zip: &Path, dest: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let file = fs::File::open(zip)?;
    let mut archive = zip::ZipArchive::new(file).map_err(io::Error::other)?;
    fs::create_dir_all(dest)?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(io::Error::other)?;
        let Some(rel) = entry.enclosed_name() else {
            return Err(io::Error::other(format!(
                "the entry {:?} points outside the archive",
                entry.name()
            )));
        };
        let out = dest.join(rel);
        let mode = entry.unix_mode();
        if entry.is_dir() {
            fs::create_dir_all(&out)?;
            continue;
        }
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent)?;
        }
        let is_symlink = mode.is_some_and(|m| m & 0o170000 == 0o120000);
        if is_symlink {
            let mut target = String::new();
            io::Read::read_to_string(&mut entry, &mut target)?;
            let _ = fs::remove_file(&out);
            std::os::unix::fs::symlink(target, &out)?;
            continue;
        }
        let mut f = fs::File::create(&out)?;
        io::copy(&mut entry, &mut f)?;
        if let Some(mode) = mode {
            fs::set_permissions(&out, fs::Permissions::from_mode(mode & 0o7777))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn zips_unpack_with_modes_and_symlinks() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = std::env::temp_dir().join(format!(
            "portside-local-unzip-{}",
            crate::util::random_hex(8)
        ));
        fs::create_dir_all(&tmp).expect("tmp");
        let zip_path = tmp.join("layer.zip");
        {
            let f = fs::File::create(&zip_path).expect("create");
            let mut w = zip::ZipWriter::new(f);
            let exec = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
            let plain = zip::write::SimpleFileOptions::default().unix_permissions(0o644);
            w.add_directory("extensions/", exec).expect("dir");
            w.start_file("extensions/ext", exec).expect("file");
            w.write_all(b"#!/bin/sh\n").expect("write");
            w.start_file("bootstrap", exec).expect("file");
            w.write_all(b"#!/bin/sh\n").expect("write");
            w.start_file("extensions/README", plain).expect("file");
            w.write_all(b"not an extension").expect("write");
            w.add_symlink("bin/tool", "../bootstrap", plain)
                .expect("symlink");
            w.finish().expect("finish");
        }
        let layer = Layer::open(&zip_path).expect("open");
        let dir = layer.dir().to_path_buf();
        assert_eq!(layer.extensions(), vec![dir.join("extensions/ext")]);
        assert!(layer.bootstrap().is_some());
        let mode = fs::metadata(dir.join("bootstrap"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(
            fs::read_link(dir.join("bin/tool")).expect("link"),
            PathBuf::from("../bootstrap")
        );
        assert_eq!(layer.translate("/opt/bootstrap"), dir.join("bootstrap"));
        assert_eq!(
            layer.translate("/usr/bin/env"),
            PathBuf::from("/usr/bin/env")
        );
        drop(layer);
        assert!(!dir.exists(), "the unpacked layer is removed");
        assert!(Layer::open(&tmp.join("missing.zip")).is_err());
        fs::write(tmp.join("bad.zip"), b"not a zip").expect("write");
        let err = Layer::open(&tmp.join("bad.zip")).expect_err("bad zip");
        assert!(err.contains("expected a zip file or a folder"), "{err}");
        let _ = fs::remove_dir_all(&tmp);
    }
}
