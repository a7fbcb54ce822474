//! What `up` prints at start: the functions, each front door's URL and
//! route table (with each route's authorization), the authorizers, the
//! triggers, the AWS resources in the stand-in with how to
//! reach them (`aws --endpoint-url`, boto3), and the findings: refused,
//! warned about, not emulated, no local effect.
//!
//! Owns: the banner's text.
//! Must not: print anything else, or decide anything.

use super::stack::{AuthorizerKind, Findings, Guard, LayerUse, Runtime, Stack};
use std::fmt::Write;

/// A door's URL, by address.
pub type Urls<'a> = &'a [(String, String)];

fn url_of<'a>(urls: Urls<'a>, address: &str) -> &'a str {
    urls.iter()
        .find(|(a, _)| a == address)
        .map(|(_, u)| u.as_str())
        .unwrap_or("")
}

fn functions(out: &mut String, stack: &Stack) {
    let _ = writeln!(out, "functions:");
    for f in &stack.functions {
        let rt = match &f.runtime {
            Runtime::Python(n) | Runtime::Provided(n) => n.clone(),
            Runtime::Wrapped(n) => format!("{n} through its exec wrapper"),
        };
        let layers: Vec<String> = f
            .layers
            .iter()
            .map(|l| match l {
                LayerUse::Portside { .. } => "portside (the local build)".to_string(),
                LayerUse::LocalZip { arn, .. } => format!("{arn} (unpacked)"),
                LayerUse::Remote { arn } => format!("{arn} (not attached)"),
            })
            .collect();
        let _ = writeln!(
            out,
            "  {}  {}, handler {}, {} MB, {} s{}{}{}  [{}]",
            f.name,
            rt,
            f.handler,
            f.memory,
            f.timeout.as_secs(),
            f.reserved
                .map(|r| format!(
                    ", reserved concurrency {r} (a front door's request past it is throttled)"
                ))
                .unwrap_or_default(),
            if f.per_environment > 1 {
                format!(
                    ", {} invocations per environment (Managed Instances)",
                    f.per_environment
                )
            } else {
                String::new()
            },
            if layers.is_empty() {
                String::new()
            } else {
                format!(", layers: {}", layers.join(", "))
            },
            f.address
        );
    }
}

fn target(
    stack: &Stack,
    i: Option<&super::stack::Integration>,
    auth: &Guard,
    http: bool,
) -> String {
    if *auth == Guard::Refused {
        return "401 Unauthorized (its authorization is refused: see below)".into();
    }
    let to = match i {
        None => "failed integration (nothing runnable)".into(),
        Some(i) => {
            let name = &stack.functions[i.function].name;
            match (http, i.payload_v1, i.stream) {
                (true, true, _) => format!("{name} (payload 1.0)"),
                (true, false, _) => format!("{name} (payload 2.0)"),
                (false, _, true) => format!("{name} (streamed)"),
                (false, _, false) => name.clone(),
            }
        }
    };
    match auth {
        Guard::Authorizer { index, scopes } => {
            let scopes = if scopes.is_empty() {
                String::new()
            } else {
                format!(" (scopes {})", scopes.join(" "))
            };
            format!("{to}, behind {}{scopes}", stack.authorizers[*index].address)
        }
        Guard::Iam => format!("{to}, AWS_IAM (not emulated: see below)"),
        _ => to,
    }
}

fn authorizers(out: &mut String, stack: &Stack) {
    let _ = writeln!(out, "authorizers:");
    for a in &stack.authorizers {
        let what = match &a.kind {
            None => "refused (see below)".to_string(),
            Some(AuthorizerKind::Jwt(c)) => format!(
                "JWT, issuer {}, audience {}, keys from {}",
                c.issuer,
                c.audiences.join(", "),
                c.jwks.describe()
            ),
            Some(AuthorizerKind::Lambda { function, config }) => {
                let kind = config.kind.describe();
                let cache = match config.ttl.as_secs() {
                    0 => "results not cached".to_string(),
                    t => format!("results cached {t} s by identity source"),
                };
                format!(
                    "Lambda {kind} -> {}, {cache}",
                    stack.functions[*function].name
                )
            }
        };
        let _ = writeln!(out, "  {what}  [{}]", a.address);
    }
}

