//! The adapter end to end over real sockets: portside-local's Runtime API, the
//! real `portside` binary, and a real HTTP app. Each test checks what the app
//! receives and what Lambda receives.

use std::time::{Duration, Instant};

use crate::support::events::{http_api, rest_api, websocket};
use crate::support::{error_of, result_json, sample, App, Function, KeepAlive, Reply};
use portside_local::runtime_api::{self, InitState, InvokeOptions, ShutdownReason};
use serde_json::{json, Value};

fn unbase64(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[tokio::test]
async fn an_http_api_request_reaches_the_app_and_its_answer_reaches_lambda() {
    let app = App::start(KeepAlive::Forever, |_req| {
        Reply::new(201)
            .header("Content-Type", "image/png")
            .header(
                "Set-Cookie",
                "a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
            )
            .header("Set-Cookie", "b=2")
            .header("X-Multi", "one")
            .header("X-Multi", "two")
            .body(vec![0x89, b'P', b'N', b'G', 0, 0xff])
    })
    .await;
    let f = Function::start(app.port, &[]).await.ready().await;
    let body = [0u8, 1, 2, 3, 254, 255];
    let outcome = f
        .invoke_with(
            &http_api("PUT", "/files/a b")
                .query("x=1&x=2&y=%2F&z=a+b")
                .cookies(&["session=abc", "theme=dark"])
                .header("content-type", "application/octet-stream")
                .header("x-forwarded-for", "203.0.113.9")
                .binary_body(&body)
                .build(),
            InvokeOptions::new()
                .timeout(Duration::from_secs(10))
                .request_id("11111111-2222-3333-4444-555555555555")
                .trace_id(
                    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                ),
        )
        .await;

    // What the app received.
    let received = app.received();
    assert_eq!(received.len(), 1);
    let req = &received[0];
    assert_eq!(req.method, "PUT");
    assert_eq!(req.target, "/files/a%20b?x=1&x=2&y=%2F&z=a+b");
    assert_eq!(req.body.as_ref(), &body);
    assert_eq!(req.one("cookie"), "session=abc; theme=dark");
    assert_eq!(req.one("host"), "api.example.com");
    assert_eq!(req.one("content-length"), "6");
    assert_eq!(req.one("x-forwarded-for"), "203.0.113.9");
    let trace = req.one("x-amzn-trace-id");
    assert!(trace.starts_with("Root=1-5759e988"), "{trace}");
    let context: Value = serde_json::from_str(req.one("x-amzn-request-context")).unwrap();
    assert_eq!(context["requestId"], "req-1");
    assert_eq!(context["http"]["sourceIp"], "203.0.113.9");
    let lambda: Value = serde_json::from_str(req.one("x-amzn-lambda-context")).unwrap();
    assert_eq!(lambda["request_id"], "11111111-2222-3333-4444-555555555555");
    assert_eq!(
        lambda["invoked_function_arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:portside-local"
    );
    assert_eq!(lambda["env_config"]["function_name"], "portside-test");
    assert_eq!(lambda["env_config"]["memory"], 512);
    assert_eq!(
        lambda["env_config"]["log_group"],
        "/aws/lambda/portside-test"
    );
    assert!(lambda["deadline"].as_u64().unwrap() > 1_700_000_000_000);

    // What Lambda received.
    let result = result_json(&outcome);
    assert_eq!(result["statusCode"], 201);
    assert_eq!(result["headers"]["x-multi"], "one, two");
    assert_eq!(result["headers"]["content-type"], "image/png");
    assert_eq!(
        result["cookies"],
        json!(["a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "b=2"])
    );
    assert_eq!(result["isBase64Encoded"], true);
    assert_eq!(
        unbase64(result["body"].as_str().unwrap()),
        [0x89, b'P', b'N', b'G', 0, 0xff]
    );
}

#[tokio::test]
async fn every_http_source_gets_its_own_result_shape() {
    let app = App::start(KeepAlive::Forever, |req| {
        Reply::echo(req)
            .header("Set-Cookie", "a=1")
            .header("Set-Cookie", "b=2")
    })
    .await;
    let f = Function::start(app.port, &[]).await.ready().await;

    let v1 = result_json(
        &f.invoke(&sample(
            "aws-lambda-rust-runtime/apigw_multi_value_proxy_request.json",
        ))
        .await,
    );
    assert_eq!(v1["multiValueHeaders"]["set-cookie"], json!(["a=1", "b=2"]));
    assert!(v1.get("headers").is_none() && v1.get("cookies").is_none());

    let url = result_json(
        &f.invoke(&sample(
            "aws-lambda-rust-runtime/lambda_function_url_request.json",
        ))
        .await,
    );
    assert_eq!(url["cookies"], json!(["a=1", "b=2"]));

    let alb = result_json(
        &f.invoke(&sample(
            "aws-lambda-rust-runtime/alb_multi_value_request.json",
        ))
        .await,
    );
    assert_eq!(alb["statusDescription"], "200 OK");
    assert_eq!(
        alb["multiValueHeaders"]["set-cookie"],
        json!(["a=1", "b=2"])
    );
    assert!(alb.get("headers").is_none());

    let alb = result_json(
        &f.invoke(&sample("aws-lambda-rust-runtime/alb_request.json"))
            .await,
    );
    assert_eq!(alb["statusDescription"], "200 OK");
    assert!(alb.get("multiValueHeaders").is_none());
    assert_eq!(alb["headers"]["set-cookie"], "a=1");
    assert_eq!(alb["headers"]["Set-cookie"], "b=2");

    let lattice = result_json(
        &f.invoke(&sample("powertools-lambda-python/vpcLatticeV2Event.json"))
            .await,
    );
    assert_eq!(lattice["statusCode"], 200);
    assert!(lattice.get("statusDescription").is_none());
    let echoed: Value = serde_json::from_str(lattice["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["target"], "/newpath?order-id=1");
    assert_eq!(echoed["body"], "{\"message\": \"Hello from Lambda!\"}");

    assert_eq!(app.received().len(), 5);
}

#[tokio::test]
async fn a_non_http_event_is_posted_to_the_pass_through_path_and_the_answer_is_the_result() {
    let app = App::start(KeepAlive::Forever, |req| {
        if req.all("x-portside-event-source") == ["aws:sqs"] {
            Reply::new(200)
                .header("Content-Type", "application/json")
                .body(r#"{"batchItemFailures":[{"itemIdentifier":"059f36b4-87a3-44ab-83d2-661975830a7d"}]}"#)
        } else if req.all("x-portside-event-source") == ["aws:sns"] {
            Reply::new(500).body("cannot handle this")
        } else {
            Reply::new(200)
        }
    })
    .await;
    let f = Function::start(app.port, &[("AWS_LWA_PASS_THROUGH_PATH", "/lambda-events")])
        .await
        .ready()
        .await;
    let event = sample("aws-lambda-rust-runtime/example-sqs-event.json");
    let outcome = f.invoke(&event).await;
    assert_eq!(
        result_json(&outcome),
        json!({"batchItemFailures": [{"itemIdentifier": "059f36b4-87a3-44ab-83d2-661975830a7d"}]})
    );
    let req = &app.received()[0];
    assert_eq!(
        (req.method.as_str(), req.target.as_str()),
        ("POST", "/lambda-events")
    );
    assert_eq!(
        req.body,
        event.as_bytes(),
        "the event reaches the app byte for byte"
    );
    assert_eq!(req.one("content-type"), "application/json");
    assert!(req.one("x-amzn-lambda-context").contains("request_id"));

    // A failure answer fails the invocation, so Lambda retries.
    let outcome = f
        .invoke(&sample("aws-lambda-rust-runtime/example-sns-event.json"))
        .await;
    let (kind, message) = error_of(&outcome);
    assert_eq!(kind, "Portside.AppError");
    assert!(
        message.contains("500") && message.contains("cannot handle this"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unreachable_app_is_a_typed_error_and_the_next_invocation_is_served() {
    let app = App::start(KeepAlive::Forever, Reply::echo).await;
    let f = Function::start(app.port, &[]).await.ready().await;
    let port = app.stop();
    let event = http_api("GET", "/").build();

    let (kind, message) = error_of(&f.invoke(&event).await);
    assert_eq!(kind, "Portside.AppUnreachable");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");

    let app = App::start_on(port, KeepAlive::Forever, Reply::echo).await;
    assert_eq!(result_json(&f.invoke(&event).await)["statusCode"], 200);
    assert_eq!(app.received().len(), 1);
}

#[tokio::test]
async fn a_slow_app_times_out_before_lambdas_deadline_and_the_next_invocation_is_served() {
    let app = App::start(KeepAlive::Forever, |req| {
        let reply = Reply::echo(req);
        if req.target.starts_with("/slow") {
            reply.delay(Duration::from_secs(5))
        } else {
            reply
        }
    })
    .await;
    let f = Function::start(app.port, &[]).await.ready().await;
    let started = Instant::now();
    let outcome = f
        .invoke_with(
            &http_api("GET", "/slow").build(),
            InvokeOptions::new().timeout(Duration::from_secs(1)),
        )
        .await;
    let (kind, message) = error_of(&outcome);
    assert_eq!(
        kind, "Portside.AppTimeout",
        "the adapter reports it, not Lambda's timeout"
    );
    assert!(message.contains("did not answer"), "{message}");
    assert!(started.elapsed() < Duration::from_millis(1000));

    let outcome = f.invoke(&http_api("GET", "/fast").build()).await;
    assert_eq!(result_json(&outcome)["statusCode"], 200);
}

#[tokio::test]
async fn statuses_listed_in_error_status_codes_fail_the_invocation() {
    let app = App::start(KeepAlive::Forever, |req| {
        if req.target == "/bad" {
            Reply::new(502).body("upstream is down")
        } else {
            Reply::new(404)
        }
    })
    .await;
    let f = Function::start(app.port, &[("AWS_LWA_ERROR_STATUS_CODES", "500,502-504")])
        .await
        .ready()
        .await;
    let (kind, message) = error_of(&f.invoke(&http_api("GET", "/bad").build()).await);
    assert_eq!(kind, "Portside.AppError");
    assert!(
        message.contains("502") && message.contains("upstream is down"),
        "{message}"
    );
    assert_eq!(
        result_json(&f.invoke(&http_api("GET", "/other").build()).await)["statusCode"],
        404
    );
}

#[tokio::test]
async fn a_malformed_event_is_a_typed_error_and_the_next_invocation_is_served() {
    let app = App::start(KeepAlive::Forever, Reply::echo).await;
    let f = Function::start(app.port, &[]).await.ready().await;
    let broken =
        r#"{"version": "2.0", "rawPath": 7, "requestContext": {"http": {"method": "GET"}}}"#;
    let (kind, message) = error_of(&f.invoke(broken).await);
    assert_eq!(kind, "Portside.InvalidEvent");
    assert!(message.contains("`rawPath` must be a string"), "{message}");
    assert!(app.received().is_empty(), "nothing reached the app");
    assert_eq!(
        result_json(&f.invoke(&http_api("GET", "/").build()).await)["statusCode"],
        200
    );
}

#[tokio::test]
async fn garbage_from_the_app_is_a_typed_error_and_the_next_invocation_is_served() {
    let app = App::start(KeepAlive::Forever, |req| {
        if req.target == "/garbage" {
            Reply::new(200).raw("this is not HTTP\r\n\r\n")
        } else {
            Reply::echo(req)
        }
    })
    .await;
    let f = Function::start(app.port, &[]).await.ready().await;
    let (kind, _) = error_of(&f.invoke(&http_api("GET", "/garbage").build()).await);
    assert_eq!(kind, "Portside.AppInvalidResponse");
    assert_eq!(
        result_json(&f.invoke(&http_api("GET", "/").build()).await)["statusCode"],
        200
    );
}

/// RFC 9110 §8.6: a `Content-Length` that is a list of one value repeated
/// (`3, 3`, or `00,0`) is that value; differing values are an invalid
/// message (RFC 9112 §6.3). Found by the `app_response` fuzz target, whose
/// oracle had read only a single number.
#[tokio::test]
async fn a_content_length_list_of_one_value_is_that_value_and_differing_ones_are_refused() {
    let app = App::start(KeepAlive::Forever, |req| {
        let length = match req.target.as_str() {
            "/repeated" => "3, 3",
            "/zeros" => "00,0",
            "/differing" => "3, 4",
            _ => return Reply::echo(req),
        };
        Reply::new(200).raw(format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {length}\r\n\r\nabcdef"
        ))
    })
    .await;
    let f = Function::start(app.port, &[]).await.ready().await;
    for (path, body) in [("/repeated", "abc"), ("/zeros", "")] {
        let result = result_json(&f.invoke(&http_api("GET", path).build()).await);
        assert_eq!(result["statusCode"], 200, "{path}");
        assert_eq!(result["body"], body, "{path}: the announced bytes, exactly");
    }
    let (kind, _) = error_of(&f.invoke(&http_api("GET", "/differing").build()).await);
    assert_eq!(kind, "Portside.AppInvalidResponse");
    assert_eq!(app.received().len(), 3, "each request reached the app once");
    assert_eq!(
        result_json(&f.invoke(&http_api("GET", "/").build()).await)["statusCode"],
        200
    );
}

#[tokio::test]
async fn a_response_head_too_large_to_read_is_a_typed_error_and_the_next_invocation_is_served() {
    let app = App::start(KeepAlive::Forever, |req| {
        // Many cookies: 40 KiB of headers is read, 80 KiB is refused.
        let cookies = match req.target.as_str() {
            "/big-head" => 80,
            "/large-head" => 40,
            _ => 0,
        };
        let mut reply = Reply::new(200).header("Content-Type", "text/plain");
        for n in 0..cookies {
            reply = reply.header("Set-Cookie", &format!("c{n}={}", "v".repeat(1000)));
        }
        reply.body(b"fine".to_vec())
    })
    .await;
    let f = Function::start(app.port, &[]).await.ready().await;
    let (kind, message) = error_of(&f.invoke(&http_api("GET", "/big-head").build()).await);
    assert_eq!(kind, "Portside.AppInvalidResponse");
    assert!(message.contains("response head"), "{message}");
    let large = result_json(&f.invoke(&http_api("GET", "/large-head").build()).await);
    assert_eq!(large["cookies"].as_array().map(Vec::len), Some(40));
    assert_eq!(large["body"], "fine");
}

/// Long bodies arrive as the event gives them, however the adapter reads
/// the payload: a 1 MiB binary upload (taken apart as it arrives, its
/// base64 decoded frame by frame), the same as a PUT (whose event the
/// adapter keeps, split, to rebuild the request if a stale connection ate
/// it), the same base64 characters as text (the event does not say base64:
/// read whole) and a text body full of escapes (read whole).
#[tokio::test]
async fn long_bodies_reach_the_app_byte_for_byte_however_the_payload_is_read() {
    let app = App::start(KeepAlive::Forever, |req| {
        Reply::new(200)
            .header("Content-Type", "text/plain")
            .body(req.body.len().to_string().into_bytes())
    })
    .await;
    let f = Function::start(app.port, &[]).await.ready().await;
    let bytes: Vec<u8> = (0..1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let as_text = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    };
    let escaped = "a \"quoted\" line, a \\ and a tab\t\n".repeat(20_000);
    let cases: [(&str, Vec<u8>, String); 4] = [
        (
            "POST",
            bytes.clone(),
            http_api("POST", "/up").binary_body(&bytes).build(),
        ),
        (
            "PUT",
            bytes.clone(),
            http_api("PUT", "/up").binary_body(&bytes).build(),
        ),
        (
            "POST",
            as_text.clone().into_bytes(),
            http_api("POST", "/up").body(&as_text).build(),
        ),
        (
            "POST",
            escaped.clone().into_bytes(),
            http_api("POST", "/up").body(&escaped).build(),
        ),
    ];
    for (i, (_, want, event)) in cases.iter().enumerate() {
        let result = result_json(&f.invoke(event).await);
        assert_eq!(result["statusCode"], 200, "case {i}: {result}");
        assert_eq!(result["body"], want.len().to_string(), "case {i}");
    }
    let received = app.received();
    assert_eq!(received.len(), cases.len(), "each request sent once");
    for (i, ((method, want, _), req)) in cases.iter().zip(&received).enumerate() {
        assert_eq!(&req.method, method, "case {i}");
        assert!(
            req.body.as_ref() == want.as_slice(),
            "case {i}: the body differs"
        );
        assert_eq!(
            req.one("content-length"),
            want.len().to_string(),
            "case {i}"
        );
    }
}

#[tokio::test]
async fn a_response_over_lambdas_limit_is_an_error_not_a_truncated_body() {
    let app = App::start(KeepAlive::Forever, |req| {
        let size = if req.target == "/big" {
            7 * 1024 * 1024
        } else {
            10
        };
        Reply::new(200)
            .header("Content-Type", "text/plain")
            .body(vec![b'x'; size])
    })
    .await;
    let f = Function::start(app.port, &[]).await.ready().await;
    let (kind, message) = error_of(&f.invoke(&http_api("GET", "/big").build()).await);
    assert_eq!(kind, "Portside.ResponseTooLarge");
    // Lambda's own limit, as its Runtime API says it (local/FRONTDOOR.md).
    assert!(message.contains("6,291,556 bytes"), "{message}");
    assert_eq!(
        result_json(&f.invoke(&http_api("GET", "/").build()).await)["body"],
        "xxxxxxxxxx"
    );
}

#[tokio::test]
async fn a_keep_alive_connection_the_app_closed_while_idle_never_fails_an_invocation() {
    // The app closes idle connections after 50 ms, as frameworks do.
    let app = App::start(
        KeepAlive::CloseIdleAfter(Duration::from_millis(50)),
        Reply::echo,
    )
    .await;
    let f = Function::start(app.port, &[]).await.ready().await;
    for i in 0..3 {
        let outcome = f
            .invoke(
                &http_api("POST", &format!("/n{i}"))
                    .binary_body(b"x")
                    .build(),
            )
            .await;
        assert_eq!(result_json(&outcome)["statusCode"], 200, "invocation {i}");
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    assert_eq!(
        app.received().len(),
        3,
        "each request reached the app exactly once"
    );
}

#[tokio::test]
async fn idle_connections_older_than_the_pool_timeout_are_not_reused() {
    let app = App::start(KeepAlive::Forever, Reply::echo).await;
    let f = Function::start(app.port, &[("AWS_LWA_POOL_IDLE_TIMEOUT_SECONDS", "0.2")])
        .await
        .ready()
        .await;
    f.invoke(&http_api("GET", "/a").build()).await;
    f.invoke(&http_api("GET", "/b").build()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    f.invoke(&http_api("GET", "/c").build()).await;
    let connections: Vec<usize> = app.received().iter().map(|r| r.connection).collect();
    assert_eq!(
        connections[0], connections[1],
        "a fresh idle connection is reused"
    );
    assert_ne!(connections[1], connections[2], "a stale one is not");
}

#[tokio::test]
async fn a_bad_configuration_value_is_an_init_error_naming_the_variable() {
    let f = Function::start(8080, &[("AWS_LWA_READINESS_CHECK_PROTOCOL", "grpc")]).await;
    let state = tokio::time::timeout(Duration::from_secs(10), f.api.wait_init())
        .await
        .unwrap();
    match state {
        InitState::Failed(err) => {
            assert_eq!(err.error_type, "Portside.InvalidConfig");
            assert!(
                err.error_message
                    .contains("AWS_LWA_READINESS_CHECK_PROTOCOL"),
                "{}",
                err.error_message
            );
            assert!(
                err.error_message.contains("http or tcp"),
                "{}",
                err.error_message
            );
        }
        other => panic!("{other:?}"),
    }
    let mut child = f.child;
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success());
}

#[tokio::test]
async fn init_waits_for_the_app_and_uses_the_readiness_path() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let f = Function::start(port, &[("AWS_LWA_READINESS_CHECK_PATH", "/healthz")]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        f.api.init_state(),
        InitState::Pending,
        "no app yet, so no init"
    );
    let app = App::start_on(port, KeepAlive::Forever, |req| {
        if req.target == "/healthz" {
            Reply::new(200)
        } else {
            Reply::echo(req)
        }
    })
    .await;
    let f = f.ready().await;
    assert_eq!(app.all_received()[0].target, "/healthz");
    assert_eq!(
        result_json(&f.invoke(&http_api("GET", "/").build()).await)["statusCode"],
        200
    );
    assert!(f.log().contains("the app is ready"), "{}", f.log());
}

#[tokio::test]
async fn the_first_invocation_goes_out_on_the_connection_the_readiness_check_opened() {
    let app = App::start(KeepAlive::Forever, Reply::echo).await;
    let f = Function::start(app.port, &[]).await.ready().await;
    let outcome = f.invoke(&http_api("GET", "/first").build()).await;
    assert_eq!(result_json(&outcome)["statusCode"], 200);
    let all = app.all_received();
    assert_eq!(all.len(), 2, "one readiness check, one invocation: {all:?}");
    assert_eq!(all[0].one("user-agent"), "portside-readiness-check");
    assert_eq!(all[1].target, "/first");
    assert_eq!(
        all[0].connection, all[1].connection,
        "no new connection for the first invocation"
    );
}

#[tokio::test]
async fn a_readiness_timeout_fails_init_saying_why() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let f = Function::start(port, &[("AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS", "0.3")]).await;
    match tokio::time::timeout(Duration::from_secs(10), f.api.wait_init())
        .await
        .unwrap()
    {
        InitState::Failed(err) => {
            assert_eq!(err.error_type, "Portside.AppNotReady");
            assert!(
                err.error_message.contains("refused"),
                "{}",
                err.error_message
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn shutdown_lets_the_invocation_in_flight_finish_then_exits() {
    let app = App::start(KeepAlive::Forever, |req| {
        Reply::echo(req).delay(Duration::from_millis(600))
    })
    .await;
    let f = Function::start(app.port, &[]).await.ready().await;
    let registered = f.api.extensions();
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].name, "portside");
    assert_eq!(registered[0].events, ["SHUTDOWN"]);

    let invocation = f
        .api
        .start_invoke(
            http_api("GET", "/").build(),
            InvokeOptions::new().timeout(Duration::from_secs(10)),
        )
        .unwrap();
    // Let the request reach the app, then shut down.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let report = f
        .api
        .shutdown(ShutdownReason::Spindown, Duration::from_secs(2))
        .await;
    assert_eq!(report.delivered, ["portside"]);
    assert_eq!(result_json(&invocation.outcome().await)["statusCode"], 200);
    let mut child = f.child;
    let status = tokio::time::timeout(Duration::from_secs(3), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn the_runtime_api_may_carry_a_path_prefix() {
    let app = App::start(KeepAlive::Forever, Reply::echo).await;
    let config = runtime_api::Config {
        path_prefix: "/.rt".into(),
        ..runtime_api::Config::default()
    };
    let f = Function::start_with(config, app.port, &[])
        .await
        .ready()
        .await;
    assert!(f.api.runtime_api_env().ends_with("/.rt"));
    assert_eq!(
        result_json(&f.invoke(&http_api("GET", "/").build()).await)["statusCode"],
        200
    );
}

#[tokio::test]
async fn invocations_can_go_through_a_runtime_api_proxy() {
    // Registration goes to Lambda's own API; invocations to the proxy.
    let app = App::start(KeepAlive::Forever, Reply::echo).await;
    let lambda = portside_local::runtime_api::RuntimeApi::start(runtime_api::Config::default())
        .await
        .unwrap();
    let proxy_env = lambda.runtime_api_env();
    let f = Function::start(
        app.port,
        &[("AWS_LWA_LAMBDA_RUNTIME_API_PROXY", &proxy_env)],
    )
    .await;
    // `f.api` is Lambda's API here: the extension registered there...
    tokio::time::timeout(Duration::from_secs(10), f.api.wait_registered(1))
        .await
        .unwrap();
    // ...and the proxy serves the invocations.
    assert_eq!(lambda.wait_init().await, InitState::Ready);
    let outcome = lambda
        .invoke(http_api("GET", "/").build(), InvokeOptions::new())
        .await
        .unwrap();
    assert_eq!(result_json(&outcome)["statusCode"], 200);
}

#[tokio::test]
async fn with_async_init_init_returns_before_lambdas_limit_and_the_first_invocation_waits() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = runtime_api::Config {
        init_timeout: Duration::from_secs(10),
        ..runtime_api::Config::default()
    };
    let started = Instant::now();
    let f = Function::start_with(config, port, &[("AWS_LWA_ASYNC_INIT", "true")])
        .await
        .ready()
        .await;
    let handed_back = started.elapsed();
    assert!(handed_back < Duration::from_secs(10), "{handed_back:?}");
    assert!(
        handed_back >= Duration::from_secs(9),
        "it used the init time first: {handed_back:?}"
    );
    let invocation = f
        .api
        .start_invoke(
            http_api("GET", "/").build(),
            InvokeOptions::new().timeout(Duration::from_secs(20)),
        )
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _app = App::start_on(port, KeepAlive::Forever, Reply::echo).await;
    assert_eq!(result_json(&invocation.outcome().await)["statusCode"], 200);
    assert!(f.log().contains("handing init back"), "{}", f.log());
}

#[tokio::test]
async fn with_compression_on_responses_are_compressed_as_the_client_prefers() {
    use std::io::Read;
    let json: String = (0..3000)
        .map(|i| format!("{{\"id\":{i},\"name\":\"user {i}\"}},"))
        .collect();
    let body = json.clone();
    let app = App::start(KeepAlive::Forever, move |req| {
        if req.target == "/png" {
            Reply::new(200)
                .header("Content-Type", "image/png")
                .body(body.clone())
        } else {
            Reply::new(200)
                .header("Content-Type", "application/json")
                .body(body.clone())
        }
    })
    .await;
    let f = Function::start(app.port, &[("AWS_LWA_ENABLE_COMPRESSION", "true")])
        .await
        .ready()
        .await;
    let event = |path: &str, accept: Option<&str>| match accept {
        Some(accept) => http_api("GET", path)
            .header("accept-encoding", accept)
            .build(),
        None => http_api("GET", path).build(),
    };

    // A client that prefers brotli still takes gzip: gzip.
    let gzip = result_json(&f.invoke(&event("/", Some("gzip;q=0.8, br"))).await);
    assert_eq!(gzip["headers"]["content-encoding"], "gzip");
    assert_eq!(gzip["headers"]["vary"], "Accept-Encoding");
    assert_eq!(gzip["isBase64Encoded"], true);
    assert!(unbase64(gzip["body"].as_str().unwrap()).len() * 4 < json.len());

    let gzip = result_json(&f.invoke(&event("/", Some("gzip, deflate, br"))).await);
    assert_eq!(gzip["headers"]["content-encoding"], "gzip");
    let mut decoded = String::new();
    flate2::read::GzDecoder::new(&unbase64(gzip["body"].as_str().unwrap())[..])
        .read_to_string(&mut decoded)
        .unwrap();
    assert_eq!(decoded, json);

    let plain = result_json(&f.invoke(&event("/", None)).await);
    assert!(plain["headers"].get("content-encoding").is_none());
    assert_eq!(plain["body"], json);
    // Only codings portside does not have: the body as it is.
    let plain = result_json(&f.invoke(&event("/", Some("br, zstd"))).await);
    assert!(plain["headers"].get("content-encoding").is_none());
    assert_eq!(plain["body"], json);

    let png = result_json(&f.invoke(&event("/png", Some("br"))).await);
    assert!(
        png["headers"].get("content-encoding").is_none(),
        "images pass as they are"
    );
}

/// The environment `Function::start` gives, without `PORT`.
fn without_port(
    api: &portside_local::runtime_api::RuntimeApi,
    extra: &[(&str, &str)],
) -> std::collections::HashMap<String, String> {
    let mut vars: std::collections::HashMap<String, String> = [
        ("AWS_LAMBDA_RUNTIME_API", api.runtime_api_env()),
        ("AWS_LAMBDA_FUNCTION_NAME", "portside-test".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    vars
}

#[tokio::test]
async fn the_adapter_sends_requests_where_aws_lambda_http_endpoint_says() {
    let app = App::start(KeepAlive::Forever, Reply::echo).await;
    let api = runtime_api::RuntimeApi::start(runtime_api::Config::default())
        .await
        .unwrap();
    // Web Functions' own value: every address, so the adapter connects on loopback.
    let endpoint = format!("0.0.0.0:{}", app.port);
    let vars = without_port(&api, &[("AWS_LAMBDA_HTTP_ENDPOINT", &endpoint)]);
    let f = Function::spawn(api, vars).ready().await;
    let result = result_json(&f.invoke(&http_api("GET", "/where").build()).await);
    assert_eq!(result["statusCode"], 200);
    let targets: Vec<String> = app.received().iter().map(|r| r.target.clone()).collect();
    assert_eq!(targets, ["/where"]);
}

#[tokio::test]
async fn an_endpoint_and_a_port_that_disagree_fail_init_naming_both_variables() {
    let api = runtime_api::RuntimeApi::start(runtime_api::Config::default())
        .await
        .unwrap();
    let vars = without_port(
        &api,
        &[
            ("AWS_LAMBDA_HTTP_ENDPOINT", "127.0.0.1:3000"),
            ("AWS_LWA_PORT", "8080"),
        ],
    );
    let f = Function::spawn(api, vars);
    let state = tokio::time::timeout(Duration::from_secs(10), f.api.wait_init())
        .await
        .unwrap();
    match state {
        InitState::Failed(err) => {
            assert_eq!(err.error_type, "Portside.InvalidConfig");
            for variable in ["AWS_LAMBDA_HTTP_ENDPOINT", "AWS_LWA_PORT"] {
                assert!(
                    err.error_message.contains(variable),
                    "{}",
                    err.error_message
                );
            }
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn with_web_function_semantics_the_app_sees_what_a_web_function_sees() {
    let app = App::start(KeepAlive::Forever, |req| {
        Reply::echo(req)
            .header("lambda-web-error-type", "Runtime.Forged")
            .header("x-app", "kept")
    })
    .await;
    let f = Function::start(
        app.port,
        &[
            ("PORTSIDE_WEB_FUNCTION", "true"),
            ("PORTSIDE_WEB_ENDPOINT_NAME", "api"),
        ],
    )
    .await
    .ready()
    .await;
    // Readiness by TCP: no request reached the app before the invocation.
    assert!(app.all_received().is_empty(), "{:?}", app.all_received());
    let event = http_api("GET", "/who")
        .header("lambda-web-request-id", "forged")
        .header("x-real-ip", "10.9.9.9")
        .header("x-http-method-override", "DELETE")
        .header("x-forwarded-for", "198.51.100.1")
        .header("x-kept", "yes")
        .build();
    let outcome = f
        .invoke_with(
            &event,
            InvokeOptions::new()
                .timeout(Duration::from_secs(10))
                .request_id("6f7d1a2c-0000-4000-8000-000000000001"),
        )
        .await;
    let result = result_json(&outcome);
    assert_eq!(result["statusCode"], 200);
    let received = app.received().pop().unwrap();
    assert_eq!(
        received.one("lambda-web-request-id"),
        "6f7d1a2c-0000-4000-8000-000000000001"
    );
    assert_eq!(received.one("lambda-web-endpoint-name"), "api");
    assert_eq!(received.one("x-forwarded-for"), "198.51.100.1, 203.0.113.9");
    assert!(received.all("x-real-ip").is_empty());
    assert!(received.all("x-http-method-override").is_empty());
    assert_eq!(received.one("x-kept"), "yes");
    let headers = &result["headers"];
    assert_eq!(
        headers["lambda-web-request-id"],
        "6f7d1a2c-0000-4000-8000-000000000001"
    );
    assert!(headers.get("lambda-web-error-type").is_none(), "{headers}");
    assert_eq!(headers["x-app"], "kept");
}

/// The adapter with `PORTSIDE_WEB_FUNCTION=true`, for an app that answers
/// every request with what it received and a forged `lambda-web-error-type`.
async fn web_function_semantics() -> (App, Function) {
    let app = App::start(KeepAlive::Forever, |req| {
        Reply::echo(req).header("lambda-web-error-type", "Runtime.Forged")
    })
    .await;
    let f = Function::start(app.port, &[("PORTSIDE_WEB_FUNCTION", "true")])
        .await
        .ready()
        .await;
    (app, f)
}

/// Invokes `event` under request id `id`: the result's JSON.
async fn invoke_as(f: &Function, event: &str, id: &str) -> Value {
    let outcome = f
        .invoke_with(
            event,
            InvokeOptions::new()
                .timeout(Duration::from_secs(10))
                .request_id(id),
        )
        .await;
    result_json(&outcome)
}

// Web Functions' rule (web-functions-http.html): "Lambda appends the IP
// address of the connecting client as the last value [of X-Forwarded-For].
// Previous values come from the client and aren't validated", and the
// endpoint sets `lambda-web-request-id` and removes the client's
// `lambda-web-*` headers. A REST API (payload 1.0) names the connecting
// client in `requestContext.identity.sourceIp` ("The source IP address of the
// immediate TCP connection making the request to the API Gateway endpoint",
// API Gateway's $context reference).
#[tokio::test]
async fn with_web_function_semantics_a_rest_api_client_is_last_in_x_forwarded_for() {
    let (app, f) = web_function_semantics().await;
    // The builder's client is 203.0.113.1; the header is the client's own.
    let event = rest_api("GET", "/who")
        .header("X-Forwarded-For", "198.51.100.1")
        .header("lambda-web-request-id", "forged")
        .header("Lambda-Web-Endpoint-Name", "forged")
        .header("X-Real-IP", "10.9.9.9")
        .build();
    let result = invoke_as(&f, &event, "7a1b2c3d-0000-4000-8000-000000000001").await;
    assert_eq!(result["statusCode"], 200);
    // Where API Gateway has put the client last already, it stays once.
    let event = rest_api("GET", "/who")
        .header("X-Forwarded-For", "198.51.100.1, 203.0.113.1")
        .build();
    invoke_as(&f, &event, "7a1b2c3d-0000-4000-8000-000000000002").await;

    let received = app.received();
    assert_eq!(received.len(), 2);
    let first = &received[0];
    assert_eq!(first.one("x-forwarded-for"), "198.51.100.1, 203.0.113.1");
    assert_eq!(
        first.one("lambda-web-request-id"),
        "7a1b2c3d-0000-4000-8000-000000000001"
    );
    assert_eq!(first.one("lambda-web-endpoint-name"), "default");
    assert!(first.all("x-real-ip").is_empty());
    assert_eq!(
        received[1].one("x-forwarded-for"),
        "198.51.100.1, 203.0.113.1"
    );
    assert_eq!(
        received[1].one("lambda-web-request-id"),
        "7a1b2c3d-0000-4000-8000-000000000002"
    );
    // The response: the request id, and not the app's own lambda-web-*.
    let headers = &result["multiValueHeaders"];
    assert_eq!(
        headers["lambda-web-request-id"],
        json!(["7a1b2c3d-0000-4000-8000-000000000001"])
    );
    assert!(headers.get("lambda-web-error-type").is_none(), "{headers}");
}

// A WebSocket API's events carry the client in
// `requestContext.identity.sourceIp` too (the builder's is 203.0.113.5); the
// switch applies to them as to any HTTP event: `$connect` with the
// handshake's headers, and a message, which has none.
#[tokio::test]
async fn with_web_function_semantics_a_websocket_client_is_last_in_x_forwarded_for() {
    let (app, f) = web_function_semantics().await;
    let connect = websocket("CONNECT", "$connect")
        .headers(json!({"Host": "abc123.execute-api.eu-west-1.amazonaws.com",
            "X-Forwarded-For": "198.51.100.7", "lambda-web-request-id": "forged"}))
        .build();
    let result = invoke_as(&f, &connect, "7a1b2c3d-0000-4000-8000-000000000003").await;
    assert_eq!(result["statusCode"], 200);
    let message = websocket("MESSAGE", "$default").message("hi").build();
    invoke_as(&f, &message, "7a1b2c3d-0000-4000-8000-000000000004").await;

    let received = app.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].one("x-forwarded-for"),
        "198.51.100.7, 203.0.113.5"
    );
    assert_eq!(
        received[0].one("lambda-web-request-id"),
        "7a1b2c3d-0000-4000-8000-000000000003"
    );
    assert_eq!(received[1].one("x-forwarded-for"), "203.0.113.5");
    assert_eq!(
        received[1].one("lambda-web-request-id"),
        "7a1b2c3d-0000-4000-8000-000000000004"
    );
    assert_eq!(
        result["headers"]["lambda-web-request-id"],
        "7a1b2c3d-0000-4000-8000-000000000003"
    );
    assert!(result["headers"].get("lambda-web-error-type").is_none());
}

// VPC Lattice puts the client in `x-forwarded-for` itself ("x-forwarded-for:
// The source IP address", VPC Lattice's "HTTP targets" page); its event has no
// other address. The sample (powertools) is a real v2 event with headers.
#[tokio::test]
async fn with_web_function_semantics_a_vpc_lattice_client_stays_the_only_forwarded_address() {
    let (app, f) = web_function_semantics().await;
    let mut event: Value = serde_json::from_str(&sample(
        "powertools-lambda-python/vpcLatticeV2EventWithHeaders.json",
    ))
    .unwrap();
    assert_eq!(
        event["headers"]["x-forwarded-for"],
        json!(["172.31.40.143"])
    );
    event["headers"]["lambda-web-endpoint-name"] = json!(["forged"]);
    event["headers"]["x-http-method-override"] = json!(["DELETE"]);
    let result = invoke_as(
        &f,
        &event.to_string(),
        "7a1b2c3d-0000-4000-8000-000000000005",
    )
    .await;
    assert_eq!(result["statusCode"], 200);
    let received = app.received().pop().unwrap();
    assert_eq!(received.method, "GET");
    assert_eq!(received.one("x-forwarded-for"), "172.31.40.143");
    assert_eq!(
        received.one("lambda-web-request-id"),
        "7a1b2c3d-0000-4000-8000-000000000005"
    );
    assert_eq!(received.one("lambda-web-endpoint-name"), "default");
    assert!(received.all("x-http-method-override").is_empty());
    assert_eq!(
        result["headers"]["lambda-web-request-id"],
        "7a1b2c3d-0000-4000-8000-000000000005"
    );
    assert!(result["headers"].get("lambda-web-error-type").is_none());
}
