//! VPC Lattice target events, structure V1 and V2.
//!
//! Detection: V2 (TYPES.md step 6) by `requestContext.serviceNetworkArn`; V1
//! (step 7) by snake_case `raw_path` and `method` without a
//! `requestContext`.
//! V1 request: `method`, `raw_path`, `headers` (repeated headers already
//! joined as `"a, b"`), `query_string_parameters`, `body`, `is_base64_encoded`.
//! V2 request: `method`, `path`, `headers` and `queryStringParameters` whose
//! values are lists (the AWS docs) or plain strings (older samples): both are
//! accepted, for both fields, including the snake_case query field.
//! Query values are decoded, so they are encoded once; a query inside the
//! path is raw and kept as it is (V2 events carry one: a capture from a
//! running function has `"path": "/?query1=value1&query1=value2"`). The
//! decision and its evidence are in local/FRONTDOOR.md, "VPC Lattice query
//! values"; portside-local's front door sends the same shapes.
//! Result, both versions: `statusCode`, `headers`, `body`, `isBase64Encoded`
//! (vpc-lattice lambda-functions.html, respond-to-service).
//! The client's address is in `X-Forwarded-For` only.

use super::parts::{body_from, headers_from, method_from, non_empty, required, split_path_query};
use super::result::{HttpResult, ResponseParts};
use super::{
    ContextProbe, Converted, Detected, HttpRequestParts, HttpSource, RawEvent, Refusal, Source,
};
use crate::body::encode_result_body;
use crate::uri::{encode_path, encode_raw_query, query_from_decoded};

/// The file of VPC Lattice's two event structures.
pub(super) struct Lattice;

/// TYPES.md step 6: V2.
pub(super) fn detect_v2<'a>(_: &RawEvent<'a>, context: &ContextProbe<'a>) -> Option<Detected<'a>> {
    context
        .service_network_arn
        .is_some()
        .then_some(Detected::Http(HttpSource::LatticeV2))
}

/// TYPES.md step 7: V1, snake_case fields and no `requestContext`.
pub(super) fn detect_v1<'a>(event: &RawEvent<'a>, _: &ContextProbe<'a>) -> Option<Detected<'a>> {
    (event.request_context.is_none() && event.raw_path_snake.is_some() && event.method.is_some())
        .then_some(Detected::Http(HttpSource::LatticeV1))
}

impl Source for Lattice {
    fn name(&self, source: HttpSource) -> &'static str {
        match source {
            HttpSource::LatticeV1 => "vpc-lattice-v1",
            _ => "vpc-lattice-v2",
        }
    }

    fn request(
        &self,
        event: &RawEvent<'_>,
        _: &ContextProbe<'_>,
        source: HttpSource,
    ) -> Result<Converted, Refusal> {
        request(event, source).map(Converted::from)
    }

    fn result(&self, response: ResponseParts, _: HttpSource) -> HttpResult {
        let body = encode_result_body(&response.headers, &response.body);
        HttpResult::single_value(&response, body)
    }
}

fn request(event: &RawEvent<'_>, source: HttpSource) -> Result<HttpRequestParts, Refusal> {
    let method = method_from(event.method.as_ref(), "method")?;
    let path = match source {
        HttpSource::LatticeV1 => required(event.raw_path_snake.as_ref(), "raw_path")?,
        _ => required(event.path.as_ref(), "path")?,
    };
    let (path, query_in_path) = split_path_query(path);
    let query = match query_in_path {
        Some(raw) => encode_raw_query(raw).into_owned(),
        None => {
            let (field, params) = match (
                &event.query_string_parameters,
                &event.query_string_parameters_snake,
            ) {
                (Some(params), _) => ("queryStringParameters", Some(params)),
                (None, params) => ("query_string_parameters", params.as_ref()),
            };
            match params {
                Some(params) => {
                    let pairs = params.require(field)?;
                    query_from_decoded(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
                }
                None => String::new(),
            }
        }
    };
    let (flag, flag_field) = match (event.is_base64_encoded, event.is_base64_encoded_snake) {
        (Some(flag), _) => (Some(flag), "isBase64Encoded"),
        (None, flag) => (flag, "is_base64_encoded"),
    };
    Ok(HttpRequestParts {
        method,
        path: encode_path(path).into_owned(),
        query: non_empty(query),
        headers: headers_from(None, "", event.headers.as_ref(), "headers")?,
        body: body_from(event.body.as_ref(), flag, flag_field)?,
    })
}

#[cfg(test)]
mod tests {
    use crate::event::{parse, Event, HttpRequestParts};

    fn request(json: &str) -> HttpRequestParts {
        match parse(json).expect("parses") {
            Event::Http(e) => e.request,
            Event::PassThrough(p) => panic!("pass-through {p:?}"),
        }
    }

    // Expected values from the documented shape (vpc-lattice
    // lambda-functions.html, "Receive events from the VPC Lattice
    // service") and FRONTDOOR.md: map values are the decoded text the client
    // meant, so `&` in a value must reach the app as `%26`, once.
    #[test]
    fn v1_query_values_are_decoded_text_encoded_once() {
        let r = request(
            r#"{"raw_path": "/q", "method": "GET", "headers": {"host": "svc"},
                "query_string_parameters": {"x": "&", "y": "a b", "p": "100%"},
                "is_base64_encoded": false}"#,
        );
        assert_eq!(r.path, "/q");
        assert_eq!(r.query.as_deref(), Some("x=%26&y=a%20b&p=100%25"));
    }

    #[test]
    fn v2_prefers_the_raw_query_in_its_path() {
        // As captured from a running function: the path carries the query
        // as the client sent it, the map the same pairs as decoded lists.
        let r = request(
            r#"{"version": "2.0", "path": "/?x=%26&query1=value1&query1=value2", "method": "POST",
                "headers": {"host": ["svc"]},
                "queryStringParameters": {"x": ["&"], "query1": ["value1", "value2"]},
                "isBase64Encoded": false,
                "requestContext": {"serviceNetworkArn": "arn:aws:vpc-lattice:us-east-1:1:servicenetwork/sn-1"}}"#,
        );
        assert_eq!(r.path, "/");
        assert_eq!(
            r.query.as_deref(),
            Some("x=%26&query1=value1&query1=value2")
        );
        // Without a query in the path, the decoded lists are encoded once.
        let r = request(
            r#"{"version": "2.0", "path": "/p", "method": "GET",
                "queryStringParameters": {"x": ["&", "a b"]},
                "requestContext": {"serviceNetworkArn": "arn:aws:vpc-lattice:us-east-1:1:servicenetwork/sn-1"}}"#,
        );
        assert_eq!(r.query.as_deref(), Some("x=%26&x=a%20b"));
    }
}
