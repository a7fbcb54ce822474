#!/usr/bin/env bash
# Builds portside's files into dist/.
#
#   ./build.sh            the layer zips and bare adapters, and the sample
#                         app's function zips (what `terraform apply` deploys)
#   ./build.sh --layer    the layer zips and bare adapters only
#   ./build.sh --dist     the release files (what a release uploads):
#       portside-layer-x86_64.zip, portside-layer-arm64.zip
#                         extensions/portside + bootstrap (the shim) +
#                         portside-version.json (version, commit, architecture)
#       portside-x86_64, portside-arm64             the static adapters (container images)
#       portside-local-x86_64, portside-local-arm64 static portside-local
#       portside-VERSION-py3-none-manylinux_2_17_ARCH.manylinux2014_ARCH.musllinux_1_2_ARCH.whl
#                         the Python wheels (x86_64, aarch64): portside-local
#                         on PATH and both layer zips (python/pyproject.toml)
#       portside.cdx.json, portside-local.cdx.json  CycloneDX SBOMs (cargo-cyclonedx)
#       SHA256SUMS        the checksums of all of the above
#   ./build.sh --all      --dist and the sample app's zips (what ./test.sh runs)
#
# Every binary is a static musl binary: no glibc version requirement, so it
# runs on Amazon Linux 2, Amazon Linux 2023 and musl images alike. Rust's
# musl targets carry their own C runtime and rust-lld links them, so arm64
# needs no cross compiler.
#
# Reproducible: two builds of one commit, in any two folders, give the same
# bytes for every release file (tests/dist/reproducible.sh checks it):
# SOURCE_DATE_EPOCH is the commit's time (the zips' file times, the wheels',
# the SBOMs' timestamps), zip entries are written in a fixed order with
# fixed modes, and --remap-path-prefix takes the checkout's and cargo's
# folders out of the binaries. Same toolchain (rust-toolchain: see
# CONTRIBUTING.md) and zlib assumed.
#
# Environment: PYTHON_VERSION (default 3.12) for the sample app's wheels.
set -euo pipefail

cd "$(dirname "$0")"
root=$(pwd)
dist="$root/dist"
python_version="${PYTHON_VERSION:-3.12}"
want_sample=true want_dist=false
case "${1:-}" in
    "") ;;
    --layer) want_sample=false ;;
    --dist) want_sample=false want_dist=true ;;
    --all) want_dist=true ;;
    *) echo "usage: ./build.sh [--layer | --dist | --all]" >&2; exit 2 ;;
esac

say() { printf '==> %s\n' "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed; $2"; }

need cargo "install Rust from https://rustup.rs"
need rustup "install Rust through rustup (https://rustup.rs) so the musl targets can be added"
need python3 "install Python 3.11 or newer (it zips the layer and vendors the sample app's wheels)"

built=()
skipped=()

# --- what the build is of, for the version file, --version and the dates ----
version=$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["workspace"]["package"]["version"])')
if git rev-parse --verify -q HEAD >/dev/null 2>&1; then
    commit=$(git rev-parse HEAD)
    export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct HEAD)}"
    label=${commit:0:12}
    if ! git diff --quiet HEAD -- 2>/dev/null; then
        commit="$commit+dirty" label="$label+dirty"
    fi
else
    commit=unknown label=unknown
    export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-315532800}"  # 1980-01-01, zip's first day
fi
# Read by option_env! in both binaries' --version (and the adapter's first log line).
export PORTSIDE_COMMIT="$label"
# Only the --target builds below see RUSTFLAGS (build scripts and proc macros
# do not), so the paths of this checkout and of cargo's registry never reach
# a shipped binary.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }--remap-path-prefix=$root=/portside --remap-path-prefix=$cargo_home=/cargo"

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
PY
    if command -v ldd >/dev/null 2>&1 && ldd "$1" 2>&1 | grep -q '=>'; then
        die "$1 links shared libraries: $(ldd "$1" 2>&1 | tr '\n' ' ')"
    fi
}

# zip_layer BINARY ARCH OUT: extensions/portside and bootstrap (mode 755) and
# portside-version.json (644), in that order, dated SOURCE_DATE_EPOCH.
zip_layer() {
    python3 - "$1" "$root/shim/bootstrap" "$2" "$3" "$version" "$commit" <<'PY'
import json, os, sys, time, zipfile
binary, shim, arch, out, version, commit = sys.argv[1:]
when = time.gmtime(max(int(os.environ["SOURCE_DATE_EPOCH"]), 315532800))[:6]
info_json = json.dumps({"name": "portside", "version": version, "commit": commit,
                        "architecture": arch}, indent=2) + "\n"
entries = [("extensions/portside", open(binary, "rb").read(), 0o755),
           ("bootstrap", open(shim, "rb").read(), 0o755),
           ("portside-version.json", info_json.encode(), 0o644)]
with zipfile.ZipFile(out + ".tmp", "w") as z:
    for name, data, mode in entries:
        info = zipfile.ZipInfo(name, date_time=when)
        info.create_system = 3  # Unix, so the modes below are read
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, data, compresslevel=9)
os.replace(out + ".tmp", out)
PY
}

