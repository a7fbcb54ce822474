//! A small client for the local AWS stand-in (moto, or whatever
//! `AWS_ENDPOINT_URL` names): AWS's JSON protocol (SQS, DynamoDB, DynamoDB
//! Streams: a POST with `X-Amz-Target`) and S3's REST API, one connection
//! per request. Requests carry an `Authorization` header in SigV4's shape
//! with test credentials, from which the stand-in reads the service and
//! region; nothing is really signed, so it must never point at AWS itself
//! (it cannot: `up` only talks to loopback or the user's own emulator).
//!
//! Owns: the wire format of those calls and [`AwsError`].
//! Must not: know what the stack holds.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use std::time::Duration;

/// A failed call: the status and AWS's error code, or a connection error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The HTTP status (0: no answer).
    pub status: u16,
    /// AWS's error code (`QueueDoesNotExist`, `ResourceInUseException`...).
    pub code: String,
    /// The message.
    pub message: String,
}

impl AwsError {
    fn io(message: String) -> AwsError {
        AwsError {
            status: 0,
            code: String::new(),
            message,
        }
    }

    /// The resource exists already (creating it again is harmless).
    pub fn is_already_exists(&self) -> bool {
        [
            "AlreadyExists",
            "ResourceInUse",
            "BucketAlreadyOwnedByYou",
            "QueueNameExists",
        ]
        .iter()
        .any(|c| self.code.contains(c))
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            0 => write!(f, "{}", self.message),
            s => write!(f, "{s} {}: {}", self.code, self.message),
        }
    }
}

/// The stand-in at one endpoint.
#[derive(Debug, Clone)]
pub struct Aws {
    /// `http://127.0.0.1:5000`.
    pub endpoint: String,
    /// The region requests are for.
    pub region: String,
}

/// `&`, `<`, `>`, quotes escaped for an XML text node or attribute.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

impl Aws {
    fn authority(&self) -> Result<String, AwsError> {
        let rest = self.endpoint.strip_prefix("http://").ok_or_else(|| {
            AwsError::io(format!(
                "{}: only http:// endpoints are supported",
                self.endpoint
            ))
        })?;
        Ok(rest.trim_end_matches('/').to_string())
    }

    fn authorization(&self, service: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=testing/20260101/{}/{service}/aws4_request, SignedHeaders=host, Signature=0",
            self.region
        )
    }

    /// One request; the status, the `x-amzn-errortype`-or-body error code
    /// on failure, and the body.
    async fn send(
        &self,
        req: http::Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<(u16, Bytes), AwsError> {
        let authority = self.authority()?;
        let work = async {
            let stream = tokio::net::TcpStream::connect(&authority)
                .await
                .map_err(|e| AwsError::io(format!("cannot reach {}: {e}", self.endpoint)))?;
            let _ = stream.set_nodelay(true);
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .map_err(|e| AwsError::io(format!("{}: {e}", self.endpoint)))?;
            tokio::spawn(conn);
            let resp = sender
                .send_request(req)
                .await
                .map_err(|e| AwsError::io(format!("{}: {e}", self.endpoint)))?;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| AwsError::io(format!("{}: {e}", self.endpoint)))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(timeout, work).await.map_err(|_| {
            AwsError::io(format!(
                "{} did not answer within {} s",
                self.endpoint,
                timeout.as_secs()
            ))
        })?
    }

    /// A call of AWS's JSON protocol: `target` is `AmazonSQS.ReceiveMessage`,
    /// `DynamoDB_20120810.CreateTable`...
    pub async fn json(
        &self,
        service: &str,
        target: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<Value, AwsError> {
        let authority = self.authority()?;
        let req = http::Request::post(format!("{}/", self.endpoint))
            .header("host", authority)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", target)
            .header("authorization", self.authorization(service))
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| AwsError::io(e.to_string()))?;
        let (status, body) = self.send(req, timeout).await?;
        let parsed: Value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body).unwrap_or(Value::Null)
        };
        if (200..300).contains(&status) {
            return Ok(parsed);
        }
        let code = parsed["__type"]
            .as_str()
            .unwrap_or("")
            .rsplit('#')
            .next()
            .unwrap_or("")
            .to_string();
        let message = parsed["message"]
            .as_str()
            .or(parsed["Message"].as_str())
            .unwrap_or("")
            .to_string();
        Err(AwsError {
            status,
            code,
            message: if message.is_empty() {
                String::from_utf8_lossy(&body).chars().take(300).collect()
            } else {
                message
            },
        })
    }

    /// An S3 REST call: `path` includes the bucket and any query
    /// (`/bucket?notification`).
    pub async fn s3(
        &self,
        method: http::Method,
        path: &str,
        body: String,
    ) -> Result<Bytes, AwsError> {
        let authority = self.authority()?;
        let req = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.endpoint))
            .header("host", authority)
            .header("authorization", self.authorization("s3"))
            .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| AwsError::io(e.to_string()))?;
        let (status, body) = self.send(req, Duration::from_secs(30)).await?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let text = String::from_utf8_lossy(&body);
        let tag = |t: &str| {
            text.split(&format!("<{t}>"))
                .nth(1)
                .and_then(|r| r.split(&format!("</{t}>")).next())
                .unwrap_or("")
                .to_string()
        };
        Err(AwsError {
            status,
            code: tag("Code"),
            message: tag("Message"),
        })
    }

    /// Whether anything answers HTTP at the endpoint.
    pub async fn answers(&self) -> bool {
        let Ok(authority) = self.authority() else {
            return false;
        };
        let Ok(req) = http::Request::get(format!("{}/moto-api/", self.endpoint))
            .header("host", authority)
            .body(Full::new(Bytes::new()))
        else {
            return false;
        };
        self.send(req, Duration::from_secs(2)).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_tell_what_they_are() {
        let e = AwsError {
            status: 400,
            code: "ResourceInUseException".into(),
            message: "Table already exists".into(),
        };
        assert!(e.is_already_exists());
        assert_eq!(
            e.to_string(),
            "400 ResourceInUseException: Table already exists"
        );
        assert!(!AwsError::io("cannot reach".into()).is_already_exists());
        assert_eq!(xml_escape("a<b&\"c\""), "a&lt;b&amp;&quot;c&quot;");
    }
}
