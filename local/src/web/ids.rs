//! Identifiers of the endpoint: a request's `lambda-web-request-id`, an
//! execution environment's instance id and its log stream name.
//!
//! Owns: their formats (local/WEBFUNCTIONS.md, "Identifiers").
//! Must not: do I/O beyond reading the clock; be used as secrets (the
//! randomness is `util::random_u64`, not cryptographic).

use crate::util::{random_hex, random_u64, UtcTime};

/// RFC 4648's base32 alphabet, upper case.
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A request id in the shape Web Functions hands out: 26 upper-case base32
/// characters (128 random bits), like `NF5U6CMIUAWPER24GXDNDEZSVU`.
pub fn request_id() -> String {
    let bits = (u128::from(random_u64()) << 64) | u128::from(random_u64());
    (0..26)
        .map(|i| BASE32[((bits >> (i * 5)) & 31) as usize] as char)
        .collect()
}

/// An execution environment's instance id: 32 lower-case hex digits.
pub fn instance_id() -> String {
    random_hex(32)
}

/// The log stream an environment writes to (`lambda-web-logstream`):
/// `YYYY/MM/DD/[local]<instance id>`, as a classic Lambda stream names its
/// version between brackets; "local" stands for the revision.
pub fn log_stream(instance_id: &str) -> String {
    format!("{}/[local]{instance_id}", UtcTime::now().ymd_slashes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_26_base32_characters_and_differ() {
        let a = request_id();
        assert_eq!(a.len(), 26);
        assert!(a.bytes().all(|b| BASE32.contains(&b)), "{a}");
        assert_ne!(a, request_id());
    }

    #[test]
    fn log_streams_name_the_day_and_the_instance() {
        let id = instance_id();
        assert_eq!(id.len(), 32);
        let stream = log_stream(&id);
        let (day, rest) = stream.split_at(10);
        assert_eq!(day.matches('/').count(), 2, "{stream}");
        assert_eq!(rest, format!("/[local]{id}"));
    }
}
