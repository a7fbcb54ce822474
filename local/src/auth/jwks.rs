//! The signing keys of a JWT issuer: a JSON Web Key Set (RFC 7517) read
//! from the issuer's OpenID discovery document
//! (`ISSUER/.well-known/openid-configuration` → `jwks_uri`, as API Gateway
//! finds them), from a JWKS URL, or from a local file.
//!
//! Owns: the fetch (plain HTTP to a loopback address only: portside-local
//! reaches nothing beyond the machine), the parse (RSA keys; other key
//! types are skipped, since HTTP API JWT authorizers accept RSA only), and
//! the sources' errors, which say what to do.
//!
//! Must not: verify tokens (`jwt` does).

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest document read.
const MAX_DOCUMENT: usize = 1024 * 1024;

/// One RSA public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaKey {
    /// `kid`.
    pub kid: Option<String>,
    /// `alg`, when the key names the one algorithm it is for.
    pub alg: Option<String>,
    /// The modulus, big-endian, without leading zeros.
    pub n: Vec<u8>,
    /// The exponent, big-endian, without leading zeros.
    pub e: Vec<u8>,
}

/// The RSA signing keys of a key set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    /// The keys.
    pub keys: Vec<RsaKey>,
}

impl KeySet {
    /// The key a token's `kid` names.
    pub fn find(&self, kid: &str) -> Option<&RsaKey> {
        self.keys.iter().find(|k| k.kid.as_deref() == Some(kid))
    }
}

/// Where the keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// The issuer's discovery document names them (`jwks_uri`).
    Discover(String),
    /// A JWKS URL.
    Url(String),
    /// A JWKS file.
    File(PathBuf),
}

impl JwksSource {
    /// `--jwt-jwks VALUE`: a URL or a file; `None`: discovery from the
    /// issuer.
    pub fn from_flag(value: Option<&str>, issuer: &str) -> JwksSource {
        match value {
            None => JwksSource::Discover(issuer.to_string()),
            Some(v) if v.starts_with("http://") || v.starts_with("https://") => {
                JwksSource::Url(v.to_string())
            }
            Some(v) => JwksSource::File(PathBuf::from(v)),
        }
    }

    /// Where the keys come from, for messages.
    pub fn describe(&self) -> String {
        match self {
            JwksSource::Discover(issuer) => {
                format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                )
            }
            JwksSource::Url(u) => u.clone(),
            JwksSource::File(f) => f.display().to_string(),
        }
    }

    /// Reads the key set now.
    pub async fn load(&self) -> Result<KeySet, String> {
        let doc = match self {
            JwksSource::File(f) => std::fs::read(f)
                .map_err(|e| format!("cannot read the JWKS file {}: {e}", f.display()))?,
            JwksSource::Url(u) => get(u).await?.to_vec(),
            JwksSource::Discover(issuer) => {
                let url = self.describe();
                let discovery = get(&url).await.map_err(|e| {
                    format!("{e} (the JWT issuer {issuer} must serve its OpenID discovery document there, as API Gateway reads it; or pass --jwt-jwks URL|FILE)")
                })?;
                let v: Value = serde_json::from_slice(&discovery)
                    .map_err(|e| format!("{url} is not a JSON document: {e}"))?;
                let jwks = v["jwks_uri"]
                    .as_str()
                    .ok_or_else(|| format!("{url} has no jwks_uri"))?;
                get(jwks).await?.to_vec()
            }
        };
        parse(&doc).map_err(|e| format!("{}: {e}", self.describe()))
    }
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()?;
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    Some(bytes[first..].to_vec())
}

