# Inputs of the function module: one unmodified web app on Lambda behind the
# portside adapter, with the front doors it asks for. Only name, and either
# package_zip (+ layer_arn, runtime) or image_uri, are required.
#
# Checks that involve two inputs (package_zip and image_uri, streaming modes)
# are preconditions on aws_lambda_function.this (main.tf), so they work from
# Terraform 1.5.

# ------------------------------------------------------------------ identity

variable "name" {
  description = "Function name; also names its role, log group and APIs. 1-64 letters, digits, hyphens or underscores."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 letters, digits, hyphens or underscores (a Lambda function name), got \"${var.name}\"."
  }
}

variable "description" {
  description = "Function description. null means \"<name> behind the portside adapter\"."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource the module creates (added to the provider's default_tags)."
  type        = map(string)
  default     = {}
}

# ------------------------------------------------------------------ the code

variable "package_zip" {
  description = "Path of the app's zip (its start script, e.g. run.sh, at the zip root). Runs on a managed runtime through the portside layer (layer_arn). Set this or image_uri, not both."
  type        = string
  default     = null
}

variable "image_uri" {
  description = "ECR image URI of a container image that has the portside binary copied to /opt/extensions/portside. Needs no layer, wrapper, runtime or handler. Set this or package_zip, not both."
  type        = string
  default     = null

  validation {
    condition     = var.image_uri == null || can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[^:@]+(:[^@]+|@sha256:[0-9a-f]{64})$", var.image_uri))
    error_message = "image_uri must be an Amazon ECR image with a tag or digest, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app:1.0 (Lambda runs images from ECR only)."
  }
}

variable "layer_arn" {
  description = "ARN of a portside layer version (arn:aws:lambda:<region>:<account>:layer:<name>:<version>), in the function's region and architecture. Required with package_zip; the layer module publishes one."
  type        = string
  default     = null

  validation {
    condition     = var.layer_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.layer_arn))
    error_message = "layer_arn must be a layer version ARN, arn:aws:lambda:<region>:<account>:layer:<name>:<version>, with the version number at the end (got \"${coalesce(var.layer_arn, "null")}\")."
  }
}

variable "additional_layer_arns" {
  description = "More layer version ARNs to attach after portside's (zip packages only; Lambda allows five layers in all)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.additional_layer_arns) <= 4
    error_message = "additional_layer_arns can hold at most 4 ARNs: Lambda allows five layers per function, and portside is one."
  }
}

variable "runtime" {
  description = "Managed runtime for package_zip: nodejs18.x-nodejs24.x, python3.9-python3.14, java8.al2, java11, java17, java21, java25, dotnet8, dotnet10, ruby3.2-ruby3.4, provided.al2 or provided.al2023. (AWS provider 5.x knows runtimes up to nodejs22.x, python3.13, java21.) Leave null with image_uri."
  type        = string
  default     = null

  validation {
    condition     = var.runtime == null || can(regex("^(nodejs(18|20|22|24)\\.x|python3\\.(9|1[0-4])|java(8\\.al2|11|17|21|25)|dotnet(8|10)|ruby3\\.[2-4]|provided\\.al2(023)?)$", var.runtime))
    error_message = "runtime \"${coalesce(var.runtime, "null")}\" cannot run the portside layer: use a current managed runtime that supports exec wrappers (nodejs18.x-nodejs24.x, python3.9-python3.14, java8.al2, java11, java17, java21, java25, dotnet8, dotnet10, ruby3.2-ruby3.4, provided.al2, provided.al2023). go1.x and provided (Amazon Linux 1) are retired: use provided.al2023, or a container image (image_uri)."
  }
}

variable "handler" {
  description = "Script in package_zip that starts the web app on $PORT (the layer's exec wrapper runs it; a .js file runs under node). null means run.sh, or index.js with web_function. Leave null with image_uri (the image's CMD starts the app)."
  type        = string
  default     = null

  validation {
    condition     = var.handler == null || can(regex("^[^\\s]{1,128}$", var.handler))
    error_message = "handler must be a path in the zip of at most 128 characters without spaces, such as run.sh or bin/start.sh."
  }
}

variable "web_function" {
  description = "An app written for Lambda Web Functions (it listens on AWS_LAMBDA_HTTP_ENDPOINT, which the layer's shim exports): the adapter gives it Web Functions' request semantics (PORTSIDE_WEB_FUNCTION: lambda-web-request-id, lambda-web-endpoint-name, the client's IP last in X-Forwarded-For), and with handler left null the package's index.js starts it, as Web Functions does."
  type        = bool
  default     = false
}

