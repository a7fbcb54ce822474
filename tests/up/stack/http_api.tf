# An HTTP API: path parameters, a greedy variable, payload 1.0 and 2.0, a
# $default route, two stages with variables, and a route behind a JWT
# authorizer (refused: answered 401).

resource "aws_apigatewayv2_api" "http" {
  name          = "up-test-http"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "v2" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.api.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_integration" "v1" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.api.arn
  payload_format_version = "1.0"
}

resource "aws_apigatewayv2_route" "item" {
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "GET /items/{id}"
  target    = "integrations/${aws_apigatewayv2_integration.v2.id}"
}

resource "aws_apigatewayv2_route" "files" {
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "ANY /files/{proxy+}"
  target    = "integrations/${aws_apigatewayv2_integration.v2.id}"
}

resource "aws_apigatewayv2_route" "legacy" {
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "POST /legacy/{name}"
  target    = "integrations/${aws_apigatewayv2_integration.v1.id}"
}

resource "aws_apigatewayv2_route" "default" {
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.v2.id}"
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  api_id           = aws_apigatewayv2_api.http.id
  name             = "up-test-jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    audience = ["up-test"]
    issuer   = "https://issuer.example.com"
  }
}

resource "aws_apigatewayv2_route" "private" {
  api_id             = aws_apigatewayv2_api.http.id
  route_key          = "GET /private"
  target             = "integrations/${aws_apigatewayv2_integration.v2.id}"
  authorization_type = "JWT"
  authorizer_id      = aws_apigatewayv2_authorizer.jwt.id
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true

  stage_variables = {
    color = "blue"
  }
}

resource "aws_apigatewayv2_stage" "v2" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "v2"
  auto_deploy = true

  stage_variables = {
    color = "green"
  }
}
