//! Who holds a TCP port: whether something accepts connections on it, and
//! which process owns the listening socket (from `/proc/net/tcp*` and the
//! processes' file descriptors, on Linux; readable for one's own processes).
//!
//! Used before a function starts (an app left over from an earlier run
//! would otherwise pass the new adapter's readiness check) and to explain an
//! init that timed out. Also picks a free port for an app to listen on
//! ([`free_port`]); binds only to check one is free, never listens.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Where Linux keeps the range of ports it hands out on its own (two
/// numbers: the lowest and the highest).
const EPHEMERAL_RANGE: &str = "/proc/sys/net/ipv4/ip_local_port_range";
/// The lowest port [`free_port`] picks.
const LOWEST: u16 = 20_000;

/// A loopback port free now, for a process to listen on shortly after (an
/// environment's own app port; tests' apps).
///
/// Chosen below the kernel's ephemeral range (`ip_local_port_range`): a
/// port from binding to 0 is free again once the probe closes, and any
/// socket on the machine that binds to 0 or connects out (a browser, a test
/// client, a fuzzer binding a thousand listeners a second) may be given it
/// before the app listens. Below that range only a process naming the port
/// takes it. Tried in an order that differs between processes and never
/// repeats a port within one before it has tried them all; the kernel's
/// choice when every one tried is taken, or the range is too small.
pub fn free_port() -> Result<u16, String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // Read once per process: the range's low end and where to start in it.
    static FIRST: OnceLock<(u16, u64)> = OnceLock::new();
    let &(low, start) = FIRST.get_or_init(|| {
        let low = std::fs::read_to_string(EPHEMERAL_RANGE)
            .ok()
            .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
            .unwrap_or(32_768);
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let start = u64::from(std::process::id()).wrapping_mul(2_654_435_761) ^ u64::from(clock);
        (low, start)
    });
    if low > LOWEST + 1_000 {
        let span = u64::from(low - LOWEST);
        // A prime stride that does not divide the span is prime to it, so
        // it visits every port of the span before one comes back (a span
        // under 65,536 cannot be a multiple of both primes).
        let stride = if span % 7_919 == 0 { 7_907 } else { 7_919 };
        for _ in 0..200 {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let offset = start.wrapping_add(n.wrapping_mul(stride)) % span;
            let port = LOWEST + offset as u16; // offset < span <= u16::MAX - LOWEST
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return Ok(port);
            }
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))
}

/// Whether something accepts TCP connections at `host:port` now.
pub fn accepts(host: &str, port: u16) -> bool {
    let Ok(addrs) = (host, port).to_socket_addrs() else {
        return false;
    };
    let addrs: Vec<SocketAddr> = addrs.collect();
    addrs
        .iter()
        .any(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok())
}

/// The process listening on TCP `port` (any address): its pid and command
/// name, when `/proc` shows it.
pub fn listener(port: u16) -> Option<(i32, String)> {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return None;
    }
    let dir = std::fs::read_dir("/proc").ok()?;
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let target = target.to_string_lossy();
            let Some(inode) = target
                .strip_prefix("socket:[")
                .and_then(|t| t.strip_suffix(']'))
            else {
                continue;
            };
            if inodes.iter().any(|i| i == inode) {
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .map(|c| c.trim().to_string())
                    .unwrap_or_default();
                return Some((pid, comm));
            }
        }
    }
    None
}

/// Socket inodes in LISTEN state on `port`, from /proc/net/tcp and tcp6.
fn listening_inodes(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
            if fields.len() < 10 || fields[3] != "0A" {
                continue;
            }
            let local_port = fields[1]
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) {
                found.push(fields[9].to_string());
            }
        }
    }
    found
}

/// Where `pids` listen for TCP connections (`127.0.0.1:8000`,
/// `[::]:8000`), from `/proc/net/tcp*` and their file descriptors: what an
/// app that does not listen on `$PORT` listens on instead.
pub fn listening_on(pids: &[i32]) -> Vec<String> {
    let mut sockets: Vec<(String, String)> = Vec::new();
    for (table, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 10 || fields[3] != "0A" {
                continue;
            }
            if let Some(addr) = proc_address(fields[1], v6) {
                sockets.push((fields[9].to_string(), addr));
            }
        }
    }
    let mut found: Vec<String> = Vec::new();
    for pid in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let target = target.to_string_lossy();
            let Some(inode) = target
                .strip_prefix("socket:[")
                .and_then(|t| t.strip_suffix(']'))
            else {
                continue;
            };
            for (_, addr) in sockets.iter().filter(|(i, _)| i == inode) {
                if !found.contains(addr) {
                    found.push(addr.clone());
                }
            }
        }
    }
    found
}

