#!/usr/bin/env bash
# Reproducibility: builds release files again from a clean clone of HEAD in
# another folder (its own target folder, nothing reused but cargo's
# download cache) and compares them byte for byte with dist/, which
# ./build.sh --dist made from the same commit.
#
# Usage: tests/dist/reproducible.sh          the layer zips and static adapters
#                                            (x86_64 and arm64, with the
#                                            version file in each zip) and the
#                                            SBOMs: what ./test.sh checks
#        tests/dist/reproducible.sh --all    every file SHA256SUMS lists (adds
#                                            portside-local and the wheels: two
#                                            more release builds)
# Prints how long the second build took.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
all=false
case "${1:-}" in
    "") ;;
    --all) all=true ;;
    *) echo "usage: tests/dist/reproducible.sh [--all]" >&2; exit 2 ;;
esac
die() { printf 'reproducible.sh: %s\n' "$*" >&2; exit 1; }

cd "$root"
git diff --quiet HEAD -- || die "the work tree has uncommitted changes; the clone builds HEAD: commit them (or stash) first"
[ -f dist/SHA256SUMS ] || die "dist/SHA256SUMS is missing: run ./build.sh --dist first"
head=$(git rev-parse HEAD)
built_from=$(python3 -c 'import json, sys, zipfile; print(json.loads(zipfile.ZipFile(sys.argv[1]).read("portside-version.json"))["commit"])' dist/portside-layer-x86_64.zip)
[ "$built_from" = "$head" ] || die "dist/ was built from $built_from, not HEAD ($head): run ./build.sh --dist again"

if $all; then
    mapfile -t files < <(awk '{print $2}' dist/SHA256SUMS)
else
    files=(portside-layer-x86_64.zip portside-layer-arm64.zip portside-x86_64 portside-arm64 portside.cdx.json portside-local.cdx.json)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/portside-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
git clone --quiet --no-hardlinks "$root" "$work/second-clone"
started=$(date +%s)
if $all; then
    (cd "$work/second-clone" && ./build.sh --dist) > "$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; die "the second build failed"; }
else
    (cd "$work/second-clone" && ./build.sh --layer && scripts/sbom.sh dist) > "$work/build.log" 2>&1 \
        || { tail -40 "$work/build.log" >&2; die "the second build failed"; }
fi
took=$(($(date +%s) - started))

status=0
for file in "${files[@]}"; do
    if ! cmp -s "dist/$file" "$work/second-clone/dist/$file"; then
        echo "reproducible.sh: $file differs between $root and $work/second-clone" >&2
        status=1
    fi
done
[ "$status" = 0 ] || die "the release files are not reproducible (see above)"
echo "reproducible.sh: ${#files[@]} files byte-identical across two clones of ${head:0:12} ($root and a clone in $work); the second build took $took s"
