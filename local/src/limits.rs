//! Every limit portside-local enforces or inherits, in one place: its value,
//! where the value comes from, and what a user sees past it.
//!
//! Owns: the values and their reasons ([`Limit`]); docs/src/limits.md's
//! portside-local table is held to [`Limit::ALL`] by a test, and the code at
//! each edge takes its value from here.
//! Must not: enforce anything itself, or know event formats.
//!
//! portside-local plays Lambda and its front doors, so most limits are AWS's
//! own, with AWS's own answer where AWS documents it (or users report it);
//! where AWS documents no answer, the source says so and what was chosen.
//! The others are portside-local's own choices, each at least as generous as
//! the AWS limit it sits beside, or inherited from hyper and http (raised
//! where their defaults were less generous than the front door they serve).
//!
//! How sizes are counted, where AWS does not say:
//! * the request line is `METHOD SP target SP HTTP/1.1`, without its line end;
//! * a header line is `name:value` (the shortest form a client can send;
//!   hyper strips the spaces around a value), a header block the sum of its
//!   lines with their line ends (`name:value` CRLF);
//! * "request line and header values" (HTTP APIs, Lambda) is the request
//!   line plus every header value, as the quotas say (names not counted).
//!   Counting the shortest form keeps portside-local at least as generous
//!   as AWS whatever spacing a client uses.

use std::fmt;

/// A limit portside-local enforces or inherits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Bytes of a request body a REST or HTTP API passes on.
    ApiGatewayBody,
    /// Bytes of a request body an ALB passes on.
    AlbBody,
    /// Bytes of the event a front door builds (Lambda's synchronous payload).
    Event,
    /// Bytes of a synchronous Invoke API payload.
    InvokePayload,
    /// Bytes of an asynchronous (`Event`) Invoke API payload.
    AsyncPayload,
    /// Bytes of an HTTP API request line and header values.
    HttpApiHead,
    /// Bytes of a REST API request line.
    RestApiRequestLine,
    /// Bytes of a REST API header block.
    RestApiHeaders,
    /// Bytes of an ALB request line.
    AlbRequestLine,
    /// Bytes of one ALB request header line.
    AlbHeaderLine,
    /// Bytes of an ALB request header block.
    AlbHeaders,
    /// Bytes of a Function URL, VPC Lattice or Invoke API request line and
    /// header values.
    LambdaHead,
    /// Bytes of a request head as it arrives (any front door).
    RawHead,
    /// Header lines of a request (any front door).
    HeaderLines,
    /// Bytes of a request target (any front door).
    RequestTarget,
    /// Bytes of a function result an ALB accepts.
    AlbResult,
    /// Bytes of the response header block an ALB accepts.
    AlbResponseHeaders,
    /// Bytes of a streamed REST API response's metadata prelude.
    RestStreamPrelude,
    /// Bytes of a buffered result or error document posted to Lambda.
    BufferedResult,
    /// Bytes of a streamed response.
    StreamedResult,
    /// Bytes searched for a streamed response's prelude delimiter.
    StreamPrelude,
    /// Bytes of a Runtime or Extensions API request head.
    RuntimeApiHead,
    /// Bytes of a streamed response's trailers.
    StreamTrailers,
    /// Bytes of an oversized body read (and dropped) before its 413.
    Drain,
    /// Bytes of an extension's registration body.
    ExtensionRegistration,
    /// Header lines of a `portside-local web` request.
    WebHeaderLines,
}

impl Limit {
    /// Every limit: the front doors' requests, their results, Lambda's APIs,
    /// `portside-local web`.
    pub const ALL: [Limit; 26] = [
        Limit::ApiGatewayBody,
        Limit::AlbBody,
        Limit::Event,
        Limit::InvokePayload,
        Limit::AsyncPayload,
        Limit::HttpApiHead,
        Limit::RestApiRequestLine,
        Limit::RestApiHeaders,
        Limit::AlbRequestLine,
        Limit::AlbHeaderLine,
        Limit::AlbHeaders,
        Limit::LambdaHead,
        Limit::RawHead,
        Limit::HeaderLines,
        Limit::RequestTarget,
        Limit::AlbResult,
        Limit::AlbResponseHeaders,
        Limit::RestStreamPrelude,
        Limit::BufferedResult,
        Limit::StreamedResult,
        Limit::StreamPrelude,
        Limit::RuntimeApiHead,
        Limit::StreamTrailers,
        Limit::Drain,
        Limit::ExtensionRegistration,
        Limit::WebHeaderLines,
    ];

