//! Parsing of streamed responses (`Lambda-Runtime-Function-Response-Mode:
//! streaming`), independent of how the bytes were chunked on the wire.
//!
//! A streamed response is a byte stream. When its content type is
//! `application/vnd.awslambda.http-integration-response`, it starts with a
//! JSON prelude (status code, headers, cookies) followed by eight NUL bytes,
//! then the body. A function that fails mid-stream reports it in HTTP
//! trailers `Lambda-Runtime-Function-Error-Type` and
//! `Lambda-Runtime-Function-Error-Body` (base64). Some clients (the Rust
//! `lambda_runtime` crate) write those two lines at the end of the body
//! instead; [`body_suffix_error`] recognises that form so a test can tell
//! which one a runtime used.

use base64::Engine;
use bytes::{Bytes, BytesMut};
use http::HeaderMap;

/// The content type that announces a JSON prelude before the body.
pub const HTTP_INTEGRATION_CONTENT_TYPE: &str =
    "application/vnd.awslambda.http-integration-response";
/// The delimiter between the prelude and the body.
pub const PRELUDE_DELIMITER: [u8; 8] = [0; 8];
/// Trailer (and header) naming the error type of a failed stream.
pub const ERROR_TYPE_TRAILER: &str = "lambda-runtime-function-error-type";
/// Trailer carrying the base64 error body of a failed stream.
pub const ERROR_BODY_TRAILER: &str = "lambda-runtime-function-error-body";

/// How far a prelude may reach before the stream is treated as having none
/// ([`crate::limits::Limit::StreamPrelude`]).
const MAX_PRELUDE: usize = crate::limits::Limit::StreamPrelude.max();

/// Where a stream's error report was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSource {
    /// Real HTTP trailers after the last chunk, as the Lambda docs describe.
    Trailers,
    /// Two header-like lines at the very end of the body (what the Rust
    /// `lambda_runtime` crate writes); the body still contains them.
    BodySuffix,
}

/// An error reported by a function part-way through a streamed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    /// `Lambda-Runtime-Function-Error-Type`.
    pub error_type: String,
    /// `Lambda-Runtime-Function-Error-Body`, base64-decoded (kept as sent
    /// when it is not valid base64).
    pub error_body: Bytes,
    /// Whether it came as trailers or as the end of the body.
    pub source: ErrorSource,
}

/// Reads the error trailers, if the stream ended with any.
pub fn trailer_error(trailers: &HeaderMap) -> Option<StreamError> {
    let error_type = trailers.get(ERROR_TYPE_TRAILER)?;
    let error_type = String::from_utf8_lossy(error_type.as_bytes())
        .trim()
        .to_string();
    let body = trailers
        .get(ERROR_BODY_TRAILER)
        .map(|v| decode_error_body(v.as_bytes()))
        .unwrap_or_default();
    Some(StreamError {
        error_type,
        error_body: body,
        source: ErrorSource::Trailers,
    })
}

/// Recognises a body that ends with
/// `Lambda-Runtime-Function-Error-Type: T\r\nLambda-Runtime-Function-Error-Body: B\r\n`.
pub fn body_suffix_error(body: &[u8]) -> Option<StreamError> {
    const TYPE_PREFIX: &[u8] = b"Lambda-Runtime-Function-Error-Type: ";
    const BODY_PREFIX: &[u8] = b"Lambda-Runtime-Function-Error-Body: ";
    // The body's last line must be the error body's: checked first, from
    // the end, so a stream without the suffix is not searched whole (a
    // 200 MB stream took seconds).
    let text = body.strip_suffix(b"\r\n").unwrap_or(body);
    let last_line = &text[rfind_newline(text)? + 1..];
    if !last_line.starts_with(BODY_PREFIX) {
        return None;
    }
    let start = find_last(body, TYPE_PREFIX)?;
    let tail = &body[start + TYPE_PREFIX.len()..];
    let type_end = find(tail, b"\r\n")?;
    let error_type = &tail[..type_end];
    let rest = &tail[type_end + 2..];
    let rest = rest.strip_prefix(BODY_PREFIX)?;
    let encoded = rest.strip_suffix(b"\r\n").unwrap_or(rest);
    if encoded.contains(&b'\n') {
        return None;
    }
    Some(StreamError {
        error_type: String::from_utf8_lossy(error_type).trim().to_string(),
        error_body: decode_error_body(encoded),
        source: ErrorSource::BodySuffix,
    })
}

