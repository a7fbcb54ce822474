//! Every limit of the adapter at its edge (limit - 1, limit, limit + 1), over
//! real sockets and the real binary: within it the input is carried exactly
//! (what the app receives is compared with what the event describes, rebuilt
//! here independently), past it the invocation fails with the typed error
//! that names the limit, nothing reaches the app, and the next invocation is
//! served. The values are `portside::testing::limits::Limit`'s; the expected requests
//! are built from the event with `percent-encoding`, not by the adapter's code.

use std::time::Duration;

use crate::support::events::http_api;
use crate::support::{error_of, result_json, App, Function, KeepAlive, Reply};
use portside::testing::limits::Limit;
use portside_local::runtime_api::{self, InvokeOptions, Outcome};
use serde_json::{json, Value};

/// The GET the limits' tests send: an HTTP API event with exactly these
/// headers (the adapter adds `Host` from the domain name).
fn get(raw_path: &str, raw_query: &str, headers: Value) -> String {
    http_api("GET", raw_path)
        .query(raw_query)
        .headers(headers)
        .build()
}

/// The request target an HTTP API event describes, rebuilt from RFC 3986:
/// `rawPath` (decoded) with every byte outside `pchar` and `/` encoded, `?`,
/// then `rawQueryString` as the client sent it.
fn expected_target(raw_path: &str, raw_query: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const PATH: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'!')
        .remove(b'$')
        .remove(b'&')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')')
        .remove(b'*')
        .remove(b'+')
        .remove(b',')
        .remove(b';')
        .remove(b'=')
        .remove(b':')
        .remove(b'@')
        .remove(b'/');
    let path = utf8_percent_encode(raw_path, PATH).to_string();
    if raw_query.is_empty() {
        path
    } else {
        format!("{path}?{raw_query}")
    }
}

/// An app that answers every request with 200 and "ok".
async fn ok_app() -> App {
    App::start(KeepAlive::Forever, |_| {
        Reply::new(200)
            .header("Content-Type", "text/plain")
            .body("ok")
    })
    .await
}

/// The invocation failed with `Portside.RequestTooLarge` naming `limit`.
fn refused(outcome: &Outcome, limit: Limit) {
    let (error_type, message) = error_of(outcome);
    assert_eq!(error_type, "Portside.RequestTooLarge", "{message}");
    assert!(message.contains(limit.what()), "{message}");
    assert!(message.contains(&limit.to_string()), "{message}");
}

/// Requests the app received, readiness checks apart.
fn targets(app: &App) -> Vec<String> {
    app.received().into_iter().map(|r| r.target).collect()
}

#[tokio::test]
async fn a_request_target_of_the_limit_arrives_exactly_and_one_byte_more_is_refused_not_rewritten()
{
    let limit = Limit::RequestTarget.max();
    let app = ok_app().await;
    let f = Function::start(app.port, &[]).await.ready().await;
    // A long query and a long path alone; `/p` and `?` are 3 bytes.
    let cases = [
        ("/p".to_string(), "q=".to_string()),
        ("/".to_string(), String::new()),
    ];
    for (path, query) in cases {
        for length in [limit - 1, limit, limit + 1] {
            let (raw_path, raw_query) = if query.is_empty() {
                (format!("/{}", "p".repeat(length - 1)), String::new())
            } else {
                let fill = length - path.len() - 1 - query.len();
                (path.clone(), format!("{query}{}", "x".repeat(fill)))
            };
            let target = expected_target(&raw_path, &raw_query);
            assert_eq!(target.len(), length);
            let before = targets(&app).len();
            let outcome = f.invoke(&get(&raw_path, &raw_query, json!({}))).await;
            if length <= limit {
                assert_eq!(result_json(&outcome)["body"], "ok");
                let received = targets(&app);
                assert_eq!(received.len(), before + 1);
                assert!(received[before] == target, "the target arrived changed");
            } else {
                refused(&outcome, Limit::RequestTarget);
                assert_eq!(targets(&app).len(), before, "nothing reached the app");
            }
        }
    }
    // A path that grows past the limit only once encoded is refused too.
    let raw_path = format!("/{}", "é".repeat(limit / 6 + 1));
    assert!(raw_path.len() < limit && expected_target(&raw_path, "").len() > limit);
    let outcome = f.invoke(&get(&raw_path, "", json!({}))).await;
    refused(&outcome, Limit::RequestTarget);
    // And the function goes on.
    let outcome = f.invoke(&get("/after", "", json!({}))).await;
    assert_eq!(result_json(&outcome)["body"], "ok");
}

