//! Real HTTP requests turned into the events of Lambda's HTTP event sources,
//! and Lambda results turned back into HTTP responses, per source, as the
//! AWS documentation describes them (API Gateway REST and HTTP APIs,
//! Function URLs, ALB with and without multi-value headers, VPC Lattice V1
//! and V2). Pure functions: no I/O.
//!
//! An event source is one unit: its file, named as the portside adapter
//! names the source (`rest_api`, `http_api_v1`, `http_api_v2`,
//! `function_url`, `alb` (for `alb` and `alb-multi-value`), `vpc_lattice_v1`,
//! `vpc_lattice_v2`), holds its name, its event (for a lone front door and
//! on a route of `portside-local up`), which result fields it reads, the
//! head of a streamed response where it streams, its head and body limits,
//! and what it answers by itself (failures, its integration timeout,
//! requests past its limits): the [`Unit`] it implements. Adding a source is
//! its file, a variant of [`Source`] with its line in [`Source::unit`] and
//! [`Source::ALL`], and its tests.
//!
//! * this module: the sources ([`Source`]), what an event is made from
//!   ([`HttpRequest`], [`EventContext`]), and the entry points that hand a
//!   source's work to its file ([`to_event`], [`routed_event`],
//!   [`to_response`], [`stream_head`]);
//! * `parts`: the request pieces several sources share (query decoding,
//!   header grouping, text or base64 bodies);
//! * `result`: reading a result or a stream's prelude by the fields a source
//!   names ([`HttpResponse`]);
//! * `route`: what a route table adds to an event ([`RouteFacts`]), for
//!   `portside-local up`.
//!
//! Must not: do I/O, or decide what the front door does with a failure
//! (`frontdoor` does; the answers themselves are the sources').

mod alb;
mod function_url;
mod http_api_v1;
mod http_api_v2;
mod parts;
mod rest_api;
mod result;
mod route;
#[cfg(test)]
mod tests;
mod vpc_lattice_v1;
mod vpc_lattice_v2;

pub use result::{status_description, HttpResponse, PreludeError, REST_PRELUDE_LIMIT};
pub use route::RouteFacts;

use super::answers::Failure;
use super::head::Measure;
use crate::limits::Limit;
use crate::util;
use bytes::Bytes;
use serde_json::Value;
use std::time::Duration;

/// The HTTP event sources portside-local plays, named as the portside
/// adapter names them ([`Source::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// API Gateway REST API, Lambda proxy integration.
    RestApi,
    /// API Gateway HTTP API, payload format 1.0 (a route of `portside-local
    /// up` whose integration says so; a lone front door does not offer it).
    HttpApiV1,
    /// API Gateway HTTP API, payload format 2.0.
    HttpApiV2,
    /// Lambda Function URL.
    FunctionUrl,
    /// Application Load Balancer.
    Alb {
        /// The target group has multi-value headers on: the event and the
        /// result use `multiValueHeaders` (and multi-value queries).
        multi_value: bool,
    },
    /// VPC Lattice, event structure V1.
    LatticeV1,
    /// VPC Lattice, event structure V2.
    LatticeV2,
}

/// A streamed response's status and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The headers (repeated names allowed).
    pub headers: Vec<(String, String)>,
}

/// How a streaming source reads the head of a streamed response: from its
/// JSON prelude, or without one (`content_type`: the runtime's, when it
/// streamed without a prelude); `head`: the request was a HEAD.
pub(crate) type ReadStreamHead = fn(
    prelude: Option<&[u8]>,
    content_type: Option<&str>,
    head: bool,
) -> Result<ResponseHead, PreludeError>;

/// Which header fields of a result a source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderFields {
    /// `headers` only (ALB without multi-value headers, Lattice, payload
    /// 2.0). Lattice V2 values may be lists.
    Single,
    /// `multiValueHeaders` only (ALB with multi-value headers).
    Multi,
    /// Both, merged; for a name in both, only the `multiValueHeaders`
    /// values (API Gateway REST APIs and payload 1.0).
    Merged,
}

