#!/usr/bin/env bash
# Builds bench/load (the Managed Instances benchmark's Go app and load driver)
# into OUT. Installs Debian's golang-go first when go is missing and we are
# root (as examples/install.sh does for the Go example); standard library
# only, so nothing is downloaded by go itself (GOPROXY=off).
#
#   bench/load/build.sh OUT
set -euo pipefail
out="${1:?usage: bench/load/build.sh OUT}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v go >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bench/load/build.sh: installing Debian's golang-go" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
    else
        echo "bench/load/build.sh: go is not installed (Debian: apt-get install golang-go, Go 1.19 or later)" >&2
        exit 1
    fi
fi
cd "$here"
GOPROXY=off GOFLAGS=-mod=mod go build -o "$out" .
