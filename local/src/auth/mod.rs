//! Authorizers in front of the function, as API Gateway and Function URLs
//! run them before the integration: HTTP API JWT authorizers ([`jwt`], with
//! keys from [`jwks`]), Lambda authorizers ([`lambda`], whose IAM policies
//! [`policy`] evaluates), and IAM authorization, which is not emulated
//! ([`iam`]). [`answers`] holds what the source answers when it refuses a
//! request; [`identity`] the identity sources; [`flags`] the command-line
//! flags and the checks that refuse, at start, anything configured that is
//! not emulated. local/AUTHORIZERS.md cites the AWS documentation for each
//! behaviour.
//!
//! The [`Gate`] is what the front door asks about each request (the Invoke
//! API is never authorized, as Lambda's is not): it finds the route's
//! authorization ([`RouteAuth`]; the short form gives every route the same
//! one; `portside-local up` gives each route a gate of its own) and answers [`Verdict::Pass`] with what goes in
//! `requestContext.authorizer`, or [`Verdict::Refuse`] with the source's
//! answer.
//!
//! Must not: build events (the front door does) or parse the command line
//! (beyond [`flags`]).

pub mod answers;
pub mod flags;
pub mod iam;
pub mod identity;
pub mod jwks;
pub mod jwt;
pub mod lambda;
pub mod policy;

use crate::frontdoor::events::{EventContext, HttpRequest, HttpResponse, Source};
use crate::function::Function;
use answers::Refusal;
use iam::IamMode;
use identity::RequestFacts;
use jwt::JwtAuthorizer;
use lambda::{CheckInput, LambdaAuthorizer};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// How one route is authorized.
#[derive(Clone)]
pub enum RouteAuth {
    /// A JWT authorizer, with the route's authorization scopes (empty: none).
    Jwt {
        /// The authorizer.
        authorizer: Arc<JwtAuthorizer>,
        /// The route's `authorizationScopes`.
        scopes: Vec<String>,
    },
    /// A Lambda authorizer.
    Lambda(Arc<LambdaAuthorizer>),
    /// `AWS_IAM`, not emulated.
    Iam(IamMode),
}

/// What the gate decided.
#[derive(Debug)]
pub enum Verdict {
    /// Send the request on; the value (if any) is `requestContext.authorizer`.
    Pass(Option<Value>),
    /// Answer with this instead (the function is not invoked).
    Refuse(HttpResponse),
}

/// The authorization in front of one front door.
pub struct Gate {
    source: Source,
    rule: RouteAuth,
    functions: Vec<Arc<Function>>,
    notices: Vec<String>,
    cleanup: Vec<PathBuf>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("source", &self.source)
            .field("notices", &self.notices)
            .finish_non_exhaustive()
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        for dir in &self.cleanup {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Gate {
    /// Every route of `source` authorized by `rule`; `notices` are printed
    /// at start; `functions` are the authorizers' functions (stopped with
    /// the gate); `cleanup` folders are removed with it.
    pub fn new(
        source: Source,
        rule: RouteAuth,
        notices: Vec<String>,
        functions: Vec<Arc<Function>>,
        cleanup: Vec<PathBuf>,
    ) -> Gate {
        Gate {
            source,
            rule,
            functions,
            notices,
            cleanup,
        }
    }

    /// What to say at start (what runs, what is not emulated).
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Stops the authorizers' functions as Lambda does.
    pub async fn shutdown(&self) {
        for f in &self.functions {
            f.shutdown().await;
        }
    }

    /// Authorizes one request; `event` is the integration's event for it.
    pub async fn check(&self, req: &HttpRequest, event: &Value, ctx: &EventContext) -> Verdict {
        self.check_in_stage(req, event, ctx, &req.path).await
    }

    /// [`Gate::check`] for a request on a named stage (`portside-local
    /// up`): `path_in_stage` is its path without the stage, as the method
    /// or route ARN names it.
    pub async fn check_in_stage(
        &self,
        req: &HttpRequest,
        event: &Value,
        ctx: &EventContext,
        path_in_stage: &str,
    ) -> Verdict {
        let rule = self.rule.clone();
        let rc = &event["requestContext"];
        let stage = rc["stage"].as_str().unwrap_or("$default").to_string();
        let route_key = rc["routeKey"]
            .as_str()
            .or_else(|| rc["resourcePath"].as_str())
            .unwrap_or("$default")
            .to_string();
        let facts = RequestFacts {
            route_key: &route_key,
            stage: &stage,
            stage_variables: event["stageVariables"].as_object(),
        };
        let arn = format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}/{}",
            ctx.region,
            ctx.account_id,
            rc["apiId"].as_str().unwrap_or("portsidelocal"),
            stage,
            req.method,
            path_in_stage.trim_start_matches('/')
        );
        let outcome = match rule {
            RouteAuth::Iam(mode) => {
                if iam::allows(mode, req) {
                    Ok(None)
                } else {
                    eprintln!("portside-local: an unsigned request to an IAM-authorized route is refused (--iam-auth deny)");
                    Err(Refusal::MissingSignature)
                }
            }
            RouteAuth::Jwt { authorizer, scopes } => authorizer
                .check(req, &facts, &scopes, crate::util::epoch_millis() / 1000)
                .await
                .map(Some),
            RouteAuth::Lambda(authorizer) => {
                let input = CheckInput {
                    event,
                    ctx,
                    facts: &facts,
                    arn: &arn,
                };
                authorizer.check(req, &input).await.map(Some)
            }
        };
        match outcome {
            Ok(v) => Verdict::Pass(v),
            Err(refusal) => {
                Verdict::Refuse(answers::answer(self.source, &refusal, &ctx.request_id))
            }
        }
    }
}
