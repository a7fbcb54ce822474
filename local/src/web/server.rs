//! The endpoint's listener on 127.0.0.1 and the path of one request
//! through it: refused before the app when the endpoint does not take it
//! (`request::refusal`), given a place in an environment or throttled at
//! once (`fleet`), its whole body read while the environment starts, then
//! forwarded within the per-request timeout (`proxy`).
//!
//! Owns: accepting connections (HTTP/1 only) and the order of the steps.
//! Must not: hold the rules of any step.

use super::answers::Answer;
use super::fleet::{Fleet, NoPlace};
use super::ids;
use super::options::WebConfig;
use super::proxy::{self, OutBody, Outgoing};
use super::request;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Header lines a request may carry (Lambda quotas for Web Functions:
/// 6,300 per request); past them hyper answers 431.
pub const MAX_HEADERS: usize = 6_300;

/// What every request needs.
#[derive(Debug)]
pub struct Endpoint {
    /// The settings.
    pub cfg: Arc<WebConfig>,
    /// The environments.
    pub fleet: Arc<Fleet>,
}

/// Accepts connections until the task is dropped.
pub async fn serve(listener: TcpListener, endpoint: Arc<Endpoint>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let endpoint = Arc::clone(&endpoint);
        tokio::spawn(async move {
            let client = peer.ip();
            let service = hyper::service::service_fn(move |req| {
                let endpoint = Arc::clone(&endpoint);
                async move { Ok::<_, Infallible>(handle(req, client, endpoint).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .max_headers(MAX_HEADERS)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// One request, from the client's head to the response the client gets.
async fn handle(req: Request<Incoming>, client: IpAddr, ep: Arc<Endpoint>) -> Response<OutBody> {
    let id = ids::request_id();
    if let Some(a) = request::refusal(req.version(), req.method(), req.headers()) {
        return proxy::answer(&a, &id, None);
    }
    let slot = match ep.fleet.reserve() {
        Ok(s) => s,
        Err(NoPlace::Throttled) => return proxy::answer(&Answer::Throttled, &id, None),
        Err(NoPlace::Stopping) => return proxy::answer(&Answer::Stopping, &id, None),
    };
    let stream = slot.instance.log_stream.clone();
    let (parts, body) = req.into_parts();
    // The whole body, read while the environment starts if it must.
    let (body, ready) = tokio::join!(body.collect(), slot.instance.ready());
    if let Err(a) = ready {
        return proxy::answer(&a, &id, Some(&stream));
    }
    let Ok(body) = body.map(|b| b.to_bytes()) else {
        // The client went away mid-body: nobody reads this answer.
        return proxy::answer(&Answer::IncompleteBody, &id, None);
    };
    let headers = request::to_app(
        &parts.headers,
        client,
        &id,
        &ep.cfg.endpoint_name,
        body.len(),
    );
    let out = Outgoing {
        method: parts.method,
        uri: parts.uri,
        headers,
        body,
    };
    let deadline = tokio::time::Instant::now() + ep.cfg.timeout;
    proxy::forward(slot, out, &id, deadline).await
}
