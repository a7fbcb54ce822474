//! The escaping loop with AVX2: 32 bytes of text a block.
//!
//! Owns: finding a block's escapes with three compares and two movemasks,
//! and writing the block around them, one of two ways:
//! - A few escapes (the common case): store the block, then for each escape
//!   write it over the copy and store the rest of the block again after it
//!   (a reload), as the parent's module docs describe.
//! - Three or more, all `"` or `\` (log lines, HTML, JSON inside strings):
//!   each such escape is the byte with a `\` before it, so each eight bytes
//!   of the block are spread by one byte shuffle ([`SPREAD`], chosen by
//!   the eight bits of their escapes) over up to sixteen, the gaps filled
//!   with `\`: four shuffles a block, however dense its escapes.
//!
//! Which byte escapes to what is the parent's table ([`super::ESCAPES`]);
//! what is left after the last whole block is the parent's portable loop.

use std::arch::x86_64::*;

/// Below this many bytes the portable loop is as quick: the vector loop
/// needs 64 bytes ahead of a block (see [`write_escaped_blocks`]).
pub const MIN_LEN: usize = 96;

/// Whether this CPU has what [`write_escaped_blocks`] needs (every x86_64
/// CPU Lambda runs on does).
pub fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("bmi1")
        && std::arch::is_x86_feature_detected!("popcnt")
}

/// Room one block needs in the worst case: 32 six-byte escapes, and a
/// 32-byte store of the block's rest after them.
const BLOCK_ROOM: usize = 32 * 6 + 32;

/// For each set of escapes in eight bytes (bit i: byte i is `"` or `\`),
/// the shuffle that spreads them over sixteen: byte i, with lane 8 (a `\`)
/// before it when bit i is set; lanes past the last are 0x80 (zero).
static SPREAD: [[u8; 16]; 256] = spreads();

const fn spreads() -> [[u8; 16]; 256] {
    let mut table = [[0x80; 16]; 256];
    let mut bits = 0;
    while bits < 256 {
        let mut at = 0;
        let mut i = 0;
        while i < 8 {
            if bits & (1 << i) != 0 {
                table[bits][at] = 8;
                at += 1;
            }
            table[bits][at] = i as u8;
            at += 1;
            i += 1;
        }
        bits += 1;
    }
    table
}

/// Appends the escaped text of whole 32-byte blocks of `text` to `out`
/// while the block after the current one is inside `text` too (the rest of
/// a block is stored again from a load that may reach up to 31 bytes into
/// the next), and returns how many bytes of `text` it consumed.
///
/// # Safety
/// The CPU must have what [`available`] checks.
#[target_feature(enable = "avx2,bmi1,popcnt")]
pub unsafe fn write_escaped_blocks(out: &mut Vec<u8>, text: &[u8]) -> usize {
    let quote = _mm256_set1_epi8(b'"' as i8);
    let backslash = _mm256_set1_epi8(b'\\' as i8);
    let below_space = _mm256_set1_epi8(0x1f);
    let src = text.as_ptr();
    let mut read = 0;
    while read + 64 <= text.len() {
        if out.capacity() - out.len() < BLOCK_ROOM {
            let rest = text.len() - read;
            out.reserve(rest + rest / 8 + BLOCK_ROOM);
        }
        // SAFETY: `read + 64 <= text.len()`, so the 32 bytes at `read` are
        // inside `text` (an unaligned load is allowed).
        let block = unsafe { _mm256_loadu_si256(src.add(read).cast()) };
        let quoted = _mm256_or_si256(
            _mm256_cmpeq_epi8(block, quote),
            _mm256_cmpeq_epi8(block, backslash),
        );
        // A byte is a control character when the unsigned minimum of it
        // and 0x1f is itself.
        let control = _mm256_cmpeq_epi8(_mm256_min_epu8(block, below_space), block);
        let quoted = _mm256_movemask_epi8(quoted) as u32;
        let control = _mm256_movemask_epi8(control) as u32;
        // SAFETY: `out` has BLOCK_ROOM bytes of spare capacity past its
        // length (made above), and the 32 bytes at `read` (and the reloads
        // of `one_by_one`, up to `read + 63`) are inside `text`.
        unsafe {
            if control == 0 && quoted.count_ones() >= 3 {
                spread_block(out, src.add(read), quoted);
            } else {
                one_by_one(out, src.add(read), block, quoted | control);
            }
        }
        read += 32;
    }
    read
}

