//! The route a request took, written into its event: an API's id and
//! domain, the route key or resource, the stage and its variables, the path
//! variables (API Gateway HTTP APIs with payload 2.0 and 1.0, REST APIs), a
//! Function URL's id, an ALB target group's ARN. The event is first built
//! by [`to_event`] exactly as for a lone front door; this only sets what a
//! route table decides.
//!
//! Shapes (API Gateway developer guide): payload 2.0 has `routeKey`,
//! `pathParameters` and `stageVariables` only when there are some, and its
//! `rawPath` is the path as requested (the stage included, for a named
//! stage); payload 1.0 is the REST shape with `"version": "1.0"`, header
//! names in lower case, `resource` the route's path (`$default` for the
//! default route); a REST event's `path` leaves the stage out and its
//! `requestContext.path` keeps it.
//!
//! Pure: it must not do I/O.

use super::{to_event, EventContext, HttpRequest, Source};
use serde_json::{Map, Value};

/// What a route adds to an event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteFacts {
    /// The API's id (or the Function URL's id).
    pub api_id: String,
    /// HTTP API route key (`GET /users/{id}`, `$default`); REST: unused.
    pub route_key: String,
    /// REST resource path, or HTTP API payload 1.0's `resource`.
    pub resource: String,
    /// The stage (`$default`, `prod`).
    pub stage: String,
    /// The stage's variables.
    pub stage_variables: Vec<(String, String)>,
    /// The path variables.
    pub path_parameters: Vec<(String, String)>,
    /// The request path without the stage (REST `path`).
    pub path_in_stage: String,
}

/// Which event a route sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// HTTP API, payload format 2.0.
    HttpApiV2,
    /// HTTP API, payload format 1.0.
    HttpApiV1,
    /// REST API, Lambda proxy.
    RestApi,
    /// Function URL.
    FunctionUrl,
    /// ALB target group, with multi-value headers or not.
    Alb {
        /// `lambda.multi_value_headers.enabled`.
        multi_value: bool,
        /// The target group's ARN.
        target_group_arn: String,
    },
}

