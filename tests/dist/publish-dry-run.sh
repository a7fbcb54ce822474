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
    # The status is cargo's own: kept before the noise filter runs (a status
    # read after `| grep || true` would be true's, and the check could not fail).
    status=0
    out="$(cargo publish --dry-run --locked --quiet -p "$crate" 2>&1)" || status=$?
    printf '%s\n' "$out" \
        | grep -v -e '^warning: ignoring \(test\|benchmark\) `' -e 'is not included in the published package' || true
    if [ "$status" != 0 ]; then
        echo "publish-dry-run.sh: cargo publish --dry-run -p $crate failed (exit $status)" >&2
        exit "$status"
    fi
done
