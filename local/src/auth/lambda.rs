//! Lambda authorizers: the event API Gateway sends the authorizer function
//! (HTTP API REQUEST, payload 1.0 or 2.0; REST API TOKEN or REQUEST), the
//! function run by portside-local like any function, its answer read as
//! API Gateway reads it (the simple `{"isAuthorized", "context"}` form, or
//! `principalId` with an IAM `policyDocument` and `context`), results
//! cached by the identity sources' values for the TTL, and what reaches the
//! integration in `requestContext.authorizer`.
//!
//! Sources (local/AUTHORIZERS.md quotes them): http-api-lambda-authorizer.html
//! (payload formats, simple responses, identity sources: missing → 401
//! without invoking; caching; invalid answer or failure → 500);
//! api-gateway-lambda-authorizer-input.html and -output.html (TOKEN and
//! REQUEST events; `principalId` and `policyDocument` required; `context`
//! values string, number or boolean, passed stringified to a proxy
//! integration); apigateway-use-lambda-authorizer.html (an error with the
//! message `Unauthorized` → 401, any other failure → 500).
//!
//! Must not: build the source's answer (`answers`) or evaluate policies
//! itself (`policy`).

use super::answers::Refusal;
use super::identity::{IdentitySource, RequestFacts};
use super::policy::{self, Effect};
use crate::frontdoor::events::{self, EventContext, HttpRequest, Source};
use crate::function::Function;
use crate::runtime_api::{InvokeOptions, Outcome};
use bytes::Bytes;
use regex::Regex;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An HTTP API authorizer's payload format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadVersion {
    /// `1.0`: REST-compatible event, IAM policy answer.
    V1,
    /// `2.0`: the 2.0 event; a simple answer or an IAM policy.
    V2,
}

/// Which kind of Lambda authorizer.
#[derive(Debug, Clone)]
pub enum LambdaKind {
    /// An HTTP API `REQUEST` authorizer.
    HttpApi {
        /// The payload format version.
        payload: PayloadVersion,
        /// `enableSimpleResponses` (2.0 only).
        simple: bool,
    },
    /// A REST API `TOKEN` authorizer; `validation` is its
    /// `identityValidationExpression`.
    RestToken {
        /// A token not matching it is refused with 401 without invoking.
        validation: Option<Regex>,
    },
    /// A REST API `REQUEST` authorizer.
    RestRequest,
}

/// A TOKEN authorizer's `identityValidationExpression`, which the whole
/// token must match.
pub fn validation_regex(expr: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{expr})$")).map_err(|e| format!("not a regular expression: {e}"))
}

impl LambdaKind {
    /// Its kind in words, for start-up lines.
    pub fn describe(&self) -> &'static str {
        match self {
            LambdaKind::HttpApi {
                payload: PayloadVersion::V2,
                simple: true,
            } => "REQUEST, payload 2.0, simple responses",
            LambdaKind::HttpApi {
                payload: PayloadVersion::V2,
                ..
            } => "REQUEST, payload 2.0, IAM policies",
            LambdaKind::HttpApi { .. } => "REQUEST, payload 1.0",
            LambdaKind::RestToken { .. } => "TOKEN",
            LambdaKind::RestRequest => "REQUEST",
        }
    }
}

/// How a Lambda authorizer is configured.
#[derive(Debug, Clone)]
pub struct LambdaAuthorizerConfig {
    /// Which kind.
    pub kind: LambdaKind,
    /// The identity sources (a TOKEN authorizer has exactly one header).
    pub identity: Vec<IdentitySource>,
    /// `authorizerResultTtlInSeconds`: 0 turns caching off.
    pub ttl: Duration,
}

/// What an authorizer answered, as cached.
#[derive(Debug, Clone, PartialEq)]
enum AuthorizerResult {
    Simple {
        authorized: bool,
        context: Value,
    },
    Policy {
        principal_id: Value,
        policy: Value,
        context: Value,
    },
}

/// A Lambda authorizer and its function.
pub struct LambdaAuthorizer {
    cfg: LambdaAuthorizerConfig,
    function: Arc<Function>,
    cache: Mutex<HashMap<String, (Instant, AuthorizerResult)>>,
}

/// What one check needs besides the request.
pub struct CheckInput<'a> {
    /// The integration's event for the request (the authorizer's event is
    /// made from it).
    pub event: &'a Value,
    /// Its context (ids, time).
    pub ctx: &'a EventContext,
    /// Route key and stage.
    pub facts: &'a RequestFacts<'a>,
    /// The method (REST) or route (HTTP API) ARN.
    pub arn: &'a str,
}

