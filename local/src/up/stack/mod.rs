//! The stack as `up` runs it, read from the resolved plan: functions, front
//! doors (HTTP APIs, REST APIs, Function URLs, ALB target groups), the AWS
//! resources that live in the stand-in (buckets, queues, tables), triggers
//! (S3 notifications, SQS and DynamoDB stream mappings, schedules), and
//! [`Findings`]: what is refused (with its Terraform address and what
//! happens instead), what is only warned about, what is not emulated and
//! what has no local effect. Every resource of the plan ends up in one of
//! these; none is skipped silently.
//!
//! * `functions`: `aws_lambda_function`, its package, runtime and layers;
//! * `auth`: authorizers, and how each route and method is authorized;
//! * `http`: HTTP APIs (routes, integrations, stages, OpenAPI bodies);
//! * `rest`: REST APIs (resources, methods, integrations, OpenAPI bodies);
//! * `doors`: Function URLs and ALB target groups;
//! * `services`: buckets, queues, tables;
//! * `triggers`: notifications, event source mappings, schedules;
//! * `treatment`: what `up` does with each resource type.
//!
//! Owns: the meaning of each resource type locally, and the links between
//! resources (by the values the resolved plan gives them).
//! Must not: start anything, talk to AWS or print (the banner prints).

mod auth;
mod doors;
mod functions;
mod http;
mod rest;
mod services;
mod treatment;
mod triggers;

pub use auth::{AuthorizerKind, AuthorizerSpec, Guard};
pub use doors::{FunctionUrl, TargetGroup};
pub use functions::{CodeSource, FunctionSpec, LayerUse, Runtime};
pub use http::HttpApi;
pub use rest::RestApi;
pub use services::{Bucket, NotificationTarget, Queue, Table};
pub use treatment::{door_kind, DoorKind};
pub use triggers::{QueueMapping, Schedule, StreamMapping};

use super::plan::{Plan, Resource};
use super::workspace::Workspace;
use std::collections::HashMap;

/// Something about one resource, said at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The resource's Terraform address.
    pub address: String,
    /// What it is, and what happens instead.
    pub text: String,
}

/// What `up` says at start about the resources it does not run as AWS would.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// Cannot be emulated and changes behaviour: refused, with what happens
    /// instead (an authorizer whose keys are elsewhere, a VPC-only
    /// dependency, a non-local package).
    pub refusals: Vec<Finding>,
    /// Runs, but differently (another layer not attached, an architecture).
    pub warnings: Vec<Finding>,
    /// Not emulated: no local counterpart (Kinesis, SNS subscriptions...).
    pub not_emulated: Vec<Finding>,
    /// In the plan, with nothing to do locally (IAM, log groups...).
    pub no_local_effect: Vec<String>,
}

impl Findings {
    /// Adds a refusal (also one found at start: an authorizer whose keys
    /// cannot be read).
    pub fn refuse(&mut self, address: &str, text: impl Into<String>) {
        self.refusals.push(Finding {
            address: address.into(),
            text: text.into(),
        });
    }
    fn warn(&mut self, address: &str, text: impl Into<String>) {
        self.warnings.push(Finding {
            address: address.into(),
            text: text.into(),
        });
    }
    fn not_emulated(&mut self, address: &str, text: impl Into<String>) {
        self.not_emulated.push(Finding {
            address: address.into(),
            text: text.into(),
        });
    }
}

/// A stage of an API: its name and stage variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// `$default`, `prod`...
    pub name: String,
    /// Its stage variables, in name order.
    pub variables: Vec<(String, String)>,
}

/// Where a route goes: one of the stack's functions, as a Lambda proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    /// Index into [`Stack::functions`].
    pub function: usize,
    /// HTTP API payload format 1.0 (else 2.0; REST APIs ignore it).
    pub payload_v1: bool,
    /// REST API response transfer mode `STREAM`.
    pub stream: bool,
    /// The integration timeout, when the integration sets one.
    pub timeout_ms: Option<u64>,
}

