# Offline tests of the function module: a mocked AWS provider plans and
# applies it, and each assert checks one piece of its wiring (the wrapper,
# the layer, the port variable, the invoke mode, each front door and its
# scoped permission, the role) or that a bad input is refused.
#
# Run from terraform/modules/function (terraform/check.sh does):
# terraform init -backend=false -plugin-dir=<mirror> && terraform test

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
      arn        = "arn:aws:lambda:eu-west-1:111122223333:function:shop"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:shop/invocations"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/shop"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/shop"
    }
  }

  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      execution_arn = "arn:aws:execute-api:eu-west-1:111122223333:h77p4pi"
    }
  }

  mock_resource "aws_apigatewayv2_stage" {
    defaults = {
      invoke_url = "https://h77p4pi.execute-api.eu-west-1.amazonaws.com/"
    }
  }

  mock_resource "aws_api_gateway_rest_api" {
    defaults = {
      execution_arn = "arn:aws:execute-api:eu-west-1:111122223333:r3st4pi"
    }
  }

  mock_resource "aws_api_gateway_stage" {
    defaults = {
      invoke_url = "https://r3st4pi.execute-api.eu-west-1.amazonaws.com/prod"
    }
  }

  mock_resource "aws_lambda_function_url" {
    defaults = {
      function_url = "https://f2nurl.lambda-url.eu-west-1.on.aws/"
    }
  }
}

# The access log group gets its own ARN, so an assert can tell it from the
# function's.
override_resource {
  target = aws_cloudwatch_log_group.http_api_access
  values = {
    arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/apigateway/shop-http"
  }
}

variables {
  name        = "shop"
  layer_arn   = "arn:aws:lambda:eu-west-1:111122223333:layer:portside-x86_64:3"
  package_zip = "tests/fixtures/node-app.zip"
  runtime     = "nodejs22.x"
}

# The asserts spell out the ARNs and URLs the mocks above hand out, so each
# expected value is written independently of the module's code.

# ------------------------------------------------------------- zip defaults

run "zip_package_defaults" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.package_type == "Zip" && aws_lambda_function.this.filename == "tests/fixtures/node-app.zip"
    error_message = "A package_zip function must be a Zip package built from that file."
  }

  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("tests/fixtures/node-app.zip")
    error_message = "source_code_hash must follow the zip, so a new build is deployed."
  }

  assert {
    condition     = aws_lambda_function.this.layers == tolist(["arn:aws:lambda:eu-west-1:111122223333:layer:portside-x86_64:3"])
    error_message = "The function must have exactly the given portside layer attached (got ${jsonencode(aws_lambda_function.this.layers)})."
  }

  assert {
    condition     = aws_lambda_function.this.runtime == "nodejs22.x" && aws_lambda_function.this.handler == "run.sh"
    error_message = "runtime must be passed through and handler must default to run.sh (got ${aws_lambda_function.this.runtime} / ${aws_lambda_function.this.handler})."
  }

  assert {
    condition = aws_lambda_function.this.environment[0].variables == tomap({
      AWS_LAMBDA_EXEC_WRAPPER = "/opt/bootstrap"
      PORT                    = "8080"
    })
    error_message = "A zip function's environment must be exactly the exec wrapper and PORT=8080 by default, with no PORTSIDE_INVOKE_MODE (got ${jsonencode(aws_lambda_function.this.environment[0].variables)})."
  }

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["x86_64"]) && aws_lambda_function.this.memory_size == 512 && aws_lambda_function.this.timeout == 30
    error_message = "Defaults must be x86_64, 512 MB, 30 s."
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == -1
    error_message = "reserved_concurrency must default to -1 (unreserved), so a first apply works on a new account whose concurrency limit is 10."
  }

  assert {
    condition     = aws_lambda_function.this.role == aws_iam_role.this.arn && aws_iam_role.this.name == "shop"
    error_message = "The function must run with its own role, named after it by default."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/shop" && aws_cloudwatch_log_group.this.retention_in_days == 14
    error_message = "The function's log group must be /aws/lambda/<name>, kept 14 days by default."
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_group == aws_cloudwatch_log_group.this.name && aws_lambda_function.this.logging_config[0].log_format == "Text"
    error_message = "The function must log (as Text by default) to the log group the module creates."
  }

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "PassThrough"
    error_message = "Tracing must default to PassThrough."
  }

  assert {
    condition     = length(aws_lambda_function.this.vpc_config) == 0 && length(aws_iam_role_policy_attachment.vpc) == 0
    error_message = "No VPC config (and no ENI policy) without vpc_subnet_ids."
  }

  assert {
    condition = (
      length(aws_apigatewayv2_api.this) == 1 &&
      length(aws_api_gateway_rest_api.this) == 0 &&
      length(aws_lambda_function_url.this) == 0
    )
    error_message = "By default only the HTTP API front door is created."
  }

  assert {
    condition     = output.rest_api_url == null && output.function_url == null && output.http_api_url == "https://h77p4pi.execute-api.eu-west-1.amazonaws.com/"
    error_message = "Outputs of front doors that are off must be null, and http_api_url the stage's URL."
  }

  assert {
    condition     = output.function_name == "shop" && output.function_arn == "arn:aws:lambda:eu-west-1:111122223333:function:shop" && output.role_arn == "arn:aws:iam::111122223333:role/shop"
    error_message = "function_name, function_arn and role_arn must name the function and its role."
  }

  assert {
    condition     = output.invoke_mode == null
    error_message = "Without a streaming front door the module must leave the adapter's invoke mode alone (output invoke_mode null)."
  }
}

