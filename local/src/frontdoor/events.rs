//! Real HTTP requests turned into the events of Lambda's HTTP event sources,
//! and Lambda results turned back into HTTP responses, per source, as the
//! AWS documentation describes them (API Gateway REST and HTTP APIs,
//! Function URLs, ALB with and without multi-value headers, VPC Lattice V1
//! and V2). Pure functions: no I/O.

use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::util::{self, UtcTime};

/// The event sources the front door can emulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// API Gateway HTTP API, payload format 2.0.
    HttpApi,
    /// API Gateway REST API, Lambda proxy integration.
    RestApi,
    /// Application Load Balancer.
    Alb,
    /// Application Load Balancer with multi-value headers.
    AlbMulti,
    /// Lambda Function URL.
    FunctionUrl,
    /// VPC Lattice, event structure V1.
    LatticeV1,
    /// VPC Lattice, event structure V2.
    LatticeV2,
}

impl Source {
    /// Every source with its command-line name.
    pub const ALL: [(&'static str, Source); 7] = [
        ("http-api", Source::HttpApi),
        ("rest-api", Source::RestApi),
        ("alb", Source::Alb),
        ("alb-multi", Source::AlbMulti),
        ("function-url", Source::FunctionUrl),
        ("lattice-v1", Source::LatticeV1),
        ("lattice-v2", Source::LatticeV2),
    ];

    /// Parses a command-line name.
    pub fn parse(name: &str) -> Option<Source> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map(|(n, _)| *n)
            .unwrap_or("http-api")
    }
}

/// A request as the front door received it.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// `GET`, `POST`...
    pub method: String,
    /// The path as sent (not decoded).
    pub path: String,
    /// The query string as sent (without `?`).
    pub query: String,
    /// Headers in order; names as sent.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
    /// The client's IP address.
    pub source_ip: String,
    /// The front door's port (for `x-forwarded-port`).
    pub port: u16,
}

/// Settings that go into every event.
#[derive(Debug, Clone)]
pub struct EventContext {
    /// `requestContext.requestId`.
    pub request_id: String,
    /// Region for ARNs and domains.
    pub region: String,
    /// Account id.
    pub account_id: String,
    /// Epoch milliseconds of the request.
    pub time_ms: u64,
    /// The X-Ray trace header value (`Root=...`).
    pub trace_id: String,
}

impl EventContext {
    /// A fresh context for one request.
    pub fn new(region: &str) -> EventContext {
        let trace = util::new_trace_id();
        let root = trace.split(';').next().unwrap_or("").to_string();
        EventContext {
            request_id: util::uuid_v4(),
            region: region.to_string(),
            account_id: "123456789012".to_string(),
            time_ms: util::epoch_millis(),
            trace_id: root,
        }
    }
}

/// The local API id used in domains and ARNs.
const API_ID: &str = "portsidelocal";

fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
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
    String::from_utf8_lossy(&out).to_string()
}

/// Query pairs in order; `decode` URL-decodes them (API Gateway and VPC
/// Lattice do, ALB does not: see local/FRONTDOOR.md).
fn query_pairs(query: &str, decode: bool) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            if decode {
                (decode_component(k), decode_component(v))
            } else {
                (k.to_string(), v.to_string())
            }
        })
        .collect()
}

/// Names with their values, in the order each name first appeared (the
/// client's order: API Gateway, ALB and Lattice keep it in their maps).
type Grouped = Vec<(String, Vec<String>)>;

fn push_grouped(map: &mut Grouped, key: &str, value: String) {
    match map.iter_mut().find(|(k, _)| k == key) {
        Some((_, values)) => values.push(value),
        None => map.push((key.to_string(), vec![value])),
    }
}

fn grouped(pairs: &[(String, String)]) -> Grouped {
    let mut map = Grouped::new();
    for (k, v) in pairs {
        push_grouped(&mut map, k, v.clone());
    }
    map
}

