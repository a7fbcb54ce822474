# The user's story, as terraform/README.md tells it ("Deploy your own app"):
# a Node.js app, a published portside layer ARN, the app's port, one module
# block. The variables below are that block's inputs, and the app is a real
# one: the Express example (examples/express), packaged by the script its
# README deploys with (examples/express/package.sh: app.js, run.sh,
# package.json, the lock file and the production node_modules).
# terraform/check.sh builds that zip into tests/fixtures/ before it runs
# these tests, with the zip's SHA-256 (base64, as Lambda reports it) beside
# it, computed by Python's hashlib; neither is committed. To run this file by
# hand, from terraform/modules/function:
#
#   ../../../examples/express/package.sh tests/fixtures/express-example.zip
#   python3 -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1],"rb").read()).digest()).decode())' \
#       tests/fixtures/express-example.zip > tests/fixtures/express-example.zip.base64sha256
#
# The asserts check that the app is deployed the way portside needs it: that
# very package (by its hash), on the Node.js managed runtime, run through
# the layer's exec wrapper, told its port, behind a throttled HTTP API that
# alone may invoke it.

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
    package_zip = "tests/fixtures/express-example.zip"
    runtime     = "nodejs22.x"
    port        = 3000
  }

  assert {
    condition     = aws_lambda_function.this.runtime == "nodejs22.x" && aws_lambda_function.this.handler == "run.sh" && aws_lambda_function.this.package_type == "Zip"
    error_message = "The Node.js app must run on nodejs22.x with its run.sh as the handler."
  }

  assert {
    condition     = aws_lambda_function.this.filename == "tests/fixtures/express-example.zip" && aws_lambda_function.this.source_code_hash == trimspace(file("tests/fixtures/express-example.zip.base64sha256"))
    error_message = "The function must be the Express example's package, by its hash (so Lambda updates the code when the package changes), got ${aws_lambda_function.this.source_code_hash}."
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

# An app written for Lambda Web Functions (examples/web-function's shape: it
# listens on AWS_LAMBDA_HTTP_ENDPOINT, which the shim exports), deployed on
# classic Lambda by the same block with web_function: no start script, and
# Web Functions' request semantics from the adapter.
run "web_function_app" {
  command = apply

  variables {
    name                     = "hello-web"
    layer_arn                = "arn:aws:lambda:us-east-1:123456789012:layer:portside-arm64:1"
    package_zip              = "tests/fixtures/express-example.zip"
    runtime                  = "nodejs22.x"
    architecture             = "arm64"
    port                     = 3000
    web_function             = true
    http_api                 = false
    function_url             = true
    function_url_invoke_mode = "RESPONSE_STREAM"
  }

  assert {
    condition     = aws_lambda_function.this.handler == "index.js"
    error_message = "A Web Functions app starts from its index.js, got handler ${aws_lambda_function.this.handler}."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ AWS_LAMBDA_EXEC_WRAPPER = "/opt/bootstrap", PORT = "3000", PORTSIDE_INVOKE_MODE = "response_stream", PORTSIDE_WEB_FUNCTION = "true" })
    error_message = "The adapter must give the app Web Functions' request semantics and stream the URL's responses (got ${jsonencode(aws_lambda_function.this.environment[0].variables)})."
  }
}

run "web_function_environment_is_the_modules" {
  command = plan

  variables {
    name        = "hello-web"
    layer_arn   = "arn:aws:lambda:us-east-1:123456789012:layer:portside-arm64:1"
    package_zip = "tests/fixtures/express-example.zip"
    runtime     = "nodejs22.x"
    environment = { AWS_LAMBDA_HTTP_ENDPOINT = "0.0.0.0:3000" }
  }

  expect_failures = [var.environment]
}
