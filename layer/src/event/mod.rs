//! Events in, results out: what Lambda sends and what it expects back, for
//! every event source.
//!
//! Owns: detecting the source of a payload (once, from its fields, in the
//! order `tests/events/TYPES.md` derives from the AWS docs), converting an
//! HTTP event into the request the app receives, and converting the app's
//! response into the result that source expects.
//! Must not: do I/O, read configuration, or apply adapter policy (base path
//! removal, context headers): that is `request`'s job. Every function here is
//! pure, so every real event can be tested without sockets.
//!
//! One lenient parse ([`RawEvent`]) serves detection and conversion: it never
//! fails on a field of the wrong type, so unknown JSON is always passed
//! through, and an HTTP event with a broken field is reported by field name.

mod alb;
mod apigw_v1;
mod apigw_v2;
mod lattice;
mod passthrough;
pub mod result;
mod scan;
mod websocket;
pub mod wire;

use std::borrow::Cow;

use bytes::Bytes;
use http::header::HOST;
use http::{HeaderMap, HeaderName, Method};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::PortsideError;
use crate::limits::Limit;
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
    /// A short name for logs.
    pub fn name(self) -> &'static str {
        match self {
            HttpSource::RestApi => "rest-api",
            HttpSource::HttpApiV1 => "http-api-v1",
            HttpSource::HttpApiV2 => "http-api-v2",
            HttpSource::FunctionUrl => "function-url",
            HttpSource::Alb { multi_value: false } => "alb",
            HttpSource::Alb { multi_value: true } => "alb-multi-value",
            HttpSource::LatticeV1 => "vpc-lattice-v1",
            HttpSource::LatticeV2 => "vpc-lattice-v2",
            HttpSource::WebSocket => "api-gateway-websocket",
        }
    }

    /// Whether this source can take a streamed response: a Function URL in
    /// `RESPONSE_STREAM` invoke mode, and a REST API integration in `STREAM`
    /// response transfer mode (API Gateway: "Stream the integration response
    /// for your proxy integrations", REST APIs only). HTTP APIs, ALB, VPC
    /// Lattice and WebSocket APIs read one JSON result.
    pub fn streams(self) -> bool {
        matches!(self, HttpSource::FunctionUrl | HttpSource::RestApi)
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
    /// The client's address as the event gives it (see `ContextProbe::client_ip`).
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
    records: Option<First<Obj<RecordProbe<'a>>>>,
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

/// The fields of a record that name its source (`eventSource`, or SNS's
/// `EventSource`).
#[derive(Deserialize, Default)]
struct RecordProbe<'a> {
    #[serde(rename = "eventSource", borrow)]
    event_source: Option<Text<'a>>,
    #[serde(rename = "EventSource", borrow)]
    event_source_sns: Option<Text<'a>>,
}

/// The fields of `requestContext` that detection and conversion need.
#[derive(Deserialize, Default)]
pub(crate) struct ContextProbe<'a> {
    elb: Option<Obj<ElbProbe>>,
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
    http: Option<Obj<HttpProbe<'a>>>,
    #[serde(rename = "domainName", borrow)]
    domain_name: Option<Text<'a>>,
    #[serde(borrow)]
    identity: Option<Obj<IdentityProbe<'a>>>,
}

#[derive(Deserialize, Default)]
struct ElbProbe {
    #[serde(rename = "targetGroupArn")]
    target_group_arn: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
struct HttpProbe<'a> {
    #[serde(borrow)]
    method: Option<Text<'a>>,
    #[serde(rename = "sourceIp", borrow)]
    source_ip: Option<Text<'a>>,
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

    fn http_method(&self) -> Option<&Text<'a>> {
        self.http.as_ref()?.get()?.method.as_ref()
    }

    /// The address of the client that connected to the front door, where
    /// the event's source says it (`requestContext.http.sourceIp` for
    /// payload 2.0, `requestContext.identity.sourceIp` for the REST shape);
    /// ALB and VPC Lattice say it in `X-Forwarded-For` instead.
    fn client_ip(&self, source: HttpSource) -> Option<String> {
        let ip = match source {
            HttpSource::HttpApiV2 | HttpSource::FunctionUrl => {
                self.http.as_ref()?.get()?.source_ip.as_ref()
            }
            HttpSource::RestApi | HttpSource::HttpApiV1 | HttpSource::WebSocket => {
                self.identity.as_ref()?.get()?.source_ip.as_ref()
            }
            HttpSource::Alb { .. } | HttpSource::LatticeV1 | HttpSource::LatticeV2 => None,
        };
        ip?.as_str().filter(|ip| !ip.is_empty()).map(str::to_owned)
    }
}

