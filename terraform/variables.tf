# Inputs of the portside sample stack. Every one has a default, so
# `terraform apply` after `./build.sh` needs no -var at all; with layer_arn,
# only the function zip is needed.

variable "region" {
  description = "AWS region to deploy the sample stack into."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2,4}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region code such as us-east-1 or eu-west-3."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name (function, table, APIs, role, log groups, bucket). Lowercase letters, digits and hyphens, at most 28 characters so the bucket prefix stays within S3's limit."
  type        = string
  default     = "portside-sample"

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,26}[a-z0-9])?$", var.name_prefix))
    error_message = "name_prefix must be 1-28 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "architecture" {
  description = "Instruction set of the function and the layer: x86_64 or arm64. Picks dist/portside-layer-<architecture>.zip and dist/sample-app-<architecture>.zip."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "layer_arn" {
  description = "ARN of a published portside layer version (arn:aws:lambda:<region>:<account>:layer:<name>:<version>) to attach instead of publishing one from layer_zip_path. It must be in this region and of this architecture."
  type        = string
  default     = null

  validation {
    condition     = var.layer_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.layer_arn))
    error_message = "layer_arn must be a layer version ARN, arn:aws:lambda:<region>:<account>:layer:<name>:<version>, with the version number at the end."
  }
}

variable "layer_zip_path" {
  description = "Path of the portside layer zip to publish when layer_arn is null (zip root: extensions/portside, bootstrap). null means <module>/../dist/portside-layer-<architecture>.zip, as ./build.sh writes it."
  type        = string
  default     = null
}

variable "function_zip_path" {
  description = "Path of the sample app's function zip (app.py, run.sh, vendored dependencies at the zip root). null means <module>/../dist/sample-app-<architecture>.zip, as ./build.sh writes it."
  type        = string
  default     = null
}

variable "memory_size" {
  description = "Memory of the function in MB (CPU scales with it)."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "timeout" {
  description = "Function timeout in seconds. The REST API gives up after 29 s and the HTTP API after 30 s whatever this says; a longer timeout only helps the Function URL and the S3 import."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds from 1 to 900."
  }
}

variable "reserved_concurrency" {
  description = "Cost guard: the most copies of the function that may run at once (requests beyond it get 429). -1 removes the reservation (the function then shares the account's unreserved pool); 0 switches the function off."
  type        = number
  default     = 5

  validation {
    condition     = var.reserved_concurrency >= -1 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "reserved_concurrency must be -1 (unreserved) or a whole number >= 0."
  }
}

variable "function_url_authorization_type" {
  description = "Auth type of the Function URL: NONE (public, so the printed URL opens in a browser) or AWS_IAM (callers must sign requests with SigV4 and hold lambda:InvokeFunctionUrl and lambda:InvokeFunction)."
  type        = string
  default     = "NONE"

  validation {
    condition     = contains(["NONE", "AWS_IAM"], var.function_url_authorization_type)
    error_message = "function_url_authorization_type must be NONE or AWS_IAM."
  }
}

variable "function_url_invoke_mode" {
  description = "Invoke mode of the Function URL: BUFFERED (response sent whole, up to 6 MB) or RESPONSE_STREAM (the adapter streams the app's response; sets PORTSIDE_INVOKE_MODE=response_stream). null follows rest_api_response_transfer_mode (RESPONSE_STREAM with STREAM), else BUFFERED: the adapter streams both front doors or neither."
  type        = string
  default     = null

  validation {
    condition     = var.function_url_invoke_mode == null || contains(["BUFFERED", "RESPONSE_STREAM"], coalesce(var.function_url_invoke_mode, "BUFFERED"))
    error_message = "function_url_invoke_mode must be BUFFERED or RESPONSE_STREAM (or null, to follow rest_api_response_transfer_mode)."
  }
}

variable "http_api_throttling_rate_limit" {
  description = "Cost guard: steady-state requests per second the HTTP API lets through (beyond it callers get 429)."
  type        = number
  default     = 10

  validation {
    condition     = var.http_api_throttling_rate_limit > 0
    error_message = "http_api_throttling_rate_limit must be greater than 0."
  }
}

variable "http_api_throttling_burst_limit" {
  description = "Cost guard: burst of requests the HTTP API lets through above the rate limit."
  type        = number
  default     = 20

  validation {
    condition     = var.http_api_throttling_burst_limit >= 1 && floor(var.http_api_throttling_burst_limit) == var.http_api_throttling_burst_limit
    error_message = "http_api_throttling_burst_limit must be a whole number >= 1."
  }
}

variable "rest_api_throttling_rate_limit" {
  description = "Cost guard: steady-state requests per second the REST API stage lets through (beyond it callers get 429)."
  type        = number
  default     = 10

  validation {
    condition     = var.rest_api_throttling_rate_limit > 0
    error_message = "rest_api_throttling_rate_limit must be greater than 0."
  }
}

variable "rest_api_throttling_burst_limit" {
  description = "Cost guard: burst of requests the REST API stage lets through above the rate limit."
  type        = number
  default     = 20

  validation {
    condition     = var.rest_api_throttling_burst_limit >= 1 && floor(var.rest_api_throttling_burst_limit) == var.rest_api_throttling_burst_limit
    error_message = "rest_api_throttling_burst_limit must be a whole number >= 1."
  }
}

variable "rest_api_response_transfer_mode" {
  description = "Response transfer mode of the REST API: BUFFERED, or STREAM (API Gateway streams the app's response through InvokeWithResponseStream; sets PORTSIDE_INVOKE_MODE=response_stream). null follows function_url_invoke_mode (STREAM with RESPONSE_STREAM), else BUFFERED: the adapter streams both front doors or neither."
  type        = string
  default     = null

  validation {
    condition     = var.rest_api_response_transfer_mode == null || contains(["BUFFERED", "STREAM"], coalesce(var.rest_api_response_transfer_mode, "BUFFERED"))
    error_message = "rest_api_response_transfer_mode must be BUFFERED or STREAM (or null, to follow function_url_invoke_mode)."
  }
}

variable "rest_api_stage_name" {
  description = "Stage of the REST API; it is the first path segment of rest_api_url."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.rest_api_stage_name))
    error_message = "rest_api_stage_name must be 1-128 letters, digits, hyphens or underscores."
  }
}

variable "log_retention_days" {
  description = "Cost guard: days CloudWatch keeps the function's logs and the HTTP API's access logs."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Cost guard: days the bucket keeps an overwritten or deleted CSV's old version before S3 deletes it."
  type        = number
  default     = 7

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number >= 1."
  }
}

variable "bucket_force_destroy" {
  description = "Let `terraform destroy` delete the import bucket with every object and version still in it. true suits a sample; set false to keep uploaded data from being deleted by a destroy."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Extra tags for every resource (added to Project, Stack and ManagedBy)."
  type        = map(string)
  default     = {}
}
