//! The retry rule end to end (RFC 9110 §9.2.2): a request the app may have
//! acted on is never sent to it twice. Real sockets, the real `portside`
//! binary, portside-local's Runtime API, and an app whose every byte the test
//! controls. Each failure is provoked on a *reused* keep-alive connection
//! (the pool is warmed first), where a resend would be tempting, and the test
//! counts how many times the app received the request.
//!
//! Expected counts come from the rule, not from the code: a POST (and any
//! pass-through event) reaches the app exactly once whatever happens; a GET
//! at most twice, and twice only when not a byte of response came back.

use std::time::Duration;

use crate::support::events::http_api;
use crate::support::{error_of, result_json, App, Function, KeepAlive, Received, Reply};

/// A JSON request: a payment when it is a POST, a read otherwise.
fn request(method: &str, raw_path: &str) -> String {
    http_api(method, raw_path)
        .header("content-type", "application/json")
        .body(if method == "POST" {
            "{\"amount\": 100}"
        } else {
            ""
        })
        .build()
}

const SQS_BATCH: &str = r#"{"Records": [{"messageId": "m-1", "eventSource": "aws:sqs",
    "body": "import row 1", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q"}]}"#;

/// The ways an app can fail a request after it has read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// A status line that is not HTTP.
    MalformedStatus,
    /// A response head far over the adapter's 60 KiB read limit.
    OversizedHead,
    /// Reads the request, closes without a byte of answer.
    CloseAfterReading,
    /// A valid head, then the connection closes part way through the body.
    CloseMidBody,
    /// Reads the request, resets the connection (RST) without answering.
    Reset,
}

impl Failure {
    const ALL: [Failure; 5] = [
        Failure::MalformedStatus,
        Failure::OversizedHead,
        Failure::CloseAfterReading,
        Failure::CloseMidBody,
        Failure::Reset,
    ];

    fn reply(self) -> Reply {
        match self {
            Failure::MalformedStatus => Reply::new(200).raw("HTTP/1.1 two-hundred OK\r\n\r\n"),
            Failure::OversizedHead => {
                let mut head = String::from("HTTP/1.1 200 OK\r\nX-Big: ");
                head.push_str(&"a".repeat(70 * 1024));
                head.push_str("\r\nContent-Length: 0\r\n\r\n");
                Reply::new(200).raw(head)
            }
            Failure::CloseAfterReading => Reply::new(200).raw(""),
            Failure::CloseMidBody => {
                Reply::new(200).raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
            }
            Failure::Reset => Reply::new(200).reset(),
        }
    }

    /// Whether a byte of response reached the adapter before the failure.
    fn answered(self) -> bool {
        !matches!(self, Failure::CloseAfterReading | Failure::Reset)
    }
}

/// An app that fails `/fail` and `/events` requests in the given way, but
/// only on a connection that has already served a request (a reused one);
/// everything else, including a request on a fresh connection, is echoed.
async fn app_failing(failure: Failure) -> App {
    App::start(KeepAlive::Forever, move |req: &Received| {
        let target = req.target.as_str();
        if (target == "/fail" || target == "/events") && req.nth_on_connection > 0 {
            failure.reply()
        } else {
            Reply::echo(req)
        }
    })
    .await
}

fn count(app: &App, method: &str, target: &str) -> usize {
    app.received()
        .iter()
        .filter(|r| r.method == method && r.target == target)
        .count()
}

/// Warms the pool with one request, so the next one goes out on a reused
/// connection; returns that connection's number.
async fn warm(f: &Function, app: &App) -> usize {
    let outcome = f.invoke(&request("GET", "/warm")).await;
    assert_eq!(result_json(&outcome)["statusCode"], 200);
    app.received().last().unwrap().connection
}

async fn assert_next_invocation_is_served(f: &Function) {
    let outcome = f.invoke(&request("GET", "/next")).await;
    assert_eq!(
        result_json(&outcome)["statusCode"],
        200,
        "the next invocation"
    );
}

#[tokio::test]
async fn a_post_reaches_the_app_exactly_once_whatever_the_app_does_wrong() {
    for failure in Failure::ALL {
        let app = app_failing(failure).await;
        let f = Function::start(app.port, &[]).await.ready().await;
        let warm_connection = warm(&f, &app).await;

        let outcome = f.invoke(&request("POST", "/fail")).await;
        let (kind, message) = error_of(&outcome);
        assert_eq!(
            kind, "Portside.AppInvalidResponse",
            "{failure:?}: {message}"
        );
        let posts: Vec<Received> = app
            .received()
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect();
        assert_eq!(posts.len(), 1, "{failure:?}: the app saw the POST once");
        assert_eq!(
            posts[0].connection, warm_connection,
            "{failure:?}: the POST went out on the warmed, reused connection"
        );
        if failure == Failure::OversizedHead {
            assert!(message.contains("60 KiB"), "{message}");
        }
        if !failure.answered() {
            assert!(message.contains("not sent again"), "{failure:?}: {message}");
        }
        assert_next_invocation_is_served(&f).await;
    }
}

