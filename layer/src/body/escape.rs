//! JSON string escaping of a text body, byte for byte what serde_json writes,
//! in one pass over the text.
//!
//! A JSON API's body needs escaping nearly every word (each key and string
//! value has two quotes), so the cost is in the escapes, not in scanning the
//! runs between them. The loop reads eight bytes, finds the first byte that
//! needs an escape with word arithmetic (no table, no per-byte branch),
//! stores all eight bytes into the output at once (only those before the
//! escape are kept), writes the escape over the rest with one six-byte
//! store, and starts the next word right after it. There is no separate pass
//! to size the output and no call per word or per escape (`Vec`'s
//! `extend_from_slice` was a `memcpy` call each, in this size-optimised
//! build). It is portable: the same code on x86_64 and arm64.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;
const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

/// The high bit of each byte of `word` (little-endian lanes) that may need
/// an escape: a control character (below 0x20), `"` or `\`. The lowest set
/// lane is exact; lanes above it may be false alarms (a borrow from below),
/// which is why only the lowest is ever used.
pub(crate) fn escape_lanes(word: u64) -> u64 {
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (control | quote | backslash) & HIGHS
}

/// The escape of a byte that needs one, as (bytes, length): `\"`, `\\`,
/// the short forms, or `\u00XX` (serde_json's lower-case hex).
fn escape_of(b: u8) -> ([u8; 6], usize) {
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        0x08 => b'b',
        0x0c => b'f',
        _ => {
            return (
                [
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    LOWER_HEX[usize::from(b >> 4)],
                    LOWER_HEX[usize::from(b & 15)],
                ],
                6,
            )
        }
    };
    ([b'\\', short, 0, 0, 0, 0], 2)
}

/// Appends one byte, escaped if it needs to be.
fn push_byte(out: &mut Vec<u8>, b: u8) {
    if b < 0x20 || b == b'"' || b == b'\\' {
        let (escape, len) = escape_of(b);
        out.extend_from_slice(&escape[..len]);
    } else {
        out.push(b);
    }
}

/// Room the loop needs before each step: an eight-byte store and the
/// longest escape after it.
const STEP_ROOM: usize = 8 + 6;

/// Appends `text` to `out` escaped for the inside of a JSON string (no
/// quotes), exactly as serde_json escapes it: `"`, `\` and control
/// characters; everything else, non-ASCII included, as it is.
pub fn write_escaped(out: &mut Vec<u8>, text: &[u8]) {
    // Room for the text and an escape every 32 bytes; more only if needed.
    out.reserve(text.len() + text.len() / 32 + STEP_ROOM);
    let mut i = 0;
    while let Some(chunk) = text.get(i..i + 8) {
        let chunk: [u8; 8] = chunk.try_into().unwrap_or_default();
        let lanes = escape_lanes(u64::from_le_bytes(chunk));
        if out.capacity() - out.len() < STEP_ROOM {
            out.reserve(text.len() - i + (text.len() - i) / 8 + STEP_ROOM);
        }
        let len = out.len();
        let dst = out.as_mut_ptr();
        if lanes == 0 {
            // SAFETY: `out` has at least STEP_ROOM (> 8) bytes of spare
            // capacity past `len` (checked just above), so the eight bytes
            // written are inside its allocation, and `len + 8` bytes of it
            // are initialised after the write.
            unsafe {
                dst.add(len).cast::<[u8; 8]>().write_unaligned(chunk);
                out.set_len(len + 8);
            }
            i += 8;
            continue;
        }
        // Keep the bytes before the first one to escape, then escape it.
        let run = (lanes.trailing_zeros() / 8) as usize;
        let (escape, escape_len) = escape_of(chunk[run]);
        // SAFETY: as above: eight bytes at `len` and, at `len + run` (run <
        // 8), at most six more: within the STEP_ROOM bytes of spare
        // capacity. The first `run` bytes written are the text's, then
        // `escape_len` bytes of the escape, so `len + run + escape_len`
        // bytes are initialised.
        unsafe {
            dst.add(len).cast::<[u8; 8]>().write_unaligned(chunk);
            dst.add(len + run).cast::<[u8; 6]>().write_unaligned(escape);
            out.set_len(len + run + escape_len);
        }
        i += run + 1;
    }
    for &b in &text[i..] {
        push_byte(out, b);
    }
}

/// Appends `text` as a JSON string, quotes included, exactly as serde_json
/// writes it.
pub fn write_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    write_escaped(out, text.as_bytes());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_escaped(&mut out, text);
        out
    }

    fn serde(text: &str) -> Vec<u8> {
        let quoted = serde_json::to_vec(text).unwrap();
        quoted[1..quoted.len() - 1].to_vec()
    }

    #[test]
    fn every_byte_is_escaped_as_serde_json_escapes_it() {
        // Every single character below 0x80, alone and inside words, at
        // every offset of an eight-byte word.
        for b in 0u8..0x80 {
            let c = char::from(b);
            for offset in 0..9 {
                let text = format!("{}{c}{}", "a".repeat(offset), "z".repeat(9 - offset));
                assert_eq!(ours(text.as_bytes()), serde(&text), "{b:#x} at {offset}");
            }
        }
    }

    #[test]
    fn dense_escapes_and_non_ascii_match_serde_json() {
        let samples = [
            String::new(),
            "\"\"\"\"\"\"\"\"\"\"".to_string(),
            "\\\\\\\\\\\\\\\\\\".to_string(),
            "\u{1}\u{2}\u{3}\u{4}\u{5}\u{6}\u{7}\u{8}\u{9}\u{a}\u{b}".to_string(),
            "{\"id\":1,\"name\":\"Zoë Ørsted\",\"tags\":[\"a\",\"b\"]}".repeat(50),
            "日本語のテキスト \"引用\" と改行\n😀🎉".repeat(20),
            "no escapes at all, just a long run of ordinary text".repeat(10),
        ];
        for text in samples {
            assert_eq!(ours(text.as_bytes()), serde(&text), "{text:?}");
        }
    }

    #[test]
    fn random_text_matches_serde_json() {
        // A small LCG: the same random texts every run.
        let mut state: u64 = 0x1234_5678;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as u32
        };
        let alphabet: Vec<char> = "ab \"\\\n\t\u{0}\u{1f}\u{7f}é€😀{}:,".chars().collect();
        for _ in 0..2000 {
            let len = (next() % 64) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(next() as usize) % alphabet.len()])
                .collect();
            assert_eq!(ours(text.as_bytes()), serde(&text), "{text:?}");
        }
    }
}
