# Where the resources of the stack before the modules (one root module) went,
# so an existing deployment is updated in place instead of replaced. The REST
# API's routes are now the API's OpenAPI body, so its old resource, method and
# integration resources are destroyed, not moved.

moved {
  from = aws_lambda_layer_version.portside
  to   = module.layer[0].aws_lambda_layer_version.this
}

moved {
  from = aws_lambda_function.app
  to   = module.app.aws_lambda_function.this
}

moved {
  from = aws_cloudwatch_log_group.function
  to   = module.app.aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.function
  to   = module.app.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.function
  to   = module.app.aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function_url.app
  to   = module.app.aws_lambda_function_url.this[0]
}

moved {
  from = aws_lambda_permission.function_url
  to   = module.app.aws_lambda_permission.function_url
}

moved {
  from = aws_lambda_permission.function_url_invoke
  to   = module.app.aws_lambda_permission.function_url_invoke
}

moved {
  from = aws_apigatewayv2_api.http
  to   = module.app.aws_apigatewayv2_api.this[0]
}

moved {
  from = aws_apigatewayv2_integration.http
  to   = module.app.aws_apigatewayv2_integration.this[0]
}

moved {
  from = aws_apigatewayv2_route.default
  to   = module.app.aws_apigatewayv2_route.default[0]
}

moved {
  from = aws_apigatewayv2_stage.default
  to   = module.app.aws_apigatewayv2_stage.default[0]
}

moved {
  from = aws_cloudwatch_log_group.http_api_access
  to   = module.app.aws_cloudwatch_log_group.http_api_access[0]
}

moved {
  from = aws_lambda_permission.http_api
  to   = module.app.aws_lambda_permission.http_api[0]
}

moved {
  from = aws_api_gateway_rest_api.rest
  to   = module.app.aws_api_gateway_rest_api.this[0]
}

moved {
  from = aws_api_gateway_deployment.rest
  to   = module.app.aws_api_gateway_deployment.this[0]
}

moved {
  from = aws_api_gateway_stage.rest
  to   = module.app.aws_api_gateway_stage.this[0]
}

moved {
  from = aws_api_gateway_method_settings.rest
  to   = module.app.aws_api_gateway_method_settings.this[0]
}

moved {
  from = aws_lambda_permission.rest_api
  to   = module.app.aws_lambda_permission.rest_api[0]
}
