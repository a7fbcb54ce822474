//! JSON string escaping of a text body, byte for byte what serde_json writes,
//! in one pass over the text.
//!
//! Owns: which bytes a JSON string escapes and how (one table), the portable
//! loop, and the choice of the AVX2 loop (`escape/avx2.rs`) where the CPU
//! has it. Must not: check UTF-8 (the caller's text is already valid).
//!
//! A JSON API's body needs an escape every few words (each key and string
//! value has two quotes; log lines and HTML in strings far more), so the
//! cost is in the escapes, not in scanning the runs between them. Both loops
//! work the same way on a block of text (eight bytes here, 32 with AVX2):
//! 1. Find every byte of the block that needs an escape at once, as a mask
//!    with one bit per byte (word arithmetic here, exact: no borrow between
//!    lanes; three compares and a movemask with AVX2).
//! 2. No bit: store the block whole and go on.
//! 3. Otherwise store the block, then for each bit in turn: write that
//!    byte's escape from [`ESCAPES`] with one eight-byte store over the
//!    block's copy, at the place where the byte was, and store the rest of
//!    the block again right after it (a shifted register here, a reload
//!    with AVX2). The block is never scanned twice, and there is no call or
//!    branch per escaped byte beyond the loop over its bits.
//!
//! There is no separate pass to size the output: room for the worst case of
//! one block is made before it. The stores may write past the end of what
//! is kept; the length is set only to what was written on purpose.

#[cfg(target_arch = "x86_64")]
mod avx2;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;
const LOW_SEVENS: u64 = ONES * 0x7f;

/// The escape of each ASCII byte: its
/// bytes in the low six bytes (little-endian, so one store writes them in
/// order) and its length in the top byte; 0 for a byte written as it is.
/// `\"`, `\\`, the short forms serde_json uses (`\b \t \n \f \r`), and
/// `\u00XX` with lower-case hex for the other control characters.
static ESCAPES: [u64; 0x80] = escapes();

const fn escapes() -> [u64; 0x80] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    const fn packed(bytes: &[u8]) -> u64 {
        let mut word = (bytes.len() as u64) << 56;
        let mut i = 0;
        while i < bytes.len() {
            word |= (bytes[i] as u64) << (8 * i);
            i += 1;
        }
        word
    }
    let mut table = [0; 0x80];
    let mut b = 0;
    while b < 0x20 {
        table[b] = match b {
            0x08 => packed(b"\\b"),
            0x09 => packed(b"\\t"),
            0x0a => packed(b"\\n"),
            0x0c => packed(b"\\f"),
            0x0d => packed(b"\\r"),
            _ => packed(&[b'\\', b'u', b'0', b'0', HEX[b >> 4], HEX[b & 15]]),
        };
        b += 1;
    }
    table[b'"' as usize] = packed(b"\\\"");
    table[b'\\' as usize] = packed(b"\\\\");
    table
}

/// The escape entry of an ASCII byte `b`, 0 if it needs none. Only ASCII
/// bytes have one, so the table is indexed by the low seven bits (no bounds
/// check); a byte of 0x80 or more must not be looked up (0xa2 would find
/// `"`'s entry).
#[inline(always)]
fn escape_entry(b: u8) -> u64 {
    ESCAPES[usize::from(b & 0x7f)]
}

/// The high bit of each byte of `word` (little-endian lanes) that needs an
/// escape: a control character (below 0x20), `"` or `\`. Exact in every
/// lane: each test adds within a lane's low seven bits, so nothing carries
/// into the next lane.
#[inline(always)]
pub(crate) fn escape_lanes(word: u64) -> u64 {
    // Below 0x20: adding 0x60 to the low seven bits sets the high bit from
    // 0x20 up; a byte with its own high bit set is 0x80 or more.
    let at_least_space = (word & LOW_SEVENS).wrapping_add(ONES * 0x60) | word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    // A lane of `x` is zero exactly when neither its low seven bits plus
    // 0x7f nor `x` itself has the high bit set.
    let not_quote = (quote & LOW_SEVENS).wrapping_add(LOW_SEVENS) | quote;
    let not_backslash = (backslash & LOW_SEVENS).wrapping_add(LOW_SEVENS) | backslash;
    !(at_least_space & not_quote & not_backslash) & HIGHS
}

