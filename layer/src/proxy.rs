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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::error::PortsideError;

type Sender = SendRequest<Full<Bytes>>;

struct IdleConnection {
    sender: Sender,
    since: Instant,
    since_wall: SystemTime,
}

struct Pool {
    /// The app's addresses (a host name may resolve to several).
    addresses: Vec<SocketAddr>,
    /// Index of the address that last accepted a connection.
    preferred: AtomicUsize,
    idle: Mutex<Vec<IdleConnection>>,
    idle_timeout: Duration,
    max_idle: usize,
}

/// The pooled client to the app. Cheap to clone.
#[derive(Clone)]
pub struct AppClient {
    pool: Arc<Pool>,
}

/// A connection lent out for one request. Give it back with [`Lease::release`]
/// once the response body has been read to its end; dropping it instead
/// closes the connection.
pub struct Lease {
    pool: Arc<Pool>,
    sender: Option<Sender>,
}

impl Lease {
    /// Returns the connection to the pool for the next request.
    pub fn release(mut self) {
        if let Some(sender) = self.sender.take() {
            if sender.is_closed() {
                return;
            }
            let mut idle = self.pool.idle.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < self.pool.max_idle {
                idle.push(IdleConnection {
                    sender,
                    since: Instant::now(),
                    since_wall: SystemTime::now(),
                });
            }
        }
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
            pool: Arc::new(Pool {
                addresses,
                preferred: AtomicUsize::new(0),
                idle: Mutex::new(Vec::new()),
                idle_timeout,
                max_idle: max_idle.max(1),
            }),
        }
    }

    /// The address shown in errors.
    pub fn address(&self) -> String {
        let i = self.pool.preferred.load(Ordering::Relaxed);
        self.pool
            .addresses
            .get(i)
            .or(self.pool.addresses.first())
            .map_or_else(|| "(no address)".to_string(), |a| a.to_string())
    }

    /// Drops every pooled connection (after a SnapStart restore, say).
    pub fn clear(&self) {
        self.pool
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// A pooled connection that is safe to reuse, if there is one.
    async fn checkout(&self) -> Option<Sender> {
        loop {
            let candidate = self
                .pool
                .idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()?;
            let idle_for = candidate
                .since
                .elapsed()
                .max(candidate.since_wall.elapsed().unwrap_or(Duration::MAX));
            if candidate.sender.is_closed() || idle_for >= self.pool.idle_timeout {
                continue;
            }
            let mut sender = candidate.sender;
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    async fn connect(&self) -> Result<Sender, std::io::Error> {
        let count = self.pool.addresses.len();
        let start = self.pool.preferred.load(Ordering::Relaxed);
        let mut last_error =
            std::io::Error::new(std::io::ErrorKind::NotFound, "no address for the app");
        for offset in 0..count {
            let index = (start + offset) % count;
            match TcpStream::connect(self.pool.addresses[index]).await {
                Ok(stream) => {
                    // Small writes (headers, streamed chunks) must leave at once.
                    stream.set_nodelay(true)?;
                    self.pool.preferred.store(index, Ordering::Relaxed);
                    let (sender, connection) = http1::handshake(TokioIo::new(stream))
                        .await
                        .map_err(std::io::Error::other)?;
                    tokio::spawn(async move {
                        // Ends when the app or the adapter closes the connection.
                        let _ = connection.await;
                    });
                    return Ok(sender);
                }
                Err(err) => last_error = err,
            }
        }
        Err(last_error)
    }

    async fn send_once(
        &self,
        sender: &mut Sender,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, SendError> {
        sender.send_request(request).await.map_err(SendError::Http)
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
            let rebuild = || Request::from_parts(parts.clone(), Full::new(body.clone()));
            if let Some(mut sender) = self.checkout().await {
                if let Ok(response) = self.send_once(&mut sender, rebuild()).await {
                    return Ok((response, sender));
                }
                // Otherwise the app closed this idle connection before reading
                // the request: send it on a fresh one.
            }
            let mut sender = self.connect().await.map_err(SendError::Connect)?;
            let response = self.send_once(&mut sender, rebuild()).await?;
            Ok((response, sender))
        };
        match tokio::time::timeout_at(deadline.into(), exchange).await {
            Ok(Ok((response, sender))) => Ok((
                response,
                Lease {
                    pool: self.pool.clone(),
                    sender: Some(sender),
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
    if err.is_parse() || err.is_parse_status() {
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
