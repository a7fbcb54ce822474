//! The route a request took, written into its event (`portside-local up`):
//! an API's id and domain, the route key or resource, the stage and its
//! variables, the path variables (API Gateway HTTP APIs with payload 2.0
//! and 1.0, REST APIs), a Function URL's id, an ALB target group's ARN.
//! Each source's `routed` first builds the event exactly as for a lone
//! front door, then sets what a route table decides, with the helpers here.
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
    /// An ALB target group's ARN.
    pub target_group_arn: String,
}

/// A map of pairs, or null when there are none.
pub(super) fn pairs(list: &[(String, String)]) -> Value {
    if list.is_empty() {
        return Value::Null;
    }
    Value::Object(
        list.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Sets `key` to `v`, or removes it when `v` is null.
pub(super) fn set_or_remove(event: &mut Value, key: &str, v: Value) {
    if let Some(obj) = event.as_object_mut() {
        if v.is_null() {
            obj.remove(key);
        } else {
            obj.insert(key.to_string(), v);
        }
    }
}

/// An API Gateway API's id, domain and stage in `requestContext`.
pub(super) fn api_context(event: &mut Value, facts: &RouteFacts, region: &str) {
    let domain = format!("{}.execute-api.{region}.amazonaws.com", facts.api_id);
    let rc = &mut event["requestContext"];
    rc["apiId"] = Value::String(facts.api_id.clone());
    rc["domainName"] = Value::String(domain);
    rc["domainPrefix"] = Value::String(facts.api_id.clone());
    rc["stage"] = Value::String(facts.stage.clone());
}

/// Lower-cases the names of a map of headers, merging values of names that
/// differ only in case (payload 1.0 sends lower-case names).
pub(super) fn lower_names(map: &Value, join: bool) -> Value {
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

#[cfg(test)]
mod tests {
    use super::super::{routed_event, EventContext, HttpRequest, Source};
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
            ..RouteFacts::default()
        }
    }

    #[test]
    fn payload_2_names_the_route_and_keeps_the_stage_in_raw_path() {
        let ctx = EventContext::new("eu-west-1");
        let e = routed_event(Source::HttpApiV2, &request("/prod/users/7"), &ctx, &facts());
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
        let e = routed_event(Source::HttpApiV2, &request("/prod/users/7"), &ctx, &bare);
        assert!(e.get("pathParameters").is_none() && e.get("stageVariables").is_none());
    }

    #[test]
    fn rest_leaves_the_stage_out_of_path_and_payload_1_lowers_names() {
        let ctx = EventContext::new("us-east-1");
        let e = routed_event(Source::RestApi, &request("/prod/users/7"), &ctx, &facts());
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
            Source::HttpApiV1,
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
        let facts = RouteFacts {
            target_group_arn:
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1".into(),
            ..RouteFacts::default()
        };
        let source = Source::Alb { multi_value: true };
        let e = routed_event(source, &request("/x"), &ctx, &facts);
        assert_eq!(
            e["requestContext"]["elb"]["targetGroupArn"],
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1"
        );
        assert!(e.get("multiValueHeaders").is_some());
    }
}
