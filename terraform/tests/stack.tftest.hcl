# Offline tests of the sample stack: a mocked AWS provider plans and applies
# the whole stack, and each assert checks one piece of its wiring.
#
# Run from terraform/ (check.sh does): terraform init -backend=false
# -plugin-dir=<mirror> && terraform test. No AWS account or network is used.

mock_provider "aws" {
  # Realistic shapes for the values the asserts read; the mock makes up the
  # rest. The two log groups get distinct ARNs below (override_resource), so
  # an assert can tell which one a policy or a stage points at.
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_lambda_layer_version" {
    defaults = {
      arn = "arn:aws:lambda:us-east-1:123456789012:layer:portside-sample-portside:7"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:us-east-1:123456789012:function:portside-sample-app"
      invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:portside-sample-app/invocations"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/portside-sample-function"
    }
  }

  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn = "arn:aws:dynamodb:us-east-1:123456789012:table/portside-sample-users"
    }
  }

  mock_resource "aws_s3_bucket" {
    defaults = {
      arn    = "arn:aws:s3:::portside-sample-imports-20240101"
      bucket = "portside-sample-imports-20240101"
      id     = "portside-sample-imports-20240101"
    }
  }

  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      execution_arn = "arn:aws:execute-api:us-east-1:123456789012:h77p4pi"
      api_endpoint  = "https://h77p4pi.execute-api.us-east-1.amazonaws.com"
    }
  }

  mock_resource "aws_apigatewayv2_stage" {
    defaults = {
      invoke_url = "https://h77p4pi.execute-api.us-east-1.amazonaws.com/"
    }
  }

  mock_resource "aws_api_gateway_rest_api" {
    defaults = {
      execution_arn    = "arn:aws:execute-api:us-east-1:123456789012:r3st4pi"
      root_resource_id = "r00t1d"
    }
  }

  mock_resource "aws_api_gateway_stage" {
    defaults = {
      invoke_url = "https://r3st4pi.execute-api.us-east-1.amazonaws.com/prod"
    }
  }

  mock_resource "aws_lambda_function_url" {
    defaults = {
      function_url = "https://f2nurl.lambda-url.us-east-1.on.aws/"
    }
  }
}

override_resource {
  target = aws_cloudwatch_log_group.function
  values = {
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/portside-sample-app"
  }
}

override_resource {
  target = aws_cloudwatch_log_group.http_api_access
  values = {
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/portside-sample-http"
  }
}

# Tiny committed zips stand in for ./build.sh's output, so the tests run
# whether or not dist/ exists.
variables {
  layer_zip_path    = "tests/fixtures/portside-layer.zip"
  function_zip_path = "tests/fixtures/sample-app.zip"
}

# ------------------------------------------------------------ the defaults

