# The user's story, as terraform/README.md tells it: a Node.js app, a
# published portside layer ARN, the app's port, one module block. These are
# exactly that block's inputs (the README's "Deploy your own app"), and the
# asserts check that the app is deployed the way portside needs it: on the
# Node.js managed runtime, run through the layer's exec wrapper, told its
# port, reachable through the front doors it asked for.

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

  mock_resource "aws_lambda_function_url" {
    defaults = {
      function_url = "https://n0d3url.lambda-url.us-east-1.on.aws/"
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

    function_url           = true
    function_url_auth_type = "NONE"
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
    condition     = aws_lambda_permission.http_api[0].source_arn == "arn:aws:execute-api:us-east-1:123456789012:n0d3ap1/*" && aws_lambda_permission.function_url[0].function_url_auth_type == "NONE"
    error_message = "Both front doors must be allowed to invoke the function, the HTTP API only from its own execution ARN."
  }

  assert {
    condition     = output.http_api_url == "https://n0d3ap1.execute-api.us-east-1.amazonaws.com/" && output.function_url == "https://n0d3url.lambda-url.us-east-1.on.aws/" && output.rest_api_url == null
    error_message = "The outputs must give the HTTP API and Function URL addresses (and no REST API, which was not asked for)."
  }
}