fn set_grouped(map: &mut Grouped, key: &str, values: Vec<String>) {
    match map.iter_mut().find(|(k, _)| k == key) {
        Some((_, v)) => *v = values,
        None => map.push((key.to_string(), values)),
    }
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Headers with lowercase names, grouped, plus what the source adds.
fn lower_headers(req: &HttpRequest, ctx: &EventContext, forwarded: bool) -> Grouped {
    let mut map = Grouped::new();
    for (k, v) in &req.headers {
        push_grouped(&mut map, &k.to_ascii_lowercase(), v.clone());
    }
    if forwarded {
        let xff = match map.iter().find(|(k, _)| k == "x-forwarded-for") {
            Some((_, v)) => format!("{}, {}", v.join(", "), req.source_ip),
            None => req.source_ip.clone(),
        };
        set_grouped(&mut map, "x-forwarded-for", vec![xff]);
        set_grouped(&mut map, "x-forwarded-proto", vec!["http".into()]);
        set_grouped(&mut map, "x-forwarded-port", vec![req.port.to_string()]);
        set_grouped(&mut map, "x-amzn-trace-id", vec![ctx.trace_id.clone()]);
    }
    map
}

/// Which content types a source passes as text.
fn is_text(req: &HttpRequest, source: Source) -> bool {
    if std::str::from_utf8(&req.body).is_err() {
        return false;
    }
    let ct = header(req, "content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let encoded =
        header(req, "content-encoding").is_some_and(|e| !e.eq_ignore_ascii_case("identity"));
    let basic = ct.starts_with("text/")
        || matches!(
            ct.as_str(),
            "application/json" | "application/javascript" | "application/xml"
        );
    match source {
        // ALB and Lattice: exactly these types are sent as text.
        Source::Alb | Source::AlbMulti | Source::LatticeV1 | Source::LatticeV2 => basic && !encoded,
        // API Gateway and Function URLs: text-like types (and no content
        // type at all) as text, the rest base64.
        _ => {
            !encoded
                && (basic
                    || ct.is_empty()
                    || ct.ends_with("+json")
                    || ct.ends_with("+xml")
                    || ct == "application/x-www-form-urlencoded"
                    || ct == "application/graphql")
        }
    }
}

fn body_fields(req: &HttpRequest, source: Source) -> (Value, bool) {
    if req.body.is_empty() {
        return (Value::Null, false);
    }
    if is_text(req, source) {
        (
            Value::String(String::from_utf8_lossy(&req.body).to_string()),
            false,
        )
    } else {
        (
            Value::String(base64::engine::general_purpose::STANDARD.encode(&req.body)),
            true,
        )
    }
}

fn last_map(map: &Grouped) -> Value {
    Value::Object(
        map.iter()
            .filter_map(|(k, v)| v.last().map(|l| (k.clone(), Value::String(l.clone()))))
            .collect(),
    )
}

fn joined_map(map: &Grouped, sep: &str) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.join(sep))))
            .collect(),
    )
}

fn list_map(map: &Grouped) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    Value::Array(v.iter().cloned().map(Value::String).collect()),
                )
            })
            .collect(),
    )
}

/// The domain name the event names (what a client would have used).
pub fn domain_name(source: Source, region: &str) -> String {
    match source {
        Source::FunctionUrl => format!("{API_ID}.lambda-url.{region}.on.aws"),
        Source::HttpApi | Source::RestApi => format!("{API_ID}.execute-api.{region}.amazonaws.com"),
        _ => "localhost".to_string(),
    }
}