fn http_apis(out: &mut String, stack: &Stack, urls: Urls<'_>) {
    for api in &stack.http_apis {
        let url = url_of(urls, &api.address);
        let _ = writeln!(out, "  HTTP API {} at {url}  [{}]", api.name, api.address);
        for st in &api.stages {
            let base = if st.name == "$default" {
                url.to_string()
            } else {
                format!("{url}/{}", st.name)
            };
            // Names only: a value may be a credential.
            let vars: Vec<&str> = st.variables.iter().map(|(k, _)| k.as_str()).collect();
            let vars = if vars.is_empty() {
                String::new()
            } else {
                format!(", variables {}", vars.join(", "))
            };
            let _ = writeln!(out, "    stage {} ({base}){vars}", st.name);
        }
        for r in &api.routes {
            let to = target(stack, r.integration.as_ref(), &r.auth, true);
            let _ = writeln!(out, "      {:<28} -> {to}", r.key);
        }
        let _ = writeln!(out, "      (no route: 404 Not Found)");
    }
}

fn rest_apis(out: &mut String, stack: &Stack, urls: Urls<'_>) {
    for api in &stack.rest_apis {
        let url = url_of(urls, &api.address);
        let _ = writeln!(out, "  REST API {} at {url}  [{}]", api.name, api.address);
        for st in &api.stages {
            let _ = writeln!(out, "    stage {} ({url}/{})", st.name, st.name);
        }
        for r in &api.routes {
            let to = target(stack, r.integration.as_ref(), &r.auth, false);
            let _ = writeln!(
                out,
                "      {:<28} -> {to}",
                format!("{} {}", r.method, r.path)
            );
        }
        let _ = writeln!(
            out,
            "      (no resource or method: 403 Missing Authentication Token)"
        );
    }
}

fn doors(out: &mut String, stack: &Stack, urls: Urls<'_>) {
    let _ = writeln!(out, "front doors:");
    http_apis(out, stack, urls);
    rest_apis(out, stack, urls);
    for u in &stack.urls {
        let mode = if u.stream {
            "RESPONSE_STREAM"
        } else {
            "BUFFERED"
        };
        let auth = if u.iam {
            ", AWS_IAM not emulated: see below"
        } else {
            ""
        };
        let name = &stack.functions[u.function].name;
        let _ = writeln!(
            out,
            "  Function URL {}/ -> {name} ({mode}{auth})  [{}]",
            url_of(urls, &u.address),
            u.address
        );
    }
    for t in &stack.target_groups {
        let f = t
            .function
            .map(|f| stack.functions[f].name.clone())
            .unwrap_or_else(|| "nothing (502)".into());
        let multi = if t.multi_value {
            " (multi-value headers)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  ALB target group {}/ -> {f}{multi}  [{}]",
            url_of(urls, &t.address),
            t.address
        );
    }
}

fn triggers(out: &mut String, stack: &Stack) {
    let _ = writeln!(out, "triggers:");
    for b in &stack.buckets {
        for n in &b.notifications {
            let to = match &n.target {
                super::stack::NotificationTarget::Function(f) => stack.functions[*f].name.clone(),
                super::stack::NotificationTarget::Queue(arn) => format!("queue {arn}"),
            };
            let _ = writeln!(
                out,
                "  S3 {} {} prefix {:?} suffix {:?} -> {to} (moto's own S3 event)  [{}]",
                b.name,
                n.events.join(","),
                n.prefix,
                n.suffix,
                n.address
            );
        }
    }
    for m in &stack.queue_mappings {
        let _ = writeln!(
            out,
            "  SQS {} -> {} (batch {}, window {} s{}, one batch at a time)  [{}]",
            stack.queues[m.queue].name,
            stack.functions[m.function].name,
            m.batch_size,
            m.window.as_secs(),
            if m.report_failures {
                ", ReportBatchItemFailures"
            } else {
                ""
            },
            m.address
        );
    }
    for m in &stack.stream_mappings {
        let _ = writeln!(
            out,
            "  DynamoDB stream of {} -> {} (batch {})  [{}]",
            stack.tables[m.table].name, stack.functions[m.function].name, m.batch_size, m.address
        );
    }
    for s in &stack.schedules {
        let _ = writeln!(
            out,
            "  schedule {} {} -> {}{} (fire it now: --fire {})  [{}]",
            s.name,
            s.expression,
            stack.functions[s.function].name,
            if s.enabled { "" } else { " (disabled)" },
            s.name,
            s.address
        );
    }
}