/// What detection decided, before conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Detected<'a> {
    Http(HttpSource),
    PassThrough(Cow<'a, str>),
}

/// Whether a domain name is a Lambda Function URL's (`<id>.lambda-url.<region>.on.aws`).
fn is_function_url_domain(domain: &str) -> bool {
    domain.contains(".lambda-url.")
}

fn detect<'a>(event: &RawEvent<'a>, context: &ContextProbe<'a>) -> Detected<'a> {
    let text = |t: &Option<Text<'a>>| t.as_ref().and_then(|t| t.as_str().map(str::to_owned));

    // 1. Records-based sources; Kafka and MQ name their source at the top.
    if let Some(records) = &event.records {
        let source = match records {
            First::Item(Obj::Value(record)) => {
                text(&record.event_source).or_else(|| text(&record.event_source_sns))
            }
            _ => None,
        };
        return Detected::PassThrough(source.map_or(Cow::Borrowed("unknown"), Cow::Owned));
    }
    if let Some(source) = text(&event.event_source) {
        return Detected::PassThrough(Cow::Owned(source));
    }
    // 2. CloudWatch Logs subscription.
    if event.awslogs.is_some() {
        return Detected::PassThrough(Cow::Borrowed("aws.logs"));
    }
    // 3. EventBridge, including scheduled events.
    if event.detail_type.is_some() && event.source.is_some() && event.detail.is_some() {
        return Detected::PassThrough(Cow::Borrowed("aws.events"));
    }
    // 4. Lambda authorizers (REST, HTTP API 1.0/2.0, WebSocket): not requests.
    let kind = event.kind.as_ref().and_then(Text::as_str);
    if matches!(kind, Some("TOKEN" | "REQUEST"))
        && (event.method_arn.is_some() || event.route_arn.is_some())
    {
        return Detected::PassThrough(Cow::Borrowed("aws.apigateway.authorizer"));
    }
    // 5. ALB.
    if context
        .elb
        .as_ref()
        .and_then(Obj::get)
        .is_some_and(|elb| elb.target_group_arn.is_some())
    {
        let multi_value = event.multi_value_headers.is_some()
            || event.multi_value_query_string_parameters.is_some();
        return Detected::Http(HttpSource::Alb { multi_value });
    }
    // 6. VPC Lattice V2.
    if context.service_network_arn.is_some() {
        return Detected::Http(HttpSource::LatticeV2);
    }
    // 7. VPC Lattice V1: snake_case fields and no requestContext.
    if event.request_context.is_none() && event.raw_path_snake.is_some() && event.method.is_some() {
        return Detected::Http(HttpSource::LatticeV1);
    }
    // 8. WebSocket APIs (they may also carry httpMethod/resource/path).
    if context.connection_id.is_some()
        || context.event_type.is_some()
        || context.message_direction.is_some()
    {
        return Detected::Http(HttpSource::WebSocket);
    }
    // 9. Payload 2.0: HTTP API or Function URL.
    let version = event.version.as_ref().and_then(Text::as_str);
    if version == Some("2.0") && event.raw_path.is_some() && context.http_method().is_some() {
        return match context.domain_name() {
            Some(domain) if is_function_url_domain(domain) => {
                Detected::Http(HttpSource::FunctionUrl)
            }
            _ => Detected::Http(HttpSource::HttpApiV2),
        };
    }
    // 10. REST API proxy, or HTTP API payload 1.0 (which adds "version": "1.0").
    if event.http_method.is_some()
        && event.path.is_some()
        && (event.request_context.is_some() || event.resource.is_some())
    {
        return Detected::Http(match version {
            Some("1.0") => HttpSource::HttpApiV1,
            _ => HttpSource::RestApi,
        });
    }
    // 11. Bedrock Agents action groups.
    if event.message_version.is_some() && event.agent.is_some() && event.action_group.is_some() {
        return Detected::PassThrough(Cow::Borrowed("aws.bedrock.agent"));
    }
    // 12. Anything else.
    Detected::PassThrough(Cow::Borrowed("unknown"))
}

