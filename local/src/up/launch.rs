//! The stack's functions as portside-local runs them: each package zip
//! unpacked (modes kept), the portside layer laid out from the local build
//! (the adapter next to this executable, the repository's shim), other
//! local layer zips unpacked beside it, and a [`Function`] per function
//! with its configuration: its own app port in every environment (two
//! functions may both say `PORT=8000`), the stand-in's endpoint and test
//! credentials, its name before every line it logs, its Managed Instances
//! concurrency (`AWS_LAMBDA_MAX_CONCURRENCY` in its environment), and its
//! reserved concurrency as the limit past which a front door's invocation
//! is throttled.
//!
//! Owns: turning a [`FunctionSpec`] into a [`Function`].
//! Must not: start the functions (the caller inits them).

use super::options::UpOptions;
use super::stack::{FunctionSpec, LayerUse, Runtime};
use crate::function::{own_ports, AtLimit, Function};
use crate::layer::Layer;
use crate::sandbox::{RuntimeKind, SandboxConfig};
use std::path::PathBuf;
use std::sync::Arc;

/// The functions, with the folders they run from.
pub struct Launched {
    /// The stack's functions, by index.
    pub functions: Arc<Vec<Arc<Function>>>,
    /// The folder each one's package is unpacked in (its code), by index.
    pub tasks: Vec<PathBuf>,
    scratch: PathBuf,
}

impl Drop for Launched {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

fn runtime(r: &Runtime) -> RuntimeKind {
    match r {
        // A Node.js runtime, started through the wrapper: Lambda's
        // AWS_EXECUTION_ENV names it as such.
        Runtime::Wrapped(n) if n.starts_with("nodejs") => RuntimeKind::Node(n.clone()),
        Runtime::Python(n) | Runtime::Wrapped(n) => RuntimeKind::Python(n.clone()),
        Runtime::Provided(n) => RuntimeKind::Provided(n.clone()),
    }
}

/// `/opt` for a function: the local portside build and any local layer
/// zips, in the function's order (a later layer's files win, as on Lambda).
fn opt_folder(
    spec: &FunctionSpec,
    dir: &std::path::Path,
    o: &UpOptions,
) -> Result<Option<Layer>, String> {
    if spec
        .layers
        .iter()
        .all(|l| matches!(l, LayerUse::Remote { .. }))
    {
        return Ok(None);
    }
    for l in &spec.layers {
        match l {
            LayerUse::Portside { .. } => {
                if !dir.join("extensions/portside").exists() {
                    let adapter = crate::cli::find_adapter(o.adapter.as_deref())?;
                    crate::cli::local_layer(dir, &adapter, o.shim.as_deref())?;
                }
            }
            LayerUse::LocalZip { path, arn } => crate::layer::unzip(path, dir)
                .map_err(|e| format!("cannot unpack the layer {arn} ({}): {e}", path.display()))?,
            LayerUse::Remote { .. } => {}
        }
    }
    Ok(Some(Layer::from_dir(dir.to_path_buf(), false)))
}

/// Where a function's package is unpacked.
fn task_dir(root: &std::path::Path, spec: &FunctionSpec) -> PathBuf {
    root.join(&spec.name).join("task")
}

async fn one(
    spec: &FunctionSpec,
    root: &std::path::Path,
    o: &UpOptions,
    aws_env: &[(String, String)],
) -> Result<Arc<Function>, String> {
    let code = task_dir(root, spec);
    std::fs::create_dir_all(&code).map_err(|e| format!("cannot create {}: {e}", code.display()))?;
    crate::layer::unzip(&spec.zip, &code).map_err(|e| {
        format!(
            "cannot unpack the package of {} ({}): {e}",
            spec.address,
            spec.zip_shown.display()
        )
    })?;
    let layer = opt_folder(spec, &root.join(&spec.name).join("opt"), o)?;
    let mut cfg = SandboxConfig::new(code, spec.handler.clone(), runtime(&spec.runtime));
    cfg.function_name = spec.name.clone();
    cfg.memory_mb = spec.memory;
    cfg.timeout = spec.timeout;
    cfg.env = spec.env.clone();
    cfg.env.extend(aws_env.iter().cloned());
    cfg.env.extend(o.env.iter().cloned());
    // Environment 1 gets a free port too: several functions may name one.
    let ports = own_ports(&cfg.env)?;
    cfg.env.extend(ports);
    cfg.freeze = !o.no_freeze;
    cfg.max_concurrency = spec.per_environment;
    cfg.show_logs = !o.quiet;
    cfg.log_prefix = Some(spec.name.clone());
    let (environments, at_limit) = limit(spec.reserved, o.environments);
    Function::with_limit(cfg, layer, environments, at_limit).await
}

/// The most environments a function runs, and what a synchronous
/// invocation gets past them: its reserved concurrency is Lambda's limit
/// (throttled past it), unless `--environments` is lower (a local limit:
/// waited for).
fn limit(reserved: Option<usize>, environments: usize) -> (usize, AtLimit) {
    match reserved {
        Some(r) if r <= environments => (r.max(1), AtLimit::Throttle),
        _ => (environments.max(1), AtLimit::Wait),
    }
}

/// Prepares every function of the stack (none is started).
pub async fn launch(
    specs: &[FunctionSpec],
    o: &UpOptions,
    aws_env: &[(String, String)],
) -> Result<Launched, String> {
    let scratch = std::env::temp_dir().join(format!(
        "portside-up-fn-{}-{}",
        std::process::id(),
        crate::util::random_hex(8)
    ));
    let mut functions = Vec::new();
    let mut launched = Launched {
        functions: Arc::new(Vec::new()),
        tasks: Vec::new(),
        scratch: scratch.clone(),
    };
    for spec in specs {
        functions.push(one(spec, &scratch, o, aws_env).await?);
        launched.tasks.push(task_dir(&scratch, spec));
    }
    launched.functions = Arc::new(functions);
    Ok(launched)
}

#[cfg(test)]
mod tests {
    //! Real functions from a plan written by hand in the shape Terraform
    //! shows it (the AWS provider's `capacity_provider_config` block, which
    //! the repository's provider mirror, 5.x, does not know yet, so the
    //! pytest stack cannot hold it): a `provided.al2023` runtime answering
    //! each event with what its environment says.

