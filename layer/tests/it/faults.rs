//! Faults in the middle of things, over real sockets and the real binary:
//! an app that declines an upload before reading it, 64 Managed Instances
//! invocations in flight mixing crashes, resets, slow readers, early answers
//! and hangs,
//! the app killed during a buffered response and during a stream and
//! restarted a second later, the Runtime API connection reset while a result
//! is posted (buffered and streamed) and while `/next` is pending, an app
//! trickling bytes within and past the deadline, the sandbox frozen in the
//! middle of a response and thawed 5 s later, SIGTERM during a stream.
//!
//! Each test checks what the issue asks of every fault: no panic, no hang
//! past the deadline, a typed error naming what happened, the next
//! invocation served, and nothing sent to the app twice.

use std::time::{Duration, Instant};

use crate::support::declining::{Decline, DecliningApp};
use crate::support::events::{function_url, http_api};
use crate::support::faulty::{Fault, FaultyProxy};
use crate::support::mixed::MixedApp;
use crate::support::{error_of, result_json, App, Chunk, ChunkSource, Function, KeepAlive, Reply};
use bytes::Bytes;
use portside_local::runtime_api::{self, ErrorSource, InvokeOptions, Outcome, RuntimeApi};

const STREAM: (&str, &str) = ("PORTSIDE_INVOKE_MODE", "response_stream");

fn options(timeout: Duration) -> InvokeOptions {
    InvokeOptions::new().timeout(timeout)
}

/// The adapter is alive and has not panicked.
fn healthy(f: &mut Function) {
    assert!(
        f.child.try_wait().unwrap().is_none(),
        "the adapter exited\n{}",
        f.log()
    );
    assert!(!f.log().contains("panicked"), "{}", f.log());
}

