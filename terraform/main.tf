# The portside sample stack: the sample app (sample-app/, a Flask users API)
# deployed with the two portside modules, plus what is the app's own.
#
#   modules/layer     publishes dist/portside-layer-<architecture>.zip, unless
#                     layer_arn names a published layer version
#   modules/function  the function, its role and logs, the HTTP API, the REST
#                     API and the Function URL
#   storage.tf        the users table, the CSV import bucket and its
#                     notification to the function
#   iam.tf            what the app may do with them (merged into the role)

data "aws_caller_identity" "current" {}

locals {
  # The zips ./build.sh writes for the chosen architecture, unless a path is
  # given (the tests point these at tiny fixture zips).
  layer_zip_path    = coalesce(var.layer_zip_path, "${path.module}/../dist/portside-layer-${var.architecture}.zip")
  function_zip_path = coalesce(var.function_zip_path, "${path.module}/../dist/sample-app-${var.architecture}.zip")

  function_name = "${var.name_prefix}-app"

  # The adapter streams the REST API and the Function URL together
  # (PORTSIDE_INVOKE_MODE), so one variable switches both; set both only to
  # say the same thing twice (the module refuses a mix).
  streaming = var.function_url_invoke_mode == "RESPONSE_STREAM" || var.rest_api_response_transfer_mode == "STREAM"
  function_url_invoke_mode = coalesce(
    var.function_url_invoke_mode,
    local.streaming ? "RESPONSE_STREAM" : "BUFFERED",
  )
  rest_api_response_transfer_mode = coalesce(
    var.rest_api_response_transfer_mode,
    local.streaming ? "STREAM" : "BUFFERED",
  )
  layer_arn = var.layer_arn != null ? var.layer_arn : module.layer[0].arn

  tags = merge(
    {
      Project   = "portside"
      Stack     = var.name_prefix
      ManagedBy = "terraform"
    },
    var.tags,
  )
}

# Published here only when no layer_arn is given.
module "layer" {
  source = "./modules/layer"
  count  = var.layer_arn == null ? 1 : 0

  name         = "${var.name_prefix}-portside-${var.architecture}"
  zip_path     = local.layer_zip_path
  architecture = var.architecture
}

module "app" {
  source = "./modules/function"

  name        = local.function_name
  description = "portside sample app (Flask users API) behind the portside adapter layer"
  role_name   = "${var.name_prefix}-function"

  layer_arn    = local.layer_arn
  package_zip  = local.function_zip_path
  runtime      = "python3.12"
  handler      = "run.sh"
  port         = 8000
  architecture = var.architecture

  environment = {
    USERS_TABLE = aws_dynamodb_table.users.name
  }
  policy_json = data.aws_iam_policy_document.app.json

  memory_size          = var.memory_size
  timeout              = var.timeout
  reserved_concurrency = var.reserved_concurrency
  log_retention_days   = var.log_retention_days

  http_api                        = true
  http_api_throttling_rate_limit  = var.http_api_throttling_rate_limit
  http_api_throttling_burst_limit = var.http_api_throttling_burst_limit

  rest_api                        = true
  rest_api_stage_name             = var.rest_api_stage_name
  rest_api_throttling_rate_limit  = var.rest_api_throttling_rate_limit
  rest_api_throttling_burst_limit = var.rest_api_throttling_burst_limit
  rest_api_response_transfer_mode = local.rest_api_response_transfer_mode

  function_url             = true
  function_url_auth_type   = var.function_url_authorization_type
  function_url_invoke_mode = local.function_url_invoke_mode
}
