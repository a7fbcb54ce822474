//! Finding an event's long body before serde_json reads the event.
//!
//! Owns: locating the top-level `"body"` string of a large JSON object when
//! it is plain (no escape, no control character), so the event can be read
//! without it and the body taken as a slice of the payload.
//! Must not: decide anything about the event (it only says where the body
//! is; serde_json reads everything else, and the caller checks that the
//! two agree).
//!
//! Why: serde_json scans every string byte by byte for its closing quote
//! and escapes, a few instructions per byte: millions of them for a 1 MiB
//! upload (1.4 MB of base64); callgrind's share of them is in
//! bench/README.md. A base64 body has no escapes, so finding its end is a
//! search for the next `"`, `\` or control character, sixty-four bytes at
//! a time with AVX2 (sixteen with SSE2, eight elsewhere). Every other
//! member is walked structurally (strings, nesting), not understood: any
//! doubt, and the caller reads the payload the usual way.

use std::ops::Range;

use crate::body::escape::escape_lanes;

/// The range of the contents of the top-level `key` member's string, when
/// `json` is an object whose members up to it are well formed, that member
/// is a string of at least `min_len` bytes, and it holds no `\` and no
/// control character. `None` in every other case.
pub fn plain_string_member(json: &[u8], key: &[u8], min_len: usize) -> Option<Range<usize>> {
    let start = string_member_start(json, key)?;
    let (end, plain) = string_end(json, start)?;
    (plain && end - start >= min_len).then_some(start..end)
}

/// The index of the first byte of the contents of the top-level `key`
/// member's string (just past its opening `"`), when `json` is an object
/// whose members up to it are well formed and that member's value is a
/// string. `None` in every other case, including when `json` ends before
/// that string opens: only the bytes up to the opening `"` are read, so a
/// prefix of the payload gives the same answer as the whole of it once it
/// holds that `"` ([`crate::event::assemble`] asks as the payload arrives).
pub fn string_member_start(json: &[u8], key: &[u8]) -> Option<usize> {
    let mut i = skip_ws(json, 0);
    if json.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(json, i);
        if json.get(i) != Some(&b'"') {
            return None; // `}` (no such member), or not JSON
        }
        let (key_end, key_plain) = string_end(json, i + 1)?;
        let name = &json[i + 1..key_end];
        i = skip_ws(json, key_end + 1);
        if json.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(json, i + 1);
        if key_plain && name == key {
            return (json.get(i) == Some(&b'"')).then_some(i + 1);
        }
        i = skip_value(json, i)?;
        i = skip_ws(json, i);
        match json.get(i) {
            Some(b',') => i += 1,
            _ => return None,
        }
    }
}

fn skip_ws(json: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = json.get(i) {
        i += 1;
    }
    i
}

/// The index of the `"` that ends the string whose contents start at
/// `start`, and whether the contents are plain (no escape, no control
/// character). `None` if the string does not end.
fn string_end(json: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut i = start;
    let mut plain = true;
    loop {
        i = next_special(json, i);
        match *json.get(i)? {
            b'"' => return Some((i, plain)),
            b'\\' => {
                plain = false;
                i += 2;
            }
            b if b < 0x20 => {
                plain = false;
                i += 1;
            }
            _ => i += 1,
        }
    }
}