run "role_and_policy" {
  command = apply

  variables {
    policy_json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Orders\",\"Effect\":\"Allow\",\"Action\":\"dynamodb:GetItem\",\"Resource\":\"arn:aws:dynamodb:eu-west-1:111122223333:table/orders\"}]}"
    policy_arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::111122223333:policy/shop-extra"]
  }

  assert {
    condition     = one(data.aws_iam_policy_document.assume_role.statement).actions == toset(["sts:AssumeRole"]) && one(one(data.aws_iam_policy_document.assume_role.statement).principals).identifiers == toset(["lambda.amazonaws.com"])
    error_message = "Only the Lambda service may assume the role."
  }

  assert {
    condition     = data.aws_iam_policy_document.this.source_policy_documents == tolist([var.policy_json])
    error_message = "policy_json must be merged into the role's inline policy document."
  }

  assert {
    condition     = length(data.aws_iam_policy_document.this.statement) == 1 && one(data.aws_iam_policy_document.this.statement).sid == "PortsideOwnLogs"
    error_message = "The module's own statement must be its logs only (no X-Ray without tracing)."
  }

  assert {
    condition     = one(data.aws_iam_policy_document.this.statement).actions == toset(["logs:CreateLogStream", "logs:PutLogEvents"]) && one(data.aws_iam_policy_document.this.statement).resources == toset(["arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/shop:*"])
    error_message = "The logs statement must allow CreateLogStream and PutLogEvents on the function's own log group only."
  }

  assert {
    condition     = aws_iam_role_policy.this.role == aws_iam_role.this.id && aws_iam_role_policy.this.policy == data.aws_iam_policy_document.this.json
    error_message = "The role must carry the merged document inline."
  }

  assert {
    condition     = tolist([for a in aws_iam_role_policy_attachment.extra : a.policy_arn]) == var.policy_arns && alltrue([for a in aws_iam_role_policy_attachment.extra : a.role == aws_iam_role.this.name])
    error_message = "Each of policy_arns must be attached to the function's role."
  }
}

run "environment_and_port" {
  command = apply

  variables {
    port        = 3000
    environment = { NODE_ENV = "production", PORTSIDE_READINESS_CHECK_PATH = "/healthz" }
  }

  assert {
    condition = aws_lambda_function.this.environment[0].variables == tomap({
      AWS_LAMBDA_EXEC_WRAPPER       = "/opt/bootstrap"
      PORT                          = "3000"
      NODE_ENV                      = "production"
      PORTSIDE_READINESS_CHECK_PATH = "/healthz"
    })
    error_message = "The app's environment must be merged with the wrapper and PORT=<port> (got ${jsonencode(aws_lambda_function.this.environment[0].variables)})."
  }
}