    /// The largest value carried (bytes, or lines).
    pub const fn max(self) -> usize {
        const KIB: usize = 1024;
        const MIB: usize = 1024 * 1024;
        match self {
            Limit::ApiGatewayBody => 10 * MIB,
            Limit::AlbBody | Limit::AlbResult => MIB,
            // "Request must be smaller than 6291456 bytes".
            Limit::Event | Limit::InvokePayload => 6 * MIB - 1,
            Limit::AsyncPayload => MIB,
            Limit::HttpApiHead | Limit::RestApiRequestLine | Limit::RestApiHeaders => 10_240,
            Limit::AlbRequestLine | Limit::AlbHeaderLine => 16 * KIB,
            Limit::AlbHeaders => 64 * KIB,
            Limit::LambdaHead => MIB,
            Limit::RawHead => 2 * MIB,
            Limit::HeaderLines => 24_576,
            Limit::RequestTarget => 65_534,
            Limit::AlbResponseHeaders => 32 * KIB,
            Limit::RestStreamPrelude => 16 * KIB,
            Limit::BufferedResult => 6 * MIB + 100,
            Limit::StreamedResult => 200 * MIB,
            Limit::StreamPrelude => MIB,
            Limit::RuntimeApiHead => MIB,
            // hyper refuses a trailer block once it reaches its bound.
            Limit::StreamTrailers => MIB - 1,
            Limit::Drain => 256 * MIB,
            Limit::ExtensionRegistration => 64 * KIB,
            Limit::WebHeaderLines => 6_300,
        }
    }

