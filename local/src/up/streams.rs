//! Polling a DynamoDB table's stream in the stand-in, as Lambda's event
//! source mapping does: the stream's shards read from the trim horizon or
//! the latest record (`starting_position`), up to `batch_size` records per
//! invocation, the records as the stand-in's DynamoDB Streams API returns
//! them (with `eventSourceARN`), in order; a failed batch is retried, the
//! shard held behind it, until it succeeds or `maximum_retry_attempts` is
//! spent (then skipped, and said). A second between empty reads.
//!
//! Owns: the stream poll loop.
//! Must not: create tables.

use super::aws::Aws;
use super::sqs::describe;
use crate::function::Function;
use crate::runtime_api::{InvokeOptions, Outcome};
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const TARGET: &str = "DynamoDBStreams_20120810";

/// One mapping's poller.
pub struct StreamPoller {
    /// The stand-in.
    pub aws: Aws,
    /// The table.
    pub table: String,
    /// The function.
    pub function: Arc<Function>,
    /// Records per invocation.
    pub batch_size: usize,
    /// From the trim horizon (else the latest record).
    pub from_start: bool,
    /// Retries of a failed batch (`None`: until it succeeds).
    pub max_retries: Option<u32>,
}

impl StreamPoller {
    async fn call(&self, op: &str, body: Value) -> Result<Value, String> {
        self.aws
            .json(
                "dynamodb",
                &format!("{TARGET}.{op}"),
                &body,
                Duration::from_secs(30),
            )
            .await
            .map_err(|e| e.to_string())
    }

    async fn stream_arn(&self) -> Result<String, String> {
        let t = self
            .aws
            .json(
                "dynamodb",
                "DynamoDB_20120810.DescribeTable",
                &json!({"TableName": self.table}),
                Duration::from_secs(30),
            )
            .await
            .map_err(|e| e.to_string())?;
        t["Table"]["LatestStreamArn"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("the table {} has no stream", self.table))
    }

    async fn iterator(&self, arn: &str) -> Result<String, String> {
        let d = self
            .call("DescribeStream", json!({"StreamArn": arn}))
            .await?;
        let shard = d["StreamDescription"]["Shards"][0]["ShardId"]
            .as_str()
            .ok_or("the stream has no shard")?
            .to_string();
        let kind = if self.from_start {
            "TRIM_HORIZON"
        } else {
            "LATEST"
        };
        let i = self
            .call(
                "GetShardIterator",
                json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": kind}),
            )
            .await?;
        i["ShardIterator"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| "no shard iterator".into())
    }

    /// Invokes until the batch succeeds or the retries are spent.
    async fn deliver(&self, records: Vec<Value>, arn: &str) {
        let records: Vec<Value> = records
            .into_iter()
            .map(|mut r| {
                r["eventSourceARN"] = Value::String(arn.to_string());
                r
            })
            .collect();
        let event = json!({ "Records": records }).to_string();
        let name = self.function.config().function_name.clone();
        let mut attempt = 0u32;
        loop {
            let outcome = match self
                .function
                .invoke(Bytes::from(event.clone()), InvokeOptions::new())
                .await
            {
                Ok(inv) => inv.outcome().await,
                Err(e) => Outcome::Error(crate::runtime_api::FunctionError::lambda(
                    e.error_type(),
                    &e.message(),
                )),
            };
            match outcome {
                Outcome::Response(_) | Outcome::Streamed(_) => return,
                other if self.max_retries.is_some_and(|m| attempt >= m) => {
                    eprintln!("portside-local up: stream of {} -> {name}: failed ({}), retries spent: {} records skipped", self.table, describe(&other), records.len());
                    return;
                }
                other => {
                    attempt += 1;
                    eprintln!("portside-local up: stream of {} -> {name}: failed ({}): retried (attempt {})", self.table, describe(&other), attempt + 1);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    async fn poll(&self) -> Result<(), String> {
        let arn = self.stream_arn().await?;
        let mut iterator = self.iterator(&arn).await?;
        loop {
            let r = self
                .call(
                    "GetRecords",
                    json!({"ShardIterator": iterator, "Limit": self.batch_size}),
                )
                .await?;
            let records = r["Records"].as_array().cloned().unwrap_or_default();
            if !records.is_empty() {
                self.deliver(records, &arn).await;
            } else {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            match r["NextShardIterator"].as_str() {
                Some(next) => iterator = next.to_string(),
                None => return Ok(()),
            }
        }
    }

    /// Polls until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            let result = tokio::select! {
                r = self.poll() => r,
                _ = stop.changed() => return,
            };
            if let Err(e) = result {
                eprintln!(
                    "portside-local up: cannot read the stream of {}: {e}",
                    self.table
                );
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                _ = stop.changed() => return,
            }
        }
    }
}
