//! Authorizers (`aws_apigatewayv2_authorizer`: JWT and Lambda REQUEST;
//! `aws_api_gateway_authorizer`: Lambda TOKEN and REQUEST) read into the
//! configurations `crate::auth` runs, and how each route or method is
//! authorized ([`Guard`]): by one of them (with the route's authorization
//! scopes), by `AWS_IAM` (not emulated: `--iam-auth`), or not at all.
//!
//! What cannot be emulated is refused with its address, and every route
//! behind it answers 401, never passed on: a Cognito user pool, an
//! OpenAPI body's security scheme, an authorizer whose function `up` does
//! not run, a JWT issuer whose keys are not on this machine (its discovery
//! document is read only from a loopback issuer; `--jwt-jwks ISSUER=FILE`
//! gives any other's), a setting API Gateway itself would reject.
//!
//! Must not: fetch keys or start functions (`up::gates` does, at start).

use super::{s, Context, Stack};
use crate::auth::flags::DEFAULT_TTL_SECS;
use crate::auth::iam::IamMode;
use crate::auth::identity::{IdentitySource, Syntax};
use crate::auth::jwks::{is_local_url, JwksSource};
use crate::auth::jwt::JwtConfig;
use crate::auth::lambda::{validation_regex, LambdaAuthorizerConfig, LambdaKind, PayloadVersion};
use crate::up::plan::Resource;
use serde_json::Value;
use std::time::Duration;

/// What an authorizer runs.
#[derive(Debug, Clone)]
pub enum AuthorizerKind {
    /// An HTTP API JWT authorizer.
    Jwt(JwtConfig),
    /// A Lambda authorizer running one of the stack's functions.
    Lambda {
        /// Index into [`Stack::functions`].
        function: usize,
        /// Its configuration.
        config: LambdaAuthorizerConfig,
    },
}

/// One authorizer of the stack.
#[derive(Debug, Clone)]
pub struct AuthorizerSpec {
    /// Its address.
    pub address: String,
    /// Its id (what routes name in `authorizer_id`).
    pub id: String,
    /// Its API's id.
    pub api_id: String,
    /// What it runs; `None`: refused (its finding says why).
    pub kind: Option<AuthorizerKind>,
}

/// How one route or method is authorized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// No authorization.
    Open,
    /// An authorizer of the stack.
    Authorizer {
        /// Index into [`Stack::authorizers`].
        index: usize,
        /// The route's `authorization_scopes` (JWT only).
        scopes: Vec<String>,
    },
    /// `AWS_IAM`: not emulated; `--iam-auth` decides unsigned requests.
    Iam,
    /// Cannot be emulated: answered 401, never passed on (its finding
    /// says why).
    Refused,
}

fn strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    out.sort();
    out
}

/// `authorizer_result_ttl_in_seconds`, API Gateway's 300 when unset.
fn ttl(r: &Resource) -> Result<Duration, String> {
    match r.values["authorizer_result_ttl_in_seconds"].as_u64() {
        None => Ok(Duration::from_secs(DEFAULT_TTL_SECS)),
        Some(t) if t <= 3600 => Ok(Duration::from_secs(t)),
        Some(t) => Err(format!(
            "authorizer_result_ttl_in_seconds {t} is over API Gateway's 3600"
        )),
    }
}

/// Where a JWT issuer's keys are: `--jwt-jwks`, else the issuer's own
/// discovery document when it is on this machine.
fn jwks_for(issuer: &str, given: &[(String, String)]) -> Result<JwksSource, String> {
    let same = |a: &str| a.trim_end_matches('/') == issuer.trim_end_matches('/');
    if let Some((_, v)) = given.iter().find(|(i, _)| same(i)) {
        return Ok(JwksSource::from_flag(Some(v), issuer));
    }
    if is_local_url(issuer) {
        return Ok(JwksSource::Discover(issuer.to_string()));
    }
    Err(format!(
        "its issuer {issuer} is not on this machine, and up reaches nothing beyond it: pass --jwt-jwks '{issuer}=FILE' with the issuer's key set (the document its jwks_uri serves)"
    ))
}

