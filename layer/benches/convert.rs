//! Micro-benchmarks of the pure conversions on every invocation's path:
//! `event::parse` (payload -> request parts) and `event::to_result`
//! (response parts -> Lambda result), for a small API Gateway HTTP API
//! (payload 2.0) request and for 1 MiB bodies in each direction: binary
//! (base64 in the result) and, for results, JSON text (a string in the
//! result, every `"` escaped: bench/app.py's `/text-1mib`).
//!
//! Run: `cargo bench -p portside --bench convert` (add `-- --quick` for a
//! shorter run). The end-to-end figures (adapter CPU per invocation from
//! /proc, memory, latency) come from `python3 bench/run.py`; see bench/README.md.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use base64::Engine;
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use http::{HeaderMap, HeaderValue, StatusCode};
use portside::testing::event::{self, Event, HttpSource, ResponseParts};

#[path = "shared/json_text.rs"]
mod json_text;

const MIB: usize = 1024 * 1024;

/// An HTTP API payload 2.0 event as API Gateway sends it for a browser's
/// request, with an optional base64 body.
fn http_api_event(method: &str, path: &str, body: Option<&[u8]>) -> String {
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "lang=en&page=1",
        "cookies": ["session=9f3c2a7e1b5d4c8a", "theme=dark"],
        "headers": {
            "accept": "application/json, text/plain, */*",
            "accept-encoding": "gzip, deflate, br",
            "accept-language": "en-GB,en;q=0.9",
            "host": "r3pmxmplak.execute-api.us-east-1.amazonaws.com",
            "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
            "x-amzn-trace-id": "Root=1-6650f3a2-2b7e9a4c1d0f5e6a7b8c9d0e",
            "x-forwarded-for": "203.0.113.17",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https"
        },
        "queryStringParameters": {"lang": "en", "page": "1"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "r3pmxmplak",
            "domainName": "r3pmxmplak.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "r3pmxmplak",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.17",
                "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "22/Nov/2026:03:15:26 +0000",
            "timeEpoch": 1795317326000u64
        },
        "isBase64Encoded": body.is_some()
    });
    if let Some(body) = body {
        event["body"] = base64::engine::general_purpose::STANDARD
            .encode(body)
            .into();
        event["headers"]["content-type"] = "application/octet-stream".into();
        event["headers"]["content-length"] = body.len().to_string().into();
    }
    event.to_string()
}

/// Bytes of every value, so neither base64 nor JSON escaping sees a shortcut.
fn one_mib() -> Vec<u8> {
    (0..MIB).map(|i| (i % 256) as u8).collect()
}

fn response(content_type: &'static str, body: Bytes) -> ResponseParts {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static(content_type));
    headers.insert("content-length", HeaderValue::from(body.len()));
    headers.insert(
        "date",
        HeaderValue::from_static("Sun, 22 Nov 2026 03:15:26 GMT"),
    );
    ResponseParts {
        status: StatusCode::OK,
        headers,
        body,
    }
}

fn parse(c: &mut Criterion) {
    let small = http_api_event("GET", "/small", None);
    let upload = http_api_event("POST", "/upload", Some(&one_mib()));
    for event in [&small, &upload] {
        match event::parse(event) {
            Ok(Event::Http(http)) => assert_eq!(http.source, HttpSource::HttpApiV2),
            other => panic!("not an HTTP API event: {other:?}"),
        }
    }

    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(small.len() as u64));
    group.bench_function("http_api_small", |b| {
        b.iter(|| event::parse(black_box(&small)).map(|_| ()))
    });
    group.throughput(Throughput::Bytes(upload.len() as u64));
    group.bench_function("http_api_1mib_base64_body", |b| {
        b.iter(|| event::parse(black_box(&upload)).map(|_| ()))
    });
    group.finish();
}

