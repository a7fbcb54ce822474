//! What each event source answers by itself, without a function result: a
//! function error or timeout, its own integration timeout, a request or a
//! result over its size limit. Pure: status, headers and body per source.
//!
//! Sources (AWS documentation; local/FRONTDOOR.md quotes them):
//! * REST API: a function error or a malformed result is `502
//!   {"message": "Internal server error"}` ("Handling Lambda errors with an
//!   API Gateway API"; set-up-lambda-proxy-integrations.html: "If the
//!   function output is of a different format, API Gateway returns a 502").
//!   The integration times out after 29 s by default (API Gateway quotas)
//!   with `504 {"message": "Endpoint request timed out"}`.
//! * HTTP API: a function error is `500 {"message":"Internal Server
//!   Error"}`; the integration times out after 30 s (HTTP API quotas) with
//!   `503 {"message":"Service Unavailable"}` while the function runs on.
//! * Both API Gateway APIs refuse a payload over 10 MB with 413.
//! * ALB: a function error, or a response JSON over 1 MB, is the load
//!   balancer's own `502 Bad Gateway` page; a request body over 1 MB is
//!   refused with `413` (elasticloadbalancing lambda-functions.html,
//!   "Limits"; "Troubleshoot your Application Load Balancers", HTTP 502 and
//!   HTTP 413). ALB waits for Lambda for as long as the function runs.
//! * Function URL: a function error or timeout is `502`; the function's own
//!   timeout is the only bound (urls-invocation.html).
//! * VPC Lattice: a function error is `502`; request and response are
//!   limited to 6 MB (vpc-lattice lambda-functions.html, "Limitations").
//! * Past a request limit of `crate::limits` ([`over_limit`]): each limit's
//!   `past` says the answer and where it comes from.

use super::events::{HttpResponse, Source};
use crate::limits::Limit;
use bytes::Bytes;
use std::time::Duration;

/// Why the source answers by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The function failed: an error, its own timeout, a result too large
    /// for Lambda, a crash, a failed init.
    Function,
    /// The result is not what the source accepts (malformed, or over the
    /// source's own size limit).
    BadResult,
    /// The source's integration timeout ran out before the function answered.
    IntegrationTimeout,
    /// The event is over Lambda's size limit.
    RequestTooLarge,
}

fn json(status: u16, message: &str) -> HttpResponse {
    HttpResponse::gateway_error(status, message)
}

/// An ALB-generated error page, as the load balancer serves it.
fn alb_page(status: u16, reason: &str) -> HttpResponse {
    let body = format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    );
    HttpResponse {
        status,
        headers: vec![
            ("server".into(), "awselb/2.0".into()),
            ("content-type".into(), "text/html".into()),
        ],
        body: Bytes::from(body),
    }
}

/// API Gateway's plain-text answers to a request past its limits.
fn text(status: u16, message: String) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "text; charset=utf-8".into())],
        body: Bytes::from(message),
    }
}

/// The source's own answer for `failure`.
pub fn answer(source: Source, failure: Failure) -> HttpResponse {
    use Failure::*;
    match (source, failure) {
        (Source::RestApi, Function | BadResult) => json(502, "Internal server error"),
        (Source::RestApi, IntegrationTimeout) => json(504, "Endpoint request timed out"),
        // As observed when Lambda refuses the event (koki-develop/lgtm-generator#10).
        (Source::RestApi, RequestTooLarge) => {
            let mut r = json(413, "Request Too Long");
            r.headers
                .push(("x-amzn-errortype".into(), "BadRequestException".into()));
            r
        }
        (Source::HttpApi, Function | BadResult) => json(500, "Internal Server Error"),
        (Source::HttpApi, IntegrationTimeout) => json(503, "Service Unavailable"),
        (Source::HttpApi, RequestTooLarge) => json(413, "Request Entity Too Large"),
        (Source::Alb | Source::AlbMulti, RequestTooLarge) => {
            alb_page(413, "Request Entity Too Large")
        }
        (Source::Alb | Source::AlbMulti, _) => alb_page(502, "Bad Gateway"),
        (Source::FunctionUrl, RequestTooLarge) => json(413, "Request Entity Too Large"),
        (Source::FunctionUrl, _) => json(502, "Internal Server Error"),
        (Source::LatticeV1 | Source::LatticeV2, RequestTooLarge) => {
            json(413, "Request Entity Too Large")
        }
        (Source::LatticeV1 | Source::LatticeV2, _) => json(502, "Bad Gateway"),
    }
}