fn jwt(r: &Resource, cx: &Context<'_>) -> Result<AuthorizerKind, String> {
    let jwt = r.block("jwt_configuration");
    let issuer = jwt["issuer"].as_str().unwrap_or("").to_string();
    let audiences = strings(&jwt["audience"]);
    if issuer.is_empty() || audiences.is_empty() {
        return Err(
            "its jwt_configuration needs an issuer and an audience, as API Gateway's does".into(),
        );
    }
    let identity = match strings(&r.values["identity_sources"]).as_slice() {
        [one] => IdentitySource::parse(one, Syntax::HttpApi)?,
        _ => return Err(
            "a JWT authorizer reads its token from exactly one identity source (identity_sources)"
                .into(),
        ),
    };
    let jwks = jwks_for(&issuer, cx.jwks)?;
    Ok(AuthorizerKind::Jwt(JwtConfig {
        issuer,
        audiences,
        identity,
        jwks,
    }))
}

fn function_of(stack: &Stack, r: &Resource) -> Result<usize, String> {
    let uri = s(r, "authorizer_uri");
    stack
        .function_ref(uri)
        .ok_or_else(|| format!("its function ({uri}) is not one up runs"))
}

fn identities(exprs: &[String], syntax: Syntax) -> Result<Vec<IdentitySource>, String> {
    exprs
        .iter()
        .map(|e| IdentitySource::parse(e.trim(), syntax))
        .collect()
}

fn http_lambda(r: &Resource, stack: &Stack) -> Result<AuthorizerKind, String> {
    let payload = match r.str("authorizer_payload_format_version") {
        Some("2.0") => PayloadVersion::V2,
        Some("1.0") => PayloadVersion::V1,
        other => {
            return Err(format!(
                "authorizer_payload_format_version is {other:?}: an HTTP API Lambda authorizer needs 1.0 or 2.0"
            ))
        }
    };
    let simple = r.values["enable_simple_responses"] == true;
    if simple && payload == PayloadVersion::V1 {
        return Err("enable_simple_responses needs authorizer_payload_format_version 2.0, as on API Gateway".into());
    }
    let config = LambdaAuthorizerConfig {
        kind: LambdaKind::HttpApi { payload, simple },
        identity: identities(&strings(&r.values["identity_sources"]), Syntax::HttpApi)?,
        ttl: ttl(r)?,
    };
    Ok(AuthorizerKind::Lambda {
        function: function_of(stack, r)?,
        config,
    })
}

fn rest_lambda(r: &Resource, stack: &Stack) -> Result<AuthorizerKind, String> {
    let exprs: Vec<String> = match r.str("identity_source").filter(|v| !v.is_empty()) {
        Some(v) => v.split(',').map(|e| e.trim().to_string()).collect(),
        None => Vec::new(),
    };
    let kind = match r.str("type").unwrap_or("TOKEN") {
        "TOKEN" => {
            let validation = r
                .str("identity_validation_expression")
                .filter(|v| !v.is_empty())
                .map(|v| validation_regex(v).map_err(|e| format!("identity_validation_expression is {e}")))
                .transpose()?;
            LambdaKind::RestToken { validation }
        }
        "REQUEST" => LambdaKind::RestRequest,
        "COGNITO_USER_POOLS" => {
            return Err("a Cognito user pool authorizer: not emulated (its tokens come from Cognito, which does not run here)".into())
        }
        other => return Err(format!("an authorizer of type {other:?}: not emulated")),
    };
    let identity = identities(&exprs, Syntax::RestApi)?;
    let token = matches!(kind, LambdaKind::RestToken { .. });
    let identity =
        match (token, identity.as_slice()) {
            (true, []) => vec![IdentitySource::Header("Authorization".into())],
            (true, [IdentitySource::Header(_)]) => identity,
            (true, _) => return Err(
                "a TOKEN authorizer reads one header: identity_source method.request.header.NAME"
                    .into(),
            ),
            (false, _) => identity,
        };
    let config = LambdaAuthorizerConfig {
        kind,
        identity,
        ttl: ttl(r)?,
    };
    Ok(AuthorizerKind::Lambda {
        function: function_of(stack, r)?,
        config,
    })
}

