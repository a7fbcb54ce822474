# The users table, the CSV import bucket, and the bucket's notification that
# sends each uploaded .csv to the function (the adapter POSTs it to /events).

resource "aws_dynamodb_table" "users" {
  # checkov:skip=CKV_AWS_119: the table is encrypted at rest with DynamoDB's AWS managed key (server_side_encryption below); a KMS customer managed key costs about $1 a month, which a sample stack that should cost nothing at rest does not spend.
  name         = "${var.name_prefix}-users"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  # Left off on purpose: `terraform destroy` must tear the sample down.
  deletion_protection_enabled = false
}

resource "aws_s3_bucket" "imports" {
  # checkov:skip=CKV_AWS_18: server access logs would need a second bucket; CloudTrail data events or the function's own logs say who imported what for a sample.
  # checkov:skip=CKV_AWS_144: cross-region replication doubles storage and needs a second bucket in another region; the CSVs are re-uploadable sample input.
  # checkov:skip=CKV_AWS_145: objects are encrypted with SSE-S3 (AES256); SSE-KMS with a customer managed key costs a monthly key fee and per-request KMS calls a sample stack should not spend.
  bucket_prefix = "${var.name_prefix}-imports-"
  force_destroy = var.bucket_force_destroy
}

resource "aws_s3_bucket_public_access_block" "imports" {
  bucket = aws_s3_bucket.imports.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "imports" {
  bucket = aws_s3_bucket.imports.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "imports" {
  bucket = aws_s3_bucket.imports.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "imports" {
  bucket = aws_s3_bucket.imports.id

  versioning_configuration {
    status = "Enabled"
  }
}

# Versioning keeps overwritten CSVs; this keeps them only for a few days, and
# never keeps the parts of an abandoned multipart upload.
resource "aws_s3_bucket_lifecycle_configuration" "imports" {
  bucket = aws_s3_bucket.imports.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.imports]
}

# Refuse every request that does not use TLS.
data "aws_iam_policy_document" "imports_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.imports.arn, "${aws_s3_bucket.imports.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "imports" {
  bucket = aws_s3_bucket.imports.id
  policy = data.aws_iam_policy_document.imports_bucket.json

  # Both change the bucket's access settings; set at once, S3 can answer
  # OperationAborted to one of them.
  depends_on = [aws_s3_bucket_public_access_block.imports]
}

# S3 may invoke the function only for this bucket, in this account.
resource "aws_lambda_permission" "s3" {
  statement_id   = "AllowS3Imports"
  action         = "lambda:InvokeFunction"
  function_name  = module.app.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = aws_s3_bucket.imports.arn
  source_account = data.aws_caller_identity.current.account_id
}

resource "aws_s3_bucket_notification" "imports" {
  bucket = aws_s3_bucket.imports.id

  lambda_function {
    id                  = "csv-import"
    lambda_function_arn = module.app.function_arn
    events              = ["s3:ObjectCreated:*"]
    filter_suffix       = ".csv"
  }

  # S3 checks that it may invoke the function when the notification is saved.
  depends_on = [aws_lambda_permission.s3]
}
