//! Base64 with AVX2: whole blocks of 24 bytes to 32 characters and back.
//!
//! Owns: the vector kernels and their tables, nothing else. The caller
//! hands what the kernels leave (the last bytes or characters, padding, and
//! when decoding anything from the first block holding a character outside
//! the standard alphabet) to the `base64` crate, so results and errors are
//! the crate's.
//!
//! How one block encodes:
//! 1. Spread: each lane's 12 bytes are shuffled so every 3-byte group
//!    `b0 b1 b2` becomes the 32-bit word with bytes `b1 b0 b2 b1`; its low
//!    half holds the first two 6-bit fields, its high half the last two.
//! 2. Split: two masks and two 16-bit multiplies (high half as a right
//!    shift, low half as a left shift) move each field into its own byte.
//! 3. Translate: add an offset by range (`A-Z`, `a-z`, digits, `+`, `/`),
//!    chosen by a byte shuffle on a small index computed from the value.
//!
//! How one block decodes, each step one or two instructions on 32 lanes:
//! 1. Validate: a character is in the alphabet when its low nibble is
//!    allowed for its high nibble. `BAD_FOR_LOW[low] & CLASS_OF_HIGH[high]`
//!    is non-zero exactly for characters outside it.
//! 2. Translate: add an offset chosen by the high nibble (`OFFSET_BY_HIGH`);
//!    `/` shares its high nibble with `+`, so its index is moved down by one.
//! 3. Pack: four 6-bit values `a b c d` become `a<<18 | b<<12 | c<<6 | d`
//!    with two multiply-adds, then a byte shuffle and a lane permute put the
//!    three bytes of each group in order, 24 bytes from 32 characters.

use std::arch::x86_64::*;

/// Bit per class of high nibble: `0x2_`, `0x3_`, `0x4_`/`0x6_`,
/// `0x5_`/`0x7_`, and 0x10 for every other (never in the alphabet).
const CLASS_OF_HIGH: [i8; 16] = [
    0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
];

/// Per low nibble: the classes of high nibble for which it is not in the
/// alphabet (`0x2_` allows only B and F, `0x3_` 0-9, `0x4_`/`0x6_` 1-F,
/// `0x5_`/`0x7_` 0-A), always with the 0x10 bit.
const BAD_FOR_LOW: [i8; 16] = [
    0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a,
];

/// What to add to a character for its value, by high nibble: `/` (moved to
/// index 1) +16, `+` +19, digits +4, `A-Z` -65, `a-z` -71.
const OFFSET_BY_HIGH: [i8; 16] = [0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0];

/// The bytes of each 32-bit group, most significant first, 12 a lane.
const GROUP_BYTES: [i8; 16] = [2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1];

/// Decodes 32-character blocks of `input` into `out` while more than
/// `keep` characters would remain after the block, and returns how many
/// characters it consumed (a multiple of 32). It stops at the first block
/// with a character outside the standard alphabet (padding included).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn decode_blocks(input: &[u8], out: &mut Vec<u8>, keep: usize) -> usize {
    // SAFETY: this function runs only where AVX2 is available (its contract).
    let (class_of_high, bad_for_low, offset_by_high, group_bytes) = unsafe {
        (
            both_lanes(&CLASS_OF_HIGH),
            both_lanes(&BAD_FOR_LOW),
            both_lanes(&OFFSET_BY_HIGH),
            both_lanes(&GROUP_BYTES),
        )
    };
    let low_nibble = _mm256_set1_epi8(0x0f);
    let slash = _mm256_set1_epi8(b'/' as i8);
    // a*64 + b and c*64 + d, as 16-bit sums.
    let pairs_to_12_bits = _mm256_set1_epi32(0x0140_0140);
    // ab*4096 + cd, as 32-bit sums.
    let twelves_to_24_bits = _mm256_set1_epi32(0x0001_1000);
    // The 12 bytes of the low lane, then the 12 of the high one.
    let packed_lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);

    let blocks = input.len().saturating_sub(keep) / 32;
    // Each store writes 32 bytes, of which 24 are kept.
    out.reserve(blocks * 24 + 8);
    let mut read = 0;
    let mut written = out.len();
    for _ in 0..blocks {
        // SAFETY: `read + 32 <= blocks * 32 <= input.len()`, so the 32
        // bytes loaded are inside `input` (an unaligned load is allowed).
        let chars = unsafe { _mm256_loadu_si256(input.as_ptr().add(read).cast()) };
        let high = _mm256_and_si256(_mm256_srli_epi32::<4>(chars), low_nibble);
        let low = _mm256_and_si256(chars, low_nibble);
        let bad = _mm256_and_si256(
            _mm256_shuffle_epi8(bad_for_low, low),
            _mm256_shuffle_epi8(class_of_high, high),
        );
        if _mm256_testz_si256(bad, bad) == 0 {
            break;
        }
        let index = _mm256_add_epi8(high, _mm256_cmpeq_epi8(chars, slash));
        let values = _mm256_add_epi8(chars, _mm256_shuffle_epi8(offset_by_high, index));
        let twelves = _mm256_maddubs_epi16(values, pairs_to_12_bits);
        let groups = _mm256_madd_epi16(twelves, twelves_to_24_bits);
        let bytes =
            _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(groups, group_bytes), packed_lanes);
        // SAFETY: `out` reserved room for `blocks * 24 + 8` bytes past its
        // length, so the 32 bytes stored at `written` (at most `len + (blocks
        // - 1) * 24`) stay inside its allocation.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(written).cast(), bytes) };
        written += 24;
        read += 32;
    }
    // SAFETY: every byte up to `written` was stored by the loop (24 kept per
    // block) or was already initialised, and `written` is within capacity.
    unsafe { out.set_len(written) };
    read
}