/// Builds the event for `req` as `source` would send it.
pub fn to_event(source: Source, req: &HttpRequest, ctx: &EventContext) -> Value {
    let time = UtcTime::from_epoch_millis(ctx.time_ms);
    let user_agent = header(req, "user-agent").unwrap_or("").to_string();
    let (body, b64) = body_fields(req, source);
    match source {
        Source::HttpApi | Source::FunctionUrl => {
            let domain = domain_name(source, &ctx.region);
            let mut headers = lower_headers(req, ctx, true);
            let cookie_values = match headers.iter().position(|(k, _)| k == "cookie") {
                Some(i) => headers.remove(i).1,
                None => Vec::new(),
            };
            let cookies: Vec<Value> = cookie_values
                .iter()
                .flat_map(|c| {
                    c.split(';')
                        .map(|p| p.trim().to_string())
                        .collect::<Vec<_>>()
                })
                .filter(|c| !c.is_empty())
                .map(Value::String)
                .collect();
            let query = grouped(&query_pairs(&req.query, true));
            let mut event = json!({
                "version": "2.0",
                "routeKey": "$default",
                "rawPath": req.path,
                "rawQueryString": req.query,
                "headers": joined_map(&headers, ","),
                "requestContext": {
                    "accountId": if source == Source::FunctionUrl { "anonymous".to_string() } else { ctx.account_id.clone() },
                    "apiId": API_ID,
                    "domainName": domain,
                    "domainPrefix": API_ID,
                    "http": {
                        "method": req.method,
                        "path": req.path,
                        "protocol": "HTTP/1.1",
                        "sourceIp": req.source_ip,
                        "userAgent": user_agent,
                    },
                    "requestId": ctx.request_id,
                    "routeKey": "$default",
                    "stage": "$default",
                    "time": time.clf(),
                    "timeEpoch": ctx.time_ms,
                },
                "isBase64Encoded": b64,
            });
            if !cookies.is_empty() {
                event["cookies"] = Value::Array(cookies);
            }
            if !query.is_empty() {
                event["queryStringParameters"] = joined_map(&query, ",");
            }
            if !body.is_null() {
                event["body"] = body;
            }
            event
        }
        Source::RestApi => {
            let headers = lower_headers(req, ctx, true);
            // REST APIs keep header names as the client sent them.
            let mut as_sent = Grouped::new();
            for (k, v) in &req.headers {
                push_grouped(&mut as_sent, k, v.clone());
            }
            for (k, v) in &headers {
                if k.starts_with("x-forwarded-") || k == "x-amzn-trace-id" {
                    let name = match k.as_str() {
                        "x-forwarded-for" => "X-Forwarded-For",
                        "x-forwarded-proto" => "X-Forwarded-Proto",
                        "x-forwarded-port" => "X-Forwarded-Port",
                        _ => "X-Amzn-Trace-Id",
                    };
                    as_sent.retain(|(ak, _)| !ak.eq_ignore_ascii_case(k));
                    as_sent.push((name.to_string(), v.clone()));
                }
            }
            let query = grouped(&query_pairs(&req.query, true));
            let (q, mq) = if query.is_empty() {
                (Value::Null, Value::Null)
            } else {
                (last_map(&query), list_map(&query))
            };
            let stage = "prod";
            json!({
                "resource": "/{proxy+}",
                "path": req.path,
                "httpMethod": req.method,
                "headers": last_map(&as_sent),
                "multiValueHeaders": list_map(&as_sent),
                "queryStringParameters": q,
                "multiValueQueryStringParameters": mq,
                "pathParameters": { "proxy": req.path.trim_start_matches('/') },
                "stageVariables": Value::Null,
                "requestContext": {
                    "accountId": ctx.account_id,
                    "apiId": API_ID,
                    "domainName": domain_name(source, &ctx.region),
                    "domainPrefix": API_ID,
                    "extendedRequestId": util::random_hex(16),
                    "httpMethod": req.method,
                    "identity": {
                        "accessKey": Value::Null,
                        "accountId": Value::Null,
                        "caller": Value::Null,
                        "cognitoAuthenticationProvider": Value::Null,
                        "cognitoAuthenticationType": Value::Null,
                        "cognitoIdentityId": Value::Null,
                        "cognitoIdentityPoolId": Value::Null,
                        "principalOrgId": Value::Null,
                        "sourceIp": req.source_ip,
                        "user": Value::Null,
                        "userAgent": user_agent,
                        "userArn": Value::Null,
                    },
                    "path": format!("/{stage}{}", req.path),
                    "protocol": "HTTP/1.1",
                    "requestId": ctx.request_id,
                    "requestTime": time.clf(),
                    "requestTimeEpoch": ctx.time_ms,
                    "resourceId": "proxy0",
                    "resourcePath": "/{proxy+}",
                    "stage": stage,
                },
                "body": body,
                "isBase64Encoded": b64,
            })
        }
        Source::Alb | Source::AlbMulti => {
            let headers = lower_headers(req, ctx, true);
            let query = grouped(&query_pairs(&req.query, false));
            let mut event = json!({
                "requestContext": {
                    "elb": {
                        "targetGroupArn": format!(
                            "arn:aws:elasticloadbalancing:{}:{}:targetgroup/portside-local/6d0ecf831eec9f09",
                            ctx.region, ctx.account_id
                        ),
                    },
                },
                "httpMethod": req.method,
                "path": req.path,
                "body": if body.is_null() { Value::String(String::new()) } else { body },
                "isBase64Encoded": b64,
            });
            if source == Source::AlbMulti {
                event["multiValueHeaders"] = list_map(&headers);
                event["multiValueQueryStringParameters"] = list_map(&query);
            } else {
                event["headers"] = last_map(&headers);
                event["queryStringParameters"] = last_map(&query);
            }
            event
        }
        Source::LatticeV1 => {
            let headers = lower_headers(req, ctx, false);
            // Values decoded, the last one for a repeated key (FRONTDOOR.md).
            let query = grouped(&query_pairs(&req.query, true));
            let mut event = json!({
                "raw_path": req.path,
                "method": req.method,
                "headers": joined_map(&headers, ", "),
                "query_string_parameters": last_map(&query),
                "is_base64_encoded": b64,
            });
            if !body.is_null() {
                event["body"] = body;
            }
            event
        }
        Source::LatticeV2 => {
            let headers = lower_headers(req, ctx, false);
            // Values decoded, as lists; `path` keeps the raw query
            // (FRONTDOOR.md).
            let query = grouped(&query_pairs(&req.query, true));
            let prefix = format!("arn:aws:vpc-lattice:{}:{}", ctx.region, ctx.account_id);
            let mut event = json!({
                "version": "2.0",
                "path": if req.query.is_empty() { req.path.clone() } else { format!("{}?{}", req.path, req.query) },
                "method": req.method,
                "headers": list_map(&headers),
                "queryStringParameters": list_map(&query),
                "isBase64Encoded": b64,
                "requestContext": {
                    "serviceNetworkArn": format!("{prefix}:servicenetwork/sn-0bf3f2882e9cc805a"),
                    "serviceArn": format!("{prefix}:service/svc-0a40eebed65f8d69c"),
                    "targetGroupArn": format!("{prefix}:targetgroup/tg-6d0ecf831eec9f09"),
                    "identity": {
                        "sourceVpcArn": format!("arn:aws:ec2:{}:{}:vpc/vpc-0b8276c84697e7339", ctx.region, ctx.account_id),
                        "type": "AWS_IAM",
                    },
                    "region": ctx.region,
                    "timeEpoch": (ctx.time_ms * 1000).to_string(),
                },
            });
            if !body.is_null() {
                event["body"] = body;
            }
            event
        }
    }
}

