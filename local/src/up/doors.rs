//! The stack's front doors, each a listener on its own loopback port: a
//! request finds its stage and route (`routes`), becomes the event that
//! route sends (`frontdoor::events::routed_event`), and the function's
//! result is answered as the source answers it (`frontdoor::deliver`:
//! streaming, limits, failures). What the route table refuses is answered
//! as the source answers it too: an HTTP API's `404 {"message":"Not
//! Found"}`, a REST API's `403 {"message":"Missing Authentication
//! Token"}`, a route whose authorization is refused `401
//! {"message":"Unauthorized"}`, a route to nothing runnable as a failed
//! integration. A guarded route asks its gate (`gates`) first, as API
//! Gateway runs the authorizer before the integration; what the authorizer
//! passes on goes into the event's `requestContext.authorizer`.
//!
//! Owns: serving one door, stage selection.
//! Must not: build events or results itself (the front door does).

use super::gates::RouteGate;
use super::routes::{select_http, select_rest};
use super::stack::{FunctionUrl, HttpApi, Integration, RestApi, Stage, TargetGroup};
use crate::auth::Verdict;
use crate::frontdoor::answers::{self, Failure};
use crate::frontdoor::events::{
    routed_event, EventContext, HttpRequest, HttpResponse, RouteFacts, Source,
};
use crate::frontdoor::head::Via;
use crate::frontdoor::{deliver, read_request, respond, FrontDoorConfig, RespBody};
use crate::function::Function;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// What one door serves.
#[derive(Clone)]
pub enum RouteTable {
    /// An HTTP API.
    Http(HttpApi),
    /// A REST API.
    Rest(RestApi),
    /// A Function URL (and its id).
    Url(FunctionUrl, String),
    /// An ALB target group.
    Alb(TargetGroup),
}

/// A door with the functions its routes name.
pub struct Door {
    /// Its table.
    pub table: RouteTable,
    /// The stack's functions, by index.
    pub functions: Arc<Vec<Arc<Function>>>,
    /// The stack's region.
    pub region: String,
    /// What stands in front of each route (by the table's route index; a
    /// Function URL's at 0).
    pub gates: Vec<RouteGate>,
}

/// A request's event, and how to invoke it.
struct Routed<'a> {
    cfg: FrontDoorConfig,
    req: &'a HttpRequest,
    facts: RouteFacts,
    ctx: EventContext,
}

impl Door {
    fn source(&self) -> Source {
        match &self.table {
            // The door's limits and answers before a route is chosen are
            // the HTTP API's, whatever payload format its routes send.
            RouteTable::Http(_) => Source::HttpApiV2,
            RouteTable::Rest(_) => Source::RestApi,
            RouteTable::Url(..) => Source::FunctionUrl,
            RouteTable::Alb(t) => Source::Alb {
                multi_value: t.multi_value,
            },
        }
    }

