# Publishes portside as a Lambda layer version: the adapter
# (extensions/portside, a Lambda extension) and the exec wrapper (bootstrap,
# mounted as /opt/bootstrap), from the zip ./build.sh writes. Optionally
# grants other accounts, or a whole organization, lambda:GetLayerVersion on
# it, so one account can publish for the others.

locals {
  zip_exists = try(fileexists(var.zip_path), false)

  # One grant per account ID, keyed by it (stable when the list is
  # reordered), and one for the organization.
  account_grants = { for p in var.principals : (p == "*" ? "public" : p) => p }
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

resource "aws_lambda_layer_version_permission" "account" {
  for_each = local.account_grants

  layer_name     = aws_lambda_layer_version.this.layer_arn
  version_number = aws_lambda_layer_version.this.version
  statement_id   = "portside-${each.key}"
  action         = "lambda:GetLayerVersion"
  principal      = each.value
  skip_destroy   = var.skip_destroy
}

resource "aws_lambda_layer_version_permission" "organization" {
  count = var.organization_id == null ? 0 : 1

  layer_name      = aws_lambda_layer_version.this.layer_arn
  version_number  = aws_lambda_layer_version.this.version
  statement_id    = "portside-organization"
  action          = "lambda:GetLayerVersion"
  principal       = "*"
  organization_id = var.organization_id
  skip_destroy    = var.skip_destroy
}
