//! Keep-alive HTTP/1.1 connections to one loopback service (the app, or
//! Lambda's APIs).
//!
//! Owns: connecting (every address of a host in turn, Nagle off), counting
//! the bytes each connection carries each way (so a failed exchange can say
//! whether the peer saw anything, and answered anything), keeping idle
//! connections, and refusing to reuse one that the peer has closed or that
//! has been idle too long, by the wall clock as well as the monotonic one (a
//! frozen sandbox or a SnapStart restore can hide time from the latter).
//! Must not: decide about retries or deadlines (`client` and its callers do).
//!
//! A pooled connection is checked before it is lent out: hyper notices that
//! the peer closed an idle connection only when its connection task next
//! runs, which after a thaw may be after the next request was written to the
//! dead socket. So each connection keeps a second handle on its socket (a
//! duplicated descriptor, never read from) and the pool peeks at it without
//! blocking: end of file, an error, or bytes nobody asked for mean the
//! connection is dropped, not reused.
//!
//! Only a connection whose exchange is over goes back into the pool: hyper
//! must want the next request on it the moment it is given back. A peer may
//! answer before it has read the whole request (a `413` for an upload it
//! will not take, RFC 9112 §9.5), and then the rest of the body may never
//! be read; such a connection is closed, never pooled, so no later request
//! waits behind it (as Go's client and curl do). Dropping a [`Connection`]
//! stops its connection task and closes the socket at once: a request given
//! up on (at a deadline, or declined) stops being written.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use hyper::body::Body;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::limits::Limit;

/// Bytes each read from a connection asks for, which is also the largest
/// response head accepted ([`Limit::ResponseHead`]). Reads of one size under
/// 64 KiB reuse the same warm allocator memory (bench/README.md has the
/// measurements behind this figure).
pub const READ_BUFFER: usize = Limit::ResponseHead.max();

/// Bytes a connection has carried, each way, since it opened.
#[derive(Debug, Default)]
pub struct Traffic {
    read: AtomicU64,
    written: AtomicU64,
}

impl Traffic {
    /// Bytes read from the peer so far.
    pub fn read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// Bytes written to the peer so far.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
}

/// A socket that counts what crosses it (the I/O hyper drives).
struct Counted {
    stream: TcpStream,
    traffic: Arc<Traffic>,
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        this.traffic.read.fetch_add(read as u64, Ordering::Relaxed);
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            this.traffic.written.fetch_add(n as u64, Ordering::Relaxed);
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            this.traffic.written.fetch_add(n as u64, Ordering::Relaxed);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// One connection: hyper's handle for requests, what it has carried, and a
/// second handle on its socket to check it before reuse.
pub struct Connection<B> {
    /// hyper's handle for sending requests on this connection.
    pub sender: SendRequest<B>,
    /// Bytes carried each way.
    pub traffic: Arc<Traffic>,
    /// Whether an earlier exchange used it (a fresh connection is not).
    pub reused: bool,
    /// The same socket, duplicated: only ever peeked at.
    probe: std::net::TcpStream,
    /// hyper's connection task, stopped when the connection is dropped.
    driver: tokio::task::AbortHandle,
}

impl<B> Drop for Connection<B> {
    fn drop(&mut self) {
        // Without this, the task would go on writing a request body that the
        // peer may never read, holding the socket open.
        self.driver.abort();
    }
}

impl<B> Connection<B> {
    /// Whether the connection can carry the next request now: hyper wants
    /// one (it has not seen the connection close, and no exchange is still
    /// under way on it), and a peek finds neither end of file, nor an
    /// error, nor bytes nobody asked for.
    fn is_usable(&self) -> bool {
        // hyper takes a new request only once the last exchange is over
        // both ways (the whole request written, the whole response read).
        if !self.sender.is_ready() {
            return false;
        }
        let mut byte = [0u8; 1];
        // The socket is non-blocking (tokio made it so, and a duplicate
        // shares that): nothing to read is the only healthy answer.
        matches!(self.probe.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

struct Idle<B> {
    connection: Connection<B>,
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
    /// The most header lines a response may have, when more than hyper's
    /// 100 (which it parses without allocating).
    max_header_lines: Option<usize>,
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
            max_header_lines: None,
        }
    }

    /// Accepts responses with up to [`Limit::ResponseHeaderLines`] header
    /// lines in up to [`Limit::ResponseHead`] bytes (an app's answers; Lambda's
    /// own have a few lines).
    pub fn with_app_limits(mut self) -> Self {
        self.max_header_lines = Some(Limit::ResponseHeaderLines.max());
        self
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

    /// An idle connection that is safe to write a request to, if there is one.
    pub fn checkout(&self) -> Option<Connection<B>> {
        loop {
            let candidate = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()?;
            let idle_for = candidate
                .since
                .elapsed()
                .max(candidate.since_wall.elapsed().unwrap_or(Duration::MAX));
            if idle_for >= self.idle_timeout || !candidate.connection.is_usable() {
                continue;
            }
            let mut connection = candidate.connection;
            connection.reused = true;
            return Some(connection);
        }
    }

    /// Keeps a connection for the next request, once its response is fully
    /// read. One that cannot take another request right now (the peer closed
    /// it or said it would, or the request is still being written because
    /// the peer answered before reading all of it) is closed instead.
    pub fn give_back(&self, connection: Connection<B>) {
        if !connection.sender.is_ready() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.max_idle {
            idle.push(Idle {
                connection,
                since: Instant::now(),
                since_wall: SystemTime::now(),
            });
        }
    }

    /// A connection opened elsewhere, as a connection of this pool (the
    /// caller gives it back when it should be idle). `used`: it carried a
    /// request already, so it counts as reused.
    pub async fn adopt(
        &self,
        stream: std::net::TcpStream,
        used: bool,
    ) -> Result<Connection<B>, io::Error> {
        stream.set_nonblocking(true)?;
        let mut connection = handshake(TcpStream::from_std(stream)?, self.max_header_lines).await?;
        connection.reused = used;
        Ok(connection)
    }

    /// A new connection, trying each address from the last one that worked.
    pub async fn connect(&self) -> Result<Connection<B>, io::Error> {
        let count = self.addresses.len();
        let start = self.preferred.load(Ordering::Relaxed);
        let mut last_error = io::Error::new(io::ErrorKind::NotFound, "no address to connect to");
        for offset in 0..count {
            let index = (start + offset) % count;
            match TcpStream::connect(self.addresses[index]).await {
                Ok(stream) => {
                    self.preferred.store(index, Ordering::Relaxed);
                    return handshake(stream, self.max_header_lines).await;
                }
                Err(err) => last_error = err,
            }
        }
        Err(last_error)
    }
}

/// The addresses of `host:port`, IPv4 first (apps most often listen on
/// 127.0.0.1 even when `localhost` also means `::1`).
pub fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    use std::net::ToSocketAddrs;
    let mut addresses: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    addresses.sort_by_key(|a| !a.is_ipv4());
    if addresses.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "the name resolves to no address",
        ));
    }
    Ok(addresses)
}

