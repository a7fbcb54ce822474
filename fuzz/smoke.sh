#!/usr/bin/env bash
# A short run of every fuzz target (CI's smoke run; fuzz/README.md has the
# long runs): FUZZ_SECONDS per target (30 by default) from the committed
# corpus, new inputs kept in corpus-work/ (not committed). Fails on the
# first crash, leaving it in artifacts/<target>/ to become a regression
# test. Needs a nightly toolchain (cargo-fuzz builds with sanitizers); skips
# with one line when there is none, installs cargo-fuzz when it is missing.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-30}"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz smoke: skipped, no nightly Rust toolchain (rustup toolchain install nightly to run it)"
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz smoke: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/target}"
cargo +nightly fuzz build
for target in $(cargo +nightly fuzz list); do
    mkdir -p "corpus-work/$target" "corpus/$target"
    echo "fuzz smoke: $target for ${seconds} s"
    # -timeout: one input taking over 10 s is a hang.
    log="corpus-work/$target.log"
    if ! cargo +nightly fuzz run "$target" "corpus-work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz smoke: $target failed; the input is in fuzz/artifacts/$target/" >&2
        exit 1
    fi
    grep -E '^(Done |stat::number_of_executed_units)' "$log" || true
done
echo "fuzz smoke: every target ran ${seconds} s without a crash"
