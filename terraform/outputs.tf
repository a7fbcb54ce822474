# Where to reach the sample app, and the names the README's commands need.

output "http_api_url" {
  description = "Base URL of the HTTP API (payload format 2.0), e.g. $URL/users."
  value       = module.app.http_api_url
}

output "rest_api_url" {
  description = "Base URL of the REST API stage (Lambda proxy), e.g. $URL/users."
  value       = module.app.rest_api_url
}

output "function_url" {
  description = "Function URL of the function (auth type and invoke mode per the function_url_* variables)."
  value       = module.app.function_url
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
  value       = module.app.function_name
}

output "log_group_name" {
  description = "CloudWatch log group of the function (app, adapter and platform logs)."
  value       = module.app.log_group_name
}

output "layer_version_arn" {
  description = "ARN of the portside layer version attached to the function (layer_arn, or the one this stack published)."
  value       = local.layer_arn
}

output "invoke_mode" {
  description = "PORTSIDE_INVOKE_MODE set on the function (response_stream when the REST API or the Function URL streams), or null for the adapter's default, buffered."
  value       = module.app.invoke_mode
}

output "region" {
  description = "Region the stack is in (for SigV4-signed calls to an AWS_IAM Function URL)."
  value       = var.region
}
