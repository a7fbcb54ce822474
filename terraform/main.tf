# Shared names and values of the portside sample stack. The resources live in
# files by concern: lambda.tf (layer, function, logs, Function URL), api.tf
# (HTTP API and REST API), storage.tf (DynamoDB table, S3 bucket and its
# notification), iam.tf (the function's role).

data "aws_caller_identity" "current" {}

locals {
  # The zips ./build.sh writes for the chosen architecture, unless a path is
  # given (the tests point these at tiny fixture zips).
  layer_zip_path    = coalesce(var.layer_zip_path, "${path.module}/../dist/portside-layer-${var.architecture}.zip")
  function_zip_path = coalesce(var.function_zip_path, "${path.module}/../dist/sample-app-${var.architecture}.zip")

  function_name = "${var.name_prefix}-app"

  # Environment of the function. The exec wrapper makes the Python runtime run
  # the handler script (run.sh, which starts the app on $PORT) instead of the
  # Python runtime client; the adapter reads PORT too, and streams responses
  # only when the Function URL is in RESPONSE_STREAM mode.
  app_port = 8000
  function_environment = {
    AWS_LAMBDA_EXEC_WRAPPER = "/opt/bootstrap"
    PORT                    = tostring(local.app_port)
    USERS_TABLE             = aws_dynamodb_table.users.name
    PORTSIDE_INVOKE_MODE    = var.function_url_invoke_mode == "RESPONSE_STREAM" ? "response_stream" : "buffered"
  }

  tags = merge(
    {
      Project   = "portside"
      Stack     = var.name_prefix
      ManagedBy = "terraform"
    },
    var.tags,
  )
}