run "function_defaults" {
  command = apply

  assert {
    condition     = aws_lambda_function.app.layers == tolist([aws_lambda_layer_version.portside.arn])
    error_message = "The function must have exactly the portside layer attached (got ${jsonencode(aws_lambda_function.app.layers)})."
  }

  assert {
    condition     = aws_lambda_function.app.runtime == "python3.12" && aws_lambda_function.app.handler == "run.sh"
    error_message = "The function must use the python3.12 managed runtime with handler run.sh (got ${aws_lambda_function.app.runtime} / ${aws_lambda_function.app.handler})."
  }

  assert {
    condition     = aws_lambda_function.app.environment[0].variables["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    error_message = "AWS_LAMBDA_EXEC_WRAPPER must be /opt/bootstrap, or the runtime never runs run.sh through the layer's wrapper."
  }

  assert {
    condition     = aws_lambda_function.app.environment[0].variables["PORT"] == "8000"
    error_message = "PORT must be 8000: the app listens there and the adapter forwards there."
  }

  assert {
    condition     = aws_lambda_function.app.environment[0].variables["USERS_TABLE"] == aws_dynamodb_table.users.name
    error_message = "USERS_TABLE must name the stack's DynamoDB table."
  }

  assert {
    condition     = aws_lambda_function.app.environment[0].variables["PORTSIDE_INVOKE_MODE"] == "buffered"
    error_message = "With a BUFFERED Function URL, PORTSIDE_INVOKE_MODE must be buffered."
  }

  assert {
    condition     = length(aws_lambda_function.app.environment[0].variables) == 4
    error_message = "The function's environment must hold exactly AWS_LAMBDA_EXEC_WRAPPER, PORT, USERS_TABLE and PORTSIDE_INVOKE_MODE (got ${jsonencode(keys(aws_lambda_function.app.environment[0].variables))})."
  }

  assert {
    condition     = aws_lambda_function.app.role == aws_iam_role.function.arn
    error_message = "The function must run with the stack's own role."
  }

  assert {
    condition     = aws_lambda_function.app.architectures == tolist(["x86_64"]) && aws_lambda_layer_version.portside.compatible_architectures == toset(["x86_64"]) && aws_lambda_layer_version.portside.layer_name == "portside-sample-portside-x86_64"
    error_message = "By default the function and the layer must both be x86_64."
  }

  assert {
    condition     = aws_lambda_function.app.memory_size == 512 && aws_lambda_function.app.timeout == 30
    error_message = "Default memory and timeout must be 512 MB and 30 s (got ${aws_lambda_function.app.memory_size} MB, ${aws_lambda_function.app.timeout} s)."
  }

  assert {
    condition     = aws_lambda_function.app.reserved_concurrent_executions == 5
    error_message = "Default reserved concurrency must be 5, the cost guard (got ${aws_lambda_function.app.reserved_concurrent_executions})."
  }

  assert {
    condition     = aws_lambda_function.app.logging_config[0].log_group == aws_cloudwatch_log_group.function.name
    error_message = "The function must log to the log group Terraform creates (with retention)."
  }

  assert {
    condition     = aws_cloudwatch_log_group.function.name == "/aws/lambda/portside-sample-app" && aws_cloudwatch_log_group.function.retention_in_days == 14
    error_message = "The function's log group must be /aws/lambda/<function> with 14 days' retention by default."
  }

  assert {
    condition     = aws_cloudwatch_log_group.http_api_access.retention_in_days == 14
    error_message = "The HTTP API access log group must keep logs 14 days by default."
  }

  assert {
    condition     = aws_lambda_layer_version.portside.filename == var.layer_zip_path && aws_lambda_function.app.filename == var.function_zip_path
    error_message = "The layer and the function must be built from the given zips."
  }
}

run "function_url_defaults" {
  command = apply

  assert {
    condition     = aws_lambda_function_url.app.function_name == aws_lambda_function.app.function_name
    error_message = "The Function URL must belong to the stack's function."
  }

  assert {
    condition     = aws_lambda_function_url.app.authorization_type == "NONE"
    error_message = "The Function URL's auth type must default to NONE, so the printed URL opens in a browser."
  }

  assert {
    condition     = aws_lambda_function_url.app.invoke_mode == "BUFFERED"
    error_message = "The Function URL's invoke mode must default to BUFFERED."
  }

  assert {
    condition = (
      length(aws_lambda_permission.function_url) == 1 &&
      aws_lambda_permission.function_url[0].action == "lambda:InvokeFunctionUrl" &&
      aws_lambda_permission.function_url[0].principal == "*" &&
      aws_lambda_permission.function_url[0].function_url_auth_type == "NONE"
    )
    error_message = "A NONE Function URL needs a public lambda:InvokeFunctionUrl permission limited to auth type NONE."
  }

  assert {
    condition = (
      length(aws_lambda_permission.function_url_invoke) == 1 &&
      aws_lambda_permission.function_url_invoke[0].action == "lambda:InvokeFunction" &&
      aws_lambda_permission.function_url_invoke[0].principal == "*" &&
      aws_lambda_permission.function_url_invoke[0].function_name == aws_lambda_function.app.function_name
    )
    error_message = "A NONE Function URL also needs the public lambda:InvokeFunction permission AWS requires since October 2025."
  }

  assert {
    condition     = output.function_url == aws_lambda_function_url.app.function_url
    error_message = "Output function_url must be the Function URL."
  }
}

run "apis" {
  command = apply

  assert {
    condition = (
      aws_apigatewayv2_api.http.protocol_type == "HTTP" &&
      aws_apigatewayv2_integration.http.integration_type == "AWS_PROXY" &&
      aws_apigatewayv2_integration.http.payload_format_version == "2.0" &&
      aws_apigatewayv2_integration.http.integration_uri == aws_lambda_function.app.invoke_arn
    )
    error_message = "The HTTP API must proxy to the function with payload format 2.0."
  }

  assert {
    condition     = aws_apigatewayv2_route.default.route_key == "$default" && aws_apigatewayv2_route.default.target == "integrations/${aws_apigatewayv2_integration.http.id}"
    error_message = "The HTTP API's $default route must target the Lambda integration."
  }

  assert {
    condition     = aws_apigatewayv2_stage.default.name == "$default" && aws_apigatewayv2_stage.default.auto_deploy
    error_message = "The HTTP API must have an auto-deployed $default stage."
  }

  assert {
    condition = (
      aws_apigatewayv2_stage.default.default_route_settings[0].throttling_rate_limit == 10 &&
      aws_apigatewayv2_stage.default.default_route_settings[0].throttling_burst_limit == 20
    )
    error_message = "The HTTP API must be throttled to 10 requests/s with a burst of 20 by default."
  }

  assert {
    condition     = aws_apigatewayv2_stage.default.access_log_settings[0].destination_arn == aws_cloudwatch_log_group.http_api_access.arn
    error_message = "The HTTP API's access logs must go to its own log group (with retention)."
  }

  assert {
    condition = (
      aws_lambda_permission.http_api.principal == "apigateway.amazonaws.com" &&
      aws_lambda_permission.http_api.action == "lambda:InvokeFunction" &&
      aws_lambda_permission.http_api.source_arn == "${aws_apigatewayv2_api.http.execution_arn}/*"
    )
    error_message = "API Gateway's permission for the HTTP API must be scoped to that API's execution ARN."
  }

  assert {
    condition     = aws_api_gateway_rest_api.rest.binary_media_types == tolist(["*/*"])
    error_message = "The REST API must treat every media type as binary (*/*) so binary bodies pass as base64."
  }

  assert {
    condition = (
      aws_api_gateway_resource.proxy.path_part == "{proxy+}" &&
      aws_api_gateway_resource.proxy.parent_id == aws_api_gateway_rest_api.rest.root_resource_id &&
      aws_api_gateway_method.root.resource_id == aws_api_gateway_rest_api.rest.root_resource_id &&
      aws_api_gateway_method.root.http_method == "ANY" &&
      aws_api_gateway_method.proxy.resource_id == aws_api_gateway_resource.proxy.id &&
      aws_api_gateway_method.proxy.http_method == "ANY"
    )
    error_message = "The REST API must route ANY / and ANY /{proxy+}."
  }

  assert {
    condition = alltrue([
      for i in [aws_api_gateway_integration.root, aws_api_gateway_integration.proxy] :
      i.type == "AWS_PROXY" && i.integration_http_method == "POST" && i.uri == aws_lambda_function.app.invoke_arn
    ])
    error_message = "Both REST API methods must be Lambda proxy integrations (POST to the function's invoke ARN)."
  }

  assert {
    condition     = aws_api_gateway_stage.rest.deployment_id == aws_api_gateway_deployment.rest.id && aws_api_gateway_stage.rest.stage_name == "prod"
    error_message = "The REST API's prod stage must serve the stack's deployment."
  }

  assert {
    condition = (
      aws_api_gateway_method_settings.rest.stage_name == aws_api_gateway_stage.rest.stage_name &&
      aws_api_gateway_method_settings.rest.method_path == "*/*" &&
      aws_api_gateway_method_settings.rest.settings[0].throttling_rate_limit == 10 &&
      aws_api_gateway_method_settings.rest.settings[0].throttling_burst_limit == 20
    )
    error_message = "Every method of the REST API stage must be throttled to 10 requests/s with a burst of 20 by default."
  }

  assert {
    condition = (
      aws_lambda_permission.rest_api.principal == "apigateway.amazonaws.com" &&
      aws_lambda_permission.rest_api.action == "lambda:InvokeFunction" &&
      aws_lambda_permission.rest_api.source_arn == "${aws_api_gateway_rest_api.rest.execution_arn}/*"
    )
    error_message = "API Gateway's permission for the REST API must be scoped to that API's execution ARN."
  }

  assert {
    condition     = output.http_api_url == aws_apigatewayv2_stage.default.invoke_url && output.rest_api_url == aws_api_gateway_stage.rest.invoke_url
    error_message = "Outputs http_api_url and rest_api_url must be the stages' invoke URLs."
  }
}

run "storage" {
  command = apply

  assert {
    condition = (
      aws_dynamodb_table.users.billing_mode == "PAY_PER_REQUEST" &&
      aws_dynamodb_table.users.hash_key == "id" &&
      aws_dynamodb_table.users.range_key == null &&
      aws_dynamodb_table.users.attribute == toset([{ name = "id", type = "S" }])
    )
    error_message = "The users table must be on-demand with the single string hash key id."
  }

  assert {
    condition     = aws_dynamodb_table.users.point_in_time_recovery[0].enabled && aws_dynamodb_table.users.server_side_encryption[0].enabled
    error_message = "The users table must have point-in-time recovery and server-side encryption on."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.imports.bucket == aws_s3_bucket.imports.id &&
      aws_s3_bucket_public_access_block.imports.block_public_acls &&
      aws_s3_bucket_public_access_block.imports.block_public_policy &&
      aws_s3_bucket_public_access_block.imports.ignore_public_acls &&
      aws_s3_bucket_public_access_block.imports.restrict_public_buckets
    )
    error_message = "The import bucket must block every kind of public access."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.imports.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "The import bucket must encrypt objects by default."
  }

  assert {
    condition     = aws_s3_bucket_versioning.imports.versioning_configuration[0].status == "Enabled"
    error_message = "The import bucket must be versioned."
  }

  assert {
    condition     = one(aws_s3_bucket_lifecycle_configuration.imports.rule).noncurrent_version_expiration[0].noncurrent_days == 7
    error_message = "Old versions of imported CSVs must expire after 7 days by default (cost guard)."
  }

  assert {
    condition = (
      aws_s3_bucket_policy.imports.policy == data.aws_iam_policy_document.imports_bucket.json &&
      one(data.aws_iam_policy_document.imports_bucket.statement).effect == "Deny" &&
      one(one(data.aws_iam_policy_document.imports_bucket.statement).condition).variable == "aws:SecureTransport" &&
      one(one(data.aws_iam_policy_document.imports_bucket.statement).condition).values == tolist(["false"])
    )
    error_message = "The import bucket's policy must deny every request made without TLS."
  }

  assert {
    condition     = length(aws_s3_bucket_notification.imports.lambda_function) == 1
    error_message = "The import bucket must have exactly one Lambda notification."
  }

  assert {
    condition     = aws_s3_bucket_notification.imports.lambda_function[0].lambda_function_arn == aws_lambda_function.app.arn
    error_message = "The bucket's notification must invoke the stack's function."
  }

  assert {
    condition     = aws_s3_bucket_notification.imports.lambda_function[0].events == toset(["s3:ObjectCreated:*"])
    error_message = "The bucket must notify the function for s3:ObjectCreated:* only (got ${jsonencode(aws_s3_bucket_notification.imports.lambda_function[0].events)})."
  }

  assert {
    condition     = aws_s3_bucket_notification.imports.lambda_function[0].filter_suffix == ".csv" && aws_s3_bucket_notification.imports.lambda_function[0].filter_prefix == null
    error_message = "The bucket must notify the function for every key ending in .csv, and only those."
  }

  assert {
    condition = (
      aws_lambda_permission.s3.principal == "s3.amazonaws.com" &&
      aws_lambda_permission.s3.action == "lambda:InvokeFunction" &&
      aws_lambda_permission.s3.source_arn == aws_s3_bucket.imports.arn &&
      aws_lambda_permission.s3.source_account == "123456789012"
    )
    error_message = "S3's permission must be scoped to the import bucket in this account."
  }

  assert {
    condition     = output.bucket_name == aws_s3_bucket.imports.bucket && output.table_name == aws_dynamodb_table.users.name && output.function_name == aws_lambda_function.app.function_name
    error_message = "Outputs bucket_name, table_name and function_name must name the stack's bucket, table and function."
  }

  assert {
    condition     = output.log_group_name == aws_cloudwatch_log_group.function.name && output.layer_version_arn == aws_lambda_layer_version.portside.arn && output.region == "us-east-1"
    error_message = "Outputs log_group_name, layer_version_arn and region must name the function's log group, its layer version and the region."
  }
}

