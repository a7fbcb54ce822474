# The user's story, as terraform/README.md tells it ("Deploy your own app"):
# a Node.js app, a published portside layer ARN, the app's port, one module
# block. The variables below are that block's inputs (its package_zip is a
# fixture: a real, tiny Node.js app and its run.sh), and the
# asserts check that the app is deployed the way portside needs it: on the
# Node.js managed runtime, run through the layer's exec wrapper, told its
# port, behind a throttled HTTP API that alone may invoke it.

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
      arn        = "arn:aws:lambda:us-east-1:123456789012:function:hello-node"
      invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:hello-node/invocations"
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
      execution_arn = "arn:aws:execute-api:us-east-1:123456789012:n0d3ap1"
    }
  }

  mock_resource "aws_apigatewayv2_stage" {
    defaults = {
      invoke_url = "https://n0d3ap1.execute-api.us-east-1.amazonaws.com/"
    }
  }
}

run "node_app_in_one_block" {
  command = apply

  variables {
    name        = "hello-node"
    layer_arn   = "arn:aws:lambda:us-east-1:123456789012:layer:portside-x86_64:1"
    package_zip = "tests/fixtures/node-app.zip"
    runtime     = "nodejs22.x"
    port        = 3000
  }

  assert {
    condition     = aws_lambda_function.this.runtime == "nodejs22.x" && aws_lambda_function.this.handler == "run.sh" && aws_lambda_function.this.package_type == "Zip"
    error_message = "The Node.js app must run on nodejs22.x with its run.sh as the handler."
  }

  assert {
    condition     = aws_lambda_function.this.layers == tolist(["arn:aws:lambda:us-east-1:123456789012:layer:portside-x86_64:1"])
    error_message = "The published portside layer must be attached."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ AWS_LAMBDA_EXEC_WRAPPER = "/opt/bootstrap", PORT = "3000" })
    error_message = "The Node.js runtime must run run.sh through /opt/bootstrap, and the app and the adapter must both be told port 3000 (got ${jsonencode(aws_lambda_function.this.environment[0].variables)})."
  }

  assert {
    condition     = aws_lambda_permission.http_api[0].source_arn == "arn:aws:execute-api:us-east-1:123456789012:n0d3ap1/*" && aws_lambda_permission.http_api[0].principal == "apigateway.amazonaws.com"
    error_message = "The HTTP API must be allowed to invoke the function, from its own execution ARN only."
  }

  assert {
    condition     = aws_apigatewayv2_stage.default[0].default_route_settings[0].throttling_rate_limit == 10 && aws_apigatewayv2_stage.default[0].default_route_settings[0].throttling_burst_limit == 20
    error_message = "The one-block deployment must be throttled (10 requests/s, burst 20) without asking."
  }

  assert {
    condition     = output.http_api_url == "https://n0d3ap1.execute-api.us-east-1.amazonaws.com/" && output.function_url == null && output.rest_api_url == null
    error_message = "The block must give the HTTP API's address (module.app.http_api_url), and no REST API or Function URL, which it did not ask for."
  }
}