run "settings_reach_the_function" {
  command = plan

  variables {
    architecture           = "arm64"
    memory_size            = 1024
    timeout                = 60
    reserved_concurrency   = 3
    log_retention_days     = 30
    log_format             = "JSON"
    tracing_mode           = "Active"
    kms_key_arn            = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    handler                = "bin/start.sh"
    additional_layer_arns  = ["arn:aws:lambda:eu-west-1:111122223333:layer:otel:9"]
    role_name              = "shop-eu-west-1"
    vpc_subnet_ids         = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
    vpc_security_group_ids = ["sg-0a1b2c3d"]
    tags                   = { Team = "payments" }
  }

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"]) && aws_lambda_function.this.memory_size == 1024 && aws_lambda_function.this.timeout == 60 && aws_lambda_function.this.reserved_concurrent_executions == 3
    error_message = "architecture, memory_size, timeout and reserved_concurrency must reach the function."
  }

  assert {
    condition     = aws_lambda_function.this.handler == "bin/start.sh" && aws_lambda_function.this.kms_key_arn == var.kms_key_arn
    error_message = "handler and kms_key_arn must reach the function."
  }

  assert {
    condition     = aws_lambda_function.this.layers == tolist([var.layer_arn, "arn:aws:lambda:eu-west-1:111122223333:layer:otel:9"])
    error_message = "Additional layers must come after the portside layer."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 30 && aws_lambda_function.this.logging_config[0].log_format == "JSON" && aws_cloudwatch_log_group.http_api_access[0].retention_in_days == 30
    error_message = "log_retention_days and log_format must reach the log groups and the function."
  }

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active" && contains([for s in data.aws_iam_policy_document.this.statement : s.sid], "PortsideXRay")
    error_message = "tracing_mode = Active must turn tracing on and give the role the X-Ray statement."
  }

  assert {
    condition = (
      one(aws_lambda_function.this.vpc_config).subnet_ids == toset(var.vpc_subnet_ids) &&
      one(aws_lambda_function.this.vpc_config).security_group_ids == toset(var.vpc_security_group_ids) &&
      aws_iam_role_policy_attachment.vpc[0].policy_arn == "arn:aws:iam::aws:policy/service-role/AWSLambdaENIManagementAccess"
    )
    error_message = "vpc_subnet_ids must put the function in the VPC and attach AWSLambdaENIManagementAccess."
  }

  assert {
    condition     = aws_iam_role.this.name == "shop-eu-west-1"
    error_message = "role_name must name the role."
  }

  assert {
    condition     = aws_lambda_function.this.tags == tomap({ Team = "payments" }) && aws_iam_role.this.tags == tomap({ Team = "payments" }) && aws_apigatewayv2_api.this[0].tags == tomap({ Team = "payments" })
    error_message = "tags must reach the function, the role and the APIs."
  }
}

# --------------------------------------------------------------- HTTP API

