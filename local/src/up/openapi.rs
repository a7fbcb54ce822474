//! The routes of an API Gateway OpenAPI definition (an API's `body`): each
//! path and method with its `x-amazon-apigateway-integration` (type, URI,
//! payload format version, response transfer mode, timeout) and whether a
//! security requirement (an authorizer) guards it, as API Gateway's
//! extensions to OpenAPI document them. JSON bodies only (what
//! `jsonencode` makes); a YAML body is reported, not read.
//!
//! Owns: reading OpenAPI 3 and Swagger 2 `paths`.
//! Must not: decide what a route does locally.

use serde_json::Value;

/// One operation of the definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The path as written (`/users/{id}`, `/{proxy+}`, `$default`).
    pub path: String,
    /// `GET`, `POST`..., or `ANY` for `x-amazon-apigateway-any-method`.
    pub method: String,
    /// `x-amazon-apigateway-integration.type` (`aws_proxy`...), lower case.
    pub kind: String,
    /// `x-amazon-apigateway-integration.uri`.
    pub uri: String,
    /// `payloadFormatVersion` (HTTP APIs).
    pub payload_version: Option<String>,
    /// `responseTransferMode` is `STREAM` (REST APIs).
    pub stream: bool,
    /// `timeoutInMillis`.
    pub timeout_ms: Option<u64>,
    /// The names of the security schemes that guard it (empty: none).
    pub security: Vec<String>,
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The operations of `body`, or why it cannot be read.
pub fn operations(body: &str) -> Result<Vec<Operation>, String> {
    let doc: Value = serde_json::from_str(body).map_err(|_| {
        "its OpenAPI body is not JSON (a YAML body is not read): write it with jsonencode()"
            .to_string()
    })?;
    let global = security_names(&doc["security"]);
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (key, op) in item.as_object().into_iter().flatten() {
            let method = if key == "x-amazon-apigateway-any-method" {
                "ANY".to_string()
            } else if METHODS.contains(&key.as_str()) {
                key.to_ascii_uppercase()
            } else {
                continue;
            };
            let integration = &op["x-amazon-apigateway-integration"];
            let security = match op.get("security") {
                Some(s) => security_names(s),
                None => global.clone(),
            };
            out.push(Operation {
                path: path.clone(),
                method,
                kind: integration["type"]
                    .as_str()
                    .unwrap_or("")
                    .to_ascii_lowercase(),
                uri: integration["uri"].as_str().unwrap_or("").to_string(),
                payload_version: integration["payloadFormatVersion"]
                    .as_str()
                    .map(str::to_string),
                stream: integration["responseTransferMode"]
                    .as_str()
                    .is_some_and(|m| m.eq_ignore_ascii_case("STREAM")),
                timeout_ms: integration["timeoutInMillis"].as_u64().or_else(|| {
                    integration["timeoutInMillis"]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                }),
                security,
            });
        }
    }
    Ok(out)
}

/// `[{"name": []}, ...]` as the names.
fn security_names(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|o| o.keys().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_with_their_integrations_and_guards() {
        // Written from API Gateway's OpenAPI extensions documentation
        // (x-amazon-apigateway-any-method, x-amazon-apigateway-integration).
        let body = r#"{
          "openapi": "3.0.1",
          "security": [{"api_key": []}],
          "paths": {
            "/": {"x-amazon-apigateway-any-method": {"security": [],
                  "x-amazon-apigateway-integration": {"type": "AWS_PROXY", "httpMethod": "POST",
                    "uri": "arn:aws:apigateway:us-east-1:lambda:path/2021-11-15/functions/F/response-streaming-invocations",
                    "responseTransferMode": "STREAM", "timeoutInMillis": 60000}}},
            "/users/{id}": {"get": {"x-amazon-apigateway-integration": {"type": "aws_proxy",
                  "uri": "U", "payloadFormatVersion": "1.0"}},
                  "parameters": [{"name": "id", "in": "path"}]}
          }
        }"#;
        let ops = operations(body).expect("read");
        assert_eq!(ops.len(), 2, "{ops:?}");
        let root = ops.iter().find(|o| o.path == "/").expect("root");
        assert_eq!(root.method, "ANY");
        assert_eq!(root.kind, "aws_proxy");
        assert!(root.stream);
        assert_eq!(root.timeout_ms, Some(60000));
        assert!(
            root.security.is_empty(),
            "an empty list lifts the global requirement"
        );
        let user = ops.iter().find(|o| o.path == "/users/{id}").expect("user");
        assert_eq!(user.method, "GET");
        assert_eq!(user.payload_version.as_deref(), Some("1.0"));
        assert_eq!(
            user.security,
            vec!["api_key".to_string()],
            "the global requirement applies"
        );
        assert!(operations("openapi: 3.0.1")
            .expect_err("yaml")
            .contains("jsonencode"));
    }
}