/// The source's answer to a request past `limit`, one of its request
/// limits (a head, or a body); `Limit::past` describes each.
pub fn over_limit(source: Source, limit: Limit) -> HttpResponse {
    let bytes = limit.max();
    match (source, limit) {
        (Source::RestApi, Limit::ApiGatewayBody) => {
            text(413, format!("HTTP content length exceeded {bytes} bytes."))
        }
        (_, Limit::HttpApiHead | Limit::RestApiHeaders) => {
            text(431, format!("HTTP header is larger than {bytes} bytes."))
        }
        (_, Limit::RestApiRequestLine) => {
            text(414, format!("An HTTP line is larger than {bytes} bytes."))
        }
        (_, Limit::AlbRequestLine | Limit::AlbHeaderLine | Limit::AlbHeaders) => {
            alb_page(400, "Bad Request")
        }
        (_, Limit::AlbBody) => alb_page(413, "Request Entity Too Large"),
        (_, Limit::LambdaHead) => json(431, "Request Header Fields Too Large"),
        (Source::HttpApi, _) => json(413, "Request Entity Too Large"),
        _ => answer(source, Failure::RequestTooLarge),
    }
}

/// The source's integration timeout, if it has one shorter than Lambda's
/// 15 minutes: 29 s for a REST API, 30 s for an HTTP API.
pub fn integration_timeout(source: Source) -> Option<Duration> {
    match source {
        Source::RestApi => Some(Duration::from_secs(29)),
        Source::HttpApi => Some(Duration::from_secs(30)),
        _ => None,
    }
}

/// The largest request body the source passes on (the event must still fit
/// Lambda's 6 MB: a Function URL's or Lattice's body never reaches more).
pub fn request_limit(source: Source) -> Limit {
    match source {
        Source::Alb | Source::AlbMulti => Limit::AlbBody,
        Source::RestApi | Source::HttpApi => Limit::ApiGatewayBody,
        _ => Limit::Event,
    }
}

/// The largest response header block the source accepts (the function's
/// headers, as `name:value` CRLF each).
pub fn result_head_limit(source: Source) -> Option<Limit> {
    match source {
        Source::Alb | Source::AlbMulti => Some(Limit::AlbResponseHeaders),
        _ => None,
    }
}

/// The largest result the source accepts from the function (Lambda's own
/// 6 MB limit applies first).
pub fn result_limit(source: Source) -> Option<Limit> {
    match source {
        Source::Alb | Source::AlbMulti => Some(Limit::AlbResult),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: &HttpResponse) -> String {
        let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        v["message"].as_str().unwrap_or("").to_string()
    }

    #[test]
    fn each_api_gateway_api_has_its_own_words() {
        let rest = answer(Source::RestApi, Failure::Function);
        assert_eq!(
            (rest.status, message(&rest).as_str()),
            (502, "Internal server error")
        );
        let http = answer(Source::HttpApi, Failure::Function);
        assert_eq!(
            (http.status, message(&http).as_str()),
            (500, "Internal Server Error")
        );
        let rest = answer(Source::RestApi, Failure::IntegrationTimeout);
        assert_eq!(
            (rest.status, message(&rest).as_str()),
            (504, "Endpoint request timed out")
        );
        let http = answer(Source::HttpApi, Failure::IntegrationTimeout);
        assert_eq!(
            (http.status, message(&http).as_str()),
            (503, "Service Unavailable")
        );
    }

    #[test]
    fn the_load_balancer_answers_with_its_page() {
        let r = answer(Source::Alb, Failure::BadResult);
        assert_eq!(r.status, 502);
        assert!(r
            .headers
            .contains(&("content-type".into(), "text/html".into())));
        assert!(String::from_utf8_lossy(&r.body).contains("<h1>502 Bad Gateway</h1>"));
        assert_eq!(
            answer(Source::AlbMulti, Failure::RequestTooLarge).status,
            413
        );
        assert_eq!(request_limit(Source::Alb).max(), 1024 * 1024);
        assert_eq!(result_limit(Source::Alb).map(Limit::max), Some(1024 * 1024));
        assert_eq!(result_limit(Source::RestApi), None);
    }
}