    use super::*;
    use crate::up::plan::{Mode, Plan, Resource};
    use crate::up::stack::{Context, Stack};
    use serde_json::{json, Value};
    use std::io::Write;

    /// A runtime (Python, standard library only) that answers every event
    /// with its AWS_LAMBDA_MAX_CONCURRENCY.
    const BOOTSTRAP: &str = r#"#!/usr/bin/env python3
import json, os, urllib.request
base = "http://%s/2018-06-01/runtime" % os.environ["AWS_LAMBDA_RUNTIME_API"]
while True:
    with urllib.request.urlopen(base + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
    body = json.dumps({"max": os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY")}).encode()
    urllib.request.urlopen(urllib.request.Request(base + "/invocation/%s/response" % rid, data=body, method="POST"))
"#;

    fn function(name: &str, extra: Value) -> Resource {
        let mut values = json!({
            "function_name": name, "filename": "app.zip", "handler": "unused",
            "runtime": "provided.al2023",
            "arn": format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
        });
        values
            .as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        Resource {
            address: format!("aws_lambda_function.{name}"),
            mode: Mode::Managed,
            kind: "aws_lambda_function".into(),
            provider: "registry.terraform.io/hashicorp/aws".into(),
            values,
            unknown: json!({}),
            configured: Vec::new(),
            placeholders: Value::Null,
        }
    }

    async fn answer(f: &Arc<Function>) -> Value {
        let inv = f
            .invoke(bytes::Bytes::from_static(b"{}"), Default::default())
            .await
            .expect("accepted");
        match inv.outcome().await {
            crate::runtime_api::Outcome::Response(b) => serde_json::from_slice(&b).expect("json"),
            other => panic!("expected a response, got {other:?}"),
        }
    }

    #[test]
    fn reserved_concurrency_is_a_limit_that_throttles_unless_environments_is_lower() {
        assert_eq!(limit(Some(2), 4), (2, AtLimit::Throttle));
        assert_eq!(limit(Some(4), 4), (4, AtLimit::Throttle));
        assert_eq!(limit(Some(8), 4), (4, AtLimit::Wait));
        assert_eq!(limit(None, 4), (4, AtLimit::Wait));
    }

    #[tokio::test]
    async fn managed_instances_concurrency_reaches_the_environment_as_lambda_sets_it() {
        let dir = std::env::temp_dir().join(format!("up-launch-{}", crate::util::random_hex(6)));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let mut z = zip::ZipWriter::new(std::fs::File::create(dir.join("app.zip")).expect("zip"));
        let exec = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        z.start_file("bootstrap", exec).expect("entry");
        z.write_all(BOOTSTRAP.as_bytes()).expect("write");
        z.finish().expect("finish");
        let ws = crate::up::workspace::Workspace::new(&dir).expect("view");
        // capacity_provider_config as the AWS provider documents it (one
        // nested block), PerExecutionEnvironmentMaxConcurrency 3.
        let managed = json!({"capacity_provider_config": [{
            "lambda_managed_instances_capacity_provider_config": [{
                "capacity_provider_arn": "arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp",
                "per_execution_environment_max_concurrency": 3,
            }],
        }]});
        let plan = Plan {
            resources: vec![function("managed", managed), function("plain", json!({}))],
            ..Plan::default()
        };
        let cx = Context {
            first: &plan,
            plan: &plan,
            ws: &ws,
            region: "us-east-1".into(),
            jwks: &[],
            iam: crate::auth::iam::IamMode::Deny,
        };
        let stack = Stack::read(&cx);
        let o = crate::up::parse(&["--quiet".to_string()]).expect("options");
        let launched = launch(&stack.functions, &o, &[]).await.expect("launched");
        let by_name = |name: &str| {
            let i = stack
                .functions
                .iter()
                .position(|f| f.name == name)
                .expect(name);
            Arc::clone(&launched.functions[i])
        };
        // Lambda sets AWS_LAMBDA_MAX_CONCURRENCY for a function on Managed
        // Instances (aws/aws-lambda-go#600, which reads it), to the number of
        // events one environment takes at once; a function on Lambda's own
        // fleet has none.
        let (managed, plain) = (by_name("managed"), by_name("plain"));
        assert_eq!(answer(&managed).await, json!({"max": "3"}));
        assert_eq!(answer(&plain).await, json!({"max": null}));
        managed.shutdown().await;
        plain.shutdown().await;
        drop(launched);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
