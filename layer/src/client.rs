//! The adapter's one HTTP/1.1 client: every request portside makes (to the
//! app, to the Runtime API, to the Extensions API) goes through [`send`], so
//! one rule decides when a request may be sent twice.
//!
//! Owns: the retry rule, and the typed [`SendError`] that says what became of
//! a request that failed.
//! Must not: know deadlines, event formats or Lambda (callers do).
//!
//! # The retry rule (RFC 9110 §9.2.2, as Go's and hyper-util's clients apply it)
//!
//! A request the peer may have acted on is never sent again on the client's
//! own initiative: that is the caller's decision (for an invocation, Lambda's
//! retry policy). So a failed request is sent once more, on a fresh
//! connection, only when:
//!
//! - it provably never reached the peer: hyper handed it back unsent (the
//!   connection closed before hyper took it), or not one byte of it was
//!   written; any method; or
//! - it is idempotent ([`Resend::IfUnanswered`]: GET, HEAD, OPTIONS, TRACE,
//!   PUT, DELETE, and the caller allows it), it went out on a *reused*
//!   connection, and not a single byte of response came back before that
//!   connection ended: the signature of a keep-alive connection the peer
//!   closed while it was idle, racing the request.
//!
//! Never after any byte of response (a malformed status line, a head over
//! the read limit, a cut-off head): the peer answered, so it saw the request.
//! And at most once. A request that fails on a fresh connection is the
//! peer's failure, not a stale connection's, and is not resent unless it was
//! never sent.
//!
//! Stale connections are mostly caught before they are written to: the pool
//! peeks at each idle connection before lending it out (see `pool`).

use std::error::Error as StdError;
use std::fmt;

use http::{Method, Request, Response};
use hyper::body::{Body, Incoming};

use crate::pool::{Connection, ConnectionPool};

type Cause = Box<dyn StdError + Send + Sync>;

/// Whether a request that may have reached the peer may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// Only if it provably never reached the peer (POST, PATCH, pass-through
    /// and WebSocket events, streamed bodies).
    IfNotSent,
    /// Also once after a reused connection closed before any response byte
    /// (idempotent methods).
    IfUnanswered,
}

impl Resend {
    /// RFC 9110's idempotent methods may be resent when unanswered; the rest
    /// only when never sent.
    pub fn for_method(method: &Method) -> Resend {
        if [
            Method::GET,
            Method::HEAD,
            Method::OPTIONS,
            Method::TRACE,
            Method::PUT,
            Method::DELETE,
        ]
        .contains(method)
        {
            Resend::IfUnanswered
        } else {
            Resend::IfNotSent
        }
    }
}

/// What the peer could have seen of one failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Nothing of the request reached the peer.
    NotSent,
    /// The request (or part of it) was written, and the connection ended
    /// before a single byte of response.
    Unanswered,
    /// Response bytes arrived, but not a usable response head.
    Answered,
}

impl Attempt {
    /// Classifies a failure by what crossed the connection during it.
    pub fn of(handed_back: bool, bytes_written: u64, bytes_read: u64) -> Attempt {
        if bytes_read > 0 {
            Attempt::Answered
        } else if handed_back || bytes_written == 0 {
            Attempt::NotSent
        } else {
            Attempt::Unanswered
        }
    }

    /// The retry rule: whether this failure allows sending the request once
    /// more (the caller sends it at most once more, on a fresh connection).
    pub fn allows_resend(self, resend: Resend, reused_connection: bool) -> bool {
        match self {
            Attempt::NotSent => true,
            Attempt::Unanswered => resend == Resend::IfUnanswered && reused_connection,
            Attempt::Answered => false,
        }
    }
}

/// Which connection a request goes on.
pub enum Via<B> {
    /// A pooled one if there is one safe to use, else a fresh one.
    Pool,
    /// A fresh one: this one if already open (for a streamed body that must
    /// not wait for a connection), else a new one.
    Fresh(Option<Connection<B>>),
}

/// Why a request failed, typed.
#[derive(Debug)]
pub struct SendError {
    kind: Kind,
    cause: Option<Cause>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Connect,
    Unanswered,
    InvalidHead,
    HeadTooLarge,
}

impl SendError {
    /// No connection could be made (nothing listens, or the address is unreachable).
    pub fn is_connect(&self) -> bool {
        self.kind == Kind::Connect
    }

    /// The request went out, and the connection ended (closed or reset)
    /// before a single byte of response.
    pub fn is_unanswered(&self) -> bool {
        self.kind == Kind::Unanswered
    }

    /// The response head (status line and headers) is over its size or
    /// header-line limit ([`crate::limits::Limit::ResponseHead`],
    /// [`crate::limits::Limit::ResponseHeaderLines`]).
    pub fn is_head_too_large(&self) -> bool {
        self.kind == Kind::HeadTooLarge
    }

