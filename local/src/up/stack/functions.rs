//! `aws_lambda_function`: what runs (the package, handler, runtime,
//! environment, timeout, memory, reserved concurrency as its environment
//! limit), its layers (the portside layer maps to the local build; other
//! layers are named), where its code comes from (a `data "archive_file"`
//! of a local folder or file, or a zip built outside Terraform: what
//! `--watch` watches), and what cannot run locally (a package that is not a
//! local zip, an image, a VPC, EFS), refused with its address.

use super::{s, Context, Findings, Stack};
use crate::up::plan::{first_block, Resource};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// How the function's runtime process is started locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runtime {
    /// A `python3.x` managed runtime (AWS's runtime interface client).
    Python(String),
    /// An OS-only runtime (`provided.al2023`): the `bootstrap` file.
    Provided(String),
    /// Another managed runtime whose client an exec wrapper replaces (the
    /// portside shim starts the handler script itself): started like a
    /// Python runtime, through the wrapper.
    Wrapped(String),
}

/// One layer of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerUse {
    /// The portside layer: mapped to the local build.
    Portside {
        /// Its ARN in the plan.
        arn: String,
    },
    /// Another layer published from a local zip: unpacked into /opt too.
    LocalZip {
        /// Its ARN in the plan.
        arn: String,
        /// The zip.
        path: PathBuf,
    },
    /// A layer not in the stack and not portside's: not attached.
    Remote {
        /// Its ARN.
        arn: String,
    },
}

/// Where a function's package comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeSource {
    /// A `data "archive_file"` zips a local folder (`source_dir`) or one
    /// file (`source_file`) into the package while Terraform plans.
    Archive {
        /// The data source's address.
        address: String,
        /// The folder (`source_dir`, or `source_file`'s folder).
        dir: PathBuf,
        /// `source_file`: the one file the package holds.
        file: Option<PathBuf>,
        /// `excludes`: paths or glob patterns under `dir` left out.
        excludes: Vec<String>,
    },
    /// A `data "archive_file"` of inline `source` blocks: no file to watch.
    Inline {
        /// The data source's address.
        address: String,
    },
    /// A zip built outside Terraform.
    Prebuilt,
}

/// A function `up` runs.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// Its Terraform address.
    pub address: String,
    /// `function_name`.
    pub name: String,
    /// Its ARN (its local identity).
    pub arn: String,
    /// The package zip (inside the workspace view, readable while it lives).
    pub zip: PathBuf,
    /// The package as the user knows it.
    pub zip_shown: PathBuf,
    /// `handler`.
    pub handler: String,
    /// The runtime.
    pub runtime: Runtime,
    /// `environment.variables`, in name order.
    pub env: Vec<(String, String)>,
    /// `timeout`.
    pub timeout: Duration,
    /// `memory_size`.
    pub memory: u32,
    /// `reserved_concurrent_executions` when set (> 0): its environment limit.
    pub reserved: Option<usize>,
    /// Managed Instances' invocations per environment (1 otherwise).
    pub per_environment: usize,
    /// Its layers, in order.
    pub layers: Vec<LayerUse>,
    /// Where its package comes from.
    pub code: CodeSource,
}

/// The zip has `extensions/portside`: the portside layer.
fn is_portside_zip(path: &std::path::Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(zip) = zip::ZipArchive::new(file) else {
        return false;
    };
    let found = zip.file_names().any(|n| n == "extensions/portside");
    found
}

fn layer_use(cx: &Context<'_>, arn: &str) -> LayerUse {
    let in_stack = cx
        .plan
        .of("aws_lambda_layer_version")
        .find(|l| l.str("arn") == Some(arn) || l.str("layer_arn") == Some(arn));
    if let Some(l) = in_stack {
        let path = cx.ws.root().join(s(l, "filename"));
        if is_portside_zip(&path) || s(l, "layer_name").contains("portside") {
            return LayerUse::Portside { arn: arn.into() };
        }
        if path.is_file() {
            return LayerUse::LocalZip {
                arn: arn.into(),
                path,
            };
        }
    }
    // layer:NAME:VERSION
    let name = arn.split(':').nth(6).unwrap_or("");
    if name.contains("portside") {
        LayerUse::Portside { arn: arn.into() }
    } else {
        LayerUse::Remote { arn: arn.into() }
    }
}

