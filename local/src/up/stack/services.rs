//! The AWS resources the stand-in plays: S3 buckets (versioning, and their
//! notifications to functions and queues), SQS queues (attributes, redrive
//! policy), DynamoDB tables (keys, indexes, stream).

use super::{s, Context, Stack};
use crate::up::plan::Resource;
use serde_json::Value;

/// Where an S3 notification goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationTarget {
    /// A function of the stack (index into [`Stack::functions`]).
    Function(usize),
    /// A queue, by ARN (the stand-in sends to it itself).
    Queue(String),
}

/// One notification configuration of a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueNotification {
    /// The notification's id.
    pub id: String,
    /// `s3:ObjectCreated:*`...
    pub events: Vec<String>,
    /// The key prefix filter.
    pub prefix: String,
    /// The key suffix filter.
    pub suffix: String,
    /// Where it goes.
    pub target: NotificationTarget,
    /// The `aws_s3_bucket_notification`'s address.
    pub address: String,
}

/// An S3 bucket.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// Its address.
    pub address: String,
    /// Its name.
    pub name: String,
    /// Versioning enabled.
    pub versioned: bool,
    /// Its notifications.
    pub notifications: Vec<QueueNotification>,
}

/// An SQS queue.
#[derive(Debug, Clone)]
pub struct Queue {
    /// Its address.
    pub address: String,
    /// Its name.
    pub name: String,
    /// Its URL in the stand-in.
    pub url: String,
    /// Its ARN.
    pub arn: String,
    /// Attributes to create it with (`VisibilityTimeout`, `RedrivePolicy`...).
    pub attributes: Vec<(String, String)>,
}

/// A DynamoDB table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Its address.
    pub address: String,
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// Its stream's ARN (as the plan names it), when streams are on.
    pub stream_arn: Option<String>,
    /// The CreateTable request (DynamoDB's JSON), made from the plan.
    pub create: Value,
}

fn number_attr(r: &Resource, key: &str, name: &str, out: &mut Vec<(String, String)>) {
    if let Some(n) = r.values[key].as_i64() {
        out.push((name.to_string(), n.to_string()));
    }
}

fn queue(r: &Resource, policies: &[&Resource]) -> Queue {
    let mut attributes = Vec::new();
    number_attr(
        r,
        "visibility_timeout_seconds",
        "VisibilityTimeout",
        &mut attributes,
    );
    number_attr(
        r,
        "message_retention_seconds",
        "MessageRetentionPeriod",
        &mut attributes,
    );
    number_attr(r, "delay_seconds", "DelaySeconds", &mut attributes);
    number_attr(
        r,
        "receive_wait_time_seconds",
        "ReceiveMessageWaitTimeSeconds",
        &mut attributes,
    );
    number_attr(r, "max_message_size", "MaximumMessageSize", &mut attributes);
    if r.values["fifo_queue"] == true {
        attributes.push(("FifoQueue".into(), "true".into()));
        if r.values["content_based_deduplication"] == true {
            attributes.push(("ContentBasedDeduplication".into(), "true".into()));
        }
    }
    let url = s(r, "url").to_string();
    // The redrive policy on the queue, or in its own resource.
    let redrive = policies
        .iter()
        .find(|p| s(p, "queue_url") == url)
        .map(|p| s(p, "redrive_policy"))
        .unwrap_or_else(|| s(r, "redrive_policy"));
    if !redrive.is_empty() {
        attributes.push(("RedrivePolicy".into(), redrive.to_string()));
    }
    Queue {
        address: r.address.clone(),
        name: s(r, "name").to_string(),
        url,
        arn: s(r, "arn").to_string(),
        attributes,
    }
}

fn key_schema(hash: &str, range: &str) -> Value {
    let mut keys = vec![serde_json::json!({"AttributeName": hash, "KeyType": "HASH"})];
    if !range.is_empty() {
        keys.push(serde_json::json!({"AttributeName": range, "KeyType": "RANGE"}));
    }
    Value::Array(keys)
}

fn index(i: &Value) -> Value {
    let projection = match i["projection_type"].as_str().unwrap_or("ALL") {
        "INCLUDE" => {
            serde_json::json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": i["non_key_attributes"]})
        }
        other => serde_json::json!({"ProjectionType": other}),
    };
    serde_json::json!({
        "IndexName": i["name"],
        "KeySchema": key_schema(i["hash_key"].as_str().unwrap_or(""), i["range_key"].as_str().unwrap_or("")),
        "Projection": projection,
    })
}

