//! VPC Lattice target events, structure V1 and V2.
//!
//! V1 request: `method`, `raw_path`, `headers` (repeated headers already
//! joined as `"a, b"`), `query_string_parameters`, `body`, `is_base64_encoded`.
//! V2 request: `method`, `path`, `headers` and `queryStringParameters` whose
//! values are lists (the AWS docs) or plain strings (older samples): both are
//! accepted, for both fields, including the snake_case query field.
//! Query values are decoded, so they are encoded once; a query inside the
//! path is raw and kept as it is.
//! Result, both versions: `statusCode`, `headers`, `body`, `isBase64Encoded`
//! (vpc-lattice lambda-functions.html, respond-to-service).

use super::result::{HttpResult, ResponseParts};
use super::{
    body_from, headers_from, method_from, non_empty, required, split_path_query, HttpRequestParts,
    HttpSource, RawEvent,
};
use crate::body::encode_result_body;
use crate::uri::{encode_path, encode_raw_query, query_from_decoded};

pub(super) fn request(
    event: &RawEvent<'_>,
    source: HttpSource,
) -> Result<HttpRequestParts, String> {
    let method = method_from(event.method.as_ref(), "method")?;
    let path = match source {
        HttpSource::LatticeV1 => required(event.raw_path_snake.as_ref(), "raw_path")?,
        _ => required(event.path.as_ref(), "path")?,
    };
    let (path, query_in_path) = split_path_query(path);
    let query = match query_in_path {
        Some(raw) => encode_raw_query(raw).into_owned(),
        None => {
            let (field, params) = match (
                &event.query_string_parameters,
                &event.query_string_parameters_snake,
            ) {
                (Some(params), _) => ("queryStringParameters", Some(params)),
                (None, params) => ("query_string_parameters", params.as_ref()),
            };
            match params {
                Some(params) => {
                    let pairs = params.require(field)?;
                    query_from_decoded(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
                }
                None => String::new(),
            }
        }
    };
    let (flag, flag_field) = match (event.is_base64_encoded, event.is_base64_encoded_snake) {
        (Some(flag), _) => (Some(flag), "isBase64Encoded"),
        (None, flag) => (flag, "is_base64_encoded"),
    };
    Ok(HttpRequestParts {
        method,
        path: encode_path(path).into_owned(),
        query: non_empty(query),
        headers: headers_from(None, "", event.headers.as_ref(), "headers")?,
        body: body_from(event.body.as_ref(), flag, flag_field)?,
    })
}

pub(super) fn result(response: ResponseParts) -> HttpResult {
    let body = encode_result_body(&response.headers, &response.body);
    HttpResult::single_value(&response, body)
}
