//! The app's response: arbitrary bytes served by a fake app over a real
//! loopback connection (status line, headers, chunked and fixed bodies,
//! early close, a connection left open) through the adapter's app client
//! (`proxy::AppClient::send`) and body reader (`invoke::read_body`), within
//! an invocation deadline.
//!
//! Input: one control byte (bit 0: the app closes the connection after its
//! answer; bits 1-7: the size of the pieces it writes), then the answer.
//!
//! What must hold: no panic; no wait past the deadline (plus scheduling
//! slack); a typed error (`AppInvalidResponse`, `AppTimeout`,
//! `ResponseTooLarge`), never `Internal`; a response only when httparse (an
//! independent parser) reads a complete head with the same status, a
//! fixed-length body exactly the bytes the head announced; and the request,
//! a POST, reaches the app once: never again on a second connection.

#![no_main]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request};
use libfuzzer_sys::fuzz_target;
use portside::deadline::Deadline;
use portside::error::PortsideError;
use portside::invoke::read_body;
use portside::proxy::AppClient;

/// The invocation's deadline: short, because an answer that never ends on a
/// connection left open waits for all of it.
const DEADLINE: Duration = Duration::from_millis(40);
/// How late past the deadline an answer may still come (a loaded machine).
const SLACK: Duration = Duration::from_millis(1500);
/// The body limit (Lambda's 6 MB in the adapter; small here so the fuzzer
/// reaches it).
const LIMIT: usize = 1024;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// The fake app: takes one connection, reads the request head and its
/// one-byte body, writes `answer` in `piece`-byte writes, then closes or
/// holds the connection until told to stop. Says whether it read a request
/// carrying `token`.
fn serve(
    listener: TcpListener,
    answer: Vec<u8>,
    piece: usize,
    close: bool,
    stop: mpsc::Receiver<()>,
    token: String,
) -> bool {
    let Ok((mut conn, _)) = listener.accept() else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = conn.set_nodelay(true);
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            if request.len() > end + 4 {
                break;
            }
        }
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return carries(&request, &token),
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    for chunk in answer.chunks(piece) {
        if conn.write_all(chunk).is_err() {
            return true;
        }
    }
    if !close {
        let _ = stop.recv_timeout(Duration::from_secs(5));
    }
    true
}

fn carries(bytes: &[u8], token: &str) -> bool {
    bytes.windows(token.len()).any(|w| w == token.as_bytes())
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, answer)) = data.split_first() else {
        return;
    };
    let close = control & 1 == 1;
    let piece = 1 + (control as usize >> 1);

    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address: SocketAddr = listener.local_addr().unwrap();
    let app_side = listener.try_clone().unwrap();
    // This request's own mark, to know it if it ever arrives twice.
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let token = format!("{}-{n}", std::process::id());
    let header = http::HeaderValue::from_str(&token).unwrap();

    let (stop_tx, stop_rx) = mpsc::channel();
    let owned = answer.to_vec();
    // The header line as the app reads it (CR included: no other token is a
    // prefix of it).
    let mark = format!("{token}\r");
    let app_mark = mark.clone();
    let app = std::thread::spawn(move || serve(app_side, owned, piece, close, stop_rx, app_mark));

    let started = Instant::now();
    let outcome = runtime().block_on(async {
        let client = AppClient::new(vec![address], Duration::from_secs(4), 1);
        let mut deadline = Deadline::new(Instant::now() + DEADLINE);
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
        let result = match client.send(request, None, &mut deadline).await {
            Ok((response, lease)) => {
                let (parts, body) = response.into_parts();
                let body = read_body(body, &mut deadline, LIMIT).await;
                drop(lease);
                body.map(|body| (parts.status, parts.headers, body))
            }
            Err(err) => Err(err),
        };
        drop(client);
        // Let the connection's task see it is no longer wanted.
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        result
    });
    let waited = started.elapsed();
    assert!(
        waited < DEADLINE + SLACK,
        "waited {waited:?}, past the deadline"
    );

    // The request reached the app once at most: never again on a second
    // connection. Connections left unaccepted are read here (the app may
    // not have taken even the first before the deadline on a loaded
    // machine), and one from elsewhere (a test on this shared machine
    // polling a port it thought free) does not carry this request's mark.
    listener.set_nonblocking(true).unwrap();
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
    let _ = stop_tx.send(());
    // Wakes the app if it still waits to accept (it then reads nothing).
    drop(std::net::TcpStream::connect(address));
    let served = app.join().expect("the fake app does not panic");
    assert!(
        usize::from(served) + unaccepted <= 1,
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
                } else if !chunked && lengths.len() == 1 {
                    let length: usize = lengths[0]
                        .to_str()
                        .ok()
                        .and_then(|l| l.trim().parse().ok())
                        .expect("hyper took a Content-Length that is a number");
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
