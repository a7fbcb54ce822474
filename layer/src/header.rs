//! Header values, checked once.
//!
//! Owns: turning bytes into `HeaderValue`s without checking them twice: a
//! check eight bytes at a time for the common case (printable ASCII), then
//! `http`'s own check only for the rest (tabs, obsolete non-ASCII text,
//! invalid bytes). Must not: know where the values come from.
//!
//! `HeaderValue::from_str` checks byte by byte, and the event's header
//! values and the JSON context headers go through a check on every
//! invocation (what that cost: callgrind, bench/README.md).

use bytes::Bytes;
use http::{HeaderName, HeaderValue};

/// The connection-level (hop-by-hop) header fields of RFC 9110 §7.6.1, and
/// the obsolete ones still seen: they describe one connection, so neither
/// the app's request (which has its own) nor a Lambda result (which has
/// none) carries them over.
pub const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
];

/// Whether `name` is one of [`HOP_BY_HOP`].
pub fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
}

/// Whether every byte is printable ASCII (space to `~`), eight at a time.
pub fn is_printable_ascii(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        // A lane's high bit ends up set for a byte below 0x20 (the
        // subtraction borrows), at or above 0x80 (`word`), or 0x7f (the
        // addition carries).
        let low = word.wrapping_sub(ONES * 0x20);
        let del = word.wrapping_add(ONES);
        if (low | word | del) & HIGHS != 0 {
            return false;
        }
    }
    chunks.remainder().iter().all(|b| (0x20..0x7f).contains(b))
}

/// A header value of bytes that are printable ASCII, without checking them
/// again (a `debug_assert` checks them in tests).
///
/// # Safety
///
/// Every byte of `bytes` must be printable ASCII (0x20 to 0x7e): the
/// caller has checked them with [`is_printable_ascii`], or built them of
/// such bytes only. A `HeaderValue` holding any other byte would break the
/// promise `http` makes for `HeaderValue::to_str` and when the value is
/// written to the wire.
pub unsafe fn printable_unchecked(bytes: Bytes) -> HeaderValue {
    debug_assert!(is_printable_ascii(&bytes));
    // SAFETY: the caller guarantees every byte is printable ASCII
    // (0x20..=0x7e), and all of those are valid in a header value, which is
    // all `from_maybe_shared_unchecked` requires.
    unsafe { HeaderValue::from_maybe_shared_unchecked(bytes) }
}

/// A header value from `bytes`, or `None` when HTTP does not allow them
/// (control characters other than tab). Obsolete non-ASCII text is kept.
pub fn value(bytes: &[u8]) -> Option<HeaderValue> {
    if is_printable_ascii(bytes) {
        // SAFETY: every byte was just found to be printable ASCII.
        Some(unsafe { printable_unchecked(Bytes::copy_from_slice(bytes)) })
    } else {
        HeaderValue::from_bytes(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printable_ascii_check_agrees_with_the_byte_by_byte_one() {
        for b in 0u8..=255 {
            for offset in 0..17 {
                let mut text = vec![b'a'; 17];
                text[offset] = b;
                assert_eq!(
                    is_printable_ascii(&text),
                    (0x20..0x7f).contains(&b),
                    "{b:#x} at {offset}"
                );
            }
        }
        assert!(is_printable_ascii(b""));
    }

    #[test]
    fn values_are_what_http_accepts() {
        for b in 0u8..=255 {
            let bytes = [b'x', b, b'y'];
            assert_eq!(
                value(&bytes).map(|v| v.as_bytes().to_vec()),
                HeaderValue::from_bytes(&bytes)
                    .ok()
                    .map(|v| v.as_bytes().to_vec()),
                "{b:#x}"
            );
        }
    }
}
