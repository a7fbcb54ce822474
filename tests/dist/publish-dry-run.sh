#!/usr/bin/env bash
# `cargo publish --dry-run` for both crates: each packages (its include
# list, the licences, local's symlinked civil.rs and shim packaged as
# files, no path dependency without a version) and builds from the package
# alone, as crates.io would. The name `portside` on crates.io belongs to
# another project (cargo warns that the version exists there): the release
# workflow publishes portside-local only, until the adapter crate has a name.
set -euo pipefail
cd "$(dirname "$0")/../.."
for crate in portside portside-local; do
    echo "==> cargo publish --dry-run -p $crate"
    cargo publish --dry-run --locked --quiet -p "$crate" 2>&1 \
        | grep -v -e '^warning: ignoring \(test\|benchmark\) `' -e 'is not included in the published package' || true
    test "${PIPESTATUS[0]}" = 0
done
