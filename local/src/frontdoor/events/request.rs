//! A real HTTP request to the event JSON of one source: the path and query
//! as each source encodes and groups them, headers (lower-cased, grouped or
//! joined per source), cookies, the body as text or base64, and the
//! request context (ids, times, the domain name, the caller's address).
//!
//! Pure: it must not do I/O or read results.

use super::{EventContext, HttpRequest, Source};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;

use crate::util::{self, UtcTime};

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

/// Pairs grouped by key in first-seen order, in one pass: a request may
/// carry thousands of header lines (a search per line took seconds).
fn grouped_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Grouped {
    let mut map = Grouped::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (k, v) in pairs {
        match index.get(&k) {
            Some(&i) => map[i].1.push(v),
            None => {
                index.insert(k.clone(), map.len());
                map.push((k, vec![v]));
            }
        }
    }
    map
}

fn grouped(pairs: &[(String, String)]) -> Grouped {
    grouped_pairs(pairs.iter().cloned())
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
    let lower = req.headers.iter();
    let mut map = grouped_pairs(lower.map(|(k, v)| (k.to_ascii_lowercase(), v.clone())));
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
            let mut as_sent = grouped(&req.headers);
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
