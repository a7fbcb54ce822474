# One web app on Lambda behind the portside adapter: the function, its log
# group and its execution role. The front doors are in http_api.tf,
# rest_api.tf and function_url.tf.
#
# A zip package runs on a managed runtime: the portside layer adds the adapter
# (/opt/extensions/portside, a Lambda extension) and the exec wrapper
# (/opt/bootstrap), which AWS_LAMBDA_EXEC_WRAPPER makes the runtime run
# instead of its own client; the wrapper starts the handler script, which
# starts the app on $PORT. A container image carries the adapter itself in
# /opt/extensions/ and starts the app with its own CMD, so it needs neither.

data "aws_partition" "current" {}

locals {
  is_zip   = var.package_zip != null
  is_image = var.image_uri != null
  # A Web Functions app has no start script: its index.js starts it.
  handler = coalesce(var.handler, var.web_function ? "index.js" : "run.sh")

  # One variable switches the adapter to streaming for both REST API and
  # Function URL events (HTTP API, ALB and Lattice events stay buffered), so
  # it is set when either front door streams, and left at the adapter's
  # default otherwise.
  rest_api_streams     = var.rest_api && var.rest_api_response_transfer_mode == "STREAM"
  function_url_streams = var.function_url && var.function_url_invoke_mode == "RESPONSE_STREAM"
  streams              = local.rest_api_streams || local.function_url_streams

  adapter_environment = merge(
    local.is_zip ? { AWS_LAMBDA_EXEC_WRAPPER = "/opt/bootstrap" } : {},
    { PORT = tostring(var.port) },
    local.streams ? { PORTSIDE_INVOKE_MODE = "response_stream" } : {},
    var.web_function ? { PORTSIDE_WEB_FUNCTION = "true" } : {},
  )
  # var.environment cannot hold the adapter's keys (its validation refuses
  # them), so the merge order only documents who wins.
  environment = merge(var.environment, local.adapter_environment)

  layers = local.is_zip ? concat(compact([var.layer_arn]), var.additional_layer_arns) : null

  package_zip_exists = local.is_zip && try(fileexists(var.package_zip), false)

  role_name = coalesce(var.role_name, var.name)
  vpc       = length(var.vpc_subnet_ids) > 0
}

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_158: logs are encrypted with CloudWatch's own key; a KMS customer managed key costs about $1 a month per key, which the module does not impose (CloudWatch Logs takes a kms_key_id set on this group outside the module).
  # checkov:skip=CKV_AWS_338: retention is a cost guard the caller chooses (log_retention_days, 14 days by default); a year is one value away.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_116: a dead-letter queue matters for asynchronous invocations; HTTP front doors are synchronous and return the error to the caller. A caller with asynchronous triggers adds an aws_lambda_function_event_invoke_config with a destination.
  # checkov:skip=CKV_AWS_117: a web app that reaches only public endpoints needs no VPC, and a VPC needs NAT or endpoints billed by the hour; vpc_subnet_ids puts the function in one.
  # checkov:skip=CKV_AWS_272: code signing needs an AWS Signer profile and a signing job in the caller's deploy path, outside this module.
  # checkov:skip=CKV_AWS_173: Lambda encrypts the environment at rest with its AWS managed key; kms_key_arn sets a customer managed key where one is wanted (it has a monthly fee).
  # checkov:skip=CKV_AWS_50: X-Ray bills per trace beyond the free tier; tracing_mode = "Active" turns it on (with the role permissions it needs).
  function_name = var.name
  description   = coalesce(var.description, "${var.name} behind the portside adapter")
  role          = aws_iam_role.this.arn
  architectures = [var.architecture]

  package_type     = local.is_image ? "Image" : "Zip"
  filename         = local.is_zip ? var.package_zip : null
  source_code_hash = local.package_zip_exists ? filebase64sha256(var.package_zip) : null
  image_uri        = var.image_uri
  runtime          = local.is_zip ? var.runtime : null
  handler          = local.is_zip ? local.handler : null
  layers           = local.layers

  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = local.environment
  }

  logging_config {
    log_format = var.log_format
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tracing_config {
    mode = var.tracing_mode
  }

  dynamic "vpc_config" {
    for_each = local.vpc ? [1] : []
    content {
      subnet_ids         = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.is_zip != local.is_image
      error_message = local.is_zip ? "Set either package_zip or image_uri, not both: package_zip is a zip run on a managed runtime through the portside layer, image_uri a container image with portside in /opt/extensions/." : "Set package_zip (a zip of the app, run through the portside layer) or image_uri (a container image with portside copied to /opt/extensions/portside): neither is set."
    }

    precondition {
      condition     = !local.is_zip || var.layer_arn != null
      error_message = "package_zip needs layer_arn: the portside layer version to run it with (publish one with the layer module, or use a published ARN)."
    }

    precondition {
      condition     = !local.is_zip || var.runtime != null
      error_message = "package_zip needs runtime: the managed runtime of the app, such as nodejs22.x, python3.12, java21 or provided.al2023."
    }

    precondition {
      condition     = !local.is_zip || local.package_zip_exists
      error_message = "No file at package_zip = \"${coalesce(var.package_zip, "null")}\": build the app's zip first (the path is relative to where terraform runs unless it starts with path.module or /)."
    }

    precondition {
      condition     = !local.is_image || (var.layer_arn == null && length(var.additional_layer_arns) == 0 && var.runtime == null && var.handler == null)
      error_message = "image_uri takes no layer_arn, additional_layer_arns, runtime or handler: a container image carries portside in /opt/extensions/ and starts the app with its own CMD. Unset them, or deploy a zip (package_zip) instead."
    }

    # PORTSIDE_INVOKE_MODE=response_stream streams REST API and Function URL
    # events alike, so with both front doors, both stream or neither does.
    precondition {
      condition     = !(var.rest_api && var.function_url) || local.rest_api_streams == local.function_url_streams
      error_message = local.rest_api_streams ? "rest_api_response_transfer_mode = \"STREAM\" with a BUFFERED Function URL cannot work: PORTSIDE_INVOKE_MODE=response_stream streams REST API and Function URL events alike, which a BUFFERED URL cannot return. Set function_url_invoke_mode = \"RESPONSE_STREAM\", or function_url = false." : "function_url_invoke_mode = \"RESPONSE_STREAM\" with a BUFFERED REST API cannot work: PORTSIDE_INVOKE_MODE=response_stream streams REST API and Function URL events alike, which a BUFFERED REST API cannot return. Set rest_api_response_transfer_mode = \"STREAM\", or rest_api = false (an HTTP API stays buffered and can sit beside a streaming URL)."
    }

    precondition {
      condition     = length(var.vpc_subnet_ids) == 0 || length(var.vpc_security_group_ids) > 0
      error_message = "vpc_subnet_ids needs vpc_security_group_ids: a function in a VPC needs at least one security group."
    }
  }

  # The role's policies must be in place before the first invocation (and a
  # VPC function's before its network interfaces are made), and the log
  # group must exist (with its retention) before Lambda writes to it.
  depends_on = [
    aws_iam_role_policy.this,
    aws_iam_role_policy_attachment.extra,
    aws_iam_role_policy_attachment.vpc,
    aws_cloudwatch_log_group.this,
  ]
}

# ---------------------------------------------------------------- the role

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = local.role_name
  description          = "Execution role of the Lambda function ${var.name} (portside)"
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
}

# The module's own statements (its log group; X-Ray when tracing is Active),
# merged with the caller's policy_json. The log group exists before the
# function, so no logs:CreateLogGroup.
data "aws_iam_policy_document" "this" {
  source_policy_documents = var.policy_json == null ? [] : [var.policy_json]

  statement {
    sid       = "PortsideOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  dynamic "statement" {
    for_each = var.tracing_mode == "Active" ? [1] : []
    content {
      sid       = "PortsideXRay"
      effect    = "Allow"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-portside"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_iam_role_policy_attachment" "extra" {
  count = length(var.policy_arns)

  role       = aws_iam_role.this.name
  policy_arn = var.policy_arns[count.index]
}

# A function in a VPC creates and deletes its network interfaces.
resource "aws_iam_role_policy_attachment" "vpc" {
  count = local.vpc ? 1 : 0

  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaENIManagementAccess"
}
