# Inputs of the layer module: publish portside (extensions/portside and
# bootstrap, as ./build.sh zips them) as a Lambda layer version, optionally
# shared with other accounts or a whole organization.

variable "name" {
  description = "Layer name (1-140 letters, digits, hyphens or underscores), such as portside-x86_64. Every apply that changes the zip publishes a new version under it."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,140}$", var.name))
    error_message = "name must be 1-140 letters, digits, hyphens or underscores (a Lambda layer name), got \"${var.name}\"."
  }
}

variable "zip_path" {
  description = "Path of the layer zip: extensions/portside (the adapter) and bootstrap (the exec wrapper) at its root, as ./build.sh writes dist/portside-layer-<architecture>.zip."
  type        = string
}

variable "architecture" {
  description = "Instruction set the zip's adapter binary was built for: x86_64 or arm64. Functions of the other architecture cannot use the layer."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64 (the adapter binary in the zip is built for one of them)."
  }
}

variable "description" {
  description = "Layer version description; null means one naming portside and the architecture."
  type        = string
  default     = null
}

variable "compatible_runtimes" {
  description = "Runtimes the console and ListLayers show the layer for (at most 15); empty means no list (any runtime may attach it). Informational only: Lambda does not enforce it."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.compatible_runtimes) <= 15
    error_message = "compatible_runtimes can hold at most 15 runtimes (a Lambda limit)."
  }
}

variable "license_info" {
  description = "License of the layer's content, shown to accounts it is shared with (an SPDX identifier, a URL or text, up to 512 characters)."
  type        = string
  default     = null
}

variable "principals" {
  description = "Who else may use this layer version: [] (this account only), one 12-digit AWS account ID, or [\"*\"] (every account: a public layer). One grant per layer version: to share with many accounts, use organization_id instead."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.principals : can(regex("^([0-9]{12}|\\*)$", p))])
    error_message = "principals must hold a 12-digit AWS account ID, or \"*\" for every account (IAM ARNs are not accepted by AddLayerVersionPermission)."
  }

  # Each grant is a statement in the layer version's policy, and the AWS
  # provider reads only the first statement back into every
  # aws_lambda_layer_version_permission of the version
  # (hashicorp/terraform-provider-aws#21917, open): with two, every plan
  # replaces both. So the module makes at most one.
  validation {
    condition     = length(var.principals) <= 1
    error_message = "principals can hold one entry (an account ID or \"*\"): the AWS provider cannot keep two grants on one layer version (hashicorp/terraform-provider-aws#21917). To share with several accounts, set organization_id to their AWS Organizations ID instead, or publish the layer in each account."
  }
}

variable "organization_id" {
  description = "AWS Organizations ID (o-...): every account of the organization may use this layer version. Instead of principals, not with them."
  type        = string
  default     = null

  validation {
    condition     = var.organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id must be an AWS Organizations ID such as o-a1b2c3d4e5 (\"o-\" and 10 to 32 lowercase letters or digits)."
  }
}

variable "skip_destroy" {
  description = "Keep old layer versions (and their grants) when a new one replaces them or on destroy, so functions of other stacks and accounts that pin them can still be updated. Set it when publishing for others."
  type        = bool
  default     = false
}
