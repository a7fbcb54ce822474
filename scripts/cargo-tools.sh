#!/usr/bin/env bash
# Installs the cargo tools the project's scripts use, from crates.io, at the
# versions named here (into cargo's own bin folder, so later runs and other
# clones reuse them): cargo-cyclonedx (the SBOMs of ./build.sh --dist) and
# mdbook (the user guide, docs/). Each is installed only when missing or at
# another version; the first install compiles it (a few minutes each).
#
# Usage: scripts/cargo-tools.sh TOOL...    (cargo-cyclonedx, mdbook)
set -euo pipefail

install() {  # install NAME VERSION [cargo install options]
    local name=$1 version=$2
    shift 2
    if cargo install --list | grep -qx "$name v$version:"; then
        return 0
    fi
    echo "==> installing $name $version from crates.io (cargo install)" >&2
    # --debug: both tools do seconds of work per run, and a debug build
    # compiles in about 40% of a release build's CPU time (mdbook 0.5.4: 1 min
    # 39 s of CPU against 4 min 1 s), which a fresh CI machine pays each time.
    cargo install --locked --quiet --debug "$name@$version" "$@"
}

for tool in "$@"; do
    case "$tool" in
        cargo-cyclonedx) install cargo-cyclonedx 0.5.9 ;;
        # Without the serve and watch features: the build and search only.
        mdbook) install mdbook 0.5.4 --no-default-features --features search ;;
        *) echo "cargo-tools.sh: unknown tool $tool (cargo-cyclonedx, mdbook)" >&2; exit 2 ;;
    esac
done
