# A stack made of the two portside modules only, as a user would write it,
# for test_moto_apply.py: it is copied next to a copy of terraform/modules
# (hence ../modules) and applied against a moto server, whose endpoints a
# generated *_override.tf adds to the provider below. Test-only.
#
# One layer shared with an organization; two apps by
# for_each (a Node.js app behind a REST API and a public Function URL, whose
# streaming the `streaming` variable switches, and a Python app behind the
# HTTP API); one container-image app by count.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

variable "name_prefix" {
  type = string
}

variable "layer_zip" {
  type = string
}

variable "app_zip" {
  type = string
}

variable "streaming" {
  description = "Switch the Node.js app's REST API to STREAM and its Function URL to RESPONSE_STREAM."
  type        = bool
  default     = false
}

module "layer" {
  source = "../modules/layer"

  name            = "${var.name_prefix}-portside"
  zip_path        = var.layer_zip
  organization_id = "o-a1b2c3d4e5"
}

locals {
  apps = {
    node = {
      runtime      = "nodejs22.x"
      port         = 3000
      http_api     = false
      rest_api     = true
      function_url = true
    }
    python = {
      runtime      = "python3.12"
      port         = 8000
      http_api     = true
      rest_api     = false
      function_url = false
    }
  }
}

module "apps" {
  source   = "../modules/function"
  for_each = local.apps

  name        = "${var.name_prefix}-${each.key}"
  layer_arn   = module.layer.arn
  package_zip = var.app_zip
  runtime     = each.value.runtime
  port        = each.value.port
  environment = { APP_NAME = each.key }

  reserved_concurrency = 2

  http_api = each.value.http_api

  rest_api                        = each.value.rest_api
  rest_api_response_transfer_mode = var.streaming ? "STREAM" : "BUFFERED"
  rest_api_throttling_rate_limit  = 4
  rest_api_throttling_burst_limit = 8

  function_url             = each.value.function_url
  function_url_auth_type   = "NONE"
  function_url_invoke_mode = var.streaming ? "RESPONSE_STREAM" : "BUFFERED"
}

# An app written for Lambda Web Functions, deployed on classic Lambda by the
# same module: its index.js starts it, the adapter gives it Web Functions'
# request semantics, a streaming Function URL in front.
module "web" {
  source = "../modules/function"

  name                     = "${var.name_prefix}-web"
  layer_arn                = module.layer.arn
  package_zip              = var.app_zip
  runtime                  = "nodejs22.x"
  port                     = 3000
  web_function             = true
  http_api                 = false
  function_url             = true
  function_url_auth_type   = "NONE"
  function_url_invoke_mode = "RESPONSE_STREAM"
}

module "images" {
  source = "../modules/function"
  count  = 1

  name      = "${var.name_prefix}-image-${count.index}"
  image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/portside-app:1.0"
  port      = 8080
  http_api  = true
}

output "layer_arn" {
  value = module.layer.arn
}

output "apps" {
  value = {
    for k, m in module.apps : k => {
      function_name = m.function_name
      function_arn  = m.function_arn
      role_name     = m.role_name
      http_api_id   = m.http_api_id
      rest_api_id   = m.rest_api_id
      function_url  = m.function_url
      invoke_mode   = m.invoke_mode
    }
  }
}

output "web" {
  value = {
    function_name = module.web.function_name
    function_url  = module.web.function_url
    invoke_mode   = module.web.invoke_mode
  }
}

output "image_function_names" {
  value = module.images[*].function_name
}

output "image_http_api_ids" {
  value = module.images[*].http_api_id
}