/// For each 3-byte group of a lane's 12 bytes, the bytes `b1 b0 b2 b1`.
const SPREAD_GROUPS: [i8; 16] = [1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10];

/// What to add to a 6-bit value for its character, by the index
/// `value < 26 ? 13 : value.saturating_sub(51)`: 26-51 +71 (`a-z`), 52-61
/// -4 (digits), 62 -19 (`+`), 63 -16 (`/`), 0-25 +65 (`A-Z`).
const OFFSET_BY_RANGE: [i8; 16] = [
    71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0,
];

/// Encodes 24-byte blocks of `input` into `out`, 32 characters each, while
/// a 16-byte load past the block's middle stays inside `input`, and returns
/// how many bytes it consumed (a multiple of 24), writing `consumed / 3 * 4`
/// characters; it stops early rather than write past the end of `out`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn encode_blocks(input: &[u8], out: &mut [u8]) -> usize {
    // SAFETY: this function runs only where AVX2 is available (its contract).
    let (spread_groups, offset_by_range) =
        unsafe { (both_lanes(&SPREAD_GROUPS), both_lanes(&OFFSET_BY_RANGE)) };
    // First and third fields (bits 10-15 of the low half, 6-11 of the
    // high), and the right shifts (as multiplies keeping the high 16 bits)
    // that put them at the bottom of their byte.
    let first_and_third = _mm256_set1_epi32(0x0fc0_fc00);
    let shift_right_10_and_6 = _mm256_set1_epi32(0x0400_0040);
    // Second and fourth fields (bits 4-9 of the low half, 0-5 of the high),
    // and the left shifts that put them in the byte above.
    let second_and_fourth = _mm256_set1_epi32(0x003f_03f0);
    let shift_left_4_and_8 = _mm256_set1_epi32(0x0100_0010);
    let above_51 = _mm256_set1_epi8(51);
    let twenty_six = _mm256_set1_epi8(26);
    let thirteen = _mm256_set1_epi8(13);

    let mut read = 0;
    let mut written = 0;
    // Loads read 16 bytes at +0 and +12, of which 12 each are used.
    while input.len() - read >= 28 && out.len() - written >= 32 {
        // SAFETY: the loop condition keeps `read + 28 <= input.len()`, so
        // both 16-byte loads (at `read` and `read + 12`) are inside `input`.
        let (low, high) = unsafe {
            (
                _mm_loadu_si128(input.as_ptr().add(read).cast()),
                _mm_loadu_si128(input.as_ptr().add(read + 12).cast()),
            )
        };
        let words = _mm256_shuffle_epi8(
            _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(low), high),
            spread_groups,
        );
        let first_third = _mm256_mulhi_epu16(
            _mm256_and_si256(words, first_and_third),
            shift_right_10_and_6,
        );
        let second_fourth = _mm256_mullo_epi16(
            _mm256_and_si256(words, second_and_fourth),
            shift_left_4_and_8,
        );
        let values = _mm256_or_si256(first_third, second_fourth);
        let index = _mm256_or_si256(
            _mm256_subs_epu8(values, above_51),
            _mm256_and_si256(_mm256_cmpgt_epi8(twenty_six, values), thirteen),
        );
        let chars = _mm256_add_epi8(values, _mm256_shuffle_epi8(offset_by_range, index));
        // SAFETY: the loop condition keeps `written + 32 <= out.len()`.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(written).cast(), chars) };
        read += 24;
        written += 32;
    }
    read
}

