//! The readiness check: is the app up yet?
//!
//! Owns: polling the app's readiness port (TCP connect, then an HTTP `GET` of
//! the readiness path when the protocol is HTTP), the polling schedule, the
//! per-attempt timeouts, progress logging, and the hand-written reader of
//! the app's answer (`read_status`, `read_rest`: over any `Read`, so the
//! fuzz target in fuzz/ drives it with answers in pieces and interrupted
//! reads).
//! Must not: start the runtime or decide what "not ready" means for init (the
//! caller does, depending on async init and the readiness timeout).
//!
//! It runs on its own thread with blocking sockets and the OS sleep, because
//! the async timer ticks in whole milliseconds and readiness should be
//! noticed within one. The connection that found the app ready is handed
//! back with the verdict (when the app kept it open and it was read to the
//! end of the answer), so the first invocation need not open another.
//! Connection attempts to a closed loopback port are refused at once, so
//! polling every 250 µs while the app starts costs a refused connect each
//! time, and the interval grows the longer the app takes.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::config::{ReadinessProtocol, StatusSet};
use crate::limits::Limit;

/// What to check.
#[derive(Debug, Clone)]
pub struct ReadinessCheck {
    /// The addresses of the readiness port (a host name may resolve to several).
    pub addresses: Vec<SocketAddr>,
    /// `Host` header value for the HTTP check.
    pub host_header: String,
    /// Path the HTTP check requests.
    pub path: String,
    /// TCP or HTTP.
    pub protocol: ReadinessProtocol,
    /// Statuses that count as ready.
    pub healthy_status: StatusSet,
    /// Longest wait for one attempt (connect, or the HTTP answer).
    pub attempt_timeout: Duration,
}

/// A connection to the app, left open after the check that found it ready.
#[derive(Debug)]
pub struct Handover {
    /// The connection (blocking; the caller makes it its own).
    pub stream: TcpStream,
    /// Whether it carried the readiness request and its answer already.
    pub used: bool,
}

/// The readiness check's verdict, once it has waited.
#[derive(Debug)]
pub enum Verdict {
    /// The app answered as ready.
    Ready {
        /// Time from the first attempt to the successful one.
        waited: Duration,
        /// Attempts made, including the successful one.
        attempts: u64,
        /// The connection of the successful attempt, when it can be reused.
        connection: Option<Handover>,
    },
    /// `until` passed first.
    GaveUp {
        /// Time spent.
        waited: Duration,
        /// Why the last attempt failed.
        last_problem: String,
    },
}

/// What one attempt found: the app ready, or why not. `Refused` means
/// nothing listens yet; `Unhealthy` means something listens but does not
/// say ready.
#[derive(Debug)]
enum Probe {
    Ready(Option<Handover>),
    Refused(String),
    Unhealthy(String),
}

/// Interval before the next attempt, after `elapsed` of waiting. Attempts that
/// reach a listening app but get a bad answer back off faster, so a slow app
/// is not flooded with health requests.
fn interval(elapsed: Duration, listening: bool) -> Duration {
    let ms = elapsed.as_millis();
    match (listening, ms) {
        (false, 0..=99) => Duration::from_micros(250),
        (false, 100..=999) => Duration::from_micros(500),
        (false, 1_000..=9_999) => Duration::from_millis(1),
        (false, _) => Duration::from_millis(10),
        (true, 0..=99) => Duration::from_millis(2),
        (true, _) => Duration::from_millis(10),
    }
}

impl ReadinessCheck {
    fn connect(&self) -> Result<TcpStream, String> {
        let mut last = String::from("no address to connect to");
        for address in &self.addresses {
            match TcpStream::connect_timeout(address, self.attempt_timeout) {
                Ok(stream) => return Ok(stream),
                Err(err) if err.kind() == ErrorKind::ConnectionRefused => {
                    last = format!("connection to {address} refused")
                }
                Err(err) => last = format!("connecting to {address}: {err}"),
            }
        }
        Err(last)
    }

