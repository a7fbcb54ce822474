# Terraform and provider versions for the portside sample stack.
#
# Terraform 1.7 is the first release with mock providers in `terraform test`,
# which the offline checks (check.sh) rely on. The AWS provider is held to the
# 5.x line: the offline mirror CI uses holds hashicorp/aws 5.100.0.
terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}

provider "aws" {
  region = var.region

  # Every taggable resource gets these; var.tags adds to (or overrides) them.
  default_tags {
    tags = local.tags
  }
}
