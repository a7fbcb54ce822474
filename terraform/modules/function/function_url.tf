# The Function URL front door (var.function_url). With auth type NONE, the
# two resource-policy statements AWS requires for a public URL since October
# 2025 (lambda:InvokeFunctionUrl and lambda:InvokeFunction); with AWS_IAM the
# caller's own IAM policy grants both, so neither is created.

resource "aws_lambda_function_url" "this" {
  # checkov:skip=CKV_AWS_258: the auth type is the caller's choice and AWS_IAM is the default; NONE is for public apps, whose cost reserved_concurrency bounds.
  count = var.function_url ? 1 : 0

  function_name      = aws_lambda_function.this.function_name
  authorization_type = var.function_url_auth_type
  invoke_mode        = var.function_url_invoke_mode

  dynamic "cors" {
    for_each = var.function_url_cors == null ? [] : [var.function_url_cors]
    content {
      allow_origins     = cors.value.allow_origins
      allow_methods     = cors.value.allow_methods
      allow_headers     = cors.value.allow_headers
      expose_headers    = cors.value.expose_headers
      allow_credentials = cors.value.allow_credentials
      max_age           = cors.value.max_age
    }
  }
}

resource "aws_lambda_permission" "function_url" {
  # checkov:skip=CKV_AWS_301: a NONE Function URL is public by definition and needs this principal "*" statement; it exists only with function_url_auth_type = "NONE", and function_url_auth_type limits it to the URL.
  count = var.function_url && var.function_url_auth_type == "NONE" ? 1 : 0

  statement_id           = "AllowPublicFunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_lambda_permission" "function_url_invoke" {
  # checkov:skip=CKV_AWS_301: AWS requires this principal "*" lambda:InvokeFunction statement for a NONE Function URL; it exists only with function_url_auth_type = "NONE". Provider 5.x cannot add the InvokedViaFunctionUrl condition that limits it to the URL (provider 6.x: invoked_via_function_url = true).
  count = var.function_url && var.function_url_auth_type == "NONE" ? 1 : 0

  statement_id  = "AllowPublicFunctionUrlInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "*"
}
