//! A small pool of HTTP/1.1 keep-alive connections to one loopback service
//! (the app, or Lambda's Runtime API).
//!
//! Owns: connecting (every address of a host in turn, Nagle off), keeping idle
//! connections, and refusing to reuse one that is closed or has been idle too
//! long, by the wall clock as well as the monotonic one (a frozen sandbox or a
//! SnapStart restore can hide time from the latter).
//! Must not: decide about retries or deadlines (its callers do).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use hyper::body::Body;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Bytes each read from a connection asks for, which is also the largest
/// response head accepted (Node's HTTP parser stops at 16 KiB by default).
///
/// hyper's default read buffer grows to ~400 KiB while a large body arrives,
/// and every buffer its chunks leave behind is a new allocation of a
/// different size: at 64 KiB and more those go to the allocator's cache of
/// large blocks by size class, which kept missing on the varying sizes and
/// handing out fresh memory that page-faulted as the body was read into it
/// (~120 faults and a quarter of the adapter's CPU per 1 MiB response).
/// Reads of one size under 64 KiB reuse the same warm dlmalloc memory.
pub const READ_BUFFER: usize = 60 * 1024;

struct Idle<B> {
    sender: SendRequest<B>,
    since: Instant,
    since_wall: SystemTime,
}

/// Connections to one service.
pub struct ConnectionPool<B> {
    addresses: Vec<SocketAddr>,
    preferred: AtomicUsize,
    idle: Mutex<Vec<Idle<B>>>,
    idle_timeout: Duration,
    max_idle: usize,
}

impl<B> ConnectionPool<B>
where
    B: Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    /// A pool for the service at `addresses`, keeping at most `max_idle`
    /// connections idle for at most `idle_timeout`.
    pub fn new(addresses: Vec<SocketAddr>, idle_timeout: Duration, max_idle: usize) -> Self {
        ConnectionPool {
            addresses,
            preferred: AtomicUsize::new(0),
            idle: Mutex::new(Vec::new()),
            idle_timeout,
            max_idle: max_idle.max(1),
        }
    }

    /// The address shown in errors: the one that last accepted a connection.
    pub fn address(&self) -> String {
        let i = self.preferred.load(Ordering::Relaxed);
        self.addresses
            .get(i)
            .or(self.addresses.first())
            .map_or_else(|| "(no address)".to_string(), |a| a.to_string())
    }

    /// Drops every idle connection.
    pub fn clear(&self) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// An idle connection that is safe to reuse, if there is one.
    pub async fn checkout(&self) -> Option<SendRequest<B>> {
        loop {
            let candidate = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()?;
            let idle_for = candidate
                .since
                .elapsed()
                .max(candidate.since_wall.elapsed().unwrap_or(Duration::MAX));
            if candidate.sender.is_closed() || idle_for >= self.idle_timeout {
                continue;
            }
            let mut sender = candidate.sender;
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    /// Keeps a connection for the next request (once its response is fully read).
    pub fn give_back(&self, sender: SendRequest<B>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.max_idle {
            idle.push(Idle {
                sender,
                since: Instant::now(),
                since_wall: SystemTime::now(),
            });
        }
    }

    /// A new connection, trying each address from the last one that worked.
    pub async fn connect(&self) -> Result<SendRequest<B>, std::io::Error> {
        let count = self.addresses.len();
        let start = self.preferred.load(Ordering::Relaxed);
        let mut last_error =
            std::io::Error::new(std::io::ErrorKind::NotFound, "no address to connect to");
        for offset in 0..count {
            let index = (start + offset) % count;
            match TcpStream::connect(self.addresses[index]).await {
                Ok(stream) => {
                    // Small writes (headers, streamed chunks) must leave at once.
                    stream.set_nodelay(true)?;
                    self.preferred.store(index, Ordering::Relaxed);
                    let (sender, connection) = http1::Builder::new()
                        .read_buf_exact_size(Some(READ_BUFFER))
                        .handshake(TokioIo::new(stream))
                        .await
                        .map_err(std::io::Error::other)?;
                    tokio::spawn(async move {
                        // Ends when either side closes the connection.
                        let _ = connection.await;
                    });
                    return Ok(sender);
                }
                Err(err) => last_error = err,
            }
        }
        Err(last_error)
    }
}
