//! The front door: an HTTP listener that turns real requests into events of
//! the chosen source, invokes the function, and turns results back into
//! HTTP responses as that source would (its own answers for failures and
//! limits are in [`answers`]). Streamed responses (Function URLs in
//! `RESPONSE_STREAM` mode, REST APIs with the `STREAM` response transfer
//! mode) are forwarded as they arrive. The same port serves Lambda's Invoke
//! API (`POST /2015-03-31/functions/{name}/invocations`) for raw events.

pub mod answers;
pub mod events;
pub mod explain;
pub mod head;

use crate::function::Function;
use crate::limits::Limit;
use crate::runtime_api::stream::PreludeSplitter;
use crate::runtime_api::{
    drain, read_limited, InvokeOptions, InvokeRejected, Outcome, ReadError, StreamEvent,
};
use answers::Failure;
use base64::Engine;
use bytes::Bytes;
use events::{EventContext, HttpRequest, HttpResponse, Source};
use head::{HeadSize, Via};
use http::{Request, Response};
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// How the front door presents the function.
#[derive(Debug, Clone)]
pub struct FrontDoorConfig {
    /// The event source to emulate.
    pub source: Source,
    /// Stream responses: a Function URL in `RESPONSE_STREAM` invoke mode, or
    /// a REST API integration with the `STREAM` response transfer mode.
    pub response_stream: bool,
    /// Region for events.
    pub region: String,
    /// The source's integration timeout ([`answers::integration_timeout`]
    /// by default): past it the source answers by itself while the function
    /// may still run. `None`: only the function timeout applies.
    pub integration_timeout: Option<Duration>,
    /// The authorizers in front of the function (`crate::auth`), if any.
    pub auth: Option<Arc<crate::auth::Gate>>,
}

impl FrontDoorConfig {
    /// The source's defaults.
    pub fn new(source: Source, region: &str) -> FrontDoorConfig {
        FrontDoorConfig {
            source,
            response_stream: false,
            region: region.to_string(),
            integration_timeout: answers::integration_timeout(source),
            auth: None,
        }
    }

    fn streams(&self) -> bool {
        self.response_stream && self.source.streams()
    }
}

/// The body of the front door's responses.
pub type RespBody = BoxBody<Bytes, std::io::Error>;

fn full(b: impl Into<Bytes>) -> RespBody {
    Full::new(b.into()).map_err(|never| match never {}).boxed()
}

/// A body fed by a channel, so chunks reach the client as they arrive.
struct ChannelBody(mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data)))
    }
}

/// A response made from an [`HttpResponse`].
pub fn respond(r: HttpResponse) -> Response<RespBody> {
    let mut resp = Response::new(full(r.body));
    *resp.status_mut() =
        http::StatusCode::from_u16(r.status).unwrap_or(http::StatusCode::BAD_GATEWAY);
    add_headers(&mut resp, &r.headers);
    resp
}

fn add_headers<B>(resp: &mut Response<B>, headers: &[(String, String)]) {
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_str(v),
        ) {
            resp.headers_mut().append(k, v);
        }
    }
}

/// Serves until the listener fails.
pub async fn serve(listener: TcpListener, function: Arc<Function>, cfg: Arc<FrontDoorConfig>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(a) => a,
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let function = Arc::clone(&function);
        let cfg = Arc::clone(&cfg);
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                handle(Arc::clone(&function), Arc::clone(&cfg), peer, port, req)
            });
            // hyper's defaults (100 header lines, ~400 KiB of head) are less
            // generous than the front doors: raised, and each door's own
            // limits checked in `handle` (crate::limits).
            let _ = hyper::server::conn::http1::Builder::new()
                .max_headers(Limit::HeaderLines.max())
                .max_header_size(Limit::RawHead.max())
                .max_buf_size(Limit::RawHead.max() + 64 * 1024)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

async fn handle(
    function: Arc<Function>,
    cfg: Arc<FrontDoorConfig>,
    peer: SocketAddr,
    port: u16,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, Infallible> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let method = req.method().to_string();
    let mut headers = Vec::new();
    for (k, v) in req.headers() {
        headers.push((
            k.as_str().to_string(),
            String::from_utf8_lossy(v.as_bytes()).to_string(),
        ));
    }
    let is_invoke_api = method == "POST"
        && path.starts_with("/2015-03-31/functions/")
        && path.ends_with("/invocations");
    let via = if is_invoke_api {
        Via::InvokeApi
    } else {
        Via::Source(cfg.source)
    };
    let body = match read_request(via, req).await {
        Ok(body) => body,
        Err(refusal) => return Ok(refusal),
    };
    if is_invoke_api {
        return Ok(invoke_api(&function, &headers, body).await);
    }
    let request = HttpRequest {
        method,
        path,
        query,
        headers,
        body,
        source_ip: peer.ip().to_string(),
        port,
    };
    Ok(http_request(&function, &cfg, request).await)
}