/// An HTTP response made from a Lambda result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (repeated names allowed, `set-cookie` among them).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Bytes,
}

impl HttpResponse {
    /// A JSON error response as the gateway in front would send it.
    pub fn gateway_error(status: u16, message: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from(json!({ "message": message }).to_string()),
        }
    }
}

/// Headers a proxy does not pass on from a Lambda result. `Content-Length`
/// is the front door's own (the body it sends), except for a HEAD response,
/// where no body is sent and the app's value is what the client must see
/// (API Gateway passes it; see FRONTDOOR.md).
fn hop_by_hop(name: &str, head: bool) -> bool {
    match name.to_ascii_lowercase().as_str() {
        "connection" | "transfer-encoding" | "keep-alive" | "upgrade" => true,
        "content-length" => !head,
        _ => false,
    }
}

fn value_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Which header fields of a result (or stream prelude) a source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderFields {
    /// `headers` only (ALB without multi-value headers, Lattice, payload
    /// 2.0). Lattice V2 values may be lists.
    Single,
    /// `multiValueHeaders` only (ALB with multi-value headers).
    Multi,
    /// Both, merged; for a name in both, only the `multiValueHeaders`
    /// values (API Gateway REST APIs and payload 1.0).
    Merged,
}

fn header_fields(source: Source) -> HeaderFields {
    match source {
        Source::RestApi => HeaderFields::Merged,
        Source::AlbMulti => HeaderFields::Multi,
        Source::Alb | Source::HttpApi | Source::FunctionUrl => HeaderFields::Single,
        Source::LatticeV1 | Source::LatticeV2 => HeaderFields::Single,
    }
}

fn push_values(out: &mut Vec<(String, String)>, name: &str, v: &Value) {
    match v {
        Value::Array(list) => out.extend(
            list.iter()
                .filter_map(value_str)
                .map(|s| (name.to_string(), s)),
        ),
        other => {
            if let Some(s) = value_str(other) {
                out.push((name.to_string(), s));
            }
        }
    }
}

/// Reads the header fields `fields` names into a header list.
fn collect_headers(
    obj: &Map<String, Value>,
    fields: HeaderFields,
    head: bool,
    out: &mut Vec<(String, String)>,
) {
    let single = obj.get("headers").and_then(Value::as_object);
    let multi = obj.get("multiValueHeaders").and_then(Value::as_object);
    if fields != HeaderFields::Multi {
        for (k, v) in single.into_iter().flatten() {
            let shadowed = fields == HeaderFields::Merged
                && multi.is_some_and(|m| m.keys().any(|mk| mk.eq_ignore_ascii_case(k)));
            if !shadowed {
                push_values(out, k, v);
            }
        }
    }
    if fields != HeaderFields::Single {
        for (k, v) in multi.into_iter().flatten() {
            if v.is_array() {
                push_values(out, k, v);
            }
        }
    }
    out.retain(|(k, _)| !hop_by_hop(k, head));
}

