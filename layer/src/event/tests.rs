//! Tests over every sample event in the repository's corpus (`tests/events/`,
//! real events written by AWS and by maintainers of Lambda libraries, with
//! their licences and provenance in `index.json`) plus hand-written events for
//! the rules the samples don't exercise.
//!
//! The expectations for the real samples are re-derived from each event with
//! an independent reader (`serde_json::Value`, keeping object order), the
//! rules of the AWS documentation, and an independent encoder for the path
//! and query (the `percent-encoding` crate with RFC 3986's character sets,
//! written out below), never from one file's contents nor with the adapter's
//! own `uri` functions.

use std::path::PathBuf;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::Value;

use super::result::{HttpResult, SingleValueHeaders};
use super::*;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// The repository's sample events (a test fixture, never read at run time).
pub(crate) fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/events")
}

/// `(file, type, text)` for every sample in the index.
pub(super) fn samples() -> Vec<(String, String, String)> {
    let dir = events_dir();
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    let entries = index.as_array().expect("index.json is a list");
    assert!(
        entries.len() > 100,
        "expected the full sample set, found {}",
        entries.len()
    );
    entries
        .iter()
        .map(|entry| {
            let file = entry["file"].as_str().unwrap().to_string();
            let kind = entry["type"].as_str().unwrap().to_string();
            let text =
                std::fs::read_to_string(dir.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            (file, kind, text)
        })
        .collect()
}

/// What each sample type must be detected as (TYPES.md: the payload 1.0
/// shape with `"version": "1.0"` is an HTTP API's, without it a REST API's).
fn expected_detection(kind: &str, event: &Value) -> Result<HttpSource, &'static str> {
    Ok(match kind {
        "apigw-v1" if event.get("version").and_then(Value::as_str) == Some("1.0") => {
            HttpSource::HttpApiV1
        }
        "apigw-v1" => HttpSource::RestApi,
        "apigw-v2" => HttpSource::HttpApiV2,
        "function-url" => HttpSource::FunctionUrl,
        "alb" => HttpSource::Alb { multi_value: false },
        "alb-multi" => HttpSource::Alb { multi_value: true },
        "lattice-v1" => HttpSource::LatticeV1,
        "lattice-v2" => HttpSource::LatticeV2,
        "sqs" => return Err("aws:sqs"),
        "sns" => return Err("aws:sns"),
        "s3" => return Err("aws:s3"),
        "dynamodb" => return Err("aws:dynamodb"),
        "kinesis" => return Err("aws:kinesis"),
        "eventbridge" | "cloudwatch-scheduled" => return Err("aws.events"),
        "cloudwatch-logs" => return Err("aws.logs"),
        "bedrock-agent" => return Err("aws.bedrock.agent"),
        "websocket" => HttpSource::WebSocket,
        k if k.contains("authorizer") => return Err("aws.apigateway.authorizer"),
        // Non-proxy integrations and sample *responses* are not HTTP events.
        _ => return Err("unknown"),
    })
}

#[test]
fn every_sample_is_detected_as_its_documented_type() {
    let mut http = 0;
    for (file, kind, text) in samples() {
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let event = match parse(&text) {
            Ok(event) => event,
            // A sample whose body is marked base64 but is not is malformed:
            // the oracle's own decoding must agree, and the error must say so.
            Err(err) => {
                let body = str_field(&value, "body").unwrap_or("");
                assert!(
                    expected_detection(&kind, &value).is_ok(),
                    "{file} ({kind}): {err}"
                );
                assert_eq!(value["isBase64Encoded"], Value::Bool(true), "{file}: {err}");
                assert!(
                    crate::body::decode_event_body(Some(body), true).is_err(),
                    "{file}: {err}"
                );
                assert!(
                    err.to_string().contains("not valid base64"),
                    "{file}: {err}"
                );
                continue;
            }
        };
        match (expected_detection(&kind, &value), event) {
            (Ok(source), Event::Http(http_event)) => {
                assert_eq!(http_event.source, source, "{file}");
                http += 1;
            }
            (Err(name), Event::PassThrough(pass)) => {
                assert_eq!(pass.source, name, "{file} ({kind})")
            }
            (expected, Event::Http(e)) => panic!(
                "{file} ({kind}): expected {expected:?}, got HTTP {:?}",
                e.source
            ),
            (expected, Event::PassThrough(p)) => {
                panic!("{file} ({kind}): expected {expected:?}, got pass-through {p:?}")
            }
        }
    }
    assert!(http >= 60, "only {http} HTTP samples");
}