    /// The I/O error of a failed connect, if that is what this is.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        self.cause.as_ref()?.downcast_ref::<std::io::Error>()
    }

    fn connect(err: std::io::Error) -> SendError {
        SendError {
            kind: Kind::Connect,
            cause: Some(Box::new(err)),
        }
    }

    fn failed(attempt: Attempt, err: hyper::Error) -> SendError {
        let kind = match attempt {
            Attempt::NotSent | Attempt::Unanswered => Kind::Unanswered,
            // Over the head's size or header-line limit (`pool` sets both).
            Attempt::Answered if err.is_parse_too_large() => Kind::HeadTooLarge,
            Attempt::Answered => Kind::InvalidHead,
        };
        SendError {
            kind,
            cause: Some(Box::new(err)),
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Connect => f.write_str("cannot connect")?,
            Kind::Unanswered => f.write_str("the connection closed without an answer")?,
            Kind::InvalidHead => f.write_str("the answer is not a valid HTTP response")?,
            Kind::HeadTooLarge => {
                f.write_str("the response head is over its size or line limit")?
            }
        }
        let mut cause = self
            .cause
            .as_deref()
            .map(|c| c as &(dyn StdError + 'static));
        while let Some(inner) = cause {
            write!(f, ": {inner}")?;
            cause = inner.source();
        }
        Ok(())
    }
}

impl StdError for SendError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn StdError + 'static))
    }
}

/// Sends a request built by `build` and waits for the response head; the
/// body is left in the response, and the connection is returned with it (give
/// it back to the pool once the body is read to its end).
///
/// `build` makes the request; it is called again only to resend a request
/// that hyper did not hand back, and may return `None` when it cannot (a
/// streamed body), which ends the attempt.
pub async fn send<B>(
    pool: &ConnectionPool<B>,
    via: Via<B>,
    resend: Resend,
    mut build: impl FnMut() -> Option<Request<B>>,
) -> Result<(Response<Incoming>, Connection<B>), SendError>
where
    B: Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Cause>,
{
    let mut connection = match via {
        Via::Pool => match pool.checkout() {
            Some(connection) => connection,
            None => pool.connect().await.map_err(SendError::connect)?,
        },
        Via::Fresh(Some(connection)) => connection,
        Via::Fresh(None) => pool.connect().await.map_err(SendError::connect)?,
    };
    let mut request = build().ok_or_else(|| SendError {
        kind: Kind::Unanswered,
        cause: Some("no request to send".into()),
    })?;
    let mut resent = false;
    loop {
        let (read_before, written_before) =
            (connection.traffic.read(), connection.traffic.written());
        match connection.sender.try_send_request(request).await {
            Ok(response) => return Ok((response, connection)),
            Err(mut err) => {
                let handed_back = err.take_message();
                let bytes_read = connection.traffic.read() - read_before;
                let bytes_written = connection.traffic.written() - written_before;
                let attempt = Attempt::of(handed_back.is_some(), bytes_written, bytes_read);
                let again = if !resent && attempt.allows_resend(resend, connection.reused) {
                    handed_back.or_else(&mut build)
                } else {
                    None
                };
                match again {
                    Some(again) => {
                        crate::debug!(
                            "resending a request that {} on a {} connection to {}",
                            match attempt {
                                Attempt::NotSent => "was never sent",
                                _ => "got no answer",
                            },
                            if connection.reused { "reused" } else { "fresh" },
                            pool.address()
                        );
                        request = again;
                        resent = true;
                        connection = pool.connect().await.map_err(SendError::connect)?;
                    }
                    None => return Err(SendError::failed(attempt, err.into_error())),
                }
            }
        }
    }
}

/// `Ok` for a 2xx answer from one of Lambda's APIs, else the error that
/// says which call Lambda refused and what it said (its body is Lambda's
/// error document, never the app's data).
pub fn expect_success(what: &str, status: http::StatusCode, body: &[u8]) -> Result<(), String> {
    if status.is_success() {
        Ok(())
    } else {
        Err(format!(
            "{what} answered {status}: {}",
            String::from_utf8_lossy(body).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotent_methods_are_rfc_9110s() {
        for method in ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"] {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            assert_eq!(
                Resend::for_method(&method),
                Resend::IfUnanswered,
                "{method}"
            );
        }
        for method in ["POST", "PATCH", "CONNECT", "PROPFIND"] {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            assert_eq!(Resend::for_method(&method), Resend::IfNotSent, "{method}");
        }
    }

    #[test]
    fn any_response_byte_means_the_peer_saw_the_request() {
        assert_eq!(Attempt::of(false, 100, 1), Attempt::Answered);
        assert_eq!(Attempt::of(true, 0, 1), Attempt::Answered);
        assert_eq!(Attempt::of(false, 100, 0), Attempt::Unanswered);
        assert_eq!(Attempt::of(false, 0, 0), Attempt::NotSent);
        assert_eq!(Attempt::of(true, 0, 0), Attempt::NotSent);
    }

    #[test]
    fn the_retry_rule() {
        use Attempt::*;
        use Resend::*;
        // (attempt, resend, reused) -> may resend
        let table = [
            (NotSent, IfNotSent, false, true),
            (NotSent, IfNotSent, true, true),
            (NotSent, IfUnanswered, false, true),
            (Unanswered, IfNotSent, true, false),
            (Unanswered, IfNotSent, false, false),
            (Unanswered, IfUnanswered, true, true),
            (Unanswered, IfUnanswered, false, false),
            (Answered, IfUnanswered, true, false),
            (Answered, IfNotSent, true, false),
        ];
        for (attempt, resend, reused, want) in table {
            assert_eq!(
                attempt.allows_resend(resend, reused),
                want,
                "{attempt:?} {resend:?} reused={reused}"
            );
        }
    }
}
