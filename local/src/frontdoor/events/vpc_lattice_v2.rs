//! `vpc-lattice-v2`: a VPC Lattice service with event structure V2
//! (`--event vpc-lattice-v2`, or its older name `lattice-v2`).
//!
//! * The event: `path` with the raw query, lower-case header names with
//!   their values as lists (no `x-forwarded-*`), decoded query values as
//!   lists (local/FRONTDOOR.md), the service network, service and target
//!   group ARNs, the caller's VPC, the time in microseconds.
//! * The result: `headers` only (values may be lists).
//! * Its answers and limits are VPC Lattice's (`vpc_lattice_v1`).
//!
//! Pure: it must not do I/O.

use super::parts::{body_fields, grouped_query, list_map, lower_headers, TextRule};
use super::vpc_lattice_v1::{lattice_answer, lattice_over_limit, LATTICE_HEAD_LIMITS};
use super::{EventContext, HeaderFields, HttpRequest, HttpResponse, ResultShape, Unit};
use crate::frontdoor::answers::Failure;
use crate::frontdoor::head::Measure;
use crate::limits::Limit;
use serde_json::{json, Value};

/// The VPC Lattice V2 source.
pub(super) struct LatticeV2;

impl Unit for LatticeV2 {
    fn name(&self) -> &'static str {
        "vpc-lattice-v2"
    }

    fn short_name(&self) -> Option<&'static str> {
        Some("lattice-v2")
    }

    fn title(&self) -> &'static str {
        "VPC Lattice"
    }

    fn event(&self, req: &HttpRequest, ctx: &EventContext) -> Value {
        let (body, b64) = body_fields(req, TextRule::Basic);
        let headers = lower_headers(req, ctx, false);
        // Values decoded, as lists; `path` keeps the raw query
        // (FRONTDOOR.md).
        let query = grouped_query(req, true);
        let prefix = format!("arn:aws:vpc-lattice:{}:{}", ctx.region, ctx.account_id);
        let mut event = json!({
            "version": "2.0",
            "path": if req.query.is_empty() { req.path.clone() } else { format!("{}?{}", req.path, req.query) },
            "method": req.method,
            "headers": list_map(&headers),
            "queryStringParameters": list_map(&query),
            "isBase64Encoded": b64,
            "requestContext": {
                "serviceNetworkArn": format!("{prefix}:servicenetwork/sn-0bf3f2882e9cc805a"),
                "serviceArn": format!("{prefix}:service/svc-0a40eebed65f8d69c"),
                "targetGroupArn": format!("{prefix}:targetgroup/tg-6d0ecf831eec9f09"),
                "identity": {
                    "sourceVpcArn": format!("arn:aws:ec2:{}:{}:vpc/vpc-0b8276c84697e7339", ctx.region, ctx.account_id),
                    "type": "AWS_IAM",
                },
                "region": ctx.region,
                "timeEpoch": (ctx.time_ms * 1000).to_string(),
            },
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