/// Appends one byte, escaped if it needs to be.
fn push_byte(out: &mut Vec<u8>, b: u8) {
    let entry = escape_entry(b);
    if entry == 0 || b >= 0x80 {
        out.push(b);
    } else {
        let len = (entry >> 56) as usize;
        out.extend_from_slice(&entry.to_le_bytes()[..len]);
    }
}

/// Room one eight-byte block needs in the worst case: eight six-byte
/// escapes, and the last eight-byte store past them.
const WORD_ROOM: usize = 8 * 6 + 8;

/// Appends `text` to `out` escaped for the inside of a JSON string (no
/// quotes), exactly as serde_json escapes it: `"`, `\` and control
/// characters; everything else, non-ASCII included, as it is.
pub fn write_escaped(out: &mut Vec<u8>, text: &[u8]) {
    // Room for the text and an escape every 32 bytes; more only if needed.
    out.reserve(text.len() + text.len() / 32 + WORD_ROOM);
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(target_arch = "x86_64")]
    if text.len() >= avx2::MIN_LEN && avx2::available() {
        // SAFETY: the CPU has what the loop needs (just detected), its one requirement.
        i = unsafe { avx2::write_escaped_blocks(out, text) };
    }
    write_escaped_words(out, &text[i..]);
}

/// The portable loop: [`write_escaped`] eight bytes at a time.
fn write_escaped_words(out: &mut Vec<u8>, text: &[u8]) {
    let mut words = text.chunks_exact(8);
    for chunk in &mut words {
        write_word(
            out,
            u64::from_le_bytes(chunk.try_into().unwrap_or_default()),
        );
    }
    for &b in words.remainder() {
        push_byte(out, b);
    }
}