    fn attempt(&self) -> Probe {
        let mut stream = match self.connect() {
            Ok(stream) => stream,
            Err(problem) => return Probe::Refused(problem),
        };
        if self.protocol == ReadinessProtocol::Tcp {
            return Probe::Ready(Some(Handover {
                stream,
                used: false,
            }));
        }
        match self.http_status(&mut stream) {
            Ok((status, reusable)) if self.healthy_status.contains(status) => {
                Probe::Ready(reusable.then_some(Handover { stream, used: true }))
            }
            Ok((status, _)) => Probe::Unhealthy(format!(
                "GET {} answered {status}, not in the healthy set {}",
                self.path, self.healthy_status
            )),
            Err(problem) => Probe::Unhealthy(format!("GET {}: {problem}", self.path)),
        }
    }

    /// Sends the readiness request and reads the status, then the rest of the
    /// answer (so the app does not see its reply cut off); says too whether
    /// the connection can carry another request (the app did not close it,
    /// and the answer was read exactly to its end).
    fn http_status(&self, stream: &mut TcpStream) -> Result<(u16, bool), String> {
        let timeout = Some(self.attempt_timeout);
        stream
            .set_read_timeout(timeout)
            .map_err(|e| e.to_string())?;
        stream
            .set_write_timeout(timeout)
            .map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: portside-readiness-check\r\nAccept: */*\r\n\r\n",
            self.path, self.host_header
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|e| e.to_string())?;
        let status = read_status(stream, self.attempt_timeout)?;
        // Read the rest of the answer (its length is known from the head, or
        // it ends when the app closes), so the app finishes writing it and
        // does not see its connection reset.
        let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
        let reusable = read_rest(stream, &status.head);
        Ok((status.code, reusable))
    }

    /// Polls until the app is ready, or until `until` passes. `progress` is
    /// called after 1 s, 2 s, 4 s... of waiting with the time waited and the
    /// last problem, and once when an attempt times out.
    pub fn wait(
        &self,
        until: Option<Instant>,
        mut progress: impl FnMut(Duration, &str),
    ) -> Verdict {
        let start = Instant::now();
        let mut attempts = 0u64;
        let mut next_report = Duration::from_secs(1);
        loop {
            attempts += 1;
            let attempt_started = Instant::now();
            let (listening, problem) = match self.attempt() {
                Probe::Ready(connection) => {
                    return Verdict::Ready {
                        waited: start.elapsed(),
                        attempts,
                        connection,
                    }
                }
                Probe::Refused(problem) => (false, problem),
                Probe::Unhealthy(problem) => (true, problem),
            };
            let elapsed = start.elapsed();
            if attempt_started.elapsed() >= self.attempt_timeout {
                progress(elapsed, &problem);
            } else if elapsed >= next_report {
                progress(elapsed, &problem);
                next_report *= 2;
            }
            let pause = interval(elapsed, listening);
            if let Some(until) = until {
                let now = Instant::now();
                if now + pause >= until {
                    return Verdict::GaveUp {
                        waited: start.elapsed(),
                        last_problem: problem,
                    };
                }
            }
            std::thread::sleep(pause);
        }
    }
}

/// The start of an answer: its status code and every byte read so far.
#[derive(Debug)]
pub struct StatusRead {
    /// The status code of the first line.
    pub code: u16,
    /// The bytes read: the first line and whatever came with it.
    pub head: Vec<u8>,
}

/// Reads an answer from `stream` until its status line is complete, within
/// `timeout` (the stream's own read timeout ends each read). A read
/// interrupted by a signal is retried. Public for the fuzz target, which
/// feeds it arbitrary answers in arbitrary pieces.
pub fn read_status(stream: &mut impl Read, timeout: Duration) -> Result<StatusRead, String> {
    let mut head = Vec::with_capacity(256);
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + timeout;
    // The bytes of `head` known to hold no line end: each read's bytes are
    // searched once, however small the pieces (no rescan from the start).
    let mut searched = 0;
    loop {
        if head[searched..].contains(&b'\n') || head.len() > MAX_STATUS_LINE + 1 {
            if let Some(code) = parse_status_line(&head)? {
                return Ok(StatusRead { code, head });
            }
        }
        searched = head.len();
        match stream.read(&mut buf) {
            Ok(0) => return Err("the app closed the connection without answering".into()),
            Ok(n) => head.extend_from_slice(&buf[..n]),
            // A signal arrived (SIGTERM, say): socket reads with a timeout
            // are not restarted by SA_RESTART, so the read is simply retried.
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(format!("no answer within {} ms", timeout.as_millis()))
            }
            Err(e) => return Err(e.to_string()),
        }
        if Instant::now() > deadline {
            return Err(format!("no answer within {} ms", timeout.as_millis()));
        }
    }
}

/// Reads the rest of an answer whose first bytes are `head` (to its
/// announced end, at most [`Limit::ReadinessAnswer`], or until the stream
/// ends or a read times out); says whether the connection can carry another request: the app did
/// not close it, the answer was read exactly to its end, and it keeps alive.
/// A read interrupted by a signal is retried.
pub fn read_rest(stream: &mut impl Read, head: &[u8]) -> bool {
    let mut received = head.to_vec();
    let mut buf = [0u8; 4096];
    let mut closed = false;
    // Once the head is complete: the answer's whole length, if it says.
    // Until then, where its end may start: a head end (`\n\n` or `\n\r\n`)
    // not found before holds at least one new byte, so each read's bytes are
    // searched once however small the pieces (no rescan from the start).
    let mut wanted: Option<Option<usize>> = None;
    let mut searched = 0;
    loop {
        if wanted.is_none() {
            if head_end(&received[searched..]).is_some() {
                wanted = Some(expected_length(&received));
            } else {
                searched = received.len().saturating_sub(2);
            }
        }
        if wanted.flatten().is_some_and(|w| received.len() >= w)
            || received.len() > Limit::ReadinessAnswer.max()
        {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    !closed
        && received.len() <= Limit::ReadinessAnswer.max()
        && expected_length(&received) == Some(received.len())
        && keeps_alive(&received)
}

/// The length of the head in `received`, blank line included, once it is
/// complete: lines end in CRLF, or in a bare LF, which RFC 9112 §2.2 lets a
/// recipient accept (and which the app's HTTP client accepts too).
fn head_end(received: &[u8]) -> Option<usize> {
    received
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\n')
        .find_map(|(i, _)| match &received[i + 1..] {
            [b'\n', ..] => Some(i + 2),
            [b'\r', b'\n', ..] => Some(i + 3),
            _ => None,
        })
}

/// The total length of an answer whose head is in `received`, when the head
/// is complete and says (`Content-Length`, or a status that has no body).
fn expected_length(received: &[u8]) -> Option<usize> {
    let end = head_end(received)?;
    let head = String::from_utf8_lossy(&received[..end]);
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    if status == 204 || status == 304 || (100..200).contains(&status) {
        return Some(end);
    }
    // Every Content-Length must be a number, and the same one (RFC 9112
    // §6.3): otherwise where the answer ends is not known.
    let mut lengths = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .map(|(_, value)| value.trim().parse::<usize>().ok());
    let first = lengths.next()??;
    if !lengths.all(|length| length == Some(first)) {
        return None;
    }
    end.checked_add(first)
}

/// Whether an HTTP/1.1 answer leaves its connection open: not HTTP/1.0, no
/// `Connection: close`.
fn keeps_alive(received: &[u8]) -> bool {
    let Some(end) = head_end(received) else {
        return false;
    };
    let head = String::from_utf8_lossy(&received[..end]);
    head.starts_with("HTTP/1.1 ")
        && !head.lines().skip(1).any(|line| {
            line.split_once(':').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("connection")
                    && value
                        .split(',')
                        .any(|token| token.trim().eq_ignore_ascii_case("close"))
            })
        })
}

/// The longest status line read, without its line end ([`Limit::ReadinessStatusLine`]).
const MAX_STATUS_LINE: usize = Limit::ReadinessStatusLine.max();

/// The status code from a response head, once its first line is complete.
fn parse_status_line(head: &[u8]) -> Result<Option<u16>, String> {
    let too_long = || {
        Err(format!(
            "the answer's first line is over {}, too long to be HTTP",
            Limit::ReadinessStatusLine
        ))
    };
    let Some(end) = head.iter().position(|&b| b == b'\n') else {
        // The line and its CR may still fit; past that it cannot.
        return if head.len() > MAX_STATUS_LINE + 1 {
            too_long()
        } else {
            Ok(None)
        };
    };
    let line = &head[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > MAX_STATUS_LINE {
        return too_long();
    }
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let version = words.next();
    // A status is three digits (RFC 9110 §15): `0200` or `50` is not one.
    let status = words
        .next()
        .filter(|code| code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|code| code.parse::<u16>().ok());
    match (version, status) {
        (Some(version), Some(status)) if version.starts_with("HTTP/") => Ok(Some(status)),
        _ => Err(format!("the answer is not HTTP: {:?}", line.trim_end())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::mpsc;

    fn check(address: SocketAddr, protocol: ReadinessProtocol) -> ReadinessCheck {
        ReadinessCheck {
            addresses: vec![address],
            host_header: address.to_string(),
            path: "/ready".into(),
            protocol,
            healthy_status: StatusSet::range(200, 299),
            attempt_timeout: Duration::from_millis(300),
        }
    }

    /// A free loopback port, closed again so nothing listens on it.
    fn free_address() -> SocketAddr {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    }

    #[test]
    fn answer_lengths_come_from_the_head() {
        assert_eq!(
            expected_length(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"),
            Some(43)
        );
        assert_eq!(
            expected_length(b"HTTP/1.1 204 No Content\r\n\r\n"),
            Some(27)
        );
        assert_eq!(
            expected_length(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
            None
        );
        assert_eq!(expected_length(b"HTTP/1.1 200 OK\r\nContent-Le"), None);
    }

    /// `read_status` over a real socket, the answer written in `piece`-byte writes.
    fn status_over_socket(answer: Vec<u8>, piece: usize) -> Result<StatusRead, String> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let writer = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            for chunk in answer.chunks(piece) {
                if stream.write_all(chunk).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(50));
        });
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let read = read_status(&mut stream, Duration::from_secs(5));
        writer.join().unwrap();
        read
    }

    #[test]
    fn a_status_line_of_the_limit_is_read_and_one_byte_more_is_not_http() {
        let limit = Limit::ReadinessStatusLine.max();
        for length in [limit - 1, limit, limit + 1] {
            let mut line = b"HTTP/1.1 200 ".to_vec();
            line.resize(length, b'r');
            let answer = [line.as_slice(), b"\r\nContent-Length: 0\r\n\r\n"].concat();
            for piece in [1000, 4096, answer.len()] {
                let read = status_over_socket(answer.clone(), piece);
                if length <= limit {
                    assert_eq!(read.map(|r| r.code), Ok(200), "{length} in {piece}s");
                } else {
                    let err = read.expect_err("refused");
                    assert!(err.contains("too long"), "{length} in {piece}s: {err}");
                }
            }
        }
    }

    #[test]
    fn status_lines_parse() {
        assert_eq!(
            parse_status_line(b"HTTP/1.1 204 No Content\r\n"),
            Ok(Some(204))
        );
        assert_eq!(parse_status_line(b"HTTP/1.0 200"), Ok(None));
        assert!(parse_status_line(b"SSH-2.0-OpenSSH\r\n").is_err());
        // Found by the readiness fuzz target: a status is three digits.
        assert!(parse_status_line(b"HTTP/1.1 0200 OK\r\n").is_err());
        assert!(parse_status_line(b"HTTP/1.1 50 \0Service Unavailable\r\n").is_err());
        assert!(parse_status_line(b"HTTP/1.1 +200 OK\r\n").is_err());
        // Also found by it: a head may end in bare LFs, as the app's client reads it.
        assert_eq!(head_end(b"HTTP/1.1 200 OK\nA: b\n\nbody"), Some(22));
        assert_eq!(head_end(b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody"), Some(25));
        assert_eq!(head_end(b"HTTP/1.1 200 OK\r\nA: b\r\n"), None);
        assert_eq!(
            expected_length(b"HTTP/1.1 200 OK\ncontent-length: 2\n\nok"),
            Some(37)
        );
    }

    #[test]
    fn an_app_that_starts_later_is_noticed() {
        let address = free_address();
        let (tx, rx) = mpsc::channel();
        let server = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            let listener = TcpListener::bind(address).unwrap();
            tx.send(()).unwrap();
            // First answer unhealthy, then healthy.
            for status in ["503 Service Unavailable", "200 OK"] {
                let (mut conn, _) = listener.accept().unwrap();
                let mut buf = [0u8; 1024];
                let n = conn.read(&mut buf).unwrap();
                assert!(String::from_utf8_lossy(&buf[..n]).starts_with("GET /ready HTTP/1.1\r\n"));
                conn.write_all(
                    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes(),
                )
                .unwrap();
            }
        });
        let outcome = check(address, ReadinessProtocol::Http)
            .wait(Some(Instant::now() + Duration::from_secs(10)), |_, _| {});
        rx.recv().unwrap();
        server.join().unwrap();
        match outcome {
            Verdict::Ready { attempts, .. } => {
                assert!(attempts >= 3, "refused, unhealthy, then ready: {attempts}")
            }
            other => panic!("{other:?}"),
        }
    }

    /// Answers one readiness request with `answer`, then reads what comes
    /// next on the same connection (empty when the client closed it).
    fn answer_then_listen(answer: &'static str) -> (SocketAddr, std::thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = conn.read(&mut buf).unwrap();
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            assert!(
                !request.to_ascii_lowercase().contains("connection: close"),
                "{request}"
            );
            conn.write_all(answer.as_bytes()).unwrap();
            let mut next = Vec::new();
            let _ = conn.read_to_end(&mut next);
            next
        });
        (address, server)
    }

    #[test]
    fn the_connection_that_found_the_app_ready_is_handed_over_when_it_stays_open() {
        let (address, server) =
            answer_then_listen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        let outcome = check(address, ReadinessProtocol::Http).wait(None, |_, _| {});
        let Verdict::Ready {
            connection: Some(Handover { mut stream, used }),
            ..
        } = outcome
        else {
            panic!("{outcome:?}")
        };
        assert!(used);
        // The same connection carries the next request.
        stream.write_all(b"GET /next HTTP/1.1\r\n\r\n").unwrap();
        drop(stream);
        assert_eq!(server.join().unwrap(), b"GET /next HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn a_connection_the_app_closes_or_leaves_unread_is_not_handed_over() {
        for answer in [
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        ] {
            let (address, server) = answer_then_listen(answer);
            let outcome = check(address, ReadinessProtocol::Http).wait(None, |_, _| {});
            assert!(
                matches!(
                    outcome,
                    Verdict::Ready {
                        connection: None,
                        ..
                    }
                ),
                "{answer}: {outcome:?}"
            );
            assert!(server.join().unwrap().is_empty(), "{answer}");
        }
    }

    #[test]
    fn tcp_readiness_needs_only_a_listener() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let outcome =
            check(listener.local_addr().unwrap(), ReadinessProtocol::Tcp).wait(None, |_, _| {});
        assert!(
            matches!(
                outcome,
                Verdict::Ready {
                    attempts: 1,
                    connection: Some(Handover { used: false, .. }),
                    ..
                }
            ),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_hung_app_times_out_each_attempt_and_the_wait_gives_up_saying_why() {
        // Accepts (the kernel does, from the backlog) but never answers.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut reports = Vec::new();
        let outcome = check(listener.local_addr().unwrap(), ReadinessProtocol::Http).wait(
            Some(Instant::now() + Duration::from_millis(700)),
            |_, problem| reports.push(problem.to_string()),
        );
        match outcome {
            Verdict::GaveUp { last_problem, .. } => assert!(
                last_problem.contains("no answer within 300 ms"),
                "{last_problem}"
            ),
            other => panic!("{other:?}"),
        }
        assert!(!reports.is_empty(), "each timed-out attempt is reported");
    }

    #[test]
    fn nothing_listening_gives_up_with_connection_refused() {
        // Port 1 (tcpmux): privileged and outside the ephemeral range, so no
        // other test can bind it in the meantime and no connection attempt
        // can connect to itself, as a freed ephemeral port allows (seen
        // once in CI: "closed the connection without answering").
        let nothing = SocketAddr::from(([127, 0, 0, 1], 1));
        let outcome = check(nothing, ReadinessProtocol::Http)
            .wait(Some(Instant::now() + Duration::from_millis(50)), |_, _| {});
        match outcome {
            Verdict::GaveUp { last_problem, .. } => {
                assert!(last_problem.contains("refused"), "{last_problem}")
            }
            other => panic!("{other:?}"),
        }
    }
}