/// Payload 2.0 and stream preludes: `cookies` become `Set-Cookie` lines.
fn collect_cookies(obj: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    if let Some(cookies) = obj.get("cookies").and_then(Value::as_array) {
        for c in cookies.iter().filter_map(value_str) {
            out.push(("set-cookie".into(), c));
        }
    }
}

fn status_of(obj: &Map<String, Value>) -> Option<u16> {
    match obj.get("statusCode")? {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|s| (100..=599).contains(s))
}

fn decode_body(obj: &Map<String, Value>) -> Result<Bytes, String> {
    let body = match obj.get("body") {
        None | Some(Value::Null) => return Ok(Bytes::new()),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if obj
        .get("isBase64Encoded")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map(Bytes::from)
            .map_err(|e| format!("isBase64Encoded is true but the body is not base64: {e}"))
    } else {
        Ok(Bytes::from(body))
    }
}

/// Maps a successful Lambda result to the HTTP response `source` returns
/// (`head`: the request was a HEAD, whose `Content-Length` is kept).
pub fn to_response(source: Source, payload: &[u8], head: bool) -> HttpResponse {
    let parsed: Result<Value, _> = serde_json::from_slice(payload);
    let malformed = |why: &str| {
        eprintln!(
            "portside-local: malformed Lambda result for {}: {why}",
            source.name()
        );
        super::answers::answer(source, super::answers::Failure::BadResult)
    };
    let Ok(value) = parsed else {
        return malformed("not JSON");
    };
    let v2 = matches!(source, Source::HttpApi | Source::FunctionUrl);
    let obj = match value.as_object() {
        Some(o) if status_of(o).is_some() => o,
        // Payload 2.0: valid JSON without statusCode is a 200 JSON body.
        _ if v2 => {
            return HttpResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: Bytes::copy_from_slice(payload),
            }
        }
        _ => return malformed("no statusCode"),
    };
    let status = status_of(obj).unwrap_or(200);
    let mut headers = Vec::new();
    collect_headers(obj, header_fields(source), head, &mut headers);
    if v2 {
        collect_cookies(obj, &mut headers);
    }
    let body = match decode_body(obj) {
        Ok(b) => b,
        Err(why) => return malformed(&why),
    };
    HttpResponse {
        status,
        headers,
        body,
    }
}

/// Why a stream's head could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreludeError {
    /// A REST API needs the metadata and it did not come.
    Missing,
    /// The metadata came after the first 16 KB (REST API).
    TooLong(usize),
    /// The prelude is not a JSON object.
    NotJson,
}

/// API Gateway's bound on a streamed REST response's metadata (16 KB).
pub const REST_PRELUDE_LIMIT: usize = 16 * 1024;

