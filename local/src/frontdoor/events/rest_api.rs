//! `rest-api`: an API Gateway REST API with a Lambda proxy integration.
//!
//! * The event: header names as the client sent them (`headers` the last
//!   value, `multiValueHeaders` all), decoded query values the same two
//!   ways, the `{proxy+}` resource on stage `prod` (a route of `up` sets
//!   its own resource, stage and path variables; `path` then leaves the
//!   stage out and `requestContext.path` keeps it).
//! * The result: `headers` and `multiValueHeaders` merged, the
//!   `multiValueHeaders` values winning for a name in both.
//! * Streaming (the `STREAM` response transfer mode): the JSON prelude must
//!   come within the first 16 KB.
//! * Its answers (AWS documentation; local/FRONTDOOR.md quotes it): a
//!   function error or a malformed result is `502 {"message": "Internal
//!   server error"}` ("Handling Lambda errors with an API Gateway API";
//!   set-up-lambda-proxy-integrations.html: "If the function output is of a
//!   different format, API Gateway returns a 502"). The integration times
//!   out after 29 s by default (API Gateway quotas) with `504 {"message":
//!   "Endpoint request timed out"}`. A body over 10 MB gets API Gateway's
//!   plain-text 413, an event Lambda refuses `413 {"message": "Request Too
//!   Long"}` (as observed, koki-develop/lgtm-generator#10); a request line
//!   or header block past its limits gets a plain-text 414 or 431.
//!
//! Pure: it must not do I/O.

use super::parts::{
    body_fields, execute_api_domain, grouped, grouped_query, last_map, list_map, lower_headers,
    user_agent, TextRule, API_ID,
};
use super::result::{read_prelude, PreludeError, REST_PRELUDE_LIMIT};
use super::route::{api_context, pairs, RouteFacts};
use super::{
    EventContext, HeaderFields, HttpRequest, HttpResponse, ReadStreamHead, ResponseHead,
    ResultShape, Unit,
};
use crate::frontdoor::answers::{json, text, Failure};
use crate::frontdoor::head::Measure;
use crate::limits::Limit;
use crate::util::{self, UtcTime};
use serde_json::{json, Value};
use std::time::Duration;

/// The REST API source.
pub(super) struct RestApi;

/// The REST event, shared with HTTP API payload 1.0 (the same shape).
pub(super) fn rest_event(req: &HttpRequest, ctx: &EventContext) -> Value {
    let time = UtcTime::from_epoch_millis(ctx.time_ms);
    let (body, b64) = body_fields(req, TextRule::ApiGateway);
    let query = grouped_query(req, true);
    let (q, mq) = if query.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (last_map(&query), list_map(&query))
    };
    let as_sent = headers_as_sent(req, ctx);
    let stage = "prod";
    json!({
        "resource": "/{proxy+}",
        "path": req.path,
        "httpMethod": req.method,
        "headers": last_map(&as_sent),
        "multiValueHeaders": list_map(&as_sent),
        "queryStringParameters": q,
        "multiValueQueryStringParameters": mq,
        "pathParameters": { "proxy": req.path.trim_start_matches('/') },
        "stageVariables": Value::Null,
        "requestContext": {
            "accountId": ctx.account_id,
            "apiId": API_ID,
            "domainName": execute_api_domain(&ctx.region),
            "domainPrefix": API_ID,
            "extendedRequestId": util::random_hex(16),
            "httpMethod": req.method,
            "identity": {
                "accessKey": Value::Null,
                "accountId": Value::Null,
                "caller": Value::Null,
                "cognitoAuthenticationProvider": Value::Null,
                "cognitoAuthenticationType": Value::Null,
                "cognitoIdentityId": Value::Null,
                "cognitoIdentityPoolId": Value::Null,
                "principalOrgId": Value::Null,
                "sourceIp": req.source_ip,
                "user": Value::Null,
                "userAgent": user_agent(req),
                "userArn": Value::Null,
            },
            "path": format!("/{stage}{}", req.path),
            "protocol": "HTTP/1.1",
            "requestId": ctx.request_id,
            "requestTime": time.clf(),
            "requestTimeEpoch": ctx.time_ms,
            "resourceId": "proxy0",
            "resourcePath": "/{proxy+}",
            "stage": stage,
        },
        "body": body,
        "isBase64Encoded": b64,
    })
}

