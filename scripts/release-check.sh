#!/usr/bin/env bash
# Checks that a release tag can be released: TAG is vX.Y.Z with X.Y.Z the
# workspace version in Cargo.toml (both crates and the wheel take it), and
# CHANGELOG.md has a dated section for it. The release workflow runs it
# first; it prints the version.
#
# Usage: scripts/release-check.sh TAG    (e.g. v0.2.0, or refs/tags/v0.2.0)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tag=${1:?usage: scripts/release-check.sh TAG}
tag=${tag#refs/tags/}
version=$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["workspace"]["package"]["version"])' "$root/Cargo.toml")
if [ "$tag" != "v$version" ]; then
    echo "release-check.sh: the tag $tag does not match Cargo.toml's version $version: tag v$version, or set the version first" >&2
    exit 1
fi
if ! grep -Eq "^## \[$version\] - [0-9]{4}-[0-9]{2}-[0-9]{2}\$" "$root/CHANGELOG.md"; then
    echo "release-check.sh: CHANGELOG.md has no section '## [$version] - YYYY-MM-DD': move the Unreleased entries under it, dated" >&2
    exit 1
fi
"$root/scripts/release-notes.sh" "$version" >/dev/null
echo "$version"