async fn handshake<B>(
    stream: TcpStream,
    max_header_lines: Option<usize>,
) -> Result<Connection<B>, io::Error>
where
    B: Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    // Small writes (headers, streamed chunks) must leave at once.
    stream.set_nodelay(true)?;
    let probe = std::net::TcpStream::from(stream.as_fd().try_clone_to_owned()?);
    let traffic = Arc::new(Traffic::default());
    let io = Counted {
        stream,
        traffic: traffic.clone(),
    };
    let mut builder = http1::Builder::new();
    builder
        .read_buf_exact_size(Some(READ_BUFFER))
        .max_header_size(Limit::ResponseHead.max());
    if let Some(lines) = max_header_lines {
        builder.max_headers(lines);
    }
    let (sender, connection) = builder
        .handshake(TokioIo::new(io))
        .await
        .map_err(io::Error::other)?;
    let driver = tokio::spawn(async move {
        // Ends when either side closes the connection, or when the
        // `Connection` is dropped (which aborts it).
        let _ = connection.await;
    })
    .abort_handle();
    let mut connection = Connection {
        sender,
        traffic,
        reused: false,
        probe,
        driver,
    };
    // Once the task has run, hyper wants the first request: from then on
    // "ready" means "idle", which is what `give_back` checks.
    connection.sender.ready().await.map_err(io::Error::other)?;
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use std::io::{Read, Write};
    use std::sync::mpsc;

    /// A one-connection HTTP server on its own thread: answers one request,
    /// then closes the connection when told to.
    fn serve_once_then_close() -> (SocketAddr, mpsc::Sender<()>, std::thread::JoinHandle<()>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let (close, closed) = mpsc::channel();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut chunk = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                let n = stream.read(&mut chunk).unwrap();
                assert!(n > 0, "the client closed first");
                request.extend_from_slice(&chunk[..n]);
            }
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .unwrap();
            closed.recv().unwrap();
            drop(stream); // FIN, with nothing more said
        });
        (address, close, server)
    }

    #[test]
    fn a_connection_the_peer_closed_is_not_lent_out_even_before_hyper_notices() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (address, close, server) = serve_once_then_close();
            let pool: ConnectionPool<Full<Bytes>> =
                ConnectionPool::new(vec![address], Duration::from_secs(60), 1);
            let mut connection = pool.connect().await.unwrap();
            let request = http::Request::get("/")
                .header("host", "test")
                .body(Full::new(Bytes::new()))
                .unwrap();
            let response = connection.sender.send_request(request).await.unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, "ok");
            assert_eq!(connection.traffic.read(), 40);
            assert!(connection.traffic.written() > 0);
            pool.give_back(connection);

            close.send(()).unwrap();
            server.join().unwrap();
            // Block this (the only) runtime thread while the FIN arrives, so
            // hyper's connection task cannot run and see it: only a check of
            // the socket itself can tell that the connection is gone.
            std::thread::sleep(Duration::from_millis(50));
            assert!(
                pool.checkout().is_none(),
                "a closed connection must not be lent out"
            );
        });
    }

    #[test]
    fn a_healthy_idle_connection_is_lent_out_again() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (address, close, server) = serve_once_then_close();
            let pool: ConnectionPool<Full<Bytes>> =
                ConnectionPool::new(vec![address], Duration::from_secs(60), 1);
            let mut connection = pool.connect().await.unwrap();
            assert!(!connection.reused);
            let request = http::Request::get("/")
                .header("host", "test")
                .body(Full::new(Bytes::new()))
                .unwrap();
            let response = connection.sender.send_request(request).await.unwrap();
            let _ = response.into_body().collect().await.unwrap();
            pool.give_back(connection);
            let again = pool.checkout().expect("the idle connection is usable");
            assert!(again.reused);
            close.send(()).unwrap();
            server.join().unwrap();
        });
    }
}
