# A reusable module: it configures no provider (the caller does, with its own
# region, credentials and default tags), so it works with count and for_each.
#
# Terraform 1.5 for the validation and precondition features used here (the
# offline tests need 1.7, for mock providers). The AWS provider from 5.100,
# the version CI tests with; 6.x adds runtimes such as nodejs24.x.
terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}