#[tokio::test]
async fn header_lines_up_to_the_limit_arrive_every_one_and_one_more_is_refused() {
    let limit = Limit::RequestHeaderLines.max();
    let app = ok_app().await;
    let f = Function::start(app.port, &[]).await.ready().await;
    for lines in [limit - 1, limit, limit + 1] {
        let headers: serde_json::Map<String, Value> = (0..lines)
            .map(|i| (format!("x-h{i}"), Value::from(format!("v{i}"))))
            .collect();
        let before = app.received().len();
        let outcome = f.invoke(&get("/h", "", Value::Object(headers))).await;
        if lines <= limit {
            assert_eq!(result_json(&outcome)["body"], "ok");
            let received = app.received().pop().unwrap();
            let theirs = received
                .headers
                .iter()
                .filter(|(name, _)| name.starts_with("x-h"))
                .count();
            assert_eq!(theirs, lines, "every header line reached the app");
            assert_eq!(
                received.one(&format!("x-h{}", lines - 1)),
                format!("v{}", lines - 1)
            );
        } else {
            refused(&outcome, Limit::RequestHeaderLines);
            assert_eq!(app.received().len(), before, "nothing reached the app");
        }
    }
}

/// An app whose answer to `/` is `head` (a whole response head, blank line
/// included) and a two-byte body.
async fn raw_head_app(head: String) -> App {
    let answer = format!("{head}ok");
    App::start(KeepAlive::Forever, move |req| {
        if req.target == "/head" {
            Reply::new(200).raw(answer.clone())
        } else {
            Reply::new(200).body("ready")
        }
    })
    .await
}

/// A response head of exactly `size` bytes with `lines` header lines:
/// `Content-Type`, `Content-Length: 2`, and filler lines `a:`, the last
/// padded to the size.
fn head_of(size: usize, lines: usize) -> String {
    let mut head =
        String::from("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n");
    for _ in 3..lines {
        head.push_str("a:\r\n");
    }
    let room = size - head.len() - 2;
    assert!(room >= 4, "room for the last line");
    head.push_str(&format!("b:{}\r\n", "x".repeat(room - 4)));
    head.push_str("\r\n");
    assert_eq!(head.len(), size);
    assert_eq!(head.matches("\r\n").count() - 2, lines);
    head
}

async fn head_case(head: String, within: bool, what: &str) {
    let app = raw_head_app(head).await;
    let f = Function::start(app.port, &[]).await.ready().await;
    let outcome = f.invoke(&get("/head", "", json!({}))).await;
    if within {
        let result = result_json(&outcome);
        assert_eq!(result["statusCode"], 200, "{what}");
        assert_eq!(result["body"], "ok", "{what}");
    } else {
        let (error_type, message) = error_of(&outcome);
        assert_eq!(
            error_type, "Portside.AppInvalidResponse",
            "{what}: {message}"
        );
        assert!(message.contains("response head"), "{what}: {message}");
    }
}

#[tokio::test]
async fn a_response_head_of_the_limit_is_read_and_one_byte_more_is_a_typed_error() {
    let limit = Limit::ResponseHead.max();
    for size in [limit - 1, limit, limit + 1] {
        head_case(head_of(size, 4), size <= limit, &format!("{size} bytes")).await;
    }
}

#[tokio::test]
async fn response_header_lines_up_to_the_limit_are_read_and_one_more_is_a_typed_error() {
    let limit = Limit::ResponseHeaderLines.max();
    for lines in [limit - 1, limit, limit + 1] {
        // 4 bytes a line: well within the head's size limit.
        let size = 80 + 4 * lines;
        head_case(
            head_of(size, lines),
            lines <= limit,
            &format!("{lines} lines"),
        )
        .await;
    }
}