    /// Serves until the listener fails.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let door = Arc::clone(&self);
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let door = Arc::clone(&door);
                    async move { Ok::<_, Infallible>(door.handle(req, peer, port).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    }

    async fn handle(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        port: u16,
    ) -> Response<RespBody> {
        let source = self.source();
        let path = req.uri().path().to_string();
        let query = req.uri().query().unwrap_or("").to_string();
        let method = req.method().to_string();
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).to_string(),
                )
            })
            .collect();
        // The door's own limits on the head and the body, and its answers.
        let body = match read_request(Via::Source(source), req).await {
            Ok(body) => body,
            Err(answer) => return answer,
        };
        let request = HttpRequest {
            method,
            path,
            query,
            headers,
            body,
            source_ip: peer.ip().to_string(),
            port,
        };
        match &self.table {
            RouteTable::Http(api) => self.http(api, request).await,
            RouteTable::Rest(api) => self.rest(api, request).await,
            RouteTable::Url(url, id) => {
                let facts = RouteFacts {
                    api_id: id.clone(),
                    ..RouteFacts::default()
                };
                let mut cfg = FrontDoorConfig::new(Source::FunctionUrl, &self.region);
                cfg.response_stream = url.stream;
                let routed = self.routed(cfg, &request, facts);
                let path = request.path.clone();
                self.guarded(0, url.function, routed, None, &path).await
            }
            RouteTable::Alb(tg) => {
                let Some(f) = tg.function else {
                    return respond(answers::answer(source, Failure::Function));
                };
                let facts = RouteFacts {
                    target_group_arn: tg.arn.clone(),
                    ..RouteFacts::default()
                };
                let cfg = FrontDoorConfig::new(source, &self.region);
                let routed = self.routed(cfg, &request, facts);
                let event = routed_event(routed.cfg.source, routed.req, &routed.ctx, &routed.facts);
                self.invoke(f, &routed, event).await
            }
        }
    }

    fn routed<'a>(
        &self,
        cfg: FrontDoorConfig,
        req: &'a HttpRequest,
        facts: RouteFacts,
    ) -> Routed<'a> {
        Routed {
            cfg,
            req,
            facts,
            ctx: EventContext::new(&self.region),
        }
    }

    async fn invoke(&self, function: usize, r: &Routed<'_>, event: Value) -> Response<RespBody> {
        let head = r.req.method.eq_ignore_ascii_case("HEAD");
        deliver(&self.functions[function], &r.cfg, event.to_string(), head).await
    }

    /// Runs route `index`'s gate, then invokes `function` with the event
    /// (`gate_source`: the event the authorizer reads, when it is not the
    /// integration's: an HTTP API authorizer reads payload 2.0).
    async fn guarded(
        &self,
        index: usize,
        function: usize,
        r: Routed<'_>,
        gate_source: Option<Source>,
        path_in_stage: &str,
    ) -> Response<RespBody> {
        let mut event = routed_event(r.cfg.source, r.req, &r.ctx, &r.facts);
        match self.gates.get(index) {
            None | Some(RouteGate::Open) => {}
            Some(RouteGate::Refused) => {
                return respond(HttpResponse::gateway_error(401, "Unauthorized"))
            }
            Some(RouteGate::Gate(gate)) => {
                let seen = match gate_source {
                    Some(s) if s != r.cfg.source => routed_event(s, r.req, &r.ctx, &r.facts),
                    _ => event.clone(),
                };
                match gate
                    .check_in_stage(r.req, &seen, &r.ctx, path_in_stage)
                    .await
                {
                    Verdict::Pass(Some(authorizer)) => {
                        event["requestContext"]["authorizer"] =
                            authorizer_for(r.cfg.source, authorizer)
                    }
                    Verdict::Pass(None) => {}
                    Verdict::Refuse(answer) => return respond(answer),
                }
            }
        }
        self.invoke(function, &r, event).await
    }

    async fn http(&self, api: &HttpApi, req: HttpRequest) -> Response<RespBody> {
        let not_found = || respond(HttpResponse::gateway_error(404, "Not Found"));
        let Some((stage, in_stage)) = stage_of(&api.stages, &req.path, true) else {
            return not_found();
        };
        let keys: Vec<String> = api.routes.iter().map(|r| r.key.clone()).collect();
        let Some(chosen) = select_http(&keys, &req.method, &in_stage) else {
            return not_found();
        };
        let route = &api.routes[chosen.index];
        if matches!(self.gates.get(chosen.index), Some(RouteGate::Refused)) {
            return respond(HttpResponse::gateway_error(401, "Unauthorized"));
        }
        let Some(integration) = &route.integration else {
            return respond(answers::answer(Source::HttpApiV2, Failure::Function));
        };
        let resource = match super::routes::http_key(&route.key) {
            Some((_, p)) => p,
            None => route.key.clone(),
        };
        let facts = RouteFacts {
            api_id: api.id.clone(),
            route_key: route.key.clone(),
            resource,
            stage: stage.name.clone(),
            stage_variables: stage.variables.clone(),
            path_parameters: chosen.params,
            path_in_stage: in_stage,
            ..RouteFacts::default()
        };
        let source = match integration.payload_v1 {
            true => Source::HttpApiV1,
            false => Source::HttpApiV2,
        };
        let mut cfg = FrontDoorConfig::new(source, &self.region);
        cfg.integration_timeout = integration_timeout(integration, Duration::from_secs(30));
        let path = facts.path_in_stage.clone();
        let routed = self.routed(cfg, &req, facts);
        let (index, function) = (chosen.index, integration.function);
        self.guarded(index, function, routed, Some(Source::HttpApiV2), &path)
            .await
    }

    async fn rest(&self, api: &RestApi, req: HttpRequest) -> Response<RespBody> {
        let missing = || {
            respond(HttpResponse::gateway_error(
                403,
                "Missing Authentication Token",
            ))
        };
        let Some((stage, in_stage)) = stage_of(&api.stages, &req.path, false) else {
            return missing();
        };
        let table: Vec<(String, String)> = api
            .routes
            .iter()
            .map(|r| (r.path.clone(), r.method.clone()))
            .collect();
        let Some(chosen) = select_rest(&table, &req.method, &in_stage) else {
            return missing();
        };
        let route = &api.routes[chosen.index];
        if matches!(self.gates.get(chosen.index), Some(RouteGate::Refused)) {
            return respond(HttpResponse::gateway_error(401, "Unauthorized"));
        }
        let Some(integration) = &route.integration else {
            return respond(answers::answer(Source::RestApi, Failure::Function));
        };
        let facts = RouteFacts {
            api_id: api.id.clone(),
            route_key: String::new(),
            resource: route.path.clone(),
            stage: stage.name.clone(),
            stage_variables: stage.variables.clone(),
            path_parameters: chosen.params,
            path_in_stage: in_stage,
            ..RouteFacts::default()
        };
        let mut cfg = FrontDoorConfig::new(Source::RestApi, &self.region);
        cfg.response_stream = integration.stream;
        cfg.integration_timeout = integration_timeout(integration, Duration::from_secs(29));
        let path = facts.path_in_stage.clone();
        let routed = self.routed(cfg, &req, facts);
        let (index, function) = (chosen.index, integration.function);
        self.guarded(index, function, routed, None, &path).await
    }
}

