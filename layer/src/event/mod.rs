//! Events in, results out: what Lambda sends and what it expects back, for
//! every event source.
//!
//! Owns: detecting the source of a payload (once, from its fields, by an
//! ordered list of per-source checks, [`CHECKS`]: the order
//! `tests/events/TYPES.md` derives from the AWS docs), and handing a detected
//! HTTP event to its source's file for conversion, result and stream prelude.
//! Must not: do I/O, read configuration, or apply adapter policy (base path
//! removal, context headers): that is `request`'s job. Every function here is
//! pure, so every real event can be tested without sockets.
//!
//! An event source is one unit: its file (`apigw_v1`, `apigw_v2`, `alb`,
//! `lattice`, `websocket`; `passthrough` for everything that is not HTTP)
//! holds its detection check, its request conversion, its result, its stream
//! prelude where it streams, and its name ([`Source`]). Adding one is its
//! file, a variant of [`HttpSource`] with its line in [`HttpSource::unit`],
//! its check's line in [`CHECKS`], the fields it reads in [`RawEvent`], and
//! its tests.
//!
//! One lenient parse ([`RawEvent`]) serves detection and conversion: it never
//! fails on a field of the wrong type, so unknown JSON is always passed
//! through, and an HTTP event with a broken field is reported by field name.

mod alb;
pub mod assemble;
mod apigw_v1;
mod apigw_v2;
mod lattice;
mod parts;
mod passthrough;
pub mod result;
mod scan;
mod websocket;
pub mod wire;

use std::borrow::Cow;

use bytes::Bytes;
use http::header::HOST;
use http::{HeaderMap, Method, StatusCode};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::PortsideError;
use crate::limits::Limit;
pub use assemble::{Assembler, Payload, Split};
pub use passthrough::{body_excerpt, pass_through_result};
pub use result::{to_json, HttpResult, ResponseParts};
pub use websocket::WebSocketInfo;
use wire::{First, Flag, Obj, Pairs, Text, TextList};

/// Why an HTTP event cannot become the app's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A field is missing, of the wrong type, or holds what HTTP does not
    /// allow (the message names the field).
    Invalid(String),
    /// The request would be past one of the adapter's limits.
    OverLimit(Limit, usize),
}

impl From<String> for Refusal {
    fn from(message: String) -> Refusal {
        Refusal::Invalid(message)
    }
}

/// The HTTP event sources, each with its own request and result shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpSource {
    /// API Gateway REST API, Lambda proxy integration (no `version` field).
    RestApi,
    /// API Gateway HTTP API, payload 1.0 (the REST shape with `"version": "1.0"`).
    HttpApiV1,
    /// API Gateway HTTP API, payload 2.0.
    HttpApiV2,
    /// Lambda Function URL (payload 2.0 on a `lambda-url` domain).
    FunctionUrl,
    /// Application Load Balancer; `multi_value` when the target group has
    /// multi-value headers on (the result must then use `multiValueHeaders`).
    Alb {
        /// Whether the event (and so the result) uses multi-value maps.
        multi_value: bool,
    },
    /// VPC Lattice, event structure V1.
    LatticeV1,
    /// VPC Lattice, event structure V2.
    LatticeV2,
    /// API Gateway WebSocket API (`$connect`, `$disconnect`, messages).
    WebSocket,
}

impl HttpSource {
    /// The file that owns this source.
    fn unit(self) -> &'static dyn Source {
        match self {
            HttpSource::RestApi | HttpSource::HttpApiV1 => &apigw_v1::ApiGatewayV1,
            HttpSource::HttpApiV2 | HttpSource::FunctionUrl => &apigw_v2::ApiGatewayV2,
            HttpSource::Alb { .. } => &alb::Alb,
            HttpSource::LatticeV1 | HttpSource::LatticeV2 => &lattice::Lattice,
            HttpSource::WebSocket => &websocket::WebSocket,
        }
    }

    /// The source's name, in logs, the access record, the EMF `EventSource`
    /// dimension and error messages.
    ///
    /// These names are a contract that portside-local must match (the names
    /// of its front doors on its command line, the EMF `EventSource`
    /// dimension, `x-portside-event-source`), so they are never renamed:
    /// `rest-api`, `http-api-v1`, `http-api-v2`, `function-url`, `alb`,
    /// `alb-multi-value`, `vpc-lattice-v1`, `vpc-lattice-v2`,
    /// `api-gateway-websocket`. Each is written in its source's file; a test
    /// (`event::tests`) holds them to this list.
    pub fn name(self) -> &'static str {
        self.unit().name(self)
    }

    /// Whether this source can take a streamed response: a Function URL in
    /// `RESPONSE_STREAM` invoke mode, and a REST API integration in `STREAM`
    /// response transfer mode (API Gateway: "Stream the integration response
    /// for your proxy integrations", REST APIs only). HTTP APIs, ALB, VPC
    /// Lattice and WebSocket APIs read one JSON result. It streams exactly
    /// when its file has a prelude for it.
    pub fn streams(self) -> bool {
        self.unit().prelude(self).is_some()
    }
}

