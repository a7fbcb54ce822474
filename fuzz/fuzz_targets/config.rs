//! Configuration values: `Config::from_lookup` with arbitrary strings for
//! every variable it reads.
//!
//! Input: `NAME=value` lines. Lambda's own variables have ordinary values
//! unless the input sets them (an empty value unsets one).
//!
//! What must hold: no panic; an error names a variable the input set (or a
//! required one left unset); a valid config holds only what the adapter can
//! use as it stands: Lambda's API addresses with a host, no user name, and
//! a path prefix without `?` or `#`; paths that are request targets exactly
//! (never silently replaced where they are used); the app's authority a
//! valid one.

#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use portside::testing::config::{settings, ApiAddress, Config};

const LAMBDA: [(&str, &str); 4] = [
    ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
    ("AWS_LAMBDA_FUNCTION_NAME", "fuzz"),
    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
    ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
];

fn known(name: &str) -> bool {
    let extra = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION"];
    extra.contains(&name)
        || settings::SETTINGS
            .iter()
            .chain(settings::LAMBDA_SETTINGS)
            .any(|s| s.names().contains(&name) || s.older_names().contains(&name))
}

/// A path used as a request target as it stands.
fn is_target(path: &str) -> bool {
    path.starts_with('/')
        && path
            .parse::<http::uri::PathAndQuery>()
            .is_ok_and(|p| p.as_str() == path && p.query().is_none())
}

fn check_address(address: &ApiAddress) {
    assert!(!address.host().is_empty(), "{address:?} has no host");
    assert!(
        !address.authority().contains('@'),
        "{address:?} holds a user name"
    );
    let prefix = address.prefix();
    assert!(prefix.is_empty() || prefix.starts_with('/'), "{address:?}");
    assert!(!prefix.ends_with('/'), "{address:?}");
    assert!(
        !prefix.contains(['?', '#']),
        "{address:?} prefix holds ? or #"
    );
    let url: http::Uri = address.url().parse().expect("the address is a URL");
    assert_eq!(
        url.authority().map(|a| a.as_str()),
        Some(address.authority())
    );
    assert_eq!(url.port_u16().unwrap_or(80), address.port());
    assert_eq!(url.path().trim_end_matches('/'), prefix);
    // What each Runtime API call is sent to.
    let next = format!("{}/2018-06-01/runtime/invocation/next", address.url());
    let next: http::Uri = next.parse().expect("a Runtime API call's URL");
    assert!(next.query().is_none());
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut env: HashMap<String, String> = LAMBDA
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for line in text.lines() {
        if let Some((name, value)) = line.split_once('=') {
            env.insert(name.to_string(), value.to_string());
        }
    }
    let set = |name: &str| env.get(name).is_some_and(|v| !v.trim().is_empty());
    match Config::from_lookup(|name| env.get(name).cloned()) {
        Err(err) => {
            assert!(known(err.variable), "the error names {:?}", err.variable);
            let required = LAMBDA.iter().any(|(k, _)| *k == err.variable);
            assert!(
                set(err.variable) || required,
                "the error names {} which the input did not set",
                err.variable
            );
            assert!(!err.message.is_empty());
            assert!(err.to_string().starts_with(err.variable));
        }
        Ok(config) => {
            check_address(&config.runtime_api.invocations);
            check_address(&config.runtime_api.extensions);
            let authority = portside::testing::uri::authority(&config.host, config.port);
            assert!(
                authority.parse::<http::uri::Authority>().is_ok(),
                "the app's authority {authority:?}"
            );
            assert!(
                is_target(&config.pass_through_path),
                "{:?}",
                config.pass_through_path
            );
            assert!(
                is_target(&config.websocket_path),
                "{:?}",
                config.websocket_path
            );
            assert!(
                is_target(&config.readiness.path),
                "{:?}",
                config.readiness.path
            );
            for path in [
                &config.snapstart_before_checkpoint_path,
                &config.snapstart_after_restore_path,
            ]
            .into_iter()
            .flatten()
            {
                assert!(is_target(path), "{path:?}");
            }
            if let Some(base) = &config.remove_base_path {
                assert!(base.starts_with('/') && !base.ends_with('/'), "{base:?}");
            }
        }
    }
});