/// `0100007F:1F40` → `127.0.0.1:8000` (the kernel writes each 32-bit word
/// of the address in host order).
fn proc_address(field: &str, v6: bool) -> Option<String> {
    let (ip, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..ip.len() / 8)
        .map(|i| u32::from_str_radix(&ip[i * 8..i * 8 + 8], 16))
        .collect::<Result<_, _>>()
        .ok()?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    Some(if v6 {
        let octets: [u8; 16] = bytes.try_into().ok()?;
        let ip = std::net::Ipv6Addr::from(octets);
        match ip.to_ipv4_mapped() {
            Some(v4) => format!("{v4}:{port}"),
            None => format!("[{ip}]:{port}"),
        }
    } else {
        let octets: [u8; 4] = bytes.try_into().ok()?;
        format!("{}:{port}", std::net::Ipv4Addr::from(octets))
    })
}

/// A sentence naming what holds `host:port`, for errors.
pub fn describe_holder(host: &str, port: u16) -> String {
    match listener(port) {
        Some((pid, comm)) if comm.is_empty() => format!("{host}:{port} is taken by pid {pid}"),
        Some((pid, comm)) => format!("{host}:{port} is taken by pid {pid} ({comm})"),
        None => format!(
            "something already listens on {host}:{port} (its process is not visible to this user)"
        ),
    }
}

/// The variables the portside adapter reads for the app's port, in its
/// order of precedence (README, Configuration).
pub const PORT_VARS: [&str; 3] = ["PORTSIDE_PORT", "AWS_LWA_PORT", "PORT"];
/// The variables for the readiness check's port (default: the app's port).
pub const READINESS_PORT_VARS: [&str; 3] = [
    "PORTSIDE_READINESS_CHECK_PORT",
    "AWS_LWA_READINESS_CHECK_PORT",
    "READINESS_CHECK_PORT",
];
/// The variables for the app's host.
pub const HOST_VARS: [&str; 3] = ["PORTSIDE_HOST", "AWS_LWA_HOST", "HOST"];

/// The first of `names` set to a non-empty value in `env` (last assignment
/// wins, as with repeated `--env`).
pub fn first_set<'a>(env: &'a [(String, String)], names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|name| {
        env.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    })
}

/// Where the portside adapter will look for the app, by the same rules:
/// `PORTSIDE_HOST`/`AWS_LWA_HOST`/`HOST` (default 127.0.0.1) and
/// `PORTSIDE_PORT`/`AWS_LWA_PORT`/`PORT` (default 8080). `None` when the
/// port does not parse (the adapter will refuse it with its own message).
pub fn app_address(env: &[(String, String)]) -> Option<(String, u16)> {
    let host = first_set(env, &HOST_VARS)
        .unwrap_or("127.0.0.1")
        .to_string();
    let port = match first_set(env, &PORT_VARS) {
        Some(p) => p.parse().ok()?,
        None => 8080,
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_below_the_kernels_own_and_not_repeated() {
        // The kernel's range as the kernel documents it: two numbers.
        let low: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|r| r.split_whitespace().next()?.parse().ok())
            .unwrap_or(32_768);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50 {
            let port = free_port().unwrap();
            // Bindable now, by someone naming it.
            drop(std::net::TcpListener::bind(("127.0.0.1", port)).unwrap());
            if low > 21_000 {
                assert!(
                    (20_000..low).contains(&port),
                    "{port} is in the ephemeral range from {low}"
                );
            }
            assert!(seen.insert(port), "{port} handed out twice");
        }
    }

    #[test]
    fn the_app_address_follows_the_adapters_precedence() {
        let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(app_address(&[]), Some(("127.0.0.1".into(), 8080)));
        assert_eq!(
            app_address(&env(&[("PORT", "9000"), ("AWS_LWA_PORT", "9001")])),
            Some(("127.0.0.1".into(), 9001))
        );
        assert_eq!(
            app_address(&env(&[
                ("PORTSIDE_PORT", " "),
                ("PORT", "9000"),
                ("HOST", "localhost")
            ])),
            Some(("localhost".into(), 9000))
        );
        assert_eq!(app_address(&env(&[("PORT", "x")])), None);
    }

    #[test]
    fn where_our_own_process_listens() {
        let v4 = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = v4.local_addr().expect("addr").port();
        let found = listening_on(&[std::process::id() as i32]);
        assert!(found.contains(&format!("127.0.0.1:{port}")), "{found:?}");
        assert_eq!(
            proc_address("0100007F:1F40", false).as_deref(),
            Some("127.0.0.1:8000")
        );
        assert_eq!(
            proc_address("00000000000000000000000001000000:1F40", true).as_deref(),
            Some("[::1]:8000")
        );
    }

    #[test]
    fn finds_our_own_listener_and_its_pid() {
        let listener_socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener_socket.local_addr().expect("addr").port();
        assert!(accepts("127.0.0.1", port));
        let (pid, _) = listener(port).expect("the listener is visible in /proc");
        assert_eq!(pid, std::process::id() as i32);
        assert!(describe_holder("127.0.0.1", port).contains(&format!("pid {pid}")));
        drop(listener_socket);
        assert!(!accepts("127.0.0.1", port));
        assert_eq!(listener(port), None);
    }
}
