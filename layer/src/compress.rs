//! Response compression (`PORTSIDE_ENABLE_COMPRESSION`): gzip, as
//! the client's `Accept-Encoding` prefers, for buffered responses.
//!
//! Owns: negotiating the coding (q-values, `*`, `identity`), deciding which
//! responses are worth compressing, and rewriting the response's headers.
//! Must not: stream (streamed responses pass as they are) or know event formats.
//!
//! Left as they are: bodies under 1 KiB, bodies that already have a
//! `Content-Encoding`, `Cache-Control: no-transform`, unknown types, and
//! types that are compressed already (images other than SVG and BMP, audio,
//! video, fonts in WOFF, archives, PDF), and any body that compression would
//! not make smaller.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, VARY};
use http::{HeaderMap, HeaderValue};

use crate::body::{is_text_media_type, media_type};
use crate::event::ResponseParts;

/// Smallest body worth compressing.
pub const MIN_SIZE: usize = 1024;
/// gzip level: 4 compresses nearly as well as zlib's default (6) for much
/// less CPU, and a Lambda pays for CPU in duration (bench/README.md and
/// `layer/benches/compress.rs` measure the levels).
const GZIP_LEVEL: u8 = 4;

/// A content coding portside can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// `gzip` (RFC 1952).
    Gzip,
}

impl Coding {
    fn token(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
        }
    }
}

/// The quality the client gives `coding` (`None` when it does not say).
fn quality_of(accept_encoding: &str, names: &[&str]) -> Option<f32> {
    accept_encoding.split(',').find_map(|item| {
        let mut parts = item.split(';');
        let name = parts.next()?.trim();
        if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return None;
        }
        let mut q = 1.0f32;
        for param in parts {
            if let Some((key, value)) = param.split_once('=') {
                if key.trim().eq_ignore_ascii_case("q") {
                    q = value.trim().parse().unwrap_or(0.0);
                }
            }
        }
        Some(q.clamp(0.0, 1.0))
    })
}

/// The coding to use, if the client accepts one portside has: gzip, when
/// its q-value is above 0 (`*` covers it when it is not named; `q=0`
/// refuses it); otherwise the body goes as it is, which every client takes.
/// Why gzip only: bench/README.md, "Compression".
pub fn negotiate(accept_encoding: &str) -> Option<Coding> {
    let any = quality_of(accept_encoding, &["*"]);
    let gzip = quality_of(accept_encoding, &["gzip", "x-gzip"])
        .or(any)
        .unwrap_or(0.0);
    (gzip > 0.0).then_some(Coding::Gzip)
}

/// Media types whose bodies are compressed already.
fn is_compressed_type(content_type: &str) -> bool {
    let Some((kind, subtype)) = media_type(content_type) else {
        return true;
    };
    let subtype = subtype.as_str();
    match kind.as_str() {
        "image" => !matches!(
            subtype,
            "svg+xml" | "bmp" | "x-ms-bmp" | "x-icon" | "vnd.microsoft.icon"
        ),
        "audio" | "video" => true,
        "font" => matches!(subtype, "woff" | "woff2"),
        "application" => matches!(
            subtype,
            "zip"
                | "gzip"
                | "x-gzip"
                | "x-bzip2"
                | "x-xz"
                | "zstd"
                | "x-7z-compressed"
                | "x-rar-compressed"
                | "vnd.rar"
                | "x-compress"
                | "pdf"
                | "octet-stream"
                | "font-woff"
                | "java-archive"
        ),
        _ => false,
    }
}

/// Whether a response with these headers and body is worth compressing.
pub fn worth_compressing(headers: &HeaderMap, body_len: usize) -> bool {
    if body_len < MIN_SIZE || headers.contains_key(CONTENT_ENCODING) {
        return false;
    }
    let no_transform = headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("no-transform"));
    if no_transform {
        return false;
    }
    match headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        Some(content_type) => is_text_media_type(content_type) || !is_compressed_type(content_type),
        None => false,
    }
}

/// Compresses `body` with `coding`.
pub fn encode(coding: Coding, body: &[u8]) -> Vec<u8> {
    match coding {
        Coding::Gzip => gzip(body),
    }
}

/// A gzip member (RFC 1952): a header without optional fields, the DEFLATE
/// stream, then the CRC-32 and the length of the input.
fn gzip(body: &[u8]) -> Vec<u8> {
    let deflated = miniz_oxide::deflate::compress_to_vec(body, GZIP_LEVEL);
    let mut out = Vec::with_capacity(deflated.len() + 18);
    // Magic, DEFLATE, no flags, no time, no extra flags, OS unknown.
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&crc32(body).to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out
}

/// CRC-32 (IEEE 802.3, reflected), as gzip's trailer wants it.
fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = [0u32; 256];
        for (i, entry) in table.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *entry = c;
        }
        table
    });
    !data.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

