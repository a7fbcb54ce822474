//! The authorizer flags of the short form and `--function`, checked once
//! parsing ends (everything that can be refused without I/O is refused
//! then, naming the flag), and the [`Gate`] they describe, built at start
//! (the JWT keys fetched, the Lambda authorizer's function prepared).
//!
//! Anything configured that portside-local does not emulate is refused
//! here, loudly: a JWT authorizer on anything but an HTTP API, a TOKEN
//! authorizer on an HTTP API, IAM auth where the source has none, two
//! authorization types on one route.
//!
//! Must not: authorize requests.

use super::iam::IamMode;
use super::identity::{IdentitySource, Syntax};
use super::jwks::JwksSource;
use super::jwt::{JwtAuthorizer, JwtConfig};
use super::lambda::{LambdaAuthorizer, LambdaAuthorizerConfig, LambdaKind, PayloadVersion};
use super::{Gate, RouteAuth};
use crate::cli::AUTHORIZERS;
use crate::frontdoor::events::Source;
use crate::function::Function;
use crate::layer::Layer;
use crate::sandbox::SandboxConfig;
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// API Gateway's default `authorizerResultTtlInSeconds` (300 s).
pub const DEFAULT_TTL_SECS: u64 = 300;

/// The flags as given, each with its help and validation (the command
/// line's table: `crate::cli`).
#[derive(Args, Debug, Clone, Default, PartialEq)]
#[command(next_help_heading = AUTHORIZERS)]
pub struct AuthFlags {
    /// An HTTP API JWT authorizer for tokens from this issuer
    #[arg(long, value_name = "URL")]
    pub jwt_issuer: Option<String>,

    /// An accepted audience (aud, else client_id) (repeatable)
    #[arg(long = "jwt-audience", value_name = "AUD")]
    pub jwt_audiences: Vec<String>,

    /// The issuer's keys: a JWKS URL on this machine or a file (default:
    /// ISSUER/.well-known/openid-configuration)
    #[arg(long, value_name = "URL|FILE")]
    pub jwt_jwks: Option<String>,

    /// A route authorization scope (repeatable; one suffices)
    #[arg(long = "jwt-scope", value_name = "SCOPE")]
    pub jwt_scopes: Vec<String>,

    /// Where the token or identity is (repeatable): $request.header.NAME,
    /// $request.querystring.NAME (HTTP API), method.request.header.NAME
    /// (REST API)... (default: the Authorization header)
    #[arg(long = "identity-source", value_name = "EXPR")]
    pub identity_sources: Vec<String>,

    /// A Lambda authorizer: the function in DIR, run by portside-local
    #[arg(
        id = "authorizer_function",
        long = "authorizer-function",
        value_name = "DIR"
    )]
    pub function: Option<PathBuf>,

    /// The authorizer's _HANDLER (default: run.sh), as --handler
    #[arg(
        id = "authorizer_handler",
        long = "authorizer-handler",
        value_name = "NAME"
    )]
    pub handler: Option<String>,

    /// The authorizer's runtime, as --runtime
    #[arg(
        id = "authorizer_runtime",
        long = "authorizer-runtime",
        value_name = "NAME"
    )]
    pub runtime: Option<String>,

    /// The authorizer's layer, as --layer
    #[arg(
        id = "authorizer_layer",
        long = "authorizer-layer",
        value_name = "LAYER"
    )]
    pub layer: Option<PathBuf>,

    /// An authorizer environment variable (repeatable), as --env
    #[arg(id = "authorizer_env", long = "authorizer-env", value_name = "KEY=VALUE", value_parser = crate::cli::key_value)]
    pub env: Vec<(String, String)>,

    /// REQUEST (default) or TOKEN (REST APIs)
    #[arg(long = "authorizer-type", value_name = "request|token", value_parser = authorizer_type)]
    pub kind: Option<AuthorizerType>,

    /// An HTTP API authorizer's payload format (default 2.0)
    #[arg(long = "authorizer-payload", value_name = "1.0|2.0", value_parser = payload_version)]
    pub payload: Option<PayloadVersion>,

    /// HTTP API 2.0: it answers {"isAuthorized", "context"}
    #[arg(long = "authorizer-simple-response")]
    pub simple: bool,

    /// Cache results by identity source for SECS seconds (default 300; 0 =
    /// off)
    #[arg(long = "authorizer-ttl", value_name = "SECS", value_parser = ttl)]
    pub ttl: Option<u64>,

    /// A TOKEN authorizer's identity validation expression
    #[arg(long = "authorizer-validation", value_name = "REGEX")]
    pub validation: Option<String>,

    /// AWS_IAM routes or Function URL: IAM is not emulated (signatures are
    /// not checked); unsigned requests are let through or refused with 403
    #[arg(long = "iam-auth", value_name = "allow|deny", value_parser = IamMode::parse)]
    pub iam: Option<IamMode>,
}

