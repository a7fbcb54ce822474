//! Creates the stack's buckets, queues and tables in the AWS stand-in, from
//! the plan's values: queues with their attributes (the redrive policy set
//! once every queue exists, as a dead-letter queue must), tables with their
//! keys, indexes and stream, buckets with versioning and their notification
//! configuration.
//!
//! A bucket notification to a function cannot go to the stand-in's own
//! Lambda (moto would run it in Docker), so `up` turns it into a
//! notification to a queue of its own, with the same events and filters:
//! moto then makes the S3 event itself, and `triggers` hands each message's
//! body to the function as the event, with Lambda's asynchronous retries
//! (two more attempts, a minute apart, then dropped, said in the log).
//!
//! Owns: the calls that create resources, the notification queues.
//! Must not: poll or invoke.

use super::aws::{xml_escape, Aws, AwsError};
use super::identity::token;
use super::stack::{NotificationTarget, Stack};
use serde_json::{json, Value};
use std::time::Duration;

/// A queue `up` made to receive a bucket's notifications for a function.
#[derive(Debug, Clone)]
pub struct NotificationQueue {
    /// Its URL.
    pub url: String,
    /// The bucket.
    pub bucket: String,
    /// The function (index into [`Stack::functions`]).
    pub function: usize,
}

/// What provisioning made besides the stack's own resources.
#[derive(Debug, Default)]
pub struct Provisioned {
    /// The notification queues.
    pub notification_queues: Vec<NotificationQueue>,
}

/// How often Lambda tries an asynchronous event (the first try and two
/// retries), and the pause between tries.
pub const ASYNC_ATTEMPTS: u32 = 3;
/// See [`ASYNC_ATTEMPTS`].
pub const ASYNC_RETRY_PAUSE: Duration = Duration::from_secs(60);

const CALL: Duration = Duration::from_secs(30);

fn ok_if_exists(r: Result<Value, AwsError>) -> Result<Value, AwsError> {
    match r {
        Err(e) if e.is_already_exists() => Ok(Value::Null),
        other => other,
    }
}

async fn create_queue(
    aws: &Aws,
    name: &str,
    attributes: &[(String, String)],
) -> Result<String, String> {
    let attrs: serde_json::Map<String, Value> = attributes
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let r = aws
        .json(
            "sqs",
            "AmazonSQS.CreateQueue",
            &json!({"QueueName": name, "Attributes": attrs}),
            CALL,
        )
        .await
        .map_err(|e| format!("cannot create the queue {name}: {e}"))?;
    Ok(r["QueueUrl"].as_str().unwrap_or_default().to_string())
}

async fn queues(aws: &Aws, stack: &Stack) -> Result<(), String> {
    for q in &stack.queues {
        let first: Vec<(String, String)> = q
            .attributes
            .iter()
            .filter(|(k, _)| k != "RedrivePolicy")
            .cloned()
            .collect();
        create_queue(aws, &q.name, &first).await?;
    }
    for q in &stack.queues {
        if let Some((_, policy)) = q.attributes.iter().find(|(k, _)| k == "RedrivePolicy") {
            aws.json(
                "sqs",
                "AmazonSQS.SetQueueAttributes",
                &json!({"QueueUrl": q.url, "Attributes": {"RedrivePolicy": policy}}),
                CALL,
            )
            .await
            .map_err(|e| {
                format!(
                    "cannot set the redrive policy of {} ({}): {e}",
                    q.name, q.address
                )
            })?;
        }
    }
    Ok(())
}

async fn tables(aws: &Aws, stack: &Stack) -> Result<(), String> {
    for t in &stack.tables {
        ok_if_exists(
            aws.json("dynamodb", "DynamoDB_20120810.CreateTable", &t.create, CALL)
                .await,
        )
        .map_err(|e| format!("cannot create the table {} ({}): {e}", t.name, t.address))?;
    }
    Ok(())
}

