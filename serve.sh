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
#        ./serve.sh --stack [up options]  the whole sample stack (terraform/)
#   through `portside-local up`: the users API behind its HTTP API (port 3000),
#   REST API and Function URL, the CSV import fed by the bucket's
#   notifications, the table and the bucket in a moto server on port 4566.
#   Needs terraform (and its AWS provider: a mirror under /opt or TF_PLUGIN_DIR
#   is used offline); packages the sample app into dist/ when it is missing or
#   older than its sources. See `target/debug/portside-local up --help`.
#
# Users are kept in SQLite: by default in a temporary file that is deleted
# when serve.sh stops. To keep them between runs, name a file:
#   SQLITE_PATH=$PWD/users.sqlite3 ./serve.sh
# (USERS_TABLE=name uses DynamoDB instead, which needs boto3:
# `. scripts/python-env.sh` installs it.)
set -euo pipefail

# Runs portside-local in the background so that this script can pass it the
# signals it gets (a shell does not forward them to a foreground child) and
# wait for it to stop its functions; returns its exit status.
run_in_background() {
    "$@" &
    child=$!
    trap 'kill -INT "$child" 2>/dev/null || true' INT
    trap 'kill -TERM "$child" 2>/dev/null || true' TERM HUP
    local status=0
    while :; do
        if wait "$child"; then status=0; else status=$?; fi
        # A trapped signal interrupts wait (status > 128) while the child runs on.
        if [ "$status" -gt 128 ] && kill -0 "$child" 2>/dev/null; then
            continue
        fi
        break
    done
    return "$status"
}

if [ "${1:-}" = "--stack" ]; then
    shift
    cd "$(dirname "$0")"
    command -v cargo >/dev/null 2>&1 || { echo "serve.sh: cargo is not installed; install Rust from https://rustup.rs" >&2; exit 1; }
    command -v terraform >/dev/null 2>&1 || { echo "serve.sh: --stack reads terraform/ with Terraform itself; install terraform (1.11 or newer)" >&2; exit 1; }
    # The functions' packages and the AWS stand-in: boto3 and moto[server]
    # are in the dev set (requirements-dev.txt). Named: a sourced script
    # without arguments gets this script's (the up options).
    . scripts/python-env.sh dev
    echo "==> building the adapter and portside-local" >&2
    cargo build --locked -p portside -p portside-local
    case "$(uname -m)" in aarch64 | arm64) arch=arm64 ;; *) arch=x86_64 ;; esac
    function_zip="dist/sample-app-$arch.zip"
    if [ ! -f "$function_zip" ] || [ -n "$(find sample-app/run.sh sample-app/gunicorn.conf.py sample-app/requirements.txt sample-app/users_api -newer "$function_zip" -print -quit)" ]; then
        echo "==> packaging the sample app into $function_zip" >&2
        sample-app/package.sh "$arch" 3.12 "$function_zip"
    fi
    # The stack's layer maps to the local build whatever its zip holds; this
    # zip of the local build keeps the plan's precondition (a layer zip)
    # without the release build.
    # Where cargo builds (CARGO_TARGET_DIR, relative to the repository, else target/).
    target=${CARGO_TARGET_DIR:-target}
    layer_zip=$target/local-layer.zip
    python3 - "$target/debug/portside" shim/bootstrap "$layer_zip" <<'PY'
import sys, zipfile
adapter, shim, out = sys.argv[1:]
with zipfile.ZipFile(out, "w") as z:
    z.write(adapter, "extensions/portside")
    z.write(shim, "bootstrap")
PY
    # An offline provider mirror where terraform/check.sh finds one.
    if [ -z "${TF_PLUGIN_DIR:-}" ] && [ ! -d terraform/.terraform/providers ]; then
        found="$(find /opt -maxdepth 5 -type d -path '*/registry.terraform.io/hashicorp/aws' 2>/dev/null | head -n 1 || true)"
        if [ -n "$found" ]; then
            export TF_PLUGIN_DIR="$(dirname "$(dirname "$(dirname "$found")")")"
        fi
    fi
    arch_var=()
    [ "$arch" = x86_64 ] || arch_var=(--var "architecture=$arch")
    case "$layer_zip" in /*) ;; *) layer_zip="$PWD/$layer_zip" ;; esac
    run_in_background "$target/debug/portside-local" up terraform \
        --var "layer_zip_path=$layer_zip" ${arch_var[@]+"${arch_var[@]}"} "$@"
    exit $?
fi

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
# Where cargo builds (CARGO_TARGET_DIR, relative to the repository, else target/).
target=${CARGO_TARGET_DIR:-target}
layer=$target/local-layer
rm -rf "$layer"
mkdir -p "$layer/extensions"
cp "$target/debug/portside" "$layer/extensions/portside"
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

# In the background (see run_in_background): the data is deleted only once
# portside-local has stopped its function.
status=0
run_in_background "$target/debug/portside-local" \
    --function sample-app \
    --handler run.sh \
    --layer "$layer" \
    --env PORT=8000 \
    --env "SQLITE_PATH=$sqlite_path" \
    --example-event "$example_event" \
    "$@" || status=$?
exit "$status"
