//! Bodies between Lambda's JSON and HTTP's bytes: base64 in both directions
//! and the text-or-binary decision for results.
//!
//! Owns: decoding event bodies, encoding result bodies, deciding which
//! content types travel as text.
//! Must not: know event formats or shapes of results.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::HeaderMap;

#[cfg(target_arch = "x86_64")]
mod avx2;
pub mod escape;

/// Standard base64, accepting input with or without padding (as some event
/// producers omit it) and writing it with padding (as Lambda's consumers expect).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The bytes of an event body: the string itself, or its base64 decoding.
pub fn decode_event_body(body: Option<&str>, is_base64: bool) -> Result<Bytes, String> {
    let Some(body) = body else {
        return Ok(Bytes::new());
    };
    if !is_base64 {
        return Ok(Bytes::copy_from_slice(body.as_bytes()));
    }
    match decode_base64(body.as_bytes()) {
        Ok(bytes) => Ok(Bytes::from(bytes)),
        // Line-wrapped base64 (MIME style) is still base64.
        Err(_) if body.bytes().any(|b| b.is_ascii_whitespace()) => {
            let compact: Vec<u8> = body.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
            BASE64
                .decode(compact)
                .map(Bytes::from)
                .map_err(base64_error)
        }
        Err(err) => Err(base64_error(err)),
    }
}

fn base64_error(err: base64::DecodeError) -> String {
    format!("`body` is marked base64 (isBase64Encoded) but is not valid base64: {err}")
}

/// Standard base64 decoding, padded or not: exactly what [`BASE64`] decodes,
/// with the same errors, and on x86_64 CPUs with AVX2 (every Lambda x86_64
/// CPU) most of it 32 characters at a time, much faster than one at a time
/// (`cargo bench -p portside --bench convert` measures both).
pub fn decode_base64(input: &[u8]) -> Result<Vec<u8>, base64::DecodeError> {
    // Room for all of it (the crate's estimate) and the kernel's last 32-byte
    // store, so the buffer is allocated once: growing it would copy the body
    // into a block twice its size.
    let mut out = Vec::with_capacity(input.len().div_ceil(4) * 3 + 8);
    if decode_base64_into(input, &mut out) {
        Ok(out)
    } else {
        // Decoded again whole, for the crate's error with its position.
        BASE64.decode(input)
    }
}

/// Appends the decoding of `input` (standard base64, padded or not, as
/// [`decode_base64`] reads it) to `out`; `false` when `input` is not
/// base64 (then `out` may hold part of a decoding, to be dropped).
pub fn decode_base64_into(input: &[u8], out: &mut Vec<u8>) -> bool {
    #[allow(unused_mut)]
    let mut vectorized = 0;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // At least the last four characters (where padding may be) are left
        // to the crate, with anything after a character it must judge.
        // SAFETY: the CPU has AVX2 (just detected), the kernel's one requirement.
        vectorized = unsafe { avx2::decode_blocks(input, out, 4) };
    }
    BASE64.decode_vec(&input[vectorized..], out).is_ok()
}

/// Base64 text of `bytes`, padded.
pub fn encode_base64(bytes: &[u8]) -> String {
    let mut text = vec![0; base64::encoded_len(bytes.len(), true).unwrap_or(0)];
    let written = encode_base64_into(bytes, &mut text);
    text.truncate(written);
    // Base64 is ASCII; the crate's own encoder is the fallback all the same.
    String::from_utf8(text).unwrap_or_else(|_| BASE64.encode(bytes))
}

/// Writes the padded base64 of `bytes` at the start of `out` (which must
/// hold `base64::encoded_len(bytes.len(), true)` bytes) and returns how many
/// it wrote: the crate's encoding, on x86_64 CPUs with AVX2 most of it 24
/// bytes at a time.
pub fn encode_base64_into(bytes: &[u8], out: &mut [u8]) -> usize {
    #[allow(unused_mut)]
    let (mut read, mut written) = (0, 0);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (just detected), the kernel's one requirement.
        read = unsafe { avx2::encode_blocks(bytes, out) };
        written = read / 3 * 4;
    }
    written
        + BASE64
            .encode_slice(&bytes[read..], &mut out[written..])
            .unwrap_or(0)
}

/// The type and subtype of a `Content-Type` value, lower case, without
/// parameters (`; charset=...`); `None` when it has no `/`.
pub fn media_type(content_type: &str) -> Option<(String, String)> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (kind, subtype) = essence.split_once('/')?;
    Some((kind.to_string(), subtype.to_string()))
}

/// Whether a media type is text that a Lambda result can carry as a string:
/// `text/*`, JSON, JavaScript, XML, YAML and the `+json`, `+xml`, `+yaml`
/// structured suffixes.
pub fn is_text_media_type(content_type: &str) -> bool {
    let Some((kind, subtype)) = media_type(content_type) else {
        return false;
    };
    let (kind, subtype) = (kind.as_str(), subtype.as_str());
    if kind == "text" {
        return true;
    }
    if kind != "application" && kind != "image" {
        return false;
    }
    if subtype.ends_with("+json") || subtype.ends_with("+xml") || subtype.ends_with("+yaml") {
        return true;
    }
    kind == "application"
        && matches!(
            subtype,
            "json"
                | "javascript"
                | "x-javascript"
                | "ecmascript"
                | "xml"
                | "yaml"
                | "x-yaml"
                | "ld+json"
                | "x-ndjson"
                | "ndjson"
                | "jsonl"
                | "graphql"
        )
}

