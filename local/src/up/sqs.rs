//! Polling SQS queues in the stand-in, as Lambda's event source mapping
//! does ("Using Lambda with Amazon SQS"): long polls that gather up to
//! `batch_size` messages, or what came within the batching window; the
//! batch as the documented SQS event; messages deleted only when handled:
//! all of them after a success, none after an error or a timeout (they come
//! back once their visibility timeout passes, and the queue's own redrive
//! policy moves them to its dead-letter queue after `maxReceiveCount`),
//! and with `ReportBatchItemFailures` all but the ones the function names,
//! by the documented rules for a partial batch response. One batch at a
//! time per mapping.
//!
//! The queues `provision` made for a bucket's notifications are polled the
//! same way, one message per invocation, the body (moto's S3 event) as the
//! event, with Lambda's asynchronous retries: after the third failed
//! attempt the event is dropped, and said.
//!
//! Owns: the poll loop, the SQS event, the partial batch rules.
//! Must not: create queues.

use super::aws::Aws;
use super::provision::ASYNC_ATTEMPTS;
use crate::function::Function;
use crate::runtime_api::{InvokeOptions, Outcome};
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What a poller reads and where it sends it.
#[derive(Clone)]
pub struct Poller {
    /// The stand-in.
    pub aws: Aws,
    /// The queue's URL.
    pub url: String,
    /// The queue's ARN (`eventSourceARN`).
    pub arn: String,
    /// What the log calls the queue.
    pub queue_name: String,
    /// The function.
    pub function: Arc<Function>,
    /// The function's ARN.
    pub function_arn: String,
    /// Messages per batch.
    pub batch_size: usize,
    /// The batching window.
    pub window: Duration,
    /// `ReportBatchItemFailures`.
    pub report_failures: bool,
    /// Bucket notifications: one message per invocation, its body the event.
    pub notifications: bool,
}

/// How a batch ended, by message id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchResult {
    /// Every message was handled.
    AllHandled,
    /// These failed; the others were handled.
    Failed(Vec<String>),
    /// The whole batch failed.
    AllFailed(String),
}

/// Reads a function's answer to a batch ("Implementing partial batch
/// responses"): an empty or null answer, or an empty or null
/// `batchItemFailures`, is a success; an answer that is not JSON, or an
/// `itemIdentifier` that is missing, empty, not a string or not in the
/// batch, fails the whole batch.
pub fn partial_batch(payload: &[u8], ids: &[String]) -> BatchResult {
    let text = String::from_utf8_lossy(payload);
    if text.trim().is_empty() {
        return BatchResult::AllHandled;
    }
    let Ok(v) = serde_json::from_slice::<Value>(payload) else {
        return BatchResult::AllFailed("the partial batch response is not JSON".into());
    };
    let failures = match &v {
        Value::Null => return BatchResult::AllHandled,
        Value::Object(o) => match o.get("batchItemFailures") {
            None | Some(Value::Null) => return BatchResult::AllHandled,
            Some(Value::Array(list)) => list,
            Some(_) => return BatchResult::AllFailed("batchItemFailures is not a list".into()),
        },
        _ => return BatchResult::AllHandled,
    };
    let mut failed = Vec::new();
    for f in failures {
        match f.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if !id.is_empty() && ids.iter().any(|i| i == id) => {
                failed.push(id.to_string())
            }
            Some(id) if !id.is_empty() => {
                return BatchResult::AllFailed(format!(
                    "itemIdentifier {id:?} is not a message of the batch"
                ))
            }
            _ => {
                return BatchResult::AllFailed(
                    "an itemIdentifier is missing, empty or not a string".into(),
                )
            }
        }
    }
    if failed.is_empty() {
        BatchResult::AllHandled
    } else {
        BatchResult::Failed(failed)
    }
}

/// SQS's message attributes in the event's spelling.
fn message_attributes(m: &Value) -> Value {
    let mut out = Map::new();
    for (name, a) in m["MessageAttributes"].as_object().into_iter().flatten() {
        let mut attr = json!({
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": a["DataType"],
        });
        if let Some(s) = a["StringValue"].as_str() {
            attr["stringValue"] = Value::String(s.into());
        }
        if let Some(b) = a["BinaryValue"].as_str() {
            attr["binaryValue"] = Value::String(b.into());
        }
        out.insert(name.clone(), attr);
    }
    Value::Object(out)
}

