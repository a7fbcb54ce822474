# Authorizers (tests/up/test_up_authorizers.py): an HTTP API whose routes
# sit behind a JWT authorizer (one with authorization scopes, one
# integrated with payload 1.0), a Lambda authorizer (simple responses,
# results cached 2 s by the X-Api-Key header) and AWS_IAM, beside an open
# one; a REST API with a TOKEN authorizer (an identity validation
# expression, no caching) and an AWS_IAM method. Both Lambda authorizers
# run up-test-authz, a function of the stack like any other.
#
# The JWT issuer is a variable: the test serves its OpenID discovery
# document on 127.0.0.1 and passes --var jwt_issuer=... . Without it (the
# other tests) the issuer is not on this machine and its routes are
# refused.

variable "jwt_issuer" {
  type    = string
  default = "https://auth.up-test.example"
}

# Answers Lambda authorizer events by the token or key it is given.
resource "aws_lambda_function" "authz" {
  function_name = "up-test-authz"
  filename      = "${path.module}/build/authz.zip"
  handler       = "authz.handler"
  runtime       = "python3.12"
  role          = aws_iam_role.fn.arn
  timeout       = 5
}

resource "aws_apigatewayv2_api" "guarded" {
  name          = "up-test-guarded"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "guarded" {
  api_id                 = aws_apigatewayv2_api.guarded.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.api.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_integration" "guarded_v1" {
  api_id                 = aws_apigatewayv2_api.guarded.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.api.invoke_arn
  payload_format_version = "1.0"
}

resource "aws_apigatewayv2_authorizer" "guarded_jwt" {
  api_id           = aws_apigatewayv2_api.guarded.id
  name             = "up-test-guarded-jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    audience = ["up-test-api"]
    issuer   = var.jwt_issuer
  }
}

resource "aws_apigatewayv2_authorizer" "guarded_lambda" {
  api_id                            = aws_apigatewayv2_api.guarded.id
  name                              = "up-test-guarded-lambda"
  authorizer_type                   = "REQUEST"
  authorizer_uri                    = aws_lambda_function.authz.invoke_arn
  authorizer_payload_format_version = "2.0"
  enable_simple_responses           = true
  authorizer_result_ttl_in_seconds  = 2
  identity_sources                  = ["$request.header.X-Api-Key"]
}

resource "aws_apigatewayv2_route" "jwt" {
  api_id             = aws_apigatewayv2_api.guarded.id
  route_key          = "GET /jwt"
  target             = "integrations/${aws_apigatewayv2_integration.guarded.id}"
  authorization_type = "JWT"
  authorizer_id      = aws_apigatewayv2_authorizer.guarded_jwt.id
}

resource "aws_apigatewayv2_route" "scoped" {
  api_id               = aws_apigatewayv2_api.guarded.id
  route_key            = "GET /orders"
  target               = "integrations/${aws_apigatewayv2_integration.guarded.id}"
  authorization_type   = "JWT"
  authorizer_id        = aws_apigatewayv2_authorizer.guarded_jwt.id
  authorization_scopes = ["orders:read"]
}

resource "aws_apigatewayv2_route" "jwt_v1" {
  api_id             = aws_apigatewayv2_api.guarded.id
  route_key          = "GET /v1/jwt"
  target             = "integrations/${aws_apigatewayv2_integration.guarded_v1.id}"
  authorization_type = "JWT"
  authorizer_id      = aws_apigatewayv2_authorizer.guarded_jwt.id
}

resource "aws_apigatewayv2_route" "lambda" {
  api_id             = aws_apigatewayv2_api.guarded.id
  route_key          = "GET /lambda"
  target             = "integrations/${aws_apigatewayv2_integration.guarded.id}"
  authorization_type = "CUSTOM"
  authorizer_id      = aws_apigatewayv2_authorizer.guarded_lambda.id
}

resource "aws_apigatewayv2_route" "iam" {
  api_id             = aws_apigatewayv2_api.guarded.id
  route_key          = "GET /iam"
  target             = "integrations/${aws_apigatewayv2_integration.guarded.id}"
  authorization_type = "AWS_IAM"
}

resource "aws_apigatewayv2_route" "open" {
  api_id    = aws_apigatewayv2_api.guarded.id
  route_key = "GET /open"
  target    = "integrations/${aws_apigatewayv2_integration.guarded.id}"
}

resource "aws_apigatewayv2_stage" "guarded" {
  api_id      = aws_apigatewayv2_api.guarded.id
  name        = "$default"
  auto_deploy = true
}

resource "aws_api_gateway_rest_api" "guarded" {
  name = "up-test-rest-guarded"
}

resource "aws_api_gateway_authorizer" "token" {
  name                             = "up-test-token"
  rest_api_id                      = aws_api_gateway_rest_api.guarded.id
  authorizer_uri                   = aws_lambda_function.authz.invoke_arn
  type                             = "TOKEN"
  identity_source                  = "method.request.header.Authorization"
  identity_validation_expression   = "token-[a-z]+"
  authorizer_result_ttl_in_seconds = 0
}

resource "aws_api_gateway_resource" "secret" {
  rest_api_id = aws_api_gateway_rest_api.guarded.id
  parent_id   = aws_api_gateway_rest_api.guarded.root_resource_id
  path_part   = "secret"
}

resource "aws_api_gateway_method" "secret" {
  rest_api_id   = aws_api_gateway_rest_api.guarded.id
  resource_id   = aws_api_gateway_resource.secret.id
  http_method   = "GET"
  authorization = "CUSTOM"
  authorizer_id = aws_api_gateway_authorizer.token.id
}

resource "aws_api_gateway_integration" "secret" {
  rest_api_id             = aws_api_gateway_rest_api.guarded.id
  resource_id             = aws_api_gateway_resource.secret.id
  http_method             = aws_api_gateway_method.secret.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.api.invoke_arn
}

resource "aws_api_gateway_resource" "signed" {
  rest_api_id = aws_api_gateway_rest_api.guarded.id
  parent_id   = aws_api_gateway_rest_api.guarded.root_resource_id
  path_part   = "signed"
}

resource "aws_api_gateway_method" "signed" {
  rest_api_id   = aws_api_gateway_rest_api.guarded.id
  resource_id   = aws_api_gateway_resource.signed.id
  http_method   = "GET"
  authorization = "AWS_IAM"
}

resource "aws_api_gateway_integration" "signed" {
  rest_api_id             = aws_api_gateway_rest_api.guarded.id
  resource_id             = aws_api_gateway_resource.signed.id
  http_method             = aws_api_gateway_method.signed.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.api.invoke_arn
}

resource "aws_api_gateway_deployment" "guarded" {
  rest_api_id = aws_api_gateway_rest_api.guarded.id

  depends_on = [aws_api_gateway_integration.secret, aws_api_gateway_integration.signed]
}

resource "aws_api_gateway_stage" "live" {
  rest_api_id   = aws_api_gateway_rest_api.guarded.id
  deployment_id = aws_api_gateway_deployment.guarded.id
  stage_name    = "live"
}
