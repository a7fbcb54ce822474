//! Response streaming for Function URLs and REST APIs
//! (`PORTSIDE_INVOKE_MODE=response_stream`), end to end: the app writes
//! chunks when the test says so, and the test watches them reach the Runtime
//! API. Every other source stays buffered JSON.

use std::time::Duration;

use crate::support::events::{function_url, rest_api};
use crate::support::{
    error_of, result_json, sample, App, Chunk, ChunkSource, Function, KeepAlive, Reply,
};
use bytes::Bytes;
use portside_local::runtime_api::{
    ErrorSource, InvokeOptions, Outcome, StreamEvent, StreamedResponse,
};
use serde_json::{json, Value};
use tokio::sync::mpsc;

const STREAM: &[(&str, &str)] = &[("PORTSIDE_INVOKE_MODE", "response_stream")];

/// An app whose `/stream` answer is fed by the returned sender; other paths answer at once.
async fn streaming_app(status: u16) -> (App, mpsc::UnboundedSender<Chunk>) {
    let (chunks, source) = ChunkSource::new();
    let app = App::start(KeepAlive::Forever, move |req| {
        if req.target.starts_with("/stream") {
            Reply::new(status)
                .header("Content-Type", "text/event-stream")
                .header("Cache-Control", "no-cache")
                .header("Set-Cookie", "session=1; HttpOnly")
                .header("Set-Cookie", "theme=dark")
                .chunked(source.clone())
        } else {
            Reply::new(200)
                .header("Content-Type", "application/json")
                .body("{\"buffered\":true}")
        }
    })
    .await;
    (app, chunks)
}

async fn next_event(events: &mut mpsc::Receiver<StreamEvent>) -> StreamEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("a stream event within 10 s")
        .expect("the stream is still open")
}

fn streamed(outcome: Outcome) -> StreamedResponse {
    match outcome {
        Outcome::Streamed(s) => s,
        other => panic!("expected a streamed response, got {other:?}"),
    }
}