/// The whole stack.
#[derive(Debug, Default)]
pub struct Stack {
    /// The region.
    pub region: String,
    /// The functions `up` runs (refused ones are not here).
    pub functions: Vec<FunctionSpec>,
    /// HTTP APIs.
    pub http_apis: Vec<HttpApi>,
    /// REST APIs.
    pub rest_apis: Vec<RestApi>,
    /// Function URLs.
    pub urls: Vec<FunctionUrl>,
    /// The APIs' authorizers (refused ones too, without a kind).
    pub authorizers: Vec<AuthorizerSpec>,
    /// ALB target groups of functions.
    pub target_groups: Vec<TargetGroup>,
    /// S3 buckets.
    pub buckets: Vec<Bucket>,
    /// SQS queues.
    pub queues: Vec<Queue>,
    /// DynamoDB tables.
    pub tables: Vec<Table>,
    /// SQS event source mappings.
    pub queue_mappings: Vec<QueueMapping>,
    /// DynamoDB stream event source mappings.
    pub stream_mappings: Vec<StreamMapping>,
    /// EventBridge schedules with a function target.
    pub schedules: Vec<Schedule>,
    /// What is refused, warned about, not emulated.
    pub findings: Findings,
}

/// What reading the plan needs besides the plan.
pub struct Context<'a> {
    /// The first plan (to tell what was unknown before an apply).
    pub first: &'a Plan,
    /// The resolved plan (every identity known).
    pub plan: &'a Plan,
    /// The view of the root module (to find packages).
    pub ws: &'a Workspace,
    /// The stack's region.
    pub region: String,
    /// `--jwt-jwks`: JWT issuers' key sets, by issuer.
    pub jwks: &'a [(String, String)],
    /// `--iam-auth`.
    pub iam: crate::auth::iam::IamMode,
}

impl Stack {
    /// Reads the stack from the resolved plan.
    pub fn read(cx: &Context<'_>) -> Stack {
        let mut stack = Stack {
            region: cx.region.clone(),
            ..Stack::default()
        };
        functions::read(cx, &mut stack);
        services::read(cx, &mut stack);
        auth::read(cx, &mut stack);
        http::read(cx, &mut stack);
        rest::read(cx, &mut stack);
        doors::read(cx, &mut stack);
        triggers::read(cx, &mut stack);
        treatment::classify(cx.plan, &mut stack.findings);
        functions::check_environment(cx, &mut stack);
        stack
    }

    /// The function a reference names: its ARN (qualified or not), name,
    /// invoke ARN, or an API Gateway integration URI that contains its ARN.
    pub fn function_ref(&self, s: &str) -> Option<usize> {
        let s = s.trim();
        self.functions.iter().position(|f| {
            s == f.name
                || s == f.arn
                || s.strip_prefix(f.arn.as_str())
                    .is_some_and(|rest| rest.starts_with(':'))
                || s.contains(&format!("/functions/{}/", f.arn))
                || s.contains(&format!("/functions/{}:", f.arn))
        })
    }

    /// Whether the stack declares anything the AWS stand-in plays.
    pub fn needs_aws(&self) -> bool {
        !(self.buckets.is_empty() && self.queues.is_empty() && self.tables.is_empty())
    }

    /// Every local name of the stack's emulated resources, with what it is:
    /// what an environment variable may name.
    pub fn known_values(&self) -> HashMap<String, String> {
        let mut out = HashMap::new();
        for f in &self.functions {
            out.insert(f.name.clone(), f.address.clone());
            out.insert(f.arn.clone(), f.address.clone());
        }
        for b in &self.buckets {
            out.insert(b.name.clone(), b.address.clone());
            out.insert(format!("arn:aws:s3:::{}", b.name), b.address.clone());
        }
        for q in &self.queues {
            for v in [&q.name, &q.url, &q.arn] {
                out.insert(v.clone(), q.address.clone());
            }
        }
        for t in &self.tables {
            for v in [&t.name, &t.arn] {
                out.insert(v.clone(), t.address.clone());
            }
            if let Some(s) = &t.stream_arn {
                out.insert(s.clone(), t.address.clone());
            }
        }
        out
    }
}

/// A string value at `key` of a resource's values, or "".
fn s<'a>(r: &'a Resource, key: &str) -> &'a str {
    r.str(key).unwrap_or("")
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tests are exempt from the 80-line bound
mod tests;