run "iam_least_privilege" {
  command = apply

  assert {
    condition     = one(data.aws_iam_policy_document.assume_role.statement).actions == toset(["sts:AssumeRole"]) && one(one(data.aws_iam_policy_document.assume_role.statement).principals).identifiers == toset(["lambda.amazonaws.com"])
    error_message = "Only the Lambda service may assume the function's role."
  }

  assert {
    condition     = aws_iam_role_policy.function.role == aws_iam_role.function.id && aws_iam_role_policy.function.policy == data.aws_iam_policy_document.function.json
    error_message = "The function's role must carry the least-privilege policy document inline."
  }

  assert {
    condition     = length(data.aws_iam_policy_document.function.statement) == 3
    error_message = "The function's policy must have exactly three statements: the table, the bucket, its logs."
  }

  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.function.statement : s.effect == "Allow" && s.not_actions == null && s.not_resources == null])
    error_message = "Every statement must be a plain Allow (no NotAction or NotResource)."
  }

  assert {
    condition = one([for s in data.aws_iam_policy_document.function.statement : s if s.sid == "UsersTable"]).actions == toset([
      "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan",
    ])
    error_message = "The table statement must allow exactly GetItem, PutItem and Scan (what the users API calls)."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.function.statement : s if s.sid == "UsersTable"]).resources == toset([aws_dynamodb_table.users.arn])
    error_message = "The table statement must cover the users table's ARN only."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.function.statement : s if s.sid == "ReadImports"]).actions == toset(["s3:GetObject", "s3:GetObjectVersion"])
    error_message = "The bucket statement must allow reading objects (and the notified version of one) and nothing else."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.function.statement : s if s.sid == "ReadImports"]).resources == toset(["arn:aws:s3:::portside-sample-imports-20240101/*"])
    error_message = "The bucket statement must cover the import bucket's objects only."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.function.statement : s if s.sid == "OwnLogs"]).actions == toset(["logs:CreateLogStream", "logs:PutLogEvents"])
    error_message = "The logs statement must allow exactly CreateLogStream and PutLogEvents (the log group already exists)."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.function.statement : s if s.sid == "OwnLogs"]).resources == toset(["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/portside-sample-app:*"])
    error_message = "The logs statement must cover the function's own log group only."
  }
}

