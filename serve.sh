#!/usr/bin/env bash
# The main command: serves the sample app on this machine through the whole
# Lambda path (front door -> Runtime API -> adapter extension -> shim -> app),
# with portside-local. Prints the URL and a curl to try; Ctrl-C (or SIGTERM)
# stops it, and everything it started, within 2 seconds.
#
# Usage: ./serve.sh [portside-local options]
#   e.g. ./serve.sh --event rest-api      (API Gateway REST events instead of HTTP API)
#        ./serve.sh --port 8000           (front door port; default 3000)
#        ./serve.sh --environments 1      (one execution environment; default 4)
# See `target/debug/portside-local --help` for every option.
#
# Users are kept in SQLite: by default in a temporary file that is deleted
# when serve.sh stops. To keep them between runs, name a file:
#   SQLITE_PATH=$PWD/users.sqlite3 ./serve.sh
# (USERS_TABLE=name uses DynamoDB instead, which needs boto3:
# `. scripts/python-env.sh` installs it.)
set -euo pipefail

sqlite_path=${SQLITE_PATH:-}
if [ -n "$sqlite_path" ]; then
    case "$sqlite_path" in
        /*) ;;
        *) sqlite_path="$PWD/$sqlite_path" ;;
    esac
fi
cd "$(dirname "$0")"

command -v cargo >/dev/null 2>&1 || { echo "serve.sh: cargo is not installed; install Rust from https://rustup.rs" >&2; exit 1; }

# Flask and gunicorn for the sample app (into .venv, once); not the test tools.
. scripts/python-env.sh serve

echo "==> building the adapter and portside-local" >&2
cargo build --locked -p portside -p portside-local

# A layer folder laid out as the layer zip is: extensions/portside and bootstrap.
layer=target/local-layer
rm -rf "$layer"
mkdir -p "$layer/extensions"
cp target/debug/portside "$layer/extensions/portside"
cp shim/bootstrap "$layer/bootstrap"
chmod 755 "$layer/extensions/portside" "$layer/bootstrap"

data_dir=
if [ -n "$sqlite_path" ]; then
    mkdir -p "$(dirname "$sqlite_path")"
    echo "serve.sh: users are kept in $sqlite_path (SQLITE_PATH)" >&2
else
    data_dir=$(mktemp -d "${TMPDIR:-/tmp}/portside-serve.XXXXXX")
    sqlite_path="$data_dir/users.sqlite3"
    echo "serve.sh: users are kept in a temporary SQLite file that is deleted when serve.sh stops; to keep them, run SQLITE_PATH=\$PWD/users.sqlite3 ./serve.sh" >&2
fi
cleanup() {
    if [ -n "$data_dir" ]; then rm -rf "$data_dir"; fi
}
trap cleanup EXIT

# The start-up message's raw-event example: an S3 notification the sample
# app accepts (a non-CSV object, which it reports as ignored without
# reading S3).
example_event='{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"uploads"},"object":{"key":"photo.jpg","size":1024}}}]}'

# portside-local runs in the background so that this script can pass it
# the signals it gets (a shell does not forward them to a foreground
# child), wait for it to stop its function, and only then delete the data.
target/debug/portside-local \
    --function sample-app \
    --handler run.sh \
    --layer "$layer" \
    --env PORT=8000 \
    --env "SQLITE_PATH=$sqlite_path" \
    --example-event "$example_event" \
    "$@" &
child=$!
trap 'kill -INT "$child" 2>/dev/null || true' INT
trap 'kill -TERM "$child" 2>/dev/null || true' TERM HUP

status=0
while :; do
    if wait "$child"; then status=0; else status=$?; fi
    # A trapped signal interrupts wait (status > 128) while the child runs on.
    if [ "$status" -gt 128 ] && kill -0 "$child" 2>/dev/null; then
        continue
    fi
    break
done
exit "$status"