/// The index of the first `"`, `\\` or control character at or after `i`
/// (or `json.len()`): sixty-four bytes at a time with AVX2 (when the CPU has
/// it, checked at run time), sixteen with SSE2 (every x86_64 CPU has it),
/// eight with word arithmetic elsewhere.
pub fn next_special(json: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if json.len().saturating_sub(i) >= 64 && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            match unsafe { next_special_avx2(json, i) } {
                Ok(found) => return found,
                Err(tail) => i = tail,
            }
        }
        // SAFETY: SSE2 is part of every x86_64 CPU (the target's baseline).
        match unsafe { next_special_sse2(json, i) } {
            Ok(found) => return found,
            Err(tail) => i = tail,
        }
    }
    while let Some(chunk) = json.get(i..i + 8) {
        let lanes = escape_lanes(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
        if lanes != 0 {
            return i + (lanes.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < json.len() && !matches!(json[i], b'"' | b'\\' | 0..=0x1f) {
        i += 1;
    }
    i
}

/// [`next_special`] sixteen bytes at a time: `Ok` with the index found, or
/// `Err` with where fewer than sixteen bytes are left to look at.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn next_special_sse2(json: &[u8], mut i: usize) -> Result<usize, usize> {
    use std::arch::x86_64::*;
    let quote = _mm_set1_epi8(b'"' as i8);
    let backslash = _mm_set1_epi8(b'\\' as i8);
    let below_space = _mm_set1_epi8(0x1f);
    while i + 16 <= json.len() {
        // SAFETY: `i + 16 <= json.len()`, so the 16 bytes loaded are inside
        // `json` (the load may be unaligned).
        let chunk = unsafe { _mm_loadu_si128(json.as_ptr().add(i).cast()) };
        // A byte is a control character when max(byte, 0x1f) == 0x1f.
        let control = _mm_cmpeq_epi8(_mm_max_epu8(chunk, below_space), below_space);
        let special = _mm_or_si128(
            _mm_or_si128(
                _mm_cmpeq_epi8(chunk, quote),
                _mm_cmpeq_epi8(chunk, backslash),
            ),
            control,
        );
        let mask = _mm_movemask_epi8(special);
        if mask != 0 {
            return Ok(i + mask.trailing_zeros() as usize);
        }
        i += 16;
    }
    Err(i)
}

/// [`next_special`] sixty-four bytes at a time (two AVX2 registers, one
/// test for both): `Ok` with the index found, or `Err` with where fewer than
/// sixty-four bytes are left to look at.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn next_special_avx2(json: &[u8], mut i: usize) -> Result<usize, usize> {
    use std::arch::x86_64::*;
    while i + 64 <= json.len() {
        // SAFETY: `i + 64 <= json.len()`, so both 32-byte loads are inside
        // `json` (they may be unaligned).
        let (low, high) = unsafe {
            let at = json.as_ptr().add(i);
            (
                _mm256_loadu_si256(at.cast()),
                _mm256_loadu_si256(at.add(32).cast()),
            )
        };
        let (low, high) = (special_lanes_avx2(low), special_lanes_avx2(high));
        let either = _mm256_or_si256(low, high);
        if _mm256_testz_si256(either, either) == 0 {
            let low = u64::from(_mm256_movemask_epi8(low) as u32);
            let high = u64::from(_mm256_movemask_epi8(high) as u32);
            return Ok(i + (low | high << 32).trailing_zeros() as usize);
        }
        i += 64;
    }
    Err(i)
}

/// 0xff in each lane of `chunk` that holds `"`, `\\` or a control
/// character (a byte whose max with 0x1f is 0x1f), 0 elsewhere.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn special_lanes_avx2(chunk: std::arch::x86_64::__m256i) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    let below_space = _mm256_set1_epi8(0x1f);
    let control = _mm256_cmpeq_epi8(_mm256_max_epu8(chunk, below_space), below_space);
    let quote = _mm256_cmpeq_epi8(chunk, _mm256_set1_epi8(b'"' as i8));
    let backslash = _mm256_cmpeq_epi8(chunk, _mm256_set1_epi8(b'\\' as i8));
    _mm256_or_si256(_mm256_or_si256(quote, backslash), control)
}

