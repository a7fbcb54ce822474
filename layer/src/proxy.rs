//! The client that talks to the app: the only code that opens connections to it.
//!
//! Owns: a small pool of HTTP/1.1 keep-alive connections on loopback (with
//! Nagle off), deadlines, and the one retry of a request the app never saw.
//! Must not: know event formats or Lambda results.
//!
//! Keep-alive on Lambda has a trap: the sandbox is frozen between invocations,
//! so a connection that looked idle for a millisecond may have been idle for
//! ten minutes, and the app's keep-alive timer closes it the moment the
//! sandbox thaws, racing the adapter's next request. Two rules make that
//! harmless. A pooled connection idle longer than the pool timeout, measured
//! on the wall clock as well as the monotonic one (a freeze or a SnapStart
//! restore can hide time from the latter), is never reused. And a request on
//! a reused connection that fails before any response byte arrives is sent
//! once more on a fresh connection: the app closed that connection while it
//! was idle, so it never saw the request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;

use crate::error::PortsideError;
use crate::pool::ConnectionPool;
use crate::runtime_api::OutBody;

type Sender = SendRequest<OutBody>;

/// The pooled client to the app. Cheap to clone.
#[derive(Clone)]
pub struct AppClient {
    pool: Arc<ConnectionPool<OutBody>>,
}

/// A connection lent out for one request. Give it back with [`Lease::release`]
/// once the response body has been read to its end; dropping it instead
/// closes the connection.
pub struct Lease {
    pool: Arc<ConnectionPool<OutBody>>,
    sender: Sender,
}

impl Lease {
    /// Returns the connection to the pool for the next request.
    pub fn release(self) {
        self.pool.give_back(self.sender);
    }
}

/// Why a request to the app failed, before any policy is applied.
enum SendError {
    Connect(std::io::Error),
    Http(hyper::Error),
}

impl AppClient {
    /// A client for the app at `addresses` (tried in order until one connects).
    pub fn new(addresses: Vec<SocketAddr>, idle_timeout: Duration, max_idle: usize) -> AppClient {
        AppClient {
            pool: Arc::new(ConnectionPool::new(addresses, idle_timeout, max_idle)),
        }
    }

    /// The address shown in errors.
    pub fn address(&self) -> String {
        self.pool.address()
    }

    /// Drops every pooled connection (before a SnapStart snapshot, say).
    pub fn clear(&self) {
        self.pool.clear();
    }

    /// Sends `request` and waits for the response head, all before `deadline`.
    /// The body is left in the response for the caller to read (within the
    /// same deadline), after which the lease goes back with [`Lease::release`].
    pub async fn send(
        &self,
        request: Request<Bytes>,
        deadline: Instant,
    ) -> Result<(Response<Incoming>, Lease), PortsideError> {
        let started = Instant::now();
        let exchange = async {
            let (parts, body) = request.into_parts();
            let rebuild = || Request::from_parts(parts.clone(), OutBody::Full(Some(body.clone())));
            if let Some(mut sender) = self.pool.checkout().await {
                if let Ok(response) = sender.send_request(rebuild()).await {
                    return Ok((response, sender));
                }
                // Otherwise the app closed this idle connection before reading
                // the request: send it on a fresh one.
            }
            let mut sender = self.pool.connect().await.map_err(SendError::Connect)?;
            let response = sender
                .send_request(rebuild())
                .await
                .map_err(SendError::Http)?;
            Ok((response, sender))
        };
        match tokio::time::timeout_at(deadline.into(), exchange).await {
            Ok(Ok((response, sender))) => Ok((
                response,
                Lease {
                    pool: self.pool.clone(),
                    sender,
                },
            )),
            Ok(Err(SendError::Connect(err))) => Err(PortsideError::AppUnreachable {
                address: self.address(),
                reason: describe_io(&err),
            }),
            Ok(Err(SendError::Http(err))) => Err(describe_http(&err)),
            Err(_) => Err(PortsideError::AppTimeout {
                waited_ms: started.elapsed().as_millis() as u64,
            }),
        }
    }
}

fn describe_io(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::ConnectionRefused => {
            "connection refused: nothing listens there".to_string()
        }
        _ => err.to_string(),
    }
}

/// An error from an exchange on a fresh connection, in words.
pub(crate) fn describe_http(err: &hyper::Error) -> PortsideError {
    // `is_parse_too_large` exists only with hyper's server feature, which the
    // layer does not build; the message is hyper's own for that case.
    if err.is_parse() && err.to_string() == "message head is too large" {
        PortsideError::AppInvalidResponse(format!(
            "the app's response head (status line and headers) is over {} KiB; \
             Lambda's front doors accept far smaller ones",
            crate::pool::READ_BUFFER / 1024
        ))
    } else if err.is_parse() || err.is_parse_status() {
        PortsideError::AppInvalidResponse(format!("{err}"))
    } else if err.is_incomplete_message() || err.is_closed() || err.is_canceled() {
        PortsideError::AppInvalidResponse(
            "the app closed the connection without answering".to_string(),
        )
    } else {
        let mut text = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(inner) = source {
            text.push_str(": ");
            text.push_str(&inner.to_string());
            source = inner.source();
        }
        PortsideError::AppInvalidResponse(text)
    }
}
