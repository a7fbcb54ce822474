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
use super::{
    body_from, headers_from, method_from, non_empty, query_from_maps, required, split_path_query,
    HttpRequestParts, QueryValues, RawEvent,
};
use crate::body::encode_result_body;
use crate::uri::{encode_path, encode_raw_query};

pub(super) fn request(event: &RawEvent<'_>) -> Result<HttpRequestParts, String> {
    let method = method_from(event.http_method.as_ref(), "httpMethod")?;
    let (path, query_in_path) = split_path_query(required(event.path.as_ref(), "path")?);
    // ALB passes query values on as the client sent them: never encode again.
    let query = match query_from_maps(event, QueryValues::Encoded)? {
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
