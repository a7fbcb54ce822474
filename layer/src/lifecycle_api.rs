//! Lambda's APIs for the lifecycle, outside the invocation loop: extension
//! registration and the extension event long-poll (the Extensions API), and
//! `/runtime/init/error` (the Runtime API's init side).
//!
//! Owns: those three requests and their wire formats (sent through the one
//! client, `client`, on a small pool of its own).
//! Must not: take part in invocations (`runtime_api` does).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde::Deserialize;

use crate::client::{self, Resend, Via};
use crate::config::ApiAddress;
use crate::error::PortsideError;
use crate::pool::{resolve, ConnectionPool};
use crate::runtime_api::OutBody;

/// A client for Lambda's APIs at one address.
pub struct LifecycleApi {
    address: ApiAddress,
    pool: ConnectionPool<OutBody>,
}

/// An event from the Extensions API.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ExtensionEvent {
    /// `INVOKE` or `SHUTDOWN`.
    #[serde(rename = "eventType")]
    pub event_type: String,
    /// Epoch milliseconds by which the extension must be done.
    #[serde(rename = "deadlineMs", default)]
    pub deadline_ms: u64,
    /// For SHUTDOWN: `spindown`, `timeout` or `failure`.
    #[serde(rename = "shutdownReason", default)]
    pub shutdown_reason: Option<String>,
}

impl LifecycleApi {
    /// A client for the API at `address`.
    pub fn new(address: &ApiAddress) -> Result<LifecycleApi, String> {
        Ok(LifecycleApi {
            pool: ConnectionPool::new(
                resolve(address.host(), address.port())
                    .map_err(|e| format!("cannot resolve {}: {e}", address.authority()))?,
                Duration::from_secs(60),
                2,
            ),
            address: address.clone(),
        })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<(StatusCode, HeaderMap, Bytes), String> {
        let build = || {
            let mut request = Request::builder()
                .method(method.clone())
                .uri(format!("{}{}", self.address.prefix(), path))
                .header(http::header::HOST, self.address.authority())
                .header(http::header::CONTENT_LENGTH, body.len());
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            request.body(OutBody::Full(Some(body.clone()))).ok()
        };
        let (response, connection) =
            client::send(&self.pool, Via::Pool, Resend::for_method(&method), build)
                .await
                .map_err(|e| format!("Lambda's API at {} failed: {e}", self.address.authority()))?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        self.pool.give_back(connection);
        Ok((parts.status, parts.headers, body))
    }

    /// Registers this process as an external extension for `events`; returns
    /// its identifier.
    pub async fn register_extension(&self, name: &str, events: &[&str]) -> Result<String, String> {
        #[derive(serde::Serialize)]
        struct Registration<'a> {
            events: &'a [&'a str],
        }
        let body = serde_json::to_vec(&Registration { events }).map_err(|e| e.to_string())?;
        let (status, headers, body) = self
            .call(
                Method::POST,
                "/2020-01-01/extension/register",
                &[
                    ("Lambda-Extension-Name", name),
                    ("Content-Type", "application/json"),
                ],
                Bytes::from(body),
            )
            .await?;
        client::expect_success("registration", status, &body)?;
        headers
            .get("lambda-extension-identifier")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| {
                "registration answered without a Lambda-Extension-Identifier".to_string()
            })
    }

    /// Waits for the next extension event.
    pub async fn next_extension_event(&self, id: &str) -> Result<ExtensionEvent, String> {
        let (status, _, body) = self
            .call(
                Method::GET,
                "/2020-01-01/extension/event/next",
                &[("Lambda-Extension-Identifier", id)],
                Bytes::new(),
            )
            .await?;
        client::expect_success("event/next", status, &body)?;
        serde_json::from_slice(&body)
            .map_err(|e| format!("event/next answered with an unreadable event: {e}"))
    }

    /// Reports a failed init, so Lambda records why.
    pub async fn init_error(&self, error: &PortsideError) -> Result<(), String> {
        let body = error.document();
        let (status, _, body) = self
            .call(
                Method::POST,
                "/2018-06-01/runtime/init/error",
                &[
                    ("Lambda-Runtime-Function-Error-Type", error.error_type()),
                    ("Content-Type", "application/json"),
                ],
                Bytes::from(body),
            )
            .await?;
        client::expect_success("init/error", status, &body)
    }
}