size_of() { du -h "$1" | cut -f1; }

ensure_target() {
    rustup target list --installed | grep -qx "$1" && return 0
    say "adding the Rust target $1"
    rustup target add "$1"
}

# build_release PACKAGE TRIPLE: a static release binary; prints its path.
build_release() {
    local linker_var
    linker_var="CARGO_TARGET_$(echo "$2" | tr 'a-z-' 'A-Z_')_LINKER"
    # rust-lld links the aarch64 musl target without a cross compiler.
    if [ "$2" = aarch64-unknown-linux-musl ] && [ -z "${!linker_var:-}" ]; then
        export "$linker_var=rust-lld"
    fi
    cargo build --release --locked --target "$2" -p "$1" >&2
    check_static "$root/target/$2/release/$1"
    echo "$root/target/$2/release/$1"
}

mkdir -p "$dist"

# --- the adapters and layer zips ----------------------------------------------
arches=(x86_64)
ensure_target x86_64-unknown-linux-musl \
    || die "cannot add the Rust target x86_64-unknown-linux-musl (rustup target add needs network access to rustup's servers)"
if ensure_target aarch64-unknown-linux-musl; then
    arches+=(arm64)
elif $want_dist; then
    die "the release files need the Rust target aarch64-unknown-linux-musl: rustup target add aarch64-unknown-linux-musl"
else
    rm -f "$dist/portside-layer-arm64.zip"
    skipped+=("dist/portside-layer-arm64.zip: the Rust target aarch64-unknown-linux-musl is not installed (rustup target add aarch64-unknown-linux-musl)")
fi
triple() { case "$1" in x86_64) echo x86_64-unknown-linux-musl ;; arm64) echo aarch64-unknown-linux-musl ;; esac; }

for arch in "${arches[@]}"; do
    say "building portside for $arch (release, static musl)"
    binary=$(build_release portside "$(triple "$arch")")
    if [ "$arch" = x86_64 ]; then
        # The size budget is a promise of the project (README, bench/): keep it.
        budget=$((3 * 1024 * 1024 / 2))
        size=$(stat -c %s "$binary")
        [ "$size" -le "$budget" ] || die "the x86_64 adapter is $size bytes, over its budget of $budget (1.5 MiB); see what grew with cargo bloat --release --target x86_64-unknown-linux-musl -p portside --crates"
    fi
    zip_layer "$binary" "$arch" "$dist/portside-layer-$arch.zip"
    cp "$binary" "$dist/portside-$arch"  # for container images: COPY it to /opt/extensions/portside
    built+=("dist/portside-layer-$arch.zip ($(size_of "$dist/portside-layer-$arch.zip"); binary $(stat -c %s "$binary") bytes, static)")
done

# --- the release files ----------------------------------------------------------
if $want_dist; then
    # maturin compiles portside-local for each musl target while it builds
    # the wheels; the standalone binaries are the very files in the wheels.
    "$root/scripts/wheels.sh" "$dist"
    for arch in x86_64 arm64; do
        binary="$root/target/$(triple "$arch")/release/portside-local"
        check_static "$binary"
        cp "$binary" "$dist/portside-local-$arch"
        built+=("dist/portside-local-$arch ($(size_of "$binary"), static)")
    done
    built+=("the wheels: $(cd "$dist" && echo portside-*.whl)")
    "$root/scripts/sbom.sh" "$dist"
    built+=("dist/portside.cdx.json, dist/portside-local.cdx.json (CycloneDX SBOMs)")
    (
        cd "$dist"
        sha256sum portside-layer-x86_64.zip portside-layer-arm64.zip portside-x86_64 portside-arm64 \
            portside-local-x86_64 portside-local-arm64 portside-*.whl portside.cdx.json portside-local.cdx.json \
            | LC_ALL=C sort -k2 > SHA256SUMS
    )
    built+=("dist/SHA256SUMS")
fi

if $want_sample; then
    for arch in x86_64 arm64; do
        say "packaging the sample app for $arch (Python $python_version wheels)"
        "$root/sample-app/package.sh" "$arch" "$python_version" "$dist/sample-app-$arch.zip"
        built+=("dist/sample-app-$arch.zip ($(size_of "$dist/sample-app-$arch.zip"))")
    done
else
    skipped+=("the sample app zips: ${1} was given")
fi

echo
echo "Built (portside $version, commit $label):"
printf '  %s\n' "${built[@]}"
if [ ${#skipped[@]} -gt 0 ]; then
    echo "Skipped:"
    printf '  %s\n' "${skipped[@]}"
fi
echo
echo "Next:"
echo "  terraform -chdir=terraform init && terraform -chdir=terraform apply    # deploy the sample stack"
echo "  ./serve.sh                                                              # or run it here, through portside-local"