#[tokio::test]
async fn each_chunk_reaches_lambda_while_the_app_is_still_writing() {
    let (app, chunks) = streaming_app(200).await;
    let f = Function::start(app.port, STREAM).await.ready().await;
    let mut invocation = f
        .api
        .start_invoke(
            function_url("GET", "/stream")
                .header("accept", "text/event-stream")
                .build(),
            InvokeOptions::new()
                .timeout(Duration::from_secs(10))
                .watch_stream(true),
        )
        .unwrap();
    let mut events = invocation.take_stream().unwrap();

    chunks
        .send(Chunk::Data(Bytes::from_static(b"data: one\n\n")))
        .unwrap();
    match next_event(&mut events).await {
        StreamEvent::Started { content_type } => {
            assert_eq!(
                content_type.as_deref(),
                Some("application/vnd.awslambda.http-integration-response")
            )
        }
        other => panic!("{other:?}"),
    }
    let prelude = match next_event(&mut events).await {
        StreamEvent::Prelude(prelude) => serde_json::from_slice::<Value>(&prelude).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(prelude["statusCode"], 200);
    assert_eq!(prelude["headers"]["content-type"], "text/event-stream");
    assert_eq!(prelude["headers"]["cache-control"], "no-cache");
    assert_eq!(
        prelude["cookies"],
        json!(["session=1; HttpOnly", "theme=dark"])
    );
    // The first chunk arrives while the app has not written the second.
    assert_eq!(
        next_event(&mut events).await,
        StreamEvent::Body(Bytes::from_static(b"data: one\n\n"))
    );

    chunks
        .send(Chunk::Data(Bytes::from_static(b"data: two\n\n")))
        .unwrap();
    assert_eq!(
        next_event(&mut events).await,
        StreamEvent::Body(Bytes::from_static(b"data: two\n\n"))
    );
    chunks.send(Chunk::End).unwrap();
    assert_eq!(
        next_event(&mut events).await,
        StreamEvent::End { error: None }
    );

    let response = streamed(invocation.outcome().await);
    assert_eq!(response.body, "data: one\n\ndata: two\n\n");
    assert!(response.error.is_none());
}

#[tokio::test]
async fn a_rest_api_response_streams_in_the_rest_format_while_the_app_writes() {
    let (app, chunks) = streaming_app(201).await;
    let f = Function::start(app.port, STREAM).await.ready().await;
    let mut invocation = f
        .api
        .start_invoke(
            rest_api("GET", "/stream")
                .header("Accept", "text/event-stream")
                .build(),
            InvokeOptions::new()
                .timeout(Duration::from_secs(10))
                .watch_stream(true),
        )
        .unwrap();
    let mut events = invocation.take_stream().unwrap();
    chunks
        .send(Chunk::Data(Bytes::from_static(b"data: one\n\n")))
        .unwrap();
    match next_event(&mut events).await {
        StreamEvent::Started { content_type } => assert_eq!(
            content_type.as_deref(),
            Some("application/vnd.awslambda.http-integration-response")
        ),
        other => panic!("{other:?}"),
    }
    let prelude = match next_event(&mut events).await {
        StreamEvent::Prelude(prelude) => serde_json::from_slice::<Value>(&prelude).unwrap(),
        other => panic!("{other:?}"),
    };
    // API Gateway's REST streaming format: status, and every value of every
    // header in multiValueHeaders, both Set-Cookie lines included.
    assert_eq!(prelude["statusCode"], 201);
    let headers = &prelude["multiValueHeaders"];
    assert_eq!(headers["content-type"], json!(["text/event-stream"]));
    assert_eq!(headers["cache-control"], json!(["no-cache"]));
    assert_eq!(
        headers["set-cookie"],
        json!(["session=1; HttpOnly", "theme=dark"])
    );
    assert!(headers.get("transfer-encoding").is_none());
    assert_eq!(
        next_event(&mut events).await,
        StreamEvent::Body(Bytes::from_static(b"data: one\n\n")),
        "the first chunk arrives before the app writes the second"
    );
    chunks
        .send(Chunk::Data(Bytes::from_static(b"data: two\n\n")))
        .unwrap();
    assert_eq!(
        next_event(&mut events).await,
        StreamEvent::Body(Bytes::from_static(b"data: two\n\n"))
    );
    chunks.send(Chunk::End).unwrap();
    assert_eq!(
        next_event(&mut events).await,
        StreamEvent::End { error: None }
    );
    let response = streamed(invocation.outcome().await);
    assert_eq!(response.body, "data: one\n\ndata: two\n\n");
}

#[tokio::test]
async fn a_rest_api_stream_that_breaks_off_ends_with_error_trailers() {
    let (app, chunks) = streaming_app(200).await;
    let f = Function::start(app.port, STREAM).await.ready().await;
    chunks
        .send(Chunk::Data(Bytes::from_static(b"partial")))
        .unwrap();
    chunks.send(Chunk::Abort).unwrap();
    let response = streamed(
        f.invoke(
            &rest_api("GET", "/stream")
                .header("Accept", "text/event-stream")
                .build(),
        )
        .await,
    );
    assert_eq!(response.body, "partial");
    let error = response.error.expect("an error report");
    assert_eq!(error.source, ErrorSource::Trailers);
    assert_eq!(error.error_type, "Portside.AppInvalidResponse");
}

#[tokio::test]
async fn without_response_stream_mode_a_rest_api_response_is_buffered() {
    let (app, chunks) = streaming_app(200).await;
    let f = Function::start(app.port, &[]).await.ready().await;
    chunks
        .send(Chunk::Data(Bytes::from_static(b"all at once")))
        .unwrap();
    chunks.send(Chunk::End).unwrap();
    let result = result_json(
        &f.invoke(
            &rest_api("GET", "/stream")
                .header("Accept", "text/event-stream")
                .build(),
        )
        .await,
    );
    assert_eq!(result["body"], "all at once");
    assert_eq!(
        result["multiValueHeaders"]["set-cookie"],
        json!(["session=1; HttpOnly", "theme=dark"])
    );
}

#[tokio::test]
async fn a_failure_part_way_is_reported_in_the_error_trailers() {
    let (app, chunks) = streaming_app(200).await;
    let f = Function::start(app.port, STREAM).await.ready().await;
    chunks
        .send(Chunk::Data(Bytes::from_static(b"partial")))
        .unwrap();
    chunks.send(Chunk::Abort).unwrap();
    let response = streamed(
        f.invoke(
            &function_url("GET", "/stream")
                .header("accept", "text/event-stream")
                .build(),
        )
        .await,
    );
    assert_eq!(
        response.body, "partial",
        "nothing but the app's bytes in the body"
    );
    let error = response.error.expect("an error report");
    assert_eq!(
        error.source,
        ErrorSource::Trailers,
        "real HTTP trailers, not body text"
    );
    assert_eq!(error.error_type, "Portside.AppInvalidResponse");
    let document: Value = serde_json::from_slice(&error.error_body).unwrap();
    assert_eq!(document["errorType"], "Portside.AppInvalidResponse");
    assert!(
        document["errorMessage"]
            .as_str()
            .unwrap()
            .contains("broke off"),
        "{document}"
    );

    // The next invocation is served.
    assert_eq!(
        result_json(
            &f.invoke(&sample(
                "aws-lambda-rust-runtime/apigw_v2_proxy_request.json"
            ))
            .await
        )["body"],
        "{\"buffered\":true}"
    );
}

#[tokio::test]
async fn a_stall_past_the_deadline_ends_the_stream_with_a_timeout_before_lambdas() {
    let (app, chunks) = streaming_app(200).await;
    let f = Function::start(app.port, STREAM).await.ready().await;
    chunks
        .send(Chunk::Data(Bytes::from_static(b"first")))
        .unwrap();
    let outcome = f
        .invoke_with(
            &function_url("GET", "/stream")
                .header("accept", "text/event-stream")
                .build(),
            InvokeOptions::new().timeout(Duration::from_millis(1500)),
        )
        .await;
    let response = streamed(outcome);
    assert_eq!(response.body, "first");
    assert_eq!(
        response.error.expect("an error report").error_type,
        "Portside.AppTimeout"
    );
}

#[tokio::test]
async fn bodies_past_the_buffered_limit_stream_through() {
    let (app, chunks) = streaming_app(200).await;
    let f = Function::start(app.port, STREAM).await.ready().await;
    let piece = Bytes::from(vec![b'x'; 64 * 1024]);
    for _ in 0..(7 * 16) {
        chunks.send(Chunk::Data(piece.clone())).unwrap();
    }
    chunks.send(Chunk::End).unwrap();
    let response = streamed(
        f.invoke(
            &function_url("GET", "/stream")
                .header("accept", "text/event-stream")
                .build(),
        )
        .await,
    );
    assert_eq!(response.body.len(), 7 * 1024 * 1024);
    assert!(response.body.iter().all(|&b| b == b'x'));
    assert!(response.error.is_none());
}

#[tokio::test]
async fn http_api_alb_lattice_and_pass_through_events_stay_buffered_json() {
    let (app, _chunks) = streaming_app(200).await;
    let f = Function::start(app.port, STREAM).await.ready().await;
    // HTTP APIs (payload 2.0 and 1.0), ALB and VPC Lattice read one JSON result.
    for file in [
        "aws-lambda-rust-runtime/apigw_v2_proxy_request.json",
        "aws-lambda-rust-runtime/example-apigw-sam-http-request.json",
        "aws-lambda-rust-runtime/alb_request.json",
        "powertools-lambda-python/vpcLatticeV2Event.json",
        "powertools-lambda-python/vpcLatticeEvent.json",
    ] {
        let outcome = f.invoke(&sample(file)).await;
        assert_eq!(result_json(&outcome)["statusCode"], 200, "{file}");
    }
    // A pass-through event: SQS and SDK callers read JSON.
    let sqs = f
        .invoke(&sample("aws-lambda-rust-runtime/example-sqs-event.json"))
        .await;
    assert_eq!(result_json(&sqs), json!({"buffered": true}));
}

#[tokio::test]
async fn an_error_status_fails_the_invocation_instead_of_streaming() {
    let (app, chunks) = streaming_app(503).await;
    let f = Function::start(
        app.port,
        &[
            ("PORTSIDE_INVOKE_MODE", "response_stream"),
            ("AWS_LWA_ERROR_STATUS_CODES", "500-599"),
        ],
    )
    .await
    .ready()
    .await;
    chunks
        .send(Chunk::Data(Bytes::from_static(b"overloaded")))
        .unwrap();
    chunks.send(Chunk::End).unwrap();
    let (kind, message) = error_of(
        &f.invoke(
            &function_url("GET", "/stream")
                .header("accept", "text/event-stream")
                .build(),
        )
        .await,
    );
    assert_eq!(kind, "Portside.AppError");
    assert!(
        message.contains("503") && message.contains("overloaded"),
        "{message}"
    );
}