variable "port" {
  description = "TCP port the app listens on. The module sets PORT to it, which the app reads and the adapter forwards to."
  type        = number
  default     = 8080

  validation {
    condition     = var.port >= 1 && var.port <= 65535 && floor(var.port) == var.port
    error_message = "port must be a whole number from 1 to 65535 (the TCP port the app listens on), got ${var.port}."
  }

  validation {
    condition     = var.port != 9001
    error_message = "port 9001 is the Lambda Runtime API's own port inside the sandbox: have the app listen on another port, such as 8080."
  }
}

variable "environment" {
  description = "The app's own environment variables, merged with the adapter's (PORT, AWS_LAMBDA_EXEC_WRAPPER, PORTSIDE_INVOKE_MODE, PORTSIDE_WEB_FUNCTION), which the module owns. Other PORTSIDE_* / AWS_LWA_* settings (readiness path, compression...) go here."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setintersection(keys(var.environment), ["PORT", "PORTSIDE_PORT", "AWS_LWA_PORT", "AWS_LAMBDA_EXEC_WRAPPER", "PORTSIDE_INVOKE_MODE", "AWS_LWA_INVOKE_MODE", "PORTSIDE_WEB_FUNCTION", "AWS_LAMBDA_HTTP_ENDPOINT"])) == 0
    error_message = "environment must not set ${join(", ", sort(setintersection(keys(var.environment), ["PORT", "PORTSIDE_PORT", "AWS_LWA_PORT", "AWS_LAMBDA_EXEC_WRAPPER", "PORTSIDE_INVOKE_MODE", "AWS_LWA_INVOKE_MODE", "PORTSIDE_WEB_FUNCTION", "AWS_LAMBDA_HTTP_ENDPOINT"])))}: the module sets them. Use port for the app's port, rest_api_response_transfer_mode / function_url_invoke_mode for streaming, and web_function for a Web Functions app."
  }
}

# ------------------------------------------------------------ the function

variable "architecture" {
  description = "Instruction set: x86_64 or arm64 (Graviton). Must match the layer (or the image)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_size" {
  description = "Memory in MB (CPU scales with it)."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "timeout" {
  description = "Timeout in seconds. The HTTP API gives up after 30 s and a buffered REST API after 29 s whatever this says; a streaming REST API and a Function URL wait this long."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds from 1 to 900."
  }
}

variable "reserved_concurrency" {
  description = "Cost guard: the most copies that may run at once (-1: unreserved, the account's pool; 0: switched off). A reservation fails on accounts whose concurrency limit is still 10, since Lambda keeps 10 unreserved."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrency >= -1 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "reserved_concurrency must be -1 (unreserved) or a whole number >= 0."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing: PassThrough (Lambda's default) or Active (adds xray:PutTraceSegments and xray:PutTelemetryRecords to the role)."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be PassThrough or Active."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the environment variables at rest; null means Lambda's AWS managed key."
  type        = string
  default     = null
}

variable "vpc_subnet_ids" {
  description = "Subnets to run in (to reach private resources such as a database); empty means no VPC. Needs vpc_security_group_ids; the role gets AWSLambdaENIManagementAccess."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups of the function's network interfaces, with vpc_subnet_ids."
  type        = list(string)
  default     = []
}

# ----------------------------------------------------------- logs and IAM

variable "log_retention_days" {
  description = "Cost guard: days CloudWatch keeps the function's logs (and the HTTP API's access logs)."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_format" {
  description = "Format of the function's log lines: Text, or JSON (Lambda's structured logs; the adapter logs JSON too)."
  type        = string
  default     = "Text"

  validation {
    condition     = contains(["Text", "JSON"], var.log_format)
    error_message = "log_format must be Text or JSON."
  }
}

variable "role_name" {
  description = "Name of the execution role the module creates; null means the function's name. IAM names are global to the account: set this when the same name is deployed in two regions."
  type        = string
  default     = null

  validation {
    condition     = var.role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be 1-64 letters, digits or +=,.@_- characters."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of a policy to set as the execution role's permissions boundary, where the account requires one."
  type        = string
  default     = null
}

variable "policy_json" {
  description = "An IAM policy document (JSON) with what the app needs (its table, bucket, queue...), merged into the role's inline policy next to the module's own log permissions. Statement IDs starting with Portside are the module's."
  type        = string
  default     = null
}

variable "policy_arns" {
  description = "ARNs of managed policies to attach to the execution role."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.policy_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", arn))])
    error_message = "policy_arns must hold IAM policy ARNs, such as arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess."
  }
}

# ------------------------------------------------------------------ HTTP API

variable "http_api" {
  description = "Create an API Gateway HTTP API (payload format 2.0, $default route and stage) in front of the function. The cheapest API front door, with throttling."
  type        = bool
  default     = true
}

variable "http_api_throttling_rate_limit" {
  description = "Cost guard: steady requests per second the HTTP API lets through (beyond it callers get 429)."
  type        = number
  default     = 10

  validation {
    condition     = var.http_api_throttling_rate_limit > 0
    error_message = "http_api_throttling_rate_limit must be greater than 0."
  }
}

variable "http_api_throttling_burst_limit" {
  description = "Cost guard: burst of requests the HTTP API lets through above the rate."
  type        = number
  default     = 20

  validation {
    condition     = var.http_api_throttling_burst_limit >= 1 && floor(var.http_api_throttling_burst_limit) == var.http_api_throttling_burst_limit
    error_message = "http_api_throttling_burst_limit must be a whole number >= 1."
  }
}

# ------------------------------------------------------------------ REST API

variable "rest_api" {
  description = "Create an API Gateway REST API (Lambda proxy on ANY / and ANY /{proxy+}, one stage) in front of the function."
  type        = bool
  default     = false
}

variable "rest_api_stage_name" {
  description = "REST API stage; the first path segment of rest_api_url."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.rest_api_stage_name))
    error_message = "rest_api_stage_name must be 1-128 letters, digits, hyphens or underscores."
  }
}

