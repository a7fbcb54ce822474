//! Triggers: `aws_lambda_event_source_mapping` from SQS queues and
//! DynamoDB streams (others, such as Kinesis, Kafka or MQ, are listed as
//! not emulated), and EventBridge schedules (`aws_cloudwatch_event_rule`
//! with `rate()`/`cron()` and an `aws_cloudwatch_event_target` that is a
//! function of the stack). Rules with event patterns are listed as not
//! emulated.

use super::{s, Context, Stack};
use crate::up::plan::Resource;
use std::time::Duration;

/// An SQS event source mapping.
#[derive(Debug, Clone)]
pub struct QueueMapping {
    /// Its address.
    pub address: String,
    /// The queue (index into [`Stack::queues`]).
    pub queue: usize,
    /// The function (index into [`Stack::functions`]).
    pub function: usize,
    /// `batch_size` (Lambda's default for SQS: 10).
    pub batch_size: usize,
    /// `maximum_batching_window_in_seconds`.
    pub window: Duration,
    /// `function_response_types` has `ReportBatchItemFailures`.
    pub report_failures: bool,
}

/// A DynamoDB stream event source mapping.
#[derive(Debug, Clone)]
pub struct StreamMapping {
    /// Its address.
    pub address: String,
    /// The table (index into [`Stack::tables`]).
    pub table: usize,
    /// The function.
    pub function: usize,
    /// `batch_size` (Lambda's default for streams: 100).
    pub batch_size: usize,
    /// `starting_position` is `TRIM_HORIZON` (else `LATEST`).
    pub from_start: bool,
    /// `maximum_retry_attempts` (-1 or absent: until the record expires).
    pub max_retries: Option<u32>,
}

/// An EventBridge schedule with a function target.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The rule's address.
    pub address: String,
    /// The rule's name.
    pub name: String,
    /// The rule's ARN.
    pub arn: String,
    /// `rate(...)` or `cron(...)`.
    pub expression: String,
    /// The function.
    pub function: usize,
    /// The target's `input` (a constant event), if set.
    pub input: Option<String>,
    /// The rule is enabled.
    pub enabled: bool,
}

fn mapping(cx: &Context<'_>, stack: &mut Stack, m: &Resource) {
    let source = s(m, "event_source_arn");
    let Some(function) = stack.function_ref(s(m, "function_name")) else {
        stack.findings.refuse(
            &m.address,
            format!(
                "maps {source} to {}, which up does not run: not polled",
                s(m, "function_name")
            ),
        );
        return;
    };
    let enabled = m.values["enabled"] != false;
    if !m.block("filter_criteria").is_null() {
        stack.findings.not_emulated(
            &m.address,
            "filter_criteria are not applied: every record reaches the function",
        );
    }
    if let Some(q) = stack.queues.iter().position(|q| q.arn == source) {
        if !enabled {
            stack
                .findings
                .warn(&m.address, "disabled (enabled = false): not polled");
            return;
        }
        let types: Vec<&str> = m.values["function_response_types"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .collect();
        stack.queue_mappings.push(QueueMapping {
            address: m.address.clone(),
            queue: q,
            function,
            batch_size: m.values["batch_size"].as_u64().unwrap_or(10).max(1) as usize,
            window: Duration::from_secs(
                m.values["maximum_batching_window_in_seconds"]
                    .as_u64()
                    .unwrap_or(0),
            ),
            report_failures: types.contains(&"ReportBatchItemFailures"),
        });
    } else if let Some(t) = stack
        .tables
        .iter()
        .position(|t| t.stream_arn.as_deref() == Some(source))
    {
        if !enabled {
            stack
                .findings
                .warn(&m.address, "disabled (enabled = false): not polled");
            return;
        }
        stack.stream_mappings.push(StreamMapping {
            address: m.address.clone(),
            table: t,
            function,
            batch_size: m.values["batch_size"].as_u64().unwrap_or(100).max(1) as usize,
            from_start: s(m, "starting_position") == "TRIM_HORIZON",
            max_retries: m.values["maximum_retry_attempts"]
                .as_i64()
                .filter(|n| *n >= 0)
                .map(|n| n as u32),
        });
    } else {
        let service = source.split(':').nth(2).unwrap_or("an unknown source");
        let _ = cx;
        stack.findings.not_emulated(&m.address, format!("an event source mapping from {service} ({source}): not emulated (up polls SQS queues and DynamoDB streams of the stack)"));
    }
}

fn rule(cx: &Context<'_>, stack: &mut Stack, r: &Resource) {
    let name = s(r, "name").to_string();
    let expression = s(r, "schedule_expression").to_string();
    let bus = r.str("event_bus_name").unwrap_or("default");
    let targets: Vec<&Resource> = cx
        .plan
        .of("aws_cloudwatch_event_target")
        .filter(|t| s(t, "rule") == name && t.str("event_bus_name").unwrap_or("default") == bus)
        .collect();
    if expression.is_empty() {
        stack.findings.not_emulated(
            &r.address,
            "a rule with an event pattern: EventBridge events are not emulated",
        );
        return;
    }
    let enabled = r.values["state"]
        .as_str()
        .map(|st| st == "ENABLED")
        .unwrap_or(r.values["is_enabled"] != false);
    for t in targets {
        let Some(function) = stack.function_ref(s(t, "arn")) else {
            stack.findings.not_emulated(
                &t.address,
                format!(
                    "a target that is not a function of the stack ({}): not emulated",
                    s(t, "arn")
                ),
            );
            continue;
        };
        if !s(t, "input_path").is_empty() || !t.block("input_transformer").is_null() {
            stack.findings.not_emulated(&t.address, "input_path and input_transformer are not applied: the function gets the whole scheduled event");
        }
        if !enabled {
            stack.findings.warn(
                &r.address,
                "disabled: not scheduled (--fire still fires it)",
            );
        }
        stack.schedules.push(Schedule {
            address: r.address.clone(),
            name: name.clone(),
            arn: s(r, "arn").to_string(),
            expression: expression.clone(),
            function,
            input: t.str("input").filter(|i| !i.is_empty()).map(str::to_string),
            enabled,
        });
    }
}

/// Reads event source mappings and schedules.
pub(super) fn read(cx: &Context<'_>, stack: &mut Stack) {
    for m in cx.plan.of("aws_lambda_event_source_mapping") {
        mapping(cx, stack, m);
    }
    for r in cx.plan.of("aws_cloudwatch_event_rule") {
        rule(cx, stack, r);
    }
}
