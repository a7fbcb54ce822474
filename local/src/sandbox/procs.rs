//! The function's processes at the operating-system level: the command
//! that starts one in a process group of its own, process groups and
//! signals, what `/proc` says about them (stopped, alive, their peak
//! memory), how a process ended, and the copy of their output to stderr
//! (with the last lines of the runtime's output kept for error reports). No
//! lifecycle decisions here.

use std::collections::VecDeque;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader, ReadBuf};

/// How many lines of the runtime's output an init failure report quotes.
pub const TAIL_LINES: usize = 12;
/// Longest quoted line (longer ones are cut, with an ellipsis).
const TAIL_LINE_CHARS: usize = 400;

/// The last lines a process wrote (stdout and stderr interleaved).
pub type Tail = Arc<Mutex<VecDeque<String>>>;

/// Sends `signal` to every process of group `pgid`.
pub fn signal_group(pgid: i32, signal: i32) {
    if pgid > 1 {
        // SAFETY: kill(2) with a negative pid signals a process group we
        // created; it has no memory-safety preconditions.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

/// The command for one function process: only `env` in its environment,
/// run in `dir` with stdin closed, leading a process group of its own (so a
/// signal to the group reaches its children too), never killed on drop, and
/// with SIGINT and SIGQUIT back to their defaults. The sandbox and
/// `portside-local web` start their processes with it.
pub fn group_command(
    argv: &[String],
    env: &[(String, String)],
    dir: &std::path::Path,
) -> Result<tokio::process::Command, String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("empty command".into());
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .process_group(0)
        .kill_on_drop(false);
    // SAFETY: the closure runs in the child between fork and exec and only
    // calls signal(2), which is async-signal-safe. It undoes a shell's
    // SIG_IGN for SIGINT/SIGQUIT (a backgrounded portside-local, as serve.sh
    // runs it, inherits them), so the function's processes get default
    // dispositions as on Lambda.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGQUIT, libc::SIG_DFL);
            Ok(())
        });
    }
    Ok(cmd)
}

/// One process's state letter and group, from `/proc/PID/stat`.
fn stat_of(pid: i32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name: state, ppid, pgrp, ...
    let close = stat.rfind(')')?;
    let mut fields = stat[close + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let pgrp = fields.nth(1)?.parse().ok()?;
    Some((state, pgrp))
}

/// Calls `f(pid, state, pgrp)` for every process in `/proc`; stops when it
/// returns false. False when `/proc` cannot be read.
fn for_each_process(mut f: impl FnMut(i32, char, i32) -> bool) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        if let Some((state, pgrp)) = stat_of(pid) {
            if !f(pid, state, pgrp) {
                break;
            }
        }
    }
    true
}

/// The live processes of `groups`.
pub fn group_members(groups: &[i32]) -> Vec<i32> {
    let mut pids = Vec::new();
    for_each_process(|pid, state, pgrp| {
        if groups.contains(&pgrp) && !matches!(state, 'Z' | 'X') {
            pids.push(pid);
        }
        true
    });
    pids
}

/// Whether every process in `groups` is stopped (or dead).
pub fn all_stopped(groups: &[i32]) -> bool {
    let mut stopped = true;
    for_each_process(|_, state, pgrp| {
        if groups.contains(&pgrp) && !matches!(state, 'T' | 't' | 'Z' | 'X') {
            stopped = false;
        }
        stopped
    });
    stopped
}

/// Whether any process of `groups` is still alive (zombies, which only wait
/// to be reaped, do not count).
pub fn any_alive(groups: &[i32]) -> bool {
    if groups.is_empty() {
        return false;
    }
    let mut alive = false;
    let read = for_each_process(|_, state, pgrp| {
        if groups.contains(&pgrp) && !matches!(state, 'Z' | 'X') {
            alive = true;
        }
        !alive
    });
    if !read {
        // No /proc: ask the kernel (zombies count here).
        // SAFETY: signal 0 only checks for existence.
        return groups
            .iter()
            .any(|g| *g > 1 && unsafe { libc::kill(-*g, 0) } == 0);
    }
    alive
}

