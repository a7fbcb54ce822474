# The HTTP API front door (var.http_api): payload format 2.0 to the function
# on a $default route, an auto-deployed $default stage with throttling and
# access logs, and API Gateway's permission scoped to this API.

resource "aws_apigatewayv2_api" "this" {
  count = var.http_api ? 1 : 0

  name          = "${var.name}-http"
  description   = "HTTP API (payload format 2.0) in front of ${var.name} (portside)"
  protocol_type = "HTTP"
  tags          = var.tags
}

resource "aws_apigatewayv2_integration" "this" {
  count = var.http_api ? 1 : 0

  api_id                 = aws_apigatewayv2_api.this[0].id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.this.invoke_arn
  payload_format_version = "2.0"
  # The HTTP API waits at most 30 s, whatever the function's timeout.
  timeout_milliseconds = min(var.timeout, 30) * 1000
}

resource "aws_apigatewayv2_route" "default" {
  # checkov:skip=CKV_AWS_309: the route forwards every request to the app, which does its own authentication; throttling bounds what anonymous callers can spend. Attach an authorizer to this API outside the module where the app has none.
  count = var.http_api ? 1 : 0

  api_id             = aws_apigatewayv2_api.this[0].id
  route_key          = "$default"
  target             = "integrations/${aws_apigatewayv2_integration.this[0].id}"
  authorization_type = "NONE"
}

resource "aws_cloudwatch_log_group" "http_api_access" {
  # checkov:skip=CKV_AWS_158: logs are encrypted with CloudWatch's own key; a KMS customer managed key costs about $1 a month, which the module does not impose.
  # checkov:skip=CKV_AWS_338: retention is a cost guard the caller chooses (log_retention_days, 14 days by default).
  count = var.http_api ? 1 : 0

  name              = "/aws/apigateway/${var.name}-http"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  count = var.http_api ? 1 : 0

  api_id      = aws_apigatewayv2_api.this[0].id
  name        = "$default"
  auto_deploy = true
  tags        = var.tags

  default_route_settings {
    throttling_rate_limit  = var.http_api_throttling_rate_limit
    throttling_burst_limit = var.http_api_throttling_burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.http_api_access[0].arn
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
  count = var.http_api ? 1 : 0

  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  # Any stage and route of this API, and nothing else.
  source_arn = "${aws_apigatewayv2_api.this[0].execution_arn}/*"
}
