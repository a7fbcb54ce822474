//! `function-url`: a Lambda Function URL (payload format 2.0, on a
//! `lambda-url` domain, `accountId` `anonymous`).
//!
//! * The event and the result: as an HTTP API's payload 2.0
//!   (`http_api_v2`); a route of `up` sets the URL's own id.
//! * Streaming (`RESPONSE_STREAM` invoke mode): without a prelude the
//!   response is 200 with the runtime's content type
//!   (`application/octet-stream` when it named none).
//! * Its answers (urls-invocation.html; local/FRONTDOOR.md): a function
//!   error or timeout is a `502` (its body is not documented: a small JSON
//!   message); the function's own timeout is the only bound; an event
//!   Lambda refuses `413`; a head past Lambda's 1 MB gets Lambda's 431.
//!
//! Pure: it must not do I/O.

use super::http_api_v2::payload_v2;
use super::parts::API_ID;
use super::result::{read_prelude, PreludeError};
use super::route::RouteFacts;
use super::{
    EventContext, HeaderFields, HttpRequest, HttpResponse, ReadStreamHead, ResponseHead,
    ResultShape, Unit,
};
use crate::frontdoor::answers::{json, lambda_head_too_large, Failure};
use crate::frontdoor::head::Measure;
use crate::limits::Limit;
use serde_json::Value;

/// The Function URL source.
pub(super) struct FunctionUrl;

/// A streamed Function URL response's head: the prelude if there is one,
/// else 200 with the runtime's content type.
fn url_stream_head(
    prelude: Option<&[u8]>,
    content_type: Option<&str>,
    head: bool,
) -> Result<ResponseHead, PreludeError> {
    match prelude {
        Some(p) => read_prelude(p, head),
        None => {
            let ct = content_type.unwrap_or("application/octet-stream");
            Ok(ResponseHead {
                status: 200,
                headers: vec![("content-type".into(), ct.into())],
            })
        }
    }
}

impl Unit for FunctionUrl {
    fn name(&self) -> &'static str {
        "function-url"
    }

    fn title(&self) -> &'static str {
        "a Function URL"
    }

    fn event(&self, req: &HttpRequest, ctx: &EventContext) -> Value {
        let domain = format!("{API_ID}.lambda-url.{}.on.aws", ctx.region);
        payload_v2(req, ctx, "anonymous".to_string(), domain)
    }

    fn routed(&self, req: &HttpRequest, ctx: &EventContext, facts: &RouteFacts) -> Value {
        let mut e = self.event(req, ctx);
        let domain = format!("{}.lambda-url.{}.on.aws", facts.api_id, ctx.region);
        e["requestContext"]["apiId"] = Value::String(facts.api_id.clone());
        e["requestContext"]["domainName"] = Value::String(domain);
        e["requestContext"]["domainPrefix"] = Value::String(facts.api_id.clone());
        e
    }

    fn result_shape(&self) -> ResultShape {
        ResultShape {
            fields: HeaderFields::Single,
            payload_v2: true,
        }
    }

    fn stream_head(&self) -> Option<ReadStreamHead> {
        Some(url_stream_head)
    }

    fn answer(&self, failure: Failure) -> HttpResponse {
        match failure {
            Failure::RequestTooLarge => json(413, "Request Entity Too Large"),
            _ => json(502, "Internal Server Error"),
        }
    }

    fn over_limit(&self, limit: Limit) -> HttpResponse {
        match limit {
            Limit::LambdaHead => lambda_head_too_large(),
            _ => self.answer(Failure::RequestTooLarge),
        }
    }

    fn head_limits(&self) -> &'static [(Limit, Measure)] {
        &[(Limit::LambdaHead, Measure::LineAndValues)]
    }
}
