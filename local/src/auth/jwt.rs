//! HTTP API JWT authorizers, as API Gateway runs them
//! (http-api-jwt-authorizer.html, "Authorizing API requests"): the token
//! from the identity source (alone or after `Bearer `), its RSA signature
//! checked with the issuer's key its `kid` names, then `iss` (exactly the
//! configured issuer), `aud` (one of the audiences; `client_id` only when
//! there is no `aud`), `exp` (after now), `nbf` and `iat` (not after now)
//! and, when the route has scopes, `scope` or `scp` (at least one of them).
//! The claims reach the function in `requestContext.authorizer.jwt` as API
//! Gateway delivers them: every value a string.
//!
//! Owns: decoding, verification and the claims' delivery form; refreshing
//! the key set once when a token names a key it lacks (an issuer rotated
//! its keys).
//!
//! Must not: answer the request (the gate turns a [`Refusal`] into the
//! source's answer) or log a token.

use super::answers::Refusal;
use super::identity::{IdentitySource, RequestFacts};
use super::jwks::{JwksSource, KeySet, RsaKey};
use crate::frontdoor::events::HttpRequest;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

/// How a JWT authorizer is configured (API Gateway's `JwtConfiguration` and
/// identity source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfig {
    /// `Issuer`: must equal the token's `iss`.
    pub issuer: String,
    /// `Audience`: the token's `aud` (or `client_id`) must be one of them.
    pub audiences: Vec<String>,
    /// Where the token is.
    pub identity: IdentitySource,
    /// Where the signing keys are.
    pub jwks: JwksSource,
}

/// Why a token is not valid: the `error_description` API Gateway sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url parts with JSON header and claims.
    Malformed,
    /// Signed with an algorithm other than RS*/PS*.
    Algorithm(String),
    /// No `kid` in the header.
    NoKeyId,
    /// A `kid` the key set does not have.
    UnknownKey,
    /// The signature does not verify.
    Signature,
    /// `iss` is not the issuer.
    Issuer,
    /// Neither `aud` nor `client_id` matches.
    Audience,
    /// `exp` is missing or not a number.
    NoExpiry,
    /// `exp` has passed.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is in the future.
    IssuedInFuture,
}

impl TokenError {
    /// The `error_description`. API Gateway documents the audience one;
    /// the others follow its wording (local/AUTHORIZERS.md).
    pub fn description(&self) -> String {
        match self {
            TokenError::Malformed => "the token is not a valid JWT".into(),
            TokenError::Algorithm(alg) => format!("signing method {alg} is invalid"),
            TokenError::NoKeyId => "the token has no kid header".into(),
            TokenError::UnknownKey => {
                "the token's kid does not match a key in the issuer's jwks_uri".into()
            }
            TokenError::Signature => "the token's signature is invalid".into(),
            TokenError::Issuer => "the token does not have a valid issuer".into(),
            TokenError::Audience => "the token does not have a valid audience".into(),
            TokenError::NoExpiry => "the token has no exp claim".into(),
            TokenError::Expired => "the token has expired".into(),
            TokenError::NotYetValid => "the token is not valid yet".into(),
            TokenError::IssuedInFuture => "the token was issued in the future".into(),
        }
    }
}

fn b64(s: &str) -> Result<Vec<u8>, TokenError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| TokenError::Malformed)
}

/// The signature algorithms checked: RSA with SHA-2 (RFC 7518 §3.3, §3.5).
const ALGORITHMS: [&str; 6] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];

/// Whether `signature` over `message` is `key`'s, by `alg` (RSASSA-PKCS1-v1_5
/// or RSASSA-PSS with SHA-2, RFC 7518 §3.3 and §3.5), with a key of 2048 to
/// 8192 bits, as the JOSE libraries API Gateway's documentation points to
/// accept.
fn verify_signature(key: &RsaKey, alg: &str, message: &[u8], signature: &[u8]) -> bool {
    use rsa::signature::Verifier;
    use sha2::{Sha256, Sha384, Sha512};
    if key.alg.as_deref().is_some_and(|a| a != alg) {
        return false;
    }
    let n = rsa::BigUint::from_bytes_be(&key.n);
    if !(2048..=8192).contains(&n.bits()) {
        return false;
    }
    let Ok(public) =
        rsa::RsaPublicKey::new_with_max_size(n, rsa::BigUint::from_bytes_be(&key.e), 8192)
    else {
        return false;
    };
    let pkcs1 = |verify: &dyn Fn(&rsa::pkcs1v15::Signature) -> bool| {
        rsa::pkcs1v15::Signature::try_from(signature).is_ok_and(|s| verify(&s))
    };
    let pss = |verify: &dyn Fn(&rsa::pss::Signature) -> bool| {
        rsa::pss::Signature::try_from(signature).is_ok_and(|s| verify(&s))
    };
    match alg {
        "RS256" => pkcs1(&|s| {
            rsa::pkcs1v15::VerifyingKey::<Sha256>::new(public.clone())
                .verify(message, s)
                .is_ok()
        }),
        "RS384" => pkcs1(&|s| {
            rsa::pkcs1v15::VerifyingKey::<Sha384>::new(public.clone())
                .verify(message, s)
                .is_ok()
        }),
        "RS512" => pkcs1(&|s| {
            rsa::pkcs1v15::VerifyingKey::<Sha512>::new(public.clone())
                .verify(message, s)
                .is_ok()
        }),
        "PS256" => pss(&|s| {
            rsa::pss::VerifyingKey::<Sha256>::new(public.clone())
                .verify(message, s)
                .is_ok()
        }),
        "PS384" => pss(&|s| {
            rsa::pss::VerifyingKey::<Sha384>::new(public.clone())
                .verify(message, s)
                .is_ok()
        }),
        "PS512" => pss(&|s| {
            rsa::pss::VerifyingKey::<Sha512>::new(public.clone())
                .verify(message, s)
                .is_ok()
        }),
        _ => false,
    }
}

