# What a caller wires further (triggers, permissions, DNS) and where to reach
# the app. A front door that is off gives null.

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function (for triggers such as S3 notifications or SQS mappings)."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "ARN API Gateway integrations invoke the function with (buffered)."
  value       = aws_lambda_function.this.invoke_arn
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the function's execution role (to attach more policies)."
  value       = aws_iam_role.this.name
}

output "log_group_name" {
  description = "CloudWatch log group of the function (app, adapter and platform lines)."
  value       = aws_cloudwatch_log_group.this.name
}

output "http_api_url" {
  description = "Base URL of the HTTP API (ends in /), or null without http_api."
  value       = var.http_api ? aws_apigatewayv2_stage.default[0].invoke_url : null
}

output "http_api_id" {
  description = "ID of the HTTP API, or null without http_api."
  value       = var.http_api ? aws_apigatewayv2_api.this[0].id : null
}

output "rest_api_url" {
  description = "Base URL of the REST API stage (https://<id>.execute-api.<region>.amazonaws.com/<stage>), or null without rest_api."
  value       = var.rest_api ? aws_api_gateway_stage.this[0].invoke_url : null
}

output "rest_api_id" {
  description = "ID of the REST API, or null without rest_api."
  value       = var.rest_api ? aws_api_gateway_rest_api.this[0].id : null
}

output "function_url" {
  description = "The Function URL (ends in /), or null without function_url."
  value       = var.function_url ? aws_lambda_function_url.this[0].function_url : null
}

output "invoke_mode" {
  description = "PORTSIDE_INVOKE_MODE the module set (response_stream when the REST API or the Function URL streams), or null when the adapter's default (buffered) applies."
  value       = lookup(local.adapter_environment, "PORTSIDE_INVOKE_MODE", null)
}
