//! A payload taken apart as it arrives ([`super::assemble`]) must give the
//! request the whole payload gives, however it is cut into frames: over
//! every sample event in the corpus, the samples with base64 bodies of
//! every length (whose decoding must be the bytes that were encoded), and
//! hand-written bodies at the edges of base64 (padding, stray characters,
//! escapes) cut at every place.

use base64::Engine as _;
use serde_json::Value;

use super::tests::{assert_same, events_dir, samples};
use super::*;

/// The request (or error) `text` gives when it arrives in frames of the
/// sizes `cut` chooses, read as the adapter reads it (split if it was taken
/// apart and that fits, else whole), and whether it was read split. Every
/// frame is kept: the payload joined back is `text`.
fn through_frames(
    text: &str,
    mut cut: impl FnMut(usize) -> usize,
) -> (Result<Event<'static>, PortsideError>, bool) {
    let bytes = text.as_bytes();
    let mut assembler = Assembler::new(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let n = cut(at).clamp(1, bytes.len() - at);
        assembler.push(&bytes[at..at + n]);
        at += n;
    }
    let whole = || parse(text).map(Event::into_owned);
    match assembler.finish() {
        Payload::Split(split) => {
            assert_eq!(split.join(), bytes, "the frames joined are the payload");
            match parse_split(&split) {
                Some(event) => (Ok(event), true),
                None => (whole(), false),
            }
        }
        Payload::Whole(joined) => {
            assert_eq!(joined, bytes, "the frames joined are the payload");
            (whole(), false)
        }
    }
}

/// Frame sizes from a small linear congruential generator (the same cuts
/// on every run), between 1 and `max`.
fn random_cuts(seed: u64, max: usize) -> impl FnMut(usize) -> usize {
    let mut state = seed;
    move |_| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        1 + (state >> 33) as usize % max
    }
}

