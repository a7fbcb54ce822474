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
  description = "AWS account IDs (12 digits) that may use this layer version, or [\"*\"] for every account (a public layer). Each gets one lambda:GetLayerVersion grant."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.principals : can(regex("^([0-9]{12}|\\*)$", p))])
    error_message = "principals must hold 12-digit AWS account IDs, or \"*\" for every account (IAM ARNs are not accepted by AddLayerVersionPermission)."
  }

  validation {
    condition     = !contains(var.principals, "*") || length(var.principals) == 1
    error_message = "principals = [\"*\"] already grants every account: list \"*\" alone, or only account IDs."
  }
}

variable "organization_id" {
  description = "AWS Organizations ID (o-...): every account of the organization may use this layer version."
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
