# The REST API front door (var.rest_api): Lambda proxy integrations on ANY /
# and ANY /{proxy+}, a deployment, one throttled stage, and API Gateway's
# permission scoped to this API.
#
# The routes are an OpenAPI document (the API's body) rather than
# aws_api_gateway_resource/method/integration resources, because that is
# where the response transfer mode can be set with the AWS provider 5.x
# (which has no response_transfer_mode argument): the integration's
# x-amazon-apigateway-integration carries responseTransferMode = STREAM and
# the InvokeWithResponseStream URI
# (arn:<partition>:apigateway:<region>:lambda:path/2021-11-15/functions/<function ARN>/response-streaming-invocations).
# BUFFERED keeps the classic Invoke URI (the function's invoke_arn) and
# leaves the mode at API Gateway's default.

locals {
  # arn:<partition>:lambda:<region>:<account>:function:<name>
  function_arn_parts = split(":", aws_lambda_function.this.arn)
  rest_stream_uri    = "arn:${local.function_arn_parts[1]}:apigateway:${local.function_arn_parts[3]}:lambda:path/2021-11-15/functions/${aws_lambda_function.this.arn}/response-streaming-invocations"

  # Two whole integrations rather than a merge() of a conditional: a
  # conditional between objects of different shapes turns every value into a
  # string, and API Gateway wants timeoutInMillis as a number.
  rest_integration_buffered = {
    type                = "aws_proxy"
    httpMethod          = "POST"
    uri                 = aws_lambda_function.this.invoke_arn
    passthroughBehavior = "when_no_match"
  }
  # A streamed response may last as long as the function runs (API Gateway
  # allows 15 minutes); a buffered one keeps API Gateway's 29 s default.
  rest_integration_stream = {
    type                 = "aws_proxy"
    httpMethod           = "POST"
    uri                  = local.rest_stream_uri
    passthroughBehavior  = "when_no_match"
    responseTransferMode = "STREAM"
    timeoutInMillis      = var.timeout * 1000
  }

  rest_api_body = local.rest_api_streams ? local.rest_api_body_stream : local.rest_api_body_buffered
  rest_api_body_buffered = jsonencode({
    openapi = "3.0.1"
    info    = local.rest_api_info
    paths   = local.rest_api_paths_buffered
  })
  rest_api_body_stream = jsonencode({
    openapi = "3.0.1"
    info    = local.rest_api_info
    paths   = local.rest_api_paths_stream
  })

  rest_api_info = {
    title   = "${var.name}-rest"
    version = "1.0"
  }
  rest_api_proxy_parameters = [{
    name     = "proxy"
    in       = "path"
    required = true
    schema   = { type = "string" }
  }]
  rest_api_paths_buffered = {
    "/" = {
      "x-amazon-apigateway-any-method" = {
        "x-amazon-apigateway-integration" = local.rest_integration_buffered
      }
    }
    "/{proxy+}" = {
      "x-amazon-apigateway-any-method" = {
        parameters                        = local.rest_api_proxy_parameters
        "x-amazon-apigateway-integration" = local.rest_integration_buffered
      }
    }
  }
  rest_api_paths_stream = {
    "/" = {
      "x-amazon-apigateway-any-method" = {
        "x-amazon-apigateway-integration" = local.rest_integration_stream
      }
    }
    "/{proxy+}" = {
      "x-amazon-apigateway-any-method" = {
        parameters                        = local.rest_api_proxy_parameters
        "x-amazon-apigateway-integration" = local.rest_integration_stream
      }
    }
  }
}

resource "aws_api_gateway_rest_api" "this" {
  count = var.rest_api ? 1 : 0

  name        = "${var.name}-rest"
  description = "REST API (Lambda proxy) in front of ${var.name} (portside)"
  body        = local.rest_api_body

  # With "*/*", request bodies reach the function base64 encoded and
  # responses the adapter marks isBase64Encoded are decoded.
  binary_media_types = var.rest_api_binary_media_types

  endpoint_configuration {
    types = [var.rest_api_endpoint_type]
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_deployment" "this" {
  count = var.rest_api ? 1 : 0

  rest_api_id = aws_api_gateway_rest_api.this[0].id

  # A new deployment whenever what the stage serves changes: the routes and
  # their integrations (the body) or the binary media types.
  triggers = {
    redeployment = sha1(jsonencode([
      local.rest_api_body,
      var.rest_api_binary_media_types,
      var.rest_api_endpoint_type,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_stage" "this" {
  # checkov:skip=CKV_AWS_73: X-Ray bills per trace; set xray_tracing_enabled on this stage outside the module where wanted.
  # checkov:skip=CKV_AWS_76: REST API access logs need the account-wide API Gateway CloudWatch role (aws_api_gateway_account), a per-region account setting a module must not take over; the function's own logs record each request.
  # checkov:skip=CKV_AWS_120: the stage cache bills by the hour even when idle, would serve one caller's response to another, and does not work with STREAM.
  # checkov:skip=CKV2_AWS_29: AWS WAF bills a monthly web ACL and rule fee; throttling and reserved concurrency are the module's guards (associate a web ACL with this stage outside the module).
  # checkov:skip=CKV2_AWS_51: client certificates authenticate API Gateway to an HTTP backend; this backend is a Lambda proxy, invoked through IAM.
  # checkov:skip=CKV2_AWS_4: execution logging needs the same account-wide API Gateway CloudWatch role as access logs (see CKV_AWS_76).
  count = var.rest_api ? 1 : 0

  rest_api_id   = aws_api_gateway_rest_api.this[0].id
  deployment_id = aws_api_gateway_deployment.this[0].id
  stage_name    = var.rest_api_stage_name
  tags          = var.tags
}

resource "aws_api_gateway_method_settings" "this" {
  # checkov:skip=CKV_AWS_225: the stage cache bills by the hour even when idle and would serve one caller's response to another (and does not work with STREAM).
  count = var.rest_api ? 1 : 0

  rest_api_id = aws_api_gateway_rest_api.this[0].id
  stage_name  = aws_api_gateway_stage.this[0].stage_name
  method_path = "*/*"

  settings {
    throttling_rate_limit  = var.rest_api_throttling_rate_limit
    throttling_burst_limit = var.rest_api_throttling_burst_limit
    metrics_enabled        = false
    logging_level          = "OFF"
  }
}

resource "aws_lambda_permission" "rest_api" {
  count = var.rest_api ? 1 : 0

  # lambda:InvokeFunction also authorizes InvokeWithResponseStream.
  statement_id  = "AllowRestApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  # Any stage, method and path of this API, and nothing else.
  source_arn = "${aws_api_gateway_rest_api.this[0].execution_arn}/*"
}