// ---- the independent oracle ----

/// RFC 3986 `unreserved`: all a decoded query key or value keeps literally.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// What may appear literally in a path that is already encoded: `pchar`
/// (unreserved, sub-delims, `:`, `@`), `/`, and `%` (the samples' escapes).
const PATH: &AsciiSet = &COMPONENT
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@')
    .remove(b'/')
    .remove(b'%');
/// A raw query: the path's characters and `?`.
const QUERY: &AsciiSet = &PATH.remove(b'?');

fn oracle_path(path: &str) -> String {
    let encoded = utf8_percent_encode(path, PATH).to_string();
    if encoded.starts_with('/') {
        encoded
    } else {
        format!("/{encoded}")
    }
}

fn oracle_raw_query(query: &str) -> String {
    utf8_percent_encode(query, QUERY).to_string()
}

fn oracle_query_from_decoded(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, COMPONENT),
                utf8_percent_encode(v, COMPONENT)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn oracle_query_from_encoded(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", oracle_raw_query(k), oracle_raw_query(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[test]
fn the_corpus_matches_its_index() {
    use sha2::{Digest, Sha256};
    let dir = events_dir();
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    for entry in index.as_array().unwrap() {
        let file = entry["file"].as_str().unwrap();
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(Some(digest.as_str()), entry["sha256"].as_str(), "{file}");
        for field in ["repo", "path", "commit", "license"] {
            assert!(
                entry[field].as_str().is_some_and(|v| !v.is_empty()),
                "{file}: no {field} in index.json"
            );
        }
    }
}

fn str_field<'v>(event: &'v Value, field: &str) -> Option<&'v str> {
    event.get(field).and_then(Value::as_str)
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// `(name, value)` pairs of a map whose values are strings or lists.
fn pairs_of(map: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Object(map)) = map else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in map {
        match v {
            Value::Array(items) => {
                out.extend(items.iter().filter_map(value_text).map(|s| (k.clone(), s)))
            }
            other => out.extend(value_text(other).map(|s| (k.clone(), s))),
        }
    }
    out
}

fn decoded_body(event: &Value, flag: &str) -> Bytes {
    let body = str_field(event, "body").unwrap_or("");
    let b64 = match event.get(flag) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    if b64 {
        crate::body::decode_event_body(Some(body), true).unwrap()
    } else {
        Bytes::copy_from_slice(body.as_bytes())
    }
}

/// Every `(name, value)` the app must receive, per the rules for `source`.
fn expected_headers(event: &Value, source: HttpSource) -> Vec<(String, String)> {
    let multi = pairs_of(event.get("multiValueHeaders"));
    let single = pairs_of(event.get("headers"));
    let mut out = multi.clone();
    for (k, v) in single {
        if !multi.iter().any(|(m, _)| m.eq_ignore_ascii_case(&k)) {
            out.push((k, v));
        }
    }
    if matches!(source, HttpSource::HttpApiV2 | HttpSource::FunctionUrl) {
        if let Some(Value::Array(cookies)) = event.get("cookies") {
            if !cookies.is_empty() {
                out.retain(|(k, _)| !k.eq_ignore_ascii_case("cookie"));
                let joined: Vec<&str> = cookies.iter().filter_map(Value::as_str).collect();
                out.push(("cookie".into(), joined.join("; ")));
            }
        }
    }
    // RFC 6265 §5.4: one Cookie header, whatever the event's map gave.
    let cookies: Vec<String> = out
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
        .map(|(_, v)| v.clone())
        .collect();
    if cookies.len() > 1 {
        out.retain(|(k, _)| !k.eq_ignore_ascii_case("cookie"));
        out.push(("cookie".into(), cookies.join("; ")));
    }
    out
}

