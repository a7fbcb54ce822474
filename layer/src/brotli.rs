//! A compact brotli encoder (RFC 7932), for compressing responses.
//!
//! Owns: turning bytes into a valid brotli stream.
//! Must not: decide whether to compress (`compress` does).
//!
//! Why its own: the brotli crate adds about a megabyte to a static binary
//! whose whole budget is 1.5 MiB. This encoder writes one compressed
//! meta-block per 16 MiB: a greedy LZ77 pass with one-step lazy matching over a
//! 16 MiB window (a hash of four bytes, the nearest earlier position per hash), then one prefix code each
//! for literals, insert-and-copy lengths and distances, built from the
//! block's own statistics. It uses none of brotli's context modelling,
//! block switching or static dictionary, so it compresses less than the
//! reference encoder's high qualities, but every brotli decoder reads it.

/// Window bits: distances up to 16 MiB - 16 bytes.
const WBITS: u32 = 24;
const MAX_DISTANCE: usize = (1 << WBITS) - 16;
/// Largest meta-block (MLEN fits 24 bits).
const MAX_BLOCK: usize = 1 << 24;
const MIN_MATCH: usize = 4;
const HASH_BITS: u32 = 16;

const INSERT_BASE: [u32; 24] = [
    0, 1, 2, 3, 4, 5, 6, 8, 10, 14, 18, 26, 34, 50, 66, 98, 130, 194, 322, 578, 1090, 2114, 6210,
    22594,
];
const INSERT_EXTRA: [u32; 24] = [
    0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10, 12, 14, 24,
];
const COPY_BASE: [u32; 24] = [
    2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 18, 22, 30, 38, 54, 70, 102, 134, 198, 326, 582, 1094, 2118,
];
const COPY_EXTRA: [u32; 24] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10, 24,
];

/// The order in which code length code lengths are written.
const CODE_LENGTH_ORDER: [usize; 18] =
    [1, 2, 3, 4, 0, 5, 17, 6, 16, 7, 8, 9, 10, 11, 12, 13, 14, 15];

const LITERAL_ALPHABET: usize = 256;
const COMMAND_ALPHABET: usize = 704;
/// 16 special codes + NDIRECT (0) + 48 << NPOSTFIX (0).
const DISTANCE_ALPHABET: usize = 64;

/// Writes bits least significant first, as brotli reads them.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter {
    fn with_capacity(bytes: usize) -> Self {
        BitWriter {
            out: Vec::with_capacity(bytes),
            acc: 0,
            bits: 0,
        }
    }

    /// Writes the low `count` bits of `value` (`count` <= 32).
    fn write(&mut self, count: u32, value: u64) {
        debug_assert!(count <= 32 && (count == 32 || value >> count == 0));
        self.acc |= value << self.bits;
        self.bits += count;
        while self.bits >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits -= 8;
        }
    }

    /// Pads the last byte with zero bits.
    fn finish(mut self) -> Vec<u8> {
        if self.bits > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// One LZ77 command: `insert` literals, then copy `copy` bytes from
/// `distance` back (no copy when `copy` is 0: the block's last command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Command {
    insert: u32,
    copy: u32,
    distance: u32,
}

fn length_code(value: u32, base: &[u32; 24]) -> usize {
    base.partition_point(|&b| b <= value) - 1
}

/// Insert length code combined with copy length code (RFC 7932 section 5),
/// always in the cells whose distance is explicit.
fn command_code(insert_code: usize, copy_code: usize) -> usize {
    let base = match (insert_code >> 3, copy_code >> 3) {
        (0, 0) => 128,
        (0, 1) => 192,
        (0, _) => 384,
        (1, 0) => 256,
        (1, 1) => 320,
        (1, _) => 512,
        (_, 0) => 448,
        (_, 1) => 576,
        (_, _) => 640,
    };
    base + ((insert_code & 7) << 3) + (copy_code & 7)
}

/// The distance code and its extra bits for a distance (NPOSTFIX 0, NDIRECT 0).
fn distance_code(distance: u32) -> (usize, u32, u32) {
    let d = distance + 3;
    let nbits = 31 - d.leading_zeros() - 1;
    let prefix = (d >> nbits) & 1;
    let code = 16 + (((nbits - 1) << 1) | prefix) as usize;
    let extra = d - ((2 + prefix) << nbits);
    (code, nbits, extra)
}

