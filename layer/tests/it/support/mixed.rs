//! An app whose every request chooses its own fault by its first path
//! segment, so one batch of concurrent invocations mixes them all:
//!
//! * `/ok/...`: the body is read, and after 100 ms the answer is
//!   `200 ok <target>`;
//! * `/gate/...`: as `/ok`, but answered only once `gate` requests are at
//!   the app at the same time (so a batch of them holds exactly that many
//!   connections);
//! * `/slow/...`: the body is read 16 KiB at a time, 5 ms apart (a slow
//!   reader), then answered as `/ok`;
//! * `/early/...`: `413` with `Connection: close` before the body is read,
//!   and the connection held, unread, for 3 s;
//! * `/crash/...`: the body is read, then half an answer (a head announcing
//!   1000 bytes and 10 of them) and the connection closes, as when the app's
//!   process dies;
//! * `/reset/...`: the head is read, then the connection is reset (RST);
//! * `/hang/...`: the body is read and nothing is ever answered.
//!
//! Every request line is recorded, so a test can tell that each request
//! reached the app once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The mixed app on a loopback port.
pub struct MixedApp {
    /// Its port.
    pub port: u16,
    targets: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl MixedApp {
    /// Starts the app on an OS-chosen loopback port; `/gate` requests wait
    /// for `gate` of them.
    pub async fn start(gate: usize) -> MixedApp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let targets = Arc::new(Mutex::new(Vec::new()));
        let seen = targets.clone();
        let gate = Arc::new(tokio::sync::Barrier::new(gate));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, seen.clone(), gate.clone()));
            }
        });
        MixedApp {
            port,
            targets,
            task,
        }
    }

    /// How many requests for `target` arrived.
    pub fn count(&self, target: &str) -> usize {
        self.targets
            .lock()
            .unwrap()
            .iter()
            .filter(|t| *t == target)
            .count()
    }
}

impl Drop for MixedApp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads a request head: the target and the announced body length.
async fn read_head(reader: &mut BufReader<TcpStream>) -> Option<(String, usize)> {
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let target = line.split(' ').nth(1)?.to_string();
    let mut length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).await.ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            return Some((target, length));
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
}

async fn read_body(reader: &mut BufReader<TcpStream>, length: usize, slow: bool) -> Option<()> {
    let mut chunk = vec![0u8; 16 * 1024];
    let mut left = length;
    while left > 0 {
        let want = left.min(chunk.len());
        let n = reader.read(&mut chunk[..want]).await.ok()?;
        if n == 0 {
            return None;
        }
        left -= n;
        if slow {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    Some(())
}

async fn answer(reader: &mut BufReader<TcpStream>, status: &str, extra: &str, body: &str) {
    let head = format!(
        "HTTP/1.1 {status}\r\n{extra}Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let stream = reader.get_mut();
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
}

async fn serve(stream: TcpStream, seen: Arc<Mutex<Vec<String>>>, gate: Arc<tokio::sync::Barrier>) {
    let mut reader = BufReader::new(stream);
    while let Some((target, length)) = read_head(&mut reader).await {
        seen.lock().unwrap().push(target.clone());
        let kind = target.split('/').nth(1).unwrap_or("").to_string();
        match kind.as_str() {
            "early" => {
                answer(
                    &mut reader,
                    "413 Payload Too Large",
                    "Connection: close\r\n",
                    "too large",
                )
                .await;
                tokio::time::sleep(Duration::from_secs(3)).await;
                return;
            }
            "reset" => {
                let _ = reader.get_mut().set_zero_linger();
                return;
            }
            _ => {}
        }
        if read_body(&mut reader, length, kind == "slow")
            .await
            .is_none()
        {
            return;
        }
        match kind.as_str() {
            "crash" => {
                let _ = reader
                    .get_mut()
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
                    .await;
                return;
            }
            "hang" => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            "gate" => {
                gate.wait().await;
                answer(&mut reader, "200 OK", "", &format!("ok {target}")).await;
            }
            _ => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                answer(&mut reader, "200 OK", "", &format!("ok {target}")).await;
            }
        }
    }
}
