# The function's execution role: least privilege, one inline policy.
#
# What the sample app (sample-app/users_api) calls, and nothing more:
# - DynamoDB: GetItem (GET /users/<id>, a consistent read needs no more),
#   PutItem (POST /users and the CSV import; the put is conditional on
#   attribute_not_exists(id), which needs no extra action) and Scan (GET
#   /users, paginated with ExclusiveStartKey). The app issues no Query.
# - S3: GetObject, plus GetObjectVersion because the bucket is versioned and
#   the import reads the exact version the notification names (VersionId);
#   both only on the import bucket's objects.
# - Logs: CreateLogStream and PutLogEvents on the function's own log group.
#   Terraform creates the group (with retention), so no logs:CreateLogGroup.

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  name               = "${var.name_prefix}-function"
  description        = "Execution role of the portside sample function"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
}

data "aws_iam_policy_document" "function" {
  statement {
    sid    = "UsersTable"
    effect = "Allow"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Scan",
    ]
    resources = [aws_dynamodb_table.users.arn]
  }

  statement {
    sid       = "ReadImports"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.imports.arn}/*"]
  }

  statement {
    sid    = "OwnLogs"
    effect = "Allow"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "${var.name_prefix}-function"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}