/// `--authorizer-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizerType {
    /// A REQUEST authorizer (HTTP and REST APIs).
    Request,
    /// A TOKEN authorizer (REST APIs).
    Token,
}

fn authorizer_type(s: &str) -> Result<AuthorizerType, String> {
    match s {
        "request" => Ok(AuthorizerType::Request),
        "token" => Ok(AuthorizerType::Token),
        _ => Err("wants request or token".into()),
    }
}

fn payload_version(s: &str) -> Result<PayloadVersion, String> {
    match s {
        "2.0" => Ok(PayloadVersion::V2),
        "1.0" => Ok(PayloadVersion::V1),
        _ => Err("wants 1.0 or 2.0".into()),
    }
}

fn ttl(s: &str) -> Result<u64, String> {
    s.parse()
        .ok()
        .filter(|t| *t <= 3600)
        .ok_or_else(|| "wants seconds from 0 (no caching) to 3600".into())
}

/// What the authorizer's function runs with besides its own flags.
#[derive(Debug, Clone)]
pub struct FunctionDefaults {
    /// `--region`.
    pub region: String,
    /// The function timeout (`--timeout`, or suspended by `--debug`).
    pub timeout: Duration,
    /// `--memory`.
    pub memory_mb: u32,
    /// `--environments`.
    pub environments: usize,
    /// `!--quiet`.
    pub show_logs: bool,
    /// `!--no-freeze` and not `--debug`.
    pub freeze: bool,
}

