//! The app's response: arbitrary bytes served by a fake app over a real
//! loopback connection (status line, headers, chunked and fixed bodies,
//! early close, a connection left open) through the adapter's app client
//! (`proxy::AppClient::send`) and body reader (`invoke::read_body`), within
//! an invocation deadline.
//!
//! Input: one control byte (bit 0: the app closes the connection after its
//! answer; bits 1-7: the size of the pieces it writes, at least a 32nd of
//! the answer), then the answer.
//!
//! What must hold: no panic; no wait past the deadline; a typed error
//! (`AppInvalidResponse`, `AppTimeout`, `ResponseTooLarge`), never
//! `Internal`; a response only when httparse (an independent parser) reads a
//! complete head with the same status, a fixed-length body exactly the bytes
//! the head announced; and the request, a POST, reaches the app once: never
//! again on a second connection.
//!
//! How it stays fast: the fake app is a task on the client's own
//! current-thread runtime (no thread, no wake-up across cores), and that
//! runtime's clock is paused. tokio then moves the clock to the next timer
//! whenever no task can run, so an answer that stops short on a connection
//! left open reaches the 40 ms deadline at once instead of in 40 real ms.
//! A spinner task keeps the runtime from parking (and so the clock from
//! moving) while the fake app still has something to do: a loopback write is
//! in the reader's socket when it returns, but tokio would move the clock
//! before running the task that reads it. Waits are checked in both clocks:
//! the runtime's (the deadline, exactly) and the real one (a hang). And the
//! fake app keeps one port for the whole run.

#![no_main]

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request};
use libfuzzer_sys::fuzz_target;
use portside::testing::deadline::Deadline;
use portside::testing::error::PortsideError;
use portside::testing::invoke::read_body;
use portside::testing::proxy::{AppClient, Replay};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The invocation's deadline, in the runtime's paused time.
const DEADLINE: Duration = Duration::from_millis(40);
/// The timer's granularity: tokio rounds a deadline up to the millisecond.
const TICK: Duration = Duration::from_millis(2);
/// How long one input may take in real time before it counts as a hang
/// (a loaded machine), and how long the spinner keeps the clock still.
const SLACK: Duration = Duration::from_millis(1500);
/// The most writes the fake app splits an answer into: each is a round
/// between app and client, and a thousand one-byte writes made the target
/// several times slower for splits 32 places in the answer already give.
const PIECES: usize = 32;
/// The body limit (Lambda's 6 MB in the adapter; small here so the fuzzer
/// reaches it).
const LIMIT: usize = 1024;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a runtime")
    })
}

/// The fake app's port, bound once: binding a fresh port per input made
/// the kernel search an ephemeral range full of TIME_WAIT sockets (each
/// input leaves one), and the target slowed by half as the run went on.
/// Nonblocking, so leftovers are drained without waiting.
fn listener() -> (&'static TcpListener, SocketAddr) {
    static LISTENER: OnceLock<(TcpListener, SocketAddr)> = OnceLock::new();
    let (listener, address) = LISTENER.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        (listener, address)
    });
    (listener, *address)
}

/// The fake app: takes one connection, reads the request head and its
/// one-byte body, writes `answer` in `piece`-byte writes (letting the client
/// read each before the next), then closes or holds the connection until the
/// input ends. Sets `served` when it read a request carrying `mark`, and
/// clears `busy` when it has nothing more to do.
async fn serve(
    listener: tokio::net::TcpListener,
    answer: Vec<u8>,
    piece: usize,
    close: bool,
    mark: String,
    served: Arc<AtomicBool>,
    busy: Arc<AtomicBool>,
) {
    let script = async {
        let Ok((mut conn, _)) = listener.accept().await else {
            return None;
        };
        let _ = conn.set_nodelay(true);
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                if request.len() > end + 4 {
                    break;
                }
            }
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    served.store(carries(&request, &mark), Ordering::SeqCst);
                    return None;
                }
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        served.store(carries(&request, &mark), Ordering::SeqCst);
        for chunk in answer.chunks(piece) {
            if conn.write_all(chunk).await.is_err() {
                return None;
            }
            tokio::task::yield_now().await;
        }
        Some(conn)
    };
    let conn = script.await;
    busy.store(false, Ordering::SeqCst);
    if !close {
        // Held open until the input ends (the task is aborted then).
        let _conn = conn;
        std::future::pending::<()>().await;
    }
}

/// The body length `Content-Length` announces, read by RFC 9110 §8.6: each
/// field line a comma-separated list of `1*DIGIT`, with optional spaces or
/// tabs around each; a list of one value repeated (`3, 3`, `00,0`) is that
/// value; anything else (differing values, an empty element, a sign) none.
fn announced_length(lines: &[&http::HeaderValue]) -> Option<usize> {
    let mut length = None;
    for line in lines {
        for element in line.as_bytes().split(|&b| b == b',') {
            let ows = |b: &u8| *b == b' ' || *b == b'\t';
            let start = element
                .iter()
                .position(|b| !ows(b))
                .unwrap_or(element.len());
            let end = element
                .iter()
                .rposition(|b| !ows(b))
                .map_or(start, |e| e + 1);
            let digits = &element[start..end];
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let value = digits.iter().try_fold(0usize, |n, d| {
                n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
            })?;
            if length.is_some_and(|l| l != value) {
                return None;
            }
            length = Some(value);
        }
    }
    length
}

