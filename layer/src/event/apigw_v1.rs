//! API Gateway REST API proxy integration events, and HTTP API payload 1.0
//! (the same shape with `"version": "1.0"`).
//!
//! Request: `httpMethod`, `path`, `multiValueHeaders`/`headers`,
//! `multiValueQueryStringParameters`/`queryStringParameters` (decoded values),
//! `body`, `isBase64Encoded`. The multi-value maps hold every value, so they
//! are preferred; the single-value maps fill in names they lack.
//! Result: `statusCode`, `multiValueHeaders` (every value), `body`,
//! `isBase64Encoded` (set-up-lambda-proxy-integrations.html, output format).
//! A REST API integration in `STREAM` transfer mode takes a streamed
//! response instead: a prelude with `statusCode` and `multiValueHeaders`, eight
//! NUL bytes, then the body as it is written (response-transfer-mode-lambda.html).

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use super::result::{multi_value_headers, HttpResult, MultiValueHeaders, ResponseParts};
use super::{proxy_request, HttpRequestParts, QueryValues, RawEvent, Refusal};
use crate::body::encode_result_body;

pub(super) fn request(event: &RawEvent<'_>) -> Result<HttpRequestParts, Refusal> {
    proxy_request(event, QueryValues::Decoded)
}

pub(super) fn result(response: ResponseParts) -> HttpResult {
    let body = encode_result_body(&response.headers, &response.body);
    HttpResult::multi_value(&response, body)
}

/// The prelude of a streamed REST API response: `{"statusCode", "multiValueHeaders"}`.
pub(super) fn prelude(status: StatusCode, headers: &HeaderMap) -> Bytes {
    #[derive(serde::Serialize)]
    struct Prelude {
        #[serde(rename = "statusCode")]
        status_code: u16,
        #[serde(rename = "multiValueHeaders")]
        multi_value_headers: MultiValueHeaders,
    }
    let prelude = Prelude {
        status_code: status.as_u16(),
        multi_value_headers: multi_value_headers(headers),
    };
    Bytes::from(serde_json::to_vec(&prelude).unwrap_or_default())
}
