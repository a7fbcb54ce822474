//! `portside-local up [DIR]`: a whole Terraform stack on this machine, in
//! one process with one log.
//!
//! 1. Terraform reads the stack (`terraform`): `init` in a view of the
//!    folder that leaves it untouched (`workspace`), a plan against the AWS
//!    stand-in (`moto`) rendered by `terraform show -json` (`plan`), then a
//!    second, mocked plan that gives every value AWS would only tell after
//!    an apply its local identity (`identity`, `resolve`).
//! 2. `stack` reads what to run from it, and what not (refused with its
//!    address, warned about, not emulated); `banner` prints it all.
//! 3. The stand-in gets the stack's buckets, queues and tables
//!    (`provision`); the functions are prepared (`launch`) and started; the
//!    authorizers are made ready, a gate per guarded route (`gates`); each
//!    front door listens on its own port (`doors`, choosing routes with
//!    `routes`); the triggers run (`sqs` for queues and S3 notifications,
//!    `streams` for DynamoDB streams, `schedule` with `cron` for
//!    EventBridge schedules).
//!    With `--watch`, each function's code is watched (`reload`).
//! 4. Ctrl-C or SIGTERM stops triggers, functions (as Lambda does) and the
//!    stand-in.
//!
//! Owns: the order of all this, and its errors.
//! Must not: hold the logic of any step.

mod aws;
mod banner;
mod cron;
mod doors;
mod gates;
mod identity;
mod launch;
mod moto;
mod openapi;
mod options;
mod plan;
mod provision;
mod reload;
mod resolve;
mod routes;
mod schedule;
mod sqs;
mod stack;
mod streams;
mod terraform;
mod workspace;

pub use options::{parse, UpOptions};

use aws::Aws;
use identity::Identities;
use moto::Moto;
use plan::Plan;
use stack::{door_kind, Stack};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use terraform::Terraform;
use tokio::net::TcpListener;
use tokio::sync::watch;
use workspace::Workspace;

fn say(text: &str) {
    eprintln!("portside-local up: {text}");
}

/// The stack as read, with what must live while it runs.
struct Read {
    stack: Stack,
    moto: Option<Moto>,
    endpoint: String,
    listeners: Vec<(String, TcpListener)>,
    ws: Workspace,
}

/// Binds each front door of the first plan, in address order, from `port`.
async fn bind_doors(plan: &Plan, port: u16) -> Result<Vec<(String, TcpListener)>, String> {
    // HTTP APIs first, then REST APIs, Function URLs, target groups.
    let mut doors: Vec<(stack::DoorKind, &str)> = plan
        .resources
        .iter()
        .filter_map(|r| Some((door_kind(r)?, r.address.as_str())))
        .collect();
    doors.sort();
    let mut out = Vec::new();
    let mut next = port;
    for (_, address) in doors {
        let listener = TcpListener::bind(("127.0.0.1", next)).await.map_err(|e| {
            let holder = crate::sandbox::ports::describe_holder("127.0.0.1", next);
            format!("cannot listen on 127.0.0.1:{next} for {address}: {e} ({holder}); pick another first port with --port")
        })?;
        let bound = listener.local_addr().map(|a| a.port()).unwrap_or(next);
        out.push((address.to_string(), listener));
        next = if port == 0 {
            0
        } else {
            bound.saturating_add(1)
        };
    }
    Ok(out)
}

/// Terraform with `o`'s options, pointed at `endpoint`.
fn terraform(o: &UpOptions, ws: &Workspace) -> Terraform {
    Terraform {
        exe: o.terraform.clone(),
        plugin_dir: terraform::plugin_dir(o.plugin_dir.as_deref(), ws.real()),
        vars: o.vars.clone(),
        var_files: o.var_files.clone(),
        endpoint: String::new(),
        region: "us-east-1".into(),
    }
}

/// The stand-in (unless `AWS_ENDPOINT_URL` names one) and `terraform
/// init` side by side, then the first plan.
async fn first_plan(
    o: &UpOptions,
    ws: &Workspace,
    tf: &mut Terraform,
) -> Result<(Option<Moto>, Plan), String> {
    let own_endpoint = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|e| !e.is_empty());
    let moto_start = async {
        match &own_endpoint {
            Some(_) => Ok(None),
            None => Moto::start(o.aws_port, ws.own("moto.log")).await.map(Some),
        }
    };
    let t = Instant::now();
    let (moto, init) = tokio::join!(moto_start, tf.init(ws));
    init?;
    let moto = moto?;
    match &own_endpoint {
        Some(e) => say(&format!(
            "terraform init {:.1} s; AWS is AWS_ENDPOINT_URL ({e}): no moto server started",
            t.elapsed().as_secs_f64()
        )),
        None => say(&format!(
            "terraform init (and moto) {:.1} s",
            t.elapsed().as_secs_f64()
        )),
    }
    tf.endpoint = own_endpoint.unwrap_or_else(|| {
        moto.as_ref()
            .map(|m| m.endpoint.clone())
            .unwrap_or_default()
    });
    let t = Instant::now();
    let first = Plan::from_show_json(&tf.plan_json(ws).await?)?;
    say(&format!(
        "terraform plan and show -json {:.1} s",
        t.elapsed().as_secs_f64()
    ));
    Ok((moto, first))
}