/// Greedy LZ77 over `block`, which starts at `start` in `data` (earlier bytes
/// may be referenced). Returns the commands and the literals they insert.
fn find_commands(
    data: &[u8],
    start: usize,
    end: usize,
    table: &mut [u32],
) -> (Vec<Command>, Vec<u8>) {
    let mut commands = Vec::new();
    let mut literals = Vec::with_capacity((end - start) / 2);
    let hash = |pos: usize| {
        let word = u32::from_le_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]);
        (word.wrapping_mul(0x1E35_A7BD) >> (32 - HASH_BITS)) as usize
    };
    // The longest match at `pos` against the position remembered for its hash.
    let match_at = |table: &[u32], pos: usize| -> (usize, usize) {
        let candidate = table[hash(pos)] as usize;
        if candidate == 0 {
            return (0, 0);
        }
        let candidate = candidate - 1;
        let distance = pos - candidate;
        if distance > MAX_DISTANCE
            || data[candidate..candidate + MIN_MATCH] != data[pos..pos + MIN_MATCH]
        {
            return (0, 0);
        }
        let limit = end - pos;
        let mut length = MIN_MATCH;
        while length < limit && data[candidate + length] == data[pos + length] {
            length += 1;
        }
        (length, distance)
    };
    let mut pos = start;
    let mut literal_start = start;
    let mut misses = 0usize;
    while pos + MIN_MATCH <= end {
        let (mut length, mut distance) = match_at(table, pos);
        table[hash(pos)] = pos as u32 + 1; // 0 means empty
        if length > 0 && pos + 1 + MIN_MATCH <= end {
            // Lazy matching: a longer match one byte later wins.
            let (next_length, next_distance) = match_at(table, pos + 1);
            if next_length > length + 1 {
                table[hash(pos + 1)] = pos as u32 + 2;
                pos += 1;
                (length, distance) = (next_length, next_distance);
            }
        }
        if length > 0 {
            commands.push(Command {
                insert: (pos - literal_start) as u32,
                copy: length as u32,
                distance: distance as u32,
            });
            literals.extend_from_slice(&data[literal_start..pos]);
            // Index the matched bytes too (all of a short match, the start of a long one).
            let indexed_end = (pos + length.min(32)).min(end.saturating_sub(MIN_MATCH - 1));
            for p in pos + 1..indexed_end {
                table[hash(p)] = p as u32 + 1;
            }
            pos += length;
            literal_start = pos;
            misses = 0;
        } else {
            // Skip ahead faster through data that does not repeat.
            misses += 1;
            pos += 1 + (misses >> 6);
        }
    }
    if literal_start < end {
        literals.extend_from_slice(&data[literal_start..end]);
        commands.push(Command {
            insert: (end - literal_start) as u32,
            copy: 0,
            distance: 0,
        });
    }
    (commands, literals)
}

/// Huffman code lengths for `freqs`, no longer than `max_len`. Symbols with a
/// zero frequency get length 0. With fewer than two used symbols the result
/// is all zeros but for the used one (length 0 as well: a 0-bit code).
fn code_lengths(freqs: &[u32], max_len: u8) -> Vec<u8> {
    let mut lengths = vec![0u8; freqs.len()];
    let used: Vec<usize> = (0..freqs.len()).filter(|&s| freqs[s] > 0).collect();
    if used.len() < 2 {
        return lengths;
    }
    // Raising the smallest counts flattens the tree until it fits max_len.
    let mut floor = 1u32;
    loop {
        // Nodes: (weight, index); leaves 0..used.len(), then internal nodes.
        let mut parent = vec![usize::MAX; used.len() * 2];
        let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<(u64, usize)>> = used
            .iter()
            .enumerate()
            .map(|(i, &s)| std::cmp::Reverse((u64::from(freqs[s].max(floor)), i)))
            .collect();
        let mut next = used.len();
        while heap.len() > 1 {
            let std::cmp::Reverse((w1, a)) = heap.pop().expect("two nodes");
            let std::cmp::Reverse((w2, b)) = heap.pop().expect("two nodes");
            parent[a] = next;
            parent[b] = next;
            heap.push(std::cmp::Reverse((w1 + w2, next)));
            next += 1;
        }
        let root = next - 1;
        let mut too_deep = false;
        for (i, &symbol) in used.iter().enumerate() {
            let mut depth = 0u8;
            let mut node = i;
            while node != root {
                node = parent[node];
                depth += 1;
            }
            if depth > max_len {
                too_deep = true;
            }
            lengths[symbol] = depth;
        }
        if !too_deep {
            return lengths;
        }
        floor = floor.saturating_mul(2);
    }
}

