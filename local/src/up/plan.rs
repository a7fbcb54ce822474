//! A Terraform plan as `up` reads it: every resource instance with its
//! address, type and planned values (and which of them Terraform could not
//! know before an apply), from the JSON `terraform show -json` renders (the
//! first plan) or that `terraform test -json -verbose` prints for a run (the
//! second, mocked plan: see `resolve`).
//!
//! Owns: the plan's JSON representation (format 1.x), read leniently: a
//! field that is missing is an empty value, never a panic.
//! Must not: run Terraform or decide what a resource means locally.

use serde_json::{Map, Value};

/// Whether an instance is a managed resource or a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `resource "type" "name"`.
    Managed,
    /// `data "type" "name"`.
    Data,
}

/// One resource instance of the plan.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Its address, `module.app.aws_lambda_function.this[0]`.
    pub address: String,
    /// Managed or data.
    pub mode: Mode,
    /// Its type, `aws_lambda_function`.
    pub kind: String,
    /// Its provider's configuration (`registry.terraform.io/hashicorp/aws`).
    pub provider: String,
    /// The planned values (`change.after`); unknown values are absent.
    pub values: Value,
    /// Which planned values are unknown until an apply (`after_unknown`).
    pub unknown: Value,
    /// The top-level arguments its configuration sets (empty when the
    /// plan has no configuration part, as a test run's has not).
    pub configured: Vec<String>,
    /// Values a mocked plan made up for what only AWS would tell, taken out
    /// of `values` (an object; see `resolve`).
    pub placeholders: Value,
}

impl Resource {
    /// A top-level string value.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.values.get(key).and_then(Value::as_str)
    }

    /// Whether the top-level value `key` is unknown until an apply.
    pub fn is_unknown(&self, key: &str) -> bool {
        self.unknown.get(key) == Some(&Value::Bool(true))
    }

    /// Whether `key` is unknown and only AWS would say it (the
    /// configuration does not set it: an id, an ARN, a default the service
    /// picks), as opposed to one computed from other unknown values.
    pub fn is_aws_computed(&self, key: &str) -> bool {
        self.is_unknown(key) && !self.configured.iter().any(|c| c == key)
    }

    /// The first element of a nested block (`environment[0]`), or `Null`.
    pub fn block(&self, key: &str) -> &Value {
        first_block(&self.values, key)
    }
}

/// The first element of the nested block `key` of `v`, or `Null`.
pub fn first_block<'a>(v: &'a Value, key: &str) -> &'a Value {
    match v.get(key) {
        Some(Value::Array(list)) => list.first().unwrap_or(&Value::Null),
        Some(Value::Object(_)) => &v[key],
        _ => &Value::Null,
    }
}

/// A provider configuration the stack uses: `aws`, or `aws` with an alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// The local name, `aws`.
    pub name: String,
    /// The alias, if any.
    pub alias: Option<String>,
}

/// The resource instances of a plan.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Managed resources and the data sources read at apply (their values
    /// depend on something unknown).
    pub resources: Vec<Resource>,
    /// Data sources Terraform read while planning, with their values.
    pub read: Vec<Resource>,
    /// The root module's provider configurations.
    pub providers: Vec<ProviderConfig>,
    /// The region the default `aws` provider is configured with, when the
    /// configuration says it (a constant, or a variable's value).
    pub region: Option<String>,
}

impl Plan {
    /// Reads `terraform show -json PLANFILE`.
    pub fn from_show_json(v: &Value) -> Result<Plan, String> {
        if v.get("format_version").is_none() {
            return Err("terraform show -json did not print a plan (no format_version)".into());
        }
        let mut plan = Plan {
            resources: changes(v),
            ..Plan::default()
        };
        let mut configured = std::collections::HashMap::new();
        configuration(&v["configuration"]["root_module"], "", &mut configured);
        for r in &mut plan.resources {
            if let Some(c) = configured.get(&config_key(r)) {
                r.configured = c.clone();
            }
        }
        collect_state(&v["prior_state"]["values"]["root_module"], &mut plan.read);
        plan.read.retain(|r| r.mode == Mode::Data);
        plan.region = configured_region(v);
        if let Some(configs) = v["configuration"]["provider_config"].as_object() {
            for c in configs.values() {
                // Only the root module's configurations can be mocked by name.
                if c.get("module_address").is_some() {
                    continue;
                }
                if let Some(name) = c["name"].as_str() {
                    plan.providers.push(ProviderConfig {
                        name: name.to_string(),
                        alias: c["alias"].as_str().map(str::to_string),
                    });
                }
            }
        }
        Ok(plan)
    }

    /// Reads the `test_plan` object `terraform test -json -verbose` prints
    /// for a run with `command = plan`.
    pub fn from_test_plan(v: &Value) -> Plan {
        Plan {
            resources: changes(v),
            ..Plan::default()
        }
    }

    /// Managed resources of one type.
    pub fn of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources
            .iter()
            .filter(move |r| r.mode == Mode::Managed && r.kind == kind)
    }

    /// The instance at `address`.
    pub fn get(&self, address: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .chain(&self.read)
            .find(|r| r.address == address)
    }
}