fn to_result(c: &mut Criterion) {
    let small = response(
        "application/json",
        Bytes::from_static(br#"{"message": "hello from the benchmark app", "id": 12345, "tags": ["alpha", "beta", "gamma"], "ok": true}"#),
    );
    let binary = response("application/octet-stream", Bytes::from(one_mib()));
    let text = response("application/json", Bytes::from(json_text::one_mib()));

    let mut group = c.benchmark_group("to_result");
    for (name, parts) in [
        ("http_api_small_json", &small),
        ("http_api_1mib_binary", &binary),
        ("http_api_1mib_json_text", &text),
    ] {
        group.throughput(Throughput::Bytes(parts.body.len() as u64));
        // The clone (a header map and a reference-counted body) is not timed.
        group.bench_function(name, |b| {
            b.iter_batched(
                || parts.clone(),
                |parts| event::to_result(HttpSource::HttpApiV2, parts),
                BatchSize::SmallInput,
            )
        });
        // What the Runtime API receives: the result as JSON.
        group.bench_function(format!("{name}_then_json"), |b| {
            b.iter_batched(
                || parts.clone(),
                |parts| event::to_json(&event::to_result(HttpSource::HttpApiV2, parts)).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// The body's share of `parse/http_api_1mib_base64_body`: portside's decoder
/// (AVX2 on x86_64 when the CPU has it) against the `base64` crate's, alone.
fn base64_decode(c: &mut Criterion) {
    let bytes = one_mib();
    let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
    assert_eq!(
        portside::testing::body::decode_base64(text.as_bytes()).unwrap(),
        bytes
    );

    let mut group = c.benchmark_group("base64_decode_1mib");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("portside", |b| {
        b.iter(|| portside::testing::body::decode_base64(black_box(text.as_bytes())).unwrap())
    });
    group.bench_function("base64_crate", |b| {
        b.iter(|| {
            base64::engine::general_purpose::STANDARD
                .decode(black_box(text.as_bytes()))
                .unwrap()
        })
    });
    group.finish();
}

/// The body's share of `to_result/http_api_1mib_binary_then_json`:
/// portside's encoder against the `base64` crate's, alone.
fn base64_encode(c: &mut Criterion) {
    let bytes = one_mib();
    let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
    assert_eq!(portside::testing::body::encode_base64(&bytes), text);

    let mut group = c.benchmark_group("base64_encode_1mib");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    let mut out = vec![0u8; text.len()];
    group.bench_function("portside", |b| {
        b.iter(|| portside::testing::body::encode_base64_into(black_box(&bytes), &mut out))
    });
    group.bench_function("base64_crate", |b| {
        b.iter(|| {
            base64::engine::general_purpose::STANDARD
                .encode_slice(black_box(&bytes), &mut out)
                .unwrap()
        })
    });
    group.finish();
}

/// The text body's share of `to_result/http_api_1mib_text_then_json`:
/// portside's JSON string escaping against serde_json's (what LWA's result
/// serialization runs), on `/text-1mib` (ASCII JSON records, a quote every
/// few bytes) and on the same records with non-ASCII names and escaped text.
fn json_escape(c: &mut Criterion) {
    let ascii = json_text::one_mib();
    let text = String::from_utf8(ascii.clone()).unwrap();
    let accented = text
        .replace("Alpha", "Zoë")
        .replace("Bravo", "Ørsted")
        .replace("Kilo", "日本")
        .replace("true", "\"a \\\"b\\\" c\\n\"");
    for (name, body) in [("ascii_records", text), ("non_ascii_records", accented)] {
        let mut ours = Vec::new();
        portside::testing::body::escape::write_escaped(&mut ours, body.as_bytes());
        let theirs = serde_json::to_vec(&body).unwrap();
        assert_eq!(ours, theirs[1..theirs.len() - 1], "{name}");

        let mut group = c.benchmark_group(format!("json_escape_1mib_{name}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        let mut out = Vec::with_capacity(2 * body.len());
        group.bench_function("portside", |b| {
            b.iter(|| {
                out.clear();
                portside::testing::body::escape::write_escaped(
                    &mut out,
                    black_box(body.as_bytes()),
                );
            })
        });
        group.bench_function("serde_json", |b| {
            b.iter(|| {
                out.clear();
                serde_json::to_writer(&mut out, black_box(&body)).unwrap();
            })
        });
        group.finish();
    }
}

/// What the access record (`PORTSIDE_ACCESS_LOG`) and the EMF record
/// (`PORTSIDE_METRICS=emf`) cost per invocation: making the line and
/// writing it (to /dev/null, so the write system call is counted too).
fn records(c: &mut Criterion) {
    use portside::testing::record::{self, Ending, Facts};
    use std::io::Write;
    use std::time::Duration;
    let facts = Facts {
        source: "http-api-v2".into(),
        method: "POST".into(),
        path: "/users/42/orders".into(),
        ending: Ending::Status(201),
        response_bytes: 1834,
        app: Duration::from_micros(1_204),
        total: Duration::from_micros(1_295),
        first_byte: None,
        cold_start: false,
    };
    let id = "8f1c0a7e-2b1d-4c3e-9f00-1a2b3c4d5e6f";
    let mut null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .unwrap();
    let mut group = c.benchmark_group("records");
    group.bench_function("access_text", |b| {
        b.iter(|| null.write_all(&record::access_text(id, black_box(&facts))))
    });
    group.bench_function("access_json", |b| {
        b.iter(|| {
            let now = portside::testing::log::now_timestamp();
            null.write_all(&record::access_json(id, black_box(&facts), &now))
        })
    });
    group.bench_function("emf", |b| {
        b.iter(|| {
            null.write_all(&record::emf(
                id,
                black_box(&facts),
                "portside",
                "users-api",
                1_764_583_200_123,
            ))
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    parse,
    to_result,
    base64_decode,
    base64_encode,
    json_escape,
    records
);
criterion_main!(benches);