/// Writes a streamed response's JSON prelude from the app's status and headers.
type PreludeWriter = fn(StatusCode, &HeaderMap) -> Bytes;

/// What the file of an HTTP source provides, for each of its
/// [`HttpSource`]s (a file serves the variants that share one schema:
/// REST API and HTTP API payload 1.0, HTTP API payload 2.0 and Function
/// URLs, ALB with and without multi-value maps, VPC Lattice V1 and V2).
trait Source: Sync {
    /// The source's name (see [`HttpSource::name`]).
    fn name(&self, source: HttpSource) -> &'static str;

    /// The app's request (and, for WebSocket events, what the app is told
    /// about the event), from a payload detected as `source`.
    fn request(
        &self,
        event: &RawEvent<'_>,
        context: &ContextProbe<'_>,
        source: HttpSource,
    ) -> Result<Converted, Refusal>;

    /// The result `source` expects for the app's response.
    fn result(&self, response: ResponseParts, source: HttpSource) -> HttpResult;

    /// The prelude of a streamed response, for a source that can stream.
    fn prelude(&self, _source: HttpSource) -> Option<PreludeWriter> {
        None
    }

    /// The address of the client that connected to the front door, where
    /// the event says it (ALB and VPC Lattice say it in `X-Forwarded-For`
    /// instead).
    fn client_ip(&self, _context: &ContextProbe<'_>) -> Option<String> {
        None
    }
}

/// A converted HTTP event, as a source's file returns it.
pub(crate) struct Converted {
    request: HttpRequestParts,
    websocket: Option<WebSocketInfo>,
}

impl From<HttpRequestParts> for Converted {
    fn from(request: HttpRequestParts) -> Converted {
        Converted {
            request,
            websocket: None,
        }
    }
}

/// The request an HTTP event describes, before the adapter's own policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequestParts {
    /// The method.
    pub method: Method,
    /// The path, percent-encoded once, starting with `/`.
    pub path: String,
    /// The query without `?`, percent-encoded once; `None` when empty.
    pub query: Option<String>,
    /// Every header and every value the event carries.
    pub headers: HeaderMap,
    /// The body bytes, base64-decoded.
    pub body: Bytes,
}

/// An HTTP event, converted.
#[derive(Debug)]
pub struct HttpEvent<'a> {
    /// Where it came from (and so the shape of the result).
    pub source: HttpSource,
    /// The request for the app.
    pub request: HttpRequestParts,
    /// The event's `requestContext`, as the raw JSON text.
    pub request_context: Option<Cow<'a, RawValue>>,
    /// For WebSocket events: the event type, route and connection.
    pub websocket: Option<WebSocketInfo>,
    /// The client's address as the event gives it (see `Source::client_ip`).
    pub client_ip: Option<String>,
}

/// A payload that is not an HTTP request: the app receives it as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassThrough<'a> {
    /// The event source, as the header `x-portside-event-source` names it:
    /// `aws:sqs`, `aws:s3`, `aws.events`, ... or `unknown`.
    pub source: Cow<'a, str>,
}

