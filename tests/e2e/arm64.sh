#!/usr/bin/env bash
# The end-to-end subset on the arm64 release files, so the Graviton layer is
# never shipped untested: dist/portside-local-arm64 and the adapter from
# dist/portside-layer-arm64.zip run under qemu-user (scripts/qemu.sh
# installs it), the sample app natively. The cases: the users API through
# two front doors (HTTP API on SQLite, REST API on DynamoDB), a streamed
# response (Function URL in RESPONSE_STREAM mode, Server-Sent Events), a
# pass-through event (the S3 CSV import, on SQLite), and a Lambda Web
# Functions app (Node, started as `node index.js`) behind an HTTP API with
# PORTSIDE_WEB_FUNCTION=true.
#
# Needs ./build.sh --dist first and the project's .venv on PATH
# (. scripts/python-env.sh); ./test.sh runs it after the native suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/qemu.sh >/dev/null
export PORTSIDE_E2E_ARCH=arm64
exec python -m pytest -q \
    "tests/e2e/test_e2e_users_api.py::test_create_answers_201_with_the_user_and_its_location" \
    "tests/e2e/test_e2e_users_api.py::test_pagination_visits_every_user_exactly_once" \
    "tests/e2e/test_e2e_users_api.py::test_non_ascii_json_survives_both_ways_text_and_binary" \
    "tests/e2e/test_e2e_users_api.py::test_status_and_headers_are_the_apps_own" \
    tests/e2e/test_e2e_streaming.py \
    "tests/e2e/test_e2e_s3_import.py::test_import_reports_counts_and_bad_rows_with_row_numbers" \
    "tests/e2e/test_e2e_s3_import.py::test_imported_users_are_served_by_the_http_api" \
    tests/e2e/test_e2e_web_function.py \
    -k "sqlite or rest-api-dynamodb or streaming or web_function" "$@"
