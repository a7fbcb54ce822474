//! Small helpers shared by every module: random identifiers (request ids,
//! extension ids, trace ids), wall-clock time in the formats Lambda and its
//! event sources use, JSON error bodies, and the one way a lock is taken.
//!
//! Nothing here does I/O beyond reading the clock.

// The civil-date conversion is the adapter's own file, compiled here too:
// one copy of the algorithm, and this crate still links none of the adapter.
// A symlink to layer/src/civil.rs, so the published crate carries it.
#[path = "civil.rs"]
mod civil;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// 64 random-looking bits. Not cryptographic: identifiers only.
pub fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.finish()
}

/// A version-4 UUID string (`8-4-4-4-12` lowercase hex), as Lambda uses for
/// request ids and extension identifiers.
pub fn uuid_v4() -> String {
    let hi = random_u64();
    let lo = random_u64();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

/// `n` random lowercase hex digits.
pub fn random_hex(n: usize) -> String {
    let mut out = String::with_capacity(n + 16);
    while out.len() < n {
        out.push_str(&hex(&random_u64().to_be_bytes()));
    }
    out.truncate(n);
    out
}

/// An X-Ray trace header as Lambda passes it when the caller sent none:
/// `Root=1-<8 hex epoch seconds>-<24 hex>;Parent=<16 hex>;Sampled=0`.
pub fn new_trace_id() -> String {
    format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        epoch_millis() / 1000,
        random_hex(24),
        random_hex(16)
    )
}

/// Milliseconds since the Unix epoch.
pub fn epoch_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Calendar fields of a UTC instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    /// The year (proleptic Gregorian).
    pub year: i64,
    /// The month, 1 to 12.
    pub month: u32,
    /// The day of the month, 1 to 31.
    pub day: u32,
    /// The hour, 0 to 23.
    pub hour: u32,
    /// The minute, 0 to 59.
    pub minute: u32,
    /// The second, 0 to 59.
    pub second: u32,
    /// The millisecond, 0 to 999.
    pub millis: u32,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl UtcTime {
    /// Converts epoch milliseconds to calendar fields (proleptic Gregorian).
    pub fn from_epoch_millis(ms: u64) -> UtcTime {
        let secs = (ms / 1000) as i64;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil::date_from_days(days);
        UtcTime {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: ((rem % 3600) / 60) as u32,
            second: (rem % 60) as u32,
            millis: (ms % 1000) as u32,
        }
    }

    /// The current time.
    pub fn now() -> UtcTime {
        UtcTime::from_epoch_millis(epoch_millis())
    }

    /// API Gateway's `requestContext.time`: `12/Mar/2020:19:03:58 +0000`.
    pub fn clf(&self) -> String {
        format!(
            "{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000",
            self.day,
            MONTHS[(self.month.clamp(1, 12) - 1) as usize],
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }

    /// `YYYY/MM/DD`, the date part of a Lambda log stream name.
    pub fn ymd_slashes(&self) -> String {
        format!("{:04}/{:02}/{:02}", self.year, self.month, self.day)
    }
}

/// Locks `mutex`, going on with its data if a holder panicked (a poisoned
/// lock): one panicking task must not stop every later caller. Every lock
/// in the crate is taken through here.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The JSON error body Lambda's APIs answer with:
/// `{"errorMessage": ..., "errorType": ...}`.
pub fn error_json(error_type: &str, message: &str) -> String {
    serde_json::json!({ "errorMessage": message, "errorType": error_type }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_instants() {
        // 2020-03-12T19:03:58Z, the time in AWS's own API Gateway example.
        let t = UtcTime::from_epoch_millis(1_584_039_838_123);
        assert_eq!(t.clf(), "12/Mar/2020:19:03:58 +0000");
        assert_eq!(t.millis, 123);
        // A leap day and the epoch itself.
        assert_eq!(
            UtcTime::from_epoch_millis(1_709_164_800_000).ymd_slashes(),
            "2024/02/29"
        );
        assert_eq!(
            UtcTime::from_epoch_millis(0).clf(),
            "01/Jan/1970:00:00:00 +0000"
        );
    }

    #[test]
    fn uuids_have_the_v4_shape_and_differ() {
        let a = uuid_v4();
        let b = uuid_v4();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(
            a.split('-').map(str::len).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
    }

    #[test]
    fn trace_ids_have_the_xray_shape() {
        let t = new_trace_id();
        let parts: Vec<&str> = t.split(';').collect();
        assert_eq!(parts.len(), 3);
        assert!(parts[0].starts_with("Root=1-"));
        assert_eq!(parts[0].len(), "Root=1-".len() + 8 + 1 + 24);
        assert_eq!(parts[1].len(), "Parent=".len() + 16);
        assert_eq!(parts[2], "Sampled=0");
    }
}