#[tokio::test]
async fn a_buffered_result_of_lambdas_limit_is_delivered_and_one_byte_more_is_a_typed_error() {
    let limit = Limit::BufferedResult.max();
    // The result is `{"statusCode":200,...,"body":"<text>",...}`: plain
    // ASCII text adds its own length. Measure the rest once, with a short body.
    // (The body's length has as many digits as near the limit: the result
    // carries its Content-Length.)
    let body_len = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(1_000_000));
    let len = body_len.clone();
    let app = App::start(KeepAlive::Forever, move |_| {
        let n = len.load(std::sync::atomic::Ordering::SeqCst);
        Reply::new(200)
            .header("Content-Type", "text/plain")
            .body("x".repeat(n))
    })
    .await;
    let f = Function::start(app.port, &[]).await.ready().await;
    let event = get("/big", "", json!({}));
    let overhead = match f.invoke(&event).await {
        Outcome::Response(bytes) => bytes.len() - 1_000_000,
        other => panic!("{other:?}"),
    };
    for size in [limit - 1, limit, limit + 1] {
        body_len.store(size - overhead, std::sync::atomic::Ordering::SeqCst);
        let outcome = f
            .invoke_with(
                &event,
                InvokeOptions::new().timeout(Duration::from_secs(30)),
            )
            .await;
        if size <= limit {
            match &outcome {
                Outcome::Response(bytes) => assert_eq!(bytes.len(), size),
                other => panic!("{size}: {other:?}"),
            }
        } else {
            let (error_type, message) = error_of(&outcome);
            assert_eq!(error_type, "Portside.ResponseTooLarge", "{message}");
            assert!(
                message.contains(&Limit::BufferedResult.to_string()),
                "{message}"
            );
        }
    }
}

#[tokio::test]
async fn an_event_of_the_limit_is_read_whole_and_one_byte_more_is_refused_and_reported() {
    let limit = Limit::Event.max();
    let app = App::start(KeepAlive::Forever, |req| {
        Reply::new(200)
            .header("Content-Type", "text/plain")
            .body(req.body.len().to_string())
    })
    .await;
    // Lambda's own Runtime API would not hand over an event this large: this
    // one is configured to, as an emulator may be.
    let config = runtime_api::Config {
        max_request_bytes: limit + 16,
        ..runtime_api::Config::default()
    };
    let f = Function::start_with(config, app.port, &[])
        .await
        .ready()
        .await;
    let frame = |body: &str| {
        http_api("POST", "/upload")
            .headers(json!({"content-type": "text/plain"}))
            .body(body)
            .build()
    };
    let overhead = frame("").len();
    for size in [limit - 1, limit, limit + 1] {
        let body = "b".repeat(size - overhead);
        let event = frame(&body);
        assert_eq!(event.len(), size);
        let before = app.received().len();
        let outcome = f
            .invoke_with(
                &event,
                InvokeOptions::new().timeout(Duration::from_secs(60)),
            )
            .await;
        if size <= limit {
            assert_eq!(result_json(&outcome)["body"], body.len().to_string());
        } else {
            refused(&outcome, Limit::Event);
            assert_eq!(app.received().len(), before, "nothing reached the app");
        }
    }
    let outcome = f.invoke(&get("/after", "", json!({}))).await;
    assert_eq!(result_json(&outcome)["statusCode"], 200);
}

/// The readiness check's answer of `total` bytes (head and body), then the
/// first invocation: on the same connection when the answer was read whole.
async fn readiness_answer_of(total: usize) -> bool {
    let app = App::start(KeepAlive::Forever, move |req| {
        if req.all("user-agent").contains(&"portside-readiness-check") {
            // The test app writes `HTTP/1.1 200 OK\r\n`, then
            // `Content-Length: N\r\n\r\n`, then the body.
            let mut body_len = total - 17 - 20;
            let digits = |n: usize| n.to_string().len();
            body_len -= digits(body_len);
            if 17 + 20 + digits(body_len) + body_len != total {
                body_len += 1;
            }
            assert_eq!(17 + 20 + digits(body_len) + body_len, total);
            Reply::new(200).body("r".repeat(body_len))
        } else {
            Reply::new(200)
                .header("Content-Type", "text/plain")
                .body("ok")
        }
    })
    .await;
    let f = Function::start(app.port, &[]).await.ready().await;
    assert_eq!(
        result_json(&f.invoke(&get("/first", "", json!({}))).await)["body"],
        "ok"
    );
    let all = app.all_received();
    assert_eq!(all.len(), 2, "one readiness check, one invocation");
    all[0].connection == all[1].connection
}

#[tokio::test]
async fn a_readiness_answer_of_the_limit_keeps_its_connection_and_one_byte_more_closes_it() {
    let limit = Limit::ReadinessAnswer.max();
    assert!(readiness_answer_of(limit - 1).await, "limit - 1: reused");
    assert!(readiness_answer_of(limit).await, "limit: reused");
    assert!(
        !readiness_answer_of(limit + 1).await,
        "limit + 1: a new connection"
    );
}
