//! API Gateway WebSocket API events (Lambda proxy integration), which LWA does
//! not handle: `$connect`, `$disconnect` and messages reach the app as HTTP
//! POSTs to the WebSocket path.
//!
//! Detection (TYPES.md step 8, before the REST shape's step 10, since some
//! WebSocket events carry `httpMethod`, `resource` and `path` too):
//! `requestContext.connectionId`, `eventType` or `messageDirection`.
//! Request: `requestContext.eventType` (`CONNECT`, `MESSAGE`, `DISCONNECT`),
//! `routeKey`, `connectionId`; on `$connect`, the client's handshake
//! `headers`/`multiValueHeaders` and `queryStringParameters`/
//! `multiValueQueryStringParameters` (decoded values); for messages, `body`
//! (the frame's text) and `isBase64Encoded`.
//! Result: `statusCode`, `headers`, `body` (text whenever it is UTF-8:
//! API Gateway sends text frames), `isBase64Encoded`. A non-2xx
//! status on `$connect` refuses the connection; a message's body is what the
//! `$default` route response sends back, when one is configured
//! (apigateway-websocket-api-route-response.html).
//! The client's address: `requestContext.identity.sourceIp`.

use http::{HeaderValue, Method};

use super::parts::{proxy_parts, query_from_maps, QueryValues};
use super::result::{HttpResult, ResponseParts};
use super::wire::Text;
use super::{ContextProbe, Converted, Detected, HttpSource, RawEvent, Refusal, Source};
use crate::body::{encode_result_body, ResultBody};

/// The file of WebSocket APIs.
pub(super) struct WebSocket;

/// TYPES.md step 8.
pub(super) fn detect<'a>(_: &RawEvent<'a>, context: &ContextProbe<'a>) -> Option<Detected<'a>> {
    (context.connection_id.is_some()
        || context.event_type.is_some()
        || context.message_direction.is_some())
    .then_some(Detected::Http(HttpSource::WebSocket))
}

impl Source for WebSocket {
    fn name(&self, _: HttpSource) -> &'static str {
        "api-gateway-websocket"
    }

    fn request(
        &self,
        event: &RawEvent<'_>,
        context: &ContextProbe<'_>,
        _: HttpSource,
    ) -> Result<Converted, Refusal> {
        request(event, context)
    }

    fn result(&self, response: ResponseParts, _: HttpSource) -> HttpResult {
        result(response)
    }

    fn client_ip(&self, context: &ContextProbe<'_>) -> Option<String> {
        context.identity_source_ip()
    }
}

/// What the app is told about a WebSocket event, besides the request: each
/// a header value as the event gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSocketInfo {
    /// `CONNECT`, `MESSAGE` or `DISCONNECT`.
    pub event_type: HeaderValue,
    /// `$connect`, `$disconnect`, `$default` or a custom route key.
    pub route_key: HeaderValue,
    /// The connection's id, for replying later through the management API.
    pub connection_id: HeaderValue,
}

fn text_of<'t>(text: Option<&'t Text<'_>>) -> Option<&'t str> {
    text.and_then(Text::as_str)
}

/// A field's text as a header value, or why it cannot be one.
fn header_of(text: &str, field: &str) -> Result<HeaderValue, String> {
    crate::header::value(text.as_bytes())
        .ok_or_else(|| format!("`{field}` holds characters HTTP does not allow in a header"))
}

fn request(event: &RawEvent<'_>, context: &ContextProbe<'_>) -> Result<Converted, Refusal> {
    let connection_id = text_of(context.connection_id.as_ref())
        .ok_or_else(|| "`requestContext.connectionId` must be a string".to_string())?;
    // A route key left out is the default route's.
    let route_key = text_of(context.route_key.as_ref()).unwrap_or("$default");
    // Some producers leave eventType out; the route key says it then.
    let event_type = text_of(context.event_type.as_ref()).unwrap_or(match route_key {
        "$connect" => "CONNECT",
        "$disconnect" => "DISCONNECT",
        _ => "MESSAGE",
    });
    let info = WebSocketInfo {
        event_type: header_of(event_type, "requestContext.eventType")?,
        route_key: header_of(route_key, "requestContext.routeKey")?,
        connection_id: header_of(connection_id, "requestContext.connectionId")?,
    };
    let query = query_from_maps(event, QueryValues::Decoded)?.unwrap_or_default();
    // A placeholder path: the adapter sends WebSocket events to the configured one.
    let request = proxy_parts(event, Method::POST, "/".to_string(), query)?;
    Ok(Converted {
        request,
        websocket: Some(info),
    })
}

fn result(response: ResponseParts) -> HttpResult {
    // WebSocket frames sent back to a client are text (API Gateway does not
    // send binary frames), so any UTF-8 body is text whatever its type.
    let body = if crate::body::as_text(&response.body).is_some()
        && !response
            .headers
            .contains_key(http::header::CONTENT_ENCODING)
    {
        ResultBody::Text(response.body.clone())
    } else {
        encode_result_body(&response.headers, &response.body)
    };
    HttpResult::single_value(&response, body)
}