run "http_api" {
  command = apply

  assert {
    condition = (
      aws_apigatewayv2_api.this[0].name == "shop-http" &&
      aws_apigatewayv2_api.this[0].protocol_type == "HTTP" &&
      aws_apigatewayv2_integration.this[0].integration_type == "AWS_PROXY" &&
      aws_apigatewayv2_integration.this[0].payload_format_version == "2.0" &&
      aws_apigatewayv2_integration.this[0].integration_uri == "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:shop/invocations"
    )
    error_message = "The HTTP API must proxy to the function's invoke ARN with payload format 2.0."
  }

  assert {
    condition     = aws_apigatewayv2_integration.this[0].timeout_milliseconds == 30000
    error_message = "The HTTP API integration must wait as long as the HTTP API allows (30 s) for a 30 s function."
  }

  assert {
    condition     = aws_apigatewayv2_route.default[0].route_key == "$default" && aws_apigatewayv2_route.default[0].target == "integrations/${aws_apigatewayv2_integration.this[0].id}"
    error_message = "The $default route must target the Lambda integration."
  }

  assert {
    condition = (
      aws_apigatewayv2_stage.default[0].name == "$default" && aws_apigatewayv2_stage.default[0].auto_deploy &&
      aws_apigatewayv2_stage.default[0].default_route_settings[0].throttling_rate_limit == 10 &&
      aws_apigatewayv2_stage.default[0].default_route_settings[0].throttling_burst_limit == 20
    )
    error_message = "The HTTP API must have an auto-deployed $default stage throttled to 10 requests/s, burst 20, by default."
  }

  assert {
    condition     = aws_apigatewayv2_stage.default[0].access_log_settings[0].destination_arn == "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/apigateway/shop-http" && aws_cloudwatch_log_group.http_api_access[0].name == "/aws/apigateway/shop-http"
    error_message = "The HTTP API's access logs must go to its own log group."
  }

  assert {
    condition = (
      aws_lambda_permission.http_api[0].principal == "apigateway.amazonaws.com" &&
      aws_lambda_permission.http_api[0].action == "lambda:InvokeFunction" &&
      aws_lambda_permission.http_api[0].function_name == "shop" &&
      aws_lambda_permission.http_api[0].source_arn == "arn:aws:execute-api:eu-west-1:111122223333:h77p4pi/*"
    )
    error_message = "API Gateway's permission must be scoped to this HTTP API's execution ARN (got ${aws_lambda_permission.http_api[0].source_arn})."
  }
}

run "http_api_short_timeout_and_throttling" {
  command = plan

  variables {
    timeout                         = 10
    http_api_throttling_rate_limit  = 2
    http_api_throttling_burst_limit = 4
  }

  assert {
    condition     = aws_apigatewayv2_integration.this[0].timeout_milliseconds == 10000
    error_message = "The HTTP API integration must not wait longer than the function runs."
  }

  assert {
    condition     = aws_apigatewayv2_stage.default[0].default_route_settings[0].throttling_rate_limit == 2 && aws_apigatewayv2_stage.default[0].default_route_settings[0].throttling_burst_limit == 4
    error_message = "The HTTP API throttling inputs must reach the stage."
  }
}

# --------------------------------------------------------------- REST API

