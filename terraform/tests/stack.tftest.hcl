# Offline tests of the sample stack: a mocked AWS provider plans and applies
# the whole stack (the root module and the two modules it calls), and each
# assert checks one piece of what the root owns: the choice of layer, what it
# asks of the function module, the table, the bucket and its notification,
# the app's permissions, the outputs. The modules' own wiring (wrapper, port,
# front doors and their permissions, refused inputs) is tested in
# modules/*/tests, and the deployed stack's settings against a moto server by
# tests/terraform/test_moto_apply.py at the repository root.
#
# Run from terraform/ (check.sh does): terraform init -backend=false
# -plugin-dir=<mirror> && terraform test. No AWS account or network is used.

mock_provider "aws" {
  # Realistic shapes for the values the asserts read; the mock makes up the
  # rest.
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

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
      arn       = "arn:aws:lambda:us-east-1:123456789012:layer:portside-sample-portside-x86_64:7"
      layer_arn = "arn:aws:lambda:us-east-1:123456789012:layer:portside-sample-portside-x86_64"
      version   = "7"
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

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/portside-sample-app"
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
    }
  }

  mock_resource "aws_apigatewayv2_stage" {
    defaults = {
      invoke_url = "https://h77p4pi.execute-api.us-east-1.amazonaws.com/"
    }
  }

  mock_resource "aws_api_gateway_rest_api" {
    defaults = {
      execution_arn = "arn:aws:execute-api:us-east-1:123456789012:r3st4pi"
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

# Tiny committed zips stand in for ./build.sh's output, so the tests run
# whether or not dist/ exists.
variables {
  layer_zip_path    = "tests/fixtures/portside-layer.zip"
  function_zip_path = "tests/fixtures/sample-app.zip"
}

# ------------------------------------------------------------ the defaults

run "publishes_its_own_layer" {
  command = apply

  assert {
    condition     = length(module.layer) == 1 && module.layer[0].architecture == "x86_64"
    error_message = "Without layer_arn the stack must publish the layer itself, for x86_64 by default."
  }

  assert {
    condition     = output.layer_version_arn == "arn:aws:lambda:us-east-1:123456789012:layer:portside-sample-portside-x86_64:7" && output.layer_version_arn == module.layer[0].arn
    error_message = "The function must get the layer version the stack published (output layer_version_arn)."
  }
}

run "front_doors_and_names" {
  command = apply

  assert {
    condition = (
      output.http_api_url == "https://h77p4pi.execute-api.us-east-1.amazonaws.com/" &&
      output.rest_api_url == "https://r3st4pi.execute-api.us-east-1.amazonaws.com/prod" &&
      output.function_url == "https://f2nurl.lambda-url.us-east-1.on.aws/"
    )
    error_message = "The sample must have all three front doors: HTTP API, REST API and Function URL."
  }

  assert {
    condition     = output.function_name == "portside-sample-app" && output.log_group_name == "/aws/lambda/portside-sample-app" && output.region == "us-east-1"
    error_message = "Outputs function_name, log_group_name and region must name the sample's function, its log group and the region."
  }

  assert {
    condition     = module.app.role_name == "portside-sample-function"
    error_message = "The sample keeps its role name, <name_prefix>-function."
  }

  assert {
    condition     = output.invoke_mode == null
    error_message = "With a buffered REST API and Function URL, PORTSIDE_INVOKE_MODE must be left to the adapter's default."
  }
}

run "storage" {
  command = apply

  assert {
    condition = (
      aws_dynamodb_table.users.name == "portside-sample-users" &&
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
    condition     = aws_s3_bucket_notification.imports.lambda_function[0].lambda_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:portside-sample-app"
    error_message = "The bucket's notification must invoke the sample's function (module.app.function_arn)."
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
      aws_lambda_permission.s3.function_name == "portside-sample-app" &&
      aws_lambda_permission.s3.source_arn == aws_s3_bucket.imports.arn &&
      aws_lambda_permission.s3.source_account == "123456789012"
    )
    error_message = "S3's permission must be scoped to the import bucket in this account."
  }

  assert {
    condition     = output.bucket_name == aws_s3_bucket.imports.bucket && output.table_name == aws_dynamodb_table.users.name
    error_message = "Outputs bucket_name and table_name must name the stack's bucket and table."
  }
}

run "app_least_privilege" {
  command = apply

  assert {
    condition     = length(data.aws_iam_policy_document.app.statement) == 2
    error_message = "The app's policy must have exactly two statements, the table and the bucket (the module adds the log group's)."
  }

  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.app.statement : s.effect == "Allow" && s.not_actions == null && s.not_resources == null])
    error_message = "Every statement must be a plain Allow (no NotAction or NotResource)."
  }

  assert {
    condition = one([for s in data.aws_iam_policy_document.app.statement : s if s.sid == "UsersTable"]).actions == toset([
      "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan",
    ])
    error_message = "The table statement must allow exactly GetItem, PutItem and Scan (what the users API calls)."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.app.statement : s if s.sid == "UsersTable"]).resources == toset(["arn:aws:dynamodb:us-east-1:123456789012:table/portside-sample-users"])
    error_message = "The table statement must cover the users table's ARN only."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.app.statement : s if s.sid == "ReadImports"]).actions == toset(["s3:GetObject", "s3:GetObjectVersion"])
    error_message = "The bucket statement must allow reading objects (and the notified version of one) and nothing else."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.app.statement : s if s.sid == "ReadImports"]).resources == toset(["arn:aws:s3:::portside-sample-imports-20240101/*"])
    error_message = "The bucket statement must cover the import bucket's objects only."
  }
}

