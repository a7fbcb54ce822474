# The portside layer, the sample app's function, its log group and its
# Function URL.

resource "aws_lambda_layer_version" "portside" {
  layer_name               = "${var.name_prefix}-portside-${var.architecture}"
  description              = "portside adapter (extensions/portside) and exec wrapper (bootstrap) for ${var.architecture}"
  filename                 = local.layer_zip_path
  source_code_hash         = filebase64sha256(local.layer_zip_path)
  compatible_architectures = [var.architecture]

  lifecycle {
    precondition {
      condition     = fileexists(local.layer_zip_path)
      error_message = "No layer zip at ${local.layer_zip_path}: run ./build.sh at the repository root first, or set layer_zip_path."
    }
  }
}

resource "aws_cloudwatch_log_group" "function" {
  # checkov:skip=CKV_AWS_158: logs are encrypted with CloudWatch's own key; a KMS customer managed key costs about $1 a month, which a sample stack that should cost nothing at rest does not spend.
  # checkov:skip=CKV_AWS_338: retention is a cost guard (log_retention_days, 14 days by default); a year of sample-app logs is cost without use.
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "app" {
  # checkov:skip=CKV_AWS_116: a failed S3 import is retried twice by Lambda and logged; the CSV stays in the bucket to upload again, so a dead-letter queue (and the SQS permission it needs) adds little to a sample.
  # checkov:skip=CKV_AWS_117: the function reaches only DynamoDB and S3 over their public endpoints; a VPC would need NAT gateways or VPC endpoints that bill by the hour, against a sample that should cost nothing at rest.
  # checkov:skip=CKV_AWS_272: the zips are built locally by ./build.sh; code signing needs an AWS Signer profile and a signing job in the deploy path, beyond a sample.
  # checkov:skip=CKV_AWS_173: the environment holds no secrets (a table name, a port, a path, a mode) and Lambda encrypts it at rest with its AWS managed key; a customer managed key would add a monthly fee.
  # checkov:skip=CKV_AWS_50: X-Ray bills per trace beyond the free tier and needs xray:PutTraceSegments on the role; the sample keeps to CloudWatch logs (set tracing_config to Active to trace).
  function_name = local.function_name
  description   = "portside sample app (Flask users API) behind the portside adapter layer"
  role          = aws_iam_role.function.arn

  # A managed runtime runs the handler script through the exec wrapper; the
  # adapter (a Lambda extension from the layer) relays events to the app.
  runtime       = "python3.12"
  handler       = "run.sh"
  architectures = [var.architecture]
  layers        = [aws_lambda_layer_version.portside.arn]

  filename         = local.function_zip_path
  source_code_hash = filebase64sha256(local.function_zip_path)

  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency

  environment {
    variables = local.function_environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  lifecycle {
    precondition {
      condition     = fileexists(local.function_zip_path)
      error_message = "No function zip at ${local.function_zip_path}: run ./build.sh at the repository root first, or set function_zip_path."
    }
  }

  # The role's policy must be in place before the first invocation, and the
  # log group must exist (with its retention) before Lambda writes to it.
  depends_on = [
    aws_iam_role_policy.function,
    aws_cloudwatch_log_group.function,
  ]
}

resource "aws_lambda_function_url" "app" {
  # checkov:skip=CKV_AWS_258: NONE is the default on purpose, so the printed URL opens in a browser; function_url_authorization_type = "AWS_IAM" turns on SigV4 auth, and reserved concurrency bounds what anonymous callers can spend.
  function_name      = aws_lambda_function.app.function_name
  authorization_type = var.function_url_authorization_type
  invoke_mode        = var.function_url_invoke_mode
}

# A public (NONE) Function URL needs two statements in the function's
# resource policy since October 2025: lambda:InvokeFunctionUrl and
# lambda:InvokeFunction. With AWS_IAM the caller's own IAM policy grants both,
# so neither statement is created.
resource "aws_lambda_permission" "function_url" {
  # checkov:skip=CKV_AWS_301: a NONE Function URL is public by definition and needs this principal "*" statement; it exists only when function_url_authorization_type is NONE, and function_url_auth_type limits it to the URL.
  count = var.function_url_authorization_type == "NONE" ? 1 : 0

  statement_id           = "AllowPublicFunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.app.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_lambda_permission" "function_url_invoke" {
  # checkov:skip=CKV_AWS_301: AWS requires this principal "*" lambda:InvokeFunction statement for a NONE Function URL; it exists only when function_url_authorization_type is NONE. Provider 5.x cannot add the InvokedViaFunctionUrl condition that would limit it to the URL (see README).
  count = var.function_url_authorization_type == "NONE" ? 1 : 0

  statement_id  = "AllowPublicFunctionUrlInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.app.function_name
  principal     = "*"
}