    /// What is counted, for messages and the guide.
    pub const fn what(self) -> &'static str {
        match self {
            Limit::ApiGatewayBody => "a REST or HTTP API request body",
            Limit::AlbBody => "an ALB request body",
            Limit::Event => "the event a front door builds",
            Limit::InvokePayload => "a synchronous Invoke API payload",
            Limit::AsyncPayload => "an asynchronous (`Event`) Invoke API payload",
            Limit::HttpApiHead => "an HTTP API request line and header values",
            Limit::RestApiRequestLine => "a REST API request line",
            Limit::RestApiHeaders => "a REST API header block (names, values, line ends)",
            Limit::AlbRequestLine => "an ALB request line",
            Limit::AlbHeaderLine => "one ALB request header line",
            Limit::AlbHeaders => "an ALB request header block",
            Limit::LambdaHead => {
                "a Function URL, VPC Lattice or Invoke API request line and header values"
            }
            Limit::RawHead => "a request head as it arrives (any front door)",
            Limit::HeaderLines => "a request's header lines (any front door)",
            Limit::RequestTarget => "a request target (any front door)",
            Limit::AlbResult => "a function result behind an ALB",
            Limit::AlbResponseHeaders => "the response header block behind an ALB",
            Limit::RestStreamPrelude => "a streamed REST API response's metadata prelude",
            Limit::BufferedResult => {
                "a buffered result or error document (`/response`, `/error`, `/init/error`, \
                 `/restore/error`, an extension's `/init/error`)"
            }
            Limit::StreamedResult => "a streamed response (prelude, delimiter and body)",
            Limit::StreamPrelude => "the bytes searched for a stream's prelude delimiter",
            Limit::RuntimeApiHead => "a Runtime or Extensions API request head",
            Limit::StreamTrailers => "a streamed response's trailers",
            Limit::Drain => "an oversized body read before answering 413",
            Limit::ExtensionRegistration => "an extension's registration body",
            Limit::WebHeaderLines => "a `portside-local web` request's header lines",
        }
    }

    /// The unit of [`Limit::max`].
    pub const fn unit(self) -> &'static str {
        match self {
            Limit::HeaderLines | Limit::WebHeaderLines => "lines",
            _ => "bytes",
        }
    }

    /// Where the value comes from.
    pub const fn source(self) -> &'static str {
        match self {
            Limit::ApiGatewayBody => sources::API_GATEWAY_BODY,
            Limit::AlbBody => sources::ALB_BODY,
            Limit::Event => sources::EVENT,
            Limit::InvokePayload => sources::INVOKE_PAYLOAD,
            Limit::AsyncPayload => sources::ASYNC_PAYLOAD,
            Limit::HttpApiHead => sources::HTTP_API_HEAD,
            Limit::RestApiRequestLine => sources::REST_API_REQUEST_LINE,
            Limit::RestApiHeaders => sources::REST_API_HEADERS,
            Limit::AlbRequestLine | Limit::AlbHeaderLine | Limit::AlbHeaders => sources::ALB_HEAD,
            Limit::LambdaHead => sources::LAMBDA_HEAD,
            Limit::RawHead => sources::RAW_HEAD,
            Limit::HeaderLines => sources::HEADER_LINES,
            Limit::RequestTarget => sources::REQUEST_TARGET,
            Limit::AlbResult => sources::ALB_RESULT,
            Limit::AlbResponseHeaders => sources::ALB_RESPONSE_HEADERS,
            Limit::RestStreamPrelude => sources::REST_STREAM_PRELUDE,
            Limit::BufferedResult => sources::BUFFERED_RESULT,
            Limit::StreamedResult => sources::STREAMED_RESULT,
            Limit::StreamPrelude => sources::STREAM_PRELUDE,
            Limit::RuntimeApiHead => sources::RUNTIME_API_HEAD,
            Limit::StreamTrailers => sources::STREAM_TRAILERS,
            Limit::Drain => sources::DRAIN,
            Limit::ExtensionRegistration => sources::EXTENSION_REGISTRATION,
            Limit::WebHeaderLines => sources::WEB_HEADER_LINES,
        }
    }

    /// What happens past the limit.
    pub const fn past(self) -> &'static str {
        match self {
            Limit::ApiGatewayBody => {
                "REST API: 413, `text; charset=utf-8`, \"HTTP content length exceeded 10485760 \
                 bytes.\"; HTTP API: 413 {\"message\":\"Request Entity Too Large\"} (not \
                 documented); nothing is invoked"
            }
            Limit::AlbBody => "413, the load balancer's page; nothing is invoked",
            Limit::Event => {
                "REST API: 413 {\"message\": \"Request Too Long\"} with `x-amzn-errortype: \
                 BadRequestException`; the others: 413 {\"message\":\"Request Entity Too \
                 Large\"} (not documented); nothing is invoked"
            }
            Limit::InvokePayload => {
                "413, `x-amzn-errortype: RequestEntityTooLargeException`, \"Request must be \
                 smaller than 6291456 bytes for the InvokeFunction operation\""
            }
            Limit::AsyncPayload => {
                "413, `x-amzn-errortype: RequestEntityTooLargeException`, \"N byte payload is too \
                 large for the Event invocation type (limit 1048576 bytes)\""
            }
            Limit::HttpApiHead | Limit::RestApiHeaders => {
                "431, `text; charset=utf-8`, \"HTTP header is larger than 10240 bytes.\""
            }
            Limit::RestApiRequestLine => {
                "414, `text; charset=utf-8`, \"An HTTP line is larger than 10240 bytes.\""
            }
            Limit::AlbRequestLine | Limit::AlbHeaderLine | Limit::AlbHeaders => {
                "400, the load balancer's page"
            }
            Limit::LambdaHead => "431 {\"message\":\"Request Header Fields Too Large\"}",
            Limit::RawHead | Limit::HeaderLines => "431 from hyper, no body",
            Limit::RequestTarget => "414 from hyper, no body",
            Limit::AlbResult | Limit::AlbResponseHeaders => "502, the load balancer's page",
            Limit::RestStreamPrelude => "502 {\"message\": \"Internal server error\"}",
            Limit::BufferedResult | Limit::StreamedResult => {
                "the runtime gets 413 RequestEntityTooLarge; a result fails the invocation with \
                 Function.ResponseSizeTooLarge (a stream is cut); an init or restore error is \
                 not recorded"
            }
            Limit::StreamPrelude => "nothing fails: the stream has no prelude, all of it is body",
            Limit::RuntimeApiHead => "431 from hyper, no body",
            Limit::StreamTrailers => {
                "the invocation fails with Runtime.TruncatedResponse; the runtime gets 400"
            }
            Limit::Drain => {
                "portside-local stops reading and answers; the client may see the answer or a \
                 reset"
            }
            Limit::ExtensionRegistration => {
                "400 Extension.InvalidRequest naming the limit; the extension is not registered"
            }
            Limit::WebHeaderLines => "431 from hyper, before the app",
        }
    }
}

impl fmt::Display for Limit {
    /// `10,485,760 bytes (10 MiB)`, `24,576 lines`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = self.max();
        write!(f, "{} {}", group_thousands(max), self.unit())?;
        match max {
            _ if self.unit() != "bytes" => Ok(()),
            m if m >= 1 << 20 && m.is_multiple_of(1 << 20) => write!(f, " ({} MiB)", m >> 20),
            m if m >= 1 << 10 && m.is_multiple_of(1 << 10) => write!(f, " ({} KiB)", m >> 10),
            _ => Ok(()),
        }
    }
}

