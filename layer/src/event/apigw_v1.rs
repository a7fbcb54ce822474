//! API Gateway REST API proxy integration events, and HTTP API payload 1.0
//! (the same shape with `"version": "1.0"`).
//!
//! Detection (TYPES.md step 10): `httpMethod` and `path`, with
//! `requestContext` or `resource`; `"version": "1.0"` makes it HTTP API
//! payload 1.0, no `version` a REST API.
//! Request: `httpMethod`, `path`, `multiValueHeaders`/`headers`,
//! `multiValueQueryStringParameters`/`queryStringParameters` (decoded values),
//! `body`, `isBase64Encoded`. The multi-value maps hold every value, so they
//! are preferred; the single-value maps fill in names they lack.
//! Result: `statusCode`, `multiValueHeaders` (every value), `body`,
//! `isBase64Encoded` (set-up-lambda-proxy-integrations.html, output format).
//! A REST API integration in `STREAM` transfer mode takes a streamed
//! response instead: a prelude with `statusCode` and `multiValueHeaders`, eight
//! NUL bytes, then the body as it is written (response-transfer-mode-lambda.html).
//! HTTP API payload 1.0 does not stream.
//! The client's address: `requestContext.identity.sourceIp`.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use super::parts::{proxy_request, QueryValues};
use super::result::{multi_value_headers, HttpResult, MultiValueHeaders, ResponseParts};
use super::wire::Text;
use super::{
    ContextProbe, Converted, Detected, HttpSource, PreludeWriter, RawEvent, Refusal, Source,
};
use crate::body::encode_result_body;

/// The file of REST APIs and HTTP API payload 1.0.
pub(super) struct ApiGatewayV1;

/// TYPES.md step 10.
pub(super) fn detect<'a>(event: &RawEvent<'a>, _: &ContextProbe<'a>) -> Option<Detected<'a>> {
    if event.http_method.is_none()
        || event.path.is_none()
        || (event.request_context.is_none() && event.resource.is_none())
    {
        return None;
    }
    Some(Detected::Http(
        match event.version.as_ref().and_then(Text::as_str) {
            Some("1.0") => HttpSource::HttpApiV1,
            _ => HttpSource::RestApi,
        },
    ))
}

impl Source for ApiGatewayV1 {
    fn name(&self, source: HttpSource) -> &'static str {
        match source {
            HttpSource::HttpApiV1 => "http-api-v1",
            _ => "rest-api",
        }
    }

    fn request(
        &self,
        event: &RawEvent<'_>,
        _: &ContextProbe<'_>,
        _: HttpSource,
    ) -> Result<Converted, Refusal> {
        proxy_request(event, QueryValues::Decoded).map(Converted::from)
    }

    fn result(&self, response: ResponseParts, _: HttpSource) -> HttpResult {
        let body = encode_result_body(&response.headers, &response.body);
        HttpResult::multi_value(&response, body)
    }

    fn prelude(&self, source: HttpSource) -> Option<PreludeWriter> {
        (source == HttpSource::RestApi).then_some(prelude as PreludeWriter)
    }

    fn client_ip(&self, context: &ContextProbe<'_>) -> Option<String> {
        context.identity_source_ip()
    }
}

/// The prelude of a streamed REST API response: `{"statusCode",
/// "multiValueHeaders"}`, with every value of every header, `Set-Cookie`
/// included.
fn prelude(status: StatusCode, headers: &HeaderMap) -> Bytes {
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