/// What a payload turned out to be.
#[derive(Debug)]
pub enum Event<'a> {
    /// An HTTP request for the app.
    Http(Box<HttpEvent<'a>>),
    /// Anything else: POSTed to the pass-through path.
    PassThrough(PassThrough<'a>),
}

/// The union of the top-level fields that any event source uses, read
/// leniently (see [`wire`]).
#[derive(Deserialize, Default)]
pub(crate) struct RawEvent<'a> {
    // Detection only.
    #[serde(rename = "Records", borrow)]
    records: Option<First<Obj<passthrough::RecordProbe<'a>>>>,
    #[serde(rename = "eventSource", borrow)]
    event_source: Option<Text<'a>>,
    awslogs: Option<IgnoredAny>,
    #[serde(rename = "detail-type")]
    detail_type: Option<IgnoredAny>,
    source: Option<IgnoredAny>,
    detail: Option<IgnoredAny>,
    #[serde(rename = "type", borrow)]
    kind: Option<Text<'a>>,
    #[serde(rename = "methodArn")]
    method_arn: Option<IgnoredAny>,
    #[serde(rename = "routeArn")]
    route_arn: Option<IgnoredAny>,
    #[serde(rename = "messageVersion")]
    message_version: Option<IgnoredAny>,
    agent: Option<IgnoredAny>,
    #[serde(rename = "actionGroup")]
    action_group: Option<IgnoredAny>,
    resource: Option<IgnoredAny>,

    // Detection and conversion.
    #[serde(borrow)]
    version: Option<Text<'a>>,
    #[serde(rename = "requestContext", borrow)]
    request_context: Option<&'a RawValue>,
    #[serde(rename = "httpMethod", borrow)]
    http_method: Option<Text<'a>>,
    #[serde(borrow)]
    method: Option<Text<'a>>,
    #[serde(borrow)]
    path: Option<Text<'a>>,
    #[serde(rename = "rawPath", borrow)]
    raw_path: Option<Text<'a>>,
    #[serde(rename = "raw_path", borrow)]
    raw_path_snake: Option<Text<'a>>,
    #[serde(rename = "rawQueryString", borrow)]
    raw_query_string: Option<Text<'a>>,
    #[serde(borrow)]
    cookies: Option<TextList<'a>>,
    #[serde(borrow)]
    headers: Option<Pairs<'a>>,
    #[serde(rename = "multiValueHeaders", borrow)]
    multi_value_headers: Option<Pairs<'a>>,
    #[serde(rename = "queryStringParameters", borrow)]
    query_string_parameters: Option<Pairs<'a>>,
    #[serde(rename = "multiValueQueryStringParameters", borrow)]
    multi_value_query_string_parameters: Option<Pairs<'a>>,
    #[serde(rename = "query_string_parameters", borrow)]
    query_string_parameters_snake: Option<Pairs<'a>>,
    #[serde(borrow)]
    body: Option<Text<'a>>,
    #[serde(rename = "isBase64Encoded")]
    is_base64_encoded: Option<Flag>,
    #[serde(rename = "is_base64_encoded")]
    is_base64_encoded_snake: Option<Flag>,
}

/// The fields of `requestContext` that detection and conversion need.
#[derive(Deserialize, Default)]
pub(crate) struct ContextProbe<'a> {
    elb: Option<Obj<alb::ElbProbe>>,
    #[serde(rename = "serviceNetworkArn")]
    service_network_arn: Option<IgnoredAny>,
    #[serde(rename = "connectionId", borrow)]
    connection_id: Option<Text<'a>>,
    #[serde(rename = "eventType", borrow)]
    event_type: Option<Text<'a>>,
    #[serde(rename = "routeKey", borrow)]
    route_key: Option<Text<'a>>,
    #[serde(rename = "messageDirection")]
    message_direction: Option<IgnoredAny>,
    #[serde(borrow)]
    http: Option<Obj<apigw_v2::HttpProbe<'a>>>,
    #[serde(rename = "domainName", borrow)]
    domain_name: Option<Text<'a>>,
    #[serde(borrow)]
    identity: Option<Obj<IdentityProbe<'a>>>,
}

/// `requestContext.identity` (REST APIs, payload 1.0, WebSocket APIs).
#[derive(Deserialize, Default)]
struct IdentityProbe<'a> {
    #[serde(rename = "sourceIp", borrow)]
    source_ip: Option<Text<'a>>,
}

