//! The local AWS stand-in: a moto server on a free loopback port, started
//! for the plan (Terraform's AWS provider asks it for the account and reads
//! data sources from it) and kept for the stack's buckets, queues and
//! tables. `moto_server` is taken from PATH (the project's `.venv` has it:
//! requirements-dev.txt), else `python3 -m moto.server`. Its process group
//! is handed to the reaper, so it dies with portside-local even on SIGKILL.
//!
//! Owns: the moto process.
//! Must not: create resources (`provision` does).

use super::aws::Aws;
use crate::sandbox::{ports, procs, reaper};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    pgid: i32,
    child: std::process::Child,
    /// Its endpoint, `http://127.0.0.1:PORT`.
    pub endpoint: String,
    log: std::path::PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        procs::signal_group(self.pgid, libc::SIGKILL);
        reaper::forget(self.pgid);
    }
}

fn on_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_string_lossy()
        .split(':')
        .map(|d| std::path::Path::new(d).join(name))
        .find(|p| p.is_file())
}

impl Moto {
    /// Starts moto on `port` (a free one when it is 0 or taken) and waits
    /// (at most 60 s) until it answers; its output goes to `log`.
    pub async fn start(port: u16, log: std::path::PathBuf) -> Result<Moto, String> {
        let port = match port {
            0 => ports::free_port()?,
            p if std::net::TcpListener::bind(("127.0.0.1", p)).is_err() => ports::free_port()?,
            p => p,
        };
        let mut cmd = match on_path("moto_server") {
            Some(exe) => Command::new(exe),
            None => {
                let mut c = Command::new("python3");
                c.args(["-m", "moto.server"]);
                c
            }
        };
        let out = std::fs::File::create(&log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start moto_server: {e}"))?;
        let pgid = child.id() as i32;
        reaper::watch(pgid);
        let mut moto = Moto {
            pgid,
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        };
        let aws = Aws {
            endpoint: moto.endpoint.clone(),
            region: "us-east-1".into(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if aws.answers().await {
                return Ok(moto);
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                let text = std::fs::read_to_string(&moto.log).unwrap_or_default();
                let hint = if text.contains("No module named") {
                    "moto is not installed: pip install 'moto[server]' (the project's requirements-dev.txt has it: . scripts/python-env.sh), or set AWS_ENDPOINT_URL to your own AWS emulator"
                } else {
                    "see its output above"
                };
                let tail: Vec<&str> = text.lines().rev().take(10).collect();
                return Err(format!(
                    "the moto server exited ({status}): {hint}\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the moto server did not answer on {} within 60 s (its output: {})",
                    moto.endpoint,
                    moto.log.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops it (SIGTERM, then SIGKILL after a second).
    pub async fn stop(mut self) {
        procs::signal_group(self.pgid, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(1);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        procs::signal_group(self.pgid, libc::SIGKILL);
        let _ = self.child.wait();
        reaper::forget(self.pgid);
        // Reaped: its group id may be reused, so Drop must not signal it.
        self.pgid = 0;
    }
}
