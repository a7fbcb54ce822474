# What the rest of the test stack cannot show: an HTTP API with no $default
# route (a request no route matches gets API Gateway's own 404), a function
# with reserved concurrency 2 (a front door's third concurrent request is
# throttled) and one with reserved concurrency 0 (never invoked), a bucket
# whose notification to the worker filters by event type, prefix and suffix,
# and a queue whose mapping has a batching window.

resource "aws_lambda_function" "slow" {
  function_name                  = "up-test-slow"
  filename                       = "${path.module}/build/slow.zip"
  handler                        = "slow.handler"
  runtime                        = "python3.12"
  role                           = aws_iam_role.fn.arn
  timeout                        = 20
  reserved_concurrent_executions = 2
}

resource "aws_lambda_function" "never" {
  function_name                  = "up-test-never"
  filename                       = "${path.module}/build/api.zip"
  handler                        = "api.handler"
  runtime                        = "python3.12"
  role                           = aws_iam_role.fn.arn
  reserved_concurrent_executions = 0
}

resource "aws_apigatewayv2_api" "bare" {
  name          = "up-test-bare"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "bare_api" {
  api_id                 = aws_apigatewayv2_api.bare.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.api.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_integration" "bare_slow" {
  api_id                 = aws_apigatewayv2_api.bare.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.slow.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_integration" "bare_never" {
  api_id                 = aws_apigatewayv2_api.bare.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.never.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "bare_item" {
  api_id    = aws_apigatewayv2_api.bare.id
  route_key = "GET /bare/{id}"
  target    = "integrations/${aws_apigatewayv2_integration.bare_api.id}"
}

resource "aws_apigatewayv2_route" "bare_slow" {
  api_id    = aws_apigatewayv2_api.bare.id
  route_key = "GET /slow"
  target    = "integrations/${aws_apigatewayv2_integration.bare_slow.id}"
}

resource "aws_apigatewayv2_route" "bare_never" {
  api_id    = aws_apigatewayv2_api.bare.id
  route_key = "GET /never"
  target    = "integrations/${aws_apigatewayv2_integration.bare_never.id}"
}

resource "aws_apigatewayv2_stage" "bare" {
  api_id      = aws_apigatewayv2_api.bare.id
  name        = "$default"
  auto_deploy = true
}

# Only a Put of a key under in/ ending in .txt reaches the worker.
resource "aws_s3_bucket" "drop" {
  bucket = "up-test-drop"
}

resource "aws_s3_bucket_notification" "drop" {
  bucket = aws_s3_bucket.drop.id

  lambda_function {
    id                  = "put-txt-in"
    lambda_function_arn = aws_lambda_function.worker.arn
    events              = ["s3:ObjectCreated:Put"]
    filter_prefix       = "in/"
    filter_suffix       = ".txt"
  }
}

# Batches of at most 4, gathered for up to 2 s.
resource "aws_sqs_queue" "window" {
  name = "up-test-window"
}

resource "aws_lambda_event_source_mapping" "window" {
  event_source_arn                   = aws_sqs_queue.window.arn
  function_name                      = aws_lambda_function.worker.arn
  batch_size                         = 4
  maximum_batching_window_in_seconds = 2
}
