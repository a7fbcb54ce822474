//! `vpc-lattice-v1`: a VPC Lattice service with event structure V1
//! (`--event vpc-lattice-v1`, or its older name `lattice-v1`).
//!
//! * The event: `raw_path`, `method`, lower-case header names with repeated
//!   values joined by `, ` (Lattice is no proxy here: no `x-forwarded-*`),
//!   decoded query values, the last one for a repeated key
//!   (local/FRONTDOOR.md), `is_base64_encoded`.
//! * The result: `headers` only.
//! * Its answers (vpc-lattice lambda-functions.html, "Limitations"; the
//!   bodies are not documented): a function error is a `502`; request and
//!   response are limited to Lambda's 6 MB (`413`); a head past Lambda's
//!   1 MB gets Lambda's 431. See `vpc_lattice_v2` for the other structure.
//!
//! Pure: it must not do I/O.

use super::parts::{body_fields, grouped_query, joined_map, last_map, lower_headers, TextRule};
use super::{EventContext, HeaderFields, HttpRequest, HttpResponse, ResultShape, Unit};
use crate::frontdoor::answers::{json, lambda_head_too_large, Failure};
use crate::frontdoor::head::Measure;
use crate::limits::Limit;
use serde_json::{json, Value};

/// The VPC Lattice V1 source.
pub(super) struct LatticeV1;

/// VPC Lattice's answer for `failure` (both event structures).
pub(super) fn lattice_answer(failure: Failure) -> HttpResponse {
    match failure {
        Failure::RequestTooLarge => json(413, "Request Entity Too Large"),
        _ => json(502, "Bad Gateway"),
    }
}

/// VPC Lattice's answer to a request past `limit` (both structures).
pub(super) fn lattice_over_limit(limit: Limit) -> HttpResponse {
    match limit {
        Limit::LambdaHead => lambda_head_too_large(),
        _ => lattice_answer(Failure::RequestTooLarge),
    }
}

/// VPC Lattice's head limits: Lambda's own (both structures).
pub(super) const LATTICE_HEAD_LIMITS: &[(Limit, Measure)] =
    &[(Limit::LambdaHead, Measure::LineAndValues)];

impl Unit for LatticeV1 {
    fn name(&self) -> &'static str {
        "vpc-lattice-v1"
    }

    fn short_name(&self) -> Option<&'static str> {
        Some("lattice-v1")
    }

    fn title(&self) -> &'static str {
        "VPC Lattice"
    }

    fn event(&self, req: &HttpRequest, ctx: &EventContext) -> Value {
        let (body, b64) = body_fields(req, TextRule::Basic);
        let headers = lower_headers(req, ctx, false);
        // Values decoded, the last one for a repeated key (FRONTDOOR.md).
        let query = grouped_query(req, true);
        let mut event = json!({
            "raw_path": req.path,
            "method": req.method,
            "headers": joined_map(&headers, ", "),
            "query_string_parameters": last_map(&query),
            "is_base64_encoded": b64,
        });
        if !body.is_null() {
            event["body"] = body;
        }
        event
    }

    fn result_shape(&self) -> ResultShape {
        ResultShape {
            fields: HeaderFields::Single,
            payload_v2: false,
        }
    }

    fn answer(&self, failure: Failure) -> HttpResponse {
        lattice_answer(failure)
    }

    fn over_limit(&self, limit: Limit) -> HttpResponse {
        lattice_over_limit(limit)
    }

    fn head_limits(&self) -> &'static [(Limit, Measure)] {
        LATTICE_HEAD_LIMITS
    }
}