fn expected_path_and_query(event: &Value, source: HttpSource) -> (String, Option<String>) {
    let non_empty = |q: String| (!q.is_empty()).then_some(q);
    match source {
        HttpSource::HttpApiV2 | HttpSource::FunctionUrl => (
            oracle_path(str_field(event, "rawPath").unwrap()),
            non_empty(oracle_raw_query(
                str_field(event, "rawQueryString").unwrap_or(""),
            )),
        ),
        HttpSource::RestApi | HttpSource::HttpApiV1 | HttpSource::WebSocket => {
            let multi = pairs_of(event.get("multiValueQueryStringParameters"));
            let pairs = if multi.is_empty() {
                pairs_of(event.get("queryStringParameters"))
            } else {
                multi
            };
            let path = match source {
                // The adapter sends WebSocket events to its configured path.
                HttpSource::WebSocket => "/".to_string(),
                _ => oracle_path(str_field(event, "path").unwrap()),
            };
            (path, non_empty(oracle_query_from_decoded(&pairs)))
        }
        HttpSource::Alb { .. } => {
            let multi = event.get("multiValueQueryStringParameters");
            let pairs = if multi.is_some_and(|m| !m.is_null()) {
                pairs_of(multi)
            } else {
                pairs_of(event.get("queryStringParameters"))
            };
            (
                oracle_path(str_field(event, "path").unwrap()),
                non_empty(oracle_query_from_encoded(&pairs)),
            )
        }
        HttpSource::LatticeV1 | HttpSource::LatticeV2 => {
            let path = str_field(event, "raw_path")
                .or_else(|| str_field(event, "path"))
                .unwrap();
            let query = event
                .get("queryStringParameters")
                .or_else(|| event.get("query_string_parameters"));
            let pairs = pairs_of(query);
            (
                oracle_path(path),
                non_empty(oracle_query_from_decoded(&pairs)),
            )
        }
    }
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8(v.as_bytes().to_vec()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_http_sample_reaches_the_app_with_every_header_query_pair_and_body_byte() {
    for (file, _kind, text) in samples() {
        let Ok(Event::Http(http_event)) = parse(&text) else {
            continue;
        };
        let event: Value = serde_json::from_str(&text).unwrap();
        let source = http_event.source;
        let request = &http_event.request;

        let method = match source {
            // WebSocket events are POSTed to the app's WebSocket path.
            HttpSource::WebSocket => Some("POST"),
            HttpSource::HttpApiV2 | HttpSource::FunctionUrl => {
                event["requestContext"]["http"]["method"].as_str()
            }
            HttpSource::LatticeV1 | HttpSource::LatticeV2 => str_field(&event, "method"),
            _ => str_field(&event, "httpMethod"),
        };
        assert_eq!(Some(request.method.as_str()), method, "{file}: method");

        let (path, query) = expected_path_and_query(&event, source);
        assert_eq!(request.path, path, "{file}: path");
        assert_eq!(request.query, query, "{file}: query");
        // The request target is valid HTTP.
        let target = match &request.query {
            Some(q) => format!("{}?{}", request.path, q),
            None => request.path.clone(),
        };
        target
            .parse::<http::uri::PathAndQuery>()
            .unwrap_or_else(|e| panic!("{file}: {target}: {e}"));

        // Every header value, in order per name (HeaderMap groups by name).
        let mut want = expected_headers(&event, source);
        let mut got = header_pairs(&request.headers);
        let has_host = want.iter().any(|(k, _)| k.eq_ignore_ascii_case("host"));
        if !has_host {
            // Filled in from requestContext.domainName where the event has one.
            got.retain(|(k, _)| k != "host");
        }
        for pairs in [&mut want, &mut got] {
            for (k, _) in pairs.iter_mut() {
                k.make_ascii_lowercase();
            }
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
        }
        assert_eq!(got, want, "{file}: headers");

        let flag = if source == HttpSource::LatticeV1 || event.get("is_base64_encoded").is_some() {
            "is_base64_encoded"
        } else {
            "isBase64Encoded"
        };
        assert_eq!(request.body, decoded_body(&event, flag), "{file}: body");

        // requestContext is passed on as it was.
        match (event.get("requestContext"), http_event.request_context) {
            (Some(Value::Null) | None, None) => {}
            (Some(want), Some(raw)) => {
                assert_eq!(
                    &serde_json::from_str::<Value>(raw.get()).unwrap(),
                    want,
                    "{file}: requestContext"
                )
            }
            (want, got) => panic!("{file}: requestContext {want:?} vs {got:?}"),
        }
    }
}

#[test]
fn reading_around_a_long_plain_body_gives_what_reading_it_all_gives() {
    // Every sample with a plain body takes the shortcut here (threshold 0),
    // and a 1 MiB upload does in real use: the results must be the same.
    let upload = {
        let mut event: Value = serde_json::from_str(
            &std::fs::read_to_string(
                events_dir().join("aws-lambda-rust-runtime/apigw_v2_proxy_request.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let bytes: Vec<u8> = (0..1024 * 1024u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        event["body"] = Value::String(crate::body::encode_base64(&bytes));
        event["isBase64Encoded"] = Value::Bool(true);
        (
            "1 MiB upload".to_string(),
            serde_json::to_string_pretty(&event).unwrap(),
        )
    };
    let mut shortcuts = 0;
    for (file, text) in samples()
        .into_iter()
        .map(|(file, _, text)| (file, text))
        .chain([upload])
    {
        let whole = parse_from(&text, usize::MAX);
        let around = parse_from(&text, 0);
        if scan::plain_string_member(text.as_bytes(), b"body", 0).is_some() {
            shortcuts += 1;
        }
        assert_same(&file, &whole, &around);
    }
    assert!(
        shortcuts >= 30,
        "only {shortcuts} samples took the shortcut"
    );
}

/// The two readings of one payload (whole and another way) give the same
/// event, or the same error.
pub(super) fn assert_same(
    what: &str,
    whole: &Result<Event<'_>, PortsideError>,
    split: &Result<Event<'_>, PortsideError>,
) {
    match (whole, split) {
        (Err(a), Err(b)) => assert_eq!(a, b, "{what}"),
        (Ok(Event::PassThrough(a)), Ok(Event::PassThrough(b))) => assert_eq!(a, b, "{what}"),
        (Ok(Event::Http(a)), Ok(Event::Http(b))) => {
            assert_eq!(a.source, b.source, "{what}");
            assert_eq!(a.request, b.request, "{what}");
            assert_eq!(
                a.request_context.as_ref().map(|c| c.get().to_string()),
                b.request_context.as_ref().map(|c| c.get().to_string()),
                "{what}"
            );
            assert_eq!(a.websocket, b.websocket, "{what}");
            assert_eq!(a.client_ip, b.client_ip, "{what}");
        }
        (a, b) => panic!("{what}: whole {a:?}, other {b:?}"),
    }
}

// ---- the fidelity points LWA loses, on real samples ----

fn http_event(file: &str) -> (HttpSource, HttpRequestParts) {
    let text = std::fs::read_to_string(events_dir().join(file)).unwrap();
    match parse(&text).unwrap() {
        Event::Http(e) => (e.source, e.request),
        Event::PassThrough(p) => panic!("{file}: pass-through {p:?}"),
    }
}

#[test]
fn v2_raw_query_reaches_the_app_byte_for_byte_and_a_raw_space_is_encoded_once() {
    let (_, request) = http_event("aws-lambda-rust-runtime/apigw_request_path_with_space.json");
    assert_eq!(request.path, "/my/path-with%20space");
    assert_eq!(
        request.query.as_deref(),
        Some("parameter1=value1&parameter1=value2&parameter2=value")
    );
    assert_eq!(request.headers["cookie"], "cookie1=value1; cookie2=value2");
}

#[test]
fn v1_multi_value_query_keeps_every_value_in_event_order() {
    let (_, request) = http_event("aws-lambda-rust-runtime/apigw_multi_value_proxy_request.json");
    assert_eq!(
        request.query.as_deref(),
        Some("name=me&multiValueName=you&multiValueName=me")
    );
}

#[test]
fn alb_encoded_query_values_are_not_encoded_again() {
    let (source, request) =
        http_event("aws-lambda-rust-runtime/alb_multi_value_request_encoded_query_parameters.json");
    assert_eq!(source, HttpSource::Alb { multi_value: true });
    assert_eq!(
        request.query.as_deref(),
        Some("myKey=%3FshowAll%3Dtrue&myKey=%3FshowAll%3Dfalse")
    );
    let cookies: Vec<_> = request.headers.get_all("cookie").iter().collect();
    assert_eq!(
        cookies,
        ["name1=value1; name2=value2"],
        "both cookie lines, joined into the one Cookie header RFC 6265 allows"
    );
}

#[test]
fn cookie_lines_become_one_cookie_header_for_every_source() {
    // An HTTP/2 client sends each cookie as its own header field; REST APIs
    // and multi-value ALBs list them separately.
    let rest = r#"{"httpMethod": "GET", "path": "/", "resource": "/",
        "multiValueHeaders": {"Cookie": ["a=1", "b=2; c=3"], "Accept": ["x"]},
        "requestContext": {"stage": "prod"}}"#;
    let alb = r#"{"httpMethod": "GET", "path": "/",
        "multiValueHeaders": {"cookie": ["a=1", "b=2; c=3"]},
        "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:tg"}}}"#;
    let v2 = r#"{"version": "2.0", "rawPath": "/", "rawQueryString": "",
        "cookies": ["a=1", "b=2; c=3"], "headers": {},
        "requestContext": {"http": {"method": "GET"}, "domainName": "api.example.com"}}"#;
    for json in [rest, alb, v2] {
        let e = parse_http(json);
        let cookies: Vec<_> = e.request.headers.get_all("cookie").iter().collect();
        assert_eq!(cookies, ["a=1; b=2; c=3"], "{json}");
    }
    // One line stays as it is.
    let single = parse_http(
        r#"{"httpMethod": "GET", "path": "/", "resource": "/",
        "headers": {"cookie": "only=1"}, "requestContext": {}}"#,
    );
    assert_eq!(single.request.headers["cookie"], "only=1");
}