/// The mocked plan, or the first one (said) when it fails.
async fn resolved_plan(
    tf: &Terraform,
    ws: &Workspace,
    first: &Plan,
    region: &str,
    listeners: &[(String, TcpListener)],
) -> Plan {
    let t = Instant::now();
    let port = |l: &TcpListener| l.local_addr().map(|a| a.port()).unwrap_or(0);
    let ids = Identities {
        region: region.to_string(),
        account: identity::ACCOUNT.into(),
        endpoint: tf.endpoint.clone(),
        doors: listeners
            .iter()
            .map(|(a, l)| (a.clone(), format!("http://127.0.0.1:{}", port(l))))
            .collect(),
    };
    let resolved = match resolve::resolve(tf, ws, first, &ids).await {
        Ok(p) => p,
        Err(e) => {
            say(&format!("the second, mocked plan (terraform test; Terraform 1.11 or newer) failed, so values AWS tells only after an apply stay unknown, and routes, layers and triggers built from them are missing:\n{e}"));
            first.clone()
        }
    };
    say(&format!(
        "the mocked plan (terraform test) {:.1} s",
        t.elapsed().as_secs_f64()
    ));
    resolved
}

/// Step 1: Terraform reads the stack.
async fn read(o: &UpOptions) -> Result<Read, String> {
    let ws = Workspace::new(&o.dir)?;
    say(&format!(
        "reading {} with Terraform (init, plan, show -json)",
        ws.real().display()
    ));
    let mut tf = terraform(o, &ws);
    let (moto, first) = first_plan(o, &ws, &mut tf).await?;
    let region = first.region.clone().unwrap_or_else(|| "us-east-1".into());
    let listeners = bind_doors(&first, o.port).await?;
    let resolved = resolved_plan(&tf, &ws, &first, &region, &listeners).await;
    let cx = stack::Context {
        first: &first,
        plan: &resolved,
        ws: &ws,
        region,
        jwks: &o.jwt_jwks,
        iam: o.iam_auth,
    };
    let stack = Stack::read(&cx);
    Ok(Read {
        stack,
        moto,
        endpoint: tf.endpoint.clone(),
        listeners,
        ws,
    })
}

/// The triggers' tasks, stopped together.
fn start_triggers(
    stack: &Stack,
    functions: &Arc<Vec<Arc<crate::function::Function>>>,
    aws: &Aws,
    made: &provision::Provisioned,
    stop: &watch::Receiver<bool>,
) -> Vec<schedule::Timer> {
    for m in &stack.queue_mappings {
        let q = &stack.queues[m.queue];
        let f = &stack.functions[m.function];
        let p = sqs::Poller {
            aws: aws.clone(),
            url: q.url.clone(),
            arn: q.arn.clone(),
            queue_name: q.name.clone(),
            function: Arc::clone(&functions[m.function]),
            function_arn: f.arn.clone(),
            batch_size: m.batch_size,
            window: m.window,
            report_failures: m.report_failures,
            notifications: false,
        };
        tokio::spawn(p.run(stop.clone()));
    }
    for n in &made.notification_queues {
        let p = sqs::Poller {
            aws: aws.clone(),
            url: n.url.clone(),
            arn: String::new(),
            queue_name: n.bucket.clone(),
            function: Arc::clone(&functions[n.function]),
            function_arn: stack.functions[n.function].arn.clone(),
            batch_size: 1,
            window: std::time::Duration::ZERO,
            report_failures: false,
            notifications: true,
        };
        tokio::spawn(p.run(stop.clone()));
    }
    for m in &stack.stream_mappings {
        let p = streams::StreamPoller {
            aws: aws.clone(),
            table: stack.tables[m.table].name.clone(),
            function: Arc::clone(&functions[m.function]),
            batch_size: m.batch_size,
            from_start: m.from_start,
            max_retries: m.max_retries,
        };
        tokio::spawn(p.run(stop.clone()));
    }
    let mut timers = Vec::new();
    for s in &stack.schedules {
        match schedule::Timer::parse(&s.expression) {
            Ok(every) => {
                let t = schedule::Timer {
                    name: s.name.clone(),
                    arn: s.arn.clone(),
                    every,
                    function: Arc::clone(&functions[s.function]),
                    input: s.input.clone(),
                    region: stack.region.clone(),
                };
                if s.enabled {
                    tokio::spawn(t.clone().run(stop.clone()));
                }
                timers.push(t);
            }
            Err(e) => say(&format!("{}: {e}: not scheduled", s.address)),
        }
    }
    timers
}

