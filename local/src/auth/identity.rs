//! Identity sources: where an authorizer finds the caller's identity in a
//! request (API Gateway's selection expressions), parsed once at start and
//! read per request.
//!
//! HTTP APIs write `$request.header.NAME`, `$request.querystring.NAME`,
//! `$context.NAME` and `$stageVariables.NAME`; REST APIs write
//! `method.request.header.NAME`, `method.request.querystring.NAME`,
//! `context.NAME` and `stageVariables.NAME` (http-api-lambda-authorizer.html,
//! "Identity sources"; api-gateway-lambda-authorizer-input.html). Header
//! names are case-insensitive, query string names case-sensitive.
//!
//! Must not: decide what a missing source means (the authorizer does).

use crate::frontdoor::events::HttpRequest;

/// Where one identity value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// A request header (case-insensitive name).
    Header(String),
    /// A query string parameter (case-sensitive name).
    Query(String),
    /// A context variable portside-local knows.
    Context(ContextVar),
    /// A stage variable (the short form's stage has none, so there it is
    /// always missing; `portside-local up` has the stack's).
    StageVariable(String),
}

/// The context variables an identity source may name locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextVar {
    /// `$context.routeKey` (`$default`, or `ANY /{proxy+}` on a REST API).
    RouteKey,
    /// `$context.httpMethod`.
    HttpMethod,
    /// `$context.path`.
    Path,
    /// `$context.identity.sourceIp`.
    SourceIp,
    /// `$context.stage`.
    Stage,
}

/// Which API's syntax an expression is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// `$request.header.NAME` (HTTP APIs).
    HttpApi,
    /// `method.request.header.NAME` (REST APIs).
    RestApi,
}

impl IdentitySource {
    /// Parses an expression; the error names the accepted forms.
    pub fn parse(expr: &str, syntax: Syntax) -> Result<IdentitySource, String> {
        let (header, query, context, stage) = match syntax {
            Syntax::HttpApi => (
                "$request.header.",
                "$request.querystring.",
                "$context.",
                "$stageVariables.",
            ),
            Syntax::RestApi => (
                "method.request.header.",
                "method.request.querystring.",
                "context.",
                "stageVariables.",
            ),
        };
        let named = |prefix: &str| expr.strip_prefix(prefix).filter(|n| !n.is_empty());
        if let Some(name) = named(header) {
            return Ok(IdentitySource::Header(name.to_string()));
        }
        if let Some(name) = named(query) {
            return Ok(IdentitySource::Query(name.to_string()));
        }
        if let Some(name) = named(stage) {
            return Ok(IdentitySource::StageVariable(name.to_string()));
        }
        if let Some(name) = named(context) {
            let var = match name {
                "routeKey" => ContextVar::RouteKey,
                "httpMethod" => ContextVar::HttpMethod,
                "path" => ContextVar::Path,
                "identity.sourceIp" => ContextVar::SourceIp,
                "stage" => ContextVar::Stage,
                other => {
                    return Err(format!(
                        "the identity source {expr:?} names the context variable {other:?}, which portside-local does not emulate; use routeKey, httpMethod, path, identity.sourceIp or stage, or a header or query string"
                    ))
                }
            };
            return Ok(IdentitySource::Context(var));
        }
        Err(format!(
            "{expr:?} is not an identity source: use {header}NAME, {query}NAME, {context}NAME or {stage}NAME"
        ))
    }

