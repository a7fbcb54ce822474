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
    match BASE64.decode(body) {
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

/// Base64 text of `bytes`, padded.
pub fn encode_base64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
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

/// A result body, as Lambda's JSON carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultBody {
    /// The body text: UTF-8 text, or base64 of the bytes.
    pub text: String,
    /// Whether `text` is base64.
    pub is_base64: bool,
}

/// Chooses text or base64 for a response body. Text needs a text media type,
/// no `content-encoding` (compressed bytes are binary) and valid UTF-8;
/// everything else is base64, so no byte is ever lost.
pub fn encode_result_body(headers: &HeaderMap, body: &[u8]) -> ResultBody {
    if body.is_empty() {
        return ResultBody {
            text: String::new(),
            is_base64: false,
        };
    }
    let texty = !headers.contains_key(CONTENT_ENCODING)
        && headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_text_media_type);
    if texty {
        if let Ok(text) = std::str::from_utf8(body) {
            return ResultBody {
                text: text.to_owned(),
                is_base64: false,
            };
        }
    }
    ResultBody {
        text: encode_base64(body),
        is_base64: true,
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
    fn result_bodies_are_text_only_when_that_loses_nothing() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert_eq!(
            encode_result_body(&headers, b"{\"a\":1}"),
            ResultBody {
                text: "{\"a\":1}".into(),
                is_base64: false
            }
        );
        // Text type but not UTF-8 (say, Latin-1): base64 keeps every byte.
        let latin1 = [b'c', b'a', b'f', 0xe9];
        let body = encode_result_body(&headers, &latin1);
        assert!(body.is_base64);
        assert_eq!(
            decode_event_body(Some(&body.text), true).unwrap(),
            &latin1[..]
        );
        // Compressed text is binary.
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        assert!(encode_result_body(&headers, b"\x1f\x8b...").is_base64);
        // No content type: binary.
        assert!(encode_result_body(&HeaderMap::new(), b"plain").is_base64);
        // Empty: empty text.
        assert!(!encode_result_body(&HeaderMap::new(), b"").is_base64);
    }
}