fn pairs(list: &[(String, String)]) -> Value {
    if list.is_empty() {
        return Value::Null;
    }
    Value::Object(
        list.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn set_or_remove(event: &mut Value, key: &str, v: Value) {
    if let Some(obj) = event.as_object_mut() {
        if v.is_null() {
            obj.remove(key);
        } else {
            obj.insert(key.to_string(), v);
        }
    }
}

fn api_context(event: &mut Value, facts: &RouteFacts, region: &str, domain_kind: &str) {
    let domain = format!("{}.{domain_kind}.{region}.amazonaws.com", facts.api_id);
    let rc = &mut event["requestContext"];
    rc["apiId"] = Value::String(facts.api_id.clone());
    rc["domainName"] = Value::String(domain);
    rc["domainPrefix"] = Value::String(facts.api_id.clone());
    rc["stage"] = Value::String(facts.stage.clone());
}

/// Lower-cases the names of a map of headers, merging values of names that
/// differ only in case (payload 1.0 sends lower-case names).
fn lower_names(map: &Value, join: bool) -> Value {
    let mut out: Map<String, Value> = Map::new();
    for (k, v) in map.as_object().into_iter().flatten() {
        let k = k.to_ascii_lowercase();
        match (out.get_mut(&k), v) {
            (Some(Value::Array(have)), Value::Array(more)) => have.extend(more.iter().cloned()),
            (Some(Value::String(have)), Value::String(more)) if join => {
                *have = more.clone();
            }
            _ => {
                out.insert(k, v.clone());
            }
        }
    }
    Value::Object(out)
}

/// The event for `req` on a route.
pub fn routed_event(
    shape: &Shape,
    req: &HttpRequest,
    ctx: &EventContext,
    facts: &RouteFacts,
) -> Value {
    match shape {
        Shape::HttpApiV2 => {
            let mut e = to_event(Source::HttpApi, req, ctx);
            api_context(&mut e, facts, &ctx.region, "execute-api");
            e["routeKey"] = Value::String(facts.route_key.clone());
            e["requestContext"]["routeKey"] = Value::String(facts.route_key.clone());
            set_or_remove(&mut e, "pathParameters", pairs(&facts.path_parameters));
            set_or_remove(&mut e, "stageVariables", pairs(&facts.stage_variables));
            e
        }
        Shape::HttpApiV1 | Shape::RestApi => {
            let rest = *shape == Shape::RestApi;
            let mut inner = req.clone();
            if rest {
                inner.path = facts.path_in_stage.clone();
            }
            let mut e = to_event(Source::RestApi, &inner, ctx);
            api_context(&mut e, facts, &ctx.region, "execute-api");
            e["resource"] = Value::String(facts.resource.clone());
            e["requestContext"]["resourcePath"] = Value::String(facts.resource.clone());
            e["requestContext"]["path"] = Value::String(req.path.clone());
            e["pathParameters"] = pairs(&facts.path_parameters);
            e["stageVariables"] = pairs(&facts.stage_variables);
            if !rest {
                e["version"] = Value::String("1.0".into());
                e["headers"] = lower_names(&e["headers"], true);
                e["multiValueHeaders"] = lower_names(&e["multiValueHeaders"], false);
            }
            e
        }
        Shape::FunctionUrl => {
            let mut e = to_event(Source::FunctionUrl, req, ctx);
            let domain = format!("{}.lambda-url.{}.on.aws", facts.api_id, ctx.region);
            e["requestContext"]["apiId"] = Value::String(facts.api_id.clone());
            e["requestContext"]["domainName"] = Value::String(domain);
            e["requestContext"]["domainPrefix"] = Value::String(facts.api_id.clone());
            e
        }
        Shape::Alb {
            multi_value,
            target_group_arn,
        } => {
            let source = if *multi_value {
                Source::AlbMulti
            } else {
                Source::Alb
            };
            let mut e = to_event(source, req, ctx);
            e["requestContext"]["elb"]["targetGroupArn"] = Value::String(target_group_arn.clone());
            e
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn request(path: &str) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            path: path.into(),
            query: "a=1".into(),
            headers: vec![
                ("Host".into(), "127.0.0.1".into()),
                ("X-Thing".into(), "v".into()),
            ],
            body: Bytes::new(),
            source_ip: "127.0.0.1".into(),
            port: 3000,
        }
    }

    fn facts() -> RouteFacts {
        RouteFacts {
            api_id: "abc123defg".into(),
            route_key: "GET /users/{id}".into(),
            resource: "/users/{id}".into(),
            stage: "prod".into(),
            stage_variables: vec![("env".into(), "local".into())],
            path_parameters: vec![("id".into(), "7".into())],
            path_in_stage: "/users/7".into(),
        }
    }

    #[test]
    fn payload_2_names_the_route_and_keeps_the_stage_in_raw_path() {
        let ctx = EventContext::new("eu-west-1");
        let e = routed_event(&Shape::HttpApiV2, &request("/prod/users/7"), &ctx, &facts());
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["routeKey"], "GET /users/{id}");
        assert_eq!(e["requestContext"]["routeKey"], "GET /users/{id}");
        assert_eq!(e["rawPath"], "/prod/users/7");
        assert_eq!(e["pathParameters"]["id"], "7");
        assert_eq!(e["stageVariables"]["env"], "local");
        assert_eq!(e["requestContext"]["stage"], "prod");
        assert_eq!(
            e["requestContext"]["domainName"],
            "abc123defg.execute-api.eu-west-1.amazonaws.com"
        );
        let mut bare = facts();
        bare.path_parameters.clear();
        bare.stage_variables.clear();
        let e = routed_event(&Shape::HttpApiV2, &request("/prod/users/7"), &ctx, &bare);
        assert!(e.get("pathParameters").is_none() && e.get("stageVariables").is_none());
    }

    #[test]
    fn rest_leaves_the_stage_out_of_path_and_payload_1_lowers_names() {
        let ctx = EventContext::new("us-east-1");
        let e = routed_event(&Shape::RestApi, &request("/prod/users/7"), &ctx, &facts());
        assert!(e.get("version").is_none(), "a REST event has no version");
        assert_eq!(e["path"], "/users/7");
        assert_eq!(e["requestContext"]["path"], "/prod/users/7");
        assert_eq!(e["resource"], "/users/{id}");
        assert_eq!(e["requestContext"]["resourcePath"], "/users/{id}");
        assert_eq!(e["pathParameters"], serde_json::json!({"id": "7"}));
        assert_eq!(
            e["headers"]["X-Thing"], "v",
            "REST keeps the client's names"
        );
        let v1 = routed_event(
            &Shape::HttpApiV1,
            &request("/users/7"),
            &ctx,
            &RouteFacts {
                stage: "$default".into(),
                ..facts()
            },
        );
        assert_eq!(v1["version"], "1.0");
        assert_eq!(v1["headers"]["x-thing"], "v");
        assert_eq!(v1["multiValueHeaders"]["x-thing"], serde_json::json!(["v"]));
        assert!(v1["headers"].get("X-Thing").is_none());
        assert_eq!(v1["requestContext"]["stage"], "$default");
    }

    #[test]
    fn alb_events_carry_their_target_group() {
        let ctx = EventContext::new("us-east-1");
        let shape = Shape::Alb {
            multi_value: true,
            target_group_arn:
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1".into(),
        };
        let e = routed_event(&shape, &request("/x"), &ctx, &RouteFacts::default());
        assert_eq!(
            e["requestContext"]["elb"]["targetGroupArn"],
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1"
        );
        assert!(e.get("multiValueHeaders").is_some());
    }
}