/// Appends the eight bytes of `chunk` (little-endian), escaped.
#[inline(always)]
fn write_word(out: &mut Vec<u8>, chunk: u64) {
    if out.capacity() - out.len() < WORD_ROOM {
        out.reserve(out.len() / 8 + WORD_ROOM);
    }
    let mut lanes = escape_lanes(chunk);
    let mut len = out.len();
    let dst = out.as_mut_ptr();
    // SAFETY: `out` has WORD_ROOM bytes of spare capacity past `len`
    // (checked above). Each store below is of eight bytes at `len + w`,
    // where `w` is what this word has kept so far: at most seven bytes of
    // text and six escapes of six bytes before the last store, so every
    // store ends within `len + 7 * 6 + 8 < len + WORD_ROOM`. The length is
    // set to the bytes kept: text before each escape, the escape's own
    // length, and the rest of the word after the last one.
    unsafe {
        dst.add(len).cast::<u64>().write_unaligned(chunk.to_le());
        let mut start = 0;
        while lanes != 0 {
            let at = (lanes.trailing_zeros() / 8) as usize;
            let entry = escape_entry((chunk >> (8 * at)) as u8);
            len += at - start;
            dst.add(len).cast::<u64>().write_unaligned(entry.to_le());
            len += (entry >> 56) as usize;
            start = at + 1;
            lanes &= lanes - 1;
            if start < 8 {
                dst.add(len)
                    .cast::<u64>()
                    .write_unaligned((chunk >> (8 * start)).to_le());
            }
        }
        out.set_len(len + 8 - start);
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

    /// The portable loop alone, whatever the CPU.
    fn portable(text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_escaped_words(&mut out, text);
        out
    }

    fn serde(text: &str) -> Vec<u8> {
        let quoted = serde_json::to_vec(text).unwrap();
        quoted[1..quoted.len() - 1].to_vec()
    }

    #[test]
    fn escape_lanes_marks_exactly_the_bytes_that_need_an_escape() {
        // Every byte value in every lane, beside neighbours that do and do
        // not need one (a borrow or carry between lanes would show).
        for b in 0..=255u8 {
            for lane in 0..8 {
                for fill in [b'a', 0x00, b'"', 0xff, 0x20, 0x1f] {
                    let mut bytes = [fill; 8];
                    bytes[lane] = b;
                    let expected = bytes.iter().enumerate().fold(0u64, |acc, (i, &x)| {
                        let needs = x < 0x20 || x == b'"' || x == b'\\';
                        acc | (u64::from(needs) << (8 * i + 7))
                    });
                    assert_eq!(
                        escape_lanes(u64::from_le_bytes(bytes)),
                        expected,
                        "{bytes:?}"
                    );
                }
            }
        }
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
    fn every_byte_at_every_place_of_a_long_text_is_escaped_as_serde_json_escapes_it() {
        // Long enough for the AVX2 loop (where the CPU has it): each byte
        // below 0x80 at each offset of two 32-byte blocks, alone, twice in
        // a row, and at both ends of a block; the portable loop on the same.
        for b in 0u8..0x80 {
            let c = char::from(b);
            for offset in 0..64 {
                let mut text = "x".repeat(160);
                text.replace_range(offset..offset + 1, &c.to_string());
                text.replace_range(offset + 40..offset + 42, &format!("{c}{c}"));
                text.replace_range(offset + 95..offset + 96, &c.to_string());
                let expected = serde(&text);
                assert_eq!(ours(text.as_bytes()), expected, "{b:#x} at {offset}");
                assert_eq!(portable(text.as_bytes()), expected, "{b:#x} at {offset}");
            }
        }
    }

    #[test]
    fn every_control_among_dense_escapes_is_escaped_as_serde_json_escapes_it() {
        // Blocks with three or more escapes take the spread path when all of
        // them have two-byte escapes: each byte below 0x20 three times in a
        // block, alone and beside quotes and backslashes, at every offset.
        for b in 0u8..0x20 {
            let c = char::from(b);
            for offset in 0..64 {
                for (mid, end) in [(c, c), ('"', c), ('\\', '"')] {
                    let mut text: Vec<char> = "x".repeat(160).chars().collect();
                    text[offset] = c;
                    text[offset + 5] = mid;
                    text[offset + 9] = end;
                    text[offset + 50] = c;
                    let text: String = text.into_iter().collect();
                    let expected = serde(&text);
                    assert_eq!(ours(text.as_bytes()), expected, "{b:#x} at {offset}");
                    assert_eq!(portable(text.as_bytes()), expected, "{b:#x} at {offset}");
                }
            }
        }
    }

    #[test]
    fn a_text_that_is_all_escapes_matches_serde_json() {
        // The worst case for room: every byte of every block six bytes out.
        for len in [95, 96, 97, 127, 128, 129, 1000, 4097] {
            for fill in [
                "\u{1}",
                "\"",
                "\u{1f}\\",
                "\n\u{0}",
                "\n",
                "\r\n\t\"",
                "\u{8}\u{c}\u{f}",
            ] {
                let text: String = fill.repeat(len).chars().take(len).collect();
                let expected = serde(&text);
                assert_eq!(ours(text.as_bytes()), expected, "{len} of {fill:?}");
                assert_eq!(portable(text.as_bytes()), expected, "{len} of {fill:?}");
            }
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
        for round in 0..3000 {
            // Short texts for the word loop's edges, long ones (to 1 KiB)
            // for the block loop's, with escapes from dense to rare.
            let len = if round % 2 == 0 {
                next() % 64
            } else {
                next() % 1024
            } as usize;
            let rarity = 1 + next() % 40;
            let text: String = (0..len)
                .map(|_| match next() % rarity {
                    0 => alphabet[(next() as usize) % alphabet.len()],
                    _ => 'a',
                })
                .collect();
            let expected = serde(&text);
            assert_eq!(ours(text.as_bytes()), expected, "{text:?}");
            assert_eq!(portable(text.as_bytes()), expected, "{text:?}");
        }
    }
}
