//! The events the tests send, one builder per shape: each starts from the
//! fields its front door sends (as the AWS documentation's examples and the
//! corpus in `tests/events/` have them), and a test changes only what it is
//! about.

use serde_json::{json, Value};

/// A Function URL's domain (`<url-id>.lambda-url.<region>.on.aws`).
pub const FUNCTION_URL_DOMAIN: &str = "abcdefg.lambda-url.us-east-1.on.aws";

/// An event being built; [`Event::build`] gives its JSON text.
#[derive(Debug, Clone)]
pub struct Event(Value);

/// An API Gateway HTTP API event, payload 2.0: `rawPath` with an empty
/// query, a `Host` header, a whole `requestContext` (the client at
/// 203.0.113.9, request id `req-1`), no body.
pub fn http_api(method: &str, raw_path: &str) -> Event {
    payload_2_0(method, raw_path, "api.example.com", "api")
}

/// A Lambda Function URL event: payload 2.0 on a `lambda-url` domain.
pub fn function_url(method: &str, raw_path: &str) -> Event {
    let mut event = payload_2_0(method, raw_path, FUNCTION_URL_DOMAIN, "abcdefg");
    event.0["requestContext"]["domainPrefix"] = json!("abcdefg");
    event
}

fn payload_2_0(method: &str, raw_path: &str, domain: &str, api_id: &str) -> Event {
    Event(json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": {"host": domain},
        "requestContext": {"accountId": "123456789012", "apiId": api_id, "domainName": domain,
                           "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1",
                                    "sourceIp": "203.0.113.9", "userAgent": "test"},
                           "requestId": "req-1", "routeKey": "$default", "stage": "$default",
                           "time": "22/Nov/2026:10:00:00 +0000", "timeEpoch": 1795345200000u64},
        "isBase64Encoded": false
    }))
}

/// An API Gateway REST API proxy event (no `version`): the `Host` header in
/// both header maps, no query, no body.
pub fn rest_api(method: &str, path: &str) -> Event {
    let host = "abc123.execute-api.us-east-1.amazonaws.com";
    Event(json!({
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Host": host},
        "multiValueHeaders": {"Host": [host]},
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": {"proxy": path.trim_start_matches('/')},
        "requestContext": {"accountId": "123456789012", "apiId": "abc123", "stage": "prod",
                           "resourcePath": "/{proxy+}", "httpMethod": method, "requestId": "r",
                           "domainName": host, "identity": {"sourceIp": "203.0.113.1"}},
        "body": null,
        "isBase64Encoded": false
    }))
}

/// An API Gateway WebSocket API event of `event_type` (`CONNECT`,
/// `MESSAGE`, `DISCONNECT`) on `route_key`, without headers or body.
pub fn websocket(event_type: &str, route_key: &str) -> Event {
    Event(json!({
        "requestContext": {
            "routeKey": route_key, "eventType": event_type, "messageDirection": "IN",
            "connectionId": "L0SM9cOFvHcCIhw=", "connectedAt": 1795345200000u64,
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com", "stage": "prod",
            "apiId": "abc123", "requestId": "req-ws", "requestTimeEpoch": 1795345200001u64,
            "identity": {"sourceIp": "203.0.113.5"}
        },
        "isBase64Encoded": false
    }))
}

impl Event {
    /// The raw query string (payload 2.0).
    pub fn query(mut self, raw: &str) -> Event {
        self.0["rawQueryString"] = json!(raw);
        self
    }

    /// One more header, or this value for one already there; the REST
    /// shape has it in both of its maps.
    pub fn header(mut self, name: &str, value: &str) -> Event {
        self.0["headers"][name] = json!(value);
        if self.0["multiValueHeaders"].is_object() {
            self.0["multiValueHeaders"][name] = json!([value]);
        }
        self
    }

    /// These headers, and no others.
    pub fn headers(mut self, headers: Value) -> Event {
        self.0["headers"] = headers;
        self
    }

    /// The `cookies` list (payload 2.0).
    pub fn cookies(mut self, cookies: &[&str]) -> Event {
        self.0["cookies"] = json!(cookies);
        self
    }

    /// A text body.
    pub fn body(mut self, text: &str) -> Event {
        self.0["body"] = json!(text);
        self.0["isBase64Encoded"] = json!(false);
        self
    }

    /// A body of bytes, as base64.
    pub fn binary_body(mut self, bytes: &[u8]) -> Event {
        use base64::Engine;
        self.0["body"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
        self.0["isBase64Encoded"] = json!(true);
        self
    }

    /// A WebSocket message: the frame's text as the body, with its id.
    pub fn message(self, text: &str) -> Event {
        let mut event = self.body(text);
        event.0["requestContext"]["messageId"] = json!("msg-1");
        event
    }

    /// `requestContext.requestId`.
    pub fn request_id(mut self, id: &str) -> Event {
        self.0["requestContext"]["requestId"] = json!(id);
        self
    }

    /// Any other top-level field.
    pub fn set(mut self, field: &str, value: Value) -> Event {
        self.0[field] = value;
        self
    }

    /// The event's JSON text.
    pub fn build(self) -> String {
        self.0.to_string()
    }
}
