# Where to reach the sample app, and the names the README's commands need.

output "http_api_url" {
  description = "Base URL of the HTTP API (payload format 2.0), e.g. $URL/users."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "rest_api_url" {
  description = "Base URL of the REST API stage (Lambda proxy), e.g. $URL/users."
  value       = aws_api_gateway_stage.rest.invoke_url
}

output "function_url" {
  description = "Function URL of the function (auth type and invoke mode per the function_url_* variables)."
  value       = aws_lambda_function_url.app.function_url
}

output "bucket_name" {
  description = "S3 bucket whose uploaded .csv files the function imports."
  value       = aws_s3_bucket.imports.bucket
}

output "table_name" {
  description = "DynamoDB table of users (USERS_TABLE)."
  value       = aws_dynamodb_table.users.name
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.app.function_name
}

output "log_group_name" {
  description = "CloudWatch log group of the function (app, adapter and platform logs)."
  value       = aws_cloudwatch_log_group.function.name
}

output "layer_version_arn" {
  description = "ARN of the portside layer version attached to the function."
  value       = aws_lambda_layer_version.portside.arn
}

output "region" {
  description = "Region the stack is in (for SigV4-signed calls to an AWS_IAM Function URL)."
  value       = var.region
}
