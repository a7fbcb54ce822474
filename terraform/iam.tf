# What the sample app may do, merged by the function module into its role's
# inline policy (next to the module's own statement for its log group).
#
# What the sample app (sample-app/users_api) calls, and nothing more:
# - DynamoDB: GetItem (GET /users/<id>, a consistent read needs no more),
#   PutItem (POST /users and the CSV import; the put is conditional on
#   attribute_not_exists(id), which needs no extra action) and Scan (GET
#   /users, paginated with ExclusiveStartKey). The app issues no Query.
# - S3: GetObject, plus GetObjectVersion because the bucket is versioned and
#   the import reads the exact version the notification names (VersionId);
#   both only on the import bucket's objects.

data "aws_iam_policy_document" "app" {
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
}
