//! HTTP APIs (`aws_apigatewayv2_api` with protocol HTTP): routes from
//! `aws_apigatewayv2_route` (target `integrations/ID`), quick create
//! (`target` on the API) and OpenAPI bodies; Lambda proxy integrations with
//! their payload format version; stages and stage variables; each route's
//! authorization (`auth`). A route to anything but a function of the stack
//! answers as a failed integration.

use super::auth::{self, Guard};
use super::{s, Context, Integration, Stack, Stage};
use crate::up::openapi;
use crate::up::plan::Resource;
use serde_json::Value;

/// One route of an HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRoute {
    /// `GET /users/{id}`, `ANY /{proxy+}`, `$default`.
    pub key: String,
    /// Where it goes (`None`: answered as a failed integration).
    pub integration: Option<Integration>,
    /// How it is authorized.
    pub auth: Guard,
}

/// An HTTP API.
#[derive(Debug, Clone)]
pub struct HttpApi {
    /// Its address.
    pub address: String,
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its routes.
    pub routes: Vec<HttpRoute>,
    /// Its stages.
    pub stages: Vec<Stage>,
}

fn stage_variables(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    out.sort();
    out
}

/// An integration of type AWS_PROXY to one of the stack's functions.
fn lambda(
    stack: &mut Stack,
    address: &str,
    kind: &str,
    uri: &str,
    payload: Option<&str>,
    timeout_ms: Option<u64>,
) -> Option<Integration> {
    if !kind.eq_ignore_ascii_case("AWS_PROXY") {
        stack.findings.not_emulated(address, format!("a {kind} integration ({uri}): only Lambda proxy integrations are run; its routes answer as a failed integration (500)"));
        return None;
    }
    let Some(function) = stack.function_ref(uri) else {
        stack.findings.refuse(address, format!("integrates {uri}, which is not a function up runs: its routes answer as a failed integration (500)"));
        return None;
    };
    Some(Integration {
        function,
        payload_v1: payload.unwrap_or("1.0") == "1.0",
        stream: false,
        timeout_ms,
    })
}

/// The routes of the API's OpenAPI body.
fn from_body(stack: &mut Stack, api: &Resource, body: &str) -> Vec<HttpRoute> {
    let ops = match openapi::operations(body) {
        Ok(ops) => ops,
        Err(e) => {
            stack
                .findings
                .refuse(&api.address, format!("{e}: its routes are not served"));
            return Vec::new();
        }
    };
    let mut routes = Vec::new();
    for op in ops {
        let payload = op.payload_version.as_deref();
        let integration = lambda(
            stack,
            &api.address,
            &op.kind,
            &op.uri,
            payload,
            op.timeout_ms,
        );
        let key = if op.path == "$default" {
            "$default".to_string()
        } else {
            format!("{} {}", op.method, op.path)
        };
        let auth = auth::openapi_guard(stack, &api.address, &format!("route {key}"), &op.security);
        routes.push(HttpRoute {
            key,
            integration,
            auth,
        });
    }
    routes
}

/// The integration a route resource targets (`integrations/ID`).
fn target_of(
    cx: &Context<'_>,
    stack: &mut Stack,
    r: &Resource,
    api_id: &str,
) -> Option<Integration> {
    let target = s(r, "target");
    let Some(iid) = target.strip_prefix("integrations/") else {
        stack.findings.refuse(
            &r.address,
            "has no integration target: answered as a failed integration (500)",
        );
        return None;
    };
    let found = cx
        .plan
        .of("aws_apigatewayv2_integration")
        .find(|i| s(i, "id") == iid && s(i, "api_id") == api_id);
    let Some(i) = found else {
        stack.findings.refuse(&r.address, format!("targets {target}, which is not in the stack: answered as a failed integration (500)"));
        return None;
    };
    let payload = i.str("payload_format_version").map(str::to_string);
    let (kind, uri) = (
        s(i, "integration_type").to_string(),
        s(i, "integration_uri").to_string(),
    );
    let timeout = i.values["timeout_milliseconds"].as_u64();
    lambda(
        stack,
        &i.address.clone(),
        &kind,
        &uri,
        payload.as_deref(),
        timeout,
    )
}

fn routes_of(cx: &Context<'_>, stack: &mut Stack, api: &Resource, id: &str) -> Vec<HttpRoute> {
    let mut routes = Vec::new();
    // Quick create: the API's own target makes a route and an integration.
    if let Some(target) = api.str("target").filter(|t| !t.is_empty()) {
        let key = api.str("route_key").unwrap_or("$default").to_string();
        let integration = lambda(stack, &api.address, "AWS_PROXY", target, Some("2.0"), None);
        routes.push(HttpRoute {
            key,
            integration,
            auth: Guard::Open,
        });
    }
    if let Some(body) = api.str("body").filter(|b| !b.is_empty()) {
        routes.extend(from_body(stack, api, body));
    }
    let route_resources: Vec<Resource> = cx
        .plan
        .of("aws_apigatewayv2_route")
        .filter(|r| s(r, "api_id") == id)
        .cloned()
        .collect();
    for r in route_resources {
        let key = s(&r, "route_key").to_string();
        let integration = target_of(cx, stack, &r, id);
        let auth = auth::guard(cx, stack, &r, id, &format!("route {key}"));
        routes.push(HttpRoute {
            key,
            integration,
            auth,
        });
    }
    routes
}

/// Reads every HTTP API (WebSocket APIs are listed as not emulated).
pub(super) fn read(cx: &Context<'_>, stack: &mut Stack) {
    for api in cx.plan.of("aws_apigatewayv2_api") {
        if s(api, "protocol_type") != "HTTP" {
            stack.findings.not_emulated(
                &api.address,
                format!("a {} API: not emulated", s(api, "protocol_type")),
            );
            continue;
        }
        let id = s(api, "id").to_string();
        let routes = routes_of(cx, stack, api, &id);
        let mut stages: Vec<Stage> = cx
            .plan
            .of("aws_apigatewayv2_stage")
            .filter(|st| s(st, "api_id") == id)
            .map(|st| Stage {
                name: s(st, "name").to_string(),
                variables: stage_variables(&st.values["stage_variables"]),
            })
            .collect();
        for st in cx
            .plan
            .of("aws_apigatewayv2_stage")
            .filter(|st| s(st, "api_id") == id)
        {
            let t = st.block("default_route_settings");
            if t["throttling_rate_limit"].as_f64().unwrap_or(0.0) > 0.0 {
                stack.findings.not_emulated(
                    &st.address,
                    format!(
                        "throttling ({} requests per second, burst {}) is not emulated",
                        t["throttling_rate_limit"], t["throttling_burst_limit"]
                    ),
                );
            }
        }
        if api.str("target").is_some_and(|t| !t.is_empty())
            && !stages.iter().any(|st| st.name == "$default")
        {
            stages.push(Stage {
                name: "$default".into(),
                variables: Vec::new(),
            });
        }
        if stages.is_empty() {
            stack.findings.warn(&api.address, "has no stage: AWS serves an API only through a stage; every request answers 404 Not Found");
        }
        if !api.block("cors_configuration").is_null() {
            stack.findings.not_emulated(
                &api.address,
                "its CORS configuration is not emulated: preflight requests reach the routes",
            );
        }
        stack.http_apis.push(HttpApi {
            address: api.address.clone(),
            id,
            name: s(api, "name").to_string(),
            routes,
            stages,
        });
    }
}