run "rest_api_buffered" {
  command = apply

  variables {
    http_api = false
    rest_api = true
  }

  assert {
    condition     = length(aws_apigatewayv2_api.this) == 0 && length(aws_lambda_permission.http_api) == 0 && output.http_api_url == null
    error_message = "http_api = false must create no HTTP API and no permission for one."
  }

  assert {
    condition = alltrue([
      for path in ["/", "/{proxy+}"] :
      jsondecode(aws_api_gateway_rest_api.this[0].body).paths[path]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"] == {
        type                = "aws_proxy"
        httpMethod          = "POST"
        uri                 = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111122223333:function:shop/invocations"
        passthroughBehavior = "when_no_match"
      }
    ])
    error_message = "ANY / and ANY /{proxy+} must be buffered Lambda proxy integrations on the function's invoke ARN, with no responseTransferMode (got ${aws_api_gateway_rest_api.this[0].body})."
  }

  assert {
    condition     = keys(jsondecode(aws_api_gateway_rest_api.this[0].body).paths) == ["/", "/{proxy+}"]
    error_message = "The REST API must route exactly / and /{proxy+}."
  }

  assert {
    condition     = one(jsondecode(aws_api_gateway_rest_api.this[0].body).paths["/{proxy+}"]["x-amazon-apigateway-any-method"].parameters) == { name = "proxy", in = "path", required = true, schema = { type = "string" } }
    error_message = "/{proxy+} must declare its greedy path parameter."
  }

  assert {
    condition     = aws_api_gateway_rest_api.this[0].name == "shop-rest" && aws_api_gateway_rest_api.this[0].binary_media_types == tolist(["*/*"]) && aws_api_gateway_rest_api.this[0].endpoint_configuration[0].types == tolist(["REGIONAL"])
    error_message = "The REST API must be regional and treat every media type as binary by default."
  }

  assert {
    condition     = aws_api_gateway_deployment.this[0].rest_api_id == aws_api_gateway_rest_api.this[0].id && aws_api_gateway_stage.this[0].deployment_id == aws_api_gateway_deployment.this[0].id && aws_api_gateway_stage.this[0].stage_name == "prod"
    error_message = "The prod stage must serve the module's deployment of the API."
  }

  assert {
    condition = (
      aws_api_gateway_method_settings.this[0].method_path == "*/*" &&
      aws_api_gateway_method_settings.this[0].stage_name == "prod" &&
      aws_api_gateway_method_settings.this[0].settings[0].throttling_rate_limit == 10 &&
      aws_api_gateway_method_settings.this[0].settings[0].throttling_burst_limit == 20
    )
    error_message = "Every method of the stage must be throttled to 10 requests/s, burst 20, by default."
  }

  assert {
    condition = (
      aws_lambda_permission.rest_api[0].principal == "apigateway.amazonaws.com" &&
      aws_lambda_permission.rest_api[0].action == "lambda:InvokeFunction" &&
      aws_lambda_permission.rest_api[0].source_arn == "arn:aws:execute-api:eu-west-1:111122223333:r3st4pi/*"
    )
    error_message = "API Gateway's permission must be scoped to this REST API's execution ARN (got ${aws_lambda_permission.rest_api[0].source_arn})."
  }

  assert {
    condition     = output.rest_api_url == "https://r3st4pi.execute-api.eu-west-1.amazonaws.com/prod"
    error_message = "rest_api_url must be the stage's invoke URL."
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.this.environment[0].variables), "PORTSIDE_INVOKE_MODE")
    error_message = "A buffered REST API must leave PORTSIDE_INVOKE_MODE unset."
  }
}

run "rest_api_stream" {
  command = apply

  variables {
    rest_api                        = true
    rest_api_response_transfer_mode = "STREAM"
    rest_api_stage_name             = "live"
    rest_api_throttling_rate_limit  = 5
    rest_api_throttling_burst_limit = 7
    timeout                         = 120
  }

  assert {
    condition = alltrue([
      for path in ["/", "/{proxy+}"] :
      jsondecode(aws_api_gateway_rest_api.this[0].body).paths[path]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"] == {
        type                 = "aws_proxy"
        httpMethod           = "POST"
        uri                  = "arn:aws:apigateway:eu-west-1:lambda:path/2021-11-15/functions/arn:aws:lambda:eu-west-1:111122223333:function:shop/response-streaming-invocations"
        passthroughBehavior  = "when_no_match"
        responseTransferMode = "STREAM"
        timeoutInMillis      = 120000
      }
    ])
    error_message = "STREAM must give both routes responseTransferMode STREAM, the InvokeWithResponseStream URI and the function's timeout (got ${aws_api_gateway_rest_api.this[0].body})."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["PORTSIDE_INVOKE_MODE"] == "response_stream" && output.invoke_mode == "response_stream"
    error_message = "A streaming REST API must set PORTSIDE_INVOKE_MODE=response_stream, so the adapter streams."
  }

  assert {
    condition     = aws_api_gateway_stage.this[0].stage_name == "live" && aws_api_gateway_method_settings.this[0].settings[0].throttling_rate_limit == 5 && aws_api_gateway_method_settings.this[0].settings[0].throttling_burst_limit == 7
    error_message = "rest_api_stage_name and the REST throttling inputs must reach the stage."
  }

  assert {
    condition     = aws_lambda_permission.rest_api[0].action == "lambda:InvokeFunction" && aws_lambda_permission.rest_api[0].source_arn == "arn:aws:execute-api:eu-west-1:111122223333:r3st4pi/*"
    error_message = "The streaming REST API keeps the same scoped lambda:InvokeFunction permission (it covers InvokeWithResponseStream)."
  }
}

# ------------------------------------------------------------ Function URL

