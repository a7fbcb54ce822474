#!/usr/bin/env bash
# Runs every test of the project: formatting and lints, the release build
# (static binaries, layer and function zips, wheels, SBOMs), the Rust tests
# (unit and end-to-end over real sockets and processes), a short run of every
# fuzz target (fuzz/smoke.sh), the sample app's tests, the end-to-end tests
# (and their arm64 subset under qemu-user), the offline Terraform checks, the
# Terraform stacks applied against moto, portside-local up on the sample stack
# and its own test stack, the release files (the wheel without Rust, cargo
# install, publishing dry runs, the layer publishing script, the workflows,
# reproducibility) and the user guide. CI runs exactly this (.ci/run).
#
# Installs what the tests need into the project: Python tools into .venv
# (scripts/python-env.sh), the musl Rust targets (build.sh), cargo-cyclonedx
# and mdbook (scripts/cargo-tools.sh), qemu-user (scripts/qemu.sh, apt), the
# examples' packages and builds (examples/install.sh), checkov into
# .venv-checkov (terraform/check.sh).
set -euo pipefail
cd "$(dirname "$0")"

# Each step says how long the run has taken so far, so a CI log shows where
# the time goes.
started=$(date +%s)
step() { printf '\n==> %s (at %d s)\n' "$*" "$(($(date +%s) - started))"; }

command -v cargo >/dev/null 2>&1 || { echo "test.sh: cargo is not installed; install Rust from https://rustup.rs" >&2; exit 1; }

step "Python tools (.venv)"
. scripts/python-env.sh

step "formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "release build: static adapters and portside-local, layer zips, wheels, SBOMs, function zips"
./build.sh --all

step "Rust tests"
cargo test --workspace --locked --no-fail-fast

step "fuzz smoke run: 30 s per target (skipped without nightly Rust)"
fuzz/smoke.sh

step "sample app tests"
python -m pytest -q sample-app/tests

step "portside-local's daily loop against its oracle: --env-file and python-dotenv"
python -m pytest -q tests/daily

step "end-to-end tests of the sample app through portside-local"
python -m pytest -q tests/e2e

step "the arm64 release files end to end under qemu-user (two doors, a stream, a pass-through event, a Web Functions app)"
tests/e2e/arm64.sh

step "examples: install (pip, npm ci, next build, go build) and end-to-end tests of each door"
examples/install.sh
python -m pytest -q tests/examples

step "Terraform checks"
terraform/check.sh

step "Terraform apply, second plan and destroy against moto"
python -m pytest -q tests/terraform

step "portside-local up: the sample stack and the test stack, through Terraform and moto"
python -m pytest -q tests/up

step "release files: the wheel without Rust, cargo install, the layer publishing script, the workflows"
python -m pytest -q tests/dist
tests/dist/publish-dry-run.sh

step "reproducibility: the layer zips, adapters and SBOMs built again in a clean clone"
if git diff --quiet HEAD -- 2>/dev/null; then
    tests/dist/reproducible.sh
else
    echo "skipped: the work tree has uncommitted changes and the second clone builds HEAD (CI's clean clone runs it)"
fi

step "the user guide: mdbook build, links and anchors, its tests"
tests/docs/check.sh
python -m pytest -q tests/docs

printf '\nAll tests passed in %d s.\n' "$(($(date +%s) - started))"