fn decode_error_body(raw: &[u8]) -> Bytes {
    let trimmed = raw.trim_ascii();
    match base64::engine::general_purpose::STANDARD.decode(trimmed) {
        Ok(decoded) => Bytes::from(decoded),
        Err(_) => Bytes::copy_from_slice(trimmed),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The last `\n`, searched from the end 64 KiB at a time with the
/// standard library's `memchr` (`contains`), fast in a debug build too.
fn rfind_newline(text: &[u8]) -> Option<usize> {
    let mut end = text.len();
    while end > 0 {
        let start = end.saturating_sub(64 * 1024);
        let piece = &text[start..end];
        if piece.contains(&b'\n') {
            return piece.iter().rposition(|&b| b == b'\n').map(|p| start + p);
        }
        end = start;
    }
    None
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// Splits the prelude off a stream fed in arbitrary chunks.
///
/// Feed every chunk to [`PreludeSplitter::push`]; it answers with what can
/// be released so far. Call [`PreludeSplitter::finish`] at the end.
#[derive(Debug)]
pub struct PreludeSplitter {
    state: SplitState,
}

#[derive(Debug)]
enum SplitState {
    Searching(BytesMut),
    Body,
}

/// What a [`PreludeSplitter`] releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// The JSON prelude, without the delimiter. Released at most once.
    Prelude(Bytes),
    /// Body bytes, in order.
    Body(Bytes),
}

impl PreludeSplitter {
    /// A splitter that looks for a prelude (`expect_prelude`), or one that
    /// passes everything through as body.
    pub fn new(expect_prelude: bool) -> Self {
        PreludeSplitter {
            state: if expect_prelude {
                SplitState::Searching(BytesMut::new())
            } else {
                SplitState::Body
            },
        }
    }

    /// Whether the content type announces a prelude.
    pub fn expects_prelude(content_type: Option<&str>) -> bool {
        content_type
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case(HTTP_INTEGRATION_CONTENT_TYPE)
            })
            .unwrap_or(false)
    }

    /// Feeds one chunk.
    pub fn push(&mut self, chunk: Bytes) -> Vec<Piece> {
        match &mut self.state {
            SplitState::Body => {
                if chunk.is_empty() {
                    Vec::new()
                } else {
                    vec![Piece::Body(chunk)]
                }
            }
            SplitState::Searching(buf) => {
                // Only the last 7 bytes of what we already hold can start a
                // delimiter that ends in this chunk.
                let from = buf.len().saturating_sub(PRELUDE_DELIMITER.len() - 1);
                buf.extend_from_slice(&chunk);
                let found = find(&buf[from..], &PRELUDE_DELIMITER).map(|pos| from + pos);
                // A delimiter past the limit is body, however the bytes
                // were chunked (as `split_prelude` has it).
                if let Some(pos) = found.filter(|pos| *pos <= MAX_PRELUDE) {
                    let mut all = std::mem::take(buf);
                    let body = all.split_off(pos + PRELUDE_DELIMITER.len());
                    all.truncate(pos);
                    self.state = SplitState::Body;
                    let mut out = vec![Piece::Prelude(all.freeze())];
                    if !body.is_empty() {
                        out.push(Piece::Body(body.freeze()));
                    }
                    out
                } else if buf.len() >= MAX_PRELUDE + PRELUDE_DELIMITER.len() {
                    let all = std::mem::take(buf).freeze();
                    self.state = SplitState::Body;
                    vec![Piece::Body(all)]
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// Ends the stream: a prelude that never found its delimiter is body.
    pub fn finish(&mut self) -> Vec<Piece> {
        match std::mem::replace(&mut self.state, SplitState::Body) {
            SplitState::Searching(buf) if !buf.is_empty() => vec![Piece::Body(buf.freeze())],
            _ => Vec::new(),
        }
    }
}

/// Splits a complete stream into prelude and body (see [`PreludeSplitter`]).
pub fn split_prelude(raw: &Bytes, expect_prelude: bool) -> (Option<Bytes>, Bytes) {
    if !expect_prelude {
        return (None, raw.clone());
    }
    match find(raw, &PRELUDE_DELIMITER) {
        Some(pos) if pos <= MAX_PRELUDE => (
            Some(raw.slice(..pos)),
            raw.slice(pos + PRELUDE_DELIMITER.len()..),
        ),
        _ => (None, raw.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn run(chunks: &[&[u8]]) -> (Option<Vec<u8>>, Vec<u8>) {
        let mut s = PreludeSplitter::new(true);
        let mut prelude = None;
        let mut body = Vec::new();
        let mut pieces = Vec::new();
        for c in chunks {
            pieces.extend(s.push(Bytes::copy_from_slice(c)));
        }
        pieces.extend(s.finish());
        for p in pieces {
            match p {
                Piece::Prelude(p) => {
                    assert!(prelude.is_none(), "one prelude only");
                    prelude = Some(p.to_vec());
                }
                Piece::Body(b) => body.extend_from_slice(&b),
            }
        }
        (prelude, body)
    }

    #[test]
    fn the_split_is_the_same_whatever_the_chunking() {
        let whole: Vec<u8> = [&b"{\"statusCode\":201}"[..], &[0u8; 8], b"hello\0world"].concat();
        let expected = (
            Some(b"{\"statusCode\":201}".to_vec()),
            b"hello\0world".to_vec(),
        );
        // Every way of cutting the stream into two and three pieces.
        for i in 0..=whole.len() {
            assert_eq!(run(&[&whole[..i], &whole[i..]]), expected, "cut at {i}");
            for j in i..=whole.len() {
                assert_eq!(run(&[&whole[..i], &whole[i..j], &whole[j..]]), expected);
            }
        }
        // One byte at a time.
        let bytes: Vec<&[u8]> = whole.chunks(1).collect();
        assert_eq!(run(&bytes), expected);
        assert_eq!(
            split_prelude(&Bytes::from(whole), true).0.as_deref(),
            Some(&b"{\"statusCode\":201}"[..])
        );
    }

    #[test]
    fn no_delimiter_means_no_prelude() {
        assert_eq!(run(&[b"just", b" a body"]), (None, b"just a body".to_vec()));
        let mut s = PreludeSplitter::new(false);
        assert_eq!(
            s.push(Bytes::from_static(b"x")),
            vec![Piece::Body(Bytes::from_static(b"x"))]
        );
    }

    #[test]
    fn the_last_newline_is_found_across_pieces() {
        let mut text = vec![b'a'; 200 * 1024];
        assert_eq!(rfind_newline(&text), None);
        text[3] = b'\n';
        assert_eq!(rfind_newline(&text), Some(3));
        text[64 * 1024] = b'\n';
        assert_eq!(rfind_newline(&text), Some(64 * 1024));
        let last = text.len() - 1;
        text[last] = b'\n';
        assert_eq!(rfind_newline(&text), Some(last));
    }

    #[test]
    fn an_error_suffix_is_recognised_only_at_the_very_end() {
        let suffix = b"Lambda-Runtime-Function-Error-Type: Boom\r\nLambda-Runtime-Function-Error-Body: eA==\r\n";
        let mut body = vec![b'a'; 100 * 1024];
        body.extend_from_slice(suffix);
        let e = body_suffix_error(&body).expect("at the end");
        assert_eq!(
            (e.error_type.as_str(), &e.error_body[..]),
            ("Boom", &b"x"[..])
        );
        body.extend_from_slice(b"more");
        assert_eq!(body_suffix_error(&body), None);
    }

    #[test]
    fn seven_nuls_are_not_a_delimiter() {
        let data: Vec<u8> = [&b"{}"[..], &[0u8; 7], b"x"].concat();
        assert_eq!(run(&[&data]), (None, data.clone()));
    }

    #[test]
    fn trailers_and_body_suffix_are_both_read() {
        let mut trailers = HeaderMap::new();
        trailers.insert(
            ERROR_TYPE_TRAILER,
            HeaderValue::from_static("Runtime.StreamError"),
        );
        trailers.insert(ERROR_BODY_TRAILER, HeaderValue::from_static("Ym9vbQ=="));
        let e = trailer_error(&trailers).expect("an error");
        assert_eq!(e.error_type, "Runtime.StreamError");
        assert_eq!(e.error_body, Bytes::from_static(b"boom"));
        assert_eq!(e.source, ErrorSource::Trailers);
        assert!(trailer_error(&HeaderMap::new()).is_none());

        let body = b"partial bodyLambda-Runtime-Function-Error-Type: Runtime.StreamError\r\nLambda-Runtime-Function-Error-Body: Ym9vbQ==\r\n";
        let e = body_suffix_error(body).expect("an error");
        assert_eq!(e.error_type, "Runtime.StreamError");
        assert_eq!(e.error_body, Bytes::from_static(b"boom"));
        assert_eq!(e.source, ErrorSource::BodySuffix);
        assert!(body_suffix_error(b"an ordinary body").is_none());
        assert!(
            body_suffix_error(b"Lambda-Runtime-Function-Error-Type: X\r\nsomething else").is_none()
        );
    }
}
