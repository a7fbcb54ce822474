//! API Gateway HTTP API payload 2.0 events, and Lambda Function URL events
//! (the same schema on a `lambda-url` domain).
//!
//! Request: `requestContext.http.method`, `rawPath`, `rawQueryString` (kept
//! byte for byte), `headers` (repeated headers already comma-joined by API
//! Gateway), `cookies` (one `Cookie` header, `a=b; c=d`), `body`,
//! `isBase64Encoded`.
//! Result: `statusCode`, `headers` (repeated values comma-joined), `cookies`
//! (every `Set-Cookie`), `body`, `isBase64Encoded`
//! (http-api-develop-integrations-lambda.html; urls-invocation.html).

use bytes::Bytes;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};

use super::result::{grouped_headers, HttpResult, ResponseParts, SingleValueHeaders};
use super::{
    body_from, headers_from, method_from, non_empty, required, ContextProbe, HttpRequestParts,
    RawEvent, Refusal,
};
use crate::body::encode_result_body;
use crate::uri::{encode_path, encode_raw_query, query_from_decoded};

pub(super) fn request(
    event: &RawEvent<'_>,
    context: &ContextProbe<'_>,
) -> Result<HttpRequestParts, Refusal> {
    let method = method_from(context.http_method(), "requestContext.http.method")?;
    let path = required(event.raw_path.as_ref(), "rawPath")?;
    let query = match (&event.raw_query_string, &event.query_string_parameters) {
        (Some(raw), _) => encode_raw_query(raw.require("rawQueryString")?).into_owned(),
        // Only hand-written events lack rawQueryString.
        (None, Some(single)) => {
            let pairs = single.require("queryStringParameters")?;
            query_from_decoded(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
        }
        (None, None) => String::new(),
    };
    let mut headers = headers_from(None, "", event.headers.as_ref(), "headers")?;
    if let Some(cookies) = &event.cookies {
        let cookies = cookies.require("cookies")?;
        if !cookies.is_empty() {
            let joined = cookies
                .iter()
                .map(|c| c.as_ref())
                .collect::<Vec<_>>()
                .join("; ");
            let value = HeaderValue::from_str(&joined).map_err(|_| {
                "`cookies` holds characters HTTP does not allow in a Cookie header".to_string()
            })?;
            headers.insert(COOKIE, value);
        }
    }
    Ok(HttpRequestParts {
        method,
        path: encode_path(path).into_owned(),
        query: non_empty(query),
        headers,
        body: body_from(
            event.body.as_ref(),
            event.is_base64_encoded,
            "isBase64Encoded",
        )?,
    })
}

/// Headers joined by name, and every `Set-Cookie` apart.
fn headers_and_cookies(headers: &HeaderMap) -> (Vec<(String, String)>, Vec<String>) {
    let mut joined = Vec::new();
    let mut cookies = Vec::new();
    for (name, values) in grouped_headers(headers) {
        if name == SET_COOKIE {
            cookies.extend(values);
        } else {
            joined.push((name.as_str().to_owned(), values.join(", ")));
        }
    }
    (joined, cookies)
}

/// The prelude of a streamed response: `{"statusCode", "headers", "cookies"}`.
pub(super) fn prelude(status: StatusCode, headers: &HeaderMap) -> Bytes {
    #[derive(serde::Serialize)]
    struct Prelude {
        #[serde(rename = "statusCode")]
        status_code: u16,
        headers: SingleValueHeaders,
        cookies: Vec<String>,
    }
    let (headers, cookies) = headers_and_cookies(headers);
    let prelude = Prelude {
        status_code: status.as_u16(),
        headers: SingleValueHeaders(headers),
        cookies,
    };
    Bytes::from(serde_json::to_vec(&prelude).unwrap_or_default())
}

pub(super) fn result(response: ResponseParts) -> HttpResult {
    let (headers, cookies) = headers_and_cookies(&response.headers);
    let body = encode_result_body(&response.headers, &response.body);
    HttpResult {
        status_code: response.status.as_u16(),
        status_description: None,
        headers: Some(SingleValueHeaders(headers)),
        multi_value_headers: None,
        cookies: (!cookies.is_empty()).then_some(cookies),
        is_base64_encoded: body.is_base64(),
        body,
    }
}
