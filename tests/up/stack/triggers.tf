# The worker's triggers: an SQS queue (partial batch responses, a
# dead-letter queue after two receives, a 2 s visibility timeout) and two
# schedules (a nightly cron the test fires with --fire, and one every
# minute); plus sources up does not emulate.

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