/// Payloads this large are first searched for a long plain body (see
/// `scan`): a 1 MiB upload is 1.4 MB of base64.
const LONG_BODY: usize = 64 * 1024;

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
    let mut websocket = None;
    let request = match source {
        HttpSource::RestApi | HttpSource::HttpApiV1 => apigw_v1::request(&event),
        HttpSource::HttpApiV2 | HttpSource::FunctionUrl => apigw_v2::request(&event, &context),
        HttpSource::Alb { .. } => alb::request(&event),
        HttpSource::LatticeV1 | HttpSource::LatticeV2 => lattice::request(&event, source),
        HttpSource::WebSocket => websocket::request(&event, &context).map(|(info, request)| {
            websocket = Some(info);
            request
        }),
    };
    let refused = |refusal: Refusal| match refusal {
        Refusal::Invalid(msg) => {
            PortsideError::InvalidEvent(format!("{} event: {msg}", source.name()))
        }
        Refusal::OverLimit(limit, size) => PortsideError::RequestTooLarge { limit, size },
    };
    let mut request = request.map_err(refused)?;
    join_cookies(&mut request.headers).map_err(refused)?;
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
                .map_err(|_| refused(full_header_map()))?;
        }
    }
    Ok(Event::Http(Box::new(HttpEvent {
        source,
        request,
        request_context: event.request_context.map(Cow::Borrowed),
        websocket,
        client_ip: context.client_ip(source),
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
    match source {
        HttpSource::RestApi | HttpSource::HttpApiV1 => apigw_v1::result(response),
        HttpSource::HttpApiV2 | HttpSource::FunctionUrl => apigw_v2::result(response),
        HttpSource::Alb { multi_value } => alb::result(response, multi_value),
        HttpSource::LatticeV1 | HttpSource::LatticeV2 => lattice::result(response),
        HttpSource::WebSocket => websocket::result(response),
    }
}

/// The JSON prelude of a streamed response, in the shape `source` documents:
/// a Function URL's has `statusCode`, `headers` (repeated values joined) and
/// `cookies` (every `Set-Cookie`), as its payload 2.0 result; a REST API's
/// has `statusCode` and `multiValueHeaders` with every value of every header,
/// `Set-Cookie` included (response-transfer-mode-lambda.html). `None` for a
/// source that cannot stream.
pub fn stream_prelude(
    source: HttpSource,
    status: http::StatusCode,
    headers: &HeaderMap,
) -> Option<Bytes> {
    match source {
        HttpSource::FunctionUrl => Some(apigw_v2::prelude(status, headers)),
        HttpSource::RestApi => Some(apigw_v1::prelude(status, headers)),
        _ => None,
    }
}

// ---- helpers shared by the source modules ----

/// The method named by an event field.
fn method_from(text: Option<&Text<'_>>, field: &str) -> Result<Method, String> {
    let name = text
        .ok_or_else(|| format!("`{field}` is missing"))?
        .require(field)?;
    Method::from_bytes(name.as_bytes())
        .map_err(|_| format!("`{field}` {name:?} is not an HTTP method"))
}

/// A required string field.
fn required<'t>(text: Option<&'t Text<'_>>, field: &str) -> Result<&'t str, String> {
    text.ok_or_else(|| format!("`{field}` is missing"))?
        .require(field)
}

/// Appends one header, or says why it cannot be sent.
fn append_header(
    headers: &mut HeaderMap,
    field: &str,
    name: &str,
    value: &str,
) -> Result<(), Refusal> {
    let header_name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("`{field}` has {name:?}, which is not a valid HTTP header name"))?;
    let header_value = crate::header::value(value.as_bytes()).ok_or_else(|| {
        format!("`{field}` has a value for {name:?} with characters HTTP does not allow")
    })?;
    headers
        .try_append(header_name, header_value)
        .map_err(|_| full_header_map())?;
    Ok(())
}

/// `http`'s HeaderMap refused one more name: only names crafted to collide
/// in its hash get there below [`Limit::RequestHeaderLines`].
fn full_header_map() -> Refusal {
    Refusal::Invalid("the header names fill HTTP's header map; send fewer headers".into())
}

/// Headers from a multi-value map (every value) and a single-value map (for
/// names the multi-value map lacks); either may be absent. More lines than
/// [`Limit::RequestHeaderLines`] are refused, counted in full.
fn headers_from(
    multi: Option<&Pairs<'_>>,
    multi_field: &str,
    single: Option<&Pairs<'_>>,
    single_field: &str,
) -> Result<HeaderMap, Refusal> {
    const MAX: usize = Limit::RequestHeaderLines.max();
    let multi = multi.map(|m| m.require(multi_field)).transpose()?;
    let single = single.map(|s| s.require(single_field)).transpose()?;
    let in_multi =
        |name: &str| multi.is_some_and(|m| m.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)));
    let lines = multi.map_or(0, <[_]>::len)
        + single.map_or(0, |s| {
            if multi.is_some() {
                s.iter().filter(|(name, _)| !in_multi(name)).count()
            } else {
                s.len()
            }
        });
    if lines > MAX {
        return Err(Refusal::OverLimit(Limit::RequestHeaderLines, lines));
    }
    // Room for the event's headers and the few the adapter adds (context,
    // trace, length), so the map never grows and rehashes on the way.
    let mut headers = HeaderMap::try_with_capacity(lines + 8).map_err(|_| full_header_map())?;
    for (name, value) in multi.unwrap_or_default() {
        append_header(&mut headers, multi_field, name, value)?;
    }
    for (name, value) in single.unwrap_or_default() {
        if !in_multi(name) {
            append_header(&mut headers, single_field, name, value)?;
        }
    }
    Ok(headers)
}

