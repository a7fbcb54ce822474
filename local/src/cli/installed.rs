//! What portside-local finds without a checkout: its version, the adapter,
//! the layer zips installed with it, and the shim it carries.
//!
//! Owns: the install layouts, looked up from the executable's own folder
//! (`DIR`): `DIR/portside` (a cargo target folder, or `cargo install` of
//! both crates into one root); `DIR/../share/portside/portside-layer-ARCH.zip`
//! (the Python wheel, `pip install portside`); `DIR/portside-layer-ARCH.zip`
//! (the release files side by side, as in `dist/`). Also `--version` and
//! `layer-path`, and the embedded copy of `shim/bootstrap`.
//!
//! Must not: build or download anything, or start processes.

use std::path::{Path, PathBuf};

/// The crate's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The commit this binary was built from: `build.sh` and the wheel build
/// set `PORTSIDE_COMMIT`; other builds say `unknown`.
pub const COMMIT: &str = match option_env!("PORTSIDE_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};

/// The exec wrapper (`shim/bootstrap`, through the `local/bootstrap`
/// symlink so the published crate carries it), for layers assembled here.
pub const SHIM: &str = include_str!("../../bootstrap");

/// What `--version` prints after the name: `0.1.0 (commit abc1234)`.
pub fn version_number() -> String {
    format!("{VERSION} (commit {COMMIT})")
}

/// Where the short form's adapter comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Adapter {
    /// A `portside` binary, put in a layer with the shim.
    Binary(PathBuf),
    /// A whole layer zip (adapter and shim), as installed with the wheel.
    LayerZip(PathBuf),
}

/// The layer architecture of this machine (Lambda's names).
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "arm64",
        _ => "x86_64",
    }
}

fn exe_dir() -> Result<PathBuf, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot locate portside-local itself: {e}"))?;
    Ok(exe.parent().unwrap_or(Path::new(".")).to_path_buf())
}

/// The layer zip for `arch` installed beside the executable in `dir`, if any.
pub fn bundled_layer(dir: &Path, arch: &str) -> Option<PathBuf> {
    let name = format!("portside-layer-{arch}.zip");
    [dir.join("../share/portside").join(&name), dir.join(&name)]
        .into_iter()
        .find(|p| p.is_file())
}

/// Where the portside adapter is for the short form: `--adapter`, else
/// `portside` beside this executable, else an installed layer zip.
pub fn find_adapter(explicit: Option<&Path>) -> Result<Adapter, String> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(Adapter::Binary(p.to_path_buf()))
        } else {
            Err(format!("--adapter {} does not exist", p.display()))
        };
    }
    let dir = exe_dir()?;
    let beside = dir.join("portside");
    if beside.is_file() {
        return Ok(Adapter::Binary(beside));
    }
    if let Some(zip) = bundled_layer(&dir, host_arch()) {
        return Ok(Adapter::LayerZip(zip));
    }
    Err(format!(
        "no portside adapter found: expected {} or a layer zip in {}. Install both with \
         `pip install portside`, put a release's portside-layer-{}.zip beside portside-local, \
         build the adapter in a checkout (`cargo build -p portside`, or `cargo install --path \
         layer` beside a `cargo install --path local`), or pass --adapter PATH",
        beside.display(),
        dir.join("../share/portside").display(),
        host_arch()
    ))
}

/// `portside-local layer-path [--arch x86_64|arm64]`: prints the installed
/// layer zip's path for `arch` (for `terraform/modules/layer`'s
/// `zip_path`); the exit code.
pub fn layer_path(arch: &str) -> i32 {
    let found = exe_dir().map(|dir| (bundled_layer(&dir, arch), dir));
    match found {
        Ok((Some(zip), _)) => {
            let zip = zip.canonicalize().unwrap_or(zip);
            println!("{}", zip.display());
            0
        }
        Ok((None, dir)) => {
            eprintln!(
                "portside-local: no {arch} layer zip is installed with this portside-local \
                 (looked in {} and {}); the Python wheel (`pip install portside`) carries both, \
                 and `./build.sh` in a checkout writes them to dist/",
                dir.join("../share/portside").display(),
                dir.display()
            );
            1
        }
        Err(e) => {
            eprintln!("portside-local: {e}");
            1
        }
    }
}