impl AuthFlags {
    fn lambda_flags_set(&self) -> Option<&'static str> {
        [
            (self.handler.is_some(), "--authorizer-handler"),
            (self.runtime.is_some(), "--authorizer-runtime"),
            (self.layer.is_some(), "--authorizer-layer"),
            (!self.env.is_empty(), "--authorizer-env"),
            (self.kind.is_some(), "--authorizer-type"),
            (self.payload.is_some(), "--authorizer-payload"),
            (self.simple, "--authorizer-simple-response"),
            (self.ttl.is_some(), "--authorizer-ttl"),
            (self.validation.is_some(), "--authorizer-validation"),
        ]
        .into_iter()
        .find_map(|(set, name)| set.then_some(name))
    }

    /// Whether any authorization is configured.
    pub fn any(&self) -> bool {
        self.jwt_issuer.is_some() || self.function.is_some() || self.iam.is_some()
    }

    /// Refuses, naming the flag, every combination that is not emulated or
    /// not possible on API Gateway. Pure.
    pub fn check(&self, source: Source) -> Result<(), String> {
        let jwt = self.jwt_issuer.is_some();
        let lambda = self.function.is_some();
        if !jwt {
            let stray = [
                (!self.jwt_audiences.is_empty(), "--jwt-audience"),
                (self.jwt_jwks.is_some(), "--jwt-jwks"),
                (!self.jwt_scopes.is_empty(), "--jwt-scope"),
            ];
            if let Some((_, name)) = stray.iter().find(|(set, _)| *set) {
                return Err(format!(
                    "{name} configures a JWT authorizer: add --jwt-issuer URL"
                ));
            }
        }
        if !lambda {
            if let Some(name) = self.lambda_flags_set() {
                return Err(format!(
                    "{name} configures a Lambda authorizer: add --authorizer-function DIR"
                ));
            }
        }
        if [jwt, lambda, self.iam.is_some()]
            .iter()
            .filter(|x| **x)
            .count()
            > 1
        {
            return Err("a route has one authorization type: use a JWT authorizer (--jwt-issuer), a Lambda authorizer (--authorizer-function) or --iam-auth, not several".into());
        }
        if !(self.identity_sources.is_empty() || jwt || lambda) {
            return Err("--identity-source belongs to an authorizer: add --jwt-issuer or --authorizer-function".into());
        }
        if jwt {
            self.check_jwt(source)?;
        }
        if lambda {
            self.lambda_config(source)?;
        }
        if self.iam.is_some()
            && !matches!(
                source,
                Source::HttpApiV2 | Source::RestApi | Source::FunctionUrl
            )
        {
            return Err(format!(
                "--iam-auth: {} has no IAM authorization; it exists on HTTP APIs, REST APIs and Function URLs",
                source.name()
            ));
        }
        Ok(())
    }

    fn check_jwt(&self, source: Source) -> Result<(), String> {
        if source != Source::HttpApiV2 {
            return Err(format!(
                "--jwt-issuer: portside-local emulates JWT authorizers on HTTP APIs (--event http-api); {} is not one (REST API JWT authorizers are not emulated)",
                source.name()
            ));
        }
        if self.jwt_audiences.is_empty() {
            return Err("--jwt-issuer needs at least one --jwt-audience (the aud or client_id your tokens carry), as API Gateway's JWT configuration does".into());
        }
        self.jwt_identity().map(|_| ())
    }

    fn jwt_identity(&self) -> Result<IdentitySource, String> {
        match self.identity_sources.as_slice() {
            [] => Ok(IdentitySource::Header("Authorization".into())),
            [one] => IdentitySource::parse(one, Syntax::HttpApi),
            _ => Err("a JWT authorizer reads its token from one identity source; give --identity-source once".into()),
        }
    }

    fn lambda_config(&self, source: Source) -> Result<LambdaAuthorizerConfig, String> {
        let syntax = match source {
            Source::HttpApiV2 => Syntax::HttpApi,
            Source::RestApi => Syntax::RestApi,
            other => {
                return Err(format!(
                    "--authorizer-function: Lambda authorizers exist on HTTP APIs and REST APIs, not on {}",
                    other.name()
                ))
            }
        };
        let kind = match (source, self.kind.unwrap_or(AuthorizerType::Request)) {
            (Source::HttpApiV2, AuthorizerType::Request) => {
                let payload = self.payload.unwrap_or(PayloadVersion::V2);
                if self.simple && payload == PayloadVersion::V1 {
                    return Err("--authorizer-simple-response needs --authorizer-payload 2.0, as on API Gateway".into());
                }
                LambdaKind::HttpApi { payload, simple: self.simple }
            }
            (Source::HttpApiV2, AuthorizerType::Token) => {
                return Err("--authorizer-type token: HTTP APIs have REQUEST authorizers only; use --event rest-api for a TOKEN authorizer".into())
            }
            (_, _) if self.payload.is_some() || self.simple => {
                return Err("--authorizer-payload and --authorizer-simple-response are HTTP API settings; a REST API authorizer answers with an IAM policy".into())
            }
            (_, AuthorizerType::Token) => {
                let validation = self
                    .validation
                    .as_deref()
                    .map(|re| {
                        super::lambda::validation_regex(re)
                            .map_err(|e| format!("--authorizer-validation is {e}"))
                    })
                    .transpose()?;
                LambdaKind::RestToken { validation }
            }
            (_, AuthorizerType::Request) => LambdaKind::RestRequest,
        };
        if self.validation.is_some() && !matches!(kind, LambdaKind::RestToken { .. }) {
            return Err("--authorizer-validation is a TOKEN authorizer's identity validation expression: add --authorizer-type token".into());
        }
        let default_source = match syntax {
            Syntax::HttpApi => "$request.header.Authorization",
            Syntax::RestApi => "method.request.header.Authorization",
        };
        let exprs: Vec<&str> = if self.identity_sources.is_empty() {
            vec![default_source]
        } else {
            self.identity_sources.iter().map(String::as_str).collect()
        };
        let identity = exprs
            .iter()
            .map(|e| IdentitySource::parse(e, syntax))
            .collect::<Result<Vec<_>, _>>()?;
        if matches!(kind, LambdaKind::RestToken { .. })
            && !matches!(identity.as_slice(), [IdentitySource::Header(_)])
        {
            return Err("a TOKEN authorizer reads one header: give one --identity-source method.request.header.NAME".into());
        }
        Ok(LambdaAuthorizerConfig {
            kind,
            identity,
            ttl: Duration::from_secs(self.ttl.unwrap_or(DEFAULT_TTL_SECS)),
        })
    }

    /// Builds the gate: fetches the JWT keys, prepares the authorizer's
    /// function. `None` when no authorization is configured.
    pub async fn build(
        &self,
        source: Source,
        defaults: &FunctionDefaults,
    ) -> Result<Option<Gate>, String> {
        self.check(source)?;
        if let Some(mode) = self.iam {
            return Ok(Some(Gate::new(
                source,
                RouteAuth::Iam(mode),
                vec![mode.notice()],
                vec![],
                vec![],
            )));
        }
        if let Some(issuer) = &self.jwt_issuer {
            let (rule, notice) = self.jwt_rule(issuer).await?;
            return Ok(Some(Gate::new(source, rule, vec![notice], vec![], vec![])));
        }
        let Some(dir) = &self.function else {
            return Ok(None);
        };
        let cfg = self.lambda_config(source)?;
        let (function, cleanup) = self.authorizer_function(dir, defaults).await?;
        let notice = lambda_notice(dir, &cfg);
        let authorizer = LambdaAuthorizer::new(cfg, Arc::clone(&function));
        Ok(Some(Gate::new(
            source,
            RouteAuth::Lambda(Arc::new(authorizer)),
            vec![notice],
            vec![function],
            cleanup,
        )))
    }

    /// The JWT rule (the keys fetched) and its start-up notice.
    async fn jwt_rule(&self, issuer: &str) -> Result<(RouteAuth, String), String> {
        let cfg = JwtConfig {
            issuer: issuer.to_string(),
            audiences: self.jwt_audiences.clone(),
            identity: self.jwt_identity()?,
            jwks: JwksSource::from_flag(self.jwt_jwks.as_deref(), issuer),
        };
        let where_ = cfg.jwks.describe();
        let authorizer = JwtAuthorizer::start(cfg)
            .await
            .map_err(|e| format!("the JWT authorizer cannot get its keys: {e}"))?;
        let scopes = if self.jwt_scopes.is_empty() {
            String::new()
        } else {
            format!(
                ", routes need one of the scopes {}",
                self.jwt_scopes.join(" ")
            )
        };
        let notice = format!(
            "JWT authorizer: issuer {issuer}, audience {}, {} RSA key(s) from {where_}{scopes}",
            self.jwt_audiences.join(", "),
            authorizer.key_count().await,
        );
        let rule = RouteAuth::Jwt {
            authorizer: Arc::new(authorizer),
            scopes: self.jwt_scopes.clone(),
        };
        Ok((rule, notice))
    }

    async fn authorizer_function(
        &self,
        dir: &std::path::Path,
        d: &FunctionDefaults,
    ) -> Result<(Arc<Function>, Vec<PathBuf>), String> {
        if !dir.is_dir() {
            return Err(format!(
                "--authorizer-function {} is not a folder (the authorizer's unpacked function zip)",
                dir.display()
            ));
        }
        let dir = dir
            .canonicalize()
            .map_err(|e| format!("cannot resolve {}: {e}", dir.display()))?;
        let mut cleanup = Vec::new();
        let layer = match &self.layer {
            Some(l) => {
                let mut layer = Layer::open(l)?;
                cleanup.extend(layer.take_cleanup());
                Some(layer)
            }
            None => None,
        };
        let runtime =
            crate::runtimes::function_runtime(self.runtime.as_deref(), &dir, layer.is_some())?;
        let mut cfg = SandboxConfig::new(
            dir,
            self.handler.clone().unwrap_or_else(|| "run.sh".into()),
            runtime,
        );
        cfg.function_name = "portside-local-authorizer".into();
        cfg.region = d.region.clone();
        cfg.timeout = d.timeout;
        cfg.memory_mb = d.memory_mb;
        cfg.show_logs = d.show_logs;
        cfg.freeze = d.freeze;
        cfg.env = self.env.clone();
        let serves_app = layer.as_ref().is_some_and(|l| {
            l.extensions()
                .iter()
                .any(|e| e.file_name().is_some_and(|n| n == "portside"))
        });
        if serves_app
            && crate::sandbox::ports::first_set(&cfg.env, &crate::sandbox::ports::PORT_VARS)
                .is_none()
        {
            // Its app must not take the function's port.
            cfg.env.insert(
                0,
                (
                    "PORT".into(),
                    crate::sandbox::ports::free_port()?.to_string(),
                ),
            );
        }
        let function = Function::new(cfg, layer, d.environments).await?;
        Ok((function, cleanup))
    }
}

