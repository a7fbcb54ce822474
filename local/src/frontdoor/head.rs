//! A request head against the limits of the front door it came to: sizes
//! counted once, as `crate::limits` describes (the request line, header
//! lines in their shortest form `name:value`), then checked per door.
//!
//! Owns: measuring a head; which head limits each door has.
//! Must not: answer (`answers` does), read bodies, or hold limit values
//! (`crate::limits` does).

use super::events::Source;
use crate::limits::Limit;
use http::{HeaderMap, Method, Uri};

/// Which front door a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
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

/// The first limit of `door` the head is past, if any.
pub fn over(door: Door, size: &HeadSize) -> Option<Limit> {
    let line_and_values = size.request_line + size.values;
    let checks: &[(Limit, usize)] = match door {
        Door::Source(Source::HttpApi) => &[(Limit::HttpApiHead, line_and_values)],
        Door::Source(Source::RestApi) => &[
            (Limit::RestApiRequestLine, size.request_line),
            (Limit::RestApiHeaders, size.block),
        ],
        Door::Source(Source::Alb | Source::AlbMulti) => &[
            (Limit::AlbRequestLine, size.request_line),
            (Limit::AlbHeaderLine, size.longest_line),
            (Limit::AlbHeaders, size.block),
        ],
        Door::Source(Source::FunctionUrl | Source::LatticeV1 | Source::LatticeV2)
        | Door::InvokeApi => &[(Limit::LambdaHead, line_and_values)],
    };
    checks
        .iter()
        .find(|(limit, measured)| *measured > limit.max())
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
            over(Door::Source(Source::HttpApi), &size),
            Some(Limit::HttpApiHead)
        );
        assert_eq!(
            over(Door::Source(Source::RestApi), &size),
            Some(Limit::RestApiHeaders)
        );
        assert_eq!(
            over(Door::Source(Source::Alb), &size),
            Some(Limit::AlbHeaderLine)
        );
        assert_eq!(over(Door::Source(Source::FunctionUrl), &size), None);
        assert_eq!(over(Door::InvokeApi, &size), None);
    }
}
