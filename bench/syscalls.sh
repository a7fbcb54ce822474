#!/usr/bin/env bash
# System calls per invocation of one scenario, by name, counted by
# `strace -f -c` (every thread): the scenario runs N1 and then N2 invocations
# and the difference of the counts is divided by N2 - N1, so the start and
# the warm-up cancel out. Counts, not times: strace slows every call down,
# so its times say nothing about the adapter's.
#
#   bench/syscalls.sh [--binary PATH] SCENARIO [N1 N2]
#   bench/syscalls.sh small                                   # portside's release build
#   bench/syscalls.sh --binary target/peers/bin/lambda-adapter small    # LWA
#   cc -O2 -o /tmp/floor bench/floor.c && bench/syscalls.sh --binary /tmp/floor small   # the floor
#
# Scenarios are bench/profile.py's. Needs strace (Debian's package).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="$here/../target/x86_64-unknown-linux-musl/release/portside"
if [ "${1:-}" = "--binary" ]; then
    binary="$2"
    shift 2
fi
scenario="${1:?usage: bench/syscalls.sh [--binary PATH] SCENARIO [N1 N2]}"
n1="${2:-200}"
n2="${3:-1200}"
command -v strace >/dev/null || { echo "syscalls.sh: strace is not installed (apt-get install strace)" >&2; exit 1; }
[ -x "$binary" ] || { echo "syscalls.sh: no adapter binary at $binary" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for n in "$n1" "$n2"; do
    python3 "$here/profile.py" "$scenario" -n "$n" --binary "$binary" -- \
        strace -f -c -o "$out/strace.$n" >/dev/null 2>&1
done
python3 - "$out/strace.$n1" "$out/strace.$n2" "$n1" "$n2" "$binary" "$scenario" <<'PY'
import re, sys
def counts(path):
    out = {}
    for line in open(path):
        f = line.split()
        # % time, seconds, usecs/call, calls, [errors], syscall
        if len(f) >= 5 and re.fullmatch(r"[\d.]+", f[0]) and f[-1] != "total":
            calls = int(f[3])
            errors = int(f[4]) if len(f) == 6 else 0
            out[f[-1]] = (calls, errors)
    return out
a, b = counts(sys.argv[1]), counts(sys.argv[2])
n = int(sys.argv[4]) - int(sys.argv[3])
rows = []
for name in sorted(set(a) | set(b)):
    calls = (b.get(name, (0, 0))[0] - a.get(name, (0, 0))[0]) / n
    errors = (b.get(name, (0, 0))[1] - a.get(name, (0, 0))[1]) / n
    if calls >= 0.005:
        rows.append((calls, errors, name))
print(f"{sys.argv[6]}: system calls per invocation ({sys.argv[5]})")
for calls, errors, name in sorted(rows, reverse=True):
    err = f" ({errors:.2f} failed)" if errors >= 0.005 else ""
    print(f"  {name:<16} {calls:6.2f}{err}")
print(f"  {'total':<16} {sum(r[0] for r in rows):6.2f}")
PY
