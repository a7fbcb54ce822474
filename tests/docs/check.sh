#!/usr/bin/env bash
# The user guide: builds it with mdBook (installed from crates.io by
# scripts/cargo-tools.sh) into docs/book, fails on any mdBook warning or
# error, then checks every internal link and anchor (check_links.py).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/scripts/cargo-tools.sh" mdbook
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! mdbook build "$root/docs" > "$log" 2>&1 || grep -E ' (WARN|ERROR) ' "$log"; then
    cat "$log" >&2
    echo "check.sh: mdbook build failed or warned (see above)" >&2
    exit 1
fi
python3 "$root/tests/docs/check_links.py" "$root/docs/book"