/// `n` bytes that are not a pattern base64 would show.
fn noise(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

#[test]
fn every_sample_in_frames_gives_what_it_gives_whole() {
    for (file, _, text) in samples() {
        let whole = parse(&text);
        for size in [1, 7, 64, 4096, usize::MAX] {
            let (split, _) = through_frames(&text, |_| size);
            assert_same(&format!("{file} in frames of {size}"), &whole, &split);
        }
        let (split, _) = through_frames(&text, random_cuts(file.len() as u64, 300));
        assert_same(&format!("{file} in random frames"), &whole, &split);
    }
}

#[test]
fn base64_bodies_of_every_length_are_decoded_as_they_arrive_to_the_bytes_encoded() {
    let standard = base64::engine::general_purpose::STANDARD;
    let mut split_reads = 0;
    let mut http_samples = 0;
    for (file, _, text) in samples() {
        let mut event: Value = serde_json::from_str(&text).unwrap();
        // HTTP samples only: a body of their own shape, flagged base64.
        if !matches!(parse(&text), Ok(Event::Http(_))) || !event.is_object() {
            continue;
        }
        http_samples += 1;
        for (n, padded) in [
            (0, true),
            (1, true),
            (2, false),
            (3, true),
            (5, false),
            (1000, true),
            (70_001, true),
            (70_002, false),
        ] {
            let bytes = noise(n, file.len() as u32);
            let mut encoded = standard.encode(&bytes);
            if !padded {
                encoded = encoded.trim_end_matches('=').to_string();
            }
            event["body"] = Value::String(encoded);
            event["isBase64Encoded"] = Value::Bool(true);
            let text = serde_json::to_string(&event).unwrap();
            let whole = parse(&text);
            for (how, cuts) in [
                (
                    "frames of 4096",
                    Box::new(|_| 4096usize) as Box<dyn FnMut(usize) -> usize>,
                ),
                ("frames of 61,440", Box::new(|_| 61_440usize)),
                ("random frames", Box::new(random_cuts(n as u64, 9000))),
            ] {
                let what = format!("{file}, {n} bytes, {how}");
                let (split, was_split) = through_frames(&text, cuts);
                assert_same(&what, &whole, &split);
                if let Ok(Event::Http(http)) = &split {
                    assert_eq!(http.request.body, bytes, "{what}: the bytes encoded");
                }
                // A valid HTTP event with a plain base64 body is read split.
                assert_eq!(was_split, whole.is_ok(), "{what}: read split");
                split_reads += usize::from(was_split);
            }
        }
    }
    assert!(http_samples > 40, "only {http_samples} HTTP samples");
    assert!(
        split_reads > http_samples * 8 * 3 / 2,
        "only {split_reads} split readings"
    );
}

#[test]
fn a_1_mib_upload_is_read_split_and_arrives_whole() {
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(
            events_dir().join("aws-lambda-rust-runtime/apigw_v2_proxy_request.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let bytes = noise(1024 * 1024, 7);
    event["body"] = Value::String(crate::body::encode_base64(&bytes));
    event["isBase64Encoded"] = Value::Bool(true);
    let text = serde_json::to_string_pretty(&event).unwrap();
    let whole = parse(&text);
    for size in [61_440, 65_536, 1_000_003] {
        let (split, was_split) = through_frames(&text, |_| size);
        assert!(was_split, "frames of {size}");
        assert_same(&format!("frames of {size}"), &whole, &split);
        let Ok(Event::Http(http)) = split else {
            panic!("frames of {size}: not HTTP")
        };
        assert_eq!(http.request.body, bytes);
    }
}

/// A minimal HTTP API event with `body` and the flag as given (JSON text).
fn v2_event(body: &str, flag: &str) -> String {
    let flag = if flag.is_empty() {
        String::new()
    } else {
        format!(r#","isBase64Encoded":{flag}"#)
    };
    format!(
        r#"{{"version":"2.0","routeKey":"$default","rawPath":"/up","rawQueryString":"",
        "headers":{{"content-type":"application/octet-stream"}},
        "requestContext":{{"http":{{"method":"POST","path":"/up","sourceIp":"203.0.113.9"}},"stage":"$default"}},
        "body":{body}{flag}}}"#
    )
}

#[test]
fn bodies_at_the_edges_of_base64_cut_at_every_place_give_what_they_give_whole() {
    let bodies = [
        r#""""#,
        r#""QQ==""#,
        r#""QQ=""#,
        r#""QQ""#,
        r#""QUI=""#,
        r#""QUI""#,
        r#""QUJD""#,
        r#""Q""#,
        r#""QUJDRA==""#,
        r#""QUJDRA""#,
        r#""QQ==QUJD""#,
        r#""QUJD=""#,
        r#""QU=D""#,
        r#""====""#,
        r#""QR==""#,
        r#""QUJ=""#,
        r#""QUJD\n""#,
        r#""QUJ D""#,
        r#""QUJDé""#,
        r#""\u0041UJD""#,
        r#""QUJD\"""#,
        "\"QU\u{1}JD\"",
        r#""QUJD/+9z""#,
        r#""-_-_""#,
        "42",
        "null",
        r#"["QUJD"]"#,
    ];
    // The oracle, independent of the adapter's decoder: the base64 crate's
    // own engine with the padding rule the adapter documents (padded or
    // not), over the string's characters as they stand (a string with an
    // escape or a control character is not plain, so never split).
    let crate_engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let flags = ["true", "false", r#""true""#, "1", ""];
    let mut split_reads = 0;
    for body in bodies {
        let plain_base64 = body
            .strip_prefix('"')
            .and_then(|b| b.strip_suffix('"'))
            .filter(|b| !b.bytes().any(|c| c == b'\\' || c < 0x20))
            .is_some_and(|b| crate_engine.decode(b).is_ok());
        for flag in flags {
            let text = v2_event(body, flag);
            let whole = parse(&text);
            let expect_split = plain_base64 && matches!(flag, "true" | r#""true""#);
            for size in 1..=9 {
                let what = format!("body {body}, flag {flag:?}, frames of {size}");
                let (split, was_split) = through_frames(&text, |_| size);
                assert_same(&what, &whole, &split);
                assert_eq!(was_split, expect_split, "{what}: read split");
                split_reads += usize::from(was_split);
            }
        }
    }
    assert!(
        split_reads >= 9 * 2 * 9,
        "only {split_reads} readings were split"
    );
}

#[test]
fn anything_but_one_top_level_string_body_is_read_whole() {
    let long = "QUJD".repeat(20_000);
    let cases = [
        // The body nested, not at the top.
        format!(r#"{{"requestContext":{{"body":"{long}"}},"isBase64Encoded":true}}"#),
        // Two bodies: serde_json refuses the duplicate; read whole, as before.
        v2_event(&format!(r#""{long}","body":"QUJD""#), "true"),
        // Not an object.
        format!(r#"["{long}"]"#),
        // More than the head limit before the body.
        v2_event(&format!(r#""{long}""#), "true").replacen(
            r#""body":"#,
            &format!(r#""x":"{}","body":"#, "a".repeat(300_000)),
            1,
        ),
        // Broken JSON after the body.
        v2_event(&format!(r#""{long}""#), "true").replace(r#"true}"#, "true]"),
        // An SQS-like batch: bodies inside records.
        format!(r#"{{"Records":[{{"body":"{long}","eventSource":"aws:sqs"}}]}}"#),
        // Base64, but not an HTTP event: a pass-through gets the payload as it came.
        format!(r#"{{"body":"{long}","isBase64Encoded":true}}"#),
    ];
    for (i, text) in cases.iter().enumerate() {
        let whole = parse(text);
        for size in [1000, 61_440] {
            let (split, was_split) = through_frames(text, |_| size);
            assert_same(&text[..60.min(text.len())], &whole, &split);
            assert!(!was_split, "case {i}: {}", &text[..60]);
        }
    }
}
