//! A TCP proxy in front of the Runtime API that resets a connection at the
//! moment a test chooses: when a result is being posted, or while a `/next`
//! has waited a while without an answer. The adapter reaches it as its
//! Runtime API proxy (`PORTSIDE_LAMBDA_RUNTIME_API_PROXY`); everything else
//! passes through byte for byte.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// When to reset (each fault fires once, then the proxy passes traffic on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Reset the connection carrying `POST .../response` as its head goes
    /// out (nothing of it reaches the Runtime API).
    ResetResponsePost,
    /// Reset a connection whose `GET .../next` has had no answer for this long.
    ResetPendingNext(Duration),
}

#[derive(Default)]
struct State {
    armed: Mutex<Option<Fault>>,
    resets: AtomicUsize,
}

impl State {
    fn take(&self, wanted: impl Fn(Fault) -> bool) -> Option<Fault> {
        let mut armed = self.armed.lock().unwrap();
        match *armed {
            Some(fault) if wanted(fault) => armed.take(),
            _ => None,
        }
    }
}

/// The proxy, listening on loopback.
pub struct FaultyProxy {
    /// `host:port` to give the adapter.
    pub address: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultyProxy {
    /// A proxy to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> FaultyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let state = Arc::new(State::default());
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, upstream.clone(), shared.clone()));
            }
        });
        FaultyProxy {
            address,
            state,
            task,
        }
    }

    /// Arms `fault` for the next matching request.
    pub fn arm(&self, fault: Fault) {
        *self.state.armed.lock().unwrap() = Some(fault);
    }

    /// Whether the armed fault is still waiting to fire.
    pub fn armed(&self) -> bool {
        self.state.armed.lock().unwrap().is_some()
    }

    /// Connections reset so far.
    pub fn resets(&self) -> usize {
        self.state.resets.load(Ordering::SeqCst)
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn relay(client: TcpStream, upstream: String, state: Arc<State>) {
    let Ok(server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let kill = Arc::new(Notify::new());
    let answered = Arc::new(AtomicBool::new(true));
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => n,
            };
            let data = &buf[..n];
            if contains(data, b"POST ")
                && contains(data, b"/response ")
                && state.take(|f| f == Fault::ResetResponsePost).is_some()
            {
                return true;
            }
            if contains(data, b"/runtime/invocation/next") {
                if let Some(Fault::ResetPendingNext(after)) =
                    state.take(|f| matches!(f, Fault::ResetPendingNext(_)))
                {
                    answered.store(false, Ordering::SeqCst);
                    let (kill, answered) = (kill.clone(), answered.clone());
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        if !answered.load(Ordering::SeqCst) {
                            kill.notify_one();
                        }
                    });
                }
            }
            if server_write.write_all(data).await.is_err() {
                return false;
            }
        }
    };
    let down = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            answered.store(true, Ordering::SeqCst);
            if client_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    let reset = tokio::select! {
        reset = up => reset,
        () = down => false,
        () = kill.notified() => true,
    };
    if reset {
        // SO_LINGER 0: closing sends a reset, not a FIN.
        let _ = client_read.as_ref().set_zero_linger();
        state.resets.fetch_add(1, Ordering::SeqCst);
    }
}
