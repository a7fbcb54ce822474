//! The stack's authorizers made ready at start, and a gate
//! ([`crate::auth::Gate`]) for each guarded route: a JWT authorizer with
//! its issuer's keys fetched (or read from `--jwt-jwks`), a Lambda
//! authorizer on its function (one of the stack's, run like any other),
//! `AWS_IAM` as `--iam-auth` says. Each route gets its own gate, so one API
//! can have JWT, Lambda-authorizer and open routes side by side; routes of
//! one authorizer share it (its keys, its result cache).
//!
//! An authorizer whose keys cannot be read is refused here, with its
//! address, and the routes behind it answer 401.
//!
//! Owns: turning [`stack::Guard`]s into gates.
//! Must not: authorize requests (`crate::auth`) or serve (`doors`).

use super::stack::{self, AuthorizerKind, Guard, Stack};
use crate::auth::iam::IamMode;
use crate::auth::jwt::JwtAuthorizer;
use crate::auth::lambda::LambdaAuthorizer;
use crate::auth::{Gate, RouteAuth};
use crate::frontdoor::events::Source;
use crate::function::Function;
use std::sync::Arc;

/// What stands in front of one route.
#[derive(Clone)]
pub enum RouteGate {
    /// Nothing: the request goes on.
    Open,
    /// Its gate.
    Gate(Arc<Gate>),
    /// Its authorization cannot be emulated: 401, never passed on.
    Refused,
}

/// The stack's authorizers, ready.
pub struct Gates {
    /// By index of [`Stack::authorizers`]; `None`: refused.
    built: Vec<Option<RouteAuth>>,
    iam: IamMode,
}

/// Makes each authorizer ready: the JWT ones' keys fetched, the Lambda ones
/// on their functions. A JWT authorizer whose keys cannot be read is added
/// to the stack's refusals.
pub async fn build(stack: &mut Stack, functions: &[Arc<Function>], iam: IamMode) -> Gates {
    let mut built = Vec::new();
    for a in stack.authorizers.clone() {
        let rule = match &a.kind {
            None => None,
            Some(AuthorizerKind::Lambda { function, config }) => {
                let f = Arc::clone(&functions[*function]);
                Some(RouteAuth::Lambda(Arc::new(LambdaAuthorizer::new(
                    config.clone(),
                    f,
                ))))
            }
            Some(AuthorizerKind::Jwt(cfg)) => {
                let from = cfg.jwks.describe();
                match JwtAuthorizer::start(cfg.clone()).await {
                    Ok(authorizer) => {
                        eprintln!(
                            "portside-local up: {}: {} RSA key(s) of {} from {from}",
                            a.address,
                            authorizer.key_count().await,
                            cfg.issuer
                        );
                        Some(RouteAuth::Jwt {
                            authorizer: Arc::new(authorizer),
                            scopes: Vec::new(),
                        })
                    }
                    Err(e) => {
                        stack.findings.refuse(&a.address, format!("its keys cannot be read ({e}): every route it guards answers 401 Unauthorized, never passed on"));
                        None
                    }
                }
            }
        };
        built.push(rule);
    }
    Gates { built, iam }
}

impl Gates {
    /// The gate of a route of `source` guarded by `guard`.
    pub fn route(&self, source: Source, guard: &Guard) -> RouteGate {
        let rule = match guard {
            Guard::Open => return RouteGate::Open,
            Guard::Refused => return RouteGate::Refused,
            Guard::Iam => RouteAuth::Iam(self.iam),
            Guard::Authorizer { index, scopes } => match self.built.get(*index) {
                Some(Some(RouteAuth::Jwt { authorizer, .. })) => RouteAuth::Jwt {
                    authorizer: Arc::clone(authorizer),
                    scopes: scopes.clone(),
                },
                Some(Some(rule)) => rule.clone(),
                _ => return RouteGate::Refused,
            },
        };
        RouteGate::Gate(Arc::new(Gate::new(
            source,
            rule,
            Vec::new(),
            Vec::new(),
            Vec::new(),
        )))
    }

    /// The gates of an HTTP API's routes, in order.
    pub fn http(&self, api: &stack::HttpApi) -> Vec<RouteGate> {
        api.routes
            .iter()
            .map(|r| self.route(Source::HttpApiV2, &r.auth))
            .collect()
    }

    /// The gates of a REST API's methods, in order.
    pub fn rest(&self, api: &stack::RestApi) -> Vec<RouteGate> {
        api.routes
            .iter()
            .map(|r| self.route(Source::RestApi, &r.auth))
            .collect()
    }

    /// A Function URL's gate.
    pub fn url(&self, url: &stack::FunctionUrl) -> RouteGate {
        match url.iam {
            true => self.route(Source::FunctionUrl, &Guard::Iam),
            false => RouteGate::Open,
        }
    }
}
