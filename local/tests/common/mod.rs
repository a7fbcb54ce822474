//! Helpers shared by the integration tests: a tiny HTTP/1.1 client over real
//! sockets (hyper for ordinary requests, raw bytes where the wire format
//! itself is under test), and tool discovery that fails loudly.
#![allow(dead_code)]

pub mod local;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response read in full.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ascii header").to_string())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

/// One request on a fresh connection.
pub async fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Reply {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(body.into())).expect("request");
    let resp = sender.send_request(req).await.expect("send");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

pub async fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    request(addr, "GET", path, headers, Bytes::new()).await
}

pub async fn post(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Reply {
    request(addr, "POST", path, headers, body).await
}

/// A chunked POST written byte by byte on the wire, so that tests control
/// the chunking and the trailers exactly.
pub struct RawChunkedPost {
    stream: TcpStream,
}

impl RawChunkedPost {
    pub async fn start(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> RawChunkedPost {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let mut head =
            format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ntransfer-encoding: chunked\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.expect("write head");
        RawChunkedPost { stream }
    }

    pub async fn chunk(&mut self, data: &[u8]) {
        let mut buf = format!("{:x}\r\n", data.len()).into_bytes();
        buf.extend_from_slice(data);
        buf.extend_from_slice(b"\r\n");
        self.stream.write_all(&buf).await.expect("write chunk");
        self.stream.flush().await.expect("flush");
    }

    /// Ends the body (with trailers) and reads the status code and body.
    pub async fn finish(mut self, trailers: &[(&str, &str)]) -> (u16, String) {
        let mut end = b"0\r\n".to_vec();
        for (k, v) in trailers {
            end.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        end.extend_from_slice(b"\r\n");
        self.stream.write_all(&end).await.expect("write end");
        read_raw_response(&mut self.stream).await
    }

    pub async fn response(mut self) -> (u16, String) {
        read_raw_response(&mut self.stream).await
    }
}

async fn read_raw_response(stream: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let status: u16 = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .expect("status line");
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut tmp).await.expect("read");
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            let body = String::from_utf8_lossy(&buf[end + 4..]).to_string();
            return (status, body);
        }
        let n = stream.read(&mut tmp).await.expect("read");
        assert!(n > 0, "connection closed before a response");
        buf.extend_from_slice(&tmp[..n]);
    }
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("local/ has a parent")
        .to_path_buf()
}

/// The Python of the repo's .venv. Panics with install instructions when
/// it is missing: a test that needs it must not pass silently.
pub fn venv_python() -> PathBuf {
    let python = repo_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: create the Python environment with `. scripts/python-env.sh` at the repository root",
        python.display()
    );
    python
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "portside-local-test-{tag}-{}-{}",
            std::process::id(),
            portside_local::util::random_hex(8)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes an executable file.
pub fn write_exec(path: &std::path::Path, content: &str) {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(path, content).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
