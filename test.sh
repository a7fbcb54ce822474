#!/usr/bin/env bash
# Runs every test of the project: formatting and lints, the release build
# (static binaries, layer and function zips), the Rust tests (unit and
# end-to-end over real sockets and processes), a short run of every fuzz
# target (fuzz/smoke.sh), the sample app's tests, the
# offline Terraform checks, the Terraform stacks applied against moto, and
# portside-local up on the sample stack and its own test stack. CI runs
# exactly this (.ci/run).
#
# Installs what the tests need into the project: Python tools into .venv
# (scripts/python-env.sh), the musl Rust target (build.sh), the examples'
# packages and builds (examples/install.sh), checkov into .venv-checkov
# (terraform/check.sh).
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n==> %s\n' "$*"; }

command -v cargo >/dev/null 2>&1 || { echo "test.sh: cargo is not installed; install Rust from https://rustup.rs" >&2; exit 1; }

step "Python tools (.venv)"
. scripts/python-env.sh

step "formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "release build: static adapter, layer and function zips"
./build.sh

step "Rust tests"
cargo test --workspace --locked

step "fuzz smoke run: 30 s per target (skipped without nightly Rust)"
fuzz/smoke.sh

step "sample app tests"
python -m pytest -q sample-app/tests

step "portside-local's daily loop against its oracle: --env-file and python-dotenv"
python -m pytest -q tests/daily

step "end-to-end tests of the sample app through portside-local"
python -m pytest -q tests/e2e

step "examples: install (pip, npm ci, next build, go build) and end-to-end tests of each door"
examples/install.sh
python -m pytest -q tests/examples

step "Terraform checks"
terraform/check.sh

step "Terraform apply, second plan and destroy against moto"
python -m pytest -q tests/terraform

step "portside-local up: the sample stack and the test stack, through Terraform and moto"
python -m pytest -q tests/up

printf '\nAll tests passed.\n'
