//! The layer's other half: `shim/bootstrap`, the exec wrapper a managed
//! runtime runs instead of its own client. Run for real, under the system's
//! /bin/sh and under bash (Amazon Linux's /bin/sh).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shim() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shim/bootstrap")
}

struct Task(PathBuf);

impl Task {
    fn new(name: &str) -> Task {
        let dir = std::env::temp_dir().join(format!("portside-shim-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Task(dir)
    }

    fn script(&self, name: &str, text: &str, mode: u32) -> &Task {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        self
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the shim as Lambda's Python runtime would, with its own command line
/// as arguments, under `shell`.
fn run(shell: Option<&str>, root: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = match shell {
        Some(shell) => {
            let mut c = Command::new(shell);
            c.arg(shim());
            c
        }
        None => Command::new(shim()),
    };
    command
        .args(["/var/lang/bin/python3.12", "/var/runtime/bootstrap.py"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("LAMBDA_TASK_ROOT", root)
        .envs(env.iter().copied())
        .current_dir("/")
        .output()
        .unwrap()
}

const REPORT: &str = "echo \"port=$PORT cwd=$(pwd) args=$#\"\n";

#[test]
fn runs_the_handler_in_the_task_root_with_port_exported() {
    let task = Task::new("basic");
    task.script("run.sh", &format!("#!/bin/sh\n{REPORT}"), 0o755);
    for shell in [None, Some("bash")] {
        let out = run(shell, &task.0, &[("_HANDLER", "run.sh")]);
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            stdout.trim(),
            format!("port=8080 cwd={} args=0", task.0.display()),
            "{shell:?}"
        );
    }
}

#[test]
fn port_follows_the_adapters_setting_and_an_existing_port_is_kept() {
    let task = Task::new("port");
    task.script("run.sh", &format!("#!/bin/sh\n{REPORT}"), 0o755);
    let out = run(
        None,
        &task.0,
        &[("_HANDLER", "run.sh"), ("AWS_LWA_PORT", "3000")],
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("port=3000 "));
    let out = run(
        None,
        &task.0,
        &[
            ("_HANDLER", "run.sh"),
            ("PORTSIDE_PORT", "4000"),
            ("AWS_LWA_PORT", "3000"),
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("port=4000 "));
    let out = run(
        None,
        &task.0,
        &[
            ("_HANDLER", "run.sh"),
            ("PORT", "8000"),
            ("PORTSIDE_PORT", "4000"),
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("port=8000 "));
}

#[test]
fn a_handler_that_lost_its_execute_bit_still_runs() {
    let task = Task::new("noexec");
    task.script("run.sh", &format!("#!/bin/sh\n{REPORT}"), 0o644);
    task.script("plain.sh", REPORT, 0o644);
    task.script(
        "app.py",
        "#!/usr/bin/env python3\nimport os\nprint('python port=' + os.environ['PORT'])\n",
        0o644,
    );
    for (handler, want) in [
        ("run.sh", "port=8080"),
        ("plain.sh", "port=8080"),
        ("app.py", "python port=8080"),
    ] {
        for shell in [None, Some("bash")] {
            let out = run(shell, &task.0, &[("_HANDLER", handler)]);
            assert!(out.status.success(), "{handler}: {out:?}");
            assert!(
                String::from_utf8_lossy(&out.stdout).starts_with(want),
                "{handler}: {out:?}"
            );
        }
    }
}

#[test]
fn the_handlers_exit_status_is_the_runtimes() {
    let task = Task::new("exit");
    task.script("run.sh", "#!/bin/sh\nexit 3\n", 0o755);
    assert_eq!(
        run(None, &task.0, &[("_HANDLER", "run.sh")]).status.code(),
        Some(3)
    );
}

#[test]
fn a_missing_handler_fails_with_a_message_that_says_what_to_fix() {
    let task = Task::new("missing");
    let out = run(None, &task.0, &[("_HANDLER", "start.sh")]);
    assert_eq!(out.status.code(), Some(127));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'start.sh'") && stderr.contains(&task.0.display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("run.sh"), "{stderr}");

    let out = run(None, &task.0, &[]);
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("_HANDLER is not set"));
}

/// A stand-in for another layer's exec wrapper (OpenTelemetry's
/// /opt/otel-instrument works this way): it sets up the environment, then
/// runs the command it was given.
const WRAPPER: &str = "#!/bin/sh\nexport INSTRUMENTED=\"by-wrapper args=$#\"\nexec \"$@\"\n";

#[test]
fn another_layers_exec_wrapper_runs_the_handler_under_it() {
    let task = Task::new("wrapper");
    task.script("otel-instrument", WRAPPER, 0o755);
    task.script(
        "run.sh",
        "#!/bin/sh\necho \"instrumented=$INSTRUMENTED port=$PORT args=$#\"\n",
        0o755,
    );
    task.script(
        "plain.sh",
        "echo \"instrumented=$INSTRUMENTED port=$PORT\"\n",
        0o644,
    );
    let wrapper = task.0.join("otel-instrument");
    let wrapper = wrapper.to_str().unwrap();
    for shell in [None, Some("bash")] {
        let out = run(
            shell,
            &task.0,
            &[("_HANDLER", "run.sh"), ("PORTSIDE_EXEC_WRAPPER", wrapper)],
        );
        assert!(out.status.success(), "{out:?}");
        // The wrapper got the handler as its one argument and ran it with
        // the environment it set up; the handler got no arguments.
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "instrumented=by-wrapper args=1 port=8080 args=0",
            "{shell:?}"
        );
        // A handler without its execute bit runs under the wrapper too.
        let out = run(
            shell,
            &task.0,
            &[("_HANDLER", "plain.sh"), ("PORTSIDE_EXEC_WRAPPER", wrapper)],
        );
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "instrumented=by-wrapper args=2 port=8080",
            "{shell:?}: /bin/sh plain.sh"
        );
    }
}

#[test]
fn a_wrapper_that_is_missing_or_not_executable_fails_init_saying_so() {
    let task = Task::new("badwrapper");
    task.script("run.sh", &format!("#!/bin/sh\n{REPORT}"), 0o755);
    task.script("not-exec", WRAPPER, 0o644);
    let missing = task.0.join("nope");
    let not_exec = task.0.join("not-exec");
    for (path, why) in [
        (&missing, "does not exist"),
        (&not_exec, "is not executable"),
    ] {
        let out = run(
            None,
            &task.0,
            &[
                ("_HANDLER", "run.sh"),
                ("PORTSIDE_EXEC_WRAPPER", path.to_str().unwrap()),
            ],
        );
        assert_eq!(out.status.code(), Some(127), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("PORTSIDE_EXEC_WRAPPER") && stderr.contains(why),
            "{stderr}"
        );
    }
}

const ENDPOINT_REPORT: &str = "echo \"port=$PORT endpoint=$AWS_LAMBDA_HTTP_ENDPOINT\"\n";

#[test]
fn the_app_learns_its_address_the_web_functions_way_too() {
    let task = Task::new("endpoint");
    task.script("run.sh", &format!("#!/bin/sh\n{ENDPOINT_REPORT}"), 0o755);
    for (env, want) in [
        (vec![], "port=8080 endpoint=127.0.0.1:8080"),
        (
            vec![("AWS_LWA_PORT", "3000")],
            "port=3000 endpoint=127.0.0.1:3000",
        ),
        (
            vec![("PORTSIDE_HOST", "::1")],
            "port=8080 endpoint=[::1]:8080",
        ),
        // A user-set endpoint is kept and gives PORT its port.
        (
            vec![("AWS_LAMBDA_HTTP_ENDPOINT", "0.0.0.0:3000")],
            "port=3000 endpoint=0.0.0.0:3000",
        ),
    ] {
        for shell in [None, Some("bash")] {
            let mut all = vec![("_HANDLER", "run.sh")];
            all.extend(env.iter().copied());
            let out = run(shell, &task.0, &all);
            assert!(out.status.success(), "{out:?}");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                want,
                "{env:?} {shell:?}"
            );
        }
    }
}

/// Whether this machine has Node (the Node cases need it).
fn has_node() -> bool {
    Command::new("node").arg("--version").output().is_ok()
}

#[test]
fn without_a_handler_script_a_node_package_starts_as_a_web_function_does() {
    if !has_node() {
        panic!("node is not installed: the Node.js entry-point cases need it");
    }
    let task = Task::new("node");
    let app = "console.log(`node ${require('path').basename(__filename)} \
               endpoint=${process.env.AWS_LAMBDA_HTTP_ENDPOINT}`)\n";
    task.script("index.js", app, 0o644);
    task.script("server.js", app, 0o644);
    for (env, want) in [
        // No handler, or a Node runtime's handler string that names no file.
        (vec![], "node index.js endpoint=127.0.0.1:8080"),
        (
            vec![("_HANDLER", "index.handler")],
            "node index.js endpoint=127.0.0.1:8080",
        ),
        (
            vec![("AWS_LAMBDA_NODEJS_ENTRYPOINT", "server.js")],
            "node server.js endpoint=127.0.0.1:8080",
        ),
    ] {
        let out = run(None, &task.0, &env);
        assert!(out.status.success(), "{env:?}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want, "{env:?}");
    }
    // An entry point that is not there is named.
    let out = run(
        None,
        &task.0,
        &[("AWS_LAMBDA_NODEJS_ENTRYPOINT", "main.js")],
    );
    assert_eq!(out.status.code(), Some(127));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("AWS_LAMBDA_NODEJS_ENTRYPOINT=main.js"),
        "{stderr}"
    );
    // A JavaScript handler runs under node.
    let out = run(None, &task.0, &[("_HANDLER", "server.js")]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "node server.js endpoint=127.0.0.1:8080"
    );
    // A handler script, when there is one, wins.
    task.script("run.sh", &format!("#!/bin/sh\n{ENDPOINT_REPORT}"), 0o755);
    let out = run(None, &task.0, &[("_HANDLER", "run.sh")]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("port=8080 "));
}