/// A 16-byte table in both 128-bit lanes (byte shuffles look up per lane).
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn both_lanes(table: &[i8; 16]) -> __m256i {
    // SAFETY: the table is exactly the 16 bytes loaded.
    _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(table.as_ptr().cast()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    #[test]
    fn the_tables_accept_exactly_the_alphabet_and_give_each_its_value() {
        for byte in 0..=255u8 {
            let (high, low) = ((byte >> 4) as usize, (byte & 0x0f) as usize);
            let outside = BAD_FOR_LOW[low] & CLASS_OF_HIGH[high] != 0;
            let position = ALPHABET.iter().position(|&c| c == byte);
            assert_eq!(outside, position.is_none(), "byte {byte:#04x}");
            if let Some(value) = position {
                let index = if byte == b'/' { high - 1 } else { high };
                assert_eq!(
                    byte.wrapping_add(OFFSET_BY_HIGH[index] as u8) as usize,
                    value
                );
            }
        }
    }

    #[test]
    fn the_encoding_offsets_give_every_value_its_character() {
        for (value, &char) in ALPHABET.iter().enumerate() {
            let index = if value < 26 {
                13
            } else {
                value.saturating_sub(51)
            };
            assert_eq!(
                (value as u8).wrapping_add(OFFSET_BY_RANGE[index] as u8),
                char
            );
        }
    }

    #[test]
    fn whole_blocks_encode_to_the_same_text_as_the_base64_crate() {
        use base64::Engine;
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("skipped: this CPU has no AVX2, so the kernel never runs here");
            return;
        }
        // Every byte value in every position of a 3-byte group.
        let bytes: Vec<u8> = (0..=255u8)
            .flat_map(|b| [b, b.rotate_left(3) ^ 0x5a, !b, b, b.wrapping_mul(7)])
            .chain((0..40_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 9) as u8))
            .collect();
        let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let mut out = vec![0u8; text.len()];
        // SAFETY: AVX2 was detected above.
        let read = unsafe { encode_blocks(&bytes, &mut out) };
        // Every block whose second load stays inside the input.
        assert_eq!(read, (bytes.len() - 4) / 24 * 24);
        assert_eq!(&out[..read / 3 * 4], &text.as_bytes()[..read / 3 * 4]);
        // Never past the room it was given.
        let mut short = vec![0u8; 70];
        // SAFETY: AVX2 was detected above.
        assert_eq!(unsafe { encode_blocks(&bytes, &mut short) }, 48);
        assert_eq!(&short[..64], &text.as_bytes()[..64]);
    }

    #[test]
    fn whole_blocks_decode_to_the_same_bytes_as_the_base64_crate() {
        use base64::Engine;
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("skipped: this CPU has no AVX2, so the kernel never runs here");
            return;
        }
        let bytes: Vec<u8> = (0..3 * 40_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
            .collect();
        let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let mut out = vec![0xee];
        // SAFETY: AVX2 was detected above.
        let read = unsafe { decode_blocks(text.as_bytes(), &mut out, 4) };
        // Every block but the last (which would leave fewer than 4 characters).
        assert_eq!(read, text.len() - 32);
        assert_eq!(out[0], 0xee, "what was in the vector is kept");
        assert_eq!(&out[1..], &bytes[..read / 4 * 3]);

        // A character outside the alphabet stops it before that block.
        let mut text = text.into_bytes();
        text[70] = b'-';
        let mut out = Vec::new();
        // SAFETY: AVX2 was detected above.
        assert_eq!(unsafe { decode_blocks(&text, &mut out, 4) }, 64);
        assert_eq!(out, &bytes[..48]);
    }
}