/// The request's body, within the door's limits; or the door's answer to
/// a head or a body past them, given once the rest of the body is read (so
/// the client, still writing it, reads the answer).
pub(crate) async fn read_request(
    via: Via,
    req: Request<Incoming>,
) -> Result<Bytes, Response<RespBody>> {
    let (parts, body) = req.into_parts();
    let size = HeadSize::of(&parts.method, &parts.uri, &parts.headers);
    let refuse = |limit: Limit| {
        eprintln!(
            "portside-local: {} is over its limit of {limit}",
            limit.what()
        );
        match (via, limit) {
            (Via::InvokeApi, Limit::InvokePayload) => {
                rejected(&InvokeRejected::PayloadTooLarge { limit: limit.max() })
            }
            (Via::InvokeApi, _) => respond(answers::lambda_head_too_large()),
            (Via::Source(source), _) => respond(answers::over_limit(source, limit)),
        }
    };
    if let Some(limit) = head::over(via, &size) {
        drain(body).await;
        return Err(refuse(limit));
    }
    let limit = match via {
        Via::InvokeApi => Limit::InvokePayload,
        Via::Source(source) => answers::request_limit(source),
    };
    match read_limited(&parts.headers, body, limit.max(), None).await {
        Ok(bytes) => Ok(bytes),
        Err(ReadError::TooLarge(rest)) => {
            drain(rest).await;
            Err(refuse(limit))
        }
        Err(_) => Err(respond(HttpResponse::gateway_error(
            400,
            "the request body ended early",
        ))),
    }
}

fn rejected(e: &InvokeRejected) -> Response<RespBody> {
    let mut resp = Response::new(full(
        serde_json::json!({ "Type": "User", "message": e.message() }).to_string(),
    ));
    *resp.status_mut() =
        http::StatusCode::from_u16(e.status()).unwrap_or(http::StatusCode::BAD_REQUEST);
    add_headers(
        &mut resp,
        &[
            ("content-type".into(), "application/json".into()),
            ("x-amzn-errortype".into(), e.error_type().into()),
        ],
    );
    resp
}

/// Lambda's Invoke API: the body is the event, the answer the result.
async fn invoke_api(
    function: &Arc<Function>,
    headers: &[(String, String)],
    body: Bytes,
) -> Response<RespBody> {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut opts = InvokeOptions::new();
    if let Some(ctx) = get("x-amz-client-context") {
        match base64::engine::general_purpose::STANDARD.decode(ctx.trim()) {
            Ok(json) => opts = opts.client_context(String::from_utf8_lossy(&json).to_string()),
            Err(_) => {
                return respond(HttpResponse::gateway_error(
                    400,
                    "X-Amz-Client-Context must be base64-encoded JSON",
                ))
            }
        }
    }
    let asynchronous = get("x-amz-invocation-type").is_some_and(|t| t == "Event");
    let limit = Limit::AsyncPayload.max();
    if asynchronous && body.len() > limit {
        let size = body.len();
        return rejected(&InvokeRejected::EventPayloadTooLarge { size, limit });
    }
    // Lambda's Invoke API refuses a payload that is not JSON before any code
    // runs (after refusing one that is too large, in `read_request`).
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
        let mut resp = Response::new(full(
            serde_json::json!({
                "Type": "User",
                "message": format!("Could not parse request body into json: {e}"),
            })
            .to_string(),
        ));
        *resp.status_mut() = http::StatusCode::BAD_REQUEST;
        add_headers(
            &mut resp,
            &[
                ("content-type".into(), "application/json".into()),
                (
                    "x-amzn-errortype".into(),
                    "InvalidRequestContentException".into(),
                ),
            ],
        );
        return resp;
    }
    let event = body.clone();
    let inv = match function.invoke(body, opts).await {
        Ok(inv) => inv,
        Err(e) => return rejected(&e),
    };
    if asynchronous {
        tokio::spawn(inv.outcome());
        let mut resp = Response::new(full(Bytes::new()));
        *resp.status_mut() = http::StatusCode::ACCEPTED;
        return resp;
    }
    let request_id = inv.request_id.clone();
    let outcome = inv.outcome().await;
    log_failure(&outcome);
    explain_pass_through(function, &event, &outcome);
    let result = outcome.invoke_result();
    let mut resp = Response::new(full(result.payload));
    let mut h = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("x-amz-executed-version".to_string(), "$LATEST".to_string()),
        ("x-amzn-requestid".to_string(), request_id),
    ];
    if let Some(fe) = result.function_error {
        h.push(("x-amz-function-error".into(), fe));
    }
    add_headers(&mut resp, &h);
    resp
}

