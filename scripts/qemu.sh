#!/usr/bin/env bash
# Makes sure qemu-user can run aarch64 binaries here: installs Debian's
# qemu-user-static with apt when neither qemu-aarch64-static nor
# qemu-aarch64 is on PATH. The arm64 end-to-end subset (tests/e2e/arm64.sh)
# runs the arm64 adapter and portside-local under it. Prints the emulator's path.
set -euo pipefail
find_qemu() { command -v qemu-aarch64-static || command -v qemu-aarch64; }
if ! find_qemu >/dev/null; then
    sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    command -v apt-get >/dev/null || { echo "qemu.sh: no apt-get here: install qemu-user-static (or qemu-user) with your package manager" >&2; exit 1; }
    echo "==> installing qemu-user-static (apt)" >&2
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq qemu-user-static >&2
fi
find_qemu