fn runtime(f: &Resource, env: &[(String, String)], findings: &mut Findings) -> Option<Runtime> {
    let name = s(f, "runtime");
    let wrapped = env
        .iter()
        .any(|(k, v)| k == "AWS_LAMBDA_EXEC_WRAPPER" && !v.is_empty());
    if name.starts_with("python3") {
        Some(Runtime::Python(name.into()))
    } else if name.starts_with("provided") {
        Some(Runtime::Provided(name.into()))
    } else if wrapped {
        Some(Runtime::Wrapped(name.into()))
    } else {
        findings.refuse(
            &f.address,
            format!(
                "runtime {name:?} without an exec wrapper needs that language's runtime interface client, which portside-local does not run (it runs python3.x, provided.*, and any runtime whose AWS_LAMBDA_EXEC_WRAPPER, such as the portside layer's /opt/bootstrap, starts the handler): not started; what invokes it gets an error"
            ),
        );
        None
    }
}

fn package(cx: &Context<'_>, f: &Resource, findings: &mut Findings) -> Option<(PathBuf, PathBuf)> {
    if s(f, "package_type") == "Image" || !s(f, "image_uri").is_empty() {
        findings.refuse(
            &f.address,
            format!(
                "a container image ({}): portside-local runs no containers: not started; what invokes it gets an error",
                s(f, "image_uri")
            ),
        );
        return None;
    }
    let filename = s(f, "filename");
    if filename.is_empty() {
        findings.refuse(
            &f.address,
            format!(
                "its package is not local (s3://{}/{}): up runs local zips only: not started; what invokes it gets an error",
                s(f, "s3_bucket"),
                s(f, "s3_key")
            ),
        );
        return None;
    }
    let zip = cx.ws.root().join(filename);
    if !zip.is_file() {
        findings.refuse(
            &f.address,
            format!(
                "its package {} does not exist: build it first: not started",
                cx.ws.real_path(filename).display()
            ),
        );
        return None;
    }
    Some((zip, cx.ws.real_path(filename)))
}

/// The `data "archive_file"` whose `output_path` is the function's
/// `filename` (the same file once both are resolved), and what it zips.
fn code_source(cx: &Context<'_>, filename: &str) -> CodeSource {
    let package = cx.ws.real_path(filename);
    let archive = cx.plan.read.iter().find(|r| {
        r.kind == "archive_file"
            && r.str("output_path")
                .is_some_and(|o| cx.ws.real_path(o) == package)
    });
    let Some(a) = archive else {
        return CodeSource::Prebuilt;
    };
    let excludes = a.values["excludes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let address = a.address.clone();
    if let Some(dir) = a.str("source_dir").filter(|d| !d.is_empty()) {
        let dir = cx.ws.real_path(dir);
        return CodeSource::Archive {
            address,
            dir,
            file: None,
            excludes,
        };
    }
    if let Some(file) = a.str("source_file").filter(|f| !f.is_empty()) {
        let file = cx.ws.real_path(file);
        let dir = file.parent().map(PathBuf::from).unwrap_or_default();
        return CodeSource::Archive {
            address,
            dir,
            file: Some(file),
            excludes,
        };
    }
    CodeSource::Inline { address }
}

fn string_map(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let v = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            (k.clone(), v)
        })
        .collect();
    out.sort();
    out
}

fn notes(f: &Resource, findings: &mut Findings) {
    let vpc = f.block("vpc_config");
    if vpc["subnet_ids"].as_array().is_some_and(|a| !a.is_empty()) {
        findings.refuse(
            &f.address,
            "runs in a VPC (vpc_config): the VPC is not emulated: it runs on this machine's network and reaches what this machine reaches, not the VPC's private resources",
        );
    }
    if let Some(path) = f.block("file_system_config")["local_mount_path"].as_str() {
        findings.refuse(
            &f.address,
            format!("mounts EFS at {path} (file_system_config): not emulated: the path does not exist locally"),
        );
    }
    let host = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    };
    if let Some(arch) = f.values["architectures"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_str)
    {
        if arch != host {
            findings.warn(
                &f.address,
                format!("built for {arch}: runs on this machine's {host}"),
            );
        }
    }
    if !f.block("dead_letter_config").is_null() {
        findings.not_emulated(&f.address, "dead_letter_config: asynchronous invocations are not retried or sent to a dead-letter queue locally");
    }
}

