//! portside-local installed without a checkout, as the Python wheel lays it
//! out (`bin/portside-local`, `share/portside/portside-layer-ARCH.zip`) or
//! alone: `layer-path` prints the installed zip, the short form runs the
//! adapter from that zip (not one from a target folder), `--version` names
//! the version, and without any adapter the error says how to get one.

mod common;

use common::local::{adapter_binary, descendants, free_port, Launch, Local};
use common::{get, repo_root, TempDir};
use portside_local::cli::installed::host_arch;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A prefix holding a copy of portside-local in bin/ and, when `with_zip`,
/// a layer zip for this machine in share/portside/ made of the built
/// adapter and the repository's shim, as build.sh zips them.
fn install(tag: &str, with_zip: bool) -> (TempDir, PathBuf) {
    let root = TempDir::new(tag);
    let bin = root.path().join("bin/portside-local");
    std::fs::create_dir_all(bin.parent().unwrap()).expect("mkdir bin");
    std::fs::copy(env!("CARGO_BIN_EXE_portside-local"), &bin).expect("copy portside-local");
    if with_zip {
        let share = root.path().join("share/portside");
        std::fs::create_dir_all(&share).expect("mkdir share");
        let file = std::fs::File::create(share.join(format!("portside-layer-{}.zip", host_arch())))
            .expect("create zip");
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        for (name, path) in [
            ("extensions/portside", adapter_binary()),
            ("bootstrap", repo_root().join("shim/bootstrap")),
        ] {
            zip.start_file(name, options).expect("zip entry");
            zip.write_all(&std::fs::read(path).expect("read"))
                .expect("zip write");
        }
        zip.finish().expect("finish zip");
    }
    (root, bin)
}

fn run(program: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .expect("run portside-local");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

#[test]
fn layer_path_prints_the_installed_zip_and_names_a_missing_one() {
    let (root, bin) = install("layer-path", true);
    let zip = root
        .path()
        .join(format!("share/portside/portside-layer-{}.zip", host_arch()));
    let (code, out, err) = run(&bin, &["layer-path"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim_end(),
        zip.canonicalize().unwrap().display().to_string()
    );
    let other = if host_arch() == "arm64" {
        "x86_64"
    } else {
        "arm64"
    };
    let (code, out, err) = run(&bin, &["layer-path", "--arch", other]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(err.contains(&format!("no {other} layer zip")), "{err}");
    let (code, _, err) = run(&bin, &["layer-path", "--arch", "sparc"]);
    assert_eq!(code, 2);
    assert!(err.contains("use x86_64 or arm64"), "{err}");
}

#[test]
fn version_names_the_crate_version() {
    let (code, out, _) = run(
        Path::new(env!("CARGO_BIN_EXE_portside-local")),
        &["--version"],
    );
    assert_eq!(code, 0);
    let want = format!("portside-local {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(out.starts_with(&want), "{out}");
}

#[tokio::test]
async fn the_short_form_runs_the_adapter_from_the_installed_zip() {
    let (_root, bin) = install("short-form", true);
    let app = TempDir::new("installed-app");
    std::fs::write(
        app.path().join("index.html"),
        "served from an installed portside-local",
    )
    .expect("write");
    let port = format!("PORT={}", free_port());
    let local = Local::start(
        Launch::new(&[
            "--env",
            &port,
            "--",
            "sh",
            "-c",
            "exec python3 -m http.server --bind 127.0.0.1 $PORT",
        ])
        .program(&bin)
        .cwd(app.path()),
    );
    let reply = get(local.addr(), "/index.html", &[]).await;
    assert_eq!(reply.status, 200, "{}", local.stderr());
    assert_eq!(reply.text(), "served from an installed portside-local");
    // The extension that served it is the adapter unpacked from the zip.
    let exes: Vec<PathBuf> = descendants(local.pid())
        .into_iter()
        .filter_map(|(pid, _)| std::fs::read_link(format!("/proc/{pid}/exe")).ok())
        .collect();
    assert!(
        exes.iter().any(|exe| exe.ends_with("extensions/portside")
            && exe.to_string_lossy().contains("portside-local-layer-")),
        "no adapter from the unpacked zip among {exes:?}"
    );
}

#[test]
fn without_an_adapter_the_short_form_says_how_to_get_one() {
    let (_root, bin) = install("no-adapter", false);
    let (code, _, err) = run(&bin, &["--", "python3", "app.py"]);
    assert_eq!(code, 1, "{err}");
    for needle in [
        "pip install portside",
        "cargo install --path layer",
        "--adapter PATH",
    ] {
        assert!(err.contains(needle), "{needle} missing from: {err}");
    }
    let (code, _, err) = run(&bin, &["layer-path"]);
    assert_eq!(code, 1);
    assert!(err.contains("pip install portside"), "{err}");
}