run "function_url_default_is_iam" {
  command = apply

  variables {
    function_url = true
  }

  assert {
    condition     = aws_lambda_function_url.this[0].function_name == "shop" && aws_lambda_function_url.this[0].authorization_type == "AWS_IAM" && aws_lambda_function_url.this[0].invoke_mode == "BUFFERED"
    error_message = "A Function URL must default to AWS_IAM auth and BUFFERED."
  }

  assert {
    condition     = length(aws_lambda_permission.function_url) == 0 && length(aws_lambda_permission.function_url_invoke) == 0
    error_message = "An AWS_IAM Function URL must get no public (principal *) permission."
  }

  assert {
    condition     = output.function_url == "https://f2nurl.lambda-url.eu-west-1.on.aws/"
    error_message = "function_url must be the Function URL."
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.this.environment[0].variables), "PORTSIDE_INVOKE_MODE")
    error_message = "A buffered Function URL must leave PORTSIDE_INVOKE_MODE unset."
  }
}

run "function_url_public_streaming" {
  command = apply

  variables {
    function_url             = true
    function_url_auth_type   = "NONE"
    function_url_invoke_mode = "RESPONSE_STREAM"
    function_url_cors        = { allow_origins = ["https://shop.example"], allow_methods = ["GET", "POST"] }
  }

  assert {
    condition     = aws_lambda_function_url.this[0].invoke_mode == "RESPONSE_STREAM" && aws_lambda_function.this.environment[0].variables["PORTSIDE_INVOKE_MODE"] == "response_stream"
    error_message = "A RESPONSE_STREAM Function URL must set PORTSIDE_INVOKE_MODE=response_stream."
  }

  assert {
    condition = (
      aws_lambda_permission.function_url[0].action == "lambda:InvokeFunctionUrl" &&
      aws_lambda_permission.function_url[0].principal == "*" &&
      aws_lambda_permission.function_url[0].function_url_auth_type == "NONE" &&
      aws_lambda_permission.function_url_invoke[0].action == "lambda:InvokeFunction" &&
      aws_lambda_permission.function_url_invoke[0].principal == "*" &&
      aws_lambda_permission.function_url_invoke[0].function_name == "shop"
    )
    error_message = "A NONE Function URL needs the public InvokeFunctionUrl (limited to auth type NONE) and InvokeFunction permissions."
  }

  assert {
    condition     = one(aws_lambda_function_url.this[0].cors).allow_origins == toset(["https://shop.example"]) && one(aws_lambda_function_url.this[0].cors).allow_methods == toset(["GET", "POST"])
    error_message = "function_url_cors must reach the Function URL."
  }
}

run "rest_stream_with_streaming_function_url" {
  command = plan

  variables {
    rest_api                        = true
    rest_api_response_transfer_mode = "STREAM"
    function_url                    = true
    function_url_invoke_mode        = "RESPONSE_STREAM"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["PORTSIDE_INVOKE_MODE"] == "response_stream"
    error_message = "A streaming REST API with a streaming Function URL must stream."
  }
}

# ------------------------------------------------------- container images

run "container_image" {
  command = apply

  variables {
    package_zip = null
    layer_arn   = null
    runtime     = null
    image_uri   = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop:1.4.2"
    port        = 8000
  }

  assert {
    condition     = aws_lambda_function.this.package_type == "Image" && aws_lambda_function.this.image_uri == var.image_uri && aws_lambda_function.this.filename == null
    error_message = "image_uri must deploy an Image package from that image."
  }

  assert {
    condition     = try(length(aws_lambda_function.this.layers), 0) == 0
    error_message = "An image function gets no layer (the adapter is in the image's /opt/extensions/)."
  }

  assert {
    condition     = aws_lambda_function.this.runtime == null && aws_lambda_function.this.handler == null
    error_message = "An image function has no runtime or handler."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ PORT = "8000" })
    error_message = "An image function needs no exec wrapper; its environment must be PORT only (got ${jsonencode(aws_lambda_function.this.environment[0].variables)})."
  }
}

# ------------------------------------------------------------- bad inputs

run "rejects_both_packages" {
  command = plan

  variables {
    image_uri = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop:1.4.2"
  }

  expect_failures = [aws_lambda_function.this]
}