// ---- hand-written events for rules the samples do not cover ----

fn parse_http(json: &str) -> HttpEvent<'_> {
    match parse(json).unwrap() {
        Event::Http(e) => *e,
        Event::PassThrough(p) => panic!("pass-through {p:?}"),
    }
}

#[test]
fn decoded_v1_path_is_encoded_once_and_query_values_once() {
    let json = r#"{"resource": "/{proxy+}", "path": "/files/a b/€", "httpMethod": "GET",
        "multiValueQueryStringParameters": {"q": ["a&b", "c d"], "e": ["€"]},
        "requestContext": {"stage": "prod"}}"#;
    let e = parse_http(json);
    assert_eq!(e.request.path, "/files/a%20b/%E2%82%AC");
    assert_eq!(
        e.request.query.as_deref(),
        Some("q=a%26b&q=c%20d&e=%E2%82%AC")
    );
}

#[test]
fn lattice_v2_accepts_list_and_string_values_for_headers_and_query() {
    let json = r#"{"version": "2.0", "path": "/p", "method": "POST",
        "headers": {"x-list": ["a", "b"], "x-str": "c"},
        "queryStringParameters": {"l": ["1", "2"], "s": "3"},
        "body": "aGk=", "isBase64Encoded": true,
        "requestContext": {"serviceNetworkArn": "arn:aws:vpc-lattice:r:1:servicenetwork/sn-1"}}"#;
    let e = parse_http(json);
    assert_eq!(e.source, HttpSource::LatticeV2);
    let list: Vec<_> = e.request.headers.get_all("x-list").iter().collect();
    assert_eq!(list, ["a", "b"]);
    assert_eq!(e.request.headers["x-str"], "c");
    assert_eq!(e.request.query.as_deref(), Some("l=1&l=2&s=3"));
    assert_eq!(e.request.body, "hi");
}

