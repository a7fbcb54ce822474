//! The readiness check's hand-written HTTP reader (`readiness::read_status`
//! and `read_rest`) fed arbitrary answers, in arbitrary pieces, with reads
//! interrupted by signals (EINTR) in between, the connection left open or
//! closed at the end.
//!
//! Input: one control byte (bit 0: the app closes after the answer), then
//! the piece sizes and interruption pattern are drawn from the answer's
//! length and the control byte, and the rest is the answer.
//!
//! What must hold: no panic; interruptions change nothing (the same verdict
//! as the same answer read without them); a status read is the number on
//! the first line of an answer starting `HTTP/`; a connection is called
//! reusable only when httparse (an independent parser) finds the answer
//! complete with exactly the bytes sent, it keeps alive, and the app did not
//! close it.

#![no_main]

use std::io::{self, Read};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use portside::testing::readiness::{read_rest, read_status};

/// An answer as a socket gives it: in pieces, sometimes interrupted, then
/// closed (end of stream) or open (a read times out).
struct Wire<'a> {
    data: &'a [u8],
    piece: usize,
    interrupt_every: usize,
    reads: usize,
    closed: bool,
    /// Whether the reader saw the end of the stream.
    saw_end: bool,
}

impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if self.interrupt_every > 0 && self.reads % self.interrupt_every == 0 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        if self.data.is_empty() {
            return if self.closed {
                self.saw_end = true;
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = self.piece.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// The status (or why none), whether the connection is reusable, how many
/// bytes of the answer were read, and whether the reader saw it closed.
fn verdict(
    answer: &[u8],
    piece: usize,
    interrupt_every: usize,
    closed: bool,
) -> (Result<u16, String>, bool, usize, bool) {
    let mut wire = Wire {
        data: answer,
        piece,
        interrupt_every,
        reads: 0,
        closed,
        saw_end: false,
    };
    let (status, reusable) = match read_status(&mut wire, Duration::from_secs(5)) {
        Ok(status) => {
            let reusable = read_rest(&mut wire, &status.head);
            (Ok(status.code), reusable)
        }
        Err(problem) => (Err(problem), false),
    };
    (
        status,
        reusable,
        answer.len() - wire.data.len(),
        wire.saw_end,
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, answer)) = data.split_first() else {
        return;
    };
    let closed = control & 1 == 1;
    let piece = 1 + (control as usize >> 1) % 64;
    let interrupt_every = 1 + (control as usize >> 4);

    // Interruptions change nothing.
    let plain = verdict(answer, 4096, 0, closed);
    let interrupted = verdict(answer, 4096, interrupt_every.max(2), closed);
    assert_eq!(
        plain, interrupted,
        "an interrupted read changed the verdict"
    );
    check(answer, plain);
    // Neither do pieces, for what was read.
    check(
        answer,
        verdict(answer, piece, interrupt_every.max(2), closed),
    );
});

fn check(
    answer: &[u8],
    (status, reusable, read, saw_end): (Result<u16, String>, bool, usize, bool),
) {
    if let Ok(code) = status {
        let line_end = answer
            .iter()
            .position(|&b| b == b'\n')
            .expect("a whole first line");
        let line = String::from_utf8_lossy(&answer[..line_end]);
        let mut words = line.split_whitespace();
        assert!(words.next().is_some_and(|v| v.starts_with("HTTP/")));
        let word = words.next().unwrap_or_default();
        assert!(
            word.len() == 3 && word.bytes().all(|b| b.is_ascii_digit()),
            "{word:?}"
        );
        assert_eq!(word.parse::<u16>().ok(), Some(code));
    }
    if reusable {
        assert!(!saw_end, "a connection seen closed is never reused");
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        let answer = &answer[..read];
        let head_len = match response.parse(answer) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => panic!("reused after an incomplete head"),
            // A head httparse refuses (a malformed header name, say) that the
            // lenient readiness reader takes: nothing to compare with.
            Err(_) => return,
        };
        assert_eq!(response.version, Some(1), "only HTTP/1.1 keeps alive");
        assert_eq!(Ok(response.code.unwrap()), status);
        let code = response.code.unwrap();
        let closes = response.headers.iter().any(|h| {
            h.name.eq_ignore_ascii_case("connection")
                && String::from_utf8_lossy(h.value)
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("close"))
        });
        assert!(!closes, "Connection: close is never reused");
        let body_len = if code == 204 || code == 304 || (100..200).contains(&code) {
            0
        } else {
            let lengths: Vec<usize> = response
                .headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("content-length"))
                .map(|h| {
                    std::str::from_utf8(h.value)
                        .ok()
                        .and_then(|v| v.trim().parse().ok())
                        .expect("a reused answer has a numeric Content-Length")
                })
                .collect();
            assert!(!lengths.is_empty(), "a reused answer says its length");
            lengths[0]
        };
        assert_eq!(head_len + body_len, read, "read exactly to the end");
    }
}
