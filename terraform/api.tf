# The two API Gateway front doors: an HTTP API (payload format 2.0) and a
# REST API (Lambda proxy), both throttled as cost guards.

# ---------------------------------------------------------------- HTTP API

resource "aws_apigatewayv2_api" "http" {
  name          = "${var.name_prefix}-http"
  description   = "portside sample: HTTP API (payload format 2.0) in front of the function"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "http" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.app.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000
}

resource "aws_apigatewayv2_route" "default" {
  # checkov:skip=CKV_AWS_309: the sample API is public on purpose, like the app it fronts; throttling and reserved concurrency bound what anonymous callers can spend. Put an authorizer here for anything real.
  api_id             = aws_apigatewayv2_api.http.id
  route_key          = "$default"
  target             = "integrations/${aws_apigatewayv2_integration.http.id}"
  authorization_type = "NONE"
}

resource "aws_cloudwatch_log_group" "http_api_access" {
  # checkov:skip=CKV_AWS_158: logs are encrypted with CloudWatch's own key; a KMS customer managed key costs about $1 a month, which a sample stack that should cost nothing at rest does not spend.
  # checkov:skip=CKV_AWS_338: retention is a cost guard (log_retention_days, 14 days by default); a year of sample access logs is cost without use.
  name              = "/aws/apigateway/${var.name_prefix}-http"
  retention_in_days = var.log_retention_days
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.http_api_throttling_rate_limit
    throttling_burst_limit = var.http_api_throttling_burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.http_api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      sourceIp           = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      path               = "$context.path"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
    })
  }
}

resource "aws_lambda_permission" "http_api" {
  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.app.function_name
  principal     = "apigateway.amazonaws.com"
  # Any stage and route of this API only.
  source_arn = "${aws_apigatewayv2_api.http.execution_arn}/*"
}

# ---------------------------------------------------------------- REST API

resource "aws_api_gateway_rest_api" "rest" {
  name        = "${var.name_prefix}-rest"
  description = "portside sample: REST API (Lambda proxy) in front of the function"

  # Every content type is binary: request bodies reach the function base64
  # encoded, and responses the adapter marks isBase64Encoded are decoded.
  binary_media_types = ["*/*"]

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_resource" "proxy" {
  rest_api_id = aws_api_gateway_rest_api.rest.id
  parent_id   = aws_api_gateway_rest_api.rest.root_resource_id
  path_part   = "{proxy+}"
}

resource "aws_api_gateway_method" "root" {
  # checkov:skip=CKV_AWS_59: the sample API is public on purpose, like the app it fronts; stage throttling and reserved concurrency bound what anonymous callers can spend. Use an authorizer or AWS_IAM for anything real.
  # checkov:skip=CKV2_AWS_53: request validation belongs to the app behind the proxy (it validates its JSON bodies); a proxy method has no model to validate against.
  rest_api_id   = aws_api_gateway_rest_api.rest.id
  resource_id   = aws_api_gateway_rest_api.rest.root_resource_id
  http_method   = "ANY"
  authorization = "NONE"
}

resource "aws_api_gateway_method" "proxy" {
  # checkov:skip=CKV_AWS_59: the sample API is public on purpose, like the app it fronts; stage throttling and reserved concurrency bound what anonymous callers can spend. Use an authorizer or AWS_IAM for anything real.
  # checkov:skip=CKV2_AWS_53: request validation belongs to the app behind the proxy (it validates its JSON bodies); a proxy method has no model to validate against.
  rest_api_id   = aws_api_gateway_rest_api.rest.id
  resource_id   = aws_api_gateway_resource.proxy.id
  http_method   = "ANY"
  authorization = "NONE"
}

resource "aws_api_gateway_integration" "root" {
  rest_api_id             = aws_api_gateway_rest_api.rest.id
  resource_id             = aws_api_gateway_method.root.resource_id
  http_method             = aws_api_gateway_method.root.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.app.invoke_arn
}

resource "aws_api_gateway_integration" "proxy" {
  rest_api_id             = aws_api_gateway_rest_api.rest.id
  resource_id             = aws_api_gateway_method.proxy.resource_id
  http_method             = aws_api_gateway_method.proxy.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.app.invoke_arn
}

resource "aws_api_gateway_deployment" "rest" {
  rest_api_id = aws_api_gateway_rest_api.rest.id

  # A new deployment whenever the routes or their integrations change.
  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_rest_api.rest.binary_media_types,
      aws_api_gateway_resource.proxy.id,
      aws_api_gateway_method.root.id,
      aws_api_gateway_method.proxy.id,
      aws_api_gateway_integration.root.id,
      aws_api_gateway_integration.proxy.id,
      aws_api_gateway_integration.root.uri,
      aws_api_gateway_integration.proxy.uri,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_stage" "rest" {
  # checkov:skip=CKV_AWS_73: X-Ray tracing bills per trace and needs xray:PutTraceSegments on the role; the sample keeps to logs.
  # checkov:skip=CKV_AWS_76: REST API access logs need the account-wide API Gateway CloudWatch role (aws_api_gateway_account), a per-region account setting a sample stack must not take over; the function's own logs record each request.
  # checkov:skip=CKV_AWS_120: the stage cache bills by the hour even when idle, and a users API must not serve stale reads.
  # checkov:skip=CKV2_AWS_29: AWS WAF bills a monthly web ACL and rule fee; throttling and reserved concurrency are this sample's guards.
  # checkov:skip=CKV2_AWS_51: client certificates authenticate API Gateway to an HTTP backend; this backend is a Lambda proxy, invoked through IAM.
  # checkov:skip=CKV2_AWS_4: execution logging needs the same account-wide API Gateway CloudWatch role as access logs (see CKV_AWS_76).
  rest_api_id   = aws_api_gateway_rest_api.rest.id
  deployment_id = aws_api_gateway_deployment.rest.id
  stage_name    = var.rest_api_stage_name
}

resource "aws_api_gateway_method_settings" "rest" {
  # checkov:skip=CKV_AWS_225: the stage cache bills by the hour even when idle, and a users API must not serve stale reads.
  rest_api_id = aws_api_gateway_rest_api.rest.id
  stage_name  = aws_api_gateway_stage.rest.stage_name
  method_path = "*/*"

  settings {
    throttling_rate_limit  = var.rest_api_throttling_rate_limit
    throttling_burst_limit = var.rest_api_throttling_burst_limit
    metrics_enabled        = false
    logging_level          = "OFF"
  }
}

resource "aws_lambda_permission" "rest_api" {
  statement_id  = "AllowRestApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.app.function_name
  principal     = "apigateway.amazonaws.com"
  # Any stage, method and path of this API only.
  source_arn = "${aws_api_gateway_rest_api.rest.execution_arn}/*"
}
