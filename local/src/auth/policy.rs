//! The IAM policy a Lambda authorizer returns, evaluated against the
//! method (REST) or route (HTTP API) ARN as API Gateway evaluates it: a
//! matching Deny wins, else a matching Allow allows, else the request is
//! implicitly denied (api-gateway-lambda-authorizer-output.html;
//! api-gateway-control-access-using-iam-policies-to-invoke-api.html).
//!
//! Owns: `Statement` as an object or a list; `Action`/`NotAction` and
//! `Resource`/`NotResource` as a string or a list; IAM's `*` and `?`
//! wildcards. Refuses (as an error the caller answers with a 500) what it
//! cannot evaluate exactly: a `Condition`, a statement without an effect,
//! action or resource.
//!
//! Must not: do I/O.

use serde_json::Value;

/// What a policy says about one ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// An Allow statement matches and no Deny does.
    Allow,
    /// A Deny statement matches.
    ExplicitDeny,
    /// No statement matches.
    ImplicitDeny,
}

/// IAM's wildcard match: `*` any run of characters, `?` one character.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn strings(v: &Value, what: &str) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{what} holds a value that is not a string"))
            })
            .collect(),
        _ => Err(format!("{what} is neither a string nor a list of strings")),
    }
}

/// Whether a statement covers the action and the ARN: (positive field,
/// negated field) for each.
fn covers(
    statement: &Value,
    field: &str,
    not_field: &str,
    matches: &dyn Fn(&str) -> bool,
) -> Result<bool, String> {
    match (statement.get(field), statement.get(not_field)) {
        (Some(v), None) => Ok(strings(v, field)?.iter().any(|p| matches(p))),
        (None, Some(v)) => Ok(!strings(v, not_field)?.iter().any(|p| matches(p))),
        (Some(_), Some(_)) => Err(format!("a statement has both {field} and {not_field}")),
        (None, None) => Err(format!("a statement has neither {field} nor {not_field}")),
    }
}

/// Evaluates `policy` (the `policyDocument`) for invoking `arn`.
pub fn evaluate(policy: &Value, arn: &str) -> Result<Effect, String> {
    let statements = match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err("policyDocument has no Statement".into()),
    };
    let action = |pattern: &str| {
        // Action names are case-insensitive; the service prefix too.
        wildcard(&pattern.to_ascii_lowercase(), "execute-api:invoke")
    };
    let resource = |pattern: &str| wildcard(pattern, arn);
    let mut allowed = false;
    for s in statements {
        if s.get("Condition").is_some() {
            return Err(
                "a statement has a Condition, which portside-local does not evaluate".into(),
            );
        }
        let effect = match s.get("Effect").and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::ExplicitDeny,
            _ => return Err("a statement's Effect is neither \"Allow\" nor \"Deny\"".into()),
        };
        if covers(s, "Action", "NotAction", &action)?
            && covers(s, "Resource", "NotResource", &resource)?
        {
            match effect {
                Effect::ExplicitDeny => return Ok(Effect::ExplicitDeny),
                _ => allowed = true,
            }
        }
    }
    Ok(if allowed {
        Effect::Allow
    } else {
        Effect::ImplicitDeny
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:portsidelocal/prod/GET/users/7";

    fn policy(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    #[test]
    fn deny_wins_allow_allows_and_nothing_denies() {
        let allow = json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*/prod/GET/*"});
        let deny = json!({"Effect": "Deny", "Action": "execute-api:*", "Resource": [ARN]});
        assert_eq!(
            evaluate(&policy(json!([allow.clone()])), ARN),
            Ok(Effect::Allow)
        );
        assert_eq!(evaluate(&policy(allow.clone()), ARN), Ok(Effect::Allow));
        assert_eq!(
            evaluate(&policy(json!([allow, deny])), ARN),
            Ok(Effect::ExplicitDeny)
        );
        let other = json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*/prod/POST/*"});
        assert_eq!(
            evaluate(&policy(json!([other])), ARN),
            Ok(Effect::ImplicitDeny)
        );
        let not = json!({"Effect": "Allow", "Action": "*", "NotResource": "*/POST/*"});
        assert_eq!(evaluate(&policy(json!([not])), ARN), Ok(Effect::Allow));
    }

    #[test]
    fn what_cannot_be_evaluated_is_an_error() {
        let cond = json!({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"IpAddress": {}}});
        assert!(evaluate(&policy(json!([cond])), ARN)
            .unwrap_err()
            .contains("Condition"));
        assert!(evaluate(&json!({}), ARN).is_err());
        assert!(evaluate(
            &policy(json!([{"Effect": "Maybe", "Action": "*", "Resource": "*"}])),
            ARN
        )
        .is_err());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("a*c", "abbbc"));
        assert!(wildcard("a?c", "abc"));
        assert!(!wildcard("a?c", "abbc"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("a*b", "acbd"));
        assert!(wildcard("a*b*", "acbd"));
    }
}
