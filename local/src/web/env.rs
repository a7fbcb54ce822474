//! The environment an execution environment's app starts with: what Web
//! Functions sets (`AWS_LAMBDA_HTTP_ENDPOINT`, this environment's own
//! loopback address; `AWS_LAMBDA_INITIALIZATION_TYPE=native-http`;
//! `AWS_REGION`), what a process needs to start on this machine (`PATH`),
//! the caller's AWS credentials standing in for the execution role, and the
//! user's `--env` last. Nothing else: no `PORT`, none of a classic
//! function's variables (local/WEBFUNCTIONS.md, "Environment").
//!
//! Owns: that list. Must not: start processes or read settings other than
//! the process's own credentials and `PATH`.

use super::options::WebConfig;

/// The value of `AWS_LAMBDA_INITIALIZATION_TYPE` on Web Functions.
pub const INITIALIZATION_TYPE: &str = "native-http";

/// The variables of an app listening on `endpoint` (`127.0.0.1:PORT`).
pub fn app_environment(cfg: &WebConfig, endpoint: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    env.push(("PATH".into(), path));
    // The execution role's credentials on Lambda; the caller's here (and
    // endpoint overrides for local AWS emulators such as moto).
    for (k, v) in std::env::vars() {
        let credential = matches!(
            k.as_str(),
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN"
        );
        if credential || k.starts_with("AWS_ENDPOINT_URL") {
            env.push((k, v));
        }
    }
    env.push(("AWS_LAMBDA_HTTP_ENDPOINT".into(), endpoint.to_string()));
    env.push((
        "AWS_LAMBDA_INITIALIZATION_TYPE".into(),
        INITIALIZATION_TYPE.into(),
    ));
    env.push(("AWS_REGION".into(), cfg.region.clone()));
    for (k, v) in &cfg.env {
        env.retain(|(ek, _)| ek != k);
        env.push((k.clone(), v.clone()));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::Duration;

    #[test]
    fn the_app_gets_the_documented_variables_and_the_users_last() {
        let cfg = WebConfig {
            port: 0,
            timeout: Duration::from_secs(30),
            max_concurrency: 64,
            max_environments: 4,
            idle_timeout: Duration::from_secs(300),
            env: vec![
                ("PATH".into(), "/opt/bin".into()),
                ("FOO".into(), "bar".into()),
            ],
            region: "eu-west-1".into(),
            endpoint_name: "default".into(),
            function_name: "f".into(),
            show_app_output: true,
            command: vec!["node".into(), "index.js".into()],
            dir: PathBuf::from("/"),
        };
        let env = app_environment(&cfg, "127.0.0.1:20001");
        let get = |k: &str| env.iter().find(|(ek, _)| ek == k).map(|(_, v)| v.as_str());
        assert_eq!(get("AWS_LAMBDA_HTTP_ENDPOINT"), Some("127.0.0.1:20001"));
        assert_eq!(get("AWS_LAMBDA_INITIALIZATION_TYPE"), Some("native-http"));
        assert_eq!(get("AWS_REGION"), Some("eu-west-1"));
        assert_eq!(get("PATH"), Some("/opt/bin"), "--env wins");
        assert_eq!(get("FOO"), Some("bar"));
        for absent in [
            "PORT",
            "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "_X_AMZN_TRACE_ID",
        ] {
            assert_eq!(get(absent), None, "{absent}");
        }
        assert_eq!(env.iter().filter(|(k, _)| k == "PATH").count(), 1);
    }
}