/// The status line and headers a streamed response starts with, from its
/// JSON prelude (`None`: the stream had none). A Function URL without a
/// prelude answers 200 `application/octet-stream`; a REST API needs one
/// within 16 KB. Both read `headers`, `multiValueHeaders` (winning for a
/// name in both) and `cookies` (as `Set-Cookie` lines), as the REST
/// streaming documentation describes the prelude.
pub fn stream_head(
    source: Source,
    prelude: Option<&[u8]>,
    head: bool,
) -> Result<(u16, Vec<(String, String)>), PreludeError> {
    let Some(prelude) = prelude else {
        if source == Source::RestApi {
            return Err(PreludeError::Missing);
        }
        return Ok((
            200,
            vec![("content-type".into(), "application/octet-stream".into())],
        ));
    };
    if source == Source::RestApi && prelude.len() > REST_PRELUDE_LIMIT {
        return Err(PreludeError::TooLong(prelude.len()));
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(prelude) else {
        return Err(PreludeError::NotJson);
    };
    let mut headers = Vec::new();
    collect_headers(&obj, HeaderFields::Merged, head, &mut headers);
    collect_cookies(&obj, &mut headers);
    Ok((status_of(&obj).unwrap_or(200), headers))
}

/// `statusDescription` for ALB: `"200 OK"`.
pub fn status_description(status: u16) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("{status} {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpRequest {
        HttpRequest {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Bytes::copy_from_slice(body),
            source_ip: "127.0.0.1".into(),
            port: 3000,
        }
    }

    fn ctx() -> EventContext {
        EventContext {
            request_id: "rid".into(),
            region: "eu-west-1".into(),
            account_id: "123456789012".into(),
            time_ms: 1_584_039_838_000,
            trace_id: "Root=1-5e6a8a9e-0123456789abcdef01234567".into(),
        }
    }

    #[test]
    fn http_api_events_follow_payload_2() {
        let r = req(
            "POST",
            "/a%20b/c",
            "x=1&x=2&y=%C3%A9",
            &[
                ("Host", "h"),
                ("Cookie", "a=1; b=2"),
                ("Content-Type", "application/json"),
                ("X-Multi", "1"),
                ("x-multi", "2"),
            ],
            br#"{"k":1}"#,
        );
        let e = to_event(Source::HttpApi, &r, &ctx());
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["rawPath"], "/a%20b/c");
        assert_eq!(e["rawQueryString"], "x=1&x=2&y=%C3%A9");
        assert_eq!(e["queryStringParameters"]["x"], "1,2");
        assert_eq!(e["queryStringParameters"]["y"], "é");
        assert_eq!(e["cookies"], json!(["a=1", "b=2"]));
        assert!(e["headers"].get("cookie").is_none());
        assert_eq!(e["headers"]["x-multi"], "1,2");
        assert_eq!(e["headers"]["x-forwarded-for"], "127.0.0.1");
        assert_eq!(e["requestContext"]["http"]["method"], "POST");
        assert_eq!(e["requestContext"]["time"], "12/Mar/2020:19:03:58 +0000");
        assert_eq!(e["requestContext"]["timeEpoch"], 1_584_039_838_000u64);
        assert!(e["requestContext"]["domainName"]
            .as_str()
            .unwrap_or("")
            .contains(".execute-api."));
        assert_eq!(e["body"], r#"{"k":1}"#);
        assert_eq!(e["isBase64Encoded"], false);
        let u = to_event(Source::FunctionUrl, &r, &ctx());
        assert_eq!(
            u["requestContext"]["domainName"],
            "portsidelocal.lambda-url.eu-west-1.on.aws"
        );
    }

    #[test]
    fn binary_bodies_are_base64_per_source() {
        let png = req(
            "POST",
            "/",
            "",
            &[("content-type", "image/png")],
            &[0x89, b'P', b'N', b'G', 0xff],
        );
        for (_, s) in Source::ALL {
            let e = to_event(s, &png, &ctx());
            let (body, flag) = match s {
                Source::LatticeV1 => (&e["body"], &e["is_base64_encoded"]),
                _ => (&e["body"], &e["isBase64Encoded"]),
            };
            assert_eq!(flag, true, "{s:?}");
            let expected =
                base64::engine::general_purpose::STANDARD.encode([0x89, b'P', b'N', b'G', 0xff]);
            assert_eq!(body.as_str(), Some(expected.as_str()), "{s:?}");
        }
        // A form is text to API Gateway but binary to an ALB.
        let form = req(
            "POST",
            "/",
            "",
            &[("content-type", "application/x-www-form-urlencoded")],
            b"a=1",
        );
        assert_eq!(
            to_event(Source::RestApi, &form, &ctx())["isBase64Encoded"],
            false
        );
        assert_eq!(
            to_event(Source::Alb, &form, &ctx())["isBase64Encoded"],
            true
        );
    }

    #[test]
    fn rest_api_alb_and_lattice_shapes() {
        let r = req(
            "GET",
            "/p",
            "q=a%20b&q=c",
            &[("Accept", "x"), ("accept", "y")],
            b"",
        );
        let v1 = to_event(Source::RestApi, &r, &ctx());
        assert_eq!(v1["httpMethod"], "GET");
        assert_eq!(v1["queryStringParameters"]["q"], "c");
        assert_eq!(
            v1["multiValueQueryStringParameters"]["q"],
            json!(["a b", "c"])
        );
        assert_eq!(v1["requestContext"]["stage"], "prod");
        assert_eq!(v1["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
        assert_eq!(v1["body"], Value::Null);
        let alb = to_event(Source::Alb, &r, &ctx());
        assert!(alb["requestContext"]["elb"]["targetGroupArn"]
            .as_str()
            .unwrap_or("")
            .contains(":targetgroup/"));
        assert_eq!(alb["queryStringParameters"]["q"], "c");
        assert_eq!(alb["headers"]["accept"], "y");
        let multi = to_event(Source::AlbMulti, &r, &ctx());
        assert_eq!(
            multi["multiValueQueryStringParameters"]["q"],
            json!(["a%20b", "c"])
        );
        assert_eq!(multi["multiValueHeaders"]["accept"], json!(["x", "y"]));
        assert!(multi.get("headers").is_none());
        let l1 = to_event(Source::LatticeV1, &r, &ctx());
        assert_eq!(l1["raw_path"], "/p");
        assert_eq!(l1["headers"]["accept"], "x, y");
        assert_eq!(l1["query_string_parameters"]["q"], "c");
        let l2 = to_event(Source::LatticeV2, &r, &ctx());
        assert_eq!(l2["headers"]["accept"], json!(["x", "y"]));
        assert_eq!(l2["queryStringParameters"]["q"], json!(["a b", "c"]));
        assert_eq!(l2["path"], "/p?q=a%20b&q=c");
        assert_eq!(l2["requestContext"]["timeEpoch"], "1584039838000000");
    }

    /// The keys of a JSON object in document order (serde_json keeps it).
    fn keys(v: &Value) -> Vec<&str> {
        v.as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    #[test]
    fn query_keys_keep_the_clients_order() {
        // z before a: a sorted map would swap them; API Gateway, ALB and
        // Lattice keep the order the client sent.
        let r = req("GET", "/", "z=1&a=2&m=3&z=4", &[], b"");
        let rest = to_event(Source::RestApi, &r, &ctx());
        assert_eq!(
            keys(&rest["multiValueQueryStringParameters"]),
            ["z", "a", "m"]
        );
        assert_eq!(
            rest["multiValueQueryStringParameters"]["z"],
            json!(["1", "4"])
        );
        assert_eq!(keys(&rest["queryStringParameters"]), ["z", "a", "m"]);
        let alb = to_event(Source::AlbMulti, &r, &ctx());
        assert_eq!(
            keys(&alb["multiValueQueryStringParameters"]),
            ["z", "a", "m"]
        );
        assert_eq!(
            keys(&to_event(Source::Alb, &r, &ctx())["queryStringParameters"]),
            ["z", "a", "m"]
        );
        let l1 = to_event(Source::LatticeV1, &r, &ctx());
        assert_eq!(keys(&l1["query_string_parameters"]), ["z", "a", "m"]);
        assert_eq!(
            l1["query_string_parameters"]["z"], "4",
            "Lattice V1 keeps the last value"
        );
        let l2 = to_event(Source::LatticeV2, &r, &ctx());
        assert_eq!(keys(&l2["queryStringParameters"]), ["z", "a", "m"]);
    }

    #[test]
    fn lattice_query_values_are_decoded_and_alb_values_are_not() {
        // FRONTDOOR.md: Lattice hands the function decoded values (ALB's
        // documentation alone says it does not decode them).
        let r = req("GET", "/", "x=%26&y=a%20b&t=%E2%9C%93", &[], b"");
        let l1 = to_event(Source::LatticeV1, &r, &ctx());
        assert_eq!(
            l1["query_string_parameters"],
            json!({"x": "&", "y": "a b", "t": "✓"})
        );
        let l2 = to_event(Source::LatticeV2, &r, &ctx());
        assert_eq!(l2["queryStringParameters"]["x"], json!(["&"]));
        assert_eq!(
            l2["path"], "/?x=%26&y=a%20b&t=%E2%9C%93",
            "the path keeps the raw query"
        );
        let alb = to_event(Source::Alb, &r, &ctx());
        assert_eq!(alb["queryStringParameters"]["x"], "%26");
    }

    #[test]
    fn results_map_back_per_source() {
        let v2 = to_response(
            Source::HttpApi,
            br#"{"statusCode":201,"headers":{"x-a":"1","content-length":"99"},"cookies":["a=1","b=2"],"body":"aGk=","isBase64Encoded":true}"#,
            false,
        );
        assert_eq!(v2.status, 201);
        assert_eq!(v2.body, "hi");
        assert!(v2.headers.contains(&("x-a".into(), "1".into())));
        assert_eq!(
            v2.headers.iter().filter(|(k, _)| k == "set-cookie").count(),
            2
        );
        assert!(!v2.headers.iter().any(|(k, _)| k == "content-length"));
        // No statusCode: the whole result is a JSON body.
        let bare = to_response(Source::FunctionUrl, br#"{"hello":"world"}"#, false);
        assert_eq!(
            (bare.status, bare.body.as_ref()),
            (200, &br#"{"hello":"world"}"#[..])
        );
        assert_eq!(
            to_response(Source::RestApi, br#"{"hello":1}"#, false).status,
            502
        );
        assert_eq!(to_response(Source::HttpApi, b"not json", false).status, 500);
        let alb = to_response(
            Source::Alb,
            br#"{"statusCode":404,"statusDescription":"404 Not Found","headers":{"a":"b"}}"#,
            false,
        );
        assert_eq!((alb.status, alb.body.len()), (404, 0));
        let l2 = to_response(
            Source::LatticeV2,
            br#"{"statusCode":200,"headers":{"a":["1","2"]},"body":"x"}"#,
            false,
        );
        assert_eq!(l2.headers.len(), 2);
        assert_eq!(status_description(200), "200 OK");
    }

    fn names(r: &HttpResponse, name: &str) -> Vec<String> {
        r.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    }

    #[test]
    fn each_source_reads_the_header_fields_it_documents() {
        let result = br#"{"statusCode":200,"headers":{"Set-Cookie":"x","x-single":"s"},"multiValueHeaders":{"Set-Cookie":["a=1","b=2"],"x-multi":["m1","m2"]},"body":"ok"}"#;
        // REST: both merged, multiValueHeaders winning for a name in both.
        let rest = to_response(Source::RestApi, result, false);
        assert_eq!(names(&rest, "set-cookie"), ["a=1", "b=2"]);
        assert_eq!(names(&rest, "x-single"), ["s"]);
        assert_eq!(names(&rest, "x-multi"), ["m1", "m2"]);
        // ALB in single-value mode reads only `headers`.
        let alb = to_response(Source::Alb, result, false);
        assert_eq!(names(&alb, "set-cookie"), ["x"]);
        assert_eq!(names(&alb, "x-multi"), Vec::<String>::new());
        // ALB with multi-value headers reads only `multiValueHeaders`.
        let multi = to_response(Source::AlbMulti, result, false);
        assert_eq!(names(&multi, "set-cookie"), ["a=1", "b=2"]);
        assert_eq!(names(&multi, "x-single"), Vec::<String>::new());
        // Payload 2.0 has no multiValueHeaders.
        let v2 = to_response(Source::HttpApi, result, false);
        assert_eq!(names(&v2, "x-multi"), Vec::<String>::new());
        assert_eq!(names(&v2, "x-single"), ["s"]);
    }

    #[test]
    fn a_head_response_keeps_the_apps_content_length() {
        let result = br#"{"statusCode":200,"headers":{"content-length":"1234","content-type":"text/plain"},"multiValueHeaders":{"content-length":["1234"]},"body":""}"#;
        for (_, source) in Source::ALL {
            let head = to_response(source, result, true);
            assert_eq!(names(&head, "content-length"), ["1234"], "{source:?}");
            let get = to_response(source, result, false);
            assert_eq!(
                names(&get, "content-length"),
                Vec::<String>::new(),
                "{source:?}"
            );
        }
    }

    #[test]
    fn a_streamed_head_keeps_the_apps_content_length() {
        let prelude = br#"{"statusCode":200,"multiValueHeaders":{"content-length":["1048576"],"content-type":["application/octet-stream"]}}"#;
        let (_, head) = stream_head(Source::RestApi, Some(prelude), true).expect("head");
        assert!(
            head.iter()
                .any(|(k, v)| k == "content-length" && v == "1048576"),
            "{head:?}"
        );
        let (_, get) = stream_head(Source::RestApi, Some(prelude), false).expect("head");
        assert!(!get.iter().any(|(k, _)| k == "content-length"), "{get:?}");
    }

    #[test]
    fn stream_preludes_carry_all_four_fields() {
        let prelude = br#"{"statusCode":202,"headers":{"content-type":"text/plain","x-both":"single"},"multiValueHeaders":{"x-both":["m1","m2"],"x-multi":["a","b"]},"cookies":["c=1","d=2"]}"#;
        for source in [Source::RestApi, Source::FunctionUrl] {
            let (status, headers) = stream_head(source, Some(prelude), false).expect("head");
            assert_eq!(status, 202);
            let r = HttpResponse {
                status,
                headers,
                body: Bytes::new(),
            };
            assert_eq!(names(&r, "x-both"), ["m1", "m2"], "{source:?}");
            assert_eq!(names(&r, "x-multi"), ["a", "b"]);
            assert_eq!(names(&r, "set-cookie"), ["c=1", "d=2"]);
            assert_eq!(names(&r, "content-type"), ["text/plain"]);
        }
        // A REST API needs the metadata, within 16 KB.
        assert_eq!(
            stream_head(Source::RestApi, None, false),
            Err(PreludeError::Missing)
        );
        let long = format!(
            r#"{{"statusCode":200,"headers":{{"x":"{}"}}}}"#,
            "a".repeat(17 * 1024)
        );
        assert!(matches!(
            stream_head(Source::RestApi, Some(long.as_bytes()), false),
            Err(PreludeError::TooLong(_))
        ));
        // A Function URL without one is a 200 octet stream.
        assert_eq!(
            stream_head(Source::FunctionUrl, None, false)
                .expect("head")
                .0,
            200
        );
    }
}