#[test]
fn function_url_is_told_apart_by_its_domain() {
    let json = r#"{"version": "2.0", "rawPath": "/", "rawQueryString": "",
        "requestContext": {"domainName": "abc123.lambda-url.eu-west-1.on.aws", "http": {"method": "GET"}}}"#;
    assert_eq!(parse_http(json).source, HttpSource::FunctionUrl);
    let json = r#"{"version": "2.0", "rawPath": "/", "rawQueryString": "",
        "requestContext": {"domainName": "api.example.com", "http": {"method": "GET"}}}"#;
    let e = parse_http(json);
    assert_eq!(e.source, HttpSource::HttpApiV2);
    assert_eq!(
        e.request.headers["host"], "api.example.com",
        "Host from domainName when absent"
    );
}

#[test]
fn broken_http_events_are_invalid_with_the_field_named() {
    let cases = [
        (
            r#"{"version": "2.0", "rawPath": 5, "requestContext": {"http": {"method": "GET"}}}"#,
            "`rawPath` must be a string",
        ),
        (
            r#"{"version": "2.0", "rawPath": "/", "requestContext": {"http": {"method": "GE T"}}}"#,
            "not an HTTP method",
        ),
        (
            r#"{"httpMethod": "GET", "path": "/", "requestContext": {}, "headers": {"x": {"y": 1}}}"#,
            "`headers`",
        ),
        (
            r#"{"httpMethod": "GET", "path": "/", "requestContext": {}, "headers": {"bad name": "v"}}"#,
            "valid HTTP header name",
        ),
        (
            r#"{"httpMethod": "GET", "path": "/", "requestContext": {}, "headers": {"x": "a\nb"}}"#,
            "characters HTTP does not allow",
        ),
        (
            r#"{"httpMethod": "POST", "path": "/", "requestContext": {}, "body": "%%%", "isBase64Encoded": true}"#,
            "not valid base64",
        ),
        (
            r#"{"httpMethod": "POST", "path": "/", "requestContext": {}, "isBase64Encoded": "yes"}"#,
            "`isBase64Encoded` must be true or false",
        ),
        (
            r#"{"version": "2.0", "rawPath": "/", "cookies": "a=b", "requestContext": {"http": {"method": "GET"}}}"#,
            "`cookies` must be a list",
        ),
        (
            r#"{"httpMethod": "GET", "path": ["/"], "requestContext": {}}"#,
            "`path` must be a string",
        ),
    ];
    for (json, want) in cases {
        let err = parse(json).expect_err(json);
        assert_eq!(err.error_type(), "Portside.InvalidEvent", "{json}");
        assert!(err.to_string().contains(want), "{json}: {err}");
    }
}

