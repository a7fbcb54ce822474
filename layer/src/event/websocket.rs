//! API Gateway WebSocket API events (Lambda proxy integration), which LWA does
//! not handle: `$connect`, `$disconnect` and messages reach the app as HTTP
//! POSTs to the WebSocket path.
//!
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

use http::Method;

use super::result::{HttpResult, ResponseParts};
use super::wire::Text;
use super::{proxy_parts, query_from_maps, ContextProbe, HttpRequestParts, QueryValues, RawEvent};
use crate::body::{encode_result_body, ResultBody};

/// What the app is told about a WebSocket event, besides the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSocketInfo {
    /// `CONNECT`, `MESSAGE` or `DISCONNECT`.
    pub event_type: String,
    /// `$connect`, `$disconnect`, `$default` or a custom route key.
    pub route_key: String,
    /// The connection's id, for replying later through the management API.
    pub connection_id: String,
}

fn text_of(text: Option<&Text<'_>>) -> Option<String> {
    text.and_then(Text::as_str).map(str::to_owned)
}

pub(super) fn request(
    event: &RawEvent<'_>,
    context: &ContextProbe<'_>,
) -> Result<(WebSocketInfo, HttpRequestParts), String> {
    let connection_id = text_of(context.connection_id.as_ref())
        .ok_or_else(|| "`requestContext.connectionId` must be a string".to_string())?;
    let route_key = text_of(context.route_key.as_ref()).unwrap_or_else(|| "$default".to_string());
    // Some producers leave eventType out; the route key says it then.
    let event_type = text_of(context.event_type.as_ref()).unwrap_or_else(|| {
        match route_key.as_str() {
            "$connect" => "CONNECT",
            "$disconnect" => "DISCONNECT",
            _ => "MESSAGE",
        }
        .to_string()
    });
    let query = query_from_maps(event, QueryValues::Decoded)?.unwrap_or_default();
    // A placeholder path: the adapter sends WebSocket events to the configured one.
    let request = proxy_parts(event, Method::POST, "/".to_string(), query)?;
    Ok((
        WebSocketInfo {
            event_type,
            route_key,
            connection_id,
        },
        request,
    ))
}

pub(super) fn result(response: ResponseParts) -> HttpResult {
    // WebSocket frames sent back to a client are text (API Gateway does not
    // send binary frames), so any UTF-8 body is text whatever its type.
    let body = if std::str::from_utf8(&response.body).is_ok()
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
