# A caller of the function module with for_each and with count, as
# for_each_and_count.tftest.hcl runs it: the module configures no provider,
# so both work. Test-only.

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "layer_arn" {
  type = string
}

variable "zip" {
  type = string
}

locals {
  apps = {
    orders  = { runtime = "nodejs20.x", port = 3000 }
    billing = { runtime = "python3.12", port = 8000 }
  }
}

module "apps" {
  source   = "../.."
  for_each = local.apps

  name        = "shop-${each.key}"
  layer_arn   = var.layer_arn
  package_zip = var.zip
  runtime     = each.value.runtime
  port        = each.value.port
}

module "workers" {
  source = "../.."
  count  = 2

  name         = "shop-worker-${count.index}"
  layer_arn    = var.layer_arn
  package_zip  = var.zip
  runtime      = "java21"
  architecture = "arm64"
  http_api     = false
  function_url = true
}

output "names" {
  value = concat([for k in sort(keys(local.apps)) : module.apps[k].function_name], module.workers[*].function_name)
}

output "http_api_urls" {
  value = { for k, m in module.apps : k => m.http_api_url }
}

output "worker_urls" {
  value = module.workers[*].function_url
}

output "worker_http_api_urls" {
  value = module.workers[*].http_api_url
}
