# Publishes portside as a Lambda layer version: the adapter
# (extensions/portside, a Lambda extension) and the exec wrapper (bootstrap,
# mounted as /opt/bootstrap), from the zip ./build.sh writes. Optionally
# grants another account, a whole organization or every account
# lambda:GetLayerVersion on it, so one account can publish for the others.

locals {
  zip_exists = try(fileexists(var.zip_path), false)

  # At most one grant (see var.principals): an organization, one account, or
  # every account.
  grant           = var.organization_id != null || length(var.principals) > 0
  grant_principal = var.organization_id != null ? "*" : try(var.principals[0], null)
  grant_statement_id = (
    var.organization_id != null ? "portside-organization" :
    local.grant_principal == "*" ? "portside-public" :
    "portside-account-${coalesce(local.grant_principal, "none")}"
  )
}

resource "aws_lambda_layer_version" "this" {
  layer_name               = var.name
  description              = coalesce(var.description, "portside adapter (extensions/portside) and exec wrapper (bootstrap) for ${var.architecture}")
  filename                 = var.zip_path
  source_code_hash         = local.zip_exists ? filebase64sha256(var.zip_path) : null
  compatible_architectures = [var.architecture]
  compatible_runtimes      = length(var.compatible_runtimes) > 0 ? var.compatible_runtimes : null
  license_info             = var.license_info
  skip_destroy             = var.skip_destroy

  lifecycle {
    precondition {
      condition     = local.zip_exists
      error_message = "No layer zip at ${var.zip_path}: run ./build.sh at the repository root (it writes dist/portside-layer-${var.architecture}.zip), or set zip_path."
    }
  }
}

resource "aws_lambda_layer_version_permission" "this" {
  count = local.grant ? 1 : 0

  layer_name      = aws_lambda_layer_version.this.layer_arn
  version_number  = aws_lambda_layer_version.this.version
  statement_id    = local.grant_statement_id
  action          = "lambda:GetLayerVersion"
  principal       = local.grant_principal
  organization_id = var.organization_id
  skip_destroy    = var.skip_destroy

  lifecycle {
    precondition {
      condition     = var.organization_id == null || length(var.principals) == 0
      error_message = "Set organization_id or principals, not both: a layer version keeps one grant here (hashicorp/terraform-provider-aws#21917). An organization grant already covers every account of the organization."
    }
  }
}
