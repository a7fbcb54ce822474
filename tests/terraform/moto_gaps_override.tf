# Test-only: what moto (the AWS API the apply test runs against) does not
# keep, set aside so the plan after apply shows only real drift. The test
# copies this file into its copy of terraform/modules/function/, where
# Terraform merges it into the module's resources of the same names. It is
# never part of the modules themselves. Each entry is a moto gap, not a
# module bug (the test's comments say how each was seen):
#
# 1. moto's CreateRestApi drops binaryMediaTypes (moto/apigateway/models.py,
#    create_rest_api takes no binary media types), and its PutRestApi ignores
#    x-amazon-apigateway-binary-media-types, so the REST API reads back with
#    none and every plan would add "*/*" again.
# 2. moto's Lambda has no LoggingConfig: CreateFunction ignores it and
#    GetFunction returns none, so every plan would add logging_config again.
# 3. moto's UpdateFunctionUrlConfig ignores InvokeMode
#    (FunctionUrlConfig.update copies only Cors and AuthType), so after a
#    switch to RESPONSE_STREAM every plan would switch it again. (With this
#    entry Terraform no longer sends the switch; the test checks the invoke
#    mode a URL is created with.)
# 4. moto's GetFunction returns an ImageConfigResponse with empty Command
#    and EntryPoint lists for every image function (AWS returns none when
#    none was set), so every plan would remove image_config.

resource "aws_api_gateway_rest_api" "this" {
  lifecycle {
    ignore_changes = [binary_media_types]
  }
}

resource "aws_lambda_function" "this" {
  lifecycle {
    ignore_changes = [logging_config, image_config]
  }
}

resource "aws_lambda_function_url" "this" {
  lifecycle {
    ignore_changes = [invoke_mode]
  }
}
