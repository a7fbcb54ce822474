//! The conversions both ways, against the shapes in the AWS documentation.

use super::*;
use base64::Engine;
use serde_json::{json, Value};

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
    let e = to_event(Source::HttpApiV2, &r, &ctx());
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
    for s in Source::ALL {
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
        to_event(Source::Alb { multi_value: false }, &form, &ctx())["isBase64Encoded"],
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
    let alb = to_event(Source::Alb { multi_value: false }, &r, &ctx());
    assert!(alb["requestContext"]["elb"]["targetGroupArn"]
        .as_str()
        .unwrap_or("")
        .contains(":targetgroup/"));
    assert_eq!(alb["queryStringParameters"]["q"], "c");
    assert_eq!(alb["headers"]["accept"], "y");
    let multi = to_event(Source::Alb { multi_value: true }, &r, &ctx());
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
    let alb = to_event(Source::Alb { multi_value: true }, &r, &ctx());
    assert_eq!(
        keys(&alb["multiValueQueryStringParameters"]),
        ["z", "a", "m"]
    );
    assert_eq!(
        keys(&to_event(Source::Alb { multi_value: false }, &r, &ctx())["queryStringParameters"]),
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
    let alb = to_event(Source::Alb { multi_value: false }, &r, &ctx());
    assert_eq!(alb["queryStringParameters"]["x"], "%26");
}

#[test]
fn results_map_back_per_source() {
    let v2 = to_response(
        Source::HttpApiV2,
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
    assert_eq!(
        to_response(Source::HttpApiV2, b"not json", false).status,
        500
    );
    let alb = to_response(
        Source::Alb { multi_value: false },
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
    let alb = to_response(Source::Alb { multi_value: false }, result, false);
    assert_eq!(names(&alb, "set-cookie"), ["x"]);
    assert_eq!(names(&alb, "x-multi"), Vec::<String>::new());
    // ALB with multi-value headers reads only `multiValueHeaders`.
    let multi = to_response(Source::Alb { multi_value: true }, result, false);
    assert_eq!(names(&multi, "set-cookie"), ["a=1", "b=2"]);
    assert_eq!(names(&multi, "x-single"), Vec::<String>::new());
    // Payload 2.0 has no multiValueHeaders.
    let v2 = to_response(Source::HttpApiV2, result, false);
    assert_eq!(names(&v2, "x-multi"), Vec::<String>::new());
    assert_eq!(names(&v2, "x-single"), ["s"]);
}

#[test]
fn a_head_response_keeps_the_apps_content_length() {
    let result = br#"{"statusCode":200,"headers":{"content-length":"1234","content-type":"text/plain"},"multiValueHeaders":{"content-length":["1234"]},"body":""}"#;
    for source in Source::ALL {
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
    let head = stream_head(Source::RestApi, Some(prelude), true)
        .expect("head")
        .headers;
    assert!(
        head.iter()
            .any(|(k, v)| k == "content-length" && v == "1048576"),
        "{head:?}"
    );
    let get = stream_head(Source::RestApi, Some(prelude), false)
        .expect("head")
        .headers;
    assert!(!get.iter().any(|(k, _)| k == "content-length"), "{get:?}");
}

#[test]
fn stream_preludes_carry_all_four_fields() {
    let prelude = br#"{"statusCode":202,"headers":{"content-type":"text/plain","x-both":"single"},"multiValueHeaders":{"x-both":["m1","m2"],"x-multi":["a","b"]},"cookies":["c=1","d=2"]}"#;
    for source in [Source::RestApi, Source::FunctionUrl] {
        let ResponseHead { status, headers } =
            stream_head(source, Some(prelude), false).expect("head");
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
            .status,
        200
    );
}
