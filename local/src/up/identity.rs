//! The identities resources get locally, in place of what AWS would only
//! tell after an apply: names from a `name_prefix`, ARNs, ids, the local
//! URLs of front doors and of queues in the AWS stand-in. They fill the
//! plan's unknown values (`resolve`), so every reference between resources
//! (a route to its integration, a notification to its function, an
//! environment variable naming a queue) resolves to one of them.
//!
//! Owns: the shape of each identity, per resource type, in AWS's formats
//! (ARNs as the AWS General Reference documents them).
//! Must not: read files or talk to anything.

use super::plan::Resource;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// What identities are made from.
#[derive(Debug, Clone)]
pub struct Identities {
    /// The stack's region.
    pub region: String,
    /// The account id (moto's default).
    pub account: String,
    /// The AWS stand-in's endpoint, for queue URLs.
    pub endpoint: String,
    /// Each front door's local URL (`http://127.0.0.1:3000`), by address.
    pub doors: HashMap<String, String>,
}

/// The account AWS stand-ins (moto) use by default.
pub const ACCOUNT: &str = "123456789012";

/// A short, stable, lowercase token for an address (6 hex digits).
pub fn token(address: &str) -> String {
    // FNV-1a: stable across runs and platforms (std's hasher is not).
    let mut h: u32 = 0x811c_9dc5;
    for b in address.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{:06x}", h & 0x00ff_ffff)
}

