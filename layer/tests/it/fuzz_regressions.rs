//! Inputs the fuzz targets (`fuzz/`) found wrong, each kept here so the
//! ordinary suite holds the fix. Each test names the target and what it
//! found.

use std::io::{self, Read};
use std::time::Duration;

use portside::testing::config::{ApiAddress, Config};
use portside::testing::readiness::{read_rest, read_status};

fn config_with(vars: &[(&str, &str)]) -> Result<Config, portside::testing::config::ConfigError> {
    let mut env = vec![
        ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
        ("AWS_LAMBDA_FUNCTION_NAME", "f"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
    ];
    for (name, value) in vars {
        env.retain(|(k, _)| k != name);
        env.push((name, value));
    }
    Config::from_lookup(|name| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
}

/// `config`: `:9001` was accepted as Lambda's API, with an empty host that
/// every call then failed to resolve.
#[test]
fn a_runtime_api_address_without_a_host_is_refused_naming_the_variable() {
    for text in [":9001", "http://:9001", "[]:9001"] {
        assert!(ApiAddress::parse(text).is_err(), "{text}");
        let err = config_with(&[("AWS_LAMBDA_RUNTIME_API", text)]).unwrap_err();
        assert_eq!(err.variable, "AWS_LAMBDA_RUNTIME_API", "{text}");
    }
}

/// `config`: `user@host:port` was accepted; the user name went nowhere and
/// hid which host is meant.
#[test]
fn a_runtime_api_address_with_a_user_name_is_refused() {
    for text in ["user@127.0.0.1:9001", "http://u:p@127.0.0.1:9001/.rt"] {
        let err = ApiAddress::parse(text).unwrap_err();
        assert!(err.contains("user name"), "{text}: {err}");
    }
    let err =
        config_with(&[("PORTSIDE_LAMBDA_RUNTIME_API_PROXY", "a@127.0.0.1:9002")]).unwrap_err();
    assert_eq!(err.variable, "PORTSIDE_LAMBDA_RUNTIME_API_PROXY");
}

/// `config`: a path prefix holding `?` or `#` was accepted, and every
/// Runtime API path appended to it then went into the query or fragment.
#[test]
fn a_runtime_api_prefix_with_a_query_or_fragment_is_refused() {
    for text in [
        "127.0.0.1:9001/rt?x=1",
        "127.0.0.1:9001/rt#f",
        "http://127.0.0.1:9001/a/b?",
    ] {
        let err = ApiAddress::parse(text).unwrap_err();
        assert!(err.contains("cannot hold"), "{text}: {err}");
    }
    // The prefixes Lambda's emulators use still work.
    let rt = ApiAddress::parse("127.0.0.1:9000/.rt").unwrap();
    assert_eq!(rt.prefix(), "/.rt");
}

/// An answer as a socket gives it: pieces of `piece` bytes, every other
/// read interrupted by a signal, then open (reads time out) or closed.
struct Interrupted<'a> {
    data: &'a [u8],
    piece: usize,
    reads: usize,
    closed: bool,
}

impl Read for Interrupted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if self.reads % 2 == 1 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        if self.data.is_empty() {
            return if self.closed {
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

/// `readiness`: a read interrupted by a signal (EINTR, which SA_RESTART does
/// not restart on a socket with a read timeout) failed the attempt, and in
/// the rest of the answer counted as the app closing the connection.
#[test]
fn the_readiness_reader_retries_interrupted_reads() {
    let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let mut wire = Interrupted {
        data: answer,
        piece: 5,
        reads: 0,
        closed: false,
    };
    let status = read_status(&mut wire, Duration::from_secs(5)).expect("interruptions are retried");
    assert_eq!(status.code, 200);
    assert!(
        read_rest(&mut wire, &status.head),
        "the whole answer was read and the connection kept"
    );
    assert!(wire.data.is_empty());
}

/// `readiness`: the answer's length was taken from the bytes that came with
/// the status line only, so a head that arrived in pieces was never known
/// complete and its connection never handed over.
#[test]
fn a_head_that_arrives_in_pieces_still_hands_its_connection_over() {
    let answer = b"HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n";
    let mut wire = Interrupted {
        data: answer,
        piece: 3,
        reads: 0,
        closed: false,
    };
    let status = read_status(&mut wire, Duration::from_secs(5)).unwrap();
    assert_eq!(status.code, 204);
    assert!(read_rest(&mut wire, &status.head));
}

/// `readiness` (a slow unit, not a crash): each read rescanned the whole
/// answer for its status line and head end, so an answer arriving in small
/// pieces cost time quadratic in its length. Each read's bytes are now
/// searched once; what must not change is where the head ends, however the
/// pieces split its end (CRLF, bare LF, or the two mixed).
#[test]
fn a_head_end_split_across_reads_at_every_point_is_still_found() {
    for ending in ["\r\n\r\n", "\n\n", "\n\r\n", "\r\n\n"] {
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: 2{ending}");
        let answer = format!("{head}ok");
        for piece in 1..=answer.len() {
            let mut wire = Interrupted {
                data: answer.as_bytes(),
                piece,
                reads: 0,
                closed: false,
            };
            let status = read_status(&mut wire, Duration::from_secs(5)).unwrap();
            assert_eq!(status.code, 200);
            assert!(
                read_rest(&mut wire, &status.head),
                "{ending:?} in pieces of {piece}: the answer's end was found"
            );
            assert!(wire.data.is_empty(), "read to the end and no further");
        }
        // Without a length the end is unknown: never reused, in any pieces.
        let answer = format!("HTTP/1.1 200 OK\r\nServer: x{ending}ok");
        for piece in 1..=answer.len() {
            let mut wire = Interrupted {
                data: answer.as_bytes(),
                piece,
                reads: 0,
                closed: true,
            };
            let status = read_status(&mut wire, Duration::from_secs(5)).unwrap();
            assert!(!read_rest(&mut wire, &status.head));
        }
    }
}

/// `readiness`: a `Content-Length` near `usize::MAX` overflowed the sum of
/// head and body length (a panic in a debug build).
#[test]
fn a_huge_content_length_is_not_an_overflow() {
    let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nx";
    let mut wire = Interrupted {
        data: answer,
        piece: 4096,
        reads: 0,
        closed: true,
    };
    let status = read_status(&mut wire, Duration::from_secs(5)).unwrap();
    assert_eq!(status.code, 200);
    assert!(!read_rest(&mut wire, &status.head));
}

/// `config`: a host that is not a host name or address (non-ASCII here)
/// was accepted, and the `Host` header made from it was then silently
/// replaced by `localhost`.
#[test]
fn an_app_host_that_cannot_be_an_authority_is_refused() {
    for host in ["5\u{fffd}1", "exa\u{e9}mple", "a@b", "a\"b"] {
        let err = config_with(&[("PORTSIDE_HOST", host)]).expect_err(host);
        assert_eq!(err.variable, "PORTSIDE_HOST", "{host}");
    }
    for host in ["localhost", "127.0.0.1", "::1", "[::1]", "app.internal"] {
        assert!(config_with(&[("PORTSIDE_HOST", host)]).is_ok(), "{host}");
    }
}

/// `config`: a path setting with a character a URL path cannot hold (a
/// backtick, `<`, `>`) was accepted, and the pass-through and WebSocket
/// requests then silently went to their default paths instead.
#[test]
fn a_path_setting_that_is_not_a_url_path_is_refused() {
    for (variable, path) in [
        ("PORTSIDE_PASS_THROUGH_PATH", "/ev`ents"),
        ("PORTSIDE_WEBSOCKET_PATH", "/ws<1>"),
        ("PORTSIDE_READINESS_CHECK_PATH", "/health`z"),
    ] {
        let err = config_with(&[(variable, path)]).expect_err(path);
        assert_eq!(err.variable, variable);
        // Percent-encoded, the same path is accepted as it stands.
        let encoded = path
            .replace('`', "%60")
            .replace('<', "%3C")
            .replace('>', "%3E");
        let config = config_with(&[(variable, &encoded)]).unwrap();
        let held: [&str; 3] = [
            &config.pass_through_path,
            &config.websocket_path,
            &config.readiness.path,
        ];
        assert!(held.contains(&encoded.as_str()), "{encoded}");
    }
}

/// `event_pipeline`: an app's answer on the pass-through path that parses
/// as JSON when serde_json skips its strings, but holds bytes that are not
/// UTF-8 inside one, went to Lambda untouched: a result that is not JSON.
/// It is now the same typed error as any answer that is not UTF-8.
#[test]
fn a_pass_through_answer_with_invalid_utf8_inside_a_string_is_refused() {
    use bytes::Bytes;
    use http::{HeaderMap, StatusCode};
    use portside::testing::error::PortsideError;
    use portside::testing::event::{pass_through_result, ResponseParts};
    let answer = |body: &[u8]| ResponseParts {
        status: StatusCode::OK,
        headers: HeaderMap::new(),
        body: Bytes::copy_from_slice(body),
    };
    for body in [&b"\"\n\xe2  x\""[..], b"{\"a\": \"\xff\"}", b"[\"\xc3\"]"] {
        assert!(serde_json::from_slice::<serde_json::Value>(body).is_err());
        match pass_through_result(answer(body)) {
            Err(PortsideError::AppInvalidResponse(message)) => {
                assert!(message.contains("not UTF-8"), "{message}")
            }
            other => panic!("{body:?}: {other:?}"),
        }
    }
    // Valid JSON, UTF-8 beyond ASCII included, still goes back untouched.
    let json = "{\"name\": \"Zoë\", \"n\": [1, 2.5, null]}".as_bytes();
    let result = pass_through_result(answer(json)).unwrap();
    assert_eq!(result.as_ref(), json);
}

/// `readiness`: with two `Content-Length` headers, the first (`0`) was
/// taken and the second (not a number) ignored, so a connection whose
/// answer's end is unknown was handed over for the first invocation.
#[test]
fn an_answer_with_conflicting_content_lengths_is_not_reused() {
    for answer in [
        &b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nContent-Length: \xca\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
    ] {
        let mut wire = Interrupted {
            data: answer,
            piece: 4096,
            reads: 0,
            closed: false,
        };
        let status = read_status(&mut wire, Duration::from_secs(5)).unwrap();
        assert!(
            !read_rest(&mut wire, &status.head),
            "{:?}",
            String::from_utf8_lossy(answer)
        );
    }
}
