//! A running `portside-local` binary for tests: its front door address, its
//! stderr (captured in a file, so tests can read what it told the user), its
//! process tree, and stopping it with a signal while timing the stop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The portside adapter built next to portside-local (the short form runs
/// it). Fails loudly when it is missing: a test that needs it must not pass
/// without it.
pub fn adapter_binary() -> PathBuf {
    let adapter = Path::new(env!("CARGO_BIN_EXE_portside-local")).with_file_name("portside");
    assert!(
        adapter.is_file(),
        "{} is missing: build the adapter first with `cargo build -p portside` (cargo test --workspace builds it too)",
        adapter.display()
    );
    adapter
}

/// The portside layer as a folder in `dir` (`dir/layer`), as build.sh lays
/// it out: the built adapter as `extensions/portside` and the repository's
/// shim as `bootstrap` (both linked). For `--function DIR --layer LAYER`;
/// a test may add extensions of its own to `extensions/`.
pub fn portside_layer(dir: &Path) -> PathBuf {
    let layer = dir.join("layer");
    std::fs::create_dir_all(layer.join("extensions")).expect("mkdir layer");
    std::os::unix::fs::symlink(adapter_binary(), layer.join("extensions/portside"))
        .expect("link the adapter");
    std::os::unix::fs::symlink(
        super::repo_root().join("shim/bootstrap"),
        layer.join("bootstrap"),
    )
    .expect("link the shim");
    layer
}

/// A port nothing listens on now, for a process to listen on shortly after
/// (below the kernel's ephemeral range: see `ports::free_port`).
pub fn free_port() -> u16 {
    portside_local::sandbox::ports::free_port().expect("a free port")
}

/// One `portside-local` run.
pub struct Local {
    pub child: Child,
    /// `127.0.0.1:PORT` of the front door (`None` if it never printed one).
    pub addr: Option<String>,
    /// Everything it printed on stdout until the address line.
    pub stdout: String,
    stderr_path: PathBuf,
    _dir: super::TempDir,
}

/// What to run.
pub struct Launch<'a> {
    /// Another copy of portside-local to run (default: the one cargo built).
    pub program: Option<&'a Path>,
    pub args: Vec<String>,
    pub cwd: Option<&'a Path>,
    pub env: Vec<(String, String)>,
}

impl<'a> Launch<'a> {
    pub fn new(args: &[&str]) -> Launch<'a> {
        Launch {
            program: None,
            args: args.iter().map(|a| a.to_string()).collect(),
            cwd: None,
            env: Vec::new(),
        }
    }
    pub fn program(mut self, program: &'a Path) -> Self {
        self.program = Some(program);
        self
    }
    pub fn cwd(mut self, dir: &'a Path) -> Self {
        self.cwd = Some(dir);
        self
    }
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }
}

impl Local {
    /// Starts it and waits for the line naming its front door (it prints it
    /// whether init succeeded or failed), or for it to exit.
    pub fn start(launch: Launch<'_>) -> Local {
        let dir = super::TempDir::new("local-stderr");
        let stderr_path = dir.path().join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let program = launch
            .program
            .unwrap_or(Path::new(env!("CARGO_BIN_EXE_portside-local")));
        let mut cmd = Command::new(program);
        // Options first: everything after `--` is the app's command; a
        // subcommand (`web`) comes before them all.
        let (sub, rest) = match launch.args.first().map(String::as_str) {
            Some("web") => (&launch.args[..1], &launch.args[1..]),
            _ => (&launch.args[..0], &launch.args[..]),
        };
        cmd.args(sub)
            .args(["--port", "0"])
            .args(rest)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        if let Some(cwd) = launch.cwd {
            cmd.current_dir(cwd);
        }
        for (k, v) in &launch.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn portside-local");
        let out = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(out).lines();
        let mut stdout = String::new();
        let mut addr = None;
        for line in lines.by_ref() {
            let line = line.expect("read stdout");
            stdout.push_str(&line);
            stdout.push('\n');
            if line.contains(" is up at ") || line.contains(" front door at ") {
                addr = line
                    .split("http://")
                    .nth(1)
                    .and_then(|rest| rest.split('/').next())
                    .map(str::to_string);
                break;
            }
        }
        // Keep draining stdout so the child never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        Local {
            child,
            addr,
            stdout,
            stderr_path,
            _dir: dir,
        }
    }

    /// The front door, which must have been printed.
    pub fn addr(&self) -> &str {
        self.addr.as_deref().unwrap_or_else(|| {
            panic!(
                "portside-local printed no front door address\nstdout:\n{}\nstderr:\n{}",
                self.stdout,
                self.stderr()
            )
        })
    }

    /// What it wrote on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Waits until stderr contains `needle`.
    pub fn wait_for_stderr(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.stderr();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "stderr never contained {needle:?}:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends `signal` without waiting.
    pub fn signal(&self, signal: i32) {
        // SAFETY: signalling our own child process.
        unsafe {
            libc::kill(self.pid(), signal);
        }
    }

    /// Waits for the exit (after [`Local::signal`]): its exit code.
    pub fn wait(&mut self) -> Option<i32> {
        self.child.wait().expect("wait").code()
    }

    /// Sends `signal` and waits for the exit: how long it took, and the
    /// exit code.
    pub fn stop_with(&mut self, signal: i32) -> (Duration, Option<i32>) {
        let started = Instant::now();
        // SAFETY: signalling our own child process.
        unsafe {
            libc::kill(self.pid(), signal);
        }
        let status = self.child.wait().expect("wait");
        (started.elapsed(), status.code())
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: signalling our own child process.
            unsafe {
                libc::kill(self.pid(), libc::SIGTERM);
            }
            let _ = self.child.wait();
        }
    }
}

/// Every process below `pid` (by parent links in /proc): (pid, pgid).
pub fn descendants(pid: i32) -> Vec<(i32, i32)> {
    let mut table = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        if fields.len() < 3 || fields[0] == "Z" {
            continue;
        }
        let ppid: i32 = fields[1].parse().unwrap_or(0);
        let pgid: i32 = fields[2].parse().unwrap_or(0);
        table.push((p, ppid, pgid));
    }
    let mut found = Vec::new();
    let mut todo = vec![pid];
    while let Some(parent) = todo.pop() {
        for (p, pp, pg) in &table {
            if *pp == parent {
                found.push((*p, *pg));
                todo.push(*p);
            }
        }
    }
    found
}

/// Whether process `pid` is alive (not a zombie).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|c| stat[c + 2..].chars().next())
            .is_some_and(|state| state != 'Z' && state != 'X'),
        Err(_) => false,
    }
}
