# The worker's triggers: an SQS queue (partial batch responses, a
# dead-letter queue after two receives, a 2 s visibility timeout), two
# schedules (a nightly cron the test fires with --fire, and one every
# minute) and a DynamoDB table's stream; plus sources up does not emulate.

resource "aws_sqs_queue" "dead" {
  name = "up-test-jobs-dead"
}

resource "aws_sqs_queue" "jobs" {
  name                       = "up-test-jobs"
  visibility_timeout_seconds = 2

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead.arn
    maxReceiveCount     = 2
  })
}

resource "aws_lambda_event_source_mapping" "jobs" {
  event_source_arn                   = aws_sqs_queue.jobs.arn
  function_name                      = aws_lambda_function.worker.arn
  batch_size                         = 5
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
}

resource "aws_cloudwatch_event_rule" "nightly" {
  name                = "up-test-nightly"
  schedule_expression = "cron(0 3 * * ? *)"
}

resource "aws_cloudwatch_event_target" "nightly" {
  rule = aws_cloudwatch_event_rule.nightly.name
  arn  = aws_lambda_function.worker.arn
}

resource "aws_cloudwatch_event_rule" "tick" {
  name                = "up-test-tick"
  schedule_expression = "rate(1 minute)"
}

resource "aws_cloudwatch_event_target" "tick" {
  rule  = aws_cloudwatch_event_rule.tick.name
  arn   = aws_lambda_function.worker.arn
  input = jsonencode({ tick = true })
}

# Not emulated: a Kinesis stream mapping.
resource "aws_kinesis_stream" "clicks" {
  name        = "up-test-clicks"
  shard_count = 1
}

resource "aws_lambda_event_source_mapping" "clicks" {
  event_source_arn  = aws_kinesis_stream.clicks.arn
  function_name     = aws_lambda_function.worker.arn
  starting_position = "LATEST"
}

# A VPC-only dependency the api function names (DB_HOST): refused.
resource "aws_db_instance" "orders" {
  identifier          = "up-test-orders"
  engine              = "postgres"
  instance_class      = "db.t4g.micro"
  allocated_storage   = 20
  username            = "orders"
  password            = "not-a-secret-it-is-never-applied"
  skip_final_snapshot = true
}

# A table whose stream feeds the worker, from its first record.
resource "aws_dynamodb_table" "orders" {
  name             = "up-test-orders"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "id"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_lambda_event_source_mapping" "orders" {
  event_source_arn  = aws_dynamodb_table.orders.stream_arn
  function_name     = aws_lambda_function.worker.arn
  starting_position = "TRIM_HORIZON"
  batch_size        = 10
}