fn table(r: &Resource) -> Table {
    let attributes: Vec<Value> = r.values["attribute"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| serde_json::json!({"AttributeName": a["name"], "AttributeType": a["type"]}))
        .collect();
    let mut create = serde_json::json!({
        "TableName": s(r, "name"),
        "AttributeDefinitions": attributes,
        "KeySchema": key_schema(s(r, "hash_key"), s(r, "range_key")),
        "BillingMode": "PAY_PER_REQUEST",
    });
    let gsi: Vec<Value> = r.values["global_secondary_index"]
        .as_array()
        .into_iter()
        .flatten()
        .map(index)
        .collect();
    if !gsi.is_empty() {
        create["GlobalSecondaryIndexes"] = Value::Array(gsi);
    }
    let lsi: Vec<Value> = r.values["local_secondary_index"]
        .as_array()
        .into_iter()
        .flatten()
        .map(index)
        .collect();
    if !lsi.is_empty() {
        create["LocalSecondaryIndexes"] = Value::Array(lsi);
    }
    let streams = r.values["stream_enabled"] == true;
    if streams {
        create["StreamSpecification"] = serde_json::json!({
            "StreamEnabled": true,
            "StreamViewType": r.values["stream_view_type"].as_str().unwrap_or("NEW_AND_OLD_IMAGES"),
        });
    }
    Table {
        address: r.address.clone(),
        name: s(r, "name").to_string(),
        arn: s(r, "arn").to_string(),
        stream_arn: streams.then(|| s(r, "stream_arn").to_string()),
        create,
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn notifications(cx: &Context<'_>, stack: &mut Stack, bucket: &str) -> Vec<QueueNotification> {
    let mut out = Vec::new();
    for n in cx
        .plan
        .of("aws_s3_bucket_notification")
        .filter(|n| s(n, "bucket") == bucket)
    {
        for (block, key) in [
            ("lambda_function", "lambda_function_arn"),
            ("queue", "queue_arn"),
        ] {
            for c in n.values[block].as_array().into_iter().flatten() {
                let arn = c[key].as_str().unwrap_or("");
                let target = if block == "queue" {
                    NotificationTarget::Queue(arn.to_string())
                } else if let Some(f) = stack.function_ref(arn) {
                    NotificationTarget::Function(f)
                } else {
                    stack.findings.refuse(
                        &n.address,
                        format!("notifies {arn}, which is not a function up runs: not delivered"),
                    );
                    continue;
                };
                out.push(QueueNotification {
                    id: c["id"].as_str().unwrap_or("").to_string(),
                    events: strings(&c["events"]),
                    prefix: c["filter_prefix"].as_str().unwrap_or("").to_string(),
                    suffix: c["filter_suffix"].as_str().unwrap_or("").to_string(),
                    target,
                    address: n.address.clone(),
                });
            }
        }
        for t in n.values["topic"].as_array().into_iter().flatten() {
            stack.findings.not_emulated(
                &n.address,
                format!(
                    "notifications to the SNS topic {} are not emulated",
                    t["topic_arn"].as_str().unwrap_or("")
                ),
            );
        }
        if n.values["eventbridge"] == true {
            stack
                .findings
                .not_emulated(&n.address, "notifications to EventBridge are not emulated");
        }
    }
    out
}

/// Reads buckets, queues and tables.
pub(super) fn read(cx: &Context<'_>, stack: &mut Stack) {
    let buckets: Vec<&Resource> = cx.plan.of("aws_s3_bucket").collect();
    for b in buckets {
        let name = s(b, "bucket").to_string();
        let versioned = cx.plan.of("aws_s3_bucket_versioning").any(|v| {
            s(v, "bucket") == name && v.block("versioning_configuration")["status"] == "Enabled"
        }) || b.block("versioning")["enabled"] == true;
        let notifications = notifications(cx, stack, &name);
        stack.buckets.push(Bucket {
            address: b.address.clone(),
            name,
            versioned,
            notifications,
        });
    }
    let policies: Vec<&Resource> = cx.plan.of("aws_sqs_queue_redrive_policy").collect();
    for q in cx.plan.of("aws_sqs_queue") {
        stack.queues.push(queue(q, &policies));
    }
    for t in cx.plan.of("aws_dynamodb_table") {
        stack.tables.push(table(t));
    }
}