# ---------------------------------------------------- the other variable values

run "published_layer_arn" {
  command = apply

  variables {
    layer_arn = "arn:aws:lambda:us-east-1:999988887777:layer:portside-x86_64:3"
    # Not needed with a published layer: the stack must not look for it.
    layer_zip_path = "tests/fixtures/no-such-layer.zip"
  }

  assert {
    condition     = length(module.layer) == 0
    error_message = "With layer_arn the stack must not publish a layer."
  }

  assert {
    condition     = output.layer_version_arn == "arn:aws:lambda:us-east-1:999988887777:layer:portside-x86_64:3"
    error_message = "With layer_arn the function must get that layer version."
  }
}

run "buffered_by_default" {
  command = plan

  assert {
    condition     = local.function_url_invoke_mode == "BUFFERED" && local.rest_api_response_transfer_mode == "BUFFERED"
    error_message = "Both streaming front doors must be buffered by default."
  }
}

run "streaming_function_url_arm64" {
  command = apply

  variables {
    architecture                    = "arm64"
    function_url_invoke_mode        = "RESPONSE_STREAM"
    function_url_authorization_type = "AWS_IAM"
  }

  assert {
    condition     = output.invoke_mode == "response_stream"
    error_message = "A RESPONSE_STREAM Function URL must set PORTSIDE_INVOKE_MODE=response_stream so the adapter streams."
  }

  assert {
    condition     = local.rest_api_response_transfer_mode == "STREAM"
    error_message = "The REST API must follow a streaming Function URL (the adapter streams both), or the module refuses the mix."
  }

  assert {
    condition     = module.layer[0].architecture == "arm64"
    error_message = "architecture = arm64 must publish an arm64 layer."
  }
}

run "streaming_rest_api_with_one_variable" {
  command = apply

  variables {
    rest_api_response_transfer_mode = "STREAM"
  }

  assert {
    condition     = output.invoke_mode == "response_stream" && local.function_url_invoke_mode == "RESPONSE_STREAM"
    error_message = "rest_api_response_transfer_mode = STREAM alone must stream the REST API and, following it, the Function URL."
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
      local.function_name == "demo-app" &&
      aws_dynamodb_table.users.name == "demo-users" &&
      aws_s3_bucket.imports.bucket_prefix == "demo-imports-" &&
      module.layer[0].architecture == "x86_64"
    )
    error_message = "name_prefix must prefix the function, table and bucket names."
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

run "rejects_unknown_transfer_mode" {
  command = plan

  variables {
    rest_api_response_transfer_mode = "RESPONSE_STREAM"
  }

  expect_failures = [var.rest_api_response_transfer_mode]
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

run "rejects_layer_arn_without_version" {
  command = plan

  variables {
    layer_arn = "arn:aws:lambda:us-east-1:999988887777:layer:portside-x86_64"
  }

  expect_failures = [var.layer_arn]
}
