//! Micro-benchmarks of response compression (`PORTSIDE_ENABLE_COMPRESSION`):
//! `compress::encode` (gzip) on 1 MiB of JSON text, the
//! same bytes bench/app.py serves at `/text-1mib` (checked by a hash below).
//!
//! Run: `cargo bench -p portside --bench compress` (add `-- --quick` for a
//! shorter run, `--target x86_64-unknown-linux-musl` for the shipped libc).
//! The benchmark uses the adapter's own global allocator (`alloc.rs`), as the
//! binary does. `python3 bench/run.py --only compression` measures the same
//! thing end to end: the adapter's extra CPU per MiB, from /proc.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::io::Read;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use portside::testing::compress::{self, Coding};

#[global_allocator]
static ALLOCATOR: portside::Global = portside::Global;

#[path = "shared/json_text.rs"]
mod json_text;
fn decode(coding: Coding, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        Coding::Gzip => flate2::read::GzDecoder::new(data)
            .read_to_end(&mut out)
            .unwrap(),
    };
    out
}

fn encode(c: &mut Criterion) {
    let text = json_text::one_mib();
    let mut group = c.benchmark_group("encode_1mib_json");
    group.throughput(Throughput::Bytes(text.len() as u64));
    let (name, coding) = ("gzip", Coding::Gzip);
    {
        let encoded = compress::encode(coding, &text);
        assert_eq!(
            decode(coding, &encoded),
            text,
            "{name} does not decode back"
        );
        eprintln!(
            "{name}: {} -> {} bytes (ratio {:.2})",
            text.len(),
            encoded.len(),
            text.len() as f64 / encoded.len() as f64
        );
        group.bench_function(name, |b| {
            b.iter(|| compress::encode(coding, black_box(&text)))
        });
    }
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