/// How a source reads a buffered result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResultShape {
    /// The header fields it reads.
    pub(crate) fields: HeaderFields,
    /// Payload format 2.0: `cookies` become `Set-Cookie` lines, and valid
    /// JSON without a `statusCode` is a 200 JSON body.
    pub(crate) payload_v2: bool,
}

/// What a source's file provides (one value per [`Source`]).
pub(crate) trait Unit: Sync {
    /// The source's name: the adapter's name for it (its `HttpSource::name`,
    /// the EMF `EventSource` dimension and `x-portside-event-source`), which
    /// `--event` takes.
    fn name(&self) -> &'static str;

    /// The older name `--event` also takes, if any.
    fn short_name(&self) -> Option<&'static str> {
        None
    }

    /// How a sentence names it: "an HTTP API".
    fn title(&self) -> &'static str;

    /// The event for `req` as the source sends it from a lone front door.
    fn event(&self, req: &HttpRequest, ctx: &EventContext) -> Value;

    /// The event for `req` on a route (`portside-local up`): the lone
    /// door's event with what the route table decides. A source `up` does
    /// not route (VPC Lattice) sends the lone door's event.
    fn routed(&self, req: &HttpRequest, ctx: &EventContext, facts: &RouteFacts) -> Value {
        let _ = facts;
        self.event(req, ctx)
    }

    /// How it reads a buffered result.
    fn result_shape(&self) -> ResultShape;

    /// How it reads a streamed response's head, if it streams.
    fn stream_head(&self) -> Option<ReadStreamHead> {
        None
    }

    /// What it answers by itself for `failure`.
    fn answer(&self, failure: Failure) -> HttpResponse;

    /// What it answers to a request past `limit`, one of its own request
    /// limits ([`Unit::head_limits`], [`Unit::request_limit`], or
    /// [`Limit::Event`]): each limit's `past` describes it.
    fn over_limit(&self, limit: Limit) -> HttpResponse;

    /// Its integration timeout, if it has one shorter than Lambda's 15
    /// minutes.
    fn integration_timeout(&self) -> Option<Duration> {
        None
    }

    /// The limits of a request head it checks, in order, with what each
    /// measures.
    fn head_limits(&self) -> &'static [(Limit, Measure)];

    /// The largest request body it passes on (the event must still fit
    /// Lambda's 6 MB).
    fn request_limit(&self) -> Limit {
        Limit::Event
    }

    /// The largest result it accepts from the function (Lambda's own 6 MB
    /// limit applies first).
    fn result_limit(&self) -> Option<Limit> {
        None
    }

    /// The largest response header block it accepts (the function's
    /// headers, as `name:value` CRLF each).
    fn result_head_limit(&self) -> Option<Limit> {
        None
    }
}

impl Source {
    /// Every source portside-local plays: the adapter's HTTP sources but
    /// WebSocket APIs.
    pub const ALL: [Source; 8] = [
        Source::HttpApiV2,
        Source::HttpApiV1,
        Source::RestApi,
        Source::Alb { multi_value: false },
        Source::Alb { multi_value: true },
        Source::FunctionUrl,
        Source::LatticeV1,
        Source::LatticeV2,
    ];

    /// The sources a lone front door plays (`--event`), in the order its
    /// help lists them; HTTP API payload 1.0 comes only from a route of
    /// `portside-local up`.
    pub const FRONT_DOOR: [Source; 7] = [
        Source::HttpApiV2,
        Source::RestApi,
        Source::Alb { multi_value: false },
        Source::Alb { multi_value: true },
        Source::FunctionUrl,
        Source::LatticeV1,
        Source::LatticeV2,
    ];

