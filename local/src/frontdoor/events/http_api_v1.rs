//! `http-api-v1`: an API Gateway HTTP API route with payload format 1.0
//! (`portside-local up`, for an integration with
//! `payload_format_version = "1.0"`; a lone front door does not offer it).
//!
//! * The event: the REST shape (`rest_api`) with `"version": "1.0"`, header
//!   names in lower case, `resource` the route's path (`$default` for the
//!   default route), `path` the whole path as requested.
//! * The result: read as a REST API's (`headers` and `multiValueHeaders`
//!   merged).
//! * Its answers, timeout and limits are its HTTP API's (`http_api_v2`):
//!   a failure or a result it cannot read is `500 {"message":"Internal
//!   Server Error"}`.
//!
//! Pure: it must not do I/O.

use super::http_api_v2::{
    http_api_answer, http_api_over_limit, HTTP_API_HEAD_LIMITS, HTTP_API_TIMEOUT,
};
use super::parts::API_ID;
use super::rest_api::routed_rest_event;
use super::route::{lower_names, RouteFacts};
use super::{EventContext, HeaderFields, HttpRequest, HttpResponse, ResultShape, Unit};
use crate::frontdoor::answers::Failure;
use crate::frontdoor::head::Measure;
use crate::limits::Limit;
use serde_json::Value;
use std::time::Duration;

/// The HTTP API (payload 1.0) source.
pub(super) struct HttpApiV1;

impl Unit for HttpApiV1 {
    fn name(&self) -> &'static str {
        "http-api-v1"
    }

    fn title(&self) -> &'static str {
        "an HTTP API"
    }

    /// The `$default` route of an API on its `$default` stage.
    fn event(&self, req: &HttpRequest, ctx: &EventContext) -> Value {
        let facts = RouteFacts {
            api_id: API_ID.into(),
            route_key: "$default".into(),
            resource: "$default".into(),
            stage: "$default".into(),
            path_in_stage: req.path.clone(),
            ..RouteFacts::default()
        };
        self.routed(req, ctx, &facts)
    }

    fn routed(&self, req: &HttpRequest, ctx: &EventContext, facts: &RouteFacts) -> Value {
        let mut e = routed_rest_event(req, ctx, facts, false);
        e["version"] = Value::String("1.0".into());
        e["headers"] = lower_names(&e["headers"], true);
        e["multiValueHeaders"] = lower_names(&e["multiValueHeaders"], false);
        e
    }

    fn result_shape(&self) -> ResultShape {
        ResultShape {
            fields: HeaderFields::Merged,
            payload_v2: false,
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