/// Canonical codes for `lengths`, bit-reversed for the least-significant-first writer.
fn canonical_codes(lengths: &[u8]) -> Vec<u16> {
    let mut count = [0u16; 16];
    for &l in lengths {
        count[l as usize] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for bits in 1..16 {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    lengths
        .iter()
        .map(|&l| {
            if l == 0 {
                return 0;
            }
            let c = next[l as usize];
            next[l as usize] += 1;
            c.reverse_bits() >> (16 - l)
        })
        .collect()
}

/// A prefix code, ready to write symbols with.
struct PrefixCode {
    lengths: Vec<u8>,
    codes: Vec<u16>,
}

impl PrefixCode {
    fn new(freqs: &[u32], max_len: u8) -> Self {
        let lengths = code_lengths(freqs, max_len);
        let codes = canonical_codes(&lengths);
        PrefixCode { lengths, codes }
    }

    fn put(&self, w: &mut BitWriter, symbol: usize) {
        w.write(
            u32::from(self.lengths[symbol]),
            u64::from(self.codes[symbol]),
        );
    }
}

/// Writes one code length code length with brotli's fixed variable-length code.
fn put_code_length_code_length(w: &mut BitWriter, length: u8) {
    let (count, value) = match length {
        0 => (2, 0),
        1 => (4, 7),
        2 => (3, 3),
        3 => (2, 2),
        4 => (2, 1),
        _ => (4, 15),
    };
    w.write(count, value);
}

/// Writes the description of the prefix code for `freqs` over an alphabet of
/// `alphabet_bits` bits, and returns the code.
fn put_prefix_code(w: &mut BitWriter, freqs: &[u32], alphabet_bits: u32) -> PrefixCode {
    let code = PrefixCode::new(freqs, 15);
    let used: Vec<usize> = (0..freqs.len()).filter(|&s| freqs[s] > 0).collect();
    if used.len() < 2 {
        // Simple prefix code with one symbol: it takes no bits at all.
        w.write(2, 1); // HSKIP = 1: a simple code
        w.write(2, 0); // NSYM - 1
        w.write(alphabet_bits, used.first().copied().unwrap_or(0) as u64);
        return code;
    }

    // The code lengths, as code length symbols: 0-15 are lengths, 17 a run of
    // 3-10 zeros (never two 17s in a row, whose counts would multiply).
    // Zeros after the last used symbol are implied.
    let last = *used.last().expect("two used symbols");
    let mut symbols: Vec<(usize, u32)> = Vec::new();
    let mut i = 0;
    let mut after_run = false;
    while i <= last {
        if code.lengths[i] == 0 {
            let run = code.lengths[i..=last]
                .iter()
                .take_while(|&&l| l == 0)
                .count();
            if run >= 3 && !after_run {
                let n = run.min(10);
                symbols.push((17, (n - 3) as u32));
                i += n;
                after_run = true;
                continue;
            }
            symbols.push((0, 0));
        } else {
            symbols.push((code.lengths[i] as usize, 0));
        }
        i += 1;
        after_run = false;
    }
    let mut clc_freqs = [0u32; 18];
    for &(s, _) in &symbols {
        clc_freqs[s] += 1;
    }
    let clc = PrefixCode::new(&clc_freqs, 5);
    let clc_used = clc_freqs.iter().filter(|&&f| f > 0).count();

    w.write(2, 0); // HSKIP = 0: a complex code, nothing skipped
    if clc_used < 2 {
        // One code length symbol: it is written with zero bits. Its length
        // (any) is followed by every other one as zero.
        let only = clc_freqs.iter().position(|&f| f > 0).expect("one used");
        for &s in &CODE_LENGTH_ORDER {
            put_code_length_code_length(w, if s == only { 1 } else { 0 });
        }
    } else {
        let mut space = 32u32;
        for &s in &CODE_LENGTH_ORDER {
            let l = clc.lengths[s];
            put_code_length_code_length(w, l);
            if l > 0 {
                space -= 32 >> l;
                if space == 0 {
                    break;
                }
            }
        }
    }
    for &(s, extra) in &symbols {
        if clc_used >= 2 {
            clc.put(w, s);
        }
        if s == 17 {
            w.write(3, u64::from(extra));
        }
    }
    code
}

/// Writes `n` (1..=256) with brotli's variable-length code for counts; only 1 is used here.
fn put_one(w: &mut BitWriter) {
    w.write(1, 0);
}

/// Writes one compressed meta-block for `data[start..end]`.
fn put_meta_block(
    w: &mut BitWriter,
    data: &[u8],
    start: usize,
    end: usize,
    last: bool,
    table: &mut [u32],
) {
    let (commands, literals) = find_commands(data, start, end, table);

    let mut literal_freqs = [0u32; LITERAL_ALPHABET];
    for &b in &literals {
        literal_freqs[b as usize] += 1;
    }
    let mut command_freqs = vec![0u32; COMMAND_ALPHABET];
    let mut distance_freqs = [0u32; DISTANCE_ALPHABET];
    // For each command: its code and the distance code with extra bits.
    let coded: Vec<(usize, (usize, u32, u32))> = commands
        .iter()
        .map(|c| {
            let copy = if c.copy == 0 { 4 } else { c.copy };
            let code = command_code(
                length_code(c.insert, &INSERT_BASE),
                length_code(copy, &COPY_BASE),
            );
            command_freqs[code] += 1;
            let dist = if c.copy > 0 {
                distance_code(c.distance)
            } else {
                (0, 0, 0)
            };
            if c.copy > 0 {
                distance_freqs[dist.0] += 1;
            }
            (code, dist)
        })
        .collect();

    // Meta-block header.
    let mlen = end - start;
    w.write(1, u64::from(last));
    if last {
        w.write(1, 0); // ISLASTEMPTY
    }
    let nibbles = ((64 - ((mlen - 1) as u64).leading_zeros()).div_ceil(4)).max(4);
    w.write(2, u64::from(nibbles - 4));
    w.write(nibbles * 4, (mlen - 1) as u64);
    if !last {
        w.write(1, 0); // ISUNCOMPRESSED
    }
    put_one(w); // NBLTYPESL
    put_one(w); // NBLTYPESI
    put_one(w); // NBLTYPESD
    w.write(2, 0); // NPOSTFIX
    w.write(4, 0); // NDIRECT
    w.write(2, 0); // the literal context mode of the one block type
    put_one(w); // NTREESL: no context map
    put_one(w); // NTREESD
    let literal_code = put_prefix_code(w, &literal_freqs, 8);
    let command_code = put_prefix_code(w, &command_freqs, 10);
    let distance_code = put_prefix_code(w, &distance_freqs, 6);

    let mut next_literal = 0;
    for (c, (code, (dcode, dbits, dextra))) in commands.iter().zip(coded) {
        command_code.put(w, code);
        let insert_code = length_code(c.insert, &INSERT_BASE);
        w.write(
            INSERT_EXTRA[insert_code],
            u64::from(c.insert - INSERT_BASE[insert_code]),
        );
        let copy = if c.copy == 0 { 4 } else { c.copy };
        let copy_code = length_code(copy, &COPY_BASE);
        w.write(
            COPY_EXTRA[copy_code],
            u64::from(copy - COPY_BASE[copy_code]),
        );
        for &b in &literals[next_literal..next_literal + c.insert as usize] {
            literal_code.put(w, b as usize);
        }
        next_literal += c.insert as usize;
        if c.copy > 0 {
            distance_code.put(w, dcode);
            w.write(dbits, u64::from(dextra));
        }
    }
}

/// Brotli-compresses `data`.
pub fn compress(data: &[u8]) -> Vec<u8> {
    let mut w = BitWriter::with_capacity(data.len() / 3 + 64);
    // WBITS 24: a 1 bit, then 24 - 17 in three bits.
    w.write(1, 1);
    w.write(3, u64::from(WBITS - 17));
    if data.is_empty() {
        w.write(1, 1); // ISLAST
        w.write(1, 1); // ISLASTEMPTY
        return w.finish();
    }
    let mut table = vec![0u32; 1 << HASH_BITS];
    let mut start = 0;
    while start < data.len() {
        let end = (start + MAX_BLOCK).min(data.len());
        put_meta_block(&mut w, data, start, end, end == data.len(), &mut table);
        start = end;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn decompress(compressed: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        brotli_decompressor::Decompressor::new(compressed, 4096)
            .read_to_end(&mut out)
            .expect("a valid brotli stream");
        out
    }

    fn round_trip(data: &[u8]) -> usize {
        let compressed = compress(data);
        assert_eq!(
            decompress(&compressed),
            data,
            "round trip of {} bytes",
            data.len()
        );
        compressed.len()
    }

    /// A reproducible pseudo-random byte source (xorshift).
    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn the_codes_follow_rfc_7932() {
        assert_eq!(distance_code(1), (16, 1, 0));
        assert_eq!(distance_code(4), (17, 1, 1));
        assert_eq!(distance_code(5), (18, 2, 0));
        assert_eq!(length_code(5, &INSERT_BASE), 5);
        assert_eq!(length_code(22594, &INSERT_BASE), 23);
        assert_eq!(length_code(2, &COPY_BASE), 0);
        assert_eq!(length_code(2117, &COPY_BASE), 22);
        assert_eq!(command_code(0, 0), 128);
        assert_eq!(command_code(23, 23), 703);
    }

    #[test]
    fn edge_cases_round_trip() {
        round_trip(b"");
        round_trip(b"a");
        round_trip(b"ab");
        round_trip(b"abcabcabc");
        round_trip(&[0u8; 5]);
        round_trip(&[7u8; 100_000]);
        round_trip(&(0..=255u8).collect::<Vec<u8>>());
    }

    #[test]
    fn text_compresses_and_round_trips() {
        let json: String = (0..2000)
            .map(|i| {
                format!(
                    r#"{{"id":{i},"name":"user {i}","email":"user{i}@example.com","active":{}}},"#,
                    i % 3 == 0
                )
            })
            .collect();
        let size = round_trip(json.as_bytes());
        assert!(size * 5 < json.len(), "{size} of {}", json.len());
    }

    #[test]
    fn noise_round_trips_at_any_size() {
        for (len, seed) in [(1, 1), (3, 2), (4, 3), (100, 4), (70_000, 5), (300_000, 6)] {
            round_trip(&noise(len, seed));
        }
    }

    #[test]
    fn mixed_data_with_long_and_far_matches_round_trips() {
        let mut data = noise(1 << 20, 9);
        let copy = data[1000..60_000].to_vec();
        data.extend_from_slice(&copy); // a match about a megabyte back
        data.extend_from_slice(&[b'x'; 70_000]); // a very long run
        data.extend_from_slice(b"tail");
        round_trip(&data);
    }

    #[test]
    fn skewed_statistics_need_length_limited_codes() {
        // Fibonacci-like counts force a Huffman tree deeper than 15.
        let mut data = Vec::new();
        let (mut a, mut b) = (1usize, 1usize);
        for symbol in 0..30u8 {
            data.extend(std::iter::repeat_n(symbol.wrapping_mul(37), a.min(200_000)));
            (a, b) = (b, a + b);
        }
        let shuffled: Vec<u8> = noise(data.len(), 77)
            .iter()
            .zip(&data)
            .map(|(n, d)| if n % 2 == 0 { *d } else { d.wrapping_add(1) })
            .collect();
        round_trip(&shuffled);
    }

    #[test]
    fn code_lengths_are_complete_and_limited() {
        let freqs: Vec<u32> = (0..40).map(|i| 1u32 << (i % 30)).collect();
        let lengths = code_lengths(&freqs, 15);
        assert!(lengths.iter().all(|&l| (1..=15).contains(&l)));
        let kraft: f64 = lengths.iter().map(|&l| 0.5f64.powi(i32::from(l))).sum();
        assert!((kraft - 1.0).abs() < 1e-9, "{kraft}");
    }
}