/// The memory the processes of `groups` have used at most, in KiB: the sum
/// of each live process's peak resident set (`VmHWM` in
/// `/proc/PID/status`). Processes that already exited are not counted, and
/// peaks reached at different moments add up, so it is the peak of the
/// processes alive now, each at its own worst. 0 without `/proc`.
pub fn peak_rss_kib(groups: &[i32]) -> u64 {
    let mut total = 0;
    for_each_process(|pid, state, pgrp| {
        if groups.contains(&pgrp) && !matches!(state, 'Z' | 'X') {
            total += vm_hwm_kib(pid).unwrap_or(0);
        }
        true
    });
    total
}

/// `VmHWM` of one process, in KiB.
fn vm_hwm_kib(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut fields = line["VmHWM:".len()..].split_whitespace();
    let value: u64 = fields.next()?.parse().ok()?;
    // The kernel always writes kB; anything else is not understood.
    (fields.next() == Some("kB")).then_some(value)
}

/// `exit status 3`, `signal 9 (SIGKILL)`.
pub fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => match signal_name(sig) {
            Some(name) => format!("signal {sig} ({name})"),
            None => format!("signal {sig}"),
        },
        _ => status.to_string(),
    }
}

fn signal_name(sig: i32) -> Option<&'static str> {
    Some(match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGBUS => "SIGBUS",
        _ => return None,
    })
}

/// Where a process's output goes.
pub struct Output {
    /// `[name]`: the prefix the process may already write itself.
    pub own_prefix: String,
    /// What the copy is prefixed with (`[name]` or `[name#2]`).
    pub shown_prefix: String,
    /// Copy to stderr.
    pub show: bool,
    /// Keep the last lines here.
    pub tail: Option<Tail>,
}

/// One output pipe being copied, and whether everything written to it so
/// far has been copied: so that Lambda's END line comes after the lines the
/// function wrote during the invocation, as on Lambda.
#[derive(Debug)]
pub struct PipeWatch {
    fd: RawFd,
    /// Bytes were read from the pipe that are not all copied yet.
    busy: AtomicBool,
    /// The copy still runs (the pipe's read end is open).
    open: AtomicBool,
}

impl PipeWatch {
    /// Watches the pipe whose read end is `fd` (owned by the copy).
    pub fn new(fd: RawFd) -> Arc<PipeWatch> {
        Arc::new(PipeWatch {
            fd,
            busy: AtomicBool::new(false),
            open: AtomicBool::new(true),
        })
    }

    /// Whether every byte written so far has been copied: nothing waits
    /// in the pipe and nothing read from it is still being handled (a line
    /// without its newline yet counts as not copied).
    pub fn drained(&self) -> bool {
        if !self.open.load(Ordering::SeqCst) {
            return true;
        }
        !self.busy.load(Ordering::SeqCst) && unread_bytes(self.fd) == 0
    }
}

/// How many bytes wait in the pipe `fd` (0 when it cannot be told).
fn unread_bytes(fd: RawFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the pointer, which points to
    // a live local; on a descriptor it does not apply to, it fails and
    // writes nothing.
    let r = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    if r == 0 {
        usize::try_from(n).unwrap_or(0)
    } else {
        0
    }
}

/// A reader that marks its [`PipeWatch`] busy whenever it hands out bytes.
struct Watched<R> {
    inner: R,
    watch: Arc<PipeWatch>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Watched<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.watch.busy.store(true, Ordering::SeqCst);
        }
        polled
    }
}

/// Copies `reader` line by line to stderr (and the tail) until it closes,
/// keeping `watch` up to date.
pub async fn copy_lines(out: Arc<Output>, reader: impl AsyncRead + Unpin, watch: Arc<PipeWatch>) {
    for_each_line(reader, watch, |line| copy_line(&out, line)).await;
}

