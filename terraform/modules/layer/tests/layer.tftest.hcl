# Offline tests of the layer module: a mocked AWS provider publishes the
# layer version, and the asserts check what is published and who may use it,
# and that bad inputs are refused.
#
# Run from terraform/modules/layer (terraform/check.sh does):
# terraform init -backend=false -plugin-dir=<mirror> && terraform test

mock_provider "aws" {
  mock_resource "aws_lambda_layer_version" {
    defaults = {
      arn       = "arn:aws:lambda:us-east-1:111122223333:layer:portside-x86_64:12"
      layer_arn = "arn:aws:lambda:us-east-1:111122223333:layer:portside-x86_64"
      version   = "12"
    }
  }
}

variables {
  name     = "portside-x86_64"
  zip_path = "tests/fixtures/portside-layer.zip"
}

run "publishes_the_zip" {
  command = apply

  assert {
    condition     = aws_lambda_layer_version.this.layer_name == "portside-x86_64" && aws_lambda_layer_version.this.filename == "tests/fixtures/portside-layer.zip"
    error_message = "The layer must be published under its name from the given zip."
  }

  assert {
    condition     = aws_lambda_layer_version.this.source_code_hash == filebase64sha256("tests/fixtures/portside-layer.zip")
    error_message = "source_code_hash must follow the zip, so a new build publishes a new version."
  }

  assert {
    condition     = aws_lambda_layer_version.this.compatible_architectures == toset(["x86_64"])
    error_message = "The layer must declare the architecture its adapter is built for (x86_64 by default)."
  }

  assert {
    condition     = try(length(aws_lambda_layer_version.this.compatible_runtimes), 0) == 0
    error_message = "With no compatible_runtimes the layer must not restrict runtimes."
  }

  assert {
    condition     = !aws_lambda_layer_version.this.skip_destroy
    error_message = "Old versions must be deleted by default (skip_destroy off)."
  }

  assert {
    condition     = length(aws_lambda_layer_version_permission.this) == 0
    error_message = "Without principals or organization_id the layer must stay private to its account."
  }

  assert {
    condition     = output.arn == "arn:aws:lambda:us-east-1:111122223333:layer:portside-x86_64:12" && output.version == "12" && output.layer_arn == "arn:aws:lambda:us-east-1:111122223333:layer:portside-x86_64"
    error_message = "Outputs arn, version and layer_arn must be the published version's."
  }
}

run "arm64_with_runtimes_and_licence" {
  command = plan

  variables {
    name                = "portside-arm64"
    architecture        = "arm64"
    compatible_runtimes = ["nodejs22.x", "python3.12"]
    license_info        = "Apache-2.0"
    description         = "portside 1.2.0 for Graviton"
  }

  assert {
    condition     = aws_lambda_layer_version.this.compatible_architectures == toset(["arm64"]) && output.architecture == "arm64"
    error_message = "architecture = arm64 must publish an arm64 layer."
  }

  assert {
    condition     = aws_lambda_layer_version.this.compatible_runtimes == toset(["nodejs22.x", "python3.12"]) && aws_lambda_layer_version.this.license_info == "Apache-2.0" && aws_lambda_layer_version.this.description == "portside 1.2.0 for Graviton"
    error_message = "compatible_runtimes, license_info and description must reach the layer version."
  }
}

run "shared_with_an_account" {
  command = apply

  variables {
    principals   = ["444455556666"]
    skip_destroy = true
  }

  assert {
    condition = (
      aws_lambda_layer_version_permission.this[0].principal == "444455556666" &&
      aws_lambda_layer_version_permission.this[0].action == "lambda:GetLayerVersion" &&
      aws_lambda_layer_version_permission.this[0].statement_id == "portside-account-444455556666" &&
      aws_lambda_layer_version_permission.this[0].layer_name == "arn:aws:lambda:us-east-1:111122223333:layer:portside-x86_64" &&
      aws_lambda_layer_version_permission.this[0].version_number == 12 &&
      aws_lambda_layer_version_permission.this[0].organization_id == null
    )
    error_message = "An account in principals must be granted exactly lambda:GetLayerVersion on this layer version."
  }

  assert {
    condition     = aws_lambda_layer_version.this.skip_destroy && aws_lambda_layer_version_permission.this[0].skip_destroy
    error_message = "skip_destroy must keep old versions and their grants."
  }
}

run "shared_with_an_organization" {
  command = apply

  variables {
    organization_id = "o-a1b2c3d4e5"
  }

  assert {
    condition = (
      length(aws_lambda_layer_version_permission.this) == 1 &&
      aws_lambda_layer_version_permission.this[0].principal == "*" &&
      aws_lambda_layer_version_permission.this[0].organization_id == "o-a1b2c3d4e5" &&
      aws_lambda_layer_version_permission.this[0].action == "lambda:GetLayerVersion" &&
      aws_lambda_layer_version_permission.this[0].statement_id == "portside-organization"
    )
    error_message = "organization_id must grant lambda:GetLayerVersion to every account of that organization (principal * limited by the organization ID)."
  }
}

run "public_layer" {
  command = plan

  variables {
    principals = ["*"]
  }

  assert {
    condition     = aws_lambda_layer_version_permission.this[0].principal == "*" && aws_lambda_layer_version_permission.this[0].organization_id == null && aws_lambda_layer_version_permission.this[0].statement_id == "portside-public"
    error_message = "principals = [\"*\"] must make one public grant."
  }
}

run "rejects_two_accounts" {
  command = plan

  variables {
    principals = ["444455556666", "777788889999"]
  }

  expect_failures = [var.principals]
}

run "rejects_accounts_and_organization" {
  command = plan

  variables {
    principals      = ["444455556666"]
    organization_id = "o-a1b2c3d4e5"
  }

  expect_failures = [aws_lambda_layer_version_permission.this]
}

run "rejects_missing_zip" {
  command = plan

  variables {
    zip_path = "tests/fixtures/no-such-layer.zip"
  }

  expect_failures = [aws_lambda_layer_version.this]
}

run "rejects_unknown_architecture" {
  command = plan

  variables {
    architecture = "aarch64"
  }

  expect_failures = [var.architecture]
}

run "rejects_iam_arn_principal" {
  command = plan

  variables {
    principals = ["arn:aws:iam::444455556666:root"]
  }

  expect_failures = [var.principals]
}

run "rejects_bad_organization_id" {
  command = plan

  variables {
    organization_id = "my-org"
  }

  expect_failures = [var.organization_id]
}

run "rejects_bad_name" {
  command = plan

  variables {
    name = "portside:1"
  }

  expect_failures = [var.name]
}