/// The index just past the JSON value starting at `i` (after whitespace):
/// a string, an object or array (nesting counted, strings inside skipped),
/// or a number or literal (up to the next delimiter). Structure only: the
/// value is not checked further (serde_json reads it later).
fn skip_value(json: &[u8], i: usize) -> Option<usize> {
    match *json.get(i)? {
        b'"' => string_end(json, i + 1).map(|(end, _)| end + 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match *json.get(j)? {
                    b'"' => j = string_end(json, j + 1)?.0 + 1,
                    b'{' | b'[' => {
                        depth += 1;
                        j += 1;
                    }
                    b'}' | b']' => {
                        depth -= 1;
                        j += 1;
                        if depth == 0 {
                            return Some(j);
                        }
                    }
                    _ => j += 1,
                }
            }
        }
        _ => {
            let mut j = i;
            while let Some(&b) = json.get(j) {
                if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(json: &str) -> Option<&str> {
        plain_string_member(json.as_bytes(), b"body", 3).map(|r| &json[r])
    }

    #[test]
    fn the_top_level_body_is_found_past_every_kind_of_value() {
        let json = r#" { "a": "x\"}\\", "n": -1.5e3, "t": true, "z": null,
            "o": {"body": "nested, not this", "l": [1, {"b": "]}"}, [[]]]},
            "body" : "aGVsbG8gd29ybGQ=", "isBase64Encoded": true } "#;
        assert_eq!(body_of(json), Some("aGVsbG8gd29ybGQ="));
    }

    #[test]
    fn anything_doubtful_is_left_to_serde_json() {
        for json in [
            r#"{"body": "has an \n escape"}"#,
            "{\"body\": \"has a raw \u{1} control\"}",
            r#"{"body": "ab"}"#,
            r#"{"body": 42}"#,
            r#"{"body": null}"#,
            r#"{"b\u006fdy": "escaped key, so not compared"}"#,
            r#"{"other": "x"}"#,
            r#"{"body": "unterminated"#,
            r#"{"a": {"unclosed": [1, 2}, "body": "xyz"}"#,
            r#"["body", "xyz"]"#,
            r#"{"a" "body": "xyz"}"#,
            r#"{"a": 1 "body": "xyz"}"#,
            "",
            "{",
        ] {
            assert_eq!(body_of(json), None, "{json}");
        }
    }

    #[test]
    fn the_next_special_byte_is_found_at_every_offset() {
        for len in 0..40 {
            for at in 0..=len {
                for special in [b'"', b'\\', 0u8, 0x1f] {
                    let mut text = vec![b'a'; len];
                    let want = if at < len {
                        text[at] = special;
                        at
                    } else {
                        len
                    };
                    // Bytes at and above 0x20 (0x7f, UTF-8) are not special.
                    if at + 1 < len {
                        text[at + 1] = 0x7f;
                    }
                    assert_eq!(
                        next_special(&text, 0),
                        want,
                        "len {len} at {at} {special:#x}"
                    );
                }
            }
        }
        assert_eq!(next_special("é€😀\"".as_bytes(), 0), 9);
    }

    /// The first special byte at or after `from`, one byte at a time.
    fn next_special_oracle(text: &[u8], from: usize) -> usize {
        (from..text.len())
            .find(|&i| matches!(text[i], b'"' | b'\\' | 0..=0x1f))
            .unwrap_or(text.len())
    }

    #[test]
    fn every_path_finds_the_next_special_byte_in_long_texts_from_every_start() {
        // Long enough for the 64-byte blocks, with specials in the first
        // and second half of a block, at its edges and in the tail.
        let fill: Vec<u8> = (0..300u32)
            .map(|i| [b'a', 0x7f, 0xc3, 0xa9, b' ', b'~'][(i % 6) as usize])
            .collect();
        for at in (0..300).chain([usize::MAX]) {
            for special in [b'"', b'\\', 0u8, 0x1f] {
                let mut text = fill.clone();
                if at < text.len() {
                    text[at] = special;
                }
                for from in [0, 1, 7, 31, 32, 33, 63, 64, 65, 100, 250, 299, 300] {
                    let want = next_special_oracle(&text, from);
                    assert_eq!(next_special(&text, from), want, "at {at} from {from}");
                    #[cfg(target_arch = "x86_64")]
                    {
                        // SAFETY: SSE2 is the x86_64 baseline.
                        let sse2 = unsafe { next_special_sse2(&text, from) };
                        assert_eq!(
                            sse2.unwrap_or_else(|tail| next_special_oracle(&text, tail)),
                            want,
                            "sse2 at {at} from {from}"
                        );
                        if std::arch::is_x86_feature_detected!("avx2") {
                            // SAFETY: the CPU has AVX2 (checked just above).
                            let avx2 = unsafe { next_special_avx2(&text, from) };
                            assert_eq!(
                                avx2.unwrap_or_else(|tail| next_special_oracle(&text, tail)),
                                want,
                                "avx2 at {at} from {from}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_long_body_at_every_alignment_is_found_exactly() {
        for prefix in 0..17 {
            for len in [3, 7, 8, 9, 63, 64, 65] {
                let body: String = (0..len).map(|i| (b'A' + (i % 26) as u8) as char).collect();
                let json = format!(
                    "{{\"pad\":\"{}\",\"body\":\"{body}\",\"end\":1}}",
                    "p".repeat(prefix)
                );
                assert_eq!(body_of(&json), Some(body.as_str()), "{json}");
            }
        }
    }
}