/// An id made from an address: its letters and digits, dashes between.
pub fn slug(address: &str) -> String {
    let mut out = String::new();
    for c in address.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The name a resource has, or gets from its prefix (`name_prefix`,
/// `bucket_prefix`) plus a token of its address.
fn name_of(r: &Resource, name_key: &str, prefix_key: &str) -> String {
    match r.str(name_key) {
        Some(n) if !r.is_unknown(name_key) => n.to_string(),
        _ => format!(
            "{}{}",
            r.str(prefix_key).unwrap_or("tf-local-"),
            token(&r.address)
        ),
    }
}

impl Identities {
    fn arn(&self, service: &str, rest: &str) -> String {
        format!("arn:aws:{service}:{}:{}:{rest}", self.region, self.account)
    }

    fn door(&self, r: &Resource) -> String {
        self.doors
            .get(&r.address)
            .cloned()
            .unwrap_or_else(|| "http://127.0.0.1".to_string())
    }

    /// Every identity value of `r`, known or not (`computed` keeps only
    /// the unknown ones).
    fn all(&self, r: &Resource) -> Map<String, Value> {
        let v = self
            .lambda(r)
            .or_else(|| self.storage(r))
            .or_else(|| self.services(r))
            .or_else(|| self.apis(r))
            .unwrap_or(Value::Null);
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn lambda(&self, r: &Resource) -> Option<Value> {
        Some(match r.kind.as_str() {
            "aws_lambda_function" => {
                let name = name_of(r, "function_name", "function_name");
                let arn = self.arn("lambda", &format!("function:{name}"));
                json!({
                    "id": name, "arn": arn, "qualified_arn": format!("{arn}:$LATEST"),
                    "invoke_arn": self.invoke_arn(&arn),
                    "qualified_invoke_arn": self.invoke_arn(&format!("{arn}:$LATEST")),
                    "version": "$LATEST",
                })
            }
            "aws_lambda_layer_version" => {
                let name = name_of(r, "layer_name", "layer_name");
                let layer = self.arn("lambda", &format!("layer:{name}"));
                json!({"id": format!("{layer}:1"), "arn": format!("{layer}:1"), "layer_arn": layer, "version": "1"})
            }
            "aws_lambda_function_url" => {
                json!({"function_url": format!("{}/", self.door(r)), "url_id": slug(&r.address)})
            }
            _ => return None,
        })
    }

    fn storage(&self, r: &Resource) -> Option<Value> {
        Some(match r.kind.as_str() {
            "aws_s3_bucket" => {
                let b = name_of(r, "bucket", "bucket_prefix");
                json!({
                    "id": b, "bucket": b, "arn": format!("arn:aws:s3:::{b}"),
                    "bucket_domain_name": format!("{b}.s3.amazonaws.com"),
                    "bucket_regional_domain_name": format!("{b}.s3.{}.amazonaws.com", self.region),
                    "region": self.region,
                })
            }
            "aws_sqs_queue" => {
                let mut n = name_of(r, "name", "name_prefix");
                if r.values["fifo_queue"] == true && !n.ends_with(".fifo") {
                    n.push_str(".fifo");
                }
                let url = format!("{}/{}/{n}", self.endpoint, self.account);
                json!({"id": url, "url": url, "name": n, "arn": self.arn("sqs", &n)})
            }
            "aws_dynamodb_table" => {
                let n = name_of(r, "name", "name");
                let arn = self.arn("dynamodb", &format!("table/{n}"));
                let label = "1970-01-01T00:00:00.000";
                json!({"id": n, "arn": arn, "stream_arn": format!("{arn}/stream/{label}"), "stream_label": label})
            }
            "aws_kinesis_stream" => {
                let n = name_of(r, "name", "name");
                let arn = self.arn("kinesis", &format!("stream/{n}"));
                json!({"id": arn, "arn": arn})
            }
            _ => return None,
        })
    }

    fn services(&self, r: &Resource) -> Option<Value> {
        let n = name_of(r, "name", "name_prefix");
        let upper = token(&r.address).to_uppercase();
        Some(match r.kind.as_str() {
            "aws_iam_role" => {
                let path = r.str("path").unwrap_or("/");
                json!({"id": n, "name": n, "arn": format!("arn:aws:iam::{}:role{path}{n}", self.account), "unique_id": format!("AROA{upper}")})
            }
            "aws_iam_policy" => {
                let arn = format!("arn:aws:iam::{}:policy/{n}", self.account);
                json!({"id": arn, "name": n, "arn": arn, "policy_id": format!("ANPA{upper}")})
            }
            "aws_cloudwatch_log_group" => {
                json!({"id": n, "name": n, "arn": self.arn("logs", &format!("log-group:{n}"))})
            }
            "aws_sns_topic" => {
                let arn = self.arn("sns", &n);
                json!({"id": arn, "arn": arn, "name": n})
            }
            "aws_cloudwatch_event_rule" => {
                json!({"id": n, "name": n, "arn": self.arn("events", &format!("rule/{n}"))})
            }
            "aws_lb_target_group" => {
                let suffix = format!("targetgroup/{n}/{}{}", token(&r.address), token(&n));
                let arn = format!(
                    "arn:aws:elasticloadbalancing:{}:{}:{suffix}",
                    self.region, self.account
                );
                json!({"id": arn, "arn": arn, "arn_suffix": suffix, "name": n})
            }
            _ => return None,
        })
    }

    fn apis(&self, r: &Resource) -> Option<Value> {
        let id = api_id(&r.address);
        Some(match r.kind.as_str() {
            "aws_apigatewayv2_api" => json!({
                "id": id, "api_endpoint": self.door(r),
                "execution_arn": self.arn("execute-api", &id),
                "arn": format!("arn:aws:apigateway:{}::/apis/{id}", self.region),
            }),
            "aws_apigatewayv2_stage" => json!({"id": r.str("name").unwrap_or("$default")}),
            "aws_api_gateway_rest_api" => json!({
                "id": id, "root_resource_id": format!("{}root", &id[..4]),
                "execution_arn": self.arn("execute-api", &id),
                "arn": format!("arn:aws:apigateway:{}::/restapis/{id}", self.region),
            }),
            _ => return None,
        })
    }

    /// API Gateway's invoke ARN of a function ARN.
    pub fn invoke_arn(&self, function_arn: &str) -> String {
        format!(
            "arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
            self.region
        )
    }

    /// Values for `r`'s unknown top-level attributes: its identity where the
    /// type has one, else an ARN-shaped `arn`/`*_arn` and an address-made
    /// `id` (so that references and ARN validations still work).
    pub fn computed(&self, r: &Resource) -> Map<String, Value> {
        let own = self.all(r);
        let mut out = Map::new();
        for (key, unknown) in r.unknown.as_object().into_iter().flatten() {
            if unknown != &Value::Bool(true) {
                continue;
            }
            if let Some(v) = own.get(key) {
                out.insert(key.clone(), v.clone());
            } else if key == "arn" || key.ends_with("_arn") {
                let service = r.kind.split('_').nth(1).unwrap_or("local");
                let what = r.kind.trim_start_matches("aws_").replace('_', "-");
                out.insert(
                    key.clone(),
                    Value::String(self.arn(service, &format!("{what}/{}", slug(&r.address)))),
                );
            } else if key == "id" {
                out.insert(key.clone(), Value::String(slug(&r.address)));
            }
        }
        out
    }
}

/// A 10-character API id, as API Gateway's look (lowercase letters and
/// digits), stable for an address.
pub fn api_id(address: &str) -> String {
    let t = format!("{}{}", token(address), token(&format!("{address}#")));
    t[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::up::plan::Mode;

    fn resource(kind: &str, address: &str, values: Value, unknown: Value) -> Resource {
        Resource {
            address: address.into(),
            mode: Mode::Managed,
            kind: kind.into(),
            provider: String::new(),
            values,
            unknown,
            configured: Vec::new(),
            placeholders: Value::Null,
        }
    }

    fn ids() -> Identities {
        Identities {
            region: "eu-west-3".into(),
            account: ACCOUNT.into(),
            endpoint: "http://127.0.0.1:4566".into(),
            doors: HashMap::from([(
                "aws_apigatewayv2_api.http".to_string(),
                "http://127.0.0.1:3000".to_string(),
            )]),
        }
    }

    #[test]
    fn unknown_values_get_aws_shaped_identities() {
        let f = resource(
            "aws_lambda_function",
            "module.app.aws_lambda_function.this",
            json!({"function_name": "users"}),
            json!({"arn": true, "invoke_arn": true, "function_name": false, "environment": [{}]}),
        );
        let v = ids().computed(&f);
        // The formats of the AWS General Reference and of API Gateway's
        // Lambda integration URI, written out.
        assert_eq!(
            v["arn"],
            "arn:aws:lambda:eu-west-3:123456789012:function:users"
        );
        assert_eq!(
            v["invoke_arn"],
            "arn:aws:apigateway:eu-west-3:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-3:123456789012:function:users/invocations"
        );
        assert!(
            v.get("function_name").is_none(),
            "known values are left alone"
        );

        let b = resource(
            "aws_s3_bucket",
            "aws_s3_bucket.imports",
            json!({"bucket_prefix": "imports-"}),
            json!({"bucket": true, "id": true, "arn": true, "hosted_zone_id": true}),
        );
        let v = ids().computed(&b);
        let name = v["bucket"].as_str().expect("name");
        assert!(
            name.starts_with("imports-") && name.len() == "imports-".len() + 6,
            "{name}"
        );
        assert_eq!(v["id"], name);
        assert_eq!(v["arn"], format!("arn:aws:s3:::{name}"));
        assert!(v.get("hosted_zone_id").is_none(), "left to the mock");

        let q = resource(
            "aws_sqs_queue",
            "aws_sqs_queue.jobs",
            json!({"name": "jobs"}),
            json!({"url": true, "arn": true, "id": true}),
        );
        let v = ids().computed(&q);
        assert_eq!(v["url"], "http://127.0.0.1:4566/123456789012/jobs");
        assert_eq!(v["arn"], "arn:aws:sqs:eu-west-3:123456789012:jobs");

        let api = resource(
            "aws_apigatewayv2_api",
            "aws_apigatewayv2_api.http",
            json!({}),
            json!({"api_endpoint": true, "id": true}),
        );
        let v = ids().computed(&api);
        assert_eq!(v["api_endpoint"], "http://127.0.0.1:3000");
        assert_eq!(v["id"].as_str().map(str::len), Some(10));

        let other = resource(
            "aws_db_instance",
            "aws_db_instance.main",
            json!({}),
            json!({"arn": true, "id": true, "endpoint": true}),
        );
        let v = ids().computed(&other);
        assert_eq!(
            v["arn"],
            "arn:aws:db:eu-west-3:123456789012:db-instance/aws-db-instance-main"
        );
        assert_eq!(v["id"], "aws-db-instance-main");
        assert!(v.get("endpoint").is_none());
    }

    #[test]
    fn tokens_are_stable_and_distinct() {
        assert_eq!(token("a"), token("a"));
        assert_ne!(token("aws_s3_bucket.a"), token("aws_s3_bucket.b"));
        assert_eq!(
            slug("module.app[\"x\"].aws_s3_bucket.b"),
            "module-app-x-aws-s3-bucket-b"
        );
    }
}
