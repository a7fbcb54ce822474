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
use super::{
    body_from, headers_from, method_from, non_empty, query_from_maps, required, split_path_query,
    HttpRequestParts, QueryValues, RawEvent,
};
use crate::body::encode_result_body;
use crate::uri::{encode_path, encode_raw_query};

pub(super) fn request(event: &RawEvent<'_>) -> Result<HttpRequestParts, String> {
    let method = method_from(event.http_method.as_ref(), "httpMethod")?;
    // A hand-written event may carry its query in the path; a real one never does.
    let (path, query_in_path) = split_path_query(required(event.path.as_ref(), "path")?);
    let query = match query_from_maps(event, QueryValues::Decoded)? {
        Some(query) => query,
        None => query_in_path
            .map(|q| encode_raw_query(q).into_owned())
            .unwrap_or_default(),
    };
    Ok(HttpRequestParts {
        method,
        path: encode_path(path).into_owned(),
        query: non_empty(query),
        headers: headers_from(
            event.multi_value_headers.as_ref(),
            "multiValueHeaders",
            event.headers.as_ref(),
            "headers",
        )?,
        body: body_from(
            event.body.as_ref(),
            event.is_base64_encoded,
            "isBase64Encoded",
        )?,
    })
}

pub(super) fn result(response: ResponseParts) -> HttpResult {
    let body = encode_result_body(&response.headers, &response.body);
    HttpResult::multi_value(&response, body)
}