fn filter_xml(prefix: &str, suffix: &str) -> String {
    let mut rules = String::new();
    for (name, value) in [("prefix", prefix), ("suffix", suffix)] {
        if !value.is_empty() {
            rules.push_str(&format!(
                "<FilterRule><Name>{name}</Name><Value>{}</Value></FilterRule>",
                xml_escape(value)
            ));
        }
    }
    if rules.is_empty() {
        String::new()
    } else {
        format!("<Filter><S3Key>{rules}</S3Key></Filter>")
    }
}

/// The bucket's notification configuration, and the queues made for its
/// notifications to functions.
async fn notifications(
    aws: &Aws,
    stack: &Stack,
    bucket: usize,
    made: &mut Provisioned,
) -> Result<(), String> {
    let b = &stack.buckets[bucket];
    if b.notifications.is_empty() {
        return Ok(());
    }
    let mut xml = String::from(
        r#"<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#,
    );
    for (i, n) in b.notifications.iter().enumerate() {
        let queue_arn = match &n.target {
            NotificationTarget::Queue(arn) => arn.clone(),
            NotificationTarget::Function(f) => {
                let name = format!("portside-up-s3-{}", token(&format!("{}#{i}", b.name)));
                let url = create_queue(
                    aws,
                    &name,
                    &[(
                        "VisibilityTimeout".into(),
                        ASYNC_RETRY_PAUSE.as_secs().to_string(),
                    )],
                )
                .await?;
                made.notification_queues.push(NotificationQueue {
                    url,
                    bucket: b.name.clone(),
                    function: *f,
                });
                format!(
                    "arn:aws:sqs:{}:{}:{name}",
                    aws.region,
                    super::identity::ACCOUNT
                )
            }
        };
        let id = if n.id.is_empty() {
            format!("notification-{i}")
        } else {
            n.id.clone()
        };
        xml.push_str(&format!(
            "<QueueConfiguration><Id>{}</Id><Queue>{}</Queue>",
            xml_escape(&id),
            xml_escape(&queue_arn)
        ));
        for e in &n.events {
            xml.push_str(&format!("<Event>{}</Event>", xml_escape(e)));
        }
        xml.push_str(&filter_xml(&n.prefix, &n.suffix));
        xml.push_str("</QueueConfiguration>");
    }
    xml.push_str("</NotificationConfiguration>");
    aws.s3(http::Method::PUT, &format!("/{}?notification", b.name), xml)
        .await
        .map_err(|e| format!("cannot set the notifications of {}: {e}", b.name))?;
    Ok(())
}

async fn buckets(aws: &Aws, stack: &Stack, made: &mut Provisioned) -> Result<(), String> {
    for (i, b) in stack.buckets.iter().enumerate() {
        let body = if aws.region == "us-east-1" {
            String::new()
        } else {
            format!(
                r#"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>"#,
                aws.region
            )
        };
        match aws
            .s3(http::Method::PUT, &format!("/{}", b.name), body)
            .await
        {
            Err(e) if !e.is_already_exists() => {
                return Err(format!(
                    "cannot create the bucket {} ({}): {e}",
                    b.name, b.address
                ))
            }
            _ => {}
        }
        if b.versioned {
            let xml = r#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>"#;
            aws.s3(
                http::Method::PUT,
                &format!("/{}?versioning", b.name),
                xml.into(),
            )
            .await
            .map_err(|e| format!("cannot turn versioning on for {}: {e}", b.name))?;
        }
        notifications(aws, stack, i, made).await?;
    }
    Ok(())
}

/// Creates everything, queues first (notifications name them).
pub async fn provision(aws: &Aws, stack: &Stack) -> Result<Provisioned, String> {
    let mut made = Provisioned::default();
    queues(aws, stack).await?;
    tables(aws, stack).await?;
    buckets(aws, stack, &mut made).await?;
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_as_s3_documents_them() {
        assert_eq!(filter_xml("", ""), "");
        assert_eq!(
            filter_xml("team/", ".csv"),
            "<Filter><S3Key><FilterRule><Name>prefix</Name><Value>team/</Value></FilterRule><FilterRule><Name>suffix</Name><Value>.csv</Value></FilterRule></S3Key></Filter>"
        );
    }
}
