//! Application Load Balancer target events.
//!
//! Request: `httpMethod`, `path`, `multiValueHeaders`/`headers`,
//! `multiValueQueryStringParameters`/`queryStringParameters`, `body`,
//! `isBase64Encoded`. ALB does not decode query parameters ("If the query
//! parameters are URL-encoded, the load balancer does not decode them"), so
//! they are passed on as they are, never encoded again.
//! Result: `statusCode`, `statusDescription` ("201 Created"), and
//! `multiValueHeaders` if and only if the event used multi-value maps, else
//! `headers` (lambda-functions.html, respond-to-load-balancer).

use super::result::{HttpResult, ResponseParts};
use super::{proxy_request, HttpRequestParts, QueryValues, RawEvent, Refusal};
use crate::body::encode_result_body;

pub(super) fn request(event: &RawEvent<'_>) -> Result<HttpRequestParts, Refusal> {
    // Query values as the client sent them: never encoded again.
    proxy_request(event, QueryValues::Encoded)
}

pub(super) fn result(response: ResponseParts, multi_value: bool) -> HttpResult {
    let status = response.status;
    let body = encode_result_body(&response.headers, &response.body);
    let mut result = if multi_value {
        HttpResult::multi_value(&response, body)
    } else {
        HttpResult::single_value(&response, body)
    };
    result.status_description = Some(format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Unknown")
    ));
    result
}