/// `provider "aws" { region = ... }`: a constant, or `var.NAME`'s value.
fn configured_region(v: &Value) -> Option<String> {
    let expr = &v["configuration"]["provider_config"]["aws"]["expressions"]["region"];
    if let Some(r) = expr["constant_value"].as_str() {
        return Some(r.to_string());
    }
    let var = expr["references"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find_map(|r| r.strip_prefix("var."))?;
    v["variables"][var]["value"].as_str().map(str::to_string)
}

/// `module.a["x"].module.b.aws_s3_bucket.c[0]` as its configuration's
/// address, `module.a.module.b.aws_s3_bucket.c`: instance keys removed.
fn config_key(r: &Resource) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in r.address.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Each resource block's address (by its configuration) with the arguments
/// it sets, through every module call.
fn configuration(
    module: &Value,
    prefix: &str,
    out: &mut std::collections::HashMap<String, Vec<String>>,
) {
    for r in module["resources"].as_array().into_iter().flatten() {
        let address = r["address"].as_str().unwrap_or_default();
        let keys = r["expressions"]
            .as_object()
            .map(|e| e.keys().cloned().collect())
            .unwrap_or_default();
        out.insert(format!("{prefix}{address}"), keys);
    }
    for (name, call) in module["module_calls"].as_object().into_iter().flatten() {
        configuration(&call["module"], &format!("{prefix}module.{name}."), out);
    }
}

fn mode(s: Option<&str>) -> Mode {
    if s == Some("data") {
        Mode::Data
    } else {
        Mode::Managed
    }
}

fn changes(v: &Value) -> Vec<Resource> {
    let mut out = Vec::new();
    for rc in v["resource_changes"].as_array().into_iter().flatten() {
        let actions: Vec<&str> = rc["change"]["actions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if actions == ["delete"] {
            continue;
        }
        out.push(Resource {
            address: rc["address"].as_str().unwrap_or_default().to_string(),
            mode: mode(rc["mode"].as_str()),
            kind: rc["type"].as_str().unwrap_or_default().to_string(),
            provider: rc["provider_name"].as_str().unwrap_or_default().to_string(),
            values: non_null(&rc["change"]["after"]),
            unknown: non_null(&rc["change"]["after_unknown"]),
            configured: Vec::new(),
            placeholders: Value::Null,
        });
    }
    out
}

fn non_null(v: &Value) -> Value {
    if v.is_null() {
        Value::Object(Map::new())
    } else {
        v.clone()
    }
}

fn collect_state(module: &Value, out: &mut Vec<Resource>) {
    for r in module["resources"].as_array().into_iter().flatten() {
        out.push(Resource {
            address: r["address"].as_str().unwrap_or_default().to_string(),
            mode: mode(r["mode"].as_str()),
            kind: r["type"].as_str().unwrap_or_default().to_string(),
            provider: r["provider_name"].as_str().unwrap_or_default().to_string(),
            values: non_null(&r["values"]),
            unknown: Value::Object(Map::new()),
            configured: Vec::new(),
            placeholders: Value::Null,
        });
    }
    for child in module["child_modules"].as_array().into_iter().flatten() {
        collect_state(child, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resources_values_and_unknowns_are_read_from_the_documented_shape() {
        // The shape of Terraform's "JSON Output Format" (plan representation).
        let shown = json!({
            "format_version": "1.2",
            "resource_changes": [
                {"address": "module.app.aws_lambda_function.this", "mode": "managed",
                 "type": "aws_lambda_function", "provider_name": "registry.terraform.io/hashicorp/aws",
                 "change": {"actions": ["create"],
                            "after": {"function_name": "app", "environment": [{"variables": {"A": "1"}}]},
                            "after_unknown": {"arn": true, "layers": true, "environment": [{"variables": {"B": true}}]}}},
                {"address": "aws_s3_bucket.old", "mode": "managed", "type": "aws_s3_bucket",
                 "change": {"actions": ["delete"], "after": null}},
                {"address": "data.aws_iam_policy_document.p", "mode": "data",
                 "type": "aws_iam_policy_document", "change": {"actions": ["read"], "after": {}}}
            ],
            "prior_state": {"values": {"root_module": {
                "resources": [{"address": "data.aws_caller_identity.me", "mode": "data",
                               "type": "aws_caller_identity", "values": {"account_id": "123456789012"}}],
                "child_modules": [{"resources": [{"address": "module.app.data.aws_partition.p",
                    "mode": "data", "type": "aws_partition", "values": {"partition": "aws"}}]}]
            }}},
            "variables": {"region": {"value": "eu-west-3"}},
            "configuration": {"provider_config": {
                "aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws",
                        "expressions": {"region": {"references": ["var.region"]}}},
                "aws.east": {"name": "aws", "alias": "east"},
                "module.app:aws": {"name": "aws", "module_address": "module.app"}
            },
            "root_module": {"module_calls": {"app": {"module": {"resources": [
                {"address": "aws_lambda_function.this", "expressions": {"function_name": {}, "layers": {}}}
            ]}}}}}
        });
        let plan = Plan::from_show_json(&shown).expect("plan");
        assert_eq!(plan.resources.len(), 2, "the deleted instance is left out");
        let f = plan
            .get("module.app.aws_lambda_function.this")
            .expect("function");
        assert_eq!(f.str("function_name"), Some("app"));
        assert!(f.is_unknown("arn"));
        assert!(f.is_aws_computed("arn"), "not configured: AWS says it");
        assert!(
            !f.is_aws_computed("layers"),
            "configured: computed from other values"
        );
        assert!(!f.is_unknown("function_name"));
        assert_eq!(f.block("environment")["variables"]["A"], "1");
        assert_eq!(plan.of("aws_lambda_function").count(), 1);
        let read: Vec<&str> = plan.read.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(
            read,
            [
                "data.aws_caller_identity.me",
                "module.app.data.aws_partition.p"
            ]
        );
        assert_eq!(plan.providers.len(), 2, "only the root's configurations");
        assert!(plan.providers.contains(&ProviderConfig {
            name: "aws".into(),
            alias: Some("east".into())
        }));
        assert_eq!(plan.region.as_deref(), Some("eu-west-3"));
        assert!(Plan::from_show_json(&json!({"errors": []})).is_err());
    }
}