#[tokio::test]
async fn a_get_is_sent_again_once_and_only_when_no_byte_of_answer_came_back() {
    for failure in Failure::ALL {
        let app = app_failing(failure).await;
        let f = Function::start(app.port, &[]).await.ready().await;
        let warm_connection = warm(&f, &app).await;

        let outcome = f.invoke(&request("GET", "/fail")).await;
        let gets = count(&app, "GET", "/fail");
        if failure.answered() {
            // The app answered something: it saw the request. Once.
            let (kind, _) = error_of(&outcome);
            assert_eq!(kind, "Portside.AppInvalidResponse", "{failure:?}");
            assert_eq!(gets, 1, "{failure:?}: an answered GET is not resent");
        } else {
            // Nothing came back on the reused connection: the idempotent GET
            // is sent once more, on a fresh connection, which answers.
            assert_eq!(result_json(&outcome)["statusCode"], 200, "{failure:?}");
            assert_eq!(gets, 2, "{failure:?}: resent once");
            let received = app.received();
            let attempts: Vec<&Received> =
                received.iter().filter(|r| r.target == "/fail").collect();
            assert_eq!(attempts[0].connection, warm_connection);
            assert_ne!(
                attempts[1].connection, warm_connection,
                "on a fresh connection"
            );
        }
        assert_next_invocation_is_served(&f).await;
    }
}

#[tokio::test]
async fn a_get_that_fails_again_on_the_fresh_connection_is_not_sent_a_third_time() {
    // Every second request on a connection is reset, and so is every /fail on
    // a fresh one: the GET is sent twice in all, then the invocation fails.
    let app = App::start(KeepAlive::Forever, |req: &Received| {
        if req.target == "/fail" {
            Reply::new(200).reset()
        } else {
            Reply::echo(req)
        }
    })
    .await;
    let f = Function::start(app.port, &[]).await.ready().await;
    warm(&f, &app).await;
    let (kind, _) = error_of(&f.invoke(&request("GET", "/fail")).await);
    assert_eq!(kind, "Portside.AppInvalidResponse");
    assert_eq!(count(&app, "GET", "/fail"), 2);
    assert_next_invocation_is_served(&f).await;
}

#[tokio::test]
async fn a_pass_through_event_reaches_the_app_at_most_once() {
    for failure in [
        Failure::CloseAfterReading,
        Failure::Reset,
        Failure::MalformedStatus,
    ] {
        let app = app_failing(failure).await;
        let f = Function::start(app.port, &[]).await.ready().await;
        warm(&f, &app).await;
        let (kind, _) = error_of(&f.invoke(SQS_BATCH).await);
        assert_eq!(kind, "Portside.AppInvalidResponse", "{failure:?}");
        assert_eq!(
            count(&app, "POST", "/events"),
            1,
            "{failure:?}: the SQS batch was imported once"
        );
        assert_next_invocation_is_served(&f).await;
    }
}

/// Stops or continues a process.
fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn a_connection_the_app_closed_while_the_sandbox_was_frozen_never_fails_a_post() {
    // The app closes keep-alive connections idle for 100 ms. The adapter is
    // frozen (as Lambda freezes the sandbox) while that happens, and the next
    // invocation is waiting when it thaws: the close and the invocation reach
    // the adapter at once. The pooled connection must be found closed before
    // the POST is written to it, so the POST is sent once and succeeds.
    let app = App::start(
        KeepAlive::CloseIdleAfter(Duration::from_millis(100)),
        Reply::echo,
    )
    .await;
    let f = Function::start(app.port, &[]).await.ready().await;
    let pid = f.child.id().unwrap();
    for round in 0..5 {
        warm(&f, &app).await;
        signal(pid, "-STOP");
        tokio::time::sleep(Duration::from_millis(300)).await; // the app closes the idle connection
        let thaw = async {
            // Long enough for the Runtime API to hand the invocation over.
            tokio::time::sleep(Duration::from_millis(100)).await;
            signal(pid, "-CONT");
        };
        let charge = request("POST", "/charge");
        let (outcome, ()) = tokio::join!(f.invoke(&charge), thaw);
        assert_eq!(
            result_json(&outcome)["statusCode"],
            200,
            "round {round}\nlog:\n{}",
            f.log()
        );
        assert_eq!(count(&app, "POST", "/charge"), round + 1, "round {round}");
    }
}
