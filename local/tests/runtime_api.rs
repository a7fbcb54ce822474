//! The Runtime API and Extensions API over real sockets: a Rust client plays
//! the runtime and the extensions, byte for byte where the wire matters.

mod common;

use common::{get, post, RawChunkedPost};
use portside_local::runtime_api::{
    Config, ErrorSource, InitState, InvokeOptions, InvokeRejected, Outcome, RuntimeApi,
    ShutdownReason, StreamEvent,
};
use std::time::Duration;

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

async fn api(config: Config) -> (RuntimeApi, String) {
    let api = RuntimeApi::start(config).await.expect("start");
    let addr = api.runtime_api_env();
    (api, addr)
}

async fn register(addr: &str, name: &str, events: &str) -> String {
    let r = post(
        addr,
        "/2020-01-01/extension/register",
        &[("Lambda-Extension-Name", name)],
        format!(r#"{{"events":{events}}}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.header("lambda-extension-identifier").expect("identifier")
}

#[tokio::test]
async fn init_completes_when_extensions_and_runtime_call_next() {
    let (api, addr) = api(Config {
        function_name: "fn-under-test".into(),
        handler: "run.sh".into(),
        ..Config::default()
    })
    .await;
    assert!(addr.starts_with("127.0.0.1:"));
    let r = post(
        &addr,
        "/2020-01-01/extension/register",
        &[
            ("Lambda-Extension-Name", "ext-a"),
            ("Lambda-Extension-Accept-Feature", "accountId"),
        ],
        r#"{"events":["INVOKE","SHUTDOWN"]}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    let body = r.json();
    assert_eq!(body["functionName"], "fn-under-test");
    assert_eq!(body["functionVersion"], "$LATEST");
    assert_eq!(body["handler"], "run.sh");
    assert_eq!(body["accountId"], "123456789012");
    let id = r.header("lambda-extension-identifier").expect("id");
    let shutdown_only = register(&addr, "ext-b", r#"["SHUTDOWN"]"#).await;

    // A runtime alone is not enough while extensions have not called next.
    let a2 = addr.clone();
    let runtime = tokio::spawn(async move { get(&a2, NEXT, &[]).await });
    let a3 = addr.clone();
    let ext_b = tokio::spawn(async move {
        get(
            &a3,
            "/2020-01-01/extension/event/next",
            &[("Lambda-Extension-Identifier", &shutdown_only)],
        )
        .await
    });
    let a4 = addr.clone();
    let id2 = id.clone();
    let ext_a = tokio::spawn(async move {
        get(
            &a4,
            "/2020-01-01/extension/event/next",
            &[("Lambda-Extension-Identifier", &id2)],
        )
        .await
    });
    assert_eq!(api.wait_init().await, InitState::Ready);
    let exts = api.extensions();
    assert_eq!(exts.len(), 2);
    assert_eq!(exts[0].name, "ext-a");
    assert_eq!(exts[0].events, ["INVOKE", "SHUTDOWN"]);
    assert_eq!(exts[1].events, ["SHUTDOWN"]);

    // Registration closes with init.
    let late = post(
        &addr,
        "/2020-01-01/extension/register",
        &[("Lambda-Extension-Name", "late")],
        r#"{"events":[]}"#,
    )
    .await;
    assert_eq!(late.status, 403);
    // Unknown identifiers are refused.
    let bad = get(
        &addr,
        "/2020-01-01/extension/event/next",
        &[("Lambda-Extension-Identifier", "nope")],
    )
    .await;
    assert_eq!(bad.status, 403);
    assert_eq!(
        bad.json()["errorType"],
        "Extension.UnknownExtensionIdentifier"
    );

    // An invocation reaches the runtime and the INVOKE extension only.
    let inv = api
        .start_invoke(
            r#"{"k":1}"#,
            InvokeOptions::new()
                .request_id("req-1")
                .timeout(Duration::from_secs(30))
                .trace_id(
                    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                )
                .client_context(r#"{"custom":{"a":"b"}}"#)
                .cognito_identity(r#"{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}"#),
        )
        .expect("accepted");
    let next = runtime.await.expect("join");
    assert_eq!(next.status, 200);
    assert_eq!(next.text(), r#"{"k":1}"#);
    assert_eq!(
        next.header("lambda-runtime-aws-request-id").as_deref(),
        Some("req-1")
    );
    let deadline: u64 = next
        .header("lambda-runtime-deadline-ms")
        .expect("deadline")
        .parse()
        .expect("ms");
    let now = portside_local::util::epoch_millis();
    assert!(
        deadline > now + 25_000 && deadline <= now + 30_000,
        "deadline {deadline} now {now}"
    );
    assert_eq!(
        next.header("lambda-runtime-invoked-function-arn")
            .as_deref(),
        Some("arn:aws:lambda:us-east-1:123456789012:function:fn-under-test")
    );
    assert!(next
        .header("lambda-runtime-trace-id")
        .expect("trace")
        .starts_with("Root=1-5759e988"));
    assert_eq!(
        next.header("lambda-runtime-client-context").as_deref(),
        Some(r#"{"custom":{"a":"b"}}"#)
    );
    assert!(next
        .header("lambda-runtime-cognito-identity")
        .expect("cognito")
        .contains("pool"));
    let ev = ext_a.await.expect("join");
    let ev = ev.json();
    assert_eq!(ev["eventType"], "INVOKE");
    assert_eq!(ev["requestId"], "req-1");
    assert_eq!(ev["deadlineMs"].as_u64(), Some(deadline));
    assert_eq!(ev["tracing"]["type"], "X-Amzn-Trace-Id");
    assert!(!ext_b.is_finished());

    let r = post(
        &addr,
        "/2018-06-01/runtime/invocation/req-1/response",
        &[],
        r#"{"ok":true}"#,
    )
    .await;
    assert_eq!(r.status, 202);
    assert_eq!(
        inv.outcome().await,
        Outcome::Response(r#"{"ok":true}"#.into())
    );
    // Finished and unknown request ids are refused.
    let again = post(
        &addr,
        "/2018-06-01/runtime/invocation/req-1/response",
        &[],
        "{}",
    )
    .await;
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["errorType"], "InvalidRequestID");
    let unknown = post(
        &addr,
        "/2018-06-01/runtime/invocation/nope/error",
        &[],
        "{}",
    )
    .await;
    assert_eq!(unknown.status, 400);

    // SHUTDOWN reaches both extensions (ext-a is not waiting yet: it is queued).
    let a5 = addr.clone();
    let ext_a_again = tokio::spawn(async move {
        get(
            &a5,
            "/2020-01-01/extension/event/next",
            &[("Lambda-Extension-Identifier", &id)],
        )
        .await
    });
    let report = api
        .shutdown(ShutdownReason::Spindown, Duration::from_secs(2))
        .await;
    assert_eq!(report.delivered.len(), 2, "{report:?}");
    for ev in [
        ext_a_again.await.expect("join").json(),
        ext_b.await.expect("join").json(),
    ] {
        assert_eq!(ev["eventType"], "SHUTDOWN");
        assert_eq!(ev["shutdownReason"], "spindown");
        assert!(ev["deadlineMs"].as_u64().expect("deadline") > now);
    }
}

#[tokio::test]
async fn function_errors_carry_type_and_message() {
    let (api, addr) = api(Config::default()).await;
    let a = addr.clone();
    let runtime = tokio::spawn(async move { get(&a, NEXT, &[]).await });
    assert_eq!(api.wait_init().await, InitState::Ready);
    let inv = api
        .start_invoke("{}", InvokeOptions::new())
        .expect("accepted");
    let next = runtime.await.expect("join");
    let id = next.header("lambda-runtime-aws-request-id").expect("id");
    assert_eq!(id.len(), 36, "a UUID request id by default");
    let body = r#"{"errorMessage":"boom","errorType":"ValueError","stackTrace":[]}"#;
    let r = post(
        &addr,
        &format!("/2018-06-01/runtime/invocation/{id}/error"),
        &[("Lambda-Runtime-Function-Error-Type", "Runtime.Unhandled")],
        body,
    )
    .await;
    assert_eq!(r.status, 202);
    let Outcome::Error(e) = inv.outcome().await else {
        panic!("an error")
    };
    assert_eq!(e.error_type, "Runtime.Unhandled");
    assert_eq!(e.header_error_type.as_deref(), Some("Runtime.Unhandled"));
    assert_eq!(e.error_message, "boom");
    assert_eq!(e.raw, body);
}

#[tokio::test]
async fn init_error_fails_init_and_invocations() {
    let (api, addr) = api(Config::default()).await;
    let r = post(
        &addr,
        "/2018-06-01/runtime/init/error",
        &[(
            "Lambda-Runtime-Function-Error-Type",
            "Runtime.ImportModuleError",
        )],
        r#"{"errorMessage":"No module named 'app'","errorType":"Runtime.ImportModuleError"}"#,
    )
    .await;
    assert_eq!(r.status, 202);
    let InitState::Failed(e) = api.wait_init().await else {
        panic!("failed init")
    };
    assert_eq!(e.error_type, "Runtime.ImportModuleError");
    assert_eq!(e.error_message, "No module named 'app'");
    let outcome = api
        .invoke("{}", InvokeOptions::new())
        .await
        .expect("accepted");
    assert!(
        matches!(outcome, Outcome::InitError(ref e) if e.error_type == "Runtime.ImportModuleError")
    );
    // Only once, only during init.
    let again = post(&addr, "/2018-06-01/runtime/init/error", &[], "{}").await;
    assert_eq!(again.status, 403);
}

#[tokio::test]
async fn init_times_out_when_nobody_calls_next() {
    let (api, addr) = api(Config {
        init_timeout: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let _id = register(&addr, "lazy", r#"["INVOKE"]"#).await;
    // The runtime polls, the extension never does.
    let a = addr.clone();
    let _runtime = tokio::spawn(async move { get(&a, NEXT, &[]).await });
    assert_eq!(api.wait_init().await, InitState::TimedOut);
    let outcome = api
        .invoke("{}", InvokeOptions::new())
        .await
        .expect("accepted");
    assert!(matches!(outcome, Outcome::InitError(ref e) if e.error_type == "Sandbox.Timedout"));
}

#[tokio::test]
async fn timeouts_end_the_invocation_and_refuse_late_answers() {
    let (api, addr) = api(Config::default()).await;
    let a = addr.clone();
    let runtime = tokio::spawn(async move { get(&a, NEXT, &[]).await });
    let inv = api
        .start_invoke(
            "{}",
            InvokeOptions::new().timeout(Duration::from_millis(250)),
        )
        .expect("accepted");
    let id = inv.request_id().to_string();
    runtime.await.expect("join");
    let Outcome::TimedOut(t) = inv.outcome().await else {
        panic!("timeout")
    };
    assert!(t.dispatched);
    assert_eq!(t.error.error_type, "Sandbox.Timedout");
    assert_eq!(
        t.error.error_message,
        format!("RequestId: {id} Error: Task timed out after 0.25 seconds")
    );
    let late = post(
        &addr,
        &format!("/2018-06-01/runtime/invocation/{id}/response"),
        &[],
        "{}",
    )
    .await;
    assert_eq!(late.status, 400);
}

#[tokio::test]
async fn payload_limits_use_lambdas_errors() {
    let (api, addr) = api(Config::default()).await;
    let big = vec![b'x'; 6 * 1024 * 1024 + 1];
    match api.start_invoke(big, InvokeOptions::new()) {
        Err(e @ InvokeRejected::PayloadTooLarge { .. }) => {
            assert_eq!(e.status(), 413);
            assert_eq!(e.error_type(), "RequestEntityTooLargeException");
            assert_eq!(
                e.message(),
                "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let a = addr.clone();
    let runtime = tokio::spawn(async move { get(&a, NEXT, &[]).await });
    let inv = api
        .start_invoke("{}", InvokeOptions::new())
        .expect("accepted");
    let id = runtime
        .await
        .expect("join")
        .header("lambda-runtime-aws-request-id")
        .expect("id");
    let huge = vec![b'y'; 6 * 1024 * 1024 + 101];
    let r = post(
        &addr,
        &format!("/2018-06-01/runtime/invocation/{id}/response"),
        &[],
        huge,
    )
    .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["errorType"], "RequestEntityTooLarge");
    let Outcome::Error(e) = inv.outcome().await else {
        panic!("an error")
    };
    assert_eq!(e.error_type, "Function.ResponseSizeTooLarge");
    assert_eq!(
        e.error_message,
        "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
    );
    // Exactly at the limit is fine.
    let a = addr.clone();
    let runtime = tokio::spawn(async move { get(&a, NEXT, &[]).await });
    let inv = api
        .start_invoke("{}", InvokeOptions::new())
        .expect("accepted");
    let id = runtime
        .await
        .expect("join")
        .header("lambda-runtime-aws-request-id")
        .expect("id");
    let r = post(
        &addr,
        &format!("/2018-06-01/runtime/invocation/{id}/response"),
        &[],
        vec![b'z'; 6291556],
    )
    .await;
    assert_eq!(r.status, 202);
    assert!(matches!(inv.outcome().await, Outcome::Response(b) if b.len() == 6291556));
}

#[tokio::test]
async fn streamed_responses_arrive_as_they_are_written() {
    let (api, addr) = api(Config::default()).await;
    let a = addr.clone();
    let runtime = tokio::spawn(async move { get(&a, NEXT, &[]).await });
    let mut inv = api
        .start_invoke("{}", InvokeOptions::new().watch_stream(true))
        .expect("accepted");
    let mut events = inv.take_stream().expect("stream");
    let id = runtime
        .await
        .expect("join")
        .header("lambda-runtime-aws-request-id")
        .expect("id");
    let mut post = RawChunkedPost::start(
        api.local_addr(),
        &format!("/2018-06-01/runtime/invocation/{id}/response"),
        &[
            ("Lambda-Runtime-Function-Response-Mode", "streaming"),
            (
                "Content-Type",
                "application/vnd.awslambda.http-integration-response",
            ),
            (
                "Trailer",
                "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
            ),
        ],
    )
    .await;
    // The prelude, its delimiter cut in two, and the first body bytes.
    post.chunk(br#"{"statusCode":201,"headers":{"x-a":"b"}}"#)
        .await;
    post.chunk(&[0, 0, 0]).await;
    post.chunk(&[0, 0, 0, 0, 0, b'h', b'e']).await;
    assert_eq!(
        events.recv().await,
        Some(StreamEvent::Started {
            content_type: Some("application/vnd.awslambda.http-integration-response".into())
        })
    );
    assert_eq!(
        events.recv().await,
        Some(StreamEvent::Prelude(
            r#"{"statusCode":201,"headers":{"x-a":"b"}}"#.into()
        ))
    );
    // The first body bytes are visible while the function is still writing.
    assert_eq!(events.recv().await, Some(StreamEvent::Body("he".into())));
    post.chunk(b"llo").await;
    assert_eq!(events.recv().await, Some(StreamEvent::Body("llo".into())));
    let (status, _) = post
        .finish(&[
            ("Lambda-Runtime-Function-Error-Type", "Runtime.StreamError"),
            ("Lambda-Runtime-Function-Error-Body", "Ym9vbQ=="),
        ])
        .await;
    assert_eq!(status, 202);
    let Some(StreamEvent::End { error: Some(err) }) = events.recv().await else {
        panic!("end with error")
    };
    assert_eq!(err.error_type, "Runtime.StreamError");
    assert_eq!(err.error_body, "boom");
    assert_eq!(err.source, ErrorSource::Trailers);
    let Outcome::Streamed(s) = inv.outcome().await else {
        panic!("streamed")
    };
    assert_eq!(
        s.prelude.as_deref(),
        Some(&br#"{"statusCode":201,"headers":{"x-a":"b"}}"#[..])
    );
    assert_eq!(s.body, "hello");
    assert_eq!(
        s.raw.len(),
        s.prelude.as_ref().map_or(0, |p| p.len()) + 8 + 5
    );
    assert!(s.error.is_some());
}

#[tokio::test]
async fn concurrent_pollers_get_different_events() {
    let (api, addr) = api(Config {
        max_concurrency: 2,
        ..Config::default()
    })
    .await;
    let a = addr.clone();
    let p1 = tokio::spawn(async move { get(&a, NEXT, &[]).await });
    let a = addr.clone();
    let p2 = tokio::spawn(async move { get(&a, NEXT, &[]).await });
    let i1 = api
        .start_invoke("1", InvokeOptions::new())
        .expect("accepted");
    let i2 = api
        .start_invoke("2", InvokeOptions::new())
        .expect("accepted");
    let (n1, n2) = (p1.await.expect("join"), p2.await.expect("join"));
    let mut bodies = [n1.text(), n2.text()];
    bodies.sort();
    assert_eq!(bodies, ["1", "2"]);
    assert_eq!(api.inflight(), 2, "both run at once");
    for n in [&n2, &n1] {
        let id = n.header("lambda-runtime-aws-request-id").expect("id");
        let r = post(
            &addr,
            &format!("/2018-06-01/runtime/invocation/{id}/response"),
            &[],
            n.text(),
        )
        .await;
        assert_eq!(r.status, 202);
    }
    assert_eq!(i1.outcome().await, Outcome::Response("1".into()));
    assert_eq!(i2.outcome().await, Outcome::Response("2".into()));
}

#[tokio::test]
async fn idle_means_runtime_and_extensions_are_blocked_in_next() {
    let (api, addr) = api(Config::default()).await;
    let ext = register(&addr, "ext", r#"["INVOKE"]"#).await;
    let (a, e) = (addr.clone(), ext.clone());
    let ext_poll = tokio::spawn(async move {
        get(
            &a,
            "/2020-01-01/extension/event/next",
            &[("Lambda-Extension-Identifier", &e)],
        )
        .await
    });
    let a = addr.clone();
    let runtime = tokio::spawn(async move { get(&a, NEXT, &[]).await });
    api.wait_idle().await;
    assert_eq!(api.init_state(), InitState::Ready);
    let inv = api
        .start_invoke("{}", InvokeOptions::new())
        .expect("accepted");
    assert!(!api.is_idle());
    let id = runtime
        .await
        .expect("join")
        .header("lambda-runtime-aws-request-id")
        .expect("id");
    ext_poll.await.expect("join");
    post(
        &addr,
        &format!("/2018-06-01/runtime/invocation/{id}/response"),
        &[],
        "{}",
    )
    .await;
    inv.outcome().await;
    // Idle again only once both the runtime and the extension poll again.
    let a = addr.clone();
    let _runtime = tokio::spawn(async move { get(&a, NEXT, &[]).await });
    let (a, e) = (addr.clone(), ext.clone());
    let _ext_poll = tokio::spawn(async move {
        get(
            &a,
            "/2020-01-01/extension/event/next",
            &[("Lambda-Extension-Identifier", &e)],
        )
        .await
    });
    api.wait_idle().await;
    assert!(api.extensions()[0].waiting);
    assert_eq!(api.extensions()[0].next_calls, 2);
}

#[tokio::test]
async fn path_prefix_is_part_of_the_runtime_api_value() {
    let (api, addr) = api(Config {
        path_prefix: "/lambda".into(),
        ..Config::default()
    })
    .await;
    assert!(addr.ends_with("/lambda"));
    let host = api.local_addr().to_string();
    let a = host.clone();
    let runtime = tokio::spawn(async move { get(&a, &format!("/lambda{NEXT}"), &[]).await });
    assert_eq!(api.wait_init().await, InitState::Ready);
    let inv = api
        .start_invoke("{}", InvokeOptions::new().request_id("p"))
        .expect("accepted");
    assert_eq!(runtime.await.expect("join").status, 200);
    let r = post(
        &host,
        "/lambda/2018-06-01/runtime/invocation/p/response",
        &[],
        "done",
    )
    .await;
    assert_eq!(r.status, 202);
    assert_eq!(inv.outcome().await, Outcome::Response("done".into()));
    assert_eq!(get(&host, NEXT, &[]).await.status, 404);
}