/// The guide's table of portside-local's limits (docs/src/limits.md holds
/// exactly this between its `local-limits` markers; a test checks).
pub fn markdown_table() -> String {
    let mut table = String::from("| what | limit | where it comes from | past it |\n");
    table.push_str("| --- | --- | --- | --- |\n");
    for limit in Limit::ALL {
        table.push_str(&format!(
            "| {} | {limit} | {} | {} |\n",
            limit.what(),
            limit.source(),
            limit.past()
        ));
    }
    table
}

/// `65534` as `65,534`.
pub fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// Where each limit's value comes from, for [`Limit::source`]: AWS's
/// documentation and users' reports, quoted, or why portside-local chose
/// its own; in the order of [`Limit::ALL`].
mod sources {
    // The front doors' requests: bodies and payloads.
    pub(super) const API_GATEWAY_BODY: &str =
        "API Gateway quotas (REST and HTTP APIs): \"Payload size: 10 MB\"; a REST API \
         answers \"HTTP content length exceeded 10485760 bytes.\" (observed, \
         koki-develop/lgtm-generator#10)";
    pub(super) const ALB_BODY: &str =
        "\"Lambda functions as targets\", Limits: \"The maximum size of the request body \
         that you can send to a Lambda function is 1 MB\"";
    pub(super) const EVENT: &str =
        "Lambda quotas: 6 MB for a synchronous request; Lambda's Invoke API answers \
         \"Request must be smaller than 6291456 bytes\" (pelmers/streetwarp-web#14, \
         JupiterOne/sdk#565). A REST API answers it as observed in \
         koki-develop/lgtm-generator#10";
    pub(super) const INVOKE_PAYLOAD: &str =
        "Lambda quotas (6 MB, synchronous) and its answer \"RequestEntityTooLargeException: \
         Request must be smaller than 6291456 bytes for the InvokeFunction operation\" \
         (pelmers/streetwarp-web#14, JupiterOne/sdk#565)";
    pub(super) const ASYNC_PAYLOAD: &str =
        "Lambda quotas: \"1 MB (asynchronous)\"; Lambda's message \"N byte payload is too \
         large for the Event invocation type (limit L bytes)\" (faultline/faultline#12, \
         aws/aws-pdk#771)";

    // The front doors' requests: request lines and headers.
    pub(super) const HTTP_API_HEAD: &str =
        "HTTP API quotas: \"Total combined size of request line and header values: 10240 \
         bytes\"; the answer is not documented: portside-local gives a REST API's";
    pub(super) const REST_API_REQUEST_LINE: &str =
        "REST API quotas: \"Length, in characters, of the URL for a regional API: 10240\", \
         counted as the request line (a local URL's host differs); the answer is not \
         documented: a 414 in the words of the REST API's two other limit answers";
    pub(super) const REST_API_HEADERS: &str =
        "REST API quotas: \"Total combined size of all header values, including header \
         names, values, any line terminators, and whitespaces: 10240 Bytes\"; the answer \
         as users report it (\"HTTP header is larger than 10240 bytes.\", a 431)";
    pub(super) const ALB_HEAD: &str =
        "ALB quotas, HTTP headers (request line 16 K, single header 16 K, whole request \
         header 64 K); \"Troubleshoot your Application Load Balancers\": HTTP 400 (also \
         listed under 413; a 400 is what users observe)";
    pub(super) const LAMBDA_HEAD: &str =
        "Lambda quotas: \"1 MB for the total combined size of request line and header \
         values\"; VPC Lattice documents none and gets Lambda's; the answer is not \
         documented: portside-local's choice";
    pub(super) const RAW_HEAD: &str =
        "portside-local's own (hyper's buffer, raised from its ~400 KiB): twice Lambda's \
         1 MB of request line and header values, so names and line ends fit too";
    pub(super) const HEADER_LINES: &str =
        "inherited: the most names `http`'s HeaderMap holds (hyper's default of 100 \
         raised to it); API Gateway's and ALB's byte limits are reached first, a Function \
         URL's 1 MB could hold more empty lines";
    pub(super) const REQUEST_TARGET: &str =
        "inherited: the most hyper's parser takes (u16::MAX - 1); API Gateway's and \
         ALB's own limits are reached first, Lambda's 1 MB is not";

