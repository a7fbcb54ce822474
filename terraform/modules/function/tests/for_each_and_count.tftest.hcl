# The module must work inside for_each and count (it configures no provider).
# tests/callers/main.tf calls it twice with for_each and twice with count;
# each instance must be its own function with its own front doors.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:us-east-1:123456789012:function:shop"
      invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:shop/invocations"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/app"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/app"
    }
  }

  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      execution_arn = "arn:aws:execute-api:us-east-1:123456789012:h77p4pi"
    }
  }
}

run "for_each_and_count" {
  command = apply

  module {
    source = "./tests/callers"
  }

  variables {
    layer_arn = "arn:aws:lambda:us-east-1:123456789012:layer:portside-x86_64:4"
    zip       = "tests/fixtures/node-app.zip"
  }

  assert {
    condition     = output.names == ["shop-billing", "shop-orders", "shop-worker-0", "shop-worker-1"]
    error_message = "for_each and count must each give one function per instance (got ${jsonencode(output.names)})."
  }

  assert {
    condition     = alltrue([for url in values(output.http_api_urls) : url != null]) && length(output.http_api_urls) == 2
    error_message = "Every for_each instance must get its own HTTP API."
  }

  assert {
    condition     = alltrue([for url in output.worker_urls : url != null]) && alltrue([for url in output.worker_http_api_urls : url == null])
    error_message = "Every count instance must get its Function URL and, with http_api = false, no HTTP API."
  }
}