# ---------------------------------------------------- the other variable values

run "streaming_iam_url_arm64" {
  command = apply

  variables {
    architecture                    = "arm64"
    function_url_invoke_mode        = "RESPONSE_STREAM"
    function_url_authorization_type = "AWS_IAM"
  }

  assert {
    condition     = aws_lambda_function_url.app.invoke_mode == "RESPONSE_STREAM"
    error_message = "function_url_invoke_mode = RESPONSE_STREAM must reach the Function URL."
  }

  assert {
    condition     = aws_lambda_function.app.environment[0].variables["PORTSIDE_INVOKE_MODE"] == "response_stream"
    error_message = "A RESPONSE_STREAM Function URL must set PORTSIDE_INVOKE_MODE=response_stream so the adapter streams."
  }

  assert {
    condition     = aws_lambda_function_url.app.authorization_type == "AWS_IAM"
    error_message = "function_url_authorization_type = AWS_IAM must reach the Function URL."
  }

  assert {
    condition     = length(aws_lambda_permission.function_url) == 0 && length(aws_lambda_permission.function_url_invoke) == 0
    error_message = "An AWS_IAM Function URL must not get the public (principal *) permissions."
  }

  assert {
    condition     = aws_lambda_function.app.architectures == tolist(["arm64"]) && aws_lambda_layer_version.portside.compatible_architectures == toset(["arm64"])
    error_message = "architecture = arm64 must make both the function and the layer arm64."
  }

  assert {
    condition     = aws_lambda_function.app.layers == tolist([aws_lambda_layer_version.portside.arn])
    error_message = "The portside layer must stay attached on arm64."
  }
}