/// Hands `reader`'s lines to `each` until it closes, keeping `watch` up to
/// date: a line counts as copied once `each` returned.
pub async fn for_each_line(
    reader: impl AsyncRead + Unpin,
    watch: Arc<PipeWatch>,
    mut each: impl FnMut(String),
) {
    let mut reader = BufReader::new(Watched {
        inner: reader,
        watch: Arc::clone(&watch),
    });
    let mut line = Vec::new();
    // Bytes, not `lines()`: a line that is not UTF-8 must not stop the
    // copy (the process would then block on a full pipe).
    while let Ok(n) = reader.read_until(b'\n', &mut line).await {
        if n == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        each(String::from_utf8_lossy(&line).into_owned());
        line.clear();
        if reader.buffer().is_empty() {
            watch.busy.store(false, Ordering::SeqCst);
        }
    }
    watch.open.store(false, Ordering::SeqCst);
}

/// One line to the tail and, when shown, to stderr.
fn copy_line(out: &Output, line: String) {
    if let Some(tail) = &out.tail {
        let mut t = crate::util::lock(tail);
        if t.len() == TAIL_LINES {
            t.pop_front();
        }
        t.push_back(shorten(&line));
    }
    if !out.show {
        return;
    }
    // A process that already names itself (portside's "[portside] ...") is
    // not named twice.
    match line.strip_prefix(&out.own_prefix) {
        Some(rest) => eprintln!("{}{rest}", out.shown_prefix),
        None => eprintln!("{} {line}", out.shown_prefix),
    }
}

fn shorten(line: &str) -> String {
    if line.chars().count() <= TAIL_LINE_CHARS {
        return line.to_string();
    }
    let mut s: String = line.chars().take(TAIL_LINE_CHARS).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits (at most 5 s) until `cond` holds.
    async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !cond() {
            assert!(std::time::Instant::now() < deadline, "never: {what}");
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }

    #[tokio::test]
    async fn a_pipe_is_drained_once_every_line_written_is_copied() {
        use std::os::fd::AsRawFd;
        use tokio::io::AsyncWriteExt;
        // A socket pair stands in for the pipe: FIONREAD counts what waits
        // in either.
        let (mut writer, reader) = tokio::net::UnixStream::pair().expect("socket pair");
        let watch = PipeWatch::new(reader.as_raw_fd());
        assert!(watch.drained(), "nothing written yet");
        writer.write_all(b"one\ntwo\n").await.expect("write");
        assert!(!watch.drained(), "bytes wait unread");
        let tail: Tail = Arc::new(Mutex::new(VecDeque::new()));
        let out = Arc::new(Output {
            own_prefix: "[test]".into(),
            shown_prefix: "[test]".into(),
            show: false,
            tail: Some(Arc::clone(&tail)),
        });
        let copy = tokio::spawn(copy_lines(out, reader, Arc::clone(&watch)));
        eventually("both lines copied", || crate::util::lock(&tail).len() == 2).await;
        eventually("drained after the copy", || watch.drained()).await;
        // A line that is not UTF-8 is copied too (with replacement
        // characters), and the copy goes on after it.
        writer
            .write_all(b"bad \xff\xfe byte\r\nnext\n")
            .await
            .expect("write");
        eventually("both copied", || crate::util::lock(&tail).len() == 4).await;
        // A line without its newline is read but not copied: not drained.
        writer.write_all(b"three").await.expect("write");
        eventually("the partial line read", || unread_bytes(watch.fd) == 0).await;
        assert!(!watch.drained(), "a partial line is not copied yet");
        drop(writer);
        copy.await.expect("copy ends at EOF");
        assert!(watch.drained(), "a closed pipe has nothing left");
        assert_eq!(
            crate::util::lock(&tail).iter().cloned().collect::<Vec<_>>(),
            ["one", "two", "bad \u{fffd}\u{fffd} byte", "next", "three"]
        );
    }

    #[test]
    fn exits_are_described_by_code_or_signal() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            describe_exit(std::process::ExitStatus::from_raw(3 << 8)),
            "exit status 3"
        );
        assert_eq!(
            describe_exit(std::process::ExitStatus::from_raw(9)),
            "signal 9 (SIGKILL)"
        );
    }

    #[test]
    fn long_lines_are_cut() {
        let long = "x".repeat(1000);
        let short = shorten(&long);
        assert_eq!(short.chars().count(), TAIL_LINE_CHARS + 1);
        assert!(short.ends_with('…'));
        assert_eq!(shorten("ok"), "ok");
    }
}
