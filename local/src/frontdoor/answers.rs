//! What an event source answers by itself, without a function result: a
//! function error or timeout, its own integration timeout, a request or a
//! result over its size limit. Each source's answers are in its own file
//! (`events/rest_api.rs`, `events/alb.rs`...), with the AWS documentation
//! they rest on (local/FRONTDOOR.md quotes it); this module holds why a
//! source answers ([`Failure`]), the answers' shapes several sources share
//! (API Gateway's JSON message and plain text, the load balancer's page,
//! Lambda's own answer to a head past its limit), and the entry points the
//! front door calls.
//!
//! Pure: status, headers and body; it must not do I/O.

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
    /// Lambda throttled the invocation (the function's reserved concurrency
    /// is in use): it never ran.
    Throttled,
}

/// A `{"message": ...}` answer, as API Gateway (and, undocumented, Function
/// URLs and VPC Lattice) send them.
pub(crate) fn json(status: u16, message: &str) -> HttpResponse {
    HttpResponse::gateway_error(status, message)
}

/// An ALB-generated error page, as the load balancer serves it.
pub(crate) fn alb_page(status: u16, reason: &str) -> HttpResponse {
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
pub(crate) fn text(status: u16, message: String) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "text; charset=utf-8".into())],
        body: Bytes::from(message),
    }
}

/// The answer to a request head past [`Limit::LambdaHead`] (a Function
/// URL, VPC Lattice, Lambda's Invoke API): not documented, portside-local's
/// choice (the limit's `past`).
pub(crate) fn lambda_head_too_large() -> HttpResponse {
    json(431, "Request Header Fields Too Large")
}

/// The source's own answer for `failure`.
pub fn answer(source: Source, failure: Failure) -> HttpResponse {
    source.unit().answer(failure)
}

/// The source's answer to a request past `limit`, one of its request
/// limits (a head, or a body); `Limit::past` describes each.
pub fn over_limit(source: Source, limit: Limit) -> HttpResponse {
    source.unit().over_limit(limit)
}

/// The source's integration timeout, if it has one shorter than Lambda's
/// 15 minutes: 29 s for a REST API, 30 s for an HTTP API.
pub fn integration_timeout(source: Source) -> Option<Duration> {
    source.unit().integration_timeout()
}

/// The largest request body the source passes on (the event must still fit
/// Lambda's 6 MB: a Function URL's or Lattice's body never reaches more).
pub fn request_limit(source: Source) -> Limit {
    source.unit().request_limit()
}

/// The largest response header block the source accepts (the function's
/// headers, as `name:value` CRLF each).
pub fn result_head_limit(source: Source) -> Option<Limit> {
    source.unit().result_head_limit()
}

/// The largest result the source accepts from the function (Lambda's own
/// 6 MB limit applies first).
pub fn result_limit(source: Source) -> Option<Limit> {
    source.unit().result_limit()
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
        let http = answer(Source::HttpApiV2, Failure::Function);
        assert_eq!(
            (http.status, message(&http).as_str()),
            (500, "Internal Server Error")
        );
        let rest = answer(Source::RestApi, Failure::IntegrationTimeout);
        assert_eq!(
            (rest.status, message(&rest).as_str()),
            (504, "Endpoint request timed out")
        );
        let http = answer(Source::HttpApiV2, Failure::IntegrationTimeout);
        assert_eq!(
            (http.status, message(&http).as_str()),
            (503, "Service Unavailable")
        );
        // "Handling Lambda errors with an API Gateway API": when the Lambda
        // API rejects the invocation request (a throttle), API Gateway
        // returns 500, not the 502 of a function error.
        let rest = answer(Source::RestApi, Failure::Throttled);
        assert_eq!(
            (rest.status, message(&rest).as_str()),
            (500, "Internal server error")
        );
        let http = answer(Source::HttpApiV2, Failure::Throttled);
        assert_eq!(
            (http.status, message(&http).as_str()),
            (500, "Internal Server Error")
        );
    }

    #[test]
    fn an_http_api_route_with_payload_1_0_answers_as_its_http_api() {
        // Its results are read in the REST shape; its failures, timeout and
        // limits stay the HTTP API's.
        for failure in [
            Failure::Function,
            Failure::BadResult,
            Failure::IntegrationTimeout,
            Failure::RequestTooLarge,
            Failure::Throttled,
        ] {
            assert_eq!(
                answer(Source::HttpApiV1, failure),
                answer(Source::HttpApiV2, failure),
                "{failure:?}"
            );
        }
        let v1 = crate::frontdoor::events::to_response(Source::HttpApiV1, b"{}", false);
        assert_eq!(
            (v1.status, message(&v1).as_str()),
            (500, "Internal Server Error")
        );
        assert_eq!(
            integration_timeout(Source::HttpApiV1),
            integration_timeout(Source::HttpApiV2)
        );
    }

    #[test]
    fn the_load_balancer_answers_with_its_page() {
        let alb = Source::Alb { multi_value: false };
        let r = answer(alb, Failure::BadResult);
        assert_eq!(r.status, 502);
        assert!(r
            .headers
            .contains(&("content-type".into(), "text/html".into())));
        assert!(String::from_utf8_lossy(&r.body).contains("<h1>502 Bad Gateway</h1>"));
        assert_eq!(
            answer(Source::Alb { multi_value: true }, Failure::RequestTooLarge).status,
            413
        );
        assert_eq!(request_limit(alb).max(), 1024 * 1024);
        assert_eq!(result_limit(alb).map(Limit::max), Some(1024 * 1024));
        assert_eq!(result_limit(Source::RestApi), None);
    }
}