/// REST APIs keep header names as the client sent them; what API Gateway
/// adds goes in under its own names.
fn headers_as_sent(req: &HttpRequest, ctx: &EventContext) -> super::parts::Grouped {
    let headers = lower_headers(req, ctx, true);
    let mut as_sent = grouped(&req.headers);
    for (k, v) in &headers {
        if k.starts_with("x-forwarded-") || k == "x-amzn-trace-id" {
            let name = match k.as_str() {
                "x-forwarded-for" => "X-Forwarded-For",
                "x-forwarded-proto" => "X-Forwarded-Proto",
                "x-forwarded-port" => "X-Forwarded-Port",
                _ => "X-Amzn-Trace-Id",
            };
            as_sent.retain(|(ak, _)| !ak.eq_ignore_ascii_case(k));
            as_sent.push((name.to_string(), v.clone()));
        }
    }
    as_sent
}

/// The REST event on a route: its resource, stage, variables and path
/// variables (`path` without the stage, `requestContext.path` with it).
/// HTTP API payload 1.0 builds on it (`stage_in_path`: false).
pub(super) fn routed_rest_event(
    req: &HttpRequest,
    ctx: &EventContext,
    facts: &RouteFacts,
    stage_in_path: bool,
) -> Value {
    let mut inner = req.clone();
    if stage_in_path {
        inner.path = facts.path_in_stage.clone();
    }
    let mut e = rest_event(&inner, ctx);
    api_context(&mut e, facts, &ctx.region);
    e["resource"] = Value::String(facts.resource.clone());
    e["requestContext"]["resourcePath"] = Value::String(facts.resource.clone());
    e["requestContext"]["path"] = Value::String(req.path.clone());
    e["pathParameters"] = pairs(&facts.path_parameters);
    e["stageVariables"] = pairs(&facts.stage_variables);
    e
}

/// A streamed REST response's head: its prelude is required, within the
/// first 16 KB.
fn rest_stream_head(
    prelude: Option<&[u8]>,
    _content_type: Option<&str>,
    head: bool,
) -> Result<ResponseHead, PreludeError> {
    match prelude {
        None => Err(PreludeError::Missing),
        Some(p) if p.len() > REST_PRELUDE_LIMIT => Err(PreludeError::TooLong(p.len())),
        Some(p) => read_prelude(p, head),
    }
}

/// A REST API's answer for `failure`.
pub(super) fn rest_answer(failure: Failure) -> HttpResponse {
    match failure {
        Failure::Function | Failure::BadResult => json(502, "Internal server error"),
        Failure::IntegrationTimeout => json(504, "Endpoint request timed out"),
        // The Lambda API rejected the invocation (a throttle): 500, not 502
        // ("Handling Lambda errors with an API Gateway API").
        Failure::Throttled => json(500, "Internal server error"),
        // As observed when Lambda refuses the event (koki-develop/lgtm-generator#10).
        Failure::RequestTooLarge => {
            let mut r = json(413, "Request Too Long");
            r.headers
                .push(("x-amzn-errortype".into(), "BadRequestException".into()));
            r
        }
    }
}

impl Unit for RestApi {
    fn name(&self) -> &'static str {
        "rest-api"
    }

    fn title(&self) -> &'static str {
        "a REST API"
    }

    fn event(&self, req: &HttpRequest, ctx: &EventContext) -> Value {
        rest_event(req, ctx)
    }

    fn routed(&self, req: &HttpRequest, ctx: &EventContext, facts: &RouteFacts) -> Value {
        routed_rest_event(req, ctx, facts, true)
    }

    fn result_shape(&self) -> ResultShape {
        ResultShape {
            fields: HeaderFields::Merged,
            payload_v2: false,
        }
    }

    fn stream_head(&self) -> Option<ReadStreamHead> {
        Some(rest_stream_head)
    }

    fn answer(&self, failure: Failure) -> HttpResponse {
        rest_answer(failure)
    }

    fn over_limit(&self, limit: Limit) -> HttpResponse {
        let bytes = limit.max();
        match limit {
            Limit::ApiGatewayBody => {
                text(413, format!("HTTP content length exceeded {bytes} bytes."))
            }
            Limit::RestApiHeaders => {
                text(431, format!("HTTP header is larger than {bytes} bytes."))
            }
            Limit::RestApiRequestLine => {
                text(414, format!("An HTTP line is larger than {bytes} bytes."))
            }
            _ => rest_answer(Failure::RequestTooLarge),
        }
    }

    fn integration_timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(29))
    }

    fn head_limits(&self) -> &'static [(Limit, Measure)] {
        &[
            (Limit::RestApiRequestLine, Measure::RequestLine),
            (Limit::RestApiHeaders, Measure::Block),
        ]
    }

    fn request_limit(&self) -> Limit {
        Limit::ApiGatewayBody
    }
}
