#!/usr/bin/env bash
# Builds the Python wheels of python/pyproject.toml into DIST with maturin
# (`bin` bindings: portside-local, compiled for the musl targets) and both
# layer zips, which must already be in DIST (./build.sh --dist calls this
# after building them). One wheel per architecture, tagged manylinux2014 and
# musllinux_1_2: the binary is static, so one file serves glibc and musl.
#
# Usage: scripts/wheels.sh DIST
# Honours what build.sh exports (SOURCE_DATE_EPOCH, RUSTFLAGS,
# PORTSIDE_COMMIT), so cargo reuses the portside-local it just built.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dist=$(cd "${1:?usage: scripts/wheels.sh DIST}" && pwd)

# maturin from PyPI, into the project's .venv (requirements-dist.txt).
. "$root/scripts/python-env.sh" dist

# The wheel's data folder: <prefix>/share/portside/ once installed, where
# portside-local looks for the layer zips (local/src/cli/installed.rs).
data="$root/target/wheel-data"
rm -rf "$data"
mkdir -p "$data/data/share/portside"
for arch in x86_64 arm64; do
    zip="$dist/portside-layer-$arch.zip"
    [ -f "$zip" ] || { echo "wheels.sh: $zip is missing; run ./build.sh --dist" >&2; exit 1; }
    cp "$zip" "$data/data/share/portside/"
done

rm -f "$dist"/portside-*.whl
for triple in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    echo "==> building the wheel for $triple (maturin)"
    if [ "$triple" = aarch64-unknown-linux-musl ]; then
        export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER="${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER:-rust-lld}"
    fi
    (cd "$root/python" && maturin build --release --locked --target "$triple" \
        --compatibility manylinux2014 musllinux_1_2 --out "$dist")
done