/// Serves each door on its listener; the URLs by address.
/// Each door's route table and gates, by address.
fn door_tables(
    stack: &Stack,
    gates: &gates::Gates,
) -> Vec<(String, doors::RouteTable, Vec<gates::RouteGate>)> {
    let mut tables = Vec::new();
    for a in &stack.http_apis {
        let table = doors::RouteTable::Http(a.clone());
        tables.push((a.address.clone(), table, gates.http(a)));
    }
    for a in &stack.rest_apis {
        let table = doors::RouteTable::Rest(a.clone());
        tables.push((a.address.clone(), table, gates.rest(a)));
    }
    for u in &stack.urls {
        let id = identity::slug(&stack.functions[u.function].name);
        let table = doors::RouteTable::Url(u.clone(), id);
        tables.push((u.address.clone(), table, vec![gates.url(u)]));
    }
    for t in &stack.target_groups {
        let table = doors::RouteTable::Alb(t.clone());
        tables.push((t.address.clone(), table, Vec::new()));
    }
    tables
}

fn start_doors(
    stack: &Stack,
    functions: &Arc<Vec<Arc<crate::function::Function>>>,
    gates: &gates::Gates,
    listeners: Vec<(String, TcpListener)>,
) -> Vec<(String, String)> {
    let mut by_address: HashMap<String, TcpListener> = listeners.into_iter().collect();
    let mut urls = Vec::new();
    for (address, table, gates) in door_tables(stack, gates) {
        let Some(listener) = by_address.remove(&address) else {
            say(&format!(
                "{address}: no port was set aside for it: not served"
            ));
            continue;
        };
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        urls.push((address, format!("http://127.0.0.1:{port}")));
        let door = Arc::new(doors::Door {
            table,
            functions: Arc::clone(functions),
            region: stack.region.clone(),
            gates,
        });
        tokio::spawn(door.serve(listener));
    }
    urls
}

/// `--fire` names that are no schedule of the stack.
fn unknown_fires(o: &UpOptions, stack: &Stack) -> Option<String> {
    let unknown: Vec<&String> = o
        .fire
        .iter()
        .filter(|f| {
            !stack
                .schedules
                .iter()
                .any(|s| &s.name == *f || &s.address == *f)
        })
        .collect();
    if unknown.is_empty() {
        return None;
    }
    let known: Vec<&str> = stack.schedules.iter().map(|s| s.name.as_str()).collect();
    Some(format!(
        "--fire {}: no such schedule in the stack (its schedules: {})",
        unknown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    ))
}

/// Runs `up` with its arguments (after `up`); the exit code.
pub async fn run(args: &[String]) -> i32 {
    let o = match parse(args) {
        Ok(o) => o,
        Err((text, code)) => {
            if code == 0 {
                print!("{text}");
            } else {
                eprint!("{text}");
            }
            return code;
        }
    };
    let started = Instant::now();
    let stop_signal = crate::cli::stop_signal();
    tokio::pin!(stop_signal);
    let read = tokio::select! {
        r = read(&o) => r,
        _ = &mut stop_signal => return 0,
    };
    let read = match read {
        Ok(r) => r,
        Err(e) => {
            say(&e);
            return 1;
        }
    };
    if let Some(e) = unknown_fires(&o, &read.stack) {
        say(&e);
        return 2;
    }
    serve(o, read, started, stop_signal).await
}