/// One message as a record of Lambda's SQS event.
pub fn record(m: &Value, arn: &str, region: &str) -> Value {
    let mut r = json!({
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": m["Attributes"],
        "messageAttributes": message_attributes(m),
        "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    });
    if let Some(md5) = m["MD5OfMessageAttributes"].as_str() {
        r["md5OfMessageAttributes"] = Value::String(md5.into());
    }
    r
}

impl Poller {
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Value>, String> {
        let body = json!({
            "QueueUrl": self.url,
            "MaxNumberOfMessages": max.clamp(1, 10),
            "WaitTimeSeconds": wait.as_secs().min(20),
            "AttributeNames": ["All"],
            "MessageSystemAttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        });
        let r = self
            .aws
            .json(
                "sqs",
                "AmazonSQS.ReceiveMessage",
                &body,
                wait + Duration::from_secs(10),
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(r["Messages"].as_array().cloned().unwrap_or_default())
    }

    async fn delete(&self, messages: &[&Value]) {
        for chunk in messages.chunks(10) {
            let entries: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| json!({"Id": i.to_string(), "ReceiptHandle": m["ReceiptHandle"]}))
                .collect();
            let body = json!({"QueueUrl": self.url, "Entries": entries});
            if let Err(e) = self
                .aws
                .json(
                    "sqs",
                    "AmazonSQS.DeleteMessageBatch",
                    &body,
                    Duration::from_secs(30),
                )
                .await
            {
                eprintln!(
                    "portside-local up: cannot delete handled messages from {}: {e}",
                    self.queue_name
                );
            }
        }
    }

    /// Gathers a batch: up to `batch_size`, or what came within the window
    /// after the first message.
    async fn gather(&self) -> Result<Vec<Value>, String> {
        let mut batch: Vec<Value> = Vec::new();
        let mut first: Option<Instant> = None;
        let size = if self.notifications {
            1
        } else {
            self.batch_size
        };
        loop {
            let wait = match first {
                None => Duration::from_secs(20),
                Some(t) => self.window.saturating_sub(t.elapsed()),
            };
            // SQS long-polls in whole seconds: the window's last fraction
            // of a second is waited here, a little at a time, each followed
            // by a poll that does not wait.
            if first.is_some() && wait < Duration::from_secs(1) {
                tokio::time::sleep(wait.min(Duration::from_millis(100))).await;
            }
            let got = self.receive(size - batch.len(), wait).await?;
            if !got.is_empty() && first.is_none() {
                first = Some(Instant::now());
            }
            batch.extend(got);
            let window_over = first.is_some_and(|t| t.elapsed() >= self.window);
            if batch.len() >= size || (!batch.is_empty() && window_over) {
                return Ok(batch);
            }
        }
    }

    async fn invoke(&self, event: Value) -> Outcome {
        let opts = InvokeOptions::new().invoked_function_arn(self.function_arn.clone());
        match self
            .function
            .invoke(Bytes::from(event.to_string()), opts)
            .await
        {
            Ok(inv) => inv.outcome().await,
            Err(e) => Outcome::Error(crate::runtime_api::FunctionError::lambda(
                e.error_type(),
                &e.message(),
            )),
        }
    }

    async fn handle_batch(&self, batch: Vec<Value>) {
        let region = self.aws.region.clone();
        let records: Vec<Value> = batch
            .iter()
            .map(|m| record(m, &self.arn, &region))
            .collect();
        let ids: Vec<String> = batch
            .iter()
            .map(|m| m["MessageId"].as_str().unwrap_or("").to_string())
            .collect();
        let outcome = self.invoke(json!({ "Records": records })).await;
        let result = match &outcome {
            Outcome::Response(payload) if self.report_failures => partial_batch(payload, &ids),
            Outcome::Response(_) | Outcome::Streamed(_) => BatchResult::AllHandled,
            other => BatchResult::AllFailed(describe(other)),
        };
        let (handled, note): (Vec<&Value>, String) = match &result {
            BatchResult::AllHandled => (batch.iter().collect(), "all handled, deleted".into()),
            BatchResult::Failed(failed) => (
                batch.iter().filter(|m| !failed.iter().any(|f| m["MessageId"] == f.as_str())).collect(),
                format!("{} reported failed (batchItemFailures), left for a retry; the rest deleted", failed.len()),
            ),
            BatchResult::AllFailed(why) => (Vec::new(), format!("the batch failed ({why}): none deleted; they return after the visibility timeout")),
        };
        self.delete(&handled).await;
        eprintln!(
            "portside-local up: SQS {} -> {}: a batch of {}: {note}",
            self.queue_name,
            self.function.config().function_name,
            batch.len()
        );
    }

    async fn handle_notification(&self, message: Value) {
        let event: Value =
            serde_json::from_str(message["Body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
        // S3 sends a queue this test message when its notification is set
        // up; a function notified directly never gets it.
        if event["Event"] == "s3:TestEvent" {
            self.delete(&[&message]).await;
            return;
        }
        let outcome = self.invoke(event).await;
        let attempt: u32 = message["Attributes"]["ApproximateReceiveCount"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        let name = self.function.config().function_name.clone();
        match outcome {
            Outcome::Response(_) | Outcome::Streamed(_) => self.delete(&[&message]).await,
            other if attempt >= ASYNC_ATTEMPTS => {
                eprintln!("portside-local up: S3 {} -> {name}: attempt {attempt} failed ({}): dropped, as Lambda drops an asynchronous event after three attempts", self.queue_name, describe(&other));
                self.delete(&[&message]).await;
            }
            other => eprintln!("portside-local up: S3 {} -> {name}: attempt {attempt} failed ({}): retried in about a minute, as Lambda retries asynchronous events", self.queue_name, describe(&other)),
        }
    }

    /// Polls until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            let batch = tokio::select! {
                b = self.gather() => b,
                _ = stop.changed() => return,
            };
            match batch {
                Ok(batch) if self.notifications => {
                    for m in batch {
                        self.handle_notification(m).await;
                    }
                }
                Ok(batch) => self.handle_batch(batch).await,
                Err(e) => {
                    eprintln!("portside-local up: cannot poll {}: {e}", self.queue_name);
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                        _ = stop.changed() => return,
                    }
                }
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}

/// A failed outcome in a few words.
pub fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Error(e) => format!("{}: {}", e.error_type, e.error_message),
        Outcome::TimedOut(t) => format!("{}: {}", t.error.error_type, t.error.error_message),
        Outcome::InitError(e) => format!("init failed: {}", e.error_type),
        _ => "failed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["a".into(), "b".into(), "c".into()]
    }

    #[test]
    fn partial_batch_responses_by_the_documented_rules() {
        // "Implementing partial batch responses" (Lambda developer guide):
        // success cases...
        for ok in [
            "",
            "null",
            "{}",
            r#"{"batchItemFailures": []}"#,
            r#"{"batchItemFailures": null}"#,
        ] {
            assert_eq!(
                partial_batch(ok.as_bytes(), &ids()),
                BatchResult::AllHandled,
                "{ok}"
            );
        }
        assert_eq!(
            partial_batch(
                br#"{"batchItemFailures": [{"itemIdentifier": "b"}]}"#,
                &ids()
            ),
            BatchResult::Failed(vec!["b".into()])
        );
        // ...and complete failures.
        for bad in [
            "not json",
            r#"{"batchItemFailures": [{"itemIdentifier": ""}]}"#,
            r#"{"batchItemFailures": [{"itemIdentifier": null}]}"#,
            r#"{"batchItemFailures": [{"itemIdentifer": "a"}]}"#,
            r#"{"batchItemFailures": [{"itemIdentifier": "zzz"}]}"#,
        ] {
            assert!(
                matches!(
                    partial_batch(bad.as_bytes(), &ids()),
                    BatchResult::AllFailed(_)
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_message_becomes_the_documented_record() {
        let m = json!({
            "MessageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "ReceiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
            "MD5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "Body": "test",
            "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
            "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "x"}},
        });
        let r = record(
            &m,
            "arn:aws:sqs:us-east-2:123456789012:my-queue",
            "us-east-2",
        );
        assert_eq!(r["messageId"], "059f36b4-87a3-44ab-83d2-661975830a7d");
        assert_eq!(r["receiptHandle"], "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a");
        assert_eq!(r["body"], "test");
        assert_eq!(r["attributes"]["ApproximateReceiveCount"], "1");
        assert_eq!(r["messageAttributes"]["kind"]["stringValue"], "x");
        assert_eq!(r["messageAttributes"]["kind"]["dataType"], "String");
        assert_eq!(r["md5OfBody"], "e4e68fb7bd0e697a0ae8f1bb342846b3");
        assert_eq!(r["eventSource"], "aws:sqs");
        assert_eq!(
            r["eventSourceARN"],
            "arn:aws:sqs:us-east-2:123456789012:my-queue"
        );
        assert_eq!(r["awsRegion"], "us-east-2");
    }
}