run "cost_guards" {
  command = plan

  variables {
    reserved_concurrency            = 2
    http_api_throttling_rate_limit  = 1
    http_api_throttling_burst_limit = 3
    rest_api_throttling_rate_limit  = 4
    rest_api_throttling_burst_limit = 6
    log_retention_days              = 3
    memory_size                     = 1024
    timeout                         = 20
  }

  assert {
    condition     = aws_lambda_function.app.reserved_concurrent_executions == 2
    error_message = "reserved_concurrency must reach the function."
  }

  assert {
    condition = (
      aws_apigatewayv2_stage.default.default_route_settings[0].throttling_rate_limit == 1 &&
      aws_apigatewayv2_stage.default.default_route_settings[0].throttling_burst_limit == 3
    )
    error_message = "The HTTP API throttling variables must reach the $default stage."
  }

  assert {
    condition = (
      aws_api_gateway_method_settings.rest.settings[0].throttling_rate_limit == 4 &&
      aws_api_gateway_method_settings.rest.settings[0].throttling_burst_limit == 6
    )
    error_message = "The REST API throttling variables must reach the stage's method settings."
  }

  assert {
    condition     = aws_cloudwatch_log_group.function.retention_in_days == 3 && aws_cloudwatch_log_group.http_api_access.retention_in_days == 3
    error_message = "log_retention_days must reach both log groups."
  }

  assert {
    condition     = aws_lambda_function.app.memory_size == 1024 && aws_lambda_function.app.timeout == 20
    error_message = "memory_size and timeout must reach the function."
  }
}