fn number(claims: &Map<String, Value>, name: &str) -> Option<f64> {
    claims.get(name).and_then(Value::as_f64)
}

/// Verifies `token` against `keys` and `cfg` at `now` (seconds since
/// 1970): its claims.
pub fn verify(
    token: &str,
    keys: &KeySet,
    cfg: &JwtConfig,
    now: u64,
) -> Result<Map<String, Value>, TokenError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err(TokenError::Malformed);
    };
    let header: Value = serde_json::from_slice(&b64(header)?).map_err(|_| TokenError::Malformed)?;
    let claims: Map<String, Value> =
        serde_json::from_slice(&b64(payload)?).map_err(|_| TokenError::Malformed)?;
    let signature = b64(signature)?;
    let alg = header["alg"].as_str().ok_or(TokenError::Malformed)?;
    if !ALGORITHMS.contains(&alg) {
        return Err(TokenError::Algorithm(alg.to_string()));
    }
    let kid = header["kid"].as_str().ok_or(TokenError::NoKeyId)?;
    let key = keys.find(kid).ok_or(TokenError::UnknownKey)?;
    let signed = &token[..token.rfind('.').unwrap_or(0)];
    if !verify_signature(key, alg, signed.as_bytes(), &signature) {
        return Err(TokenError::Signature);
    }
    if claims.get("iss").and_then(Value::as_str) != Some(cfg.issuer.as_str()) {
        return Err(TokenError::Issuer);
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(a)) => cfg.audiences.contains(a),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|a| cfg.audiences.iter().any(|c| c == a)),
        Some(_) => false,
        None => claims
            .get("client_id")
            .and_then(Value::as_str)
            .is_some_and(|c| cfg.audiences.iter().any(|a| a == c)),
    };
    if !audience_ok {
        return Err(TokenError::Audience);
    }
    let now = now as f64;
    match number(&claims, "exp") {
        None => return Err(TokenError::NoExpiry),
        Some(exp) if exp <= now => return Err(TokenError::Expired),
        _ => {}
    }
    if number(&claims, "nbf").is_some_and(|nbf| nbf > now) {
        return Err(TokenError::NotYetValid);
    }
    if number(&claims, "iat").is_some_and(|iat| iat > now) {
        return Err(TokenError::IssuedInFuture);
    }
    Ok(claims)
}

/// A claim's value as API Gateway passes it on: text as is, numbers and
/// booleans as their JSON text, a list as `[a b]`, an object as
/// `map[k:v]` (the form its Go runtime prints; local/AUTHORIZERS.md).
pub fn claim_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(claim_text).collect();
            format!("[{}]", inner.join(" "))
        }
        Value::Object(map) => {
            let mut pairs: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}:{}", claim_text(v)))
                .collect();
            pairs.sort();
            format!("map[{}]", pairs.join(" "))
        }
    }
}

/// The scopes a token carries: `scope` (space-separated) and `scp` (a
/// string or a list).
pub fn token_scopes(claims: &Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in ["scope", "scp"] {
        match claims.get(name) {
            Some(Value::String(s)) => out.extend(s.split_whitespace().map(str::to_string)),
            Some(Value::Array(list)) => {
                out.extend(list.iter().filter_map(Value::as_str).map(str::to_string))
            }
            _ => {}
        }
    }
    out.dedup();
    out
}

/// How often the key set may be fetched again for an unknown `kid`.
const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// A JWT authorizer with its keys.
pub struct JwtAuthorizer {
    cfg: JwtConfig,
    keys: tokio::sync::Mutex<Loaded>,
}

/// The key set, and when it was loaded.
struct Loaded {
    keys: KeySet,
    at: Instant,
}

