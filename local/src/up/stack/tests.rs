//! The stack read from a resolved plan written out by hand in the plan
//! representation's shape (resource types and arguments as the AWS
//! provider documents them), with real zip files for the packages.

use super::*;
use crate::auth::identity::IdentitySource;
use crate::auth::lambda::LambdaKind;
use crate::up::plan::{Mode, Resource};
use serde_json::{json, Value};
use std::io::Write;

const REGION: &str = "us-east-1";
const FN_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:users";
const LAYER_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:layer:shared-adapter:3";

fn res(kind: &str, address: &str, values: Value) -> Resource {
    Resource {
        address: address.into(),
        mode: Mode::Managed,
        kind: kind.into(),
        provider: "registry.terraform.io/hashicorp/aws".into(),
        values,
        unknown: json!({}),
        configured: Vec::new(),
        placeholders: Value::Null,
    }
}

fn zip(path: &std::path::Path, entries: &[&str]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
    for e in entries {
        w.start_file(
            *e,
            zip::write::SimpleFileOptions::default().unix_permissions(0o755),
        )
        .expect("entry");
        w.write_all(b"#!/bin/sh\n").expect("write");
    }
    w.finish().expect("finish");
}

fn invoke_arn(arn: &str) -> String {
    format!("arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations")
}