impl LambdaAuthorizer {
    /// An authorizer running `function`.
    pub fn new(cfg: LambdaAuthorizerConfig, function: Arc<Function>) -> LambdaAuthorizer {
        LambdaAuthorizer {
            cfg,
            function,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LambdaAuthorizerConfig {
        &self.cfg
    }

    /// Its function.
    pub fn function(&self) -> &Arc<Function> {
        &self.function
    }

    /// Checks a request: what goes in `requestContext.authorizer`.
    pub async fn check(&self, req: &HttpRequest, input: &CheckInput<'_>) -> Result<Value, Refusal> {
        let mut values = Vec::new();
        for source in &self.cfg.identity {
            match source.value(req, input.facts) {
                Some(v) => values.push(v),
                None => {
                    eprintln!("portside-local: Lambda authorizer: the request lacks the identity source {source:?}; API Gateway answers 401 without invoking the authorizer");
                    return Err(Refusal::Unauthorized);
                }
            }
        }
        if let (
            LambdaKind::RestToken {
                validation: Some(re),
            },
            Some(token),
        ) = (&self.cfg.kind, values.first())
        {
            if !re.is_match(token) {
                eprintln!("portside-local: Lambda authorizer: the token does not match the identity validation expression; API Gateway answers 401 without invoking the authorizer");
                return Err(Refusal::Unauthorized);
            }
        }
        let key = values.join("\u{1f}");
        let (answer, latency) = match self.cached(&key) {
            Some(a) => (a, 0),
            None => {
                let started = Instant::now();
                let answer = self.ask(req, input, &values).await?;
                if !self.cfg.ttl.is_zero() && !values.is_empty() {
                    crate::util::lock(&self.cache).insert(key, (Instant::now(), answer.clone()));
                }
                (answer, started.elapsed().as_millis() as u64)
            }
        };
        self.decide(answer, input.arn, latency)
    }

    fn cached(&self, key: &str) -> Option<AuthorizerResult> {
        if self.cfg.ttl.is_zero() {
            return None;
        }
        let mut cache = crate::util::lock(&self.cache);
        match cache.get(key) {
            Some((at, a)) if at.elapsed() < self.cfg.ttl => Some(a.clone()),
            Some(_) => {
                cache.remove(key);
                None
            }
            None => None,
        }
    }

    async fn ask(
        &self,
        req: &HttpRequest,
        input: &CheckInput<'_>,
        values: &[String],
    ) -> Result<AuthorizerResult, Refusal> {
        let event = self.event(req, input, values);
        let fail = |why: String| {
            eprintln!("portside-local: Lambda authorizer: {why}; API Gateway answers 500");
            Refusal::AuthorizerFailed
        };
        let inv = self
            .function
            .invoke(Bytes::from(event.to_string()), InvokeOptions::new())
            .await
            .map_err(|e| fail(format!("cannot invoke it: {}", e.message())))?;
        let payload = match inv.outcome().await {
            Outcome::Response(b) => b,
            Outcome::Streamed(s) => s.body,
            Outcome::Error(e) if self.is_rest() && e.error_message == "Unauthorized" => {
                eprintln!("portside-local: Lambda authorizer failed with \"Unauthorized\"; a REST API answers 401");
                return Err(Refusal::Unauthorized);
            }
            Outcome::Error(e) | Outcome::InitError(e) => {
                return Err(fail(format!(
                    "its function failed ({}: {})",
                    e.error_type, e.error_message
                )))
            }
            Outcome::TimedOut(t) => {
                return Err(fail(format!(
                    "its function timed out after {:.2} s",
                    t.after.as_secs_f64()
                )))
            }
        };
        let v: Value = serde_json::from_slice(&payload)
            .map_err(|e| fail(format!("its answer is not JSON ({e})")))?;
        self.read_answer(&v).map_err(|why| {
            fail(format!(
                "its answer is not in the format API Gateway reads: {why}"
            ))
        })
    }

    fn is_rest(&self) -> bool {
        !matches!(self.cfg.kind, LambdaKind::HttpApi { .. })
    }

    fn read_answer(&self, v: &Value) -> Result<AuthorizerResult, String> {
        let context = match v.get("context") {
            None | Some(Value::Null) => Value::Null,
            Some(c @ Value::Object(map)) => {
                if self.is_rest() {
                    if let Some((k, _)) = map
                        .iter()
                        .find(|(_, v)| !(v.is_string() || v.is_number() || v.is_boolean()))
                    {
                        return Err(format!("context.{k} is not a string, number or boolean"));
                    }
                }
                c.clone()
            }
            Some(_) => return Err("context is not an object".into()),
        };
        if let LambdaKind::HttpApi { simple: true, .. } = self.cfg.kind {
            let authorized = v
                .get("isAuthorized")
                .and_then(Value::as_bool)
                .ok_or("a simple response needs isAuthorized: true or false")?;
            return Ok(AuthorizerResult::Simple {
                authorized,
                context,
            });
        }
        let policy = v
            .get("policyDocument")
            .filter(|p| p.is_object())
            .ok_or("it has no policyDocument")?
            .clone();
        let principal_id = match v.get("principalId") {
            Some(p @ (Value::String(_) | Value::Number(_))) => p.clone(),
            _ if !self.is_rest() => Value::Null,
            _ => return Err("it has no principalId".into()),
        };
        Ok(AuthorizerResult::Policy {
            principal_id,
            policy,
            context,
        })
    }

    fn decide(
        &self,
        answer: AuthorizerResult,
        arn: &str,
        latency_ms: u64,
    ) -> Result<Value, Refusal> {
        let context = match answer {
            AuthorizerResult::Simple {
                authorized: false, ..
            } => {
                eprintln!("portside-local: the Lambda authorizer answered isAuthorized: false; API Gateway answers 403");
                return Err(Refusal::Denied { explicit: true });
            }
            AuthorizerResult::Simple { context, .. } => return Ok(json!({ "lambda": context })),
            AuthorizerResult::Policy {
                policy,
                principal_id,
                context,
            } => match policy::evaluate(&policy, arn) {
                Ok(Effect::Allow) if self.is_rest() => {
                    let mut out = Map::new();
                    out.insert(
                        "principalId".into(),
                        Value::String(super::jwt::claim_text(&principal_id)),
                    );
                    out.insert("integrationLatency".into(), json!(latency_ms));
                    if let Value::Object(map) = context {
                        for (k, v) in map {
                            out.insert(k, Value::String(super::jwt::claim_text(&v)));
                        }
                    }
                    return Ok(Value::Object(out));
                }
                Ok(Effect::Allow) => context,
                Ok(deny) => {
                    let explicit = deny == Effect::ExplicitDeny;
                    eprintln!(
                        "portside-local: the Lambda authorizer's policy {} {arn}; API Gateway answers 403",
                        if explicit { "denies" } else { "does not allow" }
                    );
                    return Err(Refusal::Denied { explicit });
                }
                Err(why) => {
                    eprintln!("portside-local: Lambda authorizer: its policy cannot be evaluated: {why}; API Gateway answers 500");
                    return Err(Refusal::AuthorizerFailed);
                }
            },
        };
        Ok(json!({ "lambda": context }))
    }

    fn event(&self, req: &HttpRequest, input: &CheckInput<'_>, values: &[String]) -> Value {
        match &self.cfg.kind {
            LambdaKind::RestToken { .. } => json!({
                "type": "TOKEN",
                "authorizationToken": values.first().cloned().unwrap_or_default(),
                "methodArn": input.arn,
            }),
            LambdaKind::RestRequest => {
                let mut e = strip_body(input.event.clone());
                prepend(
                    &mut e,
                    [("type", json!("REQUEST")), ("methodArn", json!(input.arn))],
                );
                e
            }
            LambdaKind::HttpApi {
                payload: PayloadVersion::V2,
                ..
            } => {
                let mut e = strip_body(input.event.clone());
                prepend(
                    &mut e,
                    [
                        ("version", json!("2.0")),
                        ("type", json!("REQUEST")),
                        ("routeArn", json!(input.arn)),
                        ("identitySource", json!(values)),
                    ],
                );
                e
            }
            LambdaKind::HttpApi {
                payload: PayloadVersion::V1,
                ..
            } => {
                // The REST-compatible shape, on the HTTP API's stage.
                let mut e = strip_body(events::to_event(Source::RestApi, req, input.ctx));
                if let Some(o) = e.as_object_mut() {
                    o.remove("multiValueHeaders");
                    o.remove("multiValueQueryStringParameters");
                    o.insert("resource".into(), json!(req.path));
                }
                e["requestContext"]["stage"] = json!(input.facts.stage);
                e["requestContext"]["resourcePath"] = json!(req.path);
                e["requestContext"]["path"] = json!(req.path);
                let joined = values.join(",");
                prepend(
                    &mut e,
                    [
                        ("version", json!("1.0")),
                        ("type", json!("REQUEST")),
                        ("methodArn", json!(input.arn)),
                        ("identitySource", json!(joined)),
                        ("authorizationToken", json!(joined)),
                    ],
                );
                e
            }
        }
    }
}

fn strip_body(mut e: Value) -> Value {
    if let Some(o) = e.as_object_mut() {
        o.remove("body");
        o.remove("isBase64Encoded");
    }
    e
}

/// Puts `fields` first (as API Gateway's examples order them).
fn prepend<const N: usize>(e: &mut Value, fields: [(&str, Value); N]) {
    let Some(old) = e.as_object_mut().map(std::mem::take) else {
        return;
    };
    let mut out = Map::new();
    for (k, v) in fields {
        out.insert(k.to_string(), v);
    }
    for (k, v) in old {
        out.entry(k).or_insert(v);
    }
    *e = Value::Object(out);
}
