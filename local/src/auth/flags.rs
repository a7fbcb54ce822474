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
use crate::frontdoor::events::Source;
use crate::function::Function;
use crate::layer::Layer;
use crate::sandbox::SandboxConfig;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// API Gateway's default `authorizerResultTtlInSeconds` (300 s).
pub const DEFAULT_TTL_SECS: u64 = 300;

/// The flags as given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthFlags {
    /// `--jwt-issuer`.
    pub jwt_issuer: Option<String>,
    /// `--jwt-audience` (repeatable).
    pub jwt_audiences: Vec<String>,
    /// `--jwt-jwks`.
    pub jwt_jwks: Option<String>,
    /// `--jwt-scope` (repeatable): the route's authorization scopes.
    pub jwt_scopes: Vec<String>,
    /// `--identity-source` (repeatable).
    pub identity_sources: Vec<String>,
    /// `--authorizer-function`.
    pub function: Option<PathBuf>,
    /// `--authorizer-handler`.
    pub handler: Option<String>,
    /// `--authorizer-runtime`.
    pub runtime: Option<String>,
    /// `--authorizer-layer`.
    pub layer: Option<PathBuf>,
    /// `--authorizer-env` (repeatable).
    pub env: Vec<(String, String)>,
    /// `--authorizer-type`: request or token.
    pub kind: Option<String>,
    /// `--authorizer-payload`: 1.0 or 2.0.
    pub payload: Option<String>,
    /// `--authorizer-simple-response`.
    pub simple: bool,
    /// `--authorizer-ttl` in seconds.
    pub ttl: Option<u64>,
    /// `--authorizer-validation`: a TOKEN authorizer's regular expression.
    pub validation: Option<String>,
    /// `--iam-auth`.
    pub iam: Option<IamMode>,
}

/// The flags this module reads, with whether each takes a value.
const FLAGS: [(&str, bool); 16] = [
    ("--jwt-issuer", true),
    ("--jwt-audience", true),
    ("--jwt-jwks", true),
    ("--jwt-scope", true),
    ("--identity-source", true),
    ("--authorizer-function", true),
    ("--authorizer-handler", true),
    ("--authorizer-runtime", true),
    ("--authorizer-layer", true),
    ("--authorizer-env", true),
    ("--authorizer-type", true),
    ("--authorizer-payload", true),
    ("--authorizer-simple-response", false),
    ("--authorizer-ttl", true),
    ("--authorizer-validation", true),
    ("--iam-auth", true),
];

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
    /// Whether `flag` is one of these.
    pub fn takes(flag: &str) -> bool {
        FLAGS.iter().any(|(f, _)| *f == flag)
    }

    /// Applies one flag; `value` reads its value.
    pub fn apply(
        &mut self,
        flag: &str,
        value: &mut dyn FnMut() -> Result<String, String>,
    ) -> Result<(), String> {
        match flag {
            "--jwt-issuer" => self.jwt_issuer = Some(value()?),
            "--jwt-audience" => self.jwt_audiences.push(value()?),
            "--jwt-jwks" => self.jwt_jwks = Some(value()?),
            "--jwt-scope" => self.jwt_scopes.push(value()?),
            "--identity-source" => self.identity_sources.push(value()?),
            "--authorizer-function" => self.function = Some(PathBuf::from(value()?)),
            "--authorizer-handler" => self.handler = Some(value()?),
            "--authorizer-runtime" => self.runtime = Some(value()?),
            "--authorizer-layer" => self.layer = Some(PathBuf::from(value()?)),
            "--authorizer-env" => {
                let v = value()?;
                let (k, val) = v
                    .split_once('=')
                    .filter(|(k, _)| !k.is_empty())
                    .ok_or_else(|| format!("--authorizer-env wants KEY=VALUE, got {v:?}"))?;
                self.env.push((k.to_string(), val.to_string()));
            }
            "--authorizer-type" => self.kind = Some(value()?),
            "--authorizer-payload" => self.payload = Some(value()?),
            "--authorizer-simple-response" => self.simple = true,
            "--authorizer-ttl" => {
                let v = value()?;
                self.ttl = Some(v.parse().ok().filter(|t| *t <= 3600).ok_or_else(|| {
                    format!("--authorizer-ttl wants seconds from 0 (no caching) to 3600, got {v:?}")
                })?);
            }
            "--authorizer-validation" => self.validation = Some(value()?),
            "--iam-auth" => self.iam = Some(IamMode::parse(&value()?)?),
            other => return Err(format!("{other} is not an authorizer flag")),
        }
        Ok(())
    }

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
        let kind = match (source, self.kind.as_deref().unwrap_or("request")) {
            (Source::HttpApiV2, "request") => {
                let payload = match self.payload.as_deref().unwrap_or("2.0") {
                    "2.0" => PayloadVersion::V2,
                    "1.0" => PayloadVersion::V1,
                    other => return Err(format!("--authorizer-payload wants 1.0 or 2.0, got {other:?}")),
                };
                if self.simple && payload == PayloadVersion::V1 {
                    return Err("--authorizer-simple-response needs --authorizer-payload 2.0, as on API Gateway".into());
                }
                LambdaKind::HttpApi { payload, simple: self.simple }
            }
            (Source::HttpApiV2, "token") => {
                return Err("--authorizer-type token: HTTP APIs have REQUEST authorizers only; use --event rest-api for a TOKEN authorizer".into())
            }
            (_, "request") | (_, "token") if self.payload.is_some() || self.simple => {
                return Err("--authorizer-payload and --authorizer-simple-response are HTTP API settings; a REST API authorizer answers with an IAM policy".into())
            }
            (_, "token") => {
                let validation = self
                    .validation
                    .as_deref()
                    .map(|re| {
                        regex::Regex::new(&format!("^(?:{re})$"))
                            .map_err(|e| format!("--authorizer-validation is not a regular expression: {e}"))
                    })
                    .transpose()?;
                LambdaKind::RestToken { validation }
            }
            (_, "request") => LambdaKind::RestRequest,
            (_, other) => return Err(format!("--authorizer-type wants request or token, got {other:?}")),
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
    let kind = match &cfg.kind {
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
    };
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

    fn flags(args: &[&str]) -> Result<AuthFlags, String> {
        let mut f = AuthFlags::default();
        let mut i = 0;
        while i < args.len() {
            let flag = args[i];
            let mut value = || {
                i += 1;
                args.get(i)
                    .map(|s| s.to_string())
                    .ok_or_else(|| "no value".to_string())
            };
            f.apply(flag, &mut value)?;
            i += 1;
        }
        Ok(f)
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
