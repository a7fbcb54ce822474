//! Lambda Managed Instances (concurrent invocations) and SnapStart, end to end.

use std::sync::Arc;
use std::time::Duration;

use crate::support::events::http_api;
use crate::support::{result_json, App, Function, KeepAlive, Reply};
use portside_local::runtime_api::{self, InitState, InvokeOptions};
use serde_json::Value;

#[tokio::test]
async fn with_max_concurrency_n_invocations_run_at_once_each_with_its_own_context() {
    const N: usize = 4;
    // Every request waits until N requests are at the app at the same time:
    // with fewer running at once, none would ever be answered.
    let barrier = Arc::new(tokio::sync::Barrier::new(N));
    let app = App::start(KeepAlive::Forever, move |req| {
        if req.target.starts_with("/job") {
            Reply::echo(req).gate(barrier.clone())
        } else {
            Reply::new(200)
        }
    })
    .await;
    let config = runtime_api::Config {
        max_concurrency: N,
        ..runtime_api::Config::default()
    };
    let f = Function::start_with(config, app.port, &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")])
        .await
        .ready()
        .await;
    let invocations: Vec<_> = (0..N)
        .map(|i| {
            f.api
                .start_invoke(
                    http_api("GET", &format!("/job/{i}"))
                        .request_id(&format!("/job/{i}"))
                        .build(),
                    InvokeOptions::new()
                        .timeout(Duration::from_secs(10))
                        .request_id(format!("00000000-0000-0000-0000-00000000000{i}")),
                )
                .unwrap()
        })
        .collect();
    for (i, invocation) in invocations.into_iter().enumerate() {
        let result = result_json(&invocation.outcome().await);
        let echo: Value = serde_json::from_str(result["body"].as_str().unwrap()).unwrap();
        assert_eq!(echo["target"], format!("/job/{i}"));
        let headers = echo["headers"].as_array().unwrap();
        let lambda_context = headers
            .iter()
            .find(|h| h[0] == "x-amzn-lambda-context")
            .and_then(|h| h[1].as_str())
            .unwrap();
        let lambda_context: Value = serde_json::from_str(lambda_context).unwrap();
        assert_eq!(
            lambda_context["request_id"],
            format!("00000000-0000-0000-0000-00000000000{i}")
        );
    }
    let connections: std::collections::HashSet<usize> =
        app.received().iter().map(|r| r.connection).collect();
    assert_eq!(
        connections.len(),
        N,
        "one connection per concurrent invocation"
    );
}

fn snapstart_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start"),
        (
            "AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH",
            "/before-checkpoint",
        ),
        ("AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH", "/after-restore"),
    ]
}

#[tokio::test]
async fn snapstart_tells_the_app_and_shares_no_connection_across_the_snapshot() {
    let app = App::start(KeepAlive::Forever, Reply::echo).await;
    let f = Function::start(app.port, &snapstart_env()).await;
    tokio::time::timeout(Duration::from_secs(10), f.api.wait_snapshot_point())
        .await
        .expect("the runtime reaches the snapshot point");
    let before: Vec<String> = app.received().iter().map(|r| r.target.clone()).collect();
    assert_eq!(
        before,
        ["/before-checkpoint"],
        "the app was told before the snapshot"
    );

    f.api.restore();
    let f = f.ready().await;
    assert_eq!(
        result_json(
            &f.invoke(&http_api("GET", "/after").request_id("/after").build())
                .await
        )["statusCode"],
        200
    );

    let received = app.received();
    let targets: Vec<&str> = received.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, ["/before-checkpoint", "/after-restore", "/after"]);
    assert!(received
        .iter()
        .all(|r| r.method == "POST" || r.target == "/after"));
    let snapshot_connection = received[0].connection;
    assert!(
        received[1..]
            .iter()
            .all(|r| r.connection != snapshot_connection),
        "no connection from before the snapshot is used after the restore"
    );
    assert!(f.log().contains("SnapStart"), "{}", f.log());
}

#[tokio::test]
async fn a_failed_restore_hook_is_reported_to_lambda() {
    let app = App::start(KeepAlive::Forever, |req| {
        if req.target == "/after-restore" {
            Reply::new(500).body("cannot reconnect to the database")
        } else {
            Reply::new(200)
        }
    })
    .await;
    let f = Function::start(app.port, &snapstart_env()).await;
    tokio::time::timeout(Duration::from_secs(10), f.api.wait_snapshot_point())
        .await
        .unwrap();
    f.api.restore();
    let mut child = f.child;
    tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    let error = f.api.restore_error().expect("a /restore/error report");
    assert!(error.error_message.contains("500"), "{error:?}");
    assert!(matches!(f.api.init_state(), InitState::Failed(_)));
}
