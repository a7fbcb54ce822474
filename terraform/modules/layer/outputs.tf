# The layer version to attach (arn), and its parts.

output "arn" {
  description = "ARN of the published layer version (…:layer:<name>:<version>): the function module's layer_arn."
  value       = aws_lambda_layer_version.this.arn
}

output "version" {
  description = "Version number of the published layer version."
  value       = aws_lambda_layer_version.this.version
}

output "layer_arn" {
  description = "ARN of the layer without the version (…:layer:<name>)."
  value       = aws_lambda_layer_version.this.layer_arn
}

output "architecture" {
  description = "Architecture the layer serves (functions using it must match)."
  value       = var.architecture
}