fn resources() -> Vec<Resource> {
    let body = json!({"openapi": "3.0.1", "paths": {"/{proxy+}": {"x-amazon-apigateway-any-method": {
        "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "responseTransferMode": "STREAM",
            "uri": format!("arn:aws:apigateway:{REGION}:lambda:path/2021-11-15/functions/{FN_ARN}/response-streaming-invocations")}}}}});
    vec![
        res(
            "aws_lambda_layer_version",
            "module.layer[0].aws_lambda_layer_version.this",
            json!({"arn": LAYER_ARN, "layer_name": "shared-adapter", "filename": "layer.zip"}),
        ),
        res(
            "aws_lambda_function",
            "module.app.aws_lambda_function.this",
            json!({
            "function_name": "users", "arn": FN_ARN, "filename": "app.zip", "handler": "run.sh", "runtime": "nodejs22.x",
            "layers": [LAYER_ARN, "arn:aws:lambda:us-east-1:999999999999:layer:otel:2"],
            "environment": [{"variables": {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap", "PORT": "3000"}}],
            "timeout": 20, "memory_size": 256, "reserved_concurrent_executions": 2, "architectures": ["x86_64"]}),
        ),
        res(
            "aws_lambda_function",
            "aws_lambda_function.image",
            json!({"function_name": "img", "package_type": "Image", "image_uri": "1.dkr.ecr/img:1"}),
        ),
        res(
            "aws_apigatewayv2_api",
            "aws_apigatewayv2_api.quick",
            json!({"id": "q1", "name": "quick", "protocol_type": "HTTP", "target": FN_ARN}),
        ),
        res(
            "aws_api_gateway_rest_api",
            "aws_api_gateway_rest_api.stream",
            json!({"id": "r1", "name": "stream", "body": body.to_string(), "root_resource_id": "root"}),
        ),
        res(
            "aws_api_gateway_stage",
            "aws_api_gateway_stage.prod",
            json!({"rest_api_id": "r1", "stage_name": "prod", "variables": {"b": "2", "a": "1"}}),
        ),
        res(
            "aws_lambda_function_url",
            "aws_lambda_function_url.u",
            json!({"function_name": "users", "invoke_mode": "RESPONSE_STREAM", "authorization_type": "AWS_IAM"}),
        ),
        res(
            "aws_lb_target_group",
            "aws_lb_target_group.tg",
            json!({"arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1", "target_type": "lambda"}),
        ),
        res(
            "aws_lb_target_group_attachment",
            "aws_lb_target_group_attachment.a",
            json!({"target_group_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1", "target_id": format!("{FN_ARN}:live")}),
        ),
        res(
            "aws_s3_bucket",
            "aws_s3_bucket.b",
            json!({"bucket": "uploads"}),
        ),
        res(
            "aws_s3_bucket_notification",
            "aws_s3_bucket_notification.n",
            json!({"bucket": "uploads",
            "lambda_function": [{"id": "csv", "lambda_function_arn": FN_ARN, "events": ["s3:ObjectCreated:*"], "filter_suffix": ".csv"}],
            "queue": [{"id": "all", "queue_arn": "arn:aws:sqs:us-east-1:123456789012:jobs", "events": ["s3:ObjectRemoved:*"]}],
            "topic": [{"topic_arn": "arn:aws:sns:us-east-1:123456789012:t"}]}),
        ),
        res(
            "aws_sqs_queue",
            "aws_sqs_queue.jobs",
            json!({"name": "jobs", "url": "http://127.0.0.1:4566/123456789012/jobs",
            "arn": "arn:aws:sqs:us-east-1:123456789012:jobs", "visibility_timeout_seconds": 30, "redrive_policy": "{\"maxReceiveCount\":3}"}),
        ),
        res(
            "aws_dynamodb_table",
            "aws_dynamodb_table.t",
            json!({"name": "t", "arn": "arn:aws:dynamodb:us-east-1:123456789012:table/t",
            "hash_key": "pk", "range_key": "sk", "attribute": [{"name": "pk", "type": "S"}, {"name": "sk", "type": "N"}],
            "stream_enabled": true, "stream_view_type": "NEW_IMAGE", "stream_arn": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x"}),
        ),
        res(
            "aws_lambda_event_source_mapping",
            "aws_lambda_event_source_mapping.q",
            json!({"event_source_arn": "arn:aws:sqs:us-east-1:123456789012:jobs", "function_name": "users"}),
        ),
        res(
            "aws_lambda_event_source_mapping",
            "aws_lambda_event_source_mapping.s",
            json!({"event_source_arn": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x", "function_name": FN_ARN, "starting_position": "TRIM_HORIZON"}),
        ),
        res(
            "aws_lambda_event_source_mapping",
            "aws_lambda_event_source_mapping.k",
            json!({"event_source_arn": "arn:aws:kafka:us-east-1:123456789012:cluster/c/1", "function_name": FN_ARN}),
        ),
        res(
            "aws_cloudwatch_event_rule",
            "aws_cloudwatch_event_rule.r",
            json!({"name": "nightly", "arn": "arn:aws:events:us-east-1:123456789012:rule/nightly", "schedule_expression": "cron(0 3 * * ? *)"}),
        ),
        res(
            "aws_cloudwatch_event_target",
            "aws_cloudwatch_event_target.t",
            json!({"rule": "nightly", "arn": FN_ARN, "input": "{\"job\":1}"}),
        ),
        res(
            "aws_cloudwatch_event_rule",
            "aws_cloudwatch_event_rule.p",
            json!({"name": "pattern", "event_pattern": "{}"}),
        ),
        res(
            "aws_iam_role",
            "module.app.aws_iam_role.this",
            json!({"name": "r"}),
        ),
        res(
            "aws_appsync_graphql_api",
            "aws_appsync_graphql_api.g",
            json!({"name": "g"}),
        ),
    ]
}

fn read() -> (Stack, std::path::PathBuf) {
    read_with(resources(), &[])
}

fn read_with(resources: Vec<Resource>, jwks: &[(String, String)]) -> (Stack, std::path::PathBuf) {
    read_plan(
        Plan {
            resources,
            ..Plan::default()
        },
        jwks,
    )
}

fn read_plan(plan: Plan, jwks: &[(String, String)]) -> (Stack, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("up-stack-test-{}", crate::util::random_hex(6)));
    std::fs::create_dir_all(&dir).expect("mkdir");
    zip(&dir.join("app.zip"), &["run.sh"]);
    zip(
        &dir.join("layer.zip"),
        &["extensions/portside", "bootstrap"],
    );
    let ws = crate::up::workspace::Workspace::new(&dir).expect("view");
    let cx = Context {
        first: &plan,
        plan: &plan,
        ws: &ws,
        region: REGION.into(),
        jwks,
        iam: crate::auth::iam::IamMode::Deny,
    };
    (Stack::read(&cx), dir)
}

fn said(list: &[Finding], address: &str, words: &str) -> bool {
    list.iter()
        .any(|f| f.address == address && f.text.contains(words))
}

#[test]
fn functions_from_modules_with_the_portside_layer_mapped_and_others_named() {
    let (stack, dir) = read();
    assert_eq!(stack.functions.len(), 1, "the image function is refused");
    let f = &stack.functions[0];
    assert_eq!(
        (
            f.name.as_str(),
            f.handler.as_str(),
            f.memory,
            f.timeout.as_secs()
        ),
        ("users", "run.sh", 256, 20)
    );
    assert_eq!(
        f.runtime,
        Runtime::Wrapped("nodejs22.x".into()),
        "the exec wrapper starts a Node.js handler"
    );
    assert_eq!(f.reserved, Some(2));
    assert_eq!(
        f.layers[0],
        LayerUse::Portside {
            arn: LAYER_ARN.into()
        },
        "its zip holds extensions/portside"
    );
    assert!(matches!(&f.layers[1], LayerUse::Remote { arn } if arn.ends_with("otel:2")));
    assert!(said(&stack.findings.warnings, "module.app.aws_lambda_function.this", "layer arn:aws:lambda:us-east-1:999999999999:layer:otel:2 is neither in the stack nor portside's: not attached"));
    assert!(said(
        &stack.findings.refusals,
        "aws_lambda_function.image",
        "a container image (1.dkr.ecr/img:1): portside-local runs no containers"
    ));
    for r in [
        "users",
        FN_ARN,
        &format!("{FN_ARN}:live"),
        &invoke_arn(FN_ARN),
    ] {
        assert_eq!(stack.function_ref(r), Some(0), "{r}");
    }
    assert_eq!(
        stack.function_ref("arn:aws:lambda:us-east-1:123456789012:function:users2"),
        None
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn doors_quick_create_streaming_openapi_url_and_target_group() {
    let (stack, dir) = read();
    let quick = &stack.http_apis[0];
    assert_eq!(quick.routes[0].key, "$default");
    assert_eq!(
        quick.routes[0]
            .integration
            .as_ref()
            .map(|i| (i.function, i.payload_v1)),
        Some((0, false)),
        "quick create uses payload 2.0"
    );
    assert_eq!(
        quick.stages,
        vec![Stage {
            name: "$default".into(),
            variables: Vec::new()
        }]
    );
    let rest = &stack.rest_apis[0];
    assert_eq!(
        (rest.routes[0].path.as_str(), rest.routes[0].method.as_str()),
        ("/{proxy+}", "ANY")
    );
    assert!(
        rest.routes[0]
            .integration
            .as_ref()
            .is_some_and(|i| i.stream),
        "the STREAM transfer mode"
    );
    assert_eq!(
        rest.stages[0].variables,
        vec![
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string())
        ]
    );
    assert!(stack.urls[0].stream && stack.urls[0].iam);
    assert!(said(
        &stack.findings.not_emulated,
        "aws_lambda_function_url.u",
        "AWS_IAM authorization is not emulated: SigV4 signatures are not checked, so a signed request passes; an unsigned one is refused with 403"
    ));
    assert_eq!(
        stack.target_groups[0].function,
        Some(0),
        "attached by a qualified ARN"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn services_and_triggers() {
    let (stack, dir) = read();
    let b = &stack.buckets[0];
    assert_eq!(b.notifications.len(), 2);
    assert_eq!(
        (
            b.notifications[0].target.clone(),
            b.notifications[0].suffix.as_str()
        ),
        (NotificationTarget::Function(0), ".csv")
    );
    assert_eq!(
        b.notifications[1].target,
        NotificationTarget::Queue("arn:aws:sqs:us-east-1:123456789012:jobs".into())
    );
    assert!(said(
        &stack.findings.not_emulated,
        "aws_s3_bucket_notification.n",
        "SNS topic"
    ));
    assert!(stack.queues[0]
        .attributes
        .contains(&("RedrivePolicy".into(), "{\"maxReceiveCount\":3}".into())));
    assert!(stack.queues[0]
        .attributes
        .contains(&("VisibilityTimeout".into(), "30".into())));
    let t = &stack.tables[0];
    assert_eq!(
        t.create["KeySchema"][1],
        json!({"AttributeName": "sk", "KeyType": "RANGE"})
    );
    assert_eq!(
        t.create["StreamSpecification"]["StreamViewType"],
        "NEW_IMAGE"
    );
    let q = &stack.queue_mappings[0];
    assert_eq!(
        (q.batch_size, q.window.as_secs(), q.report_failures),
        (10, 0, false),
        "Lambda's SQS defaults"
    );
    let s = &stack.stream_mappings[0];
    assert_eq!(
        (s.batch_size, s.from_start),
        (100, true),
        "Lambda's stream defaults"
    );
    assert!(said(
        &stack.findings.not_emulated,
        "aws_lambda_event_source_mapping.k",
        "from kafka"
    ));
    let rule = &stack.schedules[0];
    assert_eq!(
        (rule.name.as_str(), rule.input.as_deref(), rule.enabled),
        ("nightly", Some("{\"job\":1}"), true)
    );
    assert!(said(
        &stack.findings.not_emulated,
        "aws_cloudwatch_event_rule.p",
        "event pattern"
    ));
    assert!(
        said(
            &stack.findings.not_emulated,
            "aws_appsync_graphql_api.g",
            "not emulated"
        ),
        "an unknown type is said"
    );
    assert!(stack
        .findings
        .no_local_effect
        .contains(&"module.app.aws_iam_role.this".to_string()));
    assert!(stack.needs_aws());
    let _ = std::fs::remove_dir_all(dir);
}

/// An HTTP API and a REST API with the authorizer resources and the route
/// and method arguments of the AWS provider's documentation
/// (aws_apigatewayv2_authorizer, aws_apigatewayv2_route,
/// aws_api_gateway_authorizer, aws_api_gateway_method).
fn authorized() -> Vec<Resource> {
    let fn_uri = invoke_arn(FN_ARN);
    let route = |name: &str, key: &str, auth: Value| {
        let mut v = json!({"api_id": "h1", "route_key": key, "target": "integrations/i1"});
        for (k, x) in auth.as_object().expect("object") {
            v[k] = x.clone();
        }
        res(
            "aws_apigatewayv2_route",
            &format!("aws_apigatewayv2_route.{name}"),
            v,
        )
    };
    let method = |name: &str, path_id: &str, auth: Value| {
        let mut v = json!({"rest_api_id": "r1", "resource_id": path_id, "http_method": "GET"});
        for (k, x) in auth.as_object().expect("object") {
            v[k] = x.clone();
        }
        res(
            "aws_api_gateway_method",
            &format!("aws_api_gateway_method.{name}"),
            v,
        )
    };
    let mut list = resources();
    list.extend([
        res("aws_apigatewayv2_api", "aws_apigatewayv2_api.h", json!({"id": "h1", "name": "h", "protocol_type": "HTTP"})),
        res("aws_apigatewayv2_integration", "aws_apigatewayv2_integration.i", json!({"id": "i1", "api_id": "h1",
            "integration_type": "AWS_PROXY", "integration_uri": fn_uri, "payload_format_version": "2.0"})),
        res("aws_apigatewayv2_authorizer", "aws_apigatewayv2_authorizer.local", json!({"id": "a1", "api_id": "h1",
            "authorizer_type": "JWT", "identity_sources": ["$request.header.Authorization"],
            "jwt_configuration": [{"issuer": "http://127.0.0.1:8080/realms/dev", "audience": ["api"]}]})),
        res("aws_apigatewayv2_authorizer", "aws_apigatewayv2_authorizer.cognito", json!({"id": "a2", "api_id": "h1",
            "authorizer_type": "JWT", "identity_sources": ["$request.header.Authorization"],
            "jwt_configuration": [{"issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x", "audience": ["app"]}]})),
        res("aws_apigatewayv2_authorizer", "aws_apigatewayv2_authorizer.lambda", json!({"id": "a3", "api_id": "h1",
            "authorizer_type": "REQUEST", "authorizer_uri": fn_uri, "authorizer_payload_format_version": "2.0",
            "enable_simple_responses": true, "authorizer_result_ttl_in_seconds": 0,
            "identity_sources": ["$request.header.X-Key", "$request.querystring.tenant"]})),
        route("jwt", "GET /jwt", json!({"authorization_type": "JWT", "authorizer_id": "a1", "authorization_scopes": ["write", "read"]})),
        route("cognito", "GET /cognito", json!({"authorization_type": "JWT", "authorizer_id": "a2"})),
        route("lambda", "GET /lambda", json!({"authorization_type": "CUSTOM", "authorizer_id": "a3"})),
        route("mismatch", "GET /mismatch", json!({"authorization_type": "CUSTOM", "authorizer_id": "a1"})),
        route("iam", "GET /iam", json!({"authorization_type": "AWS_IAM"})),
        route("open", "GET /open", json!({"authorization_type": "NONE"})),
        res("aws_api_gateway_rest_api", "aws_api_gateway_rest_api.r", json!({"id": "r1", "name": "r", "root_resource_id": "root"})),
        res("aws_api_gateway_resource", "aws_api_gateway_resource.a", json!({"id": "p1", "rest_api_id": "r1", "parent_id": "root", "path_part": "a"})),
        res("aws_api_gateway_resource", "aws_api_gateway_resource.b", json!({"id": "p2", "rest_api_id": "r1", "parent_id": "root", "path_part": "b"})),
        res("aws_api_gateway_authorizer", "aws_api_gateway_authorizer.token", json!({"id": "t1", "rest_api_id": "r1",
            "type": "TOKEN", "authorizer_uri": fn_uri, "identity_source": "method.request.header.X-Token",
            "identity_validation_expression": "Bearer .+", "authorizer_result_ttl_in_seconds": 60})),
        res("aws_api_gateway_authorizer", "aws_api_gateway_authorizer.pool", json!({"id": "t2", "rest_api_id": "r1",
            "type": "COGNITO_USER_POOLS", "provider_arns": ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_x"]})),
        method("a", "p1", json!({"authorization": "CUSTOM", "authorizer_id": "t1"})),
        method("b", "p2", json!({"authorization": "COGNITO_USER_POOLS", "authorizer_id": "t2"})),
    ]);
    list
}

#[test]
fn authorizers_and_each_routes_authorization() {
    let (stack, dir) = read_with(authorized(), &[]);
    let by_address = |a: &str| {
        let i = stack
            .authorizers
            .iter()
            .position(|x| x.address == a)
            .expect(a);
        (i, &stack.authorizers[i])
    };
    let (jwt, local) = by_address("aws_apigatewayv2_authorizer.local");
    let Some(AuthorizerKind::Jwt(cfg)) = &local.kind else {
        panic!("{local:?}")
    };
    assert_eq!(
        cfg.jwks,
        crate::auth::jwks::JwksSource::Discover("http://127.0.0.1:8080/realms/dev".into()),
        "a loopback issuer is asked for its discovery document"
    );
    let (_, cognito) = by_address("aws_apigatewayv2_authorizer.cognito");
    assert!(cognito.kind.is_none());
    assert!(said(&stack.findings.refusals, "aws_apigatewayv2_authorizer.cognito", "is not on this machine, and up reaches nothing beyond it: pass --jwt-jwks 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x=FILE'"));
    let (lambda, l) = by_address("aws_apigatewayv2_authorizer.lambda");
    let Some(AuthorizerKind::Lambda {
        function: 0,
        config,
    }) = &l.kind
    else {
        panic!("{l:?}")
    };
    assert!(config.ttl.is_zero());
    assert_eq!(config.identity.len(), 2);
    let api = stack.http_apis.iter().find(|a| a.name == "h").expect("h");
    let guard = |key: &str| {
        api.routes
            .iter()
            .find(|r| r.key == key)
            .expect(key)
            .auth
            .clone()
    };
    assert_eq!(
        guard("GET /jwt"),
        Guard::Authorizer {
            index: jwt,
            scopes: vec!["read".into(), "write".into()]
        }
    );
    assert_eq!(guard("GET /cognito"), Guard::Refused);
    assert!(said(
        &stack.findings.refusals,
        "aws_apigatewayv2_route.cognito",
        "is guarded by aws_apigatewayv2_authorizer.cognito, which is refused: answered 401"
    ));
    assert_eq!(
        guard("GET /lambda"),
        Guard::Authorizer {
            index: lambda,
            scopes: vec![]
        }
    );
    assert_eq!(
        guard("GET /mismatch"),
        Guard::Refused,
        "CUSTOM with a JWT authorizer"
    );
    assert_eq!(guard("GET /iam"), Guard::Iam);
    assert!(said(
        &stack.findings.not_emulated,
        "aws_apigatewayv2_route.iam",
        "route GET /iam: AWS_IAM authorization is not emulated"
    ));
    assert_eq!(guard("GET /open"), Guard::Open);

    let (token, t) = by_address("aws_api_gateway_authorizer.token");
    let Some(AuthorizerKind::Lambda { config, .. }) = &t.kind else {
        panic!("{t:?}")
    };
    let LambdaKind::RestToken {
        validation: Some(re),
    } = &config.kind
    else {
        panic!("{config:?}")
    };
    assert!(
        re.is_match("Bearer abc") && !re.is_match("xBearer abc"),
        "the whole token must match"
    );
    assert_eq!(
        config.identity,
        vec![IdentitySource::Header("X-Token".into())]
    );
    assert_eq!(config.ttl, std::time::Duration::from_secs(60));
    let rest = stack.rest_apis.iter().find(|a| a.name == "r").expect("r");
    let m = |p: &str| {
        rest.routes
            .iter()
            .find(|r| r.path == p)
            .expect(p)
            .auth
            .clone()
    };
    assert_eq!(
        m("/a"),
        Guard::Authorizer {
            index: token,
            scopes: vec![]
        }
    );
    assert_eq!(m("/b"), Guard::Refused);
    assert!(said(
        &stack.findings.refusals,
        "aws_api_gateway_authorizer.pool",
        "a Cognito user pool authorizer: not emulated"
    ));
    assert!(
        !stack
            .findings
            .not_emulated
            .iter()
            .any(|f| f.address.contains("_authorizer.")),
        "authorizers are read, not listed as not emulated"
    );
    let _ = std::fs::remove_dir_all(dir);

    // A key set given for the remote issuer lets its authorizer run.
    let given = [(
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x/".to_string(),
        "keys.json".to_string(),
    )];
    let (stack, dir) = read_with(authorized(), &given);
    let c = stack
        .authorizers
        .iter()
        .find(|a| a.address.ends_with(".cognito"))
        .expect("cognito");
    let Some(AuthorizerKind::Jwt(cfg)) = &c.kind else {
        panic!("{c:?}")
    };
    assert_eq!(
        cfg.jwks,
        crate::auth::jwks::JwksSource::File("keys.json".into())
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The archive provider's `archive_file` data source as the first plan
/// reads it (its arguments: type, source_dir or source_file or source
/// blocks, output_path, excludes).
fn archive(name: &str, values: Value) -> Resource {
    Resource {
        address: format!("data.archive_file.{name}"),
        mode: Mode::Data,
        kind: "archive_file".into(),
        provider: "registry.terraform.io/hashicorp/archive".into(),
        values,
        unknown: json!({}),
        configured: Vec::new(),
        placeholders: Value::Null,
    }
}

#[test]
fn a_package_zipped_by_archive_file_comes_from_its_folder() {
    let function = |name: &str, filename: &str| {
        res(
            "aws_lambda_function",
            &format!("aws_lambda_function.{name}"),
            json!({"function_name": name, "filename": filename, "handler": "run.sh", "runtime": "provided.al2023"}),
        )
    };
    let plan = Plan {
        resources: vec![function("a", "app.zip"), function("b", "layer.zip")],
        read: vec![archive(
            "app",
            json!({"type": "zip", "source_dir": "./src", "output_path": "./app.zip", "excludes": ["tests", "**/*.pyc"]}),
        )],
        ..Plan::default()
    };
    let (stack, dir) = read_plan(plan, &[]);
    let real = dir.canonicalize().expect("canonical");
    assert_eq!(
        stack.functions[0].code,
        CodeSource::Archive {
            address: "data.archive_file.app".into(),
            dir: real.join("src"),
            file: None,
            excludes: vec!["tests".into(), "**/*.pyc".into()],
        },
        "output_path ./app.zip is the filename app.zip"
    );
    assert_eq!(stack.functions[1].code, CodeSource::Prebuilt);
    let _ = std::fs::remove_dir_all(dir);

    let plan = Plan {
        resources: vec![function("a", "app.zip"), function("b", "layer.zip")],
        read: vec![
            archive(
                "one",
                json!({"type": "zip", "source_file": "fn/main.py", "output_path": "app.zip"}),
            ),
            archive(
                "inline",
                json!({"type": "zip", "source": [{"content": "x", "filename": "x"}], "output_path": "layer.zip"}),
            ),
        ],
        ..Plan::default()
    };
    let (stack, dir) = read_plan(plan, &[]);
    let real = dir.canonicalize().expect("canonical");
    assert_eq!(
        stack.functions[0].code,
        CodeSource::Archive {
            address: "data.archive_file.one".into(),
            dir: real.join("fn"),
            file: Some(real.join("fn/main.py")),
            excludes: Vec::new(),
        }
    );
    assert_eq!(
        stack.functions[1].code,
        CodeSource::Inline {
            address: "data.archive_file.inline".into()
        }
    );
    let _ = std::fs::remove_dir_all(dir);
}