    /// The value in `req`: `None` when missing or empty (API Gateway treats
    /// both as missing). A header sent several times is joined with commas.
    pub fn value(&self, req: &HttpRequest, ctx: &RequestFacts<'_>) -> Option<String> {
        let v = match self {
            IdentitySource::Header(name) => {
                let values: Vec<&str> = req
                    .headers
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
                    .collect();
                (!values.is_empty()).then(|| values.join(","))
            }
            IdentitySource::Query(name) => {
                let values: Vec<String> = query_values(&req.query, name);
                (!values.is_empty()).then(|| values.join(","))
            }
            IdentitySource::Context(var) => Some(match var {
                ContextVar::RouteKey => ctx.route_key.to_string(),
                ContextVar::HttpMethod => req.method.clone(),
                ContextVar::Path => req.path.clone(),
                ContextVar::SourceIp => req.source_ip.clone(),
                ContextVar::Stage => ctx.stage.to_string(),
            }),
            IdentitySource::StageVariable(name) => ctx
                .stage_variables
                .and_then(|vars| vars.get(name))
                .and_then(serde_json::Value::as_str)
                .map(str::to_string),
        };
        v.filter(|v| !v.is_empty())
    }
}

/// What the front door knows about the route a request took.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// `$context.routeKey`.
    pub route_key: &'a str,
    /// `$context.stage`.
    pub stage: &'a str,
    /// The stage's variables (`None`: it has none).
    pub stage_variables: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded values of query parameter `name`, in order.
fn query_values(query: &str, name: &str) -> Vec<String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k) == name).then(|| decode(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn req(headers: &[(&str, &str)], query: &str) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            path: "/p".into(),
            query: query.into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Bytes::new(),
            source_ip: "127.0.0.1".into(),
            port: 3000,
        }
    }

    const FACTS: RequestFacts<'static> = RequestFacts {
        route_key: "$default",
        stage: "$default",
        stage_variables: None,
    };

    #[test]
    fn each_syntax_and_its_values() {
        let h = IdentitySource::parse("$request.header.Authorization", Syntax::HttpApi).unwrap();
        assert_eq!(h, IdentitySource::Header("Authorization".into()));
        let r = req(
            &[("authorization", "t1"), ("Authorization", "t2")],
            "a=1&b=x%20y&a=2",
        );
        assert_eq!(h.value(&r, &FACTS).as_deref(), Some("t1,t2"));
        let q = IdentitySource::parse("method.request.querystring.b", Syntax::RestApi).unwrap();
        assert_eq!(q.value(&r, &FACTS).as_deref(), Some("x y"));
        let q = IdentitySource::parse("$request.querystring.a", Syntax::HttpApi).unwrap();
        assert_eq!(q.value(&r, &FACTS).as_deref(), Some("1,2"));
        // Query names are case-sensitive; empty values are missing.
        let q = IdentitySource::parse("$request.querystring.A", Syntax::HttpApi).unwrap();
        assert_eq!(q.value(&r, &FACTS), None);
        assert_eq!(h.value(&req(&[("authorization", "")], ""), &FACTS), None);
        let c = IdentitySource::parse("$context.routeKey", Syntax::HttpApi).unwrap();
        assert_eq!(c.value(&r, &FACTS).as_deref(), Some("$default"));
        let v = IdentitySource::parse("stageVariables.tenant", Syntax::RestApi).unwrap();
        assert_eq!(v.value(&r, &FACTS), None, "no stage variables");
        let vars = serde_json::json!({"tenant": "blue", "empty": ""});
        let staged = RequestFacts {
            stage_variables: vars.as_object(),
            ..FACTS
        };
        assert_eq!(v.value(&r, &staged).as_deref(), Some("blue"));
        let empty = IdentitySource::parse("$stageVariables.empty", Syntax::HttpApi).unwrap();
        assert_eq!(empty.value(&r, &staged), None, "empty is missing");
    }

    #[test]
    fn the_wrong_syntax_or_an_unknown_context_variable_is_refused() {
        assert!(IdentitySource::parse("$request.header.X", Syntax::RestApi)
            .unwrap_err()
            .contains("method.request.header.NAME"));
        assert!(
            IdentitySource::parse("$context.authorizer.claims", Syntax::HttpApi)
                .unwrap_err()
                .contains("does not emulate")
        );
        assert!(IdentitySource::parse("$request.header.", Syntax::HttpApi).is_err());
    }
}