#[test]
fn anything_else_is_passed_through_never_rejected() {
    for json in [
        "[]",
        "42",
        "\"text\"",
        "null",
        "{}",
        r#"{"body": 5, "headers": "x"}"#,
        r#"{"a": 1, "a": 2}"#,
        r#"{"eventSource": "aws:kafka", "records": {}}"#,
        r#"{"Records": [{"eventSource": "aws:sqs"}, 1, "x"]}"#,
        r#"{"Records": "not a list"}"#,
    ] {
        assert!(matches!(parse(json), Ok(Event::PassThrough(_))), "{json}");
    }
    match parse(r#"{"eventSource": "aws:kafka", "records": {}}"#).unwrap() {
        Event::PassThrough(p) => assert_eq!(p.source, "aws:kafka"),
        other => panic!("{other:?}"),
    }
}

// ---- responses, per source ----

fn app_response() -> ResponseParts {
    let mut headers = HeaderMap::new();
    headers.append("content-type", HeaderValue::from_static("image/png"));
    headers.append("x-multi", HeaderValue::from_static("one"));
    headers.append("x-multi", HeaderValue::from_static("two"));
    headers.append(
        "set-cookie",
        HeaderValue::from_static("a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT"),
    );
    headers.append("set-cookie", HeaderValue::from_static("b=2"));
    headers.append("connection", HeaderValue::from_static("keep-alive"));
    ResponseParts {
        status: StatusCode::CREATED,
        headers,
        body: Bytes::from_static(&[0x89, b'P', b'N', b'G', 0, 255]),
    }
}

fn http_result(source: HttpSource) -> HttpResult {
    to_result(source, app_response())
}

#[test]
fn the_direct_json_writer_writes_what_serde_json_writes_for_every_source() {
    let mut response = app_response();
    response.headers.append(
        "x-odd",
        HeaderValue::from_bytes(b"quote \" back\\slash \t tab caf\xc3\xa9").unwrap(),
    );
    response
        .headers
        .append("x-latin1", HeaderValue::from_bytes(b"caf\xe9").unwrap());
    let all = [
        HttpSource::RestApi,
        HttpSource::HttpApiV1,
        HttpSource::HttpApiV2,
        HttpSource::FunctionUrl,
        HttpSource::Alb { multi_value: false },
        HttpSource::Alb { multi_value: true },
        HttpSource::LatticeV1,
        HttpSource::LatticeV2,
        HttpSource::WebSocket,
    ];
    for source in all {
        for body in [
            response.body.clone(),
            Bytes::from_static(b"{\"text\": \"Zo\xc3\xab \\n\"}"),
            Bytes::new(),
        ] {
            let mut response = response.clone();
            if !body.is_empty() && body[0] == b'{' {
                response
                    .headers
                    .insert("content-type", HeaderValue::from_static("application/json"));
            }
            response.body = body;
            let result = to_result(source, response);
            assert_eq!(
                String::from_utf8(to_json(&result).unwrap().to_vec()).unwrap(),
                serde_json::to_string(&result).unwrap(),
                "{source:?}"
            );
        }
    }
}

#[test]
fn v1_results_carry_every_value_in_multi_value_headers() {
    let r = http_result(HttpSource::RestApi);
    assert_eq!(r.status_code, 201);
    assert!(r.headers.is_none() && r.cookies.is_none() && r.status_description.is_none());
    let mv = r.multi_value_headers.unwrap().0;
    assert!(mv.contains(&("x-multi".into(), vec!["one".into(), "two".into()])));
    assert!(mv.iter().any(|(k, v)| k == "set-cookie" && v.len() == 2));
    assert!(
        !mv.iter().any(|(k, _)| k == "connection"),
        "hop-by-hop headers are dropped"
    );
    assert!(r.is_base64_encoded);
    assert_eq!(
        crate::body::decode_event_body(Some(&r.body.as_json_text()), true).unwrap(),
        app_response().body
    );
}

