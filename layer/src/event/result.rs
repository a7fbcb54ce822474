//! The JSON results Lambda expects back, and the pieces every source shares:
//! header grouping, hop-by-hop filtering and the buffered size limit.
//!
//! Owns: [`HttpResult`] (what is serialized to the Runtime API) and
//! [`ResponseParts`] (what the app answered, fully read).
//! Must not: choose a shape per source (the source modules do).

use bytes::Bytes;
use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::body::escape::write_string;
use crate::body::ResultBody;
use crate::error::{PortsideError, BUFFERED_RESPONSE_LIMIT};

/// The app's response, fully read.
#[derive(Debug, Clone)]
pub struct ResponseParts {
    /// Status.
    pub status: StatusCode,
    /// Headers, every value.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Bytes,
}

/// The union of the HTTP result fields; each source fills the ones its
/// documentation lists and leaves the others out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpResult {
    /// HTTP status.
    pub status_code: u16,
    /// ALB only: `"200 OK"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_description: Option<String>,
    /// One value per name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<SingleValueHeaders>,
    /// Every value of every name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_value_headers: Option<MultiValueHeaders>,
    /// Payload 2.0: each `Set-Cookie` value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookies: Option<Vec<String>>,
    /// Whether `body` is base64.
    pub is_base64_encoded: bool,
    /// Text, or bytes carried as base64 (then `is_base64_encoded`).
    pub body: ResultBody,
}

impl HttpResult {
    /// A result with every header value in `multiValueHeaders`.
    pub fn multi_value(response: &ResponseParts, body: ResultBody) -> HttpResult {
        HttpResult {
            status_code: response.status.as_u16(),
            status_description: None,
            headers: None,
            multi_value_headers: Some(multi_value_headers(&response.headers)),
            cookies: None,
            is_base64_encoded: body.is_base64(),
            body,
        }
    }

    /// A result with single-value `headers` (each cookie under its own
    /// spelling of `set-cookie`).
    pub fn single_value(response: &ResponseParts, body: ResultBody) -> HttpResult {
        HttpResult {
            status_code: response.status.as_u16(),
            status_description: None,
            headers: Some(single_value_headers_with_cookie_spellings(
                &response.headers,
            )),
            multi_value_headers: None,
            cookies: None,
            is_base64_encoded: body.is_base64(),
            body,
        }
    }
}

/// Headers as a JSON object of strings, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SingleValueHeaders(pub Vec<(String, String)>);

/// Headers as a JSON object of string lists, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultiValueHeaders(pub Vec<(String, Vec<String>)>);

impl Serialize for SingleValueHeaders {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl Serialize for MultiValueHeaders {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, values) in &self.0 {
            map.serialize_entry(name, values)?;
        }
        map.end()
    }
}

/// A header value as JSON text. Values are nearly always ASCII or UTF-8;
/// other bytes (obsolete Latin-1 text) map to the code points of the same
/// number rather than being dropped.
pub fn header_text(value: &HeaderValue) -> String {
    match std::str::from_utf8(value.as_bytes()) {
        Ok(text) => text.to_owned(),
        Err(_) => value.as_bytes().iter().map(|&b| b as char).collect(),
    }
}

/// Every response header except hop-by-hop ones, grouped by name in the
/// order names first appear.
pub fn grouped_headers(headers: &HeaderMap) -> Vec<(&HeaderName, Vec<String>)> {
    headers
        .keys()
        .filter(|name| !crate::header::is_hop_by_hop(name))
        .map(|name| {
            (
                name,
                headers.get_all(name).iter().map(header_text).collect(),
            )
        })
        .collect()
}

/// Headers for a multi-value result: every value of every name.
pub fn multi_value_headers(headers: &HeaderMap) -> MultiValueHeaders {
    MultiValueHeaders(
        grouped_headers(headers)
            .into_iter()
            .map(|(name, values)| (name.as_str().to_owned(), values))
            .collect(),
    )
}

/// Headers for a single-value result, where `Set-Cookie` is not moved to a
/// `cookies` list: repeated values are comma-joined (RFC 9110 5.3), except
/// `Set-Cookie`, whose values cannot be joined. Each cookie keeps its own
/// header by spelling the name in a different letter case (header names are
/// case-insensitive; JSON keys are not), so no cookie is dropped.
pub fn single_value_headers_with_cookie_spellings(headers: &HeaderMap) -> SingleValueHeaders {
    let mut out = Vec::new();
    for (name, values) in grouped_headers(headers) {
        if name == SET_COOKIE {
            for (i, value) in values.into_iter().enumerate() {
                out.push((letter_case_variant("set-cookie", i), value));
            }
        } else {
            out.push((name.as_str().to_owned(), values.join(", ")));
        }
    }
    SingleValueHeaders(out)
}

/// The `n`th spelling of `name` by letter case: bit `k` of `n` upper-cases
/// the `k`th letter. `n = 0` is the name itself.
fn letter_case_variant(name: &str, n: usize) -> String {
    let mut letter = 0;
    name.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                let upper = n >> letter & 1 == 1;
                letter += 1;
                if upper {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            } else {
                c
            }
        })
        .collect()
}

