#!/usr/bin/env bash
# Builds what `terraform apply` deploys, into dist/:
#
#   dist/portside-layer-x86_64.zip   extensions/portside (static) + bootstrap (the shim)
#   dist/portside-layer-arm64.zip    the same for Graviton, when the aarch64 target is installed
#   dist/portside-x86_64, -arm64     the bare binaries, for container images
#   dist/sample-app-x86_64.zip       the sample function, dependencies vendored for Lambda
#   dist/sample-app-arm64.zip
#
# The adapter is a static musl binary: no glibc version requirement, so it runs
# on Amazon Linux 2, Amazon Linux 2023 and musl-based container images alike.
#
# Usage: ./build.sh            everything
#        ./build.sh --layer    only the layer zips (what the tests need)
# Environment: PYTHON_VERSION (default 3.12) for the sample app's wheels.
set -euo pipefail

cd "$(dirname "$0")"
root=$(pwd)
dist="$root/dist"
python_version="${PYTHON_VERSION:-3.12}"
only_layer=false
case "${1:-}" in
    "") ;;
    --layer) only_layer=true ;;
    *) echo "usage: ./build.sh [--layer]" >&2; exit 2 ;;
esac

say() { printf '==> %s\n' "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed; $2"; }

need cargo "install Rust from https://rustup.rs"
need rustup "install Rust through rustup (https://rustup.rs) so the musl targets can be added"
need python3 "install Python 3.11 or newer (it zips the layer and vendors the sample app's wheels)"

built=()
skipped=()

# A static binary has no program interpreter (PT_INTERP) and no dynamic section.
check_static() {
    python3 - "$1" <<'PY' || die "$1 is not a static executable"
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:4] == b"\x7fELF", "not an ELF file"
assert data[4] == 2, "not a 64-bit ELF file"
e_phoff, = struct.unpack_from("<Q", data, 0x20)
e_phentsize, e_phnum = struct.unpack_from("<HH", data, 0x36)
for i in range(e_phnum):
    p_type, = struct.unpack_from("<I", data, e_phoff + i * e_phentsize)
    if p_type == 3:  # PT_INTERP
        sys.exit("it asks for a program interpreter (a dynamic loader)")
    if p_type == 2:  # PT_DYNAMIC: static-pie binaries have one but no NEEDED libraries
        pass
PY
    if command -v ldd >/dev/null 2>&1; then
        # ldd prints "not a dynamic executable" or "statically linked" for static binaries.
        if ldd "$1" 2>&1 | grep -q '=>'; then
            die "$1 links shared libraries: $(ldd "$1" 2>&1 | tr '\n' ' ')"
        fi
    fi
}

# zip_layer BINARY OUT: extensions/portside and bootstrap, both mode 755.
zip_layer() {
    python3 - "$1" "$root/shim/bootstrap" "$2" <<'PY'
import sys, zipfile
binary, shim, out = sys.argv[1:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for path, name in ((binary, "extensions/portside"), (shim, "bootstrap")):
        info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
        info.external_attr = (0o100755 & 0xFFFF) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, open(path, "rb").read())
PY
}

size_of() { du -h "$1" | cut -f1; }

mkdir -p "$dist"

# x86_64: required.
if ! rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
    say "adding the Rust target x86_64-unknown-linux-musl"
    rustup target add x86_64-unknown-linux-musl \
        || die "cannot add the Rust target x86_64-unknown-linux-musl (rustup target add x86_64-unknown-linux-musl needs network access to rustup's servers)"
fi
say "building portside for x86_64 (release, static musl)"
cargo build --release --locked --target x86_64-unknown-linux-musl -p portside
binary="$root/target/x86_64-unknown-linux-musl/release/portside"
check_static "$binary"
# The size budget is a promise of the project (README, bench/): keep it.
budget=$((3 * 1024 * 1024 / 2))
size=$(stat -c %s "$binary")
[ "$size" -le "$budget" ] || die "the x86_64 adapter is $size bytes, over its budget of $budget (1.5 MiB); see what grew with cargo bloat --release --target x86_64-unknown-linux-musl -p portside --crates"
zip_layer "$binary" "$dist/portside-layer-x86_64.zip"
cp "$binary" "$dist/portside-x86_64"  # for container images: COPY it to /opt/extensions/portside
built+=("dist/portside-layer-x86_64.zip ($(size_of "$dist/portside-layer-x86_64.zip"); binary $(stat -c %s "$binary") bytes, static)")

# arm64: when its target is installed. Rust's musl targets carry their own C
# runtime, so rust-lld links them without a cross compiler.
if rustup target list --installed | grep -qx aarch64-unknown-linux-musl; then
    say "building portside for arm64 (release, static musl)"
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER="${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER:-rust-lld}" \
        cargo build --release --locked --target aarch64-unknown-linux-musl -p portside
    binary="$root/target/aarch64-unknown-linux-musl/release/portside"
    check_static "$binary"
    zip_layer "$binary" "$dist/portside-layer-arm64.zip"
    cp "$binary" "$dist/portside-arm64"
    built+=("dist/portside-layer-arm64.zip ($(size_of "$dist/portside-layer-arm64.zip"); binary $(stat -c %s "$binary") bytes, static)")
else
    rm -f "$dist/portside-layer-arm64.zip"
    skipped+=("dist/portside-layer-arm64.zip: the Rust target aarch64-unknown-linux-musl is not installed (rustup target add aarch64-unknown-linux-musl)")
fi

if $only_layer; then
    skipped+=("the sample app zips: --layer was given")
else
    for arch in x86_64 arm64; do
        say "packaging the sample app for $arch (Python $python_version wheels)"
        "$root/sample-app/package.sh" "$arch" "$python_version" "$dist/sample-app-$arch.zip"
        built+=("dist/sample-app-$arch.zip ($(size_of "$dist/sample-app-$arch.zip"))")
    done
fi

echo
echo "Built:"
printf '  %s\n' "${built[@]}"
if [ ${#skipped[@]} -gt 0 ]; then
    echo "Skipped:"
    printf '  %s\n' "${skipped[@]}"
fi
echo
echo "Next:"
echo "  terraform -chdir=terraform init && terraform -chdir=terraform apply    # deploy the sample stack"
echo "  ./serve.sh                                                              # or run it here, through portside-local"
