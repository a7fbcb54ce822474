//! IAM authorization (`AWS_IAM` on an API Gateway route, a Function URL's
//! `AWS_IAM` auth type) is not emulated: portside-local cannot check a
//! SigV4 signature against AWS's accounts and policies. It says so at
//! start, and `--iam-auth allow|deny` chooses what happens to a request
//! that carries no signature; a signed request (an `Authorization:
//! AWS4-HMAC-SHA256 ...` header, or a presigned URL's `X-Amz-Algorithm`)
//! passes without its signature being checked.
//!
//! Must not: log or inspect the signature.

use crate::frontdoor::events::HttpRequest;

/// What happens to an unsigned request on an IAM-authorized route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IamMode {
    /// Passes, as if its signature had been checked.
    Allow,
    /// Refused as AWS refuses an unsigned request (403).
    Deny,
}

impl IamMode {
    /// `allow` or `deny`.
    pub fn parse(s: &str) -> Result<IamMode, String> {
        match s {
            "allow" => Ok(IamMode::Allow),
            "deny" => Ok(IamMode::Deny),
            _ => Err(
                "wants allow or deny (what to do with requests without a SigV4 signature)".into(),
            ),
        }
    }

    /// The start-up notice.
    pub fn notice(self) -> String {
        format!(
            "IAM authorization is not emulated: SigV4 signatures are not checked; a signed request passes, and an unsigned one is {} (--iam-auth {})",
            match self {
                IamMode::Allow => "let through",
                IamMode::Deny => "refused with 403 as AWS refuses it",
            },
            match self {
                IamMode::Allow => "allow",
                IamMode::Deny => "deny",
            }
        )
    }
}

/// Whether the request carries a SigV4 signature (not checked).
pub fn is_signed(req: &HttpRequest) -> bool {
    let header = req.headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("authorization") && v.trim_start().starts_with("AWS4-HMAC-SHA256 ")
    });
    let presigned = req
        .query
        .split('&')
        .any(|p| p.starts_with("X-Amz-Algorithm=AWS4-HMAC-SHA256"));
    header || presigned
}

/// Whether the request may pass.
pub fn allows(mode: IamMode, req: &HttpRequest) -> bool {
    mode == IamMode::Allow || is_signed(req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn req(headers: &[(&str, &str)], query: &str) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            path: "/".into(),
            query: query.into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Bytes::new(),
            source_ip: "127.0.0.1".into(),
            port: 3000,
        }
    }

    #[test]
    fn only_unsigned_requests_are_subject_to_the_mode() {
        let signed = req(&[("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00")], "");
        let presigned = req(&[], "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00");
        let unsigned = req(&[("Authorization", "Bearer x")], "");
        assert!(allows(IamMode::Deny, &signed));
        assert!(allows(IamMode::Deny, &presigned));
        assert!(!allows(IamMode::Deny, &unsigned));
        assert!(allows(IamMode::Allow, &unsigned));
        assert!(IamMode::parse("maybe")
            .unwrap_err()
            .contains("allow or deny"));
    }
}
