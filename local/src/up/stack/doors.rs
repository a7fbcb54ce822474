//! Function URLs (`aws_lambda_function_url`: invoke mode, auth type) and
//! ALB target groups of functions (`aws_lb_target_group` with
//! `target_type = "lambda"` and its `aws_lb_target_group_attachment`).

use super::{s, Context, Stack};

/// A Function URL.
#[derive(Debug, Clone)]
pub struct FunctionUrl {
    /// Its address.
    pub address: String,
    /// Its function (index into [`Stack::functions`]).
    pub function: usize,
    /// `RESPONSE_STREAM`.
    pub stream: bool,
    /// `AWS_IAM` (not emulated: signatures are not checked; `--iam-auth`
    /// decides unsigned requests; said at start).
    pub iam: bool,
}

/// An ALB target group of one function.
#[derive(Debug, Clone)]
pub struct TargetGroup {
    /// Its address.
    pub address: String,
    /// Its ARN.
    pub arn: String,
    /// Its function (`None`: no attachment; answered 502 as ALB does).
    pub function: Option<usize>,
    /// `lambda_multi_value_headers_enabled`.
    pub multi_value: bool,
}

/// Reads Function URLs and Lambda target groups.
pub(super) fn read(cx: &Context<'_>, stack: &mut Stack) {
    for u in cx.plan.of("aws_lambda_function_url") {
        let Some(function) = stack.function_ref(s(u, "function_name")) else {
            stack.findings.refuse(
                &u.address,
                format!(
                    "the URL of {}, which up does not run: not served",
                    s(u, "function_name")
                ),
            );
            continue;
        };
        let iam = s(u, "authorization_type") == "AWS_IAM";
        if iam {
            stack
                .findings
                .not_emulated(&u.address, super::auth::iam_text(cx.iam));
        }
        if !u.block("cors").is_null() {
            stack.findings.not_emulated(
                &u.address,
                "its CORS configuration is not emulated: preflight requests reach the function",
            );
        }
        stack.urls.push(FunctionUrl {
            address: u.address.clone(),
            function,
            stream: s(u, "invoke_mode") == "RESPONSE_STREAM",
            iam,
        });
    }
    for t in cx.plan.of("aws_lb_target_group") {
        if s(t, "target_type") != "lambda" {
            stack.findings.not_emulated(
                &t.address,
                format!(
                    "a target group of {} targets: not emulated",
                    s(t, "target_type")
                ),
            );
            continue;
        }
        let arn = s(t, "arn").to_string();
        let function = cx
            .plan
            .of("aws_lb_target_group_attachment")
            .filter(|a| s(a, "target_group_arn") == arn)
            .find_map(|a| stack.function_ref(s(a, "target_id")));
        if function.is_none() {
            stack.findings.warn(&t.address, "no function of the stack is attached: every request answers 502 Bad Gateway, as ALB does");
        }
        stack.target_groups.push(TargetGroup {
            address: t.address.clone(),
            arn,
            function,
            multi_value: t.values["lambda_multi_value_headers_enabled"] == true,
        });
    }
    for l in cx
        .plan
        .of("aws_lb_listener")
        .chain(cx.plan.of("aws_lb_listener_rule"))
    {
        stack.findings.not_emulated(&l.address, "listener rules are not read: each Lambda target group has its own port, and every request on it goes to the group");
    }
}