impl<'a> ContextProbe<'a> {
    fn read(raw: Option<&'a RawValue>) -> ContextProbe<'a> {
        match raw.map(|raw| serde_json::from_str::<Obj<ContextProbe<'a>>>(raw.get())) {
            Some(Ok(Obj::Value(probe))) => probe,
            _ => ContextProbe::default(),
        }
    }

    fn domain_name(&self) -> Option<&str> {
        self.domain_name.as_ref().and_then(Text::as_str)
    }

    /// `requestContext.identity.sourceIp`, where the REST shape says the
    /// client's address.
    fn identity_source_ip(&self) -> Option<String> {
        address(self.identity.as_ref()?.get()?.source_ip.as_ref())
    }
}

/// A client address field's text, when it holds one.
fn address(field: Option<&Text<'_>>) -> Option<String> {
    field?
        .as_str()
        .filter(|ip| !ip.is_empty())
        .map(str::to_owned)
}

/// What detection decided, before conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Detected<'a> {
    Http(HttpSource),
    PassThrough(Cow<'a, str>),
}

/// One source's detection check: what the payload is, if it is that source's.
type Check = for<'a> fn(&RawEvent<'a>, &ContextProbe<'a>) -> Option<Detected<'a>>;

/// The detection checks in the order `tests/events/TYPES.md` derives from
/// the AWS docs (the step numbers are its): several sources share fields, so
/// the first check that recognises a payload names it. The tests in
/// `event/tests.rs` detect every sample event of the corpus as its
/// documented type.
const CHECKS: [Check; 11] = [
    passthrough::detect_records, // 1. Records; Kafka and MQ's top-level eventSource
    passthrough::detect_logs,    // 2. CloudWatch Logs subscription
    passthrough::detect_eventbridge, // 3. EventBridge, scheduled events
    passthrough::detect_authorizer, // 4. Lambda authorizers: not requests
    alb::detect,                 // 5. ALB
    lattice::detect_v2,          // 6. VPC Lattice V2
    lattice::detect_v1,          // 7. VPC Lattice V1
    websocket::detect,           // 8. WebSocket APIs (before 10: some carry httpMethod)
    apigw_v2::detect,            // 9. payload 2.0: HTTP API or Function URL
    apigw_v1::detect,            // 10. REST API, HTTP API payload 1.0
    passthrough::detect_bedrock, // 11. Bedrock Agents action groups
];

/// The first check's answer; 12. anything else is passed through as `unknown`.
fn detect<'a>(event: &RawEvent<'a>, context: &ContextProbe<'a>) -> Detected<'a> {
    CHECKS
        .iter()
        .find_map(|check| check(event, context))
        .unwrap_or(Detected::PassThrough(Cow::Borrowed("unknown")))
}

/// Payloads this large are first searched for a long plain body (see
/// `scan`), and taken apart as they arrive (see [`assemble`]): a 1 MiB
/// upload is 1.4 MB of base64.
pub const LONG_BODY: usize = 64 * 1024;

/// Reads a payload: detects its source and, for HTTP events, converts it.
///
/// Never fails on JSON that is not an HTTP event (that is a pass-through);
/// fails with `Portside.InvalidEvent` when a payload is detected as an HTTP
/// event but one of its fields is missing or of the wrong type.
///
/// A large payload whose top-level `body` is a long plain string (base64,
/// or text without escapes) is read without that string, which is then
/// taken as it stands: serde_json would scan it byte by byte. The result
/// is the same as reading the whole payload (the tests compare the two on
/// every sample event); whenever the shortcut does not fit, the whole
/// payload is read.
pub fn parse(payload: &str) -> Result<Event<'_>, PortsideError> {
    parse_from(payload, LONG_BODY)
}

/// [`parse`], looking for a plain body in payloads of `long_body` bytes and
/// more (the tests look in every one).
fn parse_from(payload: &str, long_body: usize) -> Result<Event<'_>, PortsideError> {
    if payload.len() >= long_body {
        if let Some(range) = scan::plain_string_member(payload.as_bytes(), b"body", long_body / 2) {
            let mut rest = String::with_capacity(payload.len() - range.len());
            rest.push_str(&payload[..range.start]);
            rest.push_str(&payload[range.end..]);
            if let Some(event) = read(&rest, Some(&payload[range])) {
                return event.map(Event::into_owned);
            }
        }
    }
    read(payload, None).unwrap_or(Ok(Event::PassThrough(PassThrough {
        source: Cow::Borrowed("unknown"),
    })))
}

/// Reads a payload taken apart as it arrived ([`assemble`]): what is left
/// of it, with the body decoded in place of its emptied `body`. `None`
/// when that does not fit: serde_json does not read the rest as an object
/// whose top-level `body` is that empty string, the event does not say
/// `"isBase64Encoded": true` (then the body is the text itself), or it is
/// not an HTTP event, or not a valid one (a pass-through is the payload as
/// it came; an error names what the whole payload has). The caller then
/// reads the whole payload with [`parse`], so the result is always the
/// one the whole payload gives.
pub fn parse_split(split: &Split) -> Option<Event<'static>> {
    let rest = crate::body::as_text(split.rest())?;
    let event = match serde_json::from_str::<Obj<RawEvent<'_>>>(rest) {
        Ok(Obj::Value(event)) => event,
        _ => return None,
    };
    if !matches!(&event.body, Some(Text::Str(s)) if s.is_empty())
        || !matches!(event.is_base64_encoded, Some(Flag::Bool(true)))
    {
        return None;
    }
    // Every source decodes a body flagged `isBase64Encoded: true` as
    // base64, and nothing else in the conversion looks at the body: the
    // request is the one the whole payload gives, with the decoded body.
    match convert(event) {
        Ok(Event::Http(mut http)) => {
            http.request.body = split.decoded().clone();
            Some(Event::Http(http).into_owned())
        }
        _ => None,
    }
}