impl Loaded {
    fn now(keys: KeySet) -> Loaded {
        Loaded {
            keys,
            at: Instant::now(),
        }
    }
}

impl JwtAuthorizer {
    /// Loads the keys; an error says where they were looked for.
    pub async fn start(cfg: JwtConfig) -> Result<JwtAuthorizer, String> {
        let keys = cfg.jwks.load().await?;
        Ok(JwtAuthorizer {
            cfg,
            keys: tokio::sync::Mutex::new(Loaded::now(keys)),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &JwtConfig {
        &self.cfg
    }

    /// How many keys it holds now.
    pub async fn key_count(&self) -> usize {
        self.keys.lock().await.keys.keys.len()
    }

    /// Checks a request: what goes in `requestContext.authorizer`.
    pub async fn check(
        &self,
        req: &HttpRequest,
        facts: &RequestFacts<'_>,
        route_scopes: &[String],
        now: u64,
    ) -> Result<Value, Refusal> {
        let Some(raw) = self.cfg.identity.value(req, facts) else {
            eprintln!("portside-local: JWT authorizer: the request has no token (identity source {:?}); API Gateway answers 401", self.cfg.identity);
            return Err(Refusal::Unauthorized);
        };
        let token = match raw.get(..7) {
            Some(p) if p.eq_ignore_ascii_case("bearer ") => raw[7..].trim(),
            _ => raw.trim(),
        };
        let claims = match self.verify_reloading(token, now).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!(
                    "portside-local: JWT authorizer refused a token: {} (API Gateway answers 401)",
                    e.description()
                );
                return Err(Refusal::InvalidToken(e.description()));
            }
        };
        let scopes = token_scopes(&claims);
        if !route_scopes.is_empty() && !route_scopes.iter().any(|s| scopes.contains(s)) {
            eprintln!(
                "portside-local: JWT authorizer: the token has none of the route's scopes ({}); API Gateway answers 403",
                route_scopes.join(" ")
            );
            return Err(Refusal::InsufficientScope {
                scopes: route_scopes.join(" "),
            });
        }
        let delivered: Map<String, Value> = claims
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(claim_text(v))))
            .collect();
        Ok(json!({
            "jwt": {
                "claims": delivered,
                "scopes": if route_scopes.is_empty() { Value::Null } else { json!(scopes) },
            }
        }))
    }

    async fn verify_reloading(
        &self,
        token: &str,
        now: u64,
    ) -> Result<Map<String, Value>, TokenError> {
        let mut loaded = self.keys.lock().await;
        match verify(token, &loaded.keys, &self.cfg, now) {
            Err(TokenError::UnknownKey) if loaded.at.elapsed() >= RELOAD_EVERY => {
                match self.cfg.jwks.load().await {
                    Ok(fresh) => *loaded = Loaded::now(fresh),
                    Err(e) => {
                        eprintln!("portside-local: JWT authorizer: cannot reload the keys: {e}")
                    }
                }
                verify(token, &loaded.keys, &self.cfg, now)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_delivered_as_text() {
        assert_eq!(claim_text(&json!("a")), "a");
        assert_eq!(claim_text(&json!(1612061676)), "1612061676");
        assert_eq!(claim_text(&json!(true)), "true");
        assert_eq!(claim_text(&json!(["admin", "users"])), "[admin users]");
        assert_eq!(claim_text(&json!({"b": 1, "a": "x"})), "map[a:x b:1]");
    }

    #[test]
    fn scopes_come_from_scope_or_scp() {
        let c = |v: Value| v.as_object().cloned().expect("object");
        assert_eq!(token_scopes(&c(json!({"scope": "a b"}))), ["a", "b"]);
        assert_eq!(token_scopes(&c(json!({"scp": ["x", "y"]}))), ["x", "y"]);
        assert!(token_scopes(&c(json!({}))).is_empty());
    }

    #[test]
    fn a_malformed_or_unsupported_token_is_refused_before_any_key() {
        let cfg = JwtConfig {
            issuer: "i".into(),
            audiences: vec!["a".into()],
            identity: IdentitySource::Header("Authorization".into()),
            jwks: JwksSource::File("unused".into()),
        };
        let keys = KeySet::default();
        assert_eq!(verify("abc", &keys, &cfg, 0), Err(TokenError::Malformed));
        // {"alg":"HS256","kid":"k"} . {} . sig
        let hs = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsifQ.e30.c2ln";
        assert_eq!(
            verify(hs, &keys, &cfg, 0),
            Err(TokenError::Algorithm("HS256".into()))
        );
        // {"alg":"RS256","kid":"k"}
        let rs = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.e30.c2ln";
        assert_eq!(verify(rs, &keys, &cfg, 0), Err(TokenError::UnknownKey));
    }
}
