//! Firing EventBridge schedules: each enabled rule at the times its
//! expression names (a rate from the start, a cron in UTC), and any rule at
//! once with `--fire`. The function gets the documented "Scheduled Event"
//! (or the target's constant `input`), asynchronously: a failed attempt is
//! retried twice, a minute apart, as Lambda retries asynchronous events.
//!
//! Owns: the timers and the scheduled event.
//! Must not: parse expressions (`cron` does).

use super::cron::{self, Every};
use super::provision::{ASYNC_ATTEMPTS, ASYNC_RETRY_PAUSE};
use super::sqs::describe;
use crate::function::Function;
use crate::runtime_api::{InvokeOptions, Outcome};
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// One schedule, ready to fire.
#[derive(Clone)]
pub struct Timer {
    /// The rule's name.
    pub name: String,
    /// The rule's ARN.
    pub arn: String,
    /// The expression.
    pub every: Every,
    /// The function.
    pub function: Arc<Function>,
    /// The target's constant input.
    pub input: Option<String>,
    /// The region and account, for the event.
    pub region: String,
}

/// RFC 3339 in UTC, to the second (EventBridge's `time`).
fn rfc3339(epoch_secs: i64) -> String {
    let t = crate::util::UtcTime::from_epoch_millis((epoch_secs.max(0) * 1000) as u64);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

fn now_secs() -> i64 {
    (crate::util::epoch_millis() / 1000) as i64
}

impl Timer {
    /// Reads a rule's expression.
    pub fn parse(expression: &str) -> Result<Every, String> {
        cron::parse(expression)
    }

    /// The event for a firing at `at` (epoch seconds).
    pub fn event(&self, at: i64) -> Value {
        if let Some(input) = &self.input {
            return serde_json::from_str(input).unwrap_or_else(|_| Value::String(input.clone()));
        }
        json!({
            "version": "0",
            "id": crate::util::uuid_v4(),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": super::identity::ACCOUNT,
            "time": rfc3339(at),
            "region": self.region,
            "resources": [self.arn],
            "detail": {},
        })
    }

    /// Fires once now (with Lambda's asynchronous retries).
    pub async fn fire(&self, why: &str) {
        let event = self.event(now_secs());
        let name = self.function.config().function_name.clone();
        for attempt in 1..=ASYNC_ATTEMPTS {
            eprintln!("portside-local up: schedule {} -> {name}: {why}", self.name);
            let opts = InvokeOptions::new();
            let outcome = match self
                .function
                .invoke(Bytes::from(event.to_string()), opts)
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
                other if attempt < ASYNC_ATTEMPTS => {
                    eprintln!("portside-local up: schedule {} -> {name}: attempt {attempt} failed ({}): retried in a minute, as Lambda retries asynchronous events", self.name, describe(&other));
                    tokio::time::sleep(ASYNC_RETRY_PAUSE).await;
                }
                other => eprintln!("portside-local up: schedule {} -> {name}: attempt {attempt} failed ({}): dropped, as Lambda drops an asynchronous event after three attempts", self.name, describe(&other)),
            }
        }
    }

    /// Fires at each time the expression names until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let started = now_secs();
        let mut n: i64 = 0;
        loop {
            let next = match &self.every {
                Every::Rate(d) => {
                    n += 1;
                    started + n * d.as_secs() as i64
                }
                Every::Cron(c) => match c.next_after(now_secs()) {
                    Some(t) => t,
                    None => return,
                },
            };
            let wait = Duration::from_secs((next - now_secs()).max(0) as u64);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
            let me = self.clone();
            // Firings do not wait for each other, as EventBridge's do not.
            tokio::spawn(async move { me.fire(&format!("fired ({})", rfc3339(next))).await });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(20_794 * 86_400 + 9_000), "2026-12-07T02:30:00Z");
    }
}