/// An event the app refused on the pass-through path: where it went.
fn explain_pass_through(function: &Function, event: &[u8], outcome: &Outcome) {
    if let Outcome::Error(e) = outcome {
        if let Some(hint) = explain::pass_through(event, e, &function.config().env) {
            eprintln!("portside-local: {hint}");
        }
    }
}

fn log_failure(outcome: &Outcome) {
    // A failed init has been reported by the sandbox already.
    let e = match outcome {
        Outcome::Error(e) => e,
        Outcome::TimedOut(t) => &t.error,
        _ => return,
    };
    eprintln!("portside-local: {}", explain::failure(e));
}

async fn http_request(
    function: &Arc<Function>,
    cfg: &FrontDoorConfig,
    req: HttpRequest,
) -> Response<RespBody> {
    let head = req.method.eq_ignore_ascii_case("HEAD");
    let ctx = EventContext::new(&cfg.region);
    let mut event = events::to_event(cfg.source, &req, &ctx);
    if let Some(gate) = &cfg.auth {
        match gate.check(&req, &event, &ctx).await {
            crate::auth::Verdict::Pass(Some(authorizer)) => {
                event["requestContext"]["authorizer"] = authorizer
            }
            crate::auth::Verdict::Pass(None) => {}
            crate::auth::Verdict::Refuse(answer) => return respond(answer),
        }
    }
    deliver(function, cfg, event.to_string(), head).await
}

/// Invokes `function` with an HTTP event of `cfg`'s source and answers as
/// that source does: the result as a response, streamed when the source
/// streams, or the source's own answer for a failure (`head`: the request
/// was a HEAD).
pub async fn deliver(
    function: &Arc<Function>,
    cfg: &FrontDoorConfig,
    event: String,
    head: bool,
) -> Response<RespBody> {
    let opts = InvokeOptions::new().watch_stream(cfg.streams());
    let mut inv = match function.invoke_sync(Bytes::from(event), opts).await {
        Ok(inv) => inv,
        Err(InvokeRejected::PayloadTooLarge { .. }) => {
            return respond(answers::answer(cfg.source, Failure::RequestTooLarge))
        }
        Err(InvokeRejected::Throttled) => {
            return respond(answers::answer(cfg.source, Failure::Throttled))
        }
        Err(e) => return respond(HttpResponse::gateway_error(503, &e.message())),
    };
    if let Some(rx) = inv.stream.take() {
        if let Some(resp) = streamed(cfg.source, rx, head).await {
            return resp;
        }
    }
    let outcome = match cfg.integration_timeout {
        Some(limit) => match tokio::time::timeout(limit, inv.outcome()).await {
            Ok(outcome) => outcome,
            Err(_) => {
                // The function may go on running, as it does on Lambda.
                eprintln!(
                    "portside-local: the {} integration timed out after {:.1} s (the function is still running; its result will be dropped)",
                    cfg.source.name(),
                    limit.as_secs_f64()
                );
                return respond(answers::answer(cfg.source, Failure::IntegrationTimeout));
            }
        },
        None => inv.outcome().await,
    };
    log_failure(&outcome);
    let payload = match &outcome {
        Outcome::Response(b) => b.clone(),
        Outcome::Streamed(s) if cfg.streams() => {
            return match events::stream_head(cfg.source, s.prelude.as_deref(), head) {
                Ok(head) => respond(HttpResponse {
                    status: head.status,
                    headers: head.headers,
                    body: s.body.clone(),
                }),
                Err(e) => respond(bad_prelude(cfg.source, &e)),
            };
        }
        Outcome::Streamed(s) => s.raw.clone(),
        _ => return respond(answers::answer(cfg.source, Failure::Function)),
    };
    let resp = events::to_response(cfg.source, &payload, head);
    match over_result_limits(cfg.source, payload.len(), &resp) {
        Some(limit) => {
            eprintln!(
                "portside-local: {} is over the {} limit of {limit}",
                limit.what(),
                cfg.source.name()
            );
            respond(answers::answer(cfg.source, Failure::BadResult))
        }
        None => respond(resp),
    }
}

