//! The reaper: a tiny `/bin/sh` process that outlives portside-local just
//! long enough to kill the function's process groups when portside-local
//! dies without stopping them (SIGKILL, a crash, an OOM kill).
//!
//! portside-local writes `+PGID` when it starts a function process (each one
//! leads its own process group, which its children inherit) and `-PGID` once
//! that group is gone. The reaper reads those lines from a pipe; the pipe's
//! write end belongs to portside-local alone (close-on-exec, so no function
//! process inherits it), so end of file means portside-local is gone,
//! whatever killed it. The reaper then sends SIGCONT and SIGKILL to every
//! group still listed and exits.
//!
//! One reaper serves the whole process (every sandbox and environment). It
//! ignores the terminal's signals and runs in its own process group, so a
//! Ctrl-C meant for portside-local does not end it early. It does not catch
//! processes that leave their group on purpose (`setsid`).

use std::io::Write;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

const SCRIPT: &str = r#"trap '' INT TERM HUP QUIT
groups=' '
while IFS= read -r line; do
  case $line in
    +[0-9]*) groups="$groups${line#+} " ;;
    -[0-9]*)
      gone=${line#-}
      rest=' '
      for g in $groups; do [ "$g" = "$gone" ] || rest="$rest$g "; done
      groups=$rest ;;
  esac
done
for g in $groups; do
  kill -s CONT -- "-$g" 2>/dev/null
  kill -s KILL -- "-$g" 2>/dev/null
done
"#;

static REAPER: OnceLock<Mutex<Option<ChildStdin>>> = OnceLock::new();

fn reaper() -> &'static Mutex<Option<ChildStdin>> {
    REAPER.get_or_init(|| {
        use std::os::unix::process::CommandExt;
        let spawned = Command::new("/bin/sh")
            .arg("-c")
            .arg(SCRIPT)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        match spawned {
            Ok(mut child) => Mutex::new(child.stdin.take()),
            Err(e) => {
                eprintln!(
                    "portside-local: cannot start the reaper (/bin/sh: {e}); if portside-local is killed with SIGKILL, the function's processes will outlive it"
                );
                Mutex::new(None)
            }
        }
    })
}

fn send(line: &str) {
    let mut guard = crate::util::lock(reaper());
    if let Some(stdin) = guard.as_mut() {
        if stdin.write_all(line.as_bytes()).is_err() {
            // The reaper is gone (killed by hand): nothing left to tell.
            *guard = None;
        }
    }
}

/// Asks the reaper to kill process group `pgid` if portside-local dies.
pub fn watch(pgid: i32) {
    if pgid > 1 {
        send(&format!("+{pgid}\n"));
    }
}

/// Tells the reaper that group `pgid` is gone (its id may be reused).
pub fn forget(pgid: i32) {
    if pgid > 1 {
        send(&format!("-{pgid}\n"));
    }
}