#[test]
fn v2_and_function_url_results_join_headers_and_list_every_cookie() {
    for source in [HttpSource::HttpApiV2, HttpSource::FunctionUrl] {
        let r = http_result(source);
        let headers = r.headers.unwrap().0;
        assert!(headers.contains(&("x-multi".into(), "one, two".into())));
        assert!(!headers.iter().any(|(k, _)| k == "set-cookie"));
        assert_eq!(
            r.cookies.unwrap(),
            ["a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "b=2"]
        );
        assert!(r.multi_value_headers.is_none());
    }
}

#[test]
fn alb_results_have_a_status_description_and_the_events_header_style() {
    let r = http_result(HttpSource::Alb { multi_value: true });
    assert_eq!(r.status_description.as_deref(), Some("201 Created"));
    assert!(r.headers.is_none());
    assert!(r.multi_value_headers.is_some());

    let r = http_result(HttpSource::Alb { multi_value: false });
    assert!(r.multi_value_headers.is_none());
    let SingleValueHeaders(headers) = r.headers.unwrap();
    let cookies: Vec<&(String, String)> = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .collect();
    assert_eq!(
        cookies.len(),
        2,
        "both cookies survive, under two spellings: {cookies:?}"
    );
    assert_ne!(cookies[0].0, cookies[1].0);
}

#[test]
fn lattice_results_use_single_value_headers() {
    for source in [HttpSource::LatticeV1, HttpSource::LatticeV2] {
        let r = http_result(source);
        assert!(r.headers.is_some() && r.multi_value_headers.is_none() && r.cookies.is_none());
        assert!(r.status_description.is_none());
    }
}

#[test]
fn results_serialize_to_the_documented_field_names() {
    let json = serde_json::to_value(to_result(HttpSource::HttpApiV2, app_response())).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "statusCode",
            "headers",
            "cookies",
            "isBase64Encoded",
            "body"
        ]
    );
    let json = serde_json::to_value(to_result(
        HttpSource::Alb { multi_value: true },
        app_response(),
    ))
    .unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "statusCode",
            "statusDescription",
            "multiValueHeaders",
            "isBase64Encoded",
            "body"
        ]
    );
}

#[test]
fn a_result_over_six_megabytes_is_an_error_not_a_truncated_body() {
    let mut response = app_response();
    response.body = Bytes::from(vec![7u8; 5 * 1024 * 1024]); // base64 grows it past 6 MB
    let err = to_json(&to_result(HttpSource::HttpApiV2, response)).unwrap_err();
    assert_eq!(err.error_type(), "Portside.ResponseTooLarge");
    assert!(err.to_string().contains("response_stream"));

    let mut response = app_response();
    response.body = Bytes::from(vec![7u8; 4 * 1024 * 1024]); // 5.6 MB as base64: fits
    assert!(to_json(&to_result(HttpSource::HttpApiV2, response)).is_ok());
}

#[test]
fn pass_through_results_are_the_apps_json() {
    let ok = |status: u16, body: &'static str| ResponseParts {
        status: StatusCode::from_u16(status).unwrap(),
        headers: HeaderMap::new(),
        body: Bytes::from_static(body.as_bytes()),
    };
    let json = |r: Bytes| String::from_utf8(r.to_vec()).unwrap();
    let batch =
        r#"{"batchItemFailures":[{"itemIdentifier":"059f36b4-87a3-44ab-83d2-661975830a7d"}]}"#;
    assert_eq!(json(pass_through_result(ok(200, batch)).unwrap()), batch);
    assert_eq!(json(pass_through_result(ok(204, "")).unwrap()), "null");
    assert_eq!(
        json(pass_through_result(ok(200, "done")).unwrap()),
        "\"done\""
    );
    let err = pass_through_result(ok(500, "db down")).unwrap_err();
    assert_eq!(err.error_type(), "Portside.AppError");
    assert!(err.to_string().contains("500") && err.to_string().contains("db down"));
}

#[test]
fn the_stream_prelude_has_status_headers_and_cookies() {
    let prelude = stream_prelude(
        HttpSource::FunctionUrl,
        StatusCode::CREATED,
        &app_response().headers,
    )
    .unwrap();
    let prelude: Value = serde_json::from_slice(&prelude).unwrap();
    assert_eq!(prelude["statusCode"], 201);
    assert_eq!(prelude["headers"]["x-multi"], "one, two");
    assert_eq!(prelude["cookies"][1], "b=2");
    assert!(prelude["headers"].get("connection").is_none());
}

