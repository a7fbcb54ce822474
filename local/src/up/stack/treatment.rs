//! What `up` does with each resource type: run it (functions, front doors,
//! the stand-in's resources, triggers), nothing because it has no local
//! effect (IAM, log groups, permissions, a bucket's encryption...), or
//! nothing because it is not emulated (listed at start). Also which types
//! are front doors, and which live only inside a VPC.
//!
//! Types not listed here are not emulated: a new type is said, never
//! skipped silently.

use super::Findings;
use crate::up::plan::{Mode, Plan, Resource};

/// The kinds of front door, each served on its own port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DoorKind {
    /// An HTTP API.
    HttpApi,
    /// A REST API.
    RestApi,
    /// A Function URL.
    FunctionUrl,
    /// An ALB target group of a function.
    TargetGroup,
}

/// Whether a resource is a front door (from values the first plan knows).
pub fn door_kind(r: &Resource) -> Option<DoorKind> {
    if r.mode != Mode::Managed {
        return None;
    }
    match r.kind.as_str() {
        "aws_apigatewayv2_api" if r.str("protocol_type") == Some("HTTP") => Some(DoorKind::HttpApi),
        "aws_api_gateway_rest_api" => Some(DoorKind::RestApi),
        "aws_lambda_function_url" => Some(DoorKind::FunctionUrl),
        "aws_lb_target_group" if r.str("target_type") == Some("lambda") => {
            Some(DoorKind::TargetGroup)
        }
        _ => None,
    }
}

/// Types `up` runs or reads (their own findings say what differs).
const RUN: &[&str] = &[
    "aws_lambda_function",
    "aws_lambda_layer_version",
    "aws_lambda_function_url",
    "aws_lambda_event_source_mapping",
    "aws_apigatewayv2_api",
    "aws_apigatewayv2_route",
    "aws_apigatewayv2_integration",
    "aws_apigatewayv2_stage",
    "aws_apigatewayv2_authorizer",
    "aws_api_gateway_rest_api",
    "aws_api_gateway_resource",
    "aws_api_gateway_method",
    "aws_api_gateway_integration",
    "aws_api_gateway_stage",
    "aws_api_gateway_deployment",
    "aws_api_gateway_authorizer",
    "aws_lb_target_group",
    "aws_lb_target_group_attachment",
    "aws_lb_listener",
    "aws_lb_listener_rule",
    "aws_s3_bucket",
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_notification",
    "aws_sqs_queue",
    "aws_sqs_queue_redrive_policy",
    "aws_dynamodb_table",
    "aws_cloudwatch_event_rule",
    "aws_cloudwatch_event_target",
];

/// Types with nothing to do locally: access control, logging, settings of
/// AWS's own operation.
const NO_LOCAL_EFFECT: &[&str] = &[
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
    "aws_iam_policy",
    "aws_lambda_permission",
    "aws_lambda_layer_version_permission",
    "aws_cloudwatch_log_group",
    "aws_api_gateway_method_settings",
    "aws_api_gateway_account",
    "aws_api_gateway_method_response",
    "aws_api_gateway_integration_response",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_acl",
    "aws_sqs_queue_policy",
    "aws_sqs_queue_redrive_allow_policy",
    "aws_lb",
    "aws_security_group",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
];

/// Resources reachable only from inside a VPC: a function's variable that
/// names one holds a placeholder locally.
const VPC_ONLY: &[&str] = &[
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_db_proxy",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_elasticache_serverless_cache",
    "aws_memorydb_cluster",
    "aws_mq_broker",
    "aws_msk_cluster",
    "aws_opensearch_domain",
    "aws_elasticsearch_domain",
    "aws_efs_file_system",
    "aws_efs_mount_target",
    "aws_docdb_cluster",
    "aws_neptune_cluster",
    "aws_redshift_cluster",
    "aws_instance",
];

/// Whether `kind` lives only inside a VPC.
pub fn vpc_only(kind: &str) -> bool {
    VPC_ONLY.contains(&kind)
}

/// Adds every managed resource `up` neither runs nor can ignore to the
/// findings: no-local-effect ones by address, the rest as not emulated.
pub fn classify(plan: &Plan, findings: &mut Findings) {
    for r in plan.resources.iter().filter(|r| r.mode == Mode::Managed) {
        let kind = r.kind.as_str();
        if RUN.contains(&kind) {
            continue;
        }
        if NO_LOCAL_EFFECT.contains(&kind) {
            findings.no_local_effect.push(r.address.clone());
        } else if vpc_only(kind) {
            findings.refuse(
                &r.address,
                format!(
                    "{kind} lives in a VPC: not emulated; nothing local answers at its address"
                ),
            );
        } else if !r.provider.ends_with("hashicorp/aws") && !r.provider.is_empty() {
            findings.no_local_effect.push(r.address.clone());
        } else {
            findings.not_emulated(&r.address, format!("{kind}: not emulated"));
        }
    }
}
