#!/usr/bin/env bash
# Builds the Express example's function zip, the package Lambda runs:
#
#   app.js, run.sh (executable), package.json, package-lock.json and the
#   production node_modules (npm ci --omit=dev from the lock file), at the
#   zip root.
#
# Usage: examples/express/package.sh [ZIP]
#   ZIP  where to write it (default: dist/express-example.zip at the
#        repository root); its folder is made when missing.
#
# The zip is reproducible: entries sorted, one fixed timestamp, only the
# execute bit kept from the files' modes. Needs npm (Node.js 20+) and
# python3; npm reads its cache first (--prefer-offline), so after
# examples/install.sh it needs no network.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/dist/express-example.zip}

die() { printf 'examples/express/package.sh: %s\n' "$*" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || die "npm is not installed; install Node.js 20 or later"
command -v python3 >/dev/null 2>&1 || die "python3 is not installed; it writes the zip"

mkdir -p "$(dirname "$out")" || die "cannot create the folder of $out"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"

build=$(mktemp -d "${TMPDIR:-/tmp}/portside-express-package.XXXXXX")
trap 'rm -rf "$build"' EXIT

files=(app.js run.sh package.json package-lock.json)
for f in "${files[@]}"; do
    [ -f "$here/$f" ] || die "$here/$f is missing"
    cp -p "$here/$f" "$build/$f"
done
chmod 755 "$build/run.sh"
# No bin links: nothing in the function runs node_modules/.bin, and zips
# carry symlinks badly.
(cd "$build" && npm ci --omit=dev --no-bin-links --ignore-scripts --no-audit --no-fund \
    --prefer-offline --loglevel=error) || die "npm ci failed in $build; see the messages above"

python3 - "$build" "$out" <<'PY' || die "could not write $out"
import os
import stat
import sys
import zipfile

root, out = sys.argv[1], sys.argv[2]
paths = []
for folder, dirs, names in os.walk(root):
    dirs.sort()
    for name in names:
        paths.append(os.path.join(folder, name))
tmp = out + ".tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for path in sorted(paths, key=lambda p: os.path.relpath(p, root)):
        mode = 0o755 if os.stat(path).st_mode & stat.S_IXUSR else 0o644
        info = zipfile.ZipInfo(os.path.relpath(path, root), date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = (stat.S_IFREG | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            z.writestr(info, f.read())
os.replace(tmp, out)
PY
echo "examples/express/package.sh: wrote $out ($(du -k "$out" | cut -f1) KiB)"