/// What an authorizer passes on, in the shape of the integration's event:
/// HTTP API payload 1.0 carries a JWT's `claims` and `scopes` directly
/// under `authorizer` (http-api-develop-integrations-lambda.html, the 1.0
/// example); every other event as the gate gives it.
fn authorizer_for(source: Source, authorizer: Value) -> Value {
    match (source, authorizer) {
        (Source::HttpApiV1, Value::Object(mut o)) if o.contains_key("jwt") => {
            o.remove("jwt").unwrap_or(Value::Null)
        }
        (_, v) => v,
    }
}

/// The integration's own timeout, else the source's default.
fn integration_timeout(i: &Integration, default: Duration) -> Option<Duration> {
    Some(i.timeout_ms.map(Duration::from_millis).unwrap_or(default))
}

/// The stage a path is for, and the path within it: a named stage by the
/// first segment; else the `$default` stage (HTTP APIs), the whole path.
pub fn stage_of<'a>(stages: &'a [Stage], path: &str, http: bool) -> Option<(&'a Stage, String)> {
    let trimmed = path.trim_start_matches('/');
    let (first, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    if let Some(stage) = stages
        .iter()
        .find(|s| s.name != "$default" && s.name == first)
    {
        return Some((stage, format!("/{rest}")));
    }
    if http {
        if let Some(stage) = stages.iter().find(|s| s.name == "$default") {
            return Some((stage, path.to_string()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(names: &[&str]) -> Vec<Stage> {
        names
            .iter()
            .map(|n| Stage {
                name: n.to_string(),
                variables: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn stages_by_first_segment_else_default() {
        let s = stages(&["$default", "v2"]);
        let (st, p) = stage_of(&s, "/v2/users/1", true).expect("v2");
        assert_eq!((st.name.as_str(), p.as_str()), ("v2", "/users/1"));
        let (st, p) = stage_of(&s, "/users/1", true).expect("default");
        assert_eq!((st.name.as_str(), p.as_str()), ("$default", "/users/1"));
        let rest = stages(&["prod"]);
        assert_eq!(
            stage_of(&rest, "/prod", false).map(|(s, p)| (s.name.clone(), p)),
            Some(("prod".into(), "/".into()))
        );
        assert!(
            stage_of(&rest, "/users", false).is_none(),
            "a REST API has no default stage"
        );
        assert!(stage_of(&stages(&["prod"]), "/users", true).is_none());
    }
}