variable "rest_api_throttling_rate_limit" {
  description = "Cost guard: steady requests per second the REST API stage lets through."
  type        = number
  default     = 10

  validation {
    condition     = var.rest_api_throttling_rate_limit > 0
    error_message = "rest_api_throttling_rate_limit must be greater than 0."
  }
}

variable "rest_api_throttling_burst_limit" {
  description = "Cost guard: burst of requests the REST API stage lets through above the rate."
  type        = number
  default     = 20

  validation {
    condition     = var.rest_api_throttling_burst_limit >= 1 && floor(var.rest_api_throttling_burst_limit) == var.rest_api_throttling_burst_limit
    error_message = "rest_api_throttling_burst_limit must be a whole number >= 1."
  }
}

variable "rest_api_response_transfer_mode" {
  description = "BUFFERED (the whole response at once, up to 10 MB and 29 s) or STREAM (API Gateway invokes the function with InvokeWithResponseStream and streams the app's body as it is written; up to the function's timeout). STREAM also sets PORTSIDE_INVOKE_MODE=response_stream, which streams Function URL events too: with a Function URL, set function_url_invoke_mode = RESPONSE_STREAM as well."
  type        = string
  default     = "BUFFERED"

  validation {
    condition     = contains(["BUFFERED", "STREAM"], var.rest_api_response_transfer_mode)
    error_message = "rest_api_response_transfer_mode must be BUFFERED or STREAM."
  }
}

variable "rest_api_binary_media_types" {
  description = "Media types the REST API passes as binary (base64 to and from the function). The default, */*, passes every body through unchanged."
  type        = list(string)
  default     = ["*/*"]
}

variable "rest_api_endpoint_type" {
  description = "REGIONAL or EDGE (through CloudFront; a streamed response's idle timeout is then 30 s instead of 5 minutes)."
  type        = string
  default     = "REGIONAL"

  validation {
    condition     = contains(["REGIONAL", "EDGE"], var.rest_api_endpoint_type)
    error_message = "rest_api_endpoint_type must be REGIONAL or EDGE."
  }
}

# -------------------------------------------------------------- Function URL

variable "function_url" {
  description = "Create a Lambda Function URL. It has no throttling of its own: reserved_concurrency is its cost guard."
  type        = bool
  default     = false
}

variable "function_url_auth_type" {
  description = "AWS_IAM (callers sign with SigV4 and need lambda:InvokeFunctionUrl and lambda:InvokeFunction) or NONE (public: the module adds the two principal-* permissions AWS requires)."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["NONE", "AWS_IAM"], var.function_url_auth_type)
    error_message = "function_url_auth_type must be NONE or AWS_IAM."
  }
}

variable "function_url_invoke_mode" {
  description = "BUFFERED (up to 6 MB) or RESPONSE_STREAM (the adapter streams the app's body; also sets PORTSIDE_INVOKE_MODE=response_stream, which streams REST API events too: with a REST API, set rest_api_response_transfer_mode = STREAM as well)."
  type        = string
  default     = "BUFFERED"

  validation {
    condition     = contains(["BUFFERED", "RESPONSE_STREAM"], var.function_url_invoke_mode)
    error_message = "function_url_invoke_mode must be BUFFERED or RESPONSE_STREAM."
  }
}

variable "function_url_cors" {
  description = "CORS settings of the Function URL; null means none (the app can send its own CORS headers)."
  type = object({
    allow_origins     = optional(list(string), ["*"])
    allow_methods     = optional(list(string), ["*"])
    allow_headers     = optional(list(string), [])
    expose_headers    = optional(list(string), [])
    allow_credentials = optional(bool, false)
    max_age           = optional(number, 0)
  })
  default = null
}