/// Reads every `aws_lambda_function`.
pub(super) fn read(cx: &Context<'_>, stack: &mut Stack) {
    for f in cx.plan.of("aws_lambda_function") {
        let findings = &mut stack.findings;
        notes(f, findings);
        let env = string_map(&f.block("environment")["variables"]);
        let Some((zip, zip_shown)) = package(cx, f, findings) else {
            continue;
        };
        let Some(runtime) = runtime(f, &env, findings) else {
            continue;
        };
        let reserved = f.values["reserved_concurrent_executions"]
            .as_i64()
            .unwrap_or(-1);
        if reserved == 0 {
            findings.refuse(&f.address, "reserved concurrency 0: Lambda throttles every invocation: not started; what invokes it gets an error");
            continue;
        }
        let per_environment = first_block(
            f.block("capacity_provider_config"),
            "lambda_managed_instances_capacity_provider_config",
        )["per_execution_environment_max_concurrency"]
            .as_u64()
            .unwrap_or(1)
            .max(1) as usize;
        let layers: Vec<LayerUse> = f.values["layers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|arn| layer_use(cx, arn))
            .collect();
        for l in &layers {
            match l {
                LayerUse::Remote { arn } => findings.warn(
                    &f.address,
                    format!("layer {arn} is neither in the stack nor portside's: not attached; the function runs without it"),
                ),
                LayerUse::LocalZip { arn, path } => findings.warn(
                    &f.address,
                    format!("layer {arn} ({}) is unpacked into /opt with the local portside build", cx.ws.real_path(&path.display().to_string()).display()),
                ),
                LayerUse::Portside { .. } => {}
            }
        }
        let name = s(f, "function_name").to_string();
        let code = code_source(cx, s(f, "filename"));
        stack.functions.push(FunctionSpec {
            address: f.address.clone(),
            arn: f.str("arn").map(str::to_string).unwrap_or_else(|| {
                format!(
                    "arn:aws:lambda:{}:{}:function:{name}",
                    cx.region,
                    crate::up::identity::ACCOUNT
                )
            }),
            name,
            zip,
            zip_shown,
            handler: s(f, "handler").to_string(),
            runtime,
            env,
            timeout: Duration::from_secs(f.values["timeout"].as_u64().unwrap_or(3)),
            memory: f.values["memory_size"].as_u64().unwrap_or(128) as u32,
            reserved: (reserved > 0).then_some(reserved as usize),
            per_environment,
            layers,
            code,
        });
    }
}

/// Environment variables that Terraform knew only after an apply and that
/// name nothing `up` runs: the function sees a placeholder; said, with the
/// resource the value came from (refused when it is a VPC-only one).
pub(super) fn check_environment(cx: &Context<'_>, stack: &mut Stack) {
    let known = stack.known_values();
    let mut found = Vec::new();
    for f in &stack.functions {
        let Some(first) = cx.first.get(&f.address) else {
            continue;
        };
        // A map with unknown values may be unknown as a whole.
        let unknown = &first_block(&first.unknown, "environment")["variables"];
        let all = unknown == &Value::Bool(true);
        for (k, v) in &f.env {
            if !(all || unknown.get(k) == Some(&Value::Bool(true))) || known.contains_key(v) {
                continue;
            }
            if known.keys().any(|n| n.len() > 3 && v.contains(n.as_str()))
                || v.contains("127.0.0.1")
            {
                continue;
            }
            let from = cx.plan.resources.iter().find(|r| {
                let values = r.values.as_object().into_iter().flatten();
                let made_up = r.placeholders.as_object().into_iter().flatten();
                values
                    .chain(made_up)
                    .any(|(_, val)| val.as_str().is_some_and(|s| s.len() >= 6 && v.contains(s)))
            });
            found.push((
                f.address.clone(),
                k.clone(),
                v.clone(),
                from.map(|r| (r.address.clone(), r.kind.clone())),
            ));
        }
    }
    for (address, key, value, from) in found {
        match from {
            Some((ra, kind)) if super::treatment::vpc_only(&kind) => stack.findings.refuse(
                &ra,
                format!("a VPC-only resource, not emulated: {address}'s {key} names it and holds the placeholder {value:?}"),
            ),
            Some((ra, _)) => stack.findings.warn(
                &address,
                format!("{key} comes from {ra}, which AWS would create: locally it holds the placeholder {value:?}"),
            ),
            None => stack.findings.warn(
                &address,
                format!("{key} is known only after an apply on AWS: locally it holds the placeholder {value:?}"),
            ),
        }
    }
}
