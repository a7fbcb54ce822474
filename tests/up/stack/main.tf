# A stack for the tests of `portside-local up` (tests/up/test_up_stack.py),
# used by nothing else: two functions (an echo of its event behind an HTTP
# API and a REST API, a worker fed by an SQS queue and two schedules), the
# queue with its dead-letter queue, and resources `up` must refuse or name
# as not emulated. The test builds build/api.zip and build/worker.zip from
# src/ before it runs `up`. It is never applied.

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
  region = "us-east-1"
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "fn" {
  name               = "up-test-fn"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

# Echoes its event as the response body.
resource "aws_lambda_function" "api" {
  function_name = "up-test-api"
  filename      = "${path.module}/build/api.zip"
  handler       = "api.handler"
  runtime       = "python3.12"
  role          = aws_iam_role.fn.arn
  timeout       = 10

  environment {
    variables = {
      JOBS_QUEUE_URL = aws_sqs_queue.jobs.url
      DB_HOST        = aws_db_instance.orders.address
    }
  }
}

# Prints each event; reports SQS messages whose body has "fail" as failed.
resource "aws_lambda_function" "worker" {
  function_name = "up-test-worker"
  filename      = "${path.module}/build/worker.zip"
  handler       = "worker.handler"
  runtime       = "python3.12"
  role          = aws_iam_role.fn.arn
  timeout       = 5

  vpc_config {
    subnet_ids         = ["subnet-0123456789abcdef0"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }
}

# A package that is not local: refused.
resource "aws_lambda_function" "remote" {
  function_name = "up-test-remote"
  s3_bucket     = "some-artifacts"
  s3_key        = "remote.zip"
  handler       = "remote.handler"
  runtime       = "python3.12"
  role          = aws_iam_role.fn.arn
}