fn carries(bytes: &[u8], token: &str) -> bool {
    bytes.windows(token.len()).any(|w| w == token.as_bytes())
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, answer)) = data.split_first() else {
        return;
    };
    let close = control & 1 == 1;
    // At most PIECES writes: small pieces split a short answer everywhere,
    // a long one in as many places.
    let piece = (1 + (control as usize >> 1)).max(answer.len().div_ceil(PIECES));

    let (listener, address) = listener();
    // What an earlier input left queued (a connection its client gave up
    // while connecting) is not this input's to accept.
    while listener.accept().is_ok() {}
    let app_side = listener.try_clone().unwrap();
    // This request's own mark, to know it if it ever arrives twice.
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let token = format!("{}-{n}", std::process::id());
    let header = http::HeaderValue::from_str(&token).unwrap();
    // The header line as the app reads it (CR included: no other token is a
    // prefix of it).
    let mark = format!("{token}\r");

    let served = Arc::new(AtomicBool::new(false));
    let busy = Arc::new(AtomicBool::new(true));
    let started = Instant::now();
    let (outcome, waited) = runtime().block_on(async {
        let app_listener = tokio::net::TcpListener::from_std(app_side).unwrap();
        let app = tokio::spawn(serve(
            app_listener,
            answer.to_vec(),
            piece,
            close,
            mark.clone(),
            served.clone(),
            busy.clone(),
        ));
        let still = busy.clone();
        let spinner = tokio::spawn(async move {
            while still.load(Ordering::SeqCst) && started.elapsed() < SLACK {
                tokio::task::yield_now().await;
            }
        });

        let paused_start = tokio::time::Instant::now();
        let client = AppClient::new(vec![address], Duration::from_secs(4), 1);
        let mut deadline = Deadline::new(paused_start.into_std() + DEADLINE);
        let mut request = Request::new(Bytes::from_static(b"x"));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = http::Uri::from_static("/fuzz");
        request
            .headers_mut()
            .insert(http::header::HOST, http::HeaderValue::from_static("app"));
        request.headers_mut().insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from_static("1"),
        );
        request.headers_mut().insert("x-fuzz-request", header);
        let result = match client.send(request, Replay::Never, &mut deadline).await {
            Ok((response, lease)) => {
                let (parts, body) = response.into_parts();
                let body = read_body(body, &mut deadline, LIMIT).await;
                drop(lease);
                body.map(|body| (parts.status, parts.headers, body))
            }
            Err(err) => Err(err),
        };
        let waited = paused_start.elapsed();
        drop(client);
        busy.store(false, Ordering::SeqCst);
        app.abort();
        let _ = app.await;
        let _ = spinner.await;
        // Let the connection's task see it is no longer wanted.
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        (result, waited)
    });
    assert!(
        waited <= DEADLINE + TICK,
        "waited {waited:?} in the runtime's time, past the deadline"
    );
    let real = started.elapsed();
    assert!(real < SLACK * 2, "took {real:?} in real time: a hang");

    // The request reached the app once at most: never again on a second
    // connection. Connections the app did not accept are read here, and one
    // from elsewhere (a test on this shared machine polling a port it
    // thought free) does not carry this request's mark.
    let mut unaccepted = 0;
    while let Ok((mut other, _)) = listener.accept() {
        let _ = other.set_nonblocking(false);
        let _ = other.set_read_timeout(Some(Duration::from_millis(100)));
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = other.read(&mut buf) {
            if n == 0 || seen.len() > 8192 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        unaccepted += usize::from(carries(&seen, &mark));
    }
    assert!(
        usize::from(served.load(Ordering::SeqCst)) + unaccepted <= 1,
        "the POST was sent again on a new connection"
    );

    match outcome {
        Ok((status, headers, body)) => {
            let mut parsed = [httparse::EMPTY_HEADER; 128];
            let mut response = httparse::Response::new(&mut parsed);
            let head = match response.parse(answer) {
                Ok(httparse::Status::Complete(head)) => head,
                other => panic!("a response from an answer httparse reads as {other:?}"),
            };
            let code = response.code.unwrap();
            // hyper skips 1xx interim answers before the final one.
            if !(100..200).contains(&code) {
                assert_eq!(status.as_u16(), code);
                let rest = &answer[head..];
                let chunked = headers.contains_key(http::header::TRANSFER_ENCODING);
                let lengths: Vec<_> = headers
                    .get_all(http::header::CONTENT_LENGTH)
                    .iter()
                    .collect();
                assert!(body.len() <= rest.len(), "more body than the app sent");
                // 204 and 304 have no body, whatever the head says.
                if code == 204 || code == 304 {
                    assert!(body.is_empty(), "a body after {code}");
                } else if !chunked && !lengths.is_empty() {
                    let length = announced_length(&lengths)
                        .expect("hyper took a Content-Length that is not one length");
                    assert_eq!(
                        body.as_ref(),
                        &rest[..length],
                        "the announced body, exactly"
                    );
                }
            }
        }
        Err(
            PortsideError::AppInvalidResponse(_)
            | PortsideError::AppTimeout { .. }
            | PortsideError::ResponseTooLarge { .. },
        ) => {}
        Err(other) => panic!("the app's answer gave {other:?}"),
    }
});
