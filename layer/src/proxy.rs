//! The client that talks to the app: the only code that opens connections to it.
//!
//! Owns: the app's connection pool, the invocation's deadline on the way to
//! the response head, which requests may be resent (the rule itself is
//! `client`'s), and the `Portside.*` error for each way the app can fail.
//! Must not: know event formats or Lambda results.
//!
//! Keep-alive on Lambda has a trap: the sandbox is frozen between invocations,
//! so a connection that looked idle for a millisecond may have been idle for
//! ten minutes, and the app's keep-alive timer closes it the moment the
//! sandbox thaws, racing the adapter's next request. Three rules make that
//! harmless without ever sending the app a request twice that it may have
//! acted on. A pooled connection idle longer than the pool timeout, measured
//! on the wall clock as well as the monotonic one, is never reused. A pooled
//! connection is peeked at before it is written to, and dropped if the app
//! has closed it. And a request that went out on a reused connection that
//! then closed without a byte of answer is sent once more on a fresh one only
//! if it is idempotent (GET, HEAD, PUT, DELETE...) and is an HTTP request;
//! a POST, a PATCH, or any pass-through or WebSocket event is sent at most
//! once, and its failure is the invocation's error.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::Incoming;

use crate::client::{self, Resend, SendError, Via};
use crate::deadline::Deadline;
use crate::error::PortsideError;
use crate::limits::Limit;
use crate::pool::{Connection, ConnectionPool};
use crate::runtime_api::OutBody;

/// Whether a request may be sent to the app once more after a reused
/// connection closed without a byte of answer (the module doc's third rule).
#[derive(Clone, Copy)]
pub enum Replay<'a> {
    /// Never: the app may have acted on it (a POST, a PATCH, a pass-through
    /// or WebSocket event, a hook's POST).
    Never,
    /// Once, made again by this function (an idempotent HTTP request, made
    /// again from its event); `None` from it means it cannot be.
    Rebuild(&'a (dyn Fn() -> Option<Request<Bytes>> + Sync)),
}

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
    connection: Connection<OutBody>,
}

impl Lease {
    /// Returns the connection to the pool for the next request.
    pub fn release(self) {
        self.pool.give_back(self.connection);
    }
}

impl AppClient {
    /// A client for the app at `addresses` (tried in order until one connects).
    pub fn new(addresses: Vec<SocketAddr>, idle_timeout: Duration, max_idle: usize) -> AppClient {
        AppClient {
            pool: Arc::new(
                ConnectionPool::new(addresses, idle_timeout, max_idle).with_app_limits(),
            ),
        }
    }

    /// The address shown in errors.
    pub fn address(&self) -> String {
        self.pool.address()
    }

    /// Takes a connection to the app opened elsewhere (the readiness check's)
    /// into the pool, idle; `used` says whether it carried a request already.
    pub async fn adopt(&self, stream: std::net::TcpStream, used: bool) -> std::io::Result<()> {
        let connection = self.pool.adopt(stream, used).await?;
        self.pool.give_back(connection);
        Ok(())
    }

    /// Drops every pooled connection (before a SnapStart snapshot, say).
    pub fn clear(&self) {
        self.pool.clear();
    }

    /// Sends `request` and waits for the response head, all before `deadline`.
    /// `replay` says whether the request may be sent once more when a reused
    /// connection turns out closed after it was written (see the module doc);
    /// whatever it says, a request hyper hands back unsent is sent again.
    /// The request is not copied up front: the common case never needs the
    /// copy. The body is left in the response for the caller to read (within
    /// the same deadline), after which the lease goes back with
    /// [`Lease::release`].
    pub async fn send(
        &self,
        request: Request<Bytes>,
        replay: Replay<'_>,
        deadline: &mut Deadline,
    ) -> Result<(Response<Incoming>, Lease), PortsideError> {
        let started = Instant::now();
        let resend = match replay {
            Replay::Never => Resend::IfNotSent,
            Replay::Rebuild(_) => Resend::IfUnanswered,
        };
        let mut first = Some(request);
        let build = move || {
            let request = match (first.take(), &replay) {
                (Some(request), _) => request,
                (None, Replay::Rebuild(rebuild)) => rebuild()?,
                (None, Replay::Never) => return None,
            };
            Some(request.map(|body| OutBody::Full(Some(body))))
        };
        let exchange = client::send(&self.pool, Via::Pool, resend, build);
        match deadline.within(exchange).await {
            Some(Ok((response, connection))) => Ok((
                response,
                Lease {
                    pool: self.pool.clone(),
                    connection,
                },
            )),
            Some(Err(err)) => Err(self.error(&err, resend)),
            None => Err(PortsideError::AppTimeout {
                waited_ms: started.elapsed().as_millis() as u64,
            }),
        }
    }

    /// The invocation's error for a failed exchange with the app.
    fn error(&self, err: &SendError, resend: Resend) -> PortsideError {
        if err.is_connect() {
            let reason = match err.io_error() {
                Some(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                    "connection refused: nothing listens there".to_string()
                }
                Some(io) => io.to_string(),
                None => err.to_string(),
            };
            PortsideError::AppUnreachable {
                address: self.address(),
                reason,
            }
        } else if err.is_head_too_large() {
            PortsideError::AppInvalidResponse(format!(
                "the app's response head (status line and headers) is over {} or has more \
                 than {} (portside's limits); Lambda's front doors accept far smaller ones",
                Limit::ResponseHead,
                Limit::ResponseHeaderLines
            ))
        } else if err.is_unanswered() {
            PortsideError::AppInvalidResponse(match resend {
                Resend::IfNotSent => "the app closed the connection without answering; the \
                                      request was not sent again, because the app may have \
                                      acted on it"
                    .to_string(),
                Resend::IfUnanswered => {
                    "the app closed the connection without answering".to_string()
                }
            })
        } else {
            PortsideError::AppInvalidResponse(err.to_string())
        }
    }
}
