//! The 1 MiB of JSON text the compression and conversion benchmarks use:
//! the same bytes bench/app.py serves at `/text-1mib` (its
//! `compressible_text()`), checked by a hash, so criterion's figures and
//! bench/run.py's end-to-end ones are about one body.

/// FNV-1a (64-bit) of bench/app.py's `compressible_text()` (1 MiB).
const TEXT_FNV1A: u64 = 0x6476_17df_707d_cd92;

const WORDS: [&str; 16] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa",
];

/// `size` bytes of JSON records built exactly as bench/app.py's
/// `compressible_text()` builds them (the same 32-bit LCG and layout).
fn compressible_text(size: usize) -> Vec<u8> {
    let mut state: u32 = 12345;
    let mut rand = |n: u32| {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (state >> 16) % n
    };
    let title = |w: &str| format!("{}{}", w[..1].to_ascii_uppercase(), &w[1..]);
    let mut out = b"[".to_vec();
    for i in 0.. {
        let first = WORDS[rand(16) as usize];
        let last = WORDS[rand(16) as usize];
        let (email, month, day) = (rand(1000), 1 + rand(12), 1 + rand(28));
        let (hour, minute, second, active) = (rand(24), rand(60), rand(60), rand(2));
        let (score, tag1, tag2) = (
            rand(100_000),
            WORDS[rand(16) as usize],
            WORDS[rand(16) as usize],
        );
        let record = format!(
            "{{\"id\":{},\"name\":\"{} {}\",\"email\":\"{first}.{last}{email}@example.com\",\
             \"created\":\"2026-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z\",\
             \"active\":{},\"score\":{}.{:02},\"tags\":[\"{tag1}\",\"{tag2}\"]}}",
            100_000 + i,
            title(first),
            title(last),
            if active == 1 { "true" } else { "false" },
            score / 100,
            score % 100,
        );
        let sep: &[u8] = if i > 0 { b"," } else { b"" };
        if out.len() + sep.len() + record.len() + 1 > size {
            break;
        }
        out.extend_from_slice(sep);
        out.extend_from_slice(record.as_bytes());
    }
    out.resize(size - 1, b' ');
    out.push(b']');
    out
}

/// FNV-1a, 64-bit: a hash both languages write in a line.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// 1 MiB of the text, checked against bench/app.py's bytes.
pub fn one_mib() -> Vec<u8> {
    let text = compressible_text(1024 * 1024);
    assert_eq!(text.len(), 1024 * 1024);
    assert_eq!(
        fnv1a(&text),
        TEXT_FNV1A,
        "not the bytes bench/app.py serves at /text-1mib"
    );
    text
}