/// A result body, kept as the app's bytes until the result is written, so a
/// large body is encoded once, straight into the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultBody {
    /// Valid UTF-8, carried as a JSON string.
    Text(Bytes),
    /// Any bytes, carried as base64 (`isBase64Encoded`).
    Binary(Bytes),
}

impl ResultBody {
    /// Whether the result carries it as base64.
    pub fn is_base64(&self) -> bool {
        matches!(self, ResultBody::Binary(_))
    }

    /// The string the result carries: the text, or the base64 of the bytes.
    pub fn as_json_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            // Text bodies are checked to be UTF-8 when they are made.
            ResultBody::Text(bytes) => String::from_utf8_lossy(bytes),
            ResultBody::Binary(bytes) => std::borrow::Cow::Owned(encode_base64(bytes)),
        }
    }

    /// Appends the JSON string for this body, quotes included, to `out`:
    /// base64 written directly into it, or text escaped in one pass.
    pub fn write_json_string(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        match self {
            ResultBody::Binary(bytes) => {
                let start = out.len();
                let encoded = base64::encoded_len(bytes.len(), true).unwrap_or(0);
                out.resize(start + encoded, 0);
                let written = encode_base64_into(bytes, &mut out[start..]);
                out.truncate(start + written);
            }
            ResultBody::Text(bytes) => escape::write_escaped(out, bytes),
        }
        out.push(b'"');
    }
}

impl serde::Serialize for ResultBody {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.as_json_text())
    }
}

/// `bytes` as text, if they are valid UTF-8: the same answer as
/// `core::str::from_utf8`, found 32 or 16 bytes at a time (simdutf8: AVX2
/// or SSE4.2 chosen at run time on x86_64, NEON on arm64), where core's is
/// a byte at a time on non-ASCII text (half the cost of a 256 KiB Arabic
/// JSON response, before).
pub fn as_text(bytes: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(bytes).ok()
}

