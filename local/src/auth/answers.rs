//! What API Gateway (or a Function URL) answers by itself when it refuses a
//! request before the function runs: status, headers and body per source.
//! Pure. local/AUTHORIZERS.md gives the source of each answer.
//!
//! * HTTP API: `401 {"message":"Unauthorized"}` (a missing identity
//!   source, or a JWT that fails validation, with the `www-authenticate`
//!   header of http-api-troubleshooting-jwt.html), `403
//!   {"message":"Forbidden"}` (a Lambda authorizer's deny, a JWT without
//!   the route's scopes, an unsigned request to an IAM route), `500
//!   {"message":"Internal Server Error"}` (an authorizer that fails or
//!   answers in the wrong format: http-api-lambda-authorizer.html,
//!   "Troubleshooting"); each with `apigw-requestid`.
//! * REST API: the gateway responses UNAUTHORIZED (401), ACCESS_DENIED
//!   (403) and AUTHORIZER_CONFIGURATION_ERROR / AUTHORIZER_FAILURE (500),
//!   MISSING_AUTHENTICATION_TOKEN (403) (supported-gateway-response-types.html),
//!   with `x-amzn-ErrorType` and `x-amzn-RequestId`.
//! * Function URL with `AWS_IAM`: `403 {"Message":"Forbidden"}`.

use crate::frontdoor::events::{HttpResponse, Source};
use bytes::Bytes;
use serde_json::json;

/// Why the request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// An identity source is missing or empty, or a REST Lambda authorizer
    /// failed with the message `Unauthorized`.
    Unauthorized,
    /// A JWT failed validation: the `error_description` API Gateway puts in
    /// `www-authenticate`.
    InvalidToken(String),
    /// A valid JWT without any of the route's scopes.
    InsufficientScope {
        /// The route's scopes, space-separated.
        scopes: String,
    },
    /// A Lambda authorizer denied the request; `explicit` when a Deny
    /// statement matched (REST APIs say which).
    Denied {
        /// A Deny statement matched (else no Allow did).
        explicit: bool,
    },
    /// The authorizer failed, timed out or answered in the wrong format.
    AuthorizerFailed,
    /// An IAM-authorized route got a request without a SigV4 signature.
    MissingSignature,
}

fn with(status: u16, body: serde_json::Value, headers: Vec<(String, String)>) -> HttpResponse {
    let mut headers = headers;
    headers.insert(0, ("content-type".into(), "application/json".into()));
    HttpResponse {
        status,
        headers,
        body: Bytes::from(body.to_string()),
    }
}

/// The answer `source` gives for `refusal`; `request_id` is the request's
/// id (API Gateway returns it in a header).
pub fn answer(source: Source, refusal: &Refusal, request_id: &str) -> HttpResponse {
    match source {
        Source::RestApi => rest(refusal, request_id),
        Source::FunctionUrl => with(
            403,
            json!({"Message": "Forbidden"}),
            vec![
                ("x-amzn-RequestId".into(), request_id.into()),
                ("x-amzn-ErrorType".into(), "AccessDeniedException".into()),
            ],
        ),
        _ => http_api(refusal, request_id),
    }
}

fn http_api(refusal: &Refusal, request_id: &str) -> HttpResponse {
    let id = ("apigw-requestid".to_string(), request_id.to_string());
    let challenge = |scope: &str, error: &str, description: &str| {
        (
            "www-authenticate".to_string(),
            format!(
                "Bearer scope=\"{scope}\" error=\"{error}\" error_description=\"{description}\""
            ),
        )
    };
    match refusal {
        Refusal::Unauthorized => with(401, json!({"message": "Unauthorized"}), vec![id]),
        Refusal::InvalidToken(why) => with(
            401,
            json!({"message": "Unauthorized"}),
            vec![challenge("", "invalid_token", why), id],
        ),
        Refusal::InsufficientScope { scopes } => with(
            403,
            json!({"message": "Forbidden"}),
            vec![
                challenge(
                    scopes,
                    "insufficient_scope",
                    "the token does not have the required scopes",
                ),
                id,
            ],
        ),
        Refusal::Denied { .. } | Refusal::MissingSignature => {
            with(403, json!({"message": "Forbidden"}), vec![id])
        }
        Refusal::AuthorizerFailed => {
            with(500, json!({"message": "Internal Server Error"}), vec![id])
        }
    }
}

fn rest(refusal: &Refusal, request_id: &str) -> HttpResponse {
    let headers = |error_type: &str| {
        vec![
            ("x-amzn-RequestId".to_string(), request_id.to_string()),
            ("x-amzn-ErrorType".to_string(), error_type.to_string()),
        ]
    };
    match refusal {
        Refusal::Unauthorized | Refusal::InvalidToken(_) => with(
            401,
            json!({"message": "Unauthorized"}),
            headers("UnauthorizedException"),
        ),
        Refusal::InsufficientScope { .. } | Refusal::Denied { explicit: false } => with(
            403,
            json!({"Message": "User is not authorized to access this resource"}),
            headers("AccessDeniedException"),
        ),
        Refusal::Denied { explicit: true } => with(
            403,
            json!({"Message": "User is not authorized to access this resource with an explicit deny"}),
            headers("AccessDeniedException"),
        ),
        Refusal::AuthorizerFailed => with(
            500,
            json!({"message": null}),
            headers("AuthorizerConfigurationException"),
        ),
        Refusal::MissingSignature => with(
            403,
            json!({"message": "Missing Authentication Token"}),
            headers("MissingAuthenticationTokenException"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(r: &'a HttpResponse, name: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_http_api_jwt_answer_is_the_documented_one() {
        // http-api-troubleshooting-jwt.html: 26 bytes of body and the header.
        let r = answer(
            Source::HttpApiV2,
            &Refusal::InvalidToken("the token does not have a valid audience".into()),
            "Mc7UVioPPHcEKPA=",
        );
        assert_eq!(r.status, 401);
        assert_eq!(&r.body[..], br#"{"message":"Unauthorized"}"#);
        assert_eq!(r.body.len(), 26);
        assert_eq!(
            header(&r, "www-authenticate"),
            Some(
                r#"Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience""#
            )
        );
        assert_eq!(header(&r, "apigw-requestid"), Some("Mc7UVioPPHcEKPA="));
    }

    #[test]
    fn rest_apis_answer_with_their_gateway_responses() {
        let r = answer(Source::RestApi, &Refusal::Denied { explicit: true }, "id");
        assert_eq!(r.status, 403);
        assert_eq!(
            header(&r, "x-amzn-ErrorType"),
            Some("AccessDeniedException")
        );
        let r = answer(Source::RestApi, &Refusal::AuthorizerFailed, "id");
        assert_eq!((r.status, &r.body[..]), (500, &br#"{"message":null}"#[..]));
        let r = answer(Source::RestApi, &Refusal::MissingSignature, "id");
        assert_eq!(r.status, 403);
    }
}
