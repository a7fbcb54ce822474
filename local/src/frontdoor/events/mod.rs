//! Real HTTP requests turned into the events of Lambda's HTTP event sources,
//! and Lambda results turned back into HTTP responses, per source, as the
//! AWS documentation describes them (API Gateway REST and HTTP APIs,
//! Function URLs, ALB with and without multi-value headers, VPC Lattice V1
//! and V2). Pure functions: no I/O.
//!
//! * this module: the sources ([`Source`]) and what an event is made from
//!   ([`HttpRequest`], [`EventContext`]);
//! * `request`: a request to the event JSON of a source ([`to_event`]);
//! * `response`: a result (or a stream's prelude) to the response the
//!   source sends ([`to_response`], [`stream_head`]);
//! * `route`: what a route table adds to an event (route key, resource,
//!   stage, variables: [`routed_event`]), for `portside-local up`.

mod request;
mod response;
mod route;
#[cfg(test)]
mod tests;

pub use request::{domain_name, to_event};
pub use response::{
    status_description, stream_head, to_response, HttpResponse, PreludeError, REST_PRELUDE_LIMIT,
};
pub use route::{routed_event, RouteFacts, Shape};

use crate::util;
use bytes::Bytes;

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