#[test]
fn a_rest_api_stream_prelude_keeps_every_value_in_multi_value_headers() {
    let prelude = stream_prelude(
        HttpSource::RestApi,
        StatusCode::CREATED,
        &app_response().headers,
    )
    .unwrap();
    let prelude: Value = serde_json::from_slice(&prelude).unwrap();
    assert_eq!(
        prelude,
        serde_json::json!({
            "statusCode": 201,
            "multiValueHeaders": {
                "content-type": ["image/png"],
                "x-multi": ["one", "two"],
                "set-cookie": ["a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "b=2"]
            }
        })
    );
}

#[test]
fn only_function_urls_and_rest_apis_stream() {
    // API Gateway's guide: response streaming is for REST APIs only; Lambda's:
    // Function URLs in RESPONSE_STREAM mode.
    let all = [
        HttpSource::RestApi,
        HttpSource::HttpApiV1,
        HttpSource::HttpApiV2,
        HttpSource::FunctionUrl,
        HttpSource::Alb { multi_value: false },
        HttpSource::Alb { multi_value: true },
        HttpSource::LatticeV1,
        HttpSource::LatticeV2,
        HttpSource::WebSocket,
    ];
    for source in all {
        let want = matches!(source, HttpSource::RestApi | HttpSource::FunctionUrl);
        assert_eq!(source.streams(), want, "{source:?}");
        let prelude = stream_prelude(source, StatusCode::OK, &HeaderMap::new());
        assert_eq!(prelude.is_some(), want, "{source:?}");
    }
}

#[test]
fn source_names_are_the_contract_with_portside_local() {
    // The names `HttpSource::name` documents as the contract: portside-local
    // names its sources the same, so none may change.
    let contract = [
        (HttpSource::RestApi, "rest-api"),
        (HttpSource::HttpApiV1, "http-api-v1"),
        (HttpSource::HttpApiV2, "http-api-v2"),
        (HttpSource::FunctionUrl, "function-url"),
        (HttpSource::Alb { multi_value: false }, "alb"),
        (HttpSource::Alb { multi_value: true }, "alb-multi-value"),
        (HttpSource::LatticeV1, "vpc-lattice-v1"),
        (HttpSource::LatticeV2, "vpc-lattice-v2"),
        (HttpSource::WebSocket, "api-gateway-websocket"),
    ];
    for (source, name) in contract {
        assert_eq!(source.name(), name, "{source:?}");
    }
}

#[test]
fn websocket_events_carry_their_type_route_and_connection() {
    let (source, request) =
        http_event("aws-lambda-rust-runtime/example-apigw-websocket-request.json");
    assert_eq!(source, HttpSource::WebSocket);
    assert_eq!(request.method, http::Method::POST);
    let text = std::fs::read_to_string(
        events_dir()
            .join("aws-lambda-rust-runtime/example-apigw-websocket-request-disconnect-route.json"),
    )
    .unwrap();
    let Event::Http(e) = parse(&text).unwrap() else {
        panic!("not HTTP")
    };
    let info = e.websocket.unwrap();
    assert_eq!(
        (
            info.event_type.to_str().unwrap(),
            info.route_key.to_str().unwrap(),
            info.connection_id.to_str().unwrap()
        ),
        ("DISCONNECT", "$disconnect", "AAAA1234=")
    );
    // Without eventType, the route key decides.
    let json = r#"{"requestContext": {"connectionId": "c1", "routeKey": "sendMessage", "messageDirection": "IN"},
                   "body": "aGk=", "isBase64Encoded": true}"#;
    let e = parse_http(json);
    let info = e.websocket.unwrap();
    assert_eq!(
        (
            info.event_type.to_str().unwrap(),
            info.route_key.to_str().unwrap()
        ),
        ("MESSAGE", "sendMessage")
    );
    assert_eq!(e.request.body, "hi");
    let err =
        parse(r#"{"requestContext": {"connectionId": 5, "eventType": "MESSAGE"}}"#).unwrap_err();
    assert!(err.to_string().contains("connectionId"), "{err}");
}

#[test]
fn websocket_results_have_status_headers_and_body() {
    let r = to_result(HttpSource::WebSocket, app_response());
    assert_eq!(r.status_code, 201);
    assert!(r.headers.is_some() && r.multi_value_headers.is_none() && r.cookies.is_none());
}
