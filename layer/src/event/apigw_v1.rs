//! API Gateway REST API proxy integration events, and HTTP API payload 1.0
//! (the same shape with `"version": "1.0"`).
//!
//! Request: `httpMethod`, `path`, `multiValueHeaders`/`headers`,
//! `multiValueQueryStringParameters`/`queryStringParameters` (decoded values),
//! `body`, `isBase64Encoded`. The multi-value maps hold every value, so they
//! are preferred; the single-value maps fill in names they lack.
//! Result: `statusCode`, `multiValueHeaders` (every value), `body`,
//! `isBase64Encoded` (set-up-lambda-proxy-integrations.html, output format).

use super::result::{HttpResult, ResponseParts};
use super::{proxy_request, HttpRequestParts, QueryValues, RawEvent};
use crate::body::encode_result_body;

pub(super) fn request(event: &RawEvent<'_>) -> Result<HttpRequestParts, String> {
    proxy_request(event, QueryValues::Decoded)
}

pub(super) fn result(response: ResponseParts) -> HttpResult {
    let body = encode_result_body(&response.headers, &response.body);
    HttpResult::multi_value(&response, body)
}
