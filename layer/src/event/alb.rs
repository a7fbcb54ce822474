//! Application Load Balancer target events.
//!
//! Detection (TYPES.md step 5): `requestContext.elb.targetGroupArn`; the
//! event uses multi-value maps (`multiValueHeaders` or
//! `multiValueQueryStringParameters`) when the target group has multi-value
//! headers on.
//! Request: `httpMethod`, `path`, `multiValueHeaders`/`headers`,
//! `multiValueQueryStringParameters`/`queryStringParameters`, `body`,
//! `isBase64Encoded`. ALB does not decode query parameters ("If the query
//! parameters are URL-encoded, the load balancer does not decode them"), so
//! they are passed on as they are, never encoded again.
//! Result: `statusCode`, `statusDescription` ("201 Created"), and
//! `multiValueHeaders` if and only if the event used multi-value maps, else
//! `headers` (lambda-functions.html, respond-to-load-balancer).
//! The client's address is in `X-Forwarded-For` only.

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::parts::{proxy_request, QueryValues};
use super::result::{HttpResult, ResponseParts};
use super::wire::Obj;
use super::{ContextProbe, Converted, Detected, HttpSource, RawEvent, Refusal, Source};
use crate::body::encode_result_body;

/// ALB's source file.
pub(super) struct Alb;

/// `requestContext.elb`.
#[derive(Deserialize, Default)]
pub(super) struct ElbProbe {
    #[serde(rename = "targetGroupArn")]
    target_group_arn: Option<IgnoredAny>,
}

/// TYPES.md step 5.
pub(super) fn detect<'a>(event: &RawEvent<'a>, context: &ContextProbe<'a>) -> Option<Detected<'a>> {
    let elb = context.elb.as_ref().and_then(Obj::get)?;
    elb.target_group_arn.as_ref()?;
    let multi_value =
        event.multi_value_headers.is_some() || event.multi_value_query_string_parameters.is_some();
    Some(Detected::Http(HttpSource::Alb { multi_value }))
}

impl Source for Alb {
    fn name(&self, source: HttpSource) -> &'static str {
        match source {
            HttpSource::Alb { multi_value: true } => "alb-multi-value",
            _ => "alb",
        }
    }

    fn request(
        &self,
        event: &RawEvent<'_>,
        _: &ContextProbe<'_>,
        _: HttpSource,
    ) -> Result<Converted, Refusal> {
        // Query values as the client sent them: never encoded again.
        proxy_request(event, QueryValues::Encoded).map(Converted::from)
    }

    fn result(&self, response: ResponseParts, source: HttpSource) -> HttpResult {
        let multi_value = matches!(source, HttpSource::Alb { multi_value: true });
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
}
