//! `http-api-v2`: an API Gateway HTTP API with payload format 2.0 (`--event
//! http-api-v2`, or its older name `http-api`). Function URLs send the same
//! payload ([`payload_v2`]).
//!
//! * The event: lower-case header names, repeated values joined with
//!   commas, cookies in `cookies`, the raw path and query as sent with
//!   decoded, comma-joined `queryStringParameters`, the `$default` route
//!   and stage (a route of `up` sets its own route key, stage, variables
//!   and path variables, each only when there are some).
//! * The result: `headers`, `cookies` as `Set-Cookie` lines; valid JSON
//!   without a `statusCode` is a 200 JSON body.
//! * Its answers (AWS documentation; local/FRONTDOOR.md quotes it): a
//!   function error is `500 {"message":"Internal Server Error"}`; the
//!   integration times out after 30 s (HTTP API quotas) with `503
//!   {"message":"Service Unavailable"}` while the function runs on; a body
//!   over 10 MB, or an event Lambda refuses, `413 {"message":"Request Entity
//!   Too Large"}`; a head past its limit API Gateway's plain-text 431.
//!
//! Pure: it must not do I/O.

use super::parts::{
    body_fields, execute_api_domain, grouped_query, joined_map, lower_headers, user_agent,
    TextRule, API_ID,
};
use super::route::{api_context, pairs, set_or_remove, RouteFacts};
use super::{EventContext, HeaderFields, HttpRequest, HttpResponse, ResultShape, Unit};
use crate::frontdoor::answers::{json, text, Failure};
use crate::frontdoor::head::Measure;
use crate::limits::Limit;
use crate::util::UtcTime;
use serde_json::{json, Value};
use std::time::Duration;

/// The HTTP API (payload 2.0) source.
pub(super) struct HttpApiV2;

/// A payload format 2.0 event: HTTP APIs (`account_id` the API's account)
/// and Function URLs (`anonymous`), on `domain`.
pub(super) fn payload_v2(
    req: &HttpRequest,
    ctx: &EventContext,
    account_id: String,
    domain: String,
) -> Value {
    let time = UtcTime::from_epoch_millis(ctx.time_ms);
    let (body, b64) = body_fields(req, TextRule::ApiGateway);
    let mut headers = lower_headers(req, ctx, true);
    let cookie_values = match headers.iter().position(|(k, _)| k == "cookie") {
        Some(i) => headers.remove(i).1,
        None => Vec::new(),
    };
    let cookies: Vec<Value> = cookie_values
        .iter()
        .flat_map(|c| {
            c.split(';')
                .map(|p| p.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty())
        .map(Value::String)
        .collect();
    let query = grouped_query(req, true);
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": req.path,
        "rawQueryString": req.query,
        "headers": joined_map(&headers, ","),
        "requestContext": {
            "accountId": account_id,
            "apiId": API_ID,
            "domainName": domain,
            "domainPrefix": API_ID,
            "http": {
                "method": req.method,
                "path": req.path,
                "protocol": "HTTP/1.1",
                "sourceIp": req.source_ip,
                "userAgent": user_agent(req),
            },
            "requestId": ctx.request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.clf(),
            "timeEpoch": ctx.time_ms,
        },
        "isBase64Encoded": b64,
    });
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = joined_map(&query, ",");
    }
    if !body.is_null() {
        event["body"] = body;
    }
    event
}

/// An HTTP API's answer for `failure` (payload 1.0 and 2.0 alike).
pub(super) fn http_api_answer(failure: Failure) -> HttpResponse {
    match failure {
        // A throttle too: API Gateway answers 500 when the Lambda API
        // rejects the invocation ("Handling Lambda errors with an API
        // Gateway API").
        Failure::Function | Failure::BadResult | Failure::Throttled => {
            json(500, "Internal Server Error")
        }
        Failure::IntegrationTimeout => json(503, "Service Unavailable"),
        Failure::RequestTooLarge => json(413, "Request Entity Too Large"),
    }
}

/// An HTTP API's answer to a request past `limit` (payload 1.0 and 2.0).
pub(super) fn http_api_over_limit(limit: Limit) -> HttpResponse {
    match limit {
        Limit::HttpApiHead => text(
            431,
            format!("HTTP header is larger than {} bytes.", limit.max()),
        ),
        _ => json(413, "Request Entity Too Large"),
    }
}

/// An HTTP API's head limits (payload 1.0 and 2.0).
pub(super) const HTTP_API_HEAD_LIMITS: &[(Limit, Measure)] =
    &[(Limit::HttpApiHead, Measure::LineAndValues)];

/// An HTTP API's default integration timeout: 30 s (HTTP API quotas).
pub(super) const HTTP_API_TIMEOUT: Duration = Duration::from_secs(30);

impl Unit for HttpApiV2 {
    fn name(&self) -> &'static str {
        "http-api-v2"
    }

    fn short_name(&self) -> Option<&'static str> {
        Some("http-api")
    }

    fn title(&self) -> &'static str {
        "an HTTP API"
    }

    fn event(&self, req: &HttpRequest, ctx: &EventContext) -> Value {
        payload_v2(
            req,
            ctx,
            ctx.account_id.clone(),
            execute_api_domain(&ctx.region),
        )
    }

    fn routed(&self, req: &HttpRequest, ctx: &EventContext, facts: &RouteFacts) -> Value {
        let mut e = self.event(req, ctx);
        api_context(&mut e, facts, &ctx.region);
        e["routeKey"] = Value::String(facts.route_key.clone());
        e["requestContext"]["routeKey"] = Value::String(facts.route_key.clone());
        set_or_remove(&mut e, "pathParameters", pairs(&facts.path_parameters));
        set_or_remove(&mut e, "stageVariables", pairs(&facts.stage_variables));
        e
    }

    fn result_shape(&self) -> ResultShape {
        ResultShape {
            fields: HeaderFields::Single,
            payload_v2: true,
        }
    }

    fn answer(&self, failure: Failure) -> HttpResponse {
        http_api_answer(failure)
    }

    fn over_limit(&self, limit: Limit) -> HttpResponse {
        http_api_over_limit(limit)
    }

    fn integration_timeout(&self) -> Option<Duration> {
        Some(HTTP_API_TIMEOUT)
    }

    fn head_limits(&self) -> &'static [(Limit, Measure)] {
        HTTP_API_HEAD_LIMITS
    }

    fn request_limit(&self) -> Limit {
        Limit::ApiGatewayBody
    }
}
