//! The second plan: Terraform evaluates the configuration again with every
//! value that the first plan left unknown until an apply (ARNs, ids, names
//! from prefixes, and so whatever is built from them: an OpenAPI body naming
//! a function's invoke ARN, a layer list, a route's target) given its local
//! identity ([`Identities`]).
//!
//! It is a `terraform test` file written for the run (JSON syntax): the AWS
//! provider is mocked with Terraform's own `mock_provider`, each data source
//! the first plan read keeps the value it read (`override_data`), and each
//! resource's unknown values are overridden with its identity
//! (`override_resource`, `override_during = plan`, Terraform 1.11 and
//! newer). Terraform's own evaluation does the rest: no expression is read
//! or computed here. Values neither plan knows stay the mock's (random
//! strings); `stack` says so where a function would see one.
//!
//! Owns: the test file and its policy-document defaults.
//! Must not: start anything or interpret resources.

use super::identity::Identities;
use super::plan::{Mode, Plan};
use super::terraform::Terraform;
use super::workspace::Workspace;
use serde_json::{json, Map, Value};

/// Where the test file goes, inside the root module's view.
const TEST_DIR: &str = ".portside-up";
const TEST_FILE: &str = "up.tftest.json";

/// An IAM policy document a mocked `aws_iam_policy_document` returns when
/// its inputs were unknown (a random string would fail the provider's own
/// validation of the policies that use it).
const EMPTY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[]}"#;

/// The test file for `plan`.
pub fn test_file(plan: &Plan, ids: &Identities) -> Value {
    let mut mock = json!({
        "override_during": "plan",
        "mock_data": {
            "aws_iam_policy_document": {"defaults": {"json": EMPTY_POLICY, "minified_json": EMPTY_POLICY}},
            "aws_caller_identity": {"defaults": {"account_id": ids.account, "id": ids.account}},
            "aws_region": {"defaults": {"name": ids.region, "id": ids.region}},
            "aws_partition": {"defaults": {"partition": "aws", "dns_suffix": "amazonaws.com"}},
        },
    });
    let mut mocks = vec![mock.clone()];
    for p in plan.providers.iter().filter(|p| p.name == "aws") {
        if let Some(alias) = &p.alias {
            mock["alias"] = Value::String(alias.clone());
            mocks.push(mock.clone());
        }
    }
    let data: Vec<Value> = plan
        .read
        .iter()
        .map(|r| {
            let values: Map<String, Value> = r
                .values
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            json!({"target": r.address, "override_during": "plan", "values": values})
        })
        .collect();
    let resources: Vec<Value> = plan
        .resources
        .iter()
        .filter(|r| r.mode == Mode::Managed)
        .map(|r| json!({"target": r.address, "override_during": "plan", "values": ids.computed(r)}))
        .collect();
    let mut file = json!({
        "mock_provider": {"aws": mocks},
        "run": {"up": {"command": "plan"}},
    });
    if !data.is_empty() {
        file["override_data"] = Value::Array(data);
    }
    if !resources.is_empty() {
        file["override_resource"] = Value::Array(resources);
    }
    file
}

/// Writes the test file for `plan` into the view and runs it: the plan with
/// every identity known.
pub async fn resolve(
    tf: &Terraform,
    ws: &Workspace,
    plan: &Plan,
    ids: &Identities,
) -> Result<Plan, String> {
    let dir = ws.root().join(TEST_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let file = test_file(plan, ids);
    let text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(TEST_FILE), text)
        .map_err(|e| format!("cannot write {}: {e}", dir.join(TEST_FILE).display()))?;
    let shown = tf.test_plan(ws, TEST_DIR, TEST_FILE).await?;
    let mut resolved = Plan::from_test_plan(&shown);
    forget_mocked(&mut resolved, plan, ids);
    resolved.read = plan.read.clone();
    resolved.providers = plan.providers.clone();
    resolved.region = plan.region.clone();
    Ok(resolved)
}

/// Removes the values only the mock made up: those AWS alone would tell
/// (the first plan did not know them, the configuration does not set them)
/// and that have no local identity. What is computed from other values
/// stays: that is Terraform's own evaluation.
fn forget_mocked(resolved: &mut Plan, first: &Plan, ids: &Identities) {
    for r in &mut resolved.resources {
        let Some(before) = first.get(&r.address) else {
            continue;
        };
        let own = ids.computed(before);
        r.configured = before.configured.clone();
        r.unknown = before.unknown.clone();
        let mut made_up = Map::new();
        if let Some(values) = r.values.as_object_mut() {
            for (key, v) in values.iter_mut() {
                if before.is_aws_computed(key) && !own.contains_key(key) {
                    made_up.insert(key.clone(), std::mem::take(v));
                }
            }
        }
        r.placeholders = Value::Object(made_up);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::up::plan::{ProviderConfig, Resource};
    use std::collections::HashMap;

    #[test]
    fn the_file_mocks_every_aws_configuration_and_keeps_what_was_read() {
        let plan = Plan {
            resources: vec![Resource {
                address: "aws_sqs_queue.q".into(),
                mode: Mode::Managed,
                kind: "aws_sqs_queue".into(),
                provider: String::new(),
                values: json!({"name": "q"}),
                unknown: json!({"arn": true, "url": true}),
                configured: vec!["name".into()],
                placeholders: Value::Null,
            }],
            read: vec![Resource {
                address: "data.aws_caller_identity.me".into(),
                mode: Mode::Data,
                kind: "aws_caller_identity".into(),
                provider: String::new(),
                values: json!({"account_id": "123456789012", "user_id": null}),
                unknown: json!({}),
                configured: Vec::new(),
                placeholders: Value::Null,
            }],
            providers: vec![
                ProviderConfig {
                    name: "aws".into(),
                    alias: None,
                },
                ProviderConfig {
                    name: "aws".into(),
                    alias: Some("east".into()),
                },
            ],
            region: None,
        };
        let ids = Identities {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            endpoint: "http://127.0.0.1:5000".into(),
            doors: HashMap::new(),
        };
        let f = test_file(&plan, &ids);
        let mocks = f["mock_provider"]["aws"].as_array().expect("mocks");
        assert_eq!(mocks.len(), 2);
        assert_eq!(mocks[1]["alias"], "east");
        assert_eq!(mocks[0]["override_during"], "plan");
        let policy: Value = serde_json::from_str(
            mocks[0]["mock_data"]["aws_iam_policy_document"]["defaults"]["json"]
                .as_str()
                .expect("json"),
        )
        .expect("a JSON policy");
        assert_eq!(policy["Version"], "2012-10-17");
        assert_eq!(
            f["override_data"][0]["values"],
            json!({"account_id": "123456789012"})
        );
        assert_eq!(f["override_resource"][0]["target"], "aws_sqs_queue.q");
        assert_eq!(
            f["override_resource"][0]["values"]["url"],
            "http://127.0.0.1:5000/123456789012/q"
        );
        assert_eq!(f["run"]["up"]["command"], "plan");
    }
}