/// Reads `json`; with `body`, the body found by the scan, in place of the
/// empty one `json` then has. `None` when `json` is not an object the
/// lenient reader holds (unknown JSON), or when `body` does not fit what
/// serde_json read (then the caller reads the whole payload).
fn read<'j>(json: &'j str, body: Option<&'j str>) -> Option<Result<Event<'j>, PortsideError>> {
    let mut event: RawEvent<'j> = match serde_json::from_str::<Obj<RawEvent<'j>>>(json) {
        Ok(Obj::Value(event)) => event,
        // Not an object (or JSON the lenient reader cannot hold, such as a
        // duplicate field): certainly not an HTTP event.
        _ => return None,
    };
    if let Some(body) = body {
        // The scan emptied the body it found: serde_json must have read the
        // top-level body as that empty string.
        if !matches!(&event.body, Some(Text::Str(s)) if s.is_empty()) {
            return None;
        }
        event.body = Some(Text::Str(Cow::Borrowed(body)));
    }
    Some(convert(event))
}

/// Detects the source of a read payload and converts an HTTP event.
fn convert(event: RawEvent<'_>) -> Result<Event<'_>, PortsideError> {
    let context = ContextProbe::read(event.request_context);
    let source = match detect(&event, &context) {
        Detected::PassThrough(source) => return Ok(Event::PassThrough(PassThrough { source })),
        Detected::Http(source) => source,
    };
    let refused = |refusal: Refusal| match refusal {
        Refusal::Invalid(msg) => {
            PortsideError::InvalidEvent(format!("{} event: {msg}", source.name()))
        }
        Refusal::OverLimit(limit, size) => PortsideError::RequestTooLarge { limit, size },
    };
    let unit = source.unit();
    let Converted {
        mut request,
        websocket,
    } = unit.request(&event, &context, source).map_err(refused)?;
    parts::join_cookies(&mut request.headers).map_err(refused)?;
    if !request.headers.contains_key(HOST) {
        if let Some(domain) = context.domain_name() {
            let domain = crate::header::value(domain.as_bytes()).ok_or_else(|| {
                refused(Refusal::Invalid(
                    "`requestContext.domainName` holds characters HTTP does not allow in Host"
                        .into(),
                ))
            })?;
            request
                .headers
                .try_insert(HOST, domain)
                .map_err(|_| refused(parts::full_header_map()))?;
        }
    }
    Ok(Event::Http(Box::new(HttpEvent {
        source,
        request,
        request_context: event.request_context.map(Cow::Borrowed),
        websocket,
        client_ip: unit.client_ip(&context),
    })))
}

impl Event<'_> {
    /// The same event, owning what it borrowed from the payload.
    fn into_owned(self) -> Event<'static> {
        match self {
            Event::Http(http) => {
                let HttpEvent {
                    source,
                    request,
                    request_context,
                    websocket,
                    client_ip,
                } = *http;
                Event::Http(Box::new(HttpEvent {
                    source,
                    request,
                    request_context: request_context.map(|c| Cow::Owned(c.into_owned())),
                    websocket,
                    client_ip,
                }))
            }
            Event::PassThrough(pass) => Event::PassThrough(PassThrough {
                source: Cow::Owned(pass.source.into_owned()),
            }),
        }
    }
}

/// Converts the app's response into the result `source` expects.
pub fn to_result(source: HttpSource, response: ResponseParts) -> HttpResult {
    source.unit().result(response, source)
}

/// The JSON prelude of a streamed response, in the shape `source` documents
/// (each streaming source's file says which); `None` for a source that
/// cannot stream.
pub fn stream_prelude(
    source: HttpSource,
    status: StatusCode,
    headers: &HeaderMap,
) -> Option<Bytes> {
    source
        .unit()
        .prelude(source)
        .map(|write| write(status, headers))
}

#[cfg(test)]
mod assemble_tests;
#[cfg(test)]
mod tests;