/// The source's limit on results (an ALB's 1 MB of JSON, 32 K of headers
/// as `name:value` CRLF each) that a result of `len` bytes answered as
/// `resp` is past, if any.
fn over_result_limits(source: Source, len: usize, resp: &HttpResponse) -> Option<Limit> {
    let block: usize = resp
        .headers
        .iter()
        .map(|(k, v)| k.len() + v.len() + 3)
        .sum();
    [
        (answers::result_limit(source), len),
        (answers::result_head_limit(source), block),
    ]
    .into_iter()
    .find_map(|(limit, size)| limit.filter(|l| size > l.max()))
}

fn bad_prelude(source: Source, e: &events::PreludeError) -> HttpResponse {
    let why = match e {
        events::PreludeError::Missing => {
            "the streamed response has no metadata prelude (a REST API needs one)".to_string()
        }
        events::PreludeError::TooLong(n) => format!(
            "the streamed response's metadata prelude is {n} bytes; API Gateway reads it only within the first {} bytes",
            events::REST_PRELUDE_LIMIT
        ),
        events::PreludeError::NotJson => {
            "the streamed response's prelude is not a JSON object".to_string()
        }
        events::PreludeError::NotStreamed => {
            format!("{} does not stream responses", source.title())
        }
    };
    eprintln!("portside-local: {why}");
    answers::answer(source, Failure::BadResult)
}

/// Forwards a streamed response as it arrives. `None` when the function
/// answered buffered after all (the caller maps the outcome).
async fn streamed(
    source: Source,
    mut rx: mpsc::Receiver<StreamEvent>,
    is_head: bool,
) -> Option<Response<RespBody>> {
    let mut first_body = None;
    let head = loop {
        match rx.recv().await? {
            StreamEvent::Started { content_type } => {
                if !PreludeSplitter::expects_prelude(content_type.as_deref()) {
                    let ct = content_type.as_deref();
                    break events::stream_head_with(source, None, ct, is_head);
                }
            }
            StreamEvent::Prelude(p) => break events::stream_head(source, Some(&p), is_head),
            StreamEvent::Body(b) => {
                first_body = Some(b);
                break events::stream_head(source, None, is_head);
            }
            StreamEvent::End { .. } => break events::stream_head(source, None, is_head),
            StreamEvent::Aborted { reason } => {
                eprintln!("portside-local: streamed response aborted: {reason}");
                return Some(respond(answers::answer(source, Failure::Function)));
            }
        }
    };
    let head = match head {
        Ok(head) => head,
        Err(e) => return Some(respond(bad_prelude(source, &e))),
    };
    let (tx, body_rx) = mpsc::channel(16);
    tokio::spawn(async move {
        if let Some(b) = first_body {
            if tx.send(Ok(b)).await.is_err() {
                return;
            }
        }
        while let Some(ev) = rx.recv().await {
            let item = match ev {
                StreamEvent::Body(b) => Ok(b),
                StreamEvent::End { error: None } => return,
                StreamEvent::End { error: Some(e) } => {
                    eprintln!(
                        "portside-local: the function reported an error mid-stream: {} {}",
                        e.error_type,
                        String::from_utf8_lossy(&e.error_body)
                    );
                    Err(std::io::Error::other(e.error_type))
                }
                StreamEvent::Aborted { reason } => {
                    eprintln!("portside-local: streamed response cut: {reason}");
                    Err(std::io::Error::other(reason))
                }
                _ => continue,
            };
            // An error ends the body abnormally: the client sees a cut stream.
            let last = item.is_err();
            if tx.send(item).await.is_err() || last {
                return;
            }
        }
    });
    let mut resp = Response::new(BoxBody::new(ChannelBody(body_rx)));
    *resp.status_mut() = http::StatusCode::from_u16(head.status).unwrap_or(http::StatusCode::OK);
    add_headers(&mut resp, &head.headers);
    Some(resp)
}
