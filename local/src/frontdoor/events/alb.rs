//! `alb` and `alb-multi-value`: an Application Load Balancer's target
//! group, without and with multi-value headers (`--event alb`, `--event
//! alb-multi-value` or its older name `alb-multi`). One file for both: the
//! event and the result are one shape, read through `headers` or
//! `multiValueHeaders` by the target group's setting.
//!
//! * The event: lower-case header names and the query as sent (ALB does
//!   not decode it: local/FRONTDOOR.md), the last value of each or all of
//!   them; the body always present (empty when there is none); a target
//!   group's ARN (a route of `up` sets its own).
//! * The result: only `headers`, or only `multiValueHeaders`.
//! * Its answers ("Lambda functions as targets", Limits; "Troubleshoot your
//!   Application Load Balancers", HTTP 400, 413, 502): a function error, a
//!   result JSON over 1 MB or response headers over 32 K are the load
//!   balancer's own `502 Bad Gateway` page; a request body over 1 MB its
//!   `413` page, a head past its limits its `400` page. It waits for Lambda
//!   as long as the function runs.
//!
//! Pure: it must not do I/O.

use super::parts::{body_fields, grouped_query, last_map, list_map, lower_headers, TextRule};
use super::route::RouteFacts;
use super::{EventContext, HeaderFields, HttpRequest, HttpResponse, ResultShape, Unit};
use crate::frontdoor::answers::{alb_page, Failure};
use crate::frontdoor::head::Measure;
use crate::limits::Limit;
use serde_json::{json, Value};

/// An ALB target group's source.
pub(super) struct Alb {
    /// Multi-value headers on.
    multi_value: bool,
}

/// A target group without multi-value headers (`alb`).
pub(super) const SINGLE_VALUE: Alb = Alb { multi_value: false };
/// A target group with multi-value headers (`alb-multi-value`).
pub(super) const MULTI_VALUE: Alb = Alb { multi_value: true };

impl Unit for Alb {
    fn name(&self) -> &'static str {
        match self.multi_value {
            false => "alb",
            true => "alb-multi-value",
        }
    }

    fn short_name(&self) -> Option<&'static str> {
        self.multi_value.then_some("alb-multi")
    }

    fn title(&self) -> &'static str {
        "an ALB"
    }

    fn event(&self, req: &HttpRequest, ctx: &EventContext) -> Value {
        let (body, b64) = body_fields(req, TextRule::Basic);
        let headers = lower_headers(req, ctx, true);
        let query = grouped_query(req, false);
        let mut event = json!({
            "requestContext": {
                "elb": {
                    "targetGroupArn": format!(
                        "arn:aws:elasticloadbalancing:{}:{}:targetgroup/portside-local/6d0ecf831eec9f09",
                        ctx.region, ctx.account_id
                    ),
                },
            },
            "httpMethod": req.method,
            "path": req.path,
            "body": if body.is_null() { Value::String(String::new()) } else { body },
            "isBase64Encoded": b64,
        });
        if self.multi_value {
            event["multiValueHeaders"] = list_map(&headers);
            event["multiValueQueryStringParameters"] = list_map(&query);
        } else {
            event["headers"] = last_map(&headers);
            event["queryStringParameters"] = last_map(&query);
        }
        event
    }

    fn routed(&self, req: &HttpRequest, ctx: &EventContext, facts: &RouteFacts) -> Value {
        let mut e = self.event(req, ctx);
        e["requestContext"]["elb"]["targetGroupArn"] =
            Value::String(facts.target_group_arn.clone());
        e
    }

    fn result_shape(&self) -> ResultShape {
        ResultShape {
            fields: match self.multi_value {
                false => HeaderFields::Single,
                true => HeaderFields::Multi,
            },
            payload_v2: false,
        }
    }

    fn answer(&self, failure: Failure) -> HttpResponse {
        match failure {
            Failure::RequestTooLarge => alb_page(413, "Request Entity Too Large"),
            _ => alb_page(502, "Bad Gateway"),
        }
    }

    fn over_limit(&self, limit: Limit) -> HttpResponse {
        match limit {
            Limit::AlbRequestLine | Limit::AlbHeaderLine | Limit::AlbHeaders => {
                alb_page(400, "Bad Request")
            }
            _ => self.answer(Failure::RequestTooLarge),
        }
    }

    fn head_limits(&self) -> &'static [(Limit, Measure)] {
        &[
            (Limit::AlbRequestLine, Measure::RequestLine),
            (Limit::AlbHeaderLine, Measure::LongestLine),
            (Limit::AlbHeaders, Measure::Block),
        ]
    }

    fn request_limit(&self) -> Limit {
        Limit::AlbBody
    }

    fn result_limit(&self) -> Option<Limit> {
        Some(Limit::AlbResult)
    }

    fn result_head_limit(&self) -> Option<Limit> {
        Some(Limit::AlbResponseHeaders)
    }
}