/// Where the stack's AWS resources live.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint<'a> {
    /// The moto server `up` started.
    Moto(&'a str),
    /// The user's own `AWS_ENDPOINT_URL`: `up` started no moto.
    Yours(&'a str),
}

fn aws(out: &mut String, stack: &Stack, endpoint: Endpoint<'_>) {
    let (e, whose) = match endpoint {
        Endpoint::Moto(e) => (e, "the moto server up started"),
        Endpoint::Yours(e) => (e, "your AWS_ENDPOINT_URL; up started no moto server"),
    };
    let _ = writeln!(out, "AWS resources at {e} ({whose}; any credentials, e.g. AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing; region {}):", stack.region);
    for b in &stack.buckets {
        let _ = writeln!(
            out,
            "  S3 bucket {}{}: aws --endpoint-url {e} s3 cp FILE s3://{}/KEY  [{}]",
            b.name,
            if b.versioned { " (versioned)" } else { "" },
            b.name,
            b.address
        );
    }
    for q in &stack.queues {
        let _ = writeln!(out, "  SQS queue {}: aws --endpoint-url {e} sqs send-message --queue-url {} --message-body TEXT  [{}]", q.name, q.url, q.address);
    }
    for t in &stack.tables {
        let _ = writeln!(
            out,
            "  DynamoDB table {}: aws --endpoint-url {e} dynamodb scan --table-name {}  [{}]",
            t.name, t.name, t.address
        );
    }
    let _ = writeln!(
        out,
        "  from Python: boto3.client(\"s3\", endpoint_url=\"{e}\", region_name=\"{}\")",
        stack.region
    );
}

fn findings(out: &mut String, f: &Findings) {
    for (title, list) in [
        ("refused (what happens instead)", &f.refusals),
        ("warnings", &f.warnings),
        ("not emulated", &f.not_emulated),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}:");
        for x in list {
            let _ = writeln!(out, "  {}: {}", x.address, x.text);
        }
    }
    if !f.no_local_effect.is_empty() {
        let mut kinds: Vec<String> = f
            .no_local_effect
            .iter()
            .map(|a| a.rsplit('.').nth(1).unwrap_or(a).to_string())
            .collect();
        kinds.sort();
        kinds.dedup();
        let _ = writeln!(
            out,
            "no local effect: {} resources ({})",
            f.no_local_effect.len(),
            kinds.join(", ")
        );
    }
}

/// The banner.
pub fn banner(stack: &Stack, urls: Urls<'_>, endpoint: Option<Endpoint<'_>>) -> String {
    let mut out = String::new();
    functions(&mut out, stack);
    doors(&mut out, stack, urls);
    if !stack.authorizers.is_empty() {
        authorizers(&mut out, stack);
    }
    if !(stack.buckets.iter().all(|b| b.notifications.is_empty())
        && stack.queue_mappings.is_empty()
        && stack.stream_mappings.is_empty()
        && stack.schedules.is_empty())
    {
        triggers(&mut out, stack);
    }
    if let Some(e) = endpoint.filter(|_| stack.needs_aws()) {
        aws(&mut out, stack, e);
    }
    findings(&mut out, &stack.findings);
    out
}