/// The stand-in's resources (or no stand-in, when the stack declares
/// none), and what every function gets to reach it.
async fn prepare_aws(
    stack: &Stack,
    moto: &mut Option<Moto>,
    endpoint: &str,
) -> Result<(Aws, provision::Provisioned, Vec<(String, String)>), String> {
    let aws = Aws {
        endpoint: endpoint.to_string(),
        region: stack.region.clone(),
    };
    if !stack.needs_aws() {
        if let Some(m) = moto.take() {
            m.stop().await;
        }
        return Ok((aws, provision::Provisioned::default(), Vec::new()));
    }
    let made = provision::provision(&aws, stack).await?;
    let env = match moto {
        Some(m) => vec![
            ("AWS_ENDPOINT_URL".into(), m.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
        ],
        // The user's own endpoint reaches the functions as their other
        // AWS_ENDPOINT_URL* variables do (sandbox::env).
        None => Vec::new(),
    };
    Ok((aws, made, env))
}

/// The "ready" line once every function's init has ended.
fn report_ready(
    stack: &Stack,
    states: &[crate::runtime_api::InitState],
    started: Instant,
    doors: usize,
) {
    let failed: Vec<&str> = states
        .iter()
        .zip(stack.functions.iter())
        .filter(|(s, _)| **s != crate::runtime_api::InitState::Ready)
        .map(|(_, f)| f.name.as_str())
        .collect();
    let secs = started.elapsed().as_secs_f64();
    if failed.is_empty() {
        println!(
            "portside-local up: ready in {secs:.1} s ({} functions, {doors} front doors)",
            stack.functions.len()
        );
    } else {
        println!("portside-local up: running in {secs:.1} s; these functions could not start (see above; each request tries again): {}", failed.join(", "));
    }
}

/// Fires the schedules `--fire` names.
fn fire_now(o: &UpOptions, stack: &Stack, timers: &[schedule::Timer]) {
    for name in &o.fire {
        let rule = stack
            .schedules
            .iter()
            .find(|s| &s.name == name || &s.address == name)
            .map(|s| s.name.clone());
        if let Some(t) = timers.iter().find(|t| Some(&t.name) == rule.as_ref()) {
            let t = t.clone();
            tokio::spawn(async move { t.fire("fired now (--fire)").await });
        }
    }
}

async fn serve(
    o: UpOptions,
    read: Read,
    started: Instant,
    stop_signal: std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
) -> i32 {
    let Read {
        mut stack,
        mut moto,
        endpoint,
        listeners,
        ws,
    } = read;
    let (aws, made, aws_env) = match prepare_aws(&stack, &mut moto, &endpoint).await {
        Ok(p) => p,
        Err(e) => {
            say(&e);
            return 1;
        }
    };
    let launched = match launch::launch(&stack.functions, &o, &aws_env).await {
        Ok(l) => l,
        Err(e) => {
            say(&e);
            return 1;
        }
    };
    drop(ws);
    let functions = Arc::clone(&launched.functions);
    let gates = gates::build(&mut stack, &functions, o.iam_auth).await;
    let urls = start_doors(&stack, &functions, &gates, listeners);
    let shown = (!endpoint.is_empty() && stack.needs_aws()).then(|| match moto.is_some() {
        true => banner::Endpoint::Moto(&endpoint),
        false => banner::Endpoint::Yours(&endpoint),
    });
    println!("{}", banner::banner(&stack, &urls, shown));
    let watches = match o.watch {
        true => reload::watch_all(
            &stack.functions,
            &functions,
            &launched.tasks,
            o.watch_build.as_ref(),
        ),
        false => Vec::new(),
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let timers = start_triggers(&stack, &functions, &aws, &made, &stop_rx);
    report_ready(&stack, &init_all(&functions).await, started, urls.len());
    fire_now(&o, &stack, &timers);
    stop_signal.await;
    say("shutting down");
    drop(watches);
    let _ = stop_tx.send(true);
    shutdown_all(&functions).await;
    if let Some(m) = moto {
        m.stop().await;
    }
    drop(launched);
    0
}

/// Inits every function at once; their states, in order.
async fn init_all(
    functions: &[Arc<crate::function::Function>],
) -> Vec<crate::runtime_api::InitState> {
    let tasks: Vec<_> = functions
        .iter()
        .map(|f| {
            let f = Arc::clone(f);
            tokio::spawn(async move { f.init().await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap_or(crate::runtime_api::InitState::TimedOut));
    }
    out
}

/// Shuts every function down at once.
async fn shutdown_all(functions: &[Arc<crate::function::Function>]) {
    let tasks: Vec<_> = functions
        .iter()
        .map(|f| {
            let f = Arc::clone(f);
            tokio::spawn(async move { f.shutdown().await })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fire_names_a_schedule_by_rule_name_or_address() {
        let mut stack = Stack::default();
        stack.schedules.push(stack::Schedule {
            address: "aws_cloudwatch_event_rule.nightly".into(),
            name: "nightly".into(),
            arn: String::new(),
            expression: "rate(1 day)".into(),
            function: 0,
            input: None,
            enabled: true,
        });
        let opts = |fire: &[&str]| {
            let mut args = vec![];
            for f in fire {
                args.push("--fire".to_string());
                args.push(f.to_string());
            }
            parse(&args).expect("options")
        };
        assert_eq!(
            unknown_fires(
                &opts(&["nightly", "aws_cloudwatch_event_rule.nightly"]),
                &stack
            ),
            None
        );
        let said = unknown_fires(&opts(&["hourly"]), &stack).expect("refused");
        assert_eq!(
            said,
            "--fire hourly: no such schedule in the stack (its schedules: nightly)"
        );
    }
}