run "unreserved_concurrency" {
  command = plan

  variables {
    reserved_concurrency = -1
  }

  assert {
    condition     = aws_lambda_function.app.reserved_concurrent_executions == -1
    error_message = "reserved_concurrency = -1 must leave the function unreserved (-1)."
  }
}

run "name_prefix_and_tags" {
  command = plan

  variables {
    name_prefix = "demo"
    tags        = { Owner = "team-a" }
  }

  assert {
    condition = (
      aws_lambda_function.app.function_name == "demo-app" &&
      aws_dynamodb_table.users.name == "demo-users" &&
      aws_s3_bucket.imports.bucket_prefix == "demo-imports-" &&
      aws_iam_role.function.name == "demo-function" &&
      aws_apigatewayv2_api.http.name == "demo-http" &&
      aws_api_gateway_rest_api.rest.name == "demo-rest"
    )
    error_message = "name_prefix must prefix the function, table, bucket, role and API names."
  }

  assert {
    condition     = local.tags == { Project = "portside", Stack = "demo", ManagedBy = "terraform", Owner = "team-a" }
    error_message = "The stack's tags (the provider's default_tags) must be Project, Stack, ManagedBy plus var.tags."
  }
}

# ------------------------------------------------------------- bad inputs

run "rejects_unknown_architecture" {
  command = plan

  variables {
    architecture = "aarch64"
  }

  expect_failures = [var.architecture]
}

run "rejects_unknown_invoke_mode" {
  command = plan

  variables {
    function_url_invoke_mode = "STREAMING"
  }

  expect_failures = [var.function_url_invoke_mode]
}

run "rejects_unknown_auth_type" {
  command = plan

  variables {
    function_url_authorization_type = "PUBLIC"
  }

  expect_failures = [var.function_url_authorization_type]
}

run "rejects_negative_concurrency" {
  command = plan

  variables {
    reserved_concurrency = -2
  }

  expect_failures = [var.reserved_concurrency]
}

run "rejects_bad_region" {
  command = plan

  variables {
    region = "US East 1"
  }

  expect_failures = [var.region]
}

run "rejects_odd_log_retention" {
  command = plan

  variables {
    log_retention_days = 10
  }

  expect_failures = [var.log_retention_days]
}

run "missing_zip_says_run_build" {
  command = plan

  variables {
    layer_zip_path = "tests/fixtures/no-such-layer.zip"
  }

  expect_failures = [aws_lambda_layer_version.portside]
}