/// Compresses `response` in place when the client accepts a coding and it is
/// worth it; returns the coding used.
pub fn compress_response(
    response: &mut ResponseParts,
    accept_encoding: Option<&str>,
) -> Option<Coding> {
    let coding = negotiate(accept_encoding?)?;
    if !worth_compressing(&response.headers, response.body.len()) {
        return None;
    }
    let compressed = encode(coding, &response.body);
    if compressed.len() >= response.body.len() {
        return None;
    }
    let headers = &mut response.headers;
    headers.insert(CONTENT_ENCODING, HeaderValue::from_static(coding.token()));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(compressed.len()));
    let varies = headers
        .get_all(VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',').any(|t| {
                matches!(t.trim(), "*") || t.trim().eq_ignore_ascii_case("accept-encoding")
            })
        });
    if !varies {
        headers.append(VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    // A strong validator names these exact bytes; the compressed body is others.
    if let Some(etag) = headers.get(ETAG).and_then(|v| v.to_str().ok()) {
        if !etag.starts_with("W/") {
            if let Ok(weak) = HeaderValue::from_str(&format!("W/{etag}")) {
                headers.insert(ETAG, weak);
            }
        }
    }
    response.body = Bytes::from(compressed);
    Some(coding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use std::io::Read;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn negotiation_follows_q_values() {
        assert_eq!(negotiate("gzip, deflate, br"), Some(Coding::Gzip));
        assert_eq!(negotiate("br;q=1, gzip;q=0.9"), Some(Coding::Gzip));
        assert_eq!(negotiate("gzip"), Some(Coding::Gzip));
        assert_eq!(negotiate("x-gzip"), Some(Coding::Gzip));
        assert_eq!(negotiate("br;q=0, gzip"), Some(Coding::Gzip));
        assert_eq!(negotiate("*"), Some(Coding::Gzip));
        assert_eq!(negotiate("*;q=0.1, br;q=0"), Some(Coding::Gzip));
        // Nothing portside has: the body as it is.
        assert_eq!(negotiate("br"), None);
        assert_eq!(negotiate("identity"), None);
        assert_eq!(negotiate("deflate, zstd"), None);
        assert_eq!(negotiate("gzip;q=0, br;q=0"), None);
        assert_eq!(negotiate("*;q=0"), None);
        assert_eq!(negotiate(""), None);
        assert_eq!(negotiate("GZIP ; Q=0.4"), Some(Coding::Gzip));
    }

    #[test]
    fn common_clients_get_gzip() {
        // What browsers, curl, Python's requests, Go and CloudFront send.
        for accept in [
            "gzip, deflate, br, zstd",
            "gzip, deflate, br",
            "deflate, gzip, br, zstd",
            "gzip, deflate",
            "gzip",
            "br,gzip",
        ] {
            assert_eq!(negotiate(accept), Some(Coding::Gzip), "{accept}");
        }
    }

    fn response(content_type: Option<&str>, body: Vec<u8>) -> ResponseParts {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        }
        headers.insert(ETAG, HeaderValue::from_static("\"v1\""));
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        ResponseParts {
            status: StatusCode::OK,
            headers,
            body: Bytes::from(body),
        }
    }

    fn json_body(rows: usize) -> Vec<u8> {
        (0..rows)
            .map(|i| format!("{{\"id\":{i},\"name\":\"user {i}\"}},"))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn text_is_compressed_with_the_preferred_coding_and_decodes_back() {
        let original = json_body(500);
        for (accept, coding) in [("gzip", Coding::Gzip), ("br, gzip", Coding::Gzip)] {
            let mut r = response(Some("application/json"), original.clone());
            assert_eq!(compress_response(&mut r, Some(accept)), Some(coding));
            assert_eq!(r.headers[CONTENT_ENCODING], coding.token());
            assert_eq!(r.headers[CONTENT_LENGTH], r.body.len().to_string().as_str());
            assert_eq!(r.headers[VARY], "Accept-Encoding");
            assert_eq!(r.headers[ETAG], "W/\"v1\"");
            assert!(r.body.len() * 4 < original.len());
            let mut decoded = Vec::new();
            match coding {
                Coding::Gzip => {
                    flate2::read::GzDecoder::new(&r.body[..])
                        .read_to_end(&mut decoded)
                        .unwrap();
                }
            }
            assert_eq!(decoded, original);
        }
    }

    #[test]
    fn what_is_small_encoded_compressed_or_unknown_passes_as_it_is() {
        let cases: Vec<ResponseParts> = vec![
            response(Some("text/plain"), vec![b'a'; 500]),
            response(Some("image/png"), json_body(500)),
            response(Some("video/mp4"), json_body(500)),
            response(Some("application/zip"), json_body(500)),
            response(None, json_body(500)),
            {
                let mut r = response(Some("text/html"), json_body(500));
                r.headers
                    .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                r
            },
            {
                let mut r = response(Some("text/html"), json_body(500));
                r.headers.insert(
                    CACHE_CONTROL,
                    HeaderValue::from_static("public, no-transform"),
                );
                r
            },
        ];
        for mut r in cases {
            let before = r.body.clone();
            assert_eq!(
                compress_response(&mut r, Some("br, gzip")),
                None,
                "{:?}",
                r.headers
            );
            assert_eq!(r.body, before);
        }
        // No Accept-Encoding, or nothing acceptable: as it is.
        let mut r = response(Some("text/html"), json_body(500));
        assert_eq!(compress_response(&mut r, None), None);
        assert_eq!(compress_response(&mut r, Some("identity")), None);
        // SVG is text.
        let mut r = response(Some("image/svg+xml"), json_body(500));
        assert_eq!(compress_response(&mut r, Some("gzip")), Some(Coding::Gzip));
    }

    #[test]
    fn a_body_compression_would_not_shrink_is_left_alone() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut r = response(Some("text/plain"), noise.clone());
        assert_eq!(compress_response(&mut r, Some("gzip")), None);
        assert_eq!(r.body, noise);
    }
}