/// The start-up notice for a Lambda authorizer.
fn lambda_notice(dir: &std::path::Path, cfg: &LambdaAuthorizerConfig) -> String {
    let kind = cfg.kind.describe();
    let cache = if cfg.ttl.is_zero() {
        "results not cached".to_string()
    } else {
        format!(
            "results cached for {} s by identity source",
            cfg.ttl.as_secs()
        )
    };
    format!("Lambda authorizer: {} ({kind}), {cache}", dir.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flags as the command line parses them.
    fn flags(args: &[&str]) -> Result<AuthFlags, String> {
        #[derive(clap::Parser)]
        struct Line {
            #[command(flatten)]
            auth: AuthFlags,
        }
        let argv = std::iter::once("portside-local").chain(args.iter().copied());
        <Line as clap::Parser>::try_parse_from(argv)
            .map(|l| l.auth)
            .map_err(|e| e.render().to_string())
    }

    #[test]
    fn what_is_not_emulated_is_refused_naming_the_flag() {
        let jwt = flags(&[
            "--jwt-issuer",
            "http://127.0.0.1:9/i",
            "--jwt-audience",
            "api",
        ])
        .unwrap();
        assert!(jwt.check(Source::HttpApiV2).is_ok());
        assert!(jwt
            .check(Source::RestApi)
            .unwrap_err()
            .contains("REST API JWT authorizers are not emulated"));
        let no_aud = flags(&["--jwt-issuer", "http://127.0.0.1:9/i"]).unwrap();
        assert!(no_aud
            .check(Source::HttpApiV2)
            .unwrap_err()
            .contains("--jwt-audience"));
        let token = flags(&["--authorizer-function", "d", "--authorizer-type", "token"]).unwrap();
        assert!(token
            .check(Source::HttpApiV2)
            .unwrap_err()
            .contains("REQUEST authorizers only"));
        assert!(token.check(Source::RestApi).is_ok());
        let both = flags(&[
            "--jwt-issuer",
            "i",
            "--jwt-audience",
            "a",
            "--iam-auth",
            "deny",
        ])
        .unwrap();
        assert!(both
            .check(Source::HttpApiV2)
            .unwrap_err()
            .contains("one authorization type"));
        let iam = flags(&["--iam-auth", "allow"]).unwrap();
        assert!(iam
            .check(Source::Alb { multi_value: false })
            .unwrap_err()
            .contains("no IAM authorization"));
        let stray = flags(&["--authorizer-ttl", "10"]).unwrap();
        assert!(stray
            .check(Source::HttpApiV2)
            .unwrap_err()
            .contains("--authorizer-function"));
        let v1_simple = flags(&[
            "--authorizer-function",
            "d",
            "--authorizer-payload",
            "1.0",
            "--authorizer-simple-response",
        ])
        .unwrap();
        assert!(v1_simple
            .check(Source::HttpApiV2)
            .unwrap_err()
            .contains("2.0"));
        assert!(flags(&["--authorizer-ttl", "3601"])
            .unwrap_err()
            .contains("3600"));
        let wrong_syntax = flags(&[
            "--authorizer-function",
            "d",
            "--identity-source",
            "$request.header.X",
        ])
        .unwrap();
        assert!(wrong_syntax
            .check(Source::RestApi)
            .unwrap_err()
            .contains("method.request.header.NAME"));
    }
}