/// Joins several `Cookie` header lines into one, `a=b; c=d`, in order: RFC
/// 6265 §5.4 allows a single Cookie header, and frameworks that read only the
/// first line would lose the rest. (Multi-value maps, ALB's among them, give
/// one line per cookie; the v2 `cookies` list is joined the same way.)
fn join_cookies(headers: &mut HeaderMap) -> Result<(), Refusal> {
    let mut values = headers.get_all(http::header::COOKIE).iter();
    let (Some(first), Some(_)) = (values.next(), values.next()) else {
        return Ok(());
    };
    let mut joined = first.as_bytes().to_vec();
    for value in headers.get_all(http::header::COOKIE).iter().skip(1) {
        joined.extend_from_slice(b"; ");
        joined.extend_from_slice(value.as_bytes());
    }
    // Valid values joined by `; ` are a valid value.
    let value = crate::header::value(&joined)
        .ok_or_else(|| Refusal::Invalid("the Cookie values cannot be joined".into()))?;
    headers.insert(http::header::COOKIE, value);
    Ok(())
}

/// The body bytes from `body` and its base64 flag.
fn body_from(
    body: Option<&Text<'_>>,
    is_base64: Option<Flag>,
    flag_field: &str,
) -> Result<Bytes, String> {
    let is_base64 = match is_base64 {
        Some(flag) => flag.require(flag_field)?,
        None => false,
    };
    let body = body.map(|b| b.require("body")).transpose()?;
    crate::body::decode_event_body(body, is_base64)
}

/// How a source delivers query values: decoded (API Gateway, WebSocket) or
/// as the client sent them (ALB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QueryValues {
    Decoded,
    Encoded,
}

/// The query from the event's multi-value map (every value, in the event's
/// order), else from its single-value map; `None` when it has neither.
fn query_from_maps(event: &RawEvent<'_>, values: QueryValues) -> Result<Option<String>, String> {
    let build = |pairs: &[wire::Pair<'_>]| {
        let pairs = pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref()));
        match values {
            QueryValues::Decoded => crate::uri::query_from_decoded(pairs),
            QueryValues::Encoded => crate::uri::query_from_encoded(pairs),
        }
    };
    let multi = event.multi_value_query_string_parameters.as_ref();
    let single = event.query_string_parameters.as_ref();
    Ok(match (multi, single) {
        (Some(multi), _) if !multi.entries.is_empty() || multi.problem.is_some() => {
            Some(build(multi.require("multiValueQueryStringParameters")?))
        }
        (_, Some(single)) => Some(build(single.require("queryStringParameters")?)),
        (Some(_), None) => Some(String::new()),
        (None, None) => None,
    })
}

/// The request of an event in the REST proxy shape (REST API, HTTP API
/// payload 1.0, ALB): `httpMethod`, `path` (which a hand-written event may
/// give with its query), the query maps, the header maps and the body.
fn proxy_request(event: &RawEvent<'_>, values: QueryValues) -> Result<HttpRequestParts, Refusal> {
    let method = method_from(event.http_method.as_ref(), "httpMethod")?;
    let (path, query_in_path) = split_path_query(required(event.path.as_ref(), "path")?);
    let query = match query_from_maps(event, values)? {
        Some(query) => query,
        None => query_in_path
            .map(|q| crate::uri::encode_raw_query(q).into_owned())
            .unwrap_or_default(),
    };
    proxy_parts(
        event,
        method,
        crate::uri::encode_path(path).into_owned(),
        query,
    )
}

/// A request from its method, path and query, with the headers of the
/// event's multi-value and single-value maps and its (base64) body.
fn proxy_parts(
    event: &RawEvent<'_>,
    method: Method,
    path: String,
    query: String,
) -> Result<HttpRequestParts, Refusal> {
    Ok(HttpRequestParts {
        method,
        path,
        query: non_empty(query),
        headers: headers_from(
            event.multi_value_headers.as_ref(),
            "multiValueHeaders",
            event.headers.as_ref(),
            "headers",
        )?,
        body: body_from(
            event.body.as_ref(),
            event.is_base64_encoded,
            "isBase64Encoded",
        )?,
    })
}

/// Splits `path?query` as some sources deliver it.
fn split_path_query(path: &str) -> (&str, Option<&str>) {
    match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    }
}

fn non_empty(query: String) -> Option<String> {
    (!query.is_empty()).then_some(query)
}

#[cfg(test)]
mod tests;