/// Reads every authorizer; the refused ones are kept (without a kind) so
/// that their routes are refused too.
pub(super) fn read(cx: &Context<'_>, stack: &mut Stack) {
    let http = cx.plan.of("aws_apigatewayv2_authorizer").map(|r| (r, true));
    let rest = cx.plan.of("aws_api_gateway_authorizer").map(|r| (r, false));
    for (r, is_http) in http.chain(rest).collect::<Vec<_>>() {
        let kind = match (is_http, s(r, "authorizer_type")) {
            (true, "JWT") => jwt(r, cx),
            (true, "REQUEST") => http_lambda(r, stack),
            (true, other) => Err(format!("an authorizer of type {other:?}: not emulated")),
            (false, _) => rest_lambda(r, stack),
        };
        let kind = match kind {
            Ok(k) => Some(k),
            Err(why) => {
                stack.findings.refuse(
                    &r.address,
                    format!(
                        "{why}: every route it guards answers 401 Unauthorized, never passed on"
                    ),
                );
                None
            }
        };
        let api_id = if is_http { "api_id" } else { "rest_api_id" };
        stack.authorizers.push(AuthorizerSpec {
            address: r.address.clone(),
            id: s(r, "id").to_string(),
            api_id: s(r, api_id).to_string(),
            kind,
        });
    }
}

/// How a route or method is authorized, from its `authorization_type`
/// (HTTP API) or `authorization` (REST API), `authorizer_id` and
/// `authorization_scopes`; `what` names it in a refusal.
pub(super) fn guard(
    cx: &Context<'_>,
    stack: &mut Stack,
    r: &Resource,
    api_id: &str,
    what: &str,
) -> Guard {
    let http = r.kind == "aws_apigatewayv2_route";
    let auth = s(
        r,
        if http {
            "authorization_type"
        } else {
            "authorization"
        },
    );
    let refuse = |stack: &mut Stack, why: String| {
        stack.findings.refuse(
            &r.address,
            format!("{what} {why}: answered 401 Unauthorized, never passed on"),
        );
        Guard::Refused
    };
    match auth {
        "" | "NONE" => Guard::Open,
        "AWS_IAM" => {
            stack
                .findings
                .not_emulated(&r.address, format!("{what}: {}", iam_text(cx.iam)));
            Guard::Iam
        }
        "JWT" | "CUSTOM" => {
            let id = s(r, "authorizer_id");
            let Some(index) = stack
                .authorizers
                .iter()
                .position(|a| a.id == id && a.api_id == api_id)
            else {
                return refuse(
                    stack,
                    format!("names the authorizer {id:?}, which is not in the stack"),
                );
            };
            let a = &stack.authorizers[index];
            let jwt = matches!(a.kind, Some(AuthorizerKind::Jwt(_)));
            match &a.kind {
                None => {
                    let address = a.address.clone();
                    refuse(stack, format!("is guarded by {address}, which is refused"))
                }
                Some(_) if http && (auth == "JWT") != jwt => {
                    let address = a.address.clone();
                    refuse(stack, format!("has authorization_type {auth}, which does not match its authorizer {address}"))
                }
                Some(_) => Guard::Authorizer {
                    index,
                    scopes: strings(&r.values["authorization_scopes"]),
                },
            }
        }
        other => refuse(
            stack,
            format!("uses {other} authorization, which is not emulated"),
        ),
    }
}

/// What `up` says of an `AWS_IAM` route or Function URL.
pub(super) fn iam_text(mode: IamMode) -> String {
    let unsigned = match mode {
        IamMode::Deny => {
            "refused with 403 as AWS refuses it (--iam-auth deny; --iam-auth allow lets it through)"
        }
        IamMode::Allow => "let through (--iam-auth allow)",
    };
    format!("AWS_IAM authorization is not emulated: SigV4 signatures are not checked, so a signed request passes; an unsigned one is {unsigned}")
}

/// A route of an OpenAPI body with a security requirement: its schemes
/// are not read, so it is refused.
pub(super) fn openapi_guard(
    stack: &mut Stack,
    address: &str,
    what: &str,
    security: &[String],
) -> Guard {
    if security.is_empty() {
        return Guard::Open;
    }
    stack.findings.refuse(
        address,
        format!(
            "{what} is guarded by {} from its OpenAPI body, whose security schemes up does not read (declare the authorizer as a Terraform resource to have it run): answered 401 Unauthorized, never passed on",
            security.join(", ")
        ),
    );
    Guard::Refused
}
