//! A request head against the limits of the front door it came to: sizes
//! counted once, as `crate::limits` describes (the request line, header
//! lines in their shortest form `name:value`), then checked per door.
//!
//! Owns: measuring a head, and checking it against a door's limits (each
//! source names its own, with what each measures: its file's `head_limits`;
//! the Invoke API has Lambda's).
//! Must not: answer (the sources do), read bodies, or hold limit values
//! (`crate::limits` does).

use super::events::Source;
use crate::limits::Limit;
use http::{HeaderMap, Method, Uri};

/// How a request came in: through an event source's front door, or to
/// Lambda's Invoke API on the same port (each has its own limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// An event source.
    Source(Source),
    /// Lambda's Invoke API.
    InvokeApi,
}

/// A request head's sizes, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadSize {
    /// `METHOD SP target SP HTTP/1.1`.
    pub request_line: usize,
    /// Every header value.
    pub values: usize,
    /// Every header line as `name:value` CRLF.
    pub block: usize,
    /// The longest header line (`name:value`).
    pub longest_line: usize,
}

impl HeadSize {
    /// The sizes of a head.
    pub fn of(method: &Method, uri: &Uri, headers: &HeaderMap) -> HeadSize {
        let target = uri.to_string().len();
        let mut size = HeadSize {
            request_line: method.as_str().len() + 1 + target + 1 + "HTTP/1.1".len(),
            values: 0,
            block: 0,
            longest_line: 0,
        };
        for (name, value) in headers {
            let line = name.as_str().len() + 1 + value.len();
            size.values += value.len();
            size.block += line + 2;
            size.longest_line = size.longest_line.max(line);
        }
        size
    }
}

/// What a head limit measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// The request line.
    RequestLine,
    /// The request line and every header value (API Gateway's HTTP APIs,
    /// Lambda).
    LineAndValues,
    /// The header block.
    Block,
    /// The longest header line.
    LongestLine,
}

impl HeadSize {
    /// What `measure` counts in this head.
    pub fn get(&self, measure: Measure) -> usize {
        match measure {
            Measure::RequestLine => self.request_line,
            Measure::LineAndValues => self.request_line + self.values,
            Measure::Block => self.block,
            Measure::LongestLine => self.longest_line,
        }
    }
}

/// Lambda's Invoke API's head limit.
const INVOKE_API: &[(Limit, Measure)] = &[(Limit::LambdaHead, Measure::LineAndValues)];

/// The first limit of `via` the head is past, if any.
pub fn over(via: Via, size: &HeadSize) -> Option<Limit> {
    let checks = match via {
        Via::Source(source) => source.unit().head_limits(),
        Via::InvokeApi => INVOKE_API,
    };
    checks
        .iter()
        .find(|(limit, measure)| size.get(*measure) > limit.max())
        .map(|(limit, _)| *limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(target: &str, headers: &[(&str, &str)]) -> HeadSize {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        HeadSize::of(&Method::GET, &target.parse().unwrap(), &map)
    }

    #[test]
    fn a_head_is_counted_as_written_in_its_shortest_form() {
        // "GET /a?b=1 HTTP/1.1", "host:x" CRLF, "k:vv" CRLF.
        let size = head("/a?b=1", &[("host", "x"), ("k", "vv")]);
        assert_eq!(
            size,
            HeadSize {
                request_line: 19,
                values: 3,
                block: 8 + 6,
                longest_line: 6,
            }
        );
    }

    #[test]
    fn each_door_checks_its_own_limits() {
        let long = "v".repeat(Limit::AlbHeaderLine.max());
        let size = head("/", &[("k", &long)]);
        // 16 KiB of value: past API Gateway's 10,240 bytes and ALB's line.
        assert_eq!(
            over(Via::Source(Source::HttpApiV2), &size),
            Some(Limit::HttpApiHead)
        );
        assert_eq!(
            over(Via::Source(Source::RestApi), &size),
            Some(Limit::RestApiHeaders)
        );
        assert_eq!(
            over(Via::Source(Source::Alb { multi_value: false }), &size),
            Some(Limit::AlbHeaderLine)
        );
        assert_eq!(over(Via::Source(Source::FunctionUrl), &size), None);
        assert_eq!(over(Via::InvokeApi, &size), None);
    }
}
