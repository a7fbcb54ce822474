//! API Gateway HTTP API payload 2.0 events, and Lambda Function URL events
//! (the same schema on a `lambda-url` domain).
//!
//! Detection (TYPES.md step 9): `"version": "2.0"`, `rawPath` and
//! `requestContext.http.method`; a `requestContext.domainName` of
//! `<id>.lambda-url.<region>.on.aws` makes it a Function URL, anything else
//! an HTTP API.
//! Request: `requestContext.http.method`, `rawPath`, `rawQueryString` (kept
//! byte for byte), `headers` (repeated headers already comma-joined by API
//! Gateway), `cookies` (one `Cookie` header, `a=b; c=d`), `body`,
//! `isBase64Encoded`.
//! Result: `statusCode`, `headers` (repeated values comma-joined), `cookies`
//! (every `Set-Cookie`), `body`, `isBase64Encoded`
//! (http-api-develop-integrations-lambda.html; urls-invocation.html).
//! A Function URL in `RESPONSE_STREAM` invoke mode takes a streamed response
//! instead: a prelude with `statusCode`, `headers` and `cookies`, as its
//! result has them, eight NUL bytes, then the body. HTTP APIs do not stream.
//! The client's address: `requestContext.http.sourceIp`.

use bytes::Bytes;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;

use super::parts::{body_from, headers_from, method_from, non_empty, required};
use super::result::{grouped_headers, HttpResult, ResponseParts, SingleValueHeaders};
use super::wire::Text;
use super::{
    address, ContextProbe, Converted, Detected, HttpRequestParts, HttpSource, PreludeWriter,
    RawEvent, Refusal, Source,
};
use crate::body::encode_result_body;
use crate::uri::{encode_path, encode_raw_query, query_from_decoded};

/// The file of HTTP API payload 2.0 and Function URLs.
pub(super) struct ApiGatewayV2;

/// `requestContext.http`.
#[derive(Deserialize, Default)]
pub(super) struct HttpProbe<'a> {
    #[serde(borrow)]
    method: Option<Text<'a>>,
    #[serde(rename = "sourceIp", borrow)]
    source_ip: Option<Text<'a>>,
}

/// `requestContext.http.method`.
fn http_method<'c, 'a>(context: &'c ContextProbe<'a>) -> Option<&'c Text<'a>> {
    context.http.as_ref()?.get()?.method.as_ref()
}

/// Whether a domain name is a Lambda Function URL's (`<id>.lambda-url.<region>.on.aws`).
fn is_function_url_domain(domain: &str) -> bool {
    domain.contains(".lambda-url.")
}

/// TYPES.md step 9.
pub(super) fn detect<'a>(event: &RawEvent<'a>, context: &ContextProbe<'a>) -> Option<Detected<'a>> {
    let version = event.version.as_ref().and_then(Text::as_str);
    if version != Some("2.0") || event.raw_path.is_none() || http_method(context).is_none() {
        return None;
    }
    Some(Detected::Http(match context.domain_name() {
        Some(domain) if is_function_url_domain(domain) => HttpSource::FunctionUrl,
        _ => HttpSource::HttpApiV2,
    }))
}

impl Source for ApiGatewayV2 {
    fn name(&self, source: HttpSource) -> &'static str {
        match source {
            HttpSource::FunctionUrl => "function-url",
            _ => "http-api-v2",
        }
    }

    fn request(
        &self,
        event: &RawEvent<'_>,
        context: &ContextProbe<'_>,
        _: HttpSource,
    ) -> Result<Converted, Refusal> {
        request(event, context).map(Converted::from)
    }

    fn result(&self, response: ResponseParts, _: HttpSource) -> HttpResult {
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

    fn prelude(&self, source: HttpSource) -> Option<PreludeWriter> {
        (source == HttpSource::FunctionUrl).then_some(prelude as PreludeWriter)
    }

    fn client_ip(&self, context: &ContextProbe<'_>) -> Option<String> {
        address(context.http.as_ref()?.get()?.source_ip.as_ref())
    }
}

fn request(event: &RawEvent<'_>, context: &ContextProbe<'_>) -> Result<HttpRequestParts, Refusal> {
    let method = method_from(http_method(context), "requestContext.http.method")?;
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

/// The prelude of a streamed Function URL response: `{"statusCode",
/// "headers", "cookies"}`, as its payload 2.0 result has them.
fn prelude(status: StatusCode, headers: &HeaderMap) -> Bytes {
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
