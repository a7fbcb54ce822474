//! Starting the processes in Lambda's order (every extension registers
//! before the runtime starts; the app's port must be free), each in a
//! process group of its own, with its output copied and its exit watched:
//! a process that dies fails a pending init, or ends the running
//! invocations.
//!
//! It must not wait for init or decide what a failure means for the next
//! invocation: `init` and `invoke` do.

use super::procs::{self, Output, PipeWatch};
use super::{ports, reaper, report, Inner, Kind, Phase, Proc};
use crate::runtime_api::{FunctionError, InitState, ProcessExit};
use std::os::fd::AsRawFd;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

impl Inner {
    pub(super) async fn start(
        self: &Arc<Self>,
        init_timeout: Duration,
    ) -> Result<(), FunctionError> {
        if self.lock_life().phase != Phase::Down {
            return Ok(());
        }
        let extensions = self
            .layer
            .as_ref()
            .map(|l| l.extensions())
            .unwrap_or_default();
        self.api.reset_with_init_timeout(init_timeout);
        self.api.expect_extensions(extensions.len());
        self.lock_tail().clear();
        let fail = |e: String, error_type: &str| {
            let err = FunctionError::lambda(error_type, &e);
            self.api.fail_init(err.clone());
            err
        };
        // Something on the app's port would pass the new adapter's
        // readiness check in place of this function's app.
        if let Some((host, port)) = &self.app {
            if ports::accepts(host, *port) {
                return Err(fail(
                    report::port_taken(host, *port),
                    FunctionError::PORT_IN_USE,
                ));
            }
        }
        {
            let mut life = self.lock_life();
            life.phase = Phase::Running;
            life.cold = true;
        }
        let env = self.environment();
        for ext in &extensions {
            let name = ext
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| "extension".into());
            self.spawn(&name, Kind::Extension, &[ext.display().to_string()], &env)
                .map_err(|e| fail(e, "Runtime.InvalidEntrypoint"))?;
        }
        // Lambda starts the runtime once every extension has registered.
        if !extensions.is_empty() {
            let registered =
                tokio::time::timeout(init_timeout, self.api.wait_registered(extensions.len()));
            // Init cannot be ready before they all registered, so wait_init
            // returning here means init failed (a crash) or timed out.
            tokio::select! {
                r = registered => if r.is_err() { return Ok(()) },
                _ = self.api.wait_init() => return Ok(()),
                _ = self.stopped() => return Ok(()),
            }
        }
        let argv = self
            .runtime_command()
            .map_err(|e| fail(e, "Runtime.InvalidEntrypoint"))?;
        self.spawn("runtime", Kind::Runtime, &argv, &env)
            .map_err(|e| fail(e, "Runtime.InvalidEntrypoint"))?;
        Ok(())
    }

    pub(super) fn spawn(
        self: &Arc<Self>,
        name: &str,
        kind: Kind,
        argv: &[String],
        env: &[(String, String)],
    ) -> Result<(), String> {
        let mut cmd = procs::group_command(argv, env, &self.cfg.function_dir)?;
        let program = &argv[0];
        // The runtime's output is always read: its last lines explain a
        // failed init even with --quiet.
        let read_output = self.cfg.show_logs || kind == Kind::Runtime;
        if read_output {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        } else {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name} ({program}): {e}"))?;
        let pid = child.id().map(|p| p as i32).unwrap_or(0);
        reaper::watch(pid);
        let pipes = read_pipes(&mut child, self.output_for(name, kind));
        self.lock_life().list.push(Proc {
            name: name.to_string(),
            kind,
            pgid: pid,
            pipes,
        });
        self.watch_exit(child, name.to_string(), kind);
        Ok(())
    }

    /// Where a process's output lines go, under which prefix.
    fn output_for(&self, name: &str, kind: Kind) -> Arc<Output> {
        Arc::new(Output {
            own_prefix: format!("[{name}]"),
            // Under a log prefix the environment's number is in the prefix.
            shown_prefix: match (&self.cfg.log_prefix, self.cfg.environment) {
                (None, Some(n)) => format!("[{name}#{n}]"),
                _ => self.cfg.prefixed(&format!("[{name}]")),
            },
            show: self.cfg.show_logs,
            tail: (kind == Kind::Runtime).then(|| Arc::clone(&self.tail)),
        })
    }

    /// Watches for the process dying: during init that fails init, during
    /// an invocation it ends it, and either way the next one re-inits.
    fn watch_exit(self: &Arc<Self>, mut child: tokio::process::Child, name: String, kind: Kind) {
        let this = Arc::clone(self);
        let generation = self.api.generation();
        tokio::spawn(async move {
            let status = child.wait().await;
            // Only the first exit of a running environment is a failure:
            // from a teardown (or an earlier death) on, exits are expected.
            let current = this.api.generation() == generation;
            {
                let mut life = this.lock_life();
                if !current || !life.phase.is_up() {
                    return;
                }
                let frozen = life.phase == Phase::Frozen;
                life.phase = Phase::Broken { frozen };
            }
            let how = match status {
                Ok(s) => procs::describe_exit(s),
                Err(e) => e.to_string(),
            };
            let err = FunctionError::process_exited(ProcessExit {
                extension: (kind == Kind::Extension).then_some(name),
                how,
            });
            this.died.notify_waiters();
            if this.api.init_state() == InitState::Pending {
                this.api.fail_init(err);
            } else {
                this.api.abort_inflight(err);
            }
        });
    }
}

/// Copies a started process's stdout and stderr (when piped) line by line
/// to `output`: the watches teardown waits on.
fn read_pipes(child: &mut tokio::process::Child, output: Arc<Output>) -> Vec<Arc<PipeWatch>> {
    let mut pipes = Vec::new();
    if let Some(out) = child.stdout.take() {
        let watch = PipeWatch::new(out.as_raw_fd());
        pipes.push(Arc::clone(&watch));
        tokio::spawn(procs::copy_lines(Arc::clone(&output), out, watch));
    }
    if let Some(err) = child.stderr.take() {
        let watch = PipeWatch::new(err.as_raw_fd());
        pipes.push(Arc::clone(&watch));
        tokio::spawn(procs::copy_lines(output, err, watch));
    }
    pipes
}
