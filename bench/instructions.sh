#!/usr/bin/env bash
# Instructions the adapter executes per invocation of one scenario, counted
# by valgrind's callgrind: deterministic for a given binary and input,
# whatever else the machine is doing, so it compares two builds where the
# CPU-time figures of bench/run.py are too noisy to. The startup and warm-up
# cost cancels out: the scenario runs N1 and then N2 invocations, and the
# difference of the totals is divided by N2 - N1.
#
#   bench/instructions.sh [--binary PATH] SCENARIO [N1 N2]
#   bench/instructions.sh small              # 500 and 1500 invocations
#   bench/instructions.sh json 20 60         # 1 MiB bodies: fewer
#
# Scenarios are bench/profile.py's (small, binary, upload, json, text,
# text-gzip). Needs valgrind (Debian's package).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="$here/../target/x86_64-unknown-linux-musl/release/portside"
if [ "${1:-}" = "--binary" ]; then
    binary="$2"
    shift 2
fi
scenario="${1:?usage: bench/instructions.sh [--binary PATH] SCENARIO [N1 N2]}"
n1="${2:-500}"
n2="${3:-1500}"
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
[ -x "$binary" ] || { echo "instructions.sh: no adapter binary at $binary (./build.sh --layer builds it)" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
total() {
    python3 "$here/profile.py" "$scenario" -n "$1" --binary "$binary" -- \
        valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1" >/dev/null 2>&1
    callgrind_annotate "$out/cg.$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
a="$(total "$n1")"
b="$(total "$n2")"
echo "$scenario: $(( (b - a) / (n2 - n1) )) instructions per invocation ($binary)"