/// Reads a JWKS document: its RSA signing keys.
pub fn parse(doc: &[u8]) -> Result<KeySet, String> {
    let v: Value =
        serde_json::from_slice(doc).map_err(|e| format!("not a JSON Web Key Set: {e}"))?;
    let keys = v["keys"]
        .as_array()
        .ok_or("not a JSON Web Key Set: it has no \"keys\" list")?;
    let mut out = KeySet::default();
    for k in keys {
        let usable = k["kty"] == "RSA" && k.get("use").is_none_or(|u| u == "sig");
        if !usable {
            continue;
        }
        let (Some(n), Some(e)) = (
            k["n"].as_str().and_then(b64url),
            k["e"].as_str().and_then(b64url),
        ) else {
            return Err("an RSA key has no valid n or e".into());
        };
        out.keys.push(RsaKey {
            kid: k["kid"].as_str().map(str::to_string),
            alg: k["alg"].as_str().map(str::to_string),
            n,
            e,
        });
    }
    if out.keys.is_empty() {
        return Err(
            "it holds no RSA signing key (API Gateway's JWT authorizers accept RSA keys only)"
                .into(),
        );
    }
    Ok(out)
}

/// Whether `url` is plain HTTP to this machine: what [`get`] fetches.
pub fn is_local_url(url: &str) -> bool {
    url.parse::<http::Uri>()
        .is_ok_and(|u| u.scheme_str() == Some("http") && is_loopback(u.host().unwrap_or("")))
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// GET over plain HTTP to a loopback address: the body of a 200.
pub async fn get(url: &str) -> Result<Bytes, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("{url} is not a URL: {e}"))?;
    let host = uri.host().unwrap_or("");
    if uri.scheme_str() != Some("http") || !is_loopback(host) {
        return Err(format!(
            "portside-local fetches keys only over plain HTTP from this machine (127.0.0.1 or localhost), not from {url}; download the key set and pass --jwt-jwks FILE"
        ));
    }
    let port = uri.port_u16().unwrap_or(80);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let fetch = async {
        let stream = tokio::net::TcpStream::connect((bare, port))
            .await
            .map_err(|e| format!("cannot connect to {url}: {e}"))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("cannot talk to {url}: {e}"))?;
        tokio::spawn(conn);
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let req = http::Request::get(path)
            .header("host", uri.authority().map_or(host, |a| a.as_str()))
            .header("accept", "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|e| format!("cannot build the request for {url}: {e}"))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| format!("{url} did not answer: {e}"))?;
        if resp.status() != http::StatusCode::OK {
            return Err(format!("{url} answered {}", resp.status()));
        }
        Limited::new(resp.into_body(), MAX_DOCUMENT)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .map_err(|e| format!("cannot read the answer of {url}: {e}"))
    };
    tokio::time::timeout(FETCH_TIMEOUT, fetch)
        .await
        .map_err(|_| format!("{url} did not answer within {} s", FETCH_TIMEOUT.as_secs()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_signing_keys_are_kept_and_others_skipped() {
        let doc = br#"{"keys": [
            {"kty": "RSA", "kid": "a", "alg": "RS256", "use": "sig", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "b", "n": "AAEAAQ", "e": "AQAB"}
        ]}"#;
        let set = parse(doc).expect("parses");
        let kids: Vec<_> = set.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        assert_eq!(kids, ["a", "b"]);
        // Leading zero bytes are dropped.
        assert_eq!(set.find("b").map(|k| k.n.clone()), Some(vec![1, 0, 1]));
        assert!(parse(br#"{"keys": [{"kty": "EC"}]}"#)
            .unwrap_err()
            .contains("RSA"));
        assert!(parse(b"[]").is_err());
    }

    #[tokio::test]
    async fn only_loopback_http_is_fetched() {
        let e = get("https://cognito-idp.us-east-1.amazonaws.com/x/.well-known/jwks.json")
            .await
            .unwrap_err();
        assert!(e.contains("--jwt-jwks FILE"), "{e}");
        assert!(get("http://example.com/jwks.json").await.is_err());
        assert!(is_loopback("127.0.0.1") && is_loopback("[::1]") && is_loopback("localhost"));
        assert!(
            is_local_url("http://127.0.0.1:8080/realms/x") && is_local_url("http://localhost/")
        );
        assert!(!is_local_url("https://127.0.0.1/") && !is_local_url("http://example.com/"));
        assert_eq!(
            JwksSource::from_flag(Some("keys.json"), "http://i"),
            JwksSource::File("keys.json".into())
        );
    }
}