/// The result as JSON, or an error when it exceeds Lambda's 6 MB buffered
/// limit (instead of letting Lambda reject it, or truncating the body).
///
/// Written directly, exactly as serde_json writes [`HttpResult`]'s
/// `Serialize` (a test holds it to that): the body is encoded straight into
/// the output, with no copy of it made first, and every string goes through
/// the one-pass escaper rather than serde_json's byte-at-a-time writer with
/// a call per token.
pub fn to_json(result: &HttpResult) -> Result<Bytes, PortsideError> {
    let raw_len = match &result.body {
        ResultBody::Text(b) | ResultBody::Binary(b) => b.len(),
    };
    let mut json = Vec::with_capacity(raw_len / 3 * 4 + 1024);
    json.extend_from_slice(b"{\"statusCode\":");
    push_decimal(&mut json, u64::from(result.status_code));
    if let Some(description) = &result.status_description {
        json.extend_from_slice(b",\"statusDescription\":");
        write_string(&mut json, description);
    }
    if let Some(SingleValueHeaders(headers)) = &result.headers {
        json.extend_from_slice(b",\"headers\":{");
        for (i, (name, value)) in headers.iter().enumerate() {
            if i > 0 {
                json.push(b',');
            }
            write_string(&mut json, name);
            json.push(b':');
            write_string(&mut json, value);
        }
        json.push(b'}');
    }
    if let Some(MultiValueHeaders(headers)) = &result.multi_value_headers {
        json.extend_from_slice(b",\"multiValueHeaders\":{");
        for (i, (name, values)) in headers.iter().enumerate() {
            if i > 0 {
                json.push(b',');
            }
            write_string(&mut json, name);
            json.push(b':');
            write_list(&mut json, values);
        }
        json.push(b'}');
    }
    if let Some(cookies) = &result.cookies {
        json.extend_from_slice(b",\"cookies\":");
        write_list(&mut json, cookies);
    }
    json.extend_from_slice(if result.is_base64_encoded {
        b",\"isBase64Encoded\":true,\"body\":"
    } else {
        b",\"isBase64Encoded\":false,\"body\":"
    });
    result.body.write_json_string(&mut json);
    json.push(b'}');
    check_size(json.len())?;
    Ok(Bytes::from(json))
}

fn write_list(json: &mut Vec<u8>, values: &[String]) {
    json.push(b'[');
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            json.push(b',');
        }
        write_string(json, value);
    }
    json.push(b']');
}

/// Appends `n` in decimal.
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// Fails a result of `size` bytes over Lambda's buffered limit.
pub fn check_size(size: usize) -> Result<(), PortsideError> {
    if size > BUFFERED_RESPONSE_LIMIT {
        return Err(PortsideError::ResponseTooLarge { size });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_spellings_are_distinct_and_case_insensitively_equal() {
        // Nine letters: 512 spellings, far more cookies than any response sets.
        let spellings: Vec<String> = (0..512)
            .map(|n| letter_case_variant("set-cookie", n))
            .collect();
        assert_eq!(spellings[0], "set-cookie");
        assert_eq!(spellings[1], "Set-cookie");
        let unique: std::collections::HashSet<&String> = spellings.iter().collect();
        assert_eq!(unique.len(), 512);
        assert!(spellings
            .iter()
            .all(|s| s.eq_ignore_ascii_case("set-cookie")));
    }

    #[test]
    fn results_over_the_limit_are_errors() {
        let mut result = HttpResult {
            status_code: 200,
            status_description: None,
            headers: None,
            multi_value_headers: None,
            cookies: None,
            body: ResultBody::Text(Bytes::from("x\"".repeat(BUFFERED_RESPONSE_LIMIT / 3))),
            is_base64_encoded: false,
        };
        assert_eq!(
            to_json(&result).unwrap_err().error_type(),
            "Portside.ResponseTooLarge"
        );
        result.body =
            ResultBody::Text(Bytes::from("x\"".repeat(BUFFERED_RESPONSE_LIMIT / 3 - 200)));
        let json = to_json(&result).unwrap();
        // The direct writer gives exactly what serde_json would.
        assert_eq!(json, serde_json::to_vec(&result).unwrap());
        result.body = ResultBody::Binary(Bytes::from(vec![0xffu8; 1000]));
        result.is_base64_encoded = true;
        assert_eq!(
            to_json(&result).unwrap(),
            serde_json::to_vec(&result).unwrap()
        );
    }

    #[test]
    fn hop_by_hop_headers_are_dropped() {
        let mut headers = HeaderMap::new();
        headers.append("connection", HeaderValue::from_static("keep-alive"));
        headers.append("transfer-encoding", HeaderValue::from_static("chunked"));
        headers.append("content-type", HeaderValue::from_static("text/plain"));
        let names: Vec<&str> = grouped_headers(&headers)
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(names, ["content-type"]);
    }

    #[test]
    fn non_utf8_header_bytes_are_kept_as_latin1() {
        let value = HeaderValue::from_bytes(b"caf\xe9").unwrap();
        assert_eq!(header_text(&value), "café");
    }
}