    // The front doors' results.
    pub(super) const ALB_RESULT: &str =
        "\"Lambda functions as targets\", Limits: \"The maximum size of the response JSON \
         that the Lambda function can send is 1 MB\"";
    pub(super) const ALB_RESPONSE_HEADERS: &str =
        "ALB quotas: whole response header 32 K; troubleshooting, HTTP 502: \"The target \
         response header exceeded 32 K for the entire response header\"";
    pub(super) const REST_STREAM_PRELUDE: &str =
        "\"Set up a Lambda proxy integration with payload response streaming\": the \
         metadata must come within the first 16 KB";

    // Lambda's Runtime and Extensions APIs.
    pub(super) const BUFFERED_RESULT: &str =
        "Lambda's: its Runtime API refuses a larger result (\"Exceeded maximum allowed \
         payload size (6291556 bytes)\"); equal to the adapter's own limit";
    pub(super) const STREAMED_RESULT: &str = "Lambda quotas: 200 MB for each streamed response";
    pub(super) const STREAM_PRELUDE: &str =
        "portside-local's own: a prelude is a few headers; a stream whose first MiB has \
         no delimiter is taken as all body (REST API: 16 KB already)";
    pub(super) const RUNTIME_API_HEAD: &str =
        "portside-local's own (hyper's ~400 KiB raised): Lambda documents none; the \
         same 1 MiB as Lambda's own Invoke API";
    pub(super) const STREAM_TRAILERS: &str =
        "portside-local's own (hyper's 16 KiB raised, so a long error body fits): Lambda \
         documents none; hyper refuses a trailer block once it reaches 1 MiB";
    pub(super) const DRAIN: &str =
        "portside-local's own: more than a streamed response may carry, so a runtime \
         that wrote past a limit still reads its 413; at most 10 s";
    pub(super) const EXTENSION_REGISTRATION: &str =
        "portside-local's own: a registration is a list of events; Lambda documents none";

    // `portside-local web`.
    pub(super) const WEB_HEADER_LINES: &str =
        "Lambda's Web Functions quota: per request, a header count of 6,300 \
         (local/WEBFUNCTIONS.md)";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(6_291_455), "6,291,455");
    }

    #[test]
    fn limits_say_their_value_and_unit() {
        assert_eq!(
            Limit::ApiGatewayBody.to_string(),
            "10,485,760 bytes (10 MiB)"
        );
        assert_eq!(Limit::InvokePayload.to_string(), "6,291,455 bytes");
        assert_eq!(Limit::AlbHeaders.to_string(), "65,536 bytes (64 KiB)");
        assert_eq!(Limit::HeaderLines.to_string(), "24,576 lines");
    }

    #[test]
    fn every_limit_is_listed_once() {
        for (i, a) in Limit::ALL.iter().enumerate() {
            assert!(!Limit::ALL[i + 1..].contains(a), "{a:?} twice");
        }
    }

    #[test]
    fn no_cell_breaks_the_table() {
        for limit in Limit::ALL {
            for cell in [limit.what(), limit.source(), limit.past()] {
                assert!(!cell.contains('|'), "{limit:?}: {cell}");
            }
        }
    }

    #[test]
    fn the_guide_lists_every_limit_as_the_code_has_it() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/src/limits.md");
        let guide = std::fs::read_to_string(path).expect("docs/src/limits.md");
        let start = "<!-- local-limits: begin (portside_local::limits::markdown_table) -->\n";
        let end = "<!-- local-limits: end -->";
        let table = guide
            .split_once(start)
            .and_then(|(_, rest)| rest.split_once(end))
            .map(|(table, _)| table)
            .unwrap_or_else(|| {
                panic!(
                    "no markers in {path}; put in:\n{start}{}{end}",
                    markdown_table()
                )
            });
        let want = markdown_table();
        assert!(
            table == want,
            "docs/src/limits.md is out of date; between its markers goes:\n{want}"
        );
    }

    #[test]
    fn the_header_line_limit_is_what_http_s_header_map_holds() {
        // Distinct names: the worst case for the map. hyper reserves room
        // for every line it parsed, and panics past the map's size.
        let mut map = http::HeaderMap::new();
        map.try_reserve(Limit::HeaderLines.max())
            .expect("the map holds the limit");
        let mut past = http::HeaderMap::new();
        assert!(past.try_reserve(Limit::HeaderLines.max() + 1).is_err());
    }

    #[test]
    fn the_request_target_limit_is_hypers() {
        // hyper refuses a longer target before `http` parses it (414).
        let longest = format!("/{}", "a".repeat(Limit::RequestTarget.max() - 1));
        assert!(longest.parse::<http::Uri>().is_ok());
    }
}