/// Writes the 32 bytes at `src`, already loaded as `block`, with an escape
/// for each bit of `bits`.
///
/// # Safety
/// `out` has BLOCK_ROOM bytes of spare capacity; the 63 bytes at `src` are
/// readable.
#[target_feature(enable = "avx2,bmi1")]
unsafe fn one_by_one(out: &mut Vec<u8>, src: *const u8, block: __m256i, mut bits: u32) {
    let mut len = out.len();
    let dst = out.as_mut_ptr();
    // SAFETY: each store is at `len + w`, where `w` is what this block has
    // kept so far: at most 31 bytes of text and 31 escapes of six bytes
    // before the last 32-byte store, so every store ends within `len + 31 *
    // 6 + 32 < len + BLOCK_ROOM` (the caller's room). Each reload is of 32
    // bytes at `src + start` with `start <= 31`, within the 63 readable.
    // The length is set to the bytes kept: text before each escape, each
    // escape's own length, and the rest of the block after the last one.
    unsafe {
        _mm256_storeu_si256(dst.add(len).cast(), block);
        let mut start = 0;
        while bits != 0 {
            let at = bits.trailing_zeros() as usize;
            let entry = super::escape_entry(*src.add(at));
            len += at - start;
            dst.add(len).cast::<u64>().write_unaligned(entry.to_le());
            len += (entry >> 56) as usize;
            start = at + 1;
            bits &= bits - 1;
            if start < 32 {
                let rest = _mm256_loadu_si256(src.add(start).cast());
                _mm256_storeu_si256(dst.add(len).cast(), rest);
            }
        }
        out.set_len(len + 32 - start);
    }
}

/// Writes the 32 bytes at `src` with a `\` before each byte of `bits` (all
/// of which are `"` or `\`), eight bytes at a time through [`SPREAD`].
///
/// # Safety
/// `out` has BLOCK_ROOM bytes of spare capacity; the 32 bytes at `src` are
/// readable.
#[target_feature(enable = "avx2,popcnt")]
unsafe fn spread_block(out: &mut Vec<u8>, src: *const u8, bits: u32) {
    let backslashes = _mm_set1_epi8(b'\\' as i8);
    let mut len = out.len();
    let dst = out.as_mut_ptr();
    for k in 0..4 {
        let eight = (bits >> (8 * k)) as u8;
        // SAFETY: the eight bytes at `src + 8k` (k < 4) are among the 32
        // readable. Each 16-byte store is at `len + w` with `w` at most 48
        // (three earlier pieces of at most 16 kept bytes), so it ends
        // within 64 < BLOCK_ROOM bytes of the spare capacity; the length
        // grows by the bytes kept: eight and one `\` per bit.
        unsafe {
            let piece = _mm_loadl_epi64(src.add(8 * k).cast());
            // Lanes 0-7 the text, 8-15 a `\` for the shuffle to put in.
            let piece = _mm_unpacklo_epi64(piece, backslashes);
            let spread = _mm_loadu_si128(SPREAD[usize::from(eight)].as_ptr().cast());
            _mm_storeu_si128(dst.add(len).cast(), _mm_shuffle_epi8(piece, spread));
            len += 8 + eight.count_ones() as usize;
        }
    }
    // SAFETY: every byte up to `len` was stored above (or was already
    // initialised), and `len` is within the capacity (see above).
    unsafe { out.set_len(len) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_spread_puts_a_backslash_before_exactly_the_marked_bytes() {
        // Each of the 256 shuffles, applied by hand to the bytes 0-7 and a
        // `\` in lane 8: the oracle is the rule itself, byte by byte.
        for (bits, shuffle) in SPREAD.iter().enumerate() {
            let lanes: Vec<u8> = (0..8).chain([b'\\'; 8]).collect();
            let spread: Vec<u8> = shuffle
                .iter()
                .take(8 + bits.count_ones() as usize)
                .map(|&i| lanes[usize::from(i)])
                .collect();
            let mut expected = Vec::new();
            for i in 0..8 {
                if bits & (1 << i) != 0 {
                    expected.push(b'\\');
                }
                expected.push(i);
            }
            assert_eq!(spread, expected, "{bits:08b}");
        }
    }
}
