#!/usr/bin/env bash
# The main command: serves the sample app on this machine through the whole
# Lambda path (front door -> Runtime API -> adapter extension -> shim -> app),
# with portside-local. Prints the URL and a curl to try; Ctrl-C stops it.
#
# Usage: ./serve.sh [portside-local options]
#   e.g. ./serve.sh --event rest-api      (API Gateway REST events instead of HTTP API)
#        ./serve.sh --port 8000           (front door port; default 3000)
# See `target/debug/portside-local --help` for every option.
set -euo pipefail
cd "$(dirname "$0")"

command -v cargo >/dev/null 2>&1 || { echo "serve.sh: cargo is not installed; install Rust from https://rustup.rs" >&2; exit 1; }

# Flask and gunicorn for the sample app (into .venv, once).
. scripts/python-env.sh

echo "==> building the adapter and portside-local" >&2
cargo build --locked -p portside -p portside-local

# A layer folder laid out as the layer zip is: extensions/portside and bootstrap.
layer=target/local-layer
rm -rf "$layer"
mkdir -p "$layer/extensions"
cp target/debug/portside "$layer/extensions/portside"
cp shim/bootstrap "$layer/bootstrap"
chmod 755 "$layer/extensions/portside" "$layer/bootstrap"

# The sample app keeps its users in SQLite here (DynamoDB when USERS_TABLE is set).
data_dir=$(mktemp -d "${TMPDIR:-/tmp}/portside-serve.XXXXXX")
trap 'rm -rf "$data_dir"' EXIT

target/debug/portside-local \
    --function sample-app \
    --handler run.sh \
    --layer "$layer" \
    --env PORT=8000 \
    --env "SQLITE_PATH=$data_dir/users.sqlite3" \
    "$@"
