#!/usr/bin/env bash
# Writes the CycloneDX SBOMs of the two shipped crates into DIST:
# portside.cdx.json (the adapter in the layer) and portside-local.cdx.json,
# by cargo-cyclonedx (installed by scripts/cargo-tools.sh), for the musl
# target the binaries are built for, without build-only dependencies.
# Reproducible: the timestamp is SOURCE_DATE_EPOCH (build.sh sets it to the
# commit's time) and the checkout's folder is written as /portside, as
# --remap-path-prefix writes it in the binaries.
#
# Usage: scripts/sbom.sh DIST
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dist=$(cd "${1:?usage: scripts/sbom.sh DIST}" && pwd)
"$root/scripts/cargo-tools.sh" cargo-cyclonedx
: "${SOURCE_DATE_EPOCH:=$(git -C "$root" log -1 --format=%ct HEAD)}"
export SOURCE_DATE_EPOCH

echo "==> writing the SBOMs (cargo-cyclonedx)"
(cd "$root" && cargo cyclonedx --quiet --format json --spec-version 1.5 \
    --target x86_64-unknown-linux-musl --no-build-deps)
for crate in layer/portside local/portside-local; do
    python3 - "$root" "$root/$crate.cdx.json" "$dist/$(basename "$crate").cdx.json" <<'PY'
import os, sys
root, source, out = sys.argv[1:]
text = open(source).read().replace("file://" + root, "file:///portside")
if root in text:
    sys.exit(f"sbom.sh: {source} names the checkout's folder ({root}) outside a file:// URL")
with open(out, "w") as f:
    f.write(text)
os.remove(source)
PY
done