    /// The file that owns this source.
    pub(crate) fn unit(self) -> &'static dyn Unit {
        match self {
            Source::RestApi => &rest_api::RestApi,
            Source::HttpApiV1 => &http_api_v1::HttpApiV1,
            Source::HttpApiV2 => &http_api_v2::HttpApiV2,
            Source::FunctionUrl => &function_url::FunctionUrl,
            Source::Alb { multi_value: false } => &alb::SINGLE_VALUE,
            Source::Alb { multi_value: true } => &alb::MULTI_VALUE,
            Source::LatticeV1 => &vpc_lattice_v1::LatticeV1,
            Source::LatticeV2 => &vpc_lattice_v2::LatticeV2,
        }
    }

    /// Parses a name `--event` takes: a front door's name, or its older
    /// short name (`http-api`, `alb-multi`, `lattice-v1`, `lattice-v2`).
    pub fn parse(name: &str) -> Option<Source> {
        Self::FRONT_DOOR
            .into_iter()
            .find(|s| s.name() == name || s.short_name() == Some(name))
    }

    /// The names `--event` takes, for help and errors: `http-api-v2 (or
    /// http-api), rest-api, ...`.
    pub fn front_door_names() -> String {
        let names: Vec<String> = Self::FRONT_DOOR
            .iter()
            .map(|s| match s.short_name() {
                Some(short) => format!("{} (or {short})", s.name()),
                None => s.name().to_string(),
            })
            .collect();
        names.join(", ")
    }

    /// The source's name, as the portside adapter names it: `rest-api`,
    /// `http-api-v1`, `http-api-v2`, `function-url`, `alb`,
    /// `alb-multi-value`, `vpc-lattice-v1`, `vpc-lattice-v2` (a test holds
    /// them to the adapter's).
    pub fn name(self) -> &'static str {
        self.unit().name()
    }

    /// The older name `--event` also takes, if any.
    pub fn short_name(self) -> Option<&'static str> {
        self.unit().short_name()
    }

    /// How a sentence names it: "an HTTP API", "a Function URL".
    pub fn title(self) -> &'static str {
        self.unit().title()
    }

    /// Whether it can stream a response: a Function URL in
    /// `RESPONSE_STREAM` mode, a REST API with the `STREAM` response
    /// transfer mode. It streams exactly when its file reads a stream's head.
    pub fn streams(self) -> bool {
        self.unit().stream_head().is_some()
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

/// Builds the event for `req` as `source` would send it from a lone front
/// door.
pub fn to_event(source: Source, req: &HttpRequest, ctx: &EventContext) -> Value {
    source.unit().event(req, ctx)
}

/// The event for `req` on a route of `source` (`portside-local up`).
pub fn routed_event(
    source: Source,
    req: &HttpRequest,
    ctx: &EventContext,
    facts: &RouteFacts,
) -> Value {
    source.unit().routed(req, ctx, facts)
}

/// Maps a successful Lambda result to the HTTP response `source` returns
/// (`head`: the request was a HEAD, whose `Content-Length` is kept); a
/// result the source cannot read gets its own answer.
pub fn to_response(source: Source, payload: &[u8], head: bool) -> HttpResponse {
    match result::read(source.unit().result_shape(), payload, head) {
        Ok(response) => response,
        Err(why) => {
            eprintln!(
                "portside-local: malformed Lambda result for {}: {why}",
                source.name()
            );
            source.unit().answer(Failure::BadResult)
        }
    }
}

/// The status line and headers a streamed response of `source` starts
/// with, from its JSON prelude (`None`: the stream had none). A Function
/// URL without a prelude answers 200 `application/octet-stream`; a REST API
/// needs one within 16 KB. Both read `headers`, `multiValueHeaders`
/// (winning for a name in both) and `cookies` (as `Set-Cookie` lines), as
/// the REST streaming documentation describes the prelude. A source that
/// does not stream has no head: [`PreludeError::NotStreamed`].
pub fn stream_head(
    source: Source,
    prelude: Option<&[u8]>,
    head: bool,
) -> Result<ResponseHead, PreludeError> {
    stream_head_with(source, prelude, None, head)
}

/// [`stream_head`], for a stream without a prelude whose runtime named its
/// `content_type`.
pub(crate) fn stream_head_with(
    source: Source,
    prelude: Option<&[u8]>,
    content_type: Option<&str>,
    head: bool,
) -> Result<ResponseHead, PreludeError> {
    match source.unit().stream_head() {
        Some(read) => read(prelude, content_type, head),
        None => Err(PreludeError::NotStreamed),
    }
}