/// Chooses text or base64 for a response body. Text needs a text media type,
/// no `content-encoding` (compressed bytes are binary) and valid UTF-8;
/// everything else is base64, so no byte is ever lost.
pub fn encode_result_body(headers: &HeaderMap, body: &Bytes) -> ResultBody {
    let texty = body.is_empty()
        || (!headers.contains_key(CONTENT_ENCODING)
            && headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(is_text_media_type)
            && as_text(body).is_some());
    if texty {
        ResultBody::Text(body.clone())
    } else {
        ResultBody::Binary(body.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn event_bodies_decode_exactly() {
        assert_eq!(decode_event_body(None, true).unwrap(), Bytes::new());
        assert_eq!(
            decode_event_body(Some("héllo"), false).unwrap(),
            "héllo".as_bytes()
        );
        assert_eq!(
            decode_event_body(Some("AAEC/w=="), true).unwrap(),
            &[0u8, 1, 2, 255][..]
        );
        assert_eq!(
            decode_event_body(Some("AAEC/w"), true).unwrap(),
            &[0u8, 1, 2, 255][..]
        );
        assert_eq!(
            decode_event_body(Some("AAEC\n/w=="), true).unwrap(),
            &[0u8, 1, 2, 255][..]
        );
        let err = decode_event_body(Some("not base64!"), true).unwrap_err();
        assert!(err.contains("isBase64Encoded"), "{err}");
    }

    #[test]
    fn base64_agrees_with_the_base64_crate_on_any_input() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for case in 0..4000 {
            let len = (random() % 400) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| random() as u8).collect();
            let mut text = BASE64.encode(&bytes).into_bytes();
            match case % 4 {
                1 if !text.is_empty() => {
                    let at = random() as usize % text.len();
                    text[at] = random() as u8;
                }
                2 => text.truncate(text.len().saturating_sub(random() as usize % 4)),
                3 => {
                    while text.last() == Some(&b'=') {
                        text.pop();
                    }
                }
                _ => {}
            }
            let ours = decode_base64(&text);
            assert_eq!(
                ours,
                BASE64.decode(&text),
                "{}",
                String::from_utf8_lossy(&text)
            );
            if case % 4 == 0 {
                assert_eq!(ours.unwrap(), bytes);
            }
        }
        // Encoding, any length: the crate's text, directly or inside JSON.
        for len in (0..400).chain([4096, 100_003]) {
            let bytes: Vec<u8> = (0..len).map(|_| random() as u8).collect();
            let text = BASE64.encode(&bytes);
            assert_eq!(encode_base64(&bytes), text, "{len} bytes");
            let mut json = b"{\"body\":".to_vec();
            ResultBody::Binary(Bytes::from(bytes)).write_json_string(&mut json);
            assert_eq!(json, format!("{{\"body\":\"{text}\"").into_bytes());
        }

        // One allocation, never grown: growing a 1 MiB body would copy it
        // into a block twice its size.
        let big = BASE64.encode(vec![7u8; 1 << 20]);
        let decoded = decode_base64(big.as_bytes()).unwrap();
        assert_eq!(decoded.len(), 1 << 20);
        assert!(
            decoded.capacity() < (1 << 20) + 64,
            "{}",
            decoded.capacity()
        );

        // Every byte value at every position of two blocks and a tail.
        let clean = BASE64.encode([0xa5u8; 54]).into_bytes();
        for at in 0..clean.len() {
            for byte in 0..=255u8 {
                let mut text = clean.clone();
                text[at] = byte;
                assert_eq!(
                    decode_base64(&text),
                    BASE64.decode(&text),
                    "{byte:#04x} at {at}"
                );
            }
        }
    }

    #[test]
    fn text_media_types() {
        for ct in [
            "text/html",
            "text/plain; charset=utf-8",
            "application/json",
            "Application/JSON; charset=UTF-8",
            "application/javascript",
            "application/xml",
            "application/yaml",
            "application/problem+json",
            "application/atom+xml",
            "image/svg+xml",
            "application/vnd.api+json",
            "text/event-stream",
        ] {
            assert!(is_text_media_type(ct), "{ct}");
        }
        for ct in [
            "image/png",
            "application/octet-stream",
            "application/pdf",
            "video/mp4",
            "",
            "json",
            "application/zip",
        ] {
            assert!(!is_text_media_type(ct), "{ct}");
        }
    }

    #[test]
    fn text_is_recognised_exactly_as_core_recognises_utf8() {
        // Long texts in many scripts with one byte changed at each place of
        // a SIMD block and beyond: truncated sequences, stray continuation
        // bytes, overlong forms, surrogates and code points past U+10FFFF
        // are refused wherever they fall; core's validator is the oracle.
        let text = "Zoë Ørsted 日本語 Привет مرحبا 😀🎉 \"q\" ascii run ".repeat(12);
        let mut state: u64 = 0x9e37_79b9;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        let breakers: [&[u8]; 8] = [
            &[0x80],
            &[0xc0, 0xaf],
            &[0xe0, 0x80, 0xaf],
            &[0xed, 0xa0, 0x80],
            &[0xf4, 0x90, 0x80, 0x80],
            &[0xff],
            &[0xe6, 0x97],
            &[0xf0, 0x9f, 0x98],
        ];
        assert!(as_text(text.as_bytes()).is_some());
        for len in [0, 1, 15, 16, 31, 32, 33, 63, 64, 65, 200, text.len()] {
            let bytes = &text.as_bytes()[..len];
            assert_eq!(
                as_text(bytes).is_some(),
                std::str::from_utf8(bytes).is_ok(),
                "{len}"
            );
        }
        for _ in 0..3000 {
            let mut bytes = text.as_bytes().to_vec();
            let at = next() % bytes.len();
            let breaker = breakers[next() % breakers.len()];
            let end = (at + breaker.len()).min(bytes.len());
            bytes.splice(at..end, breaker.iter().copied());
            assert_eq!(
                as_text(&bytes).map(str::as_bytes),
                std::str::from_utf8(&bytes).ok().map(str::as_bytes),
                "{breaker:x?} at {at}"
            );
        }
    }

    #[test]
    fn result_bodies_are_text_only_when_that_loses_nothing() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let json = Bytes::from_static(b"{\"a\":1}");
        assert_eq!(
            encode_result_body(&headers, &json),
            ResultBody::Text(json.clone())
        );
        // Text type but not UTF-8 (say, Latin-1): base64 keeps every byte.
        let latin1 = Bytes::from_static(&[b'c', b'a', b'f', 0xe9]);
        let body = encode_result_body(&headers, &latin1);
        assert!(body.is_base64());
        assert_eq!(
            decode_event_body(Some(&body.as_json_text()), true).unwrap(),
            latin1
        );
        // Compressed text is binary.
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        assert!(encode_result_body(&headers, &Bytes::from_static(b"\x1f\x8b...")).is_base64());
        // No content type: binary.
        assert!(encode_result_body(&HeaderMap::new(), &Bytes::from_static(b"plain")).is_base64());
        // Empty: empty text.
        assert!(!encode_result_body(&HeaderMap::new(), &Bytes::new()).is_base64());
    }

    #[test]
    fn json_strings_are_written_exactly_as_serde_json_writes_them() {
        let text = "plain \"quoted\" back\\slash\nnew\tline\r\u{8}\u{c}\u{1}\u{1f} é 😀 \u{7f}";
        let mut ours = Vec::new();
        ResultBody::Text(Bytes::from(text)).write_json_string(&mut ours);
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            serde_json::to_string(text).unwrap()
        );

        let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut ours = Vec::new();
        ResultBody::Binary(Bytes::from(bytes.clone())).write_json_string(&mut ours);
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            format!("\"{}\"", encode_base64(&bytes))
        );
    }
}