run "rejects_no_package" {
  command = plan

  variables {
    package_zip = null
  }

  expect_failures = [aws_lambda_function.this]
}

run "rejects_zip_without_layer" {
  command = plan

  variables {
    layer_arn = null
  }

  expect_failures = [aws_lambda_function.this]
}

run "rejects_zip_without_runtime" {
  command = plan

  variables {
    runtime = null
  }

  expect_failures = [aws_lambda_function.this]
}

run "rejects_missing_zip" {
  command = plan

  variables {
    package_zip = "tests/fixtures/no-such-app.zip"
  }

  expect_failures = [aws_lambda_function.this]
}

run "rejects_image_with_layer" {
  command = plan

  variables {
    package_zip = null
    runtime     = null
    image_uri   = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop:1.4.2"
  }

  expect_failures = [aws_lambda_function.this]
}

run "rejects_rest_stream_with_buffered_function_url" {
  command = plan

  variables {
    rest_api                        = true
    rest_api_response_transfer_mode = "STREAM"
    function_url                    = true
    function_url_invoke_mode        = "BUFFERED"
  }

  expect_failures = [aws_lambda_function.this]
}

run "rejects_streaming_function_url_with_buffered_rest_api" {
  command = plan

  variables {
    rest_api                 = true
    function_url             = true
    function_url_invoke_mode = "RESPONSE_STREAM"
  }

  expect_failures = [aws_lambda_function.this]
}

run "streaming_function_url_beside_http_api" {
  command = plan

  variables {
    http_api                 = true
    function_url             = true
    function_url_invoke_mode = "RESPONSE_STREAM"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["PORTSIDE_INVOKE_MODE"] == "response_stream" && length(aws_apigatewayv2_api.this) == 1
    error_message = "A streaming Function URL can sit beside the HTTP API, which the adapter never streams."
  }
}

run "rejects_vpc_without_security_group" {
  command = plan

  variables {
    vpc_subnet_ids = ["subnet-0a1b2c3d"]
  }

  expect_failures = [aws_lambda_function.this]
}

run "rejects_port_zero" {
  command = plan

  variables {
    port = 0
  }

  expect_failures = [var.port]
}

run "rejects_port_above_65535" {
  command = plan

  variables {
    port = 70000
  }

  expect_failures = [var.port]
}

run "rejects_runtime_api_port" {
  command = plan

  variables {
    port = 9001
  }

  expect_failures = [var.port]
}

run "rejects_retired_runtime" {
  command = plan

  variables {
    runtime = "go1.x"
  }

  expect_failures = [var.runtime]
}

run "rejects_amazon_linux_1_custom_runtime" {
  command = plan

  variables {
    runtime = "provided"
  }

  expect_failures = [var.runtime]
}

run "rejects_adapter_keys_in_environment" {
  command = plan

  variables {
    environment = { PORT = "3000", AWS_LWA_INVOKE_MODE = "response_stream" }
  }

  expect_failures = [var.environment]
}

run "rejects_layer_arn_without_version" {
  command = plan

  variables {
    layer_arn = "arn:aws:lambda:eu-west-1:111122223333:layer:portside-x86_64"
  }

  expect_failures = [var.layer_arn]
}

run "rejects_image_outside_ecr" {
  command = plan

  variables {
    package_zip = null
    layer_arn   = null
    runtime     = null
    image_uri   = "docker.io/library/shop:latest"
  }

  expect_failures = [var.image_uri]
}

run "rejects_unknown_invoke_mode" {
  command = plan

  variables {
    function_url_invoke_mode = "STREAMING"
  }

  expect_failures = [var.function_url_invoke_mode]
}

run "rejects_unknown_transfer_mode" {
  command = plan

  variables {
    rest_api_response_transfer_mode = "RESPONSE_STREAM"
  }

  expect_failures = [var.rest_api_response_transfer_mode]
}

run "rejects_bad_name" {
  command = plan

  variables {
    name = "shop.v2"
  }

  expect_failures = [var.name]
}