fn signal(f: &Function, name: &str) {
    let pid = f.child.id().expect("the adapter runs").to_string();
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

/// An app on `port` answering `/ok` (and the readiness check's `/`) with
/// "fine" and everything else as `other` says.
async fn app_on(
    port: u16,
    other: impl Fn(&crate::support::Received) -> Reply + Send + Sync + 'static,
) -> App {
    App::start_on(port, KeepAlive::Forever, move |req| {
        if req.target == "/ok" || req.target == "/" {
            Reply::new(200)
                .header("Content-Type", "text/plain")
                .body("fine")
        } else {
            other(req)
        }
    })
    .await
}

async fn served(f: &Function, app: &App, path: &str) {
    let before = app.received().len();
    let result = result_json(&f.invoke(&http_api("GET", path).build()).await);
    assert_eq!(result["statusCode"], 200, "{result}");
    assert_eq!(result["body"], "fine");
    assert_eq!(
        app.received().len(),
        before + 1,
        "one request for one invocation"
    );
}

#[tokio::test]
async fn the_app_killed_during_a_buffered_response_is_an_error_and_once_restarted_it_serves_the_next(
) {
    // The app dies after writing the head and 10 of 1000 body bytes.
    let app = App::start(KeepAlive::Forever, |_| {
        Reply::new(200).raw(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n0123456789",
        )
    })
    .await;
    let port = app.port;
    let mut f = Function::start(port, &[]).await.ready().await;
    let started = Instant::now();
    let outcome = f
        .invoke_with(
            &http_api("POST", "/orders").body("one order").build(),
            options(Duration::from_secs(5)),
        )
        .await;
    let (error_type, message) = error_of(&outcome);
    assert_eq!(error_type, "Portside.AppInvalidResponse", "{message}");
    assert!(message.contains("broke off"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let orders = app
        .received()
        .iter()
        .filter(|r| r.target == "/orders")
        .count();
    assert_eq!(orders, 1, "the POST reached the app once");
    drop(app); // the process is gone: nothing listens

    // Its supervisor restarts it a second later.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let app = app_on(port, |_| Reply::new(500)).await;
    served(&f, &app, "/ok").await;
    assert!(
        app.received().iter().all(|r| r.target != "/orders"),
        "the POST was not sent again to the new app"
    );
    healthy(&mut f);
}

#[tokio::test]
async fn the_app_killed_during_a_stream_ends_it_with_error_trailers_and_once_restarted_it_serves_the_next(
) {
    let (chunks, source) = ChunkSource::new();
    let app = app_on(0, move |_| {
        Reply::new(200)
            .header("Content-Type", "text/event-stream")
            .chunked(source.clone())
    })
    .await;
    let port = app.port;
    let mut f = Function::start(port, &[STREAM]).await.ready().await;
    let invocation = f
        .api
        .start_invoke(
            function_url("GET", "/events").build(),
            options(Duration::from_secs(10)),
        )
        .unwrap();
    chunks
        .send(Chunk::Data(Bytes::from_static(b"data: 1\n\n")))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.received().len(), 1);
    drop(app); // killed mid-stream: its connections close

    let response = match invocation.outcome().await {
        Outcome::Streamed(response) => response,
        other => panic!("expected a stream, got {other:?}"),
    };
    assert_eq!(
        response.body, "data: 1\n\n",
        "the app's bytes, and only them"
    );
    let error = response.error.expect("the cut is reported");
    assert_eq!(error.source, ErrorSource::Trailers);
    assert_eq!(error.error_type, "Portside.AppInvalidResponse");

    tokio::time::sleep(Duration::from_secs(1)).await;
    let app = app_on(port, |_| Reply::new(500)).await;
    served(&f, &app, "/ok").await;
    assert!(app.received().iter().all(|r| r.target != "/events"));
    healthy(&mut f);
}

/// A function whose invocations go through a faulty proxy to their own
/// Runtime API (registration goes to Lambda's, as with a real proxy).
async fn behind_proxy(app: &App, extra: &[(&str, &str)]) -> (Function, RuntimeApi, FaultyProxy) {
    let lambda = RuntimeApi::start(runtime_api::Config::default())
        .await
        .unwrap();
    let proxy = FaultyProxy::start(lambda.runtime_api_env()).await;
    let mut env = vec![("PORTSIDE_LAMBDA_RUNTIME_API_PROXY", proxy.address.as_str())];
    env.extend_from_slice(extra);
    let f = Function::start(app.port, &env).await;
    let init = tokio::time::timeout(Duration::from_secs(15), lambda.wait_init())
        .await
        .expect("init through the proxy");
    assert_eq!(init, runtime_api::InitState::Ready, "{}", f.log());
    (f, lambda, proxy)
}

/// After a result was lost on the way to the Runtime API: Lambda never got
/// it (the invocation times out, as on Lambda), the adapter is alive, and
/// the next invocation is served, with nothing sent to the app twice.
async fn the_next_is_served_after_a_lost_result(
    mut f: Function,
    lambda: &RuntimeApi,
    proxy: &FaultyProxy,
    app: &App,
    lost: Outcome,
    lost_path: &str,
) {
    assert!(!proxy.armed(), "the fault fired");
    assert!(proxy.resets() >= 1);
    assert!(
        matches!(lost, Outcome::TimedOut(_) | Outcome::Error(_)),
        "Lambda never received that result: {lost:?}"
    );
    let outcome = lambda
        .invoke(
            http_api("GET", "/ok").build(),
            options(Duration::from_secs(10)),
        )
        .await
        .unwrap();
    let result = result_json(&outcome);
    assert_eq!(result["body"], "fine", "{result}");
    let lost_requests = app
        .received()
        .iter()
        .filter(|r| r.target == lost_path)
        .count();
    assert_eq!(lost_requests, 1, "the lost invocation reached the app once");
    healthy(&mut f);
}

#[tokio::test]
async fn a_runtime_api_reset_while_a_buffered_result_is_posted_loses_that_result_only() {
    let app = app_on(0, |_| {
        Reply::new(200)
            .header("Content-Type", "text/plain")
            .body("made")
    })
    .await;
    let (f, lambda, proxy) = behind_proxy(&app, &[]).await;
    proxy.arm(Fault::ResetResponsePost);
    let lost = lambda
        .invoke(
            http_api("POST", "/orders").body("one").build(),
            options(Duration::from_secs(3)),
        )
        .await
        .unwrap();
    the_next_is_served_after_a_lost_result(f, &lambda, &proxy, &app, lost, "/orders").await;
}

#[tokio::test]
async fn a_runtime_api_reset_while_a_stream_is_posted_loses_that_stream_only() {
    let app = app_on(0, |_| {
        Reply::new(200)
            .header("Content-Type", "text/plain")
            .body("streamed body")
    })
    .await;
    let (f, lambda, proxy) = behind_proxy(&app, &[STREAM]).await;
    proxy.arm(Fault::ResetResponsePost);
    let lost = lambda
        .invoke(
            function_url("GET", "/events").build(),
            options(Duration::from_secs(3)),
        )
        .await
        .unwrap();
    the_next_is_served_after_a_lost_result(f, &lambda, &proxy, &app, lost, "/events").await;
}

#[tokio::test]
async fn a_runtime_api_reset_while_next_is_pending_is_followed_by_a_new_next() {
    let app = app_on(0, |_| Reply::new(500)).await;
    let (mut f, lambda, proxy) = behind_proxy(&app, &[]).await;
    // The adapter is waiting on /next (init is done); the fault fires on
    // the next /next that waits 300 ms.
    proxy.arm(Fault::ResetPendingNext(Duration::from_millis(300)));
    served_through(&lambda, &app).await; // its /next after this one is reset
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!proxy.armed(), "the fault fired");
    assert_eq!(proxy.resets(), 1);
    healthy(&mut f);
    let started = Instant::now();
    served_through(&lambda, &app).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    healthy(&mut f);
}

async fn served_through(lambda: &RuntimeApi, app: &App) {
    let before = app.received().len();
    let outcome = lambda
        .invoke(
            http_api("GET", "/ok").build(),
            options(Duration::from_secs(10)),
        )
        .await
        .unwrap();
    assert_eq!(result_json(&outcome)["body"], "fine");
    assert_eq!(app.received().len(), before + 1);
}

/// An app answering `/trickle` with `count` one-byte chunks, `gap` apart.
async fn trickling_app(count: usize, gap: Duration) -> App {
    app_on(0, move |_| {
        let (chunks, source) = ChunkSource::new();
        tokio::spawn(async move {
            for i in 0..count {
                tokio::time::sleep(gap).await;
                let byte = Bytes::from(vec![b'a' + (i % 26) as u8]);
                if chunks.send(Chunk::Data(byte)).is_err() {
                    return;
                }
            }
            let _ = chunks.send(Chunk::End);
        });
        Reply::new(200)
            .header("Content-Type", "text/plain")
            .chunked(source)
    })
    .await
}

#[tokio::test]
async fn a_trickle_that_ends_just_within_the_deadline_is_served_whole() {
    // 30 bytes 100 ms apart: 3 s of the 3.9 s the adapter has (Lambda's 4 s
    // less its reserve).
    let app = trickling_app(30, Duration::from_millis(100)).await;
    let mut f = Function::start(app.port, &[]).await.ready().await;
    let started = Instant::now();
    let outcome = f
        .invoke_with(
            &http_api("GET", "/trickle").build(),
            options(Duration::from_secs(4)),
        )
        .await;
    assert!(started.elapsed() >= Duration::from_secs(3));
    let expected: String = (0..30).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    assert_eq!(result_json(&outcome)["body"], expected);
    served(&f, &app, "/ok").await;
    healthy(&mut f);
}

#[tokio::test]
async fn a_trickle_past_the_deadline_is_a_timeout_before_lambdas() {
    let app = trickling_app(100, Duration::from_millis(100)).await;
    let mut f = Function::start(app.port, &[]).await.ready().await;
    let started = Instant::now();
    let outcome = f
        .invoke_with(
            &http_api("GET", "/trickle").build(),
            options(Duration::from_secs(2)),
        )
        .await;
    let waited = started.elapsed();
    let (error_type, message) = error_of(&outcome);
    assert_eq!(error_type, "Portside.AppTimeout", "{message}");
    assert!(waited < Duration::from_millis(2500), "no hang: {waited:?}");
    assert!(
        waited > Duration::from_millis(1500),
        "not before the deadline: {waited:?}"
    );
    assert_eq!(app.received().len(), 1, "not sent again");
    served(&f, &app, "/ok").await;
    healthy(&mut f);
}

#[tokio::test]
async fn a_sandbox_frozen_mid_response_and_thawed_5_s_later_delivers_it() {
    let (chunks, source) = ChunkSource::new();
    let app = app_on(0, move |_| {
        Reply::new(200)
            .header("Content-Type", "text/plain")
            .chunked(source.clone())
    })
    .await;
    let mut f = Function::start(app.port, &[]).await.ready().await;
    let invocation = f
        .api
        .start_invoke(
            http_api("GET", "/slow").build(),
            options(Duration::from_secs(30)),
        )
        .unwrap();
    chunks
        .send(Chunk::Data(Bytes::from_static(b"before ")))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    signal(&f, "STOP");
    // The app finishes while the sandbox is frozen.
    chunks
        .send(Chunk::Data(Bytes::from_static(b"during")))
        .unwrap();
    chunks.send(Chunk::End).unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    signal(&f, "CONT");
    let outcome = tokio::time::timeout(Duration::from_secs(10), invocation.outcome())
        .await
        .expect("the result comes after the thaw");
    assert_eq!(result_json(&outcome)["body"], "before during");
    assert_eq!(app.received().len(), 1);
    served(&f, &app, "/ok").await;
    healthy(&mut f);
}

#[tokio::test]
async fn sigterm_during_a_stream_lets_it_finish_then_the_adapter_exits() {
    let (chunks, source) = ChunkSource::new();
    let app = app_on(0, move |_| {
        Reply::new(200)
            .header("Content-Type", "text/event-stream")
            .chunked(source.clone())
    })
    .await;
    let mut f = Function::start(app.port, &[STREAM]).await.ready().await;
    let invocation = f
        .api
        .start_invoke(
            function_url("GET", "/events").build(),
            options(Duration::from_secs(10)),
        )
        .unwrap();
    chunks
        .send(Chunk::Data(Bytes::from_static(b"data: 1\n\n")))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    signal(&f, "TERM");
    tokio::time::sleep(Duration::from_millis(200)).await;
    chunks
        .send(Chunk::Data(Bytes::from_static(b"data: 2\n\n")))
        .unwrap();
    chunks.send(Chunk::End).unwrap();
    let response = match invocation.outcome().await {
        Outcome::Streamed(response) => response,
        other => panic!("expected a stream, got {other:?}"),
    };
    assert_eq!(response.body, "data: 1\n\ndata: 2\n\n");
    assert!(response.error.is_none(), "{:?}", response.error);
    let status = tokio::time::timeout(Duration::from_secs(5), f.child.wait())
        .await
        .expect("the adapter exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}\n{}", f.log());
    assert!(!f.log().contains("panicked"), "{}", f.log());
    assert_eq!(app.received().len(), 1);
}

/// Open file descriptors of a process.
fn descriptors(f: &Function) -> usize {
    let pid = f.child.id().expect("the adapter runs");
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// An upload the app declines at once; then a GET, which must be served on
/// a connection of its own while the app still holds the declined one.
/// `warm`: a GET goes first, so the upload takes a connection that carried a
/// request (otherwise it takes the one the readiness check opened).
async fn declined_upload_then_get(decline: Decline, warm: bool) {
    let app = DecliningApp::start(decline).await;
    let mut f = Function::start(app.port, &[]).await.ready().await;
    if warm {
        let first = result_json(&f.invoke(&http_api("GET", "/warm").build()).await);
        assert_eq!(first["body"], "ok /warm");
    }
    let before = descriptors(&f);

    let upload = "u".repeat(4 * 1024 * 1024);
    let outcome = f
        .invoke_with(
            &http_api("POST", "/upload").body(&upload).build(),
            options(Duration::from_secs(20)),
        )
        .await;
    let result = result_json(&outcome);
    assert_eq!(result["statusCode"], 413, "the app's answer is the result");
    assert_eq!(result["body"], "request entity too large");

    // The app holds the declined connection for `hold` (longer than this
    // invocation's whole timeout): the GET must not wait for it.
    let outcome = f
        .invoke_with(
            &http_api("GET", "/after").build(),
            options(Duration::from_secs(3)),
        )
        .await;
    let result = result_json(&outcome);
    assert_eq!(result["statusCode"], 200, "{result}");
    assert_eq!(result["body"], "ok /after");
    assert_eq!(app.count("/upload"), 1, "the upload was sent once");
    assert_eq!(app.count("/after"), 1, "the GET was sent once");
    assert_eq!(
        descriptors(&f),
        before,
        "the declined connection was closed, not kept\n{}",
        f.log()
    );
    healthy(&mut f);
}

#[tokio::test]
async fn an_upload_declined_with_connection_close_is_not_finished_and_the_next_invocation_is_served_at_once(
) {
    declined_upload_then_get(
        Decline {
            limit: 1024 * 1024,
            read_first: 0,
            close: true,
            hold: Duration::from_secs(8),
        },
        false,
    )
    .await;
}

#[tokio::test]
async fn an_upload_declined_after_a_slow_partial_read_does_not_hold_up_the_next_invocation() {
    declined_upload_then_get(
        Decline {
            limit: 1024 * 1024,
            read_first: 256 * 1024,
            close: false,
            hold: Duration::from_secs(8),
        },
        true,
    )
    .await;
}

/// The faults of `MixedApp`, one per path: each batch mixes them.
const KINDS: [&str; 6] = ["ok", "slow", "early", "crash", "reset", "hang"];

/// Starts `kinds.len()` invocations at once (`/kind/round-i`, each a POST
/// with a body its kind needs) and waits for every outcome.
async fn batch(f: &Function, round: usize, kinds: &[&str]) -> Vec<(String, Outcome)> {
    let invocations: Vec<_> = kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let target = format!("/{kind}/{round}-{i}");
            let body = match *kind {
                "slow" => "s".repeat(1024 * 1024),
                "early" => "e".repeat(2 * 1024 * 1024),
                _ => "x".to_string(),
            };
            // A hang ends at its own deadline; the rest have time to spare
            // in a debug build serving 64 at once.
            let timeout = if *kind == "hang" { 6 } else { 30 };
            let invocation = f
                .api
                .start_invoke(
                    http_api("POST", &target).body(&body).build(),
                    options(Duration::from_secs(timeout)),
                )
                .unwrap();
            (target, invocation)
        })
        .collect();
    let mut outcomes = Vec::new();
    for (target, invocation) in invocations {
        outcomes.push((target, invocation.outcome().await));
    }
    outcomes
}

