//! REST APIs (`aws_api_gateway_rest_api`): resources, methods and
//! integrations from `aws_api_gateway_resource`/`_method`/`_integration`,
//! or from the API's OpenAPI body (where the `STREAM` response transfer
//! mode can be set, or the streaming invocation URI names it); stages
//! (`aws_api_gateway_stage`, or a deployment's `stage_name`) with their
//! variables; each method's authorization (`auth`).

use super::auth::{self, Guard};
use super::{s, Context, Integration, Stack, Stage};
use crate::up::openapi;
use crate::up::plan::Resource;
use std::collections::HashMap;

/// One method of a REST API resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestRoute {
    /// The resource path (`/users/{id}`).
    pub path: String,
    /// `GET`..., or `ANY`.
    pub method: String,
    /// Where it goes (`None`: answered as a failed integration).
    pub integration: Option<Integration>,
    /// How it is authorized.
    pub auth: Guard,
}

/// A REST API.
#[derive(Debug, Clone)]
pub struct RestApi {
    /// Its address.
    pub address: String,
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its methods.
    pub routes: Vec<RestRoute>,
    /// Its stages.
    pub stages: Vec<Stage>,
}

/// Whether an integration URI is the streaming one (InvokeWithResponseStream).
fn streams(uri: &str) -> bool {
    uri.contains("/response-streaming-invocations")
}

fn integration(
    stack: &mut Stack,
    address: &str,
    kind: &str,
    uri: &str,
    stream: bool,
    timeout_ms: Option<u64>,
) -> Option<Integration> {
    if !kind.eq_ignore_ascii_case("AWS_PROXY") {
        stack.findings.not_emulated(address, format!("a {kind} integration ({uri}): only Lambda proxy integrations are run; the method answers as a failed integration (502)"));
        return None;
    }
    let Some(function) = stack.function_ref(uri) else {
        stack.findings.refuse(address, format!("integrates {uri}, which is not a function up runs: the method answers as a failed integration (502)"));
        return None;
    };
    Some(Integration {
        function,
        payload_v1: true,
        stream: stream || streams(uri),
        timeout_ms,
    })
}

/// Each resource's full path, from its parent chain down from the root.
fn paths(cx: &Context<'_>, api_id: &str, root: &str) -> HashMap<String, String> {
    let resources: Vec<&Resource> = cx
        .plan
        .of("aws_api_gateway_resource")
        .filter(|r| s(r, "rest_api_id") == api_id)
        .collect();
    let mut out = HashMap::from([(root.to_string(), "/".to_string())]);
    // Parents come first within at most as many rounds as there are levels.
    for _ in 0..=resources.len() {
        for r in &resources {
            let id = s(r, "id").to_string();
            if out.contains_key(&id) {
                continue;
            }
            if let Some(parent) = out.get(s(r, "parent_id")) {
                let path = format!("{}/{}", parent.trim_end_matches('/'), s(r, "path_part"));
                out.insert(id, path);
            }
        }
    }
    out
}

fn from_resources(cx: &Context<'_>, stack: &mut Stack, api_id: &str, root: &str) -> Vec<RestRoute> {
    let paths = paths(cx, api_id, root);
    let methods: Vec<Resource> = cx
        .plan
        .of("aws_api_gateway_method")
        .filter(|m| s(m, "rest_api_id") == api_id)
        .cloned()
        .collect();
    let mut routes = Vec::new();
    for m in methods {
        let Some(path) = paths.get(s(&m, "resource_id")).cloned() else {
            stack
                .findings
                .refuse(&m.address, "its resource is not in the stack: not served");
            continue;
        };
        let method = s(&m, "http_method").to_string();
        let found = cx.plan.of("aws_api_gateway_integration").find(|i| {
            s(i, "rest_api_id") == api_id
                && s(i, "resource_id") == s(&m, "resource_id")
                && s(i, "http_method") == method
        });
        let integ = match found {
            Some(i) => {
                let stream = s(i, "response_transfer_mode").eq_ignore_ascii_case("STREAM");
                let (address, kind, uri, timeout) = (
                    i.address.clone(),
                    s(i, "type").to_string(),
                    s(i, "uri").to_string(),
                    i.values["timeout_milliseconds"].as_u64(),
                );
                integration(stack, &address, &kind, &uri, stream, timeout)
            }
            None => {
                stack.findings.refuse(
                    &m.address,
                    "has no integration: answered as a failed integration (502)",
                );
                None
            }
        };
        let auth = auth::guard(cx, stack, &m, api_id, &format!("{method} {path}"));
        routes.push(RestRoute {
            path,
            method,
            integration: integ,
            auth,
        });
    }
    routes
}

fn from_body(stack: &mut Stack, api: &Resource, body: &str) -> Vec<RestRoute> {
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
        let integ = integration(
            stack,
            &api.address,
            &op.kind,
            &op.uri,
            op.stream,
            op.timeout_ms,
        );
        let what = format!("{} {}", op.method, op.path);
        let auth = auth::openapi_guard(stack, &api.address, &what, &op.security);
        routes.push(RestRoute {
            path: op.path,
            method: op.method,
            integration: integ,
            auth,
        });
    }
    routes
}

fn variables(v: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    out.sort();
    out
}

/// Reads every REST API.
pub(super) fn read(cx: &Context<'_>, stack: &mut Stack) {
    for api in cx.plan.of("aws_api_gateway_rest_api") {
        let id = s(api, "id").to_string();
        let mut routes = match api.str("body").filter(|b| !b.is_empty()) {
            Some(body) => from_body(stack, api, body),
            None => Vec::new(),
        };
        routes.extend(from_resources(cx, stack, &id, s(api, "root_resource_id")));
        let mut stages: Vec<Stage> = cx
            .plan
            .of("aws_api_gateway_stage")
            .filter(|st| s(st, "rest_api_id") == id)
            .map(|st| Stage {
                name: s(st, "stage_name").to_string(),
                variables: variables(&st.values["variables"]),
            })
            .collect();
        for d in cx
            .plan
            .of("aws_api_gateway_deployment")
            .filter(|d| s(d, "rest_api_id") == id)
        {
            let name = s(d, "stage_name");
            if !name.is_empty() && !stages.iter().any(|st| st.name == name) {
                stages.push(Stage {
                    name: name.to_string(),
                    variables: variables(&d.values["variables"]),
                });
            }
        }
        if api.values["binary_media_types"]
            .as_array()
            .is_some_and(|b| !b.is_empty())
        {
            stack.findings.not_emulated(&api.address, "binary_media_types are not read: request bodies reach the function as text or base64 by their content type, as portside-local's REST front door sends them");
        }
        if stages.is_empty() {
            stack.findings.warn(&api.address, "has no stage: AWS serves a REST API only through a deployed stage; every request answers 403 Missing Authentication Token");
        }
        for m in cx
            .plan
            .of("aws_api_gateway_method_settings")
            .filter(|m| s(m, "rest_api_id") == id)
        {
            let t = m.block("settings");
            if t["throttling_rate_limit"].as_f64().unwrap_or(0.0) > 0.0 {
                stack.findings.not_emulated(
                    &m.address,
                    format!(
                        "throttling ({} requests per second, burst {}) is not emulated",
                        t["throttling_rate_limit"], t["throttling_burst_limit"]
                    ),
                );
            }
        }
        stack.rest_apis.push(RestApi {
            address: api.address.clone(),
            id,
            name: s(api, "name").to_string(),
            routes,
            stages,
        });
    }
}
