//! An app that declines large uploads before reading them, as a framework
//! with a body-size limit does (Express's `limit`, Django's
//! `DATA_UPLOAD_MAX_MEMORY_SIZE`, nginx's `client_max_body_size`): a request
//! whose `Content-Length` is over the limit gets `413` without its body being
//! read, and the connection is then held open, unread, for a while. Other
//! requests are read whole and answered `200` with `ok <target>`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// How the app declines.
#[derive(Debug, Clone, Copy)]
pub struct Decline {
    /// Bodies over this many bytes are declined.
    pub limit: usize,
    /// Read this many bytes of the body first, slowly (in 16 KiB reads
    /// 20 ms apart), as a server that streams the upload to its check does.
    pub read_first: usize,
    /// Whether the 413 says `Connection: close` (RFC 9112 §9.6).
    pub close: bool,
    /// How long the declined connection is then held open, unread.
    pub hold: Duration,
}

/// The declining app on a loopback port.
pub struct DecliningApp {
    /// Its port.
    pub port: u16,
    /// The request line of every request it received, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl DecliningApp {
    /// Starts the app on an OS-chosen loopback port.
    pub async fn start(decline: Decline) -> DecliningApp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, decline, seen.clone()));
            }
        });
        DecliningApp {
            port,
            requests,
            task,
        }
    }

    /// The request lines received for `target`.
    pub fn count(&self, target: &str) -> usize {
        let wanted = format!(" {target} ");
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.contains(&wanted))
            .count()
    }
}

impl Drop for DecliningApp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(stream: tokio::net::TcpStream, decline: Decline, seen: Arc<Mutex<Vec<String>>>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let target = line.split(' ').nth(1).unwrap_or("").to_string();
        seen.lock().unwrap().push(line.trim_end().to_string());
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).await.unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        if length > decline.limit {
            let mut chunk = vec![0u8; 16 * 1024];
            let mut read = 0;
            while read < decline.read_first.min(length) {
                let want = chunk.len().min(decline.read_first - read);
                match reader.read(&mut chunk[..want]).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => read += n,
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let body = "request entity too large";
            let close = if decline.close {
                "Connection: close\r\n"
            } else {
                ""
            };
            let answer = format!(
                "HTTP/1.1 413 Payload Too Large\r\n{close}Content-Type: text/plain\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = reader.get_mut().write_all(answer.as_bytes()).await;
            // Hold the connection without reading what follows.
            tokio::time::sleep(decline.hold).await;
            return;
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).await.is_err() {
            return;
        }
        let text = format!("ok {target}");
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        if reader.get_mut().write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}