/// Waits (up to 5 s) until the adapter holds `want` descriptors; the count.
async fn settle_descriptors(f: &Function, want: usize) -> usize {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let now = descriptors(f);
        if now == want || Instant::now() > until {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The result of a buffered success, or a panic naming the invocation.
fn result_of(target: &str, outcome: &Outcome) -> serde_json::Value {
    match outcome {
        Outcome::Response(_) => result_json(outcome),
        other => panic!("{target}: expected a result, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_instances_64_in_flight_with_crashes_resets_slow_readers_and_early_answers() {
    let f = managed_instances_64_in_flight(&[]).await;
    assert_eq!(runtime_workers(&f), 0, "one thread unless told otherwise");
}

/// The same 64 invocations in flight, faults and all, on three worker
/// threads that share the invocation loops (`PORTSIDE_WORKER_THREADS`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_instances_on_worker_threads_64_in_flight_with_crashes_resets_slow_readers_and_early_answers(
) {
    let f = managed_instances_64_in_flight(&[("PORTSIDE_WORKER_THREADS", "3")]).await;
    assert_eq!(runtime_workers(&f), 3, "{}", f.log());
    assert!(f.log().contains("serving on 3 threads"), "{}", f.log());
}

/// The adapter's tokio worker threads, by the name tokio gives them (a
/// current-thread runtime has none).
fn runtime_workers(f: &Function) -> usize {
    let pid = f.child.id().expect("the adapter runs");
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "tokio-rt-worker")
        .count()
}

/// 64 invocations in flight three times over: all fine, then a mix of app
/// crashes, resets, slow readers, early answers and hangs, then all fine
/// again; every result its own, nothing sent twice, no descriptor left.
async fn managed_instances_64_in_flight(extra: &[(&'static str, &'static str)]) -> Function {
    const N: usize = 64;
    let app = MixedApp::start(N).await;
    let config = runtime_api::Config {
        max_concurrency: N,
        ..runtime_api::Config::default()
    };
    let concurrency = N.to_string();
    let mut env = vec![
        ("AWS_LAMBDA_MAX_CONCURRENCY", concurrency.as_str()),
        ("PORTSIDE_LOG_LEVEL", "info"),
    ];
    env.extend_from_slice(extra);
    let mut f = Function::start_with(config, app.port, &env)
        .await
        .ready()
        .await;
    let all_ok = vec!["gate"; N];
    // The pool at its steady state: one connection per invocation in flight
    // (all N at the app at once).
    for (target, outcome) in batch(&f, 0, &all_ok).await {
        assert_eq!(result_of(&target, &outcome)["body"], format!("ok {target}"));
    }
    let steady = descriptors(&f);

    let mixed: Vec<&str> = (0..N).map(|i| KINDS[i % KINDS.len()]).collect();
    for (target, outcome) in batch(&f, 1, &mixed).await {
        let kind = target.split('/').nth(1).unwrap();
        match kind {
            "ok" | "slow" => {
                let result = result_of(&target, &outcome);
                assert_eq!(result["statusCode"], 200, "{target}: {result}");
                assert_eq!(result["body"], format!("ok {target}"), "its own answer");
            }
            "early" => assert_eq!(result_of(&target, &outcome)["statusCode"], 413),
            "crash" | "reset" => {
                let (error_type, message) = error_of(&outcome);
                assert_eq!(
                    error_type, "Portside.AppInvalidResponse",
                    "{target}: {message}"
                );
            }
            "hang" => {
                let (error_type, message) = error_of(&outcome);
                assert_eq!(error_type, "Portside.AppTimeout", "{target}: {message}");
            }
            other => unreachable!("{other}"),
        }
        assert_eq!(app.count(&target), 1, "{target} reached the app once");
    }

    // Served again at full concurrency, with no descriptor left behind.
    for (target, outcome) in batch(&f, 2, &all_ok).await {
        assert_eq!(result_of(&target, &outcome)["body"], format!("ok {target}"));
        assert_eq!(app.count(&target), 1);
    }
    assert_eq!(
        settle_descriptors(&f, steady).await,
        steady,
        "descriptors back to their steady count"
    );
    healthy(&mut f);
    f
}
