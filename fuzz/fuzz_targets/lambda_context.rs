//! Lambda's answers: `/next` headers with arbitrary values (deadline, trace
//! id, function ARN, client context, Cognito identity, tenant id) →
//! `runtime_api::invocation_context` → the Lambda context JSON the app gets
//! (`LambdaContextWriter`, `json_header_value`) and the `traceparent`.
//!
//! Input: the header values, one a line: request id, deadline, function
//! ARN, trace id, client context, Cognito identity, tenant id.
//!
//! What must hold: no panic, whatever Lambda sends; the context JSON is
//! byte for byte what serde_json writes for the same `Context`; its header
//! form is printable ASCII holding the same JSON; each field is the header's
//! value (a deadline that is not a number is 0); a `traceparent` is made
//! only from a valid X-Ray `Root` and `Parent`, in W3C's form.

#![no_main]

use std::sync::{Arc, OnceLock};

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use portside::testing::request::{json_header_value, traceparent, LambdaContextWriter};
use portside::testing::runtime_api::invocation_context;

const NAMES: [&str; 6] = [
    "lambda-runtime-deadline-ms",
    "lambda-runtime-invoked-function-arn",
    "lambda-runtime-trace-id",
    "lambda-runtime-client-context",
    "lambda-runtime-cognito-identity",
    "lambda-runtime-aws-tenant-id",
];

fn env() -> Arc<lambda_runtime::Config> {
    static ENV: OnceLock<Arc<lambda_runtime::Config>> = OnceLock::new();
    ENV.get_or_init(|| {
        Arc::new(lambda_runtime::Config {
            function_name: "fuzz".into(),
            memory: 128,
            version: "$LATEST".into(),
            log_stream: "stream".into(),
            log_group: "/aws/lambda/fuzz".into(),
        })
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let request_id = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let mut headers = HeaderMap::new();
    let mut given: [Option<HeaderValue>; 6] = Default::default();
    for (i, name) in NAMES.iter().enumerate() {
        let Some(raw) = lines.next() else { break };
        if let Ok(value) = HeaderValue::from_bytes(raw) {
            headers.insert(HeaderName::from_static(name), value.clone());
            given[i] = Some(value);
        }
    }
    let context = invocation_context(&request_id, &headers, env());
    let text = |i: usize| {
        given[i]
            .as_ref()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };

    assert_eq!(context.request_id, request_id);
    let deadline = text(0)
        .and_then(|d| d.trim().parse::<u64>().ok())
        .unwrap_or(0);
    assert_eq!(context.deadline, deadline);
    assert_eq!(context.invoked_function_arn, text(1).unwrap_or_default());
    assert_eq!(context.xray_trace_id, text(2));
    assert_eq!(context.tenant_id, text(5));
    // A client context or identity that is not JSON is left out (whatever
    // its reader accepts is written back as serde_json writes it, below).
    if given[3].as_ref().is_none_or(|v| v.is_empty()) {
        assert!(context.client_context.is_none());
    }
    if given[4].as_ref().is_none_or(|v| v.is_empty()) {
        assert!(context.identity.is_none());
    }

    let writer = LambdaContextWriter::new(&context.env_config);
    let json = writer.write(&context);
    let oracle = serde_json::to_string(&context).expect("serde_json writes a Context");
    assert_eq!(json, oracle, "the context JSON is serde_json's");
    let value: serde_json::Value = serde_json::from_str(&json).expect("the context is JSON");
    let header = json_header_value(&json);
    assert!(header.as_bytes().iter().all(|b| (0x20..0x7f).contains(b)));
    let from_header: serde_json::Value =
        serde_json::from_slice(header.as_bytes()).expect("the header holds JSON");
    assert_eq!(from_header, value);

    if let Some(trace) = &context.xray_trace_id {
        if let Some(parent) = traceparent(trace) {
            let p = parent.to_str().unwrap();
            let parts: Vec<&str> = p.split('-').collect();
            assert_eq!(parts.len(), 4, "{p}");
            assert_eq!(parts[0], "00");
            assert!(parts[1].len() == 32 && parts[2].len() == 16);
            assert!(parts[1..3].iter().all(|s| s
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))));
            assert!(parts[1].bytes().any(|b| b != b'0') && parts[2].bytes().any(|b| b != b'0'));
            assert!(parts[3] == "00" || parts[3] == "01");
            // The ids come from the header's Root and Parent.
            let lower = trace.to_ascii_lowercase();
            assert!(lower.contains(&parts[1][..8]) && lower.contains(&parts[1][8..]));
            assert!(lower.contains(parts[2]));
        }
    }
});
