#!/usr/bin/env bash
# Builds the sample app's Lambda function zip:
#
#   sample-app/package.sh ARCH PYVER OUTZIP
#     ARCH    x86_64 or arm64 (the function's architecture)
#     PYVER   the managed Python runtime's version, e.g. 3.12
#     OUTZIP  the zip to write (its folder is created; an old zip is replaced)
#
# The zip holds run.sh (mode 755: the handler the shim runs), gunicorn.conf.py,
# the users_api package, and the packages of requirements.txt vendored at its
# root for Lambda's platform: manylinux2014 wheels for ARCH and CPython PYVER,
# binary wheels only, so nothing is compiled for the build machine by mistake.
# boto3 is not vendored: the managed runtime has it.
#
# When an interpreter of version PYVER is on PATH (pythonPYVER or python3),
# the code is also compiled to bytecode: /var/task is read-only, so without
# .pyc files every cold start compiles every imported module again.
#
# Needs: bash, python3 (3.9+) with pip, and access to PyPI. Entries get fixed
# timestamps, so the same inputs give the same zip (and the same hash).
set -euo pipefail

die() { echo "package.sh: $*" >&2; exit 1; }
usage() { echo "usage: $0 ARCH PYVER OUTZIP   (ARCH: x86_64 or arm64; PYVER: e.g. 3.12)" >&2; exit 2; }

[ $# -eq 3 ] || usage
arch=$1 pyver=$2 out=$3

case $arch in
    x86_64) platform=manylinux2014_x86_64 ;;
    arm64) platform=manylinux2014_aarch64 ;;
    *) die "ARCH must be x86_64 or arm64, not '$arch'" ;;
esac
[[ $pyver =~ ^3\.[0-9]+$ ]] || die "PYVER must be a Python version like 3.12, not '$pyver'"
[ -n "$out" ] || usage

command -v python3 >/dev/null 2>&1 \
    || die "python3 is not installed (or not on PATH); install Python 3.9+ with pip"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
    || die "python3 is $(python3 -V 2>&1); 3.9 or newer is needed"
python3 -m pip --version >/dev/null 2>&1 \
    || die "pip is not available for python3 ($(command -v python3)); install it (e.g. python3-pip) or use the project's .venv (. scripts/python-env.sh)"

here=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
for f in run.sh gunicorn.conf.py requirements.txt users_api/app.py; do
    [ -e "$here/$f" ] || die "$here/$f is missing"
done

mkdir -p -- "$(dirname -- "$out")" || die "cannot create the folder for $out"
out=$(CDPATH='' cd -- "$(dirname -- "$out")" && pwd)/$(basename -- "$out")

build=$(mktemp -d "${TMPDIR:-/tmp}/sample-app-package.XXXXXX") || die "cannot create a temporary folder"
trap 'rm -rf -- "$build"' EXIT
root=$build/root

echo "package.sh: vendoring requirements.txt for $platform, CPython $pyver" >&2
python3 -m pip install \
    --quiet --disable-pip-version-check --no-input --no-compile \
    --target "$root" \
    --platform "$platform" --implementation cp --python-version "$pyver" \
    --only-binary=:all: \
    --requirement "$here/requirements.txt" \
    || die "pip could not vendor the requirements for $platform / CPython $pyver (see its messages above)"

# Console scripts pip wrote for this machine's interpreter: useless on Lambda.
rm -rf -- "$root/bin"

cp -R -- "$here/users_api" "$root/users_api"
cp -- "$here/run.sh" "$here/gunicorn.conf.py" "$root/"
find "$root" -name __pycache__ -type d -prune -exec rm -rf -- {} +

compiler=
for candidate in "python$pyver" python3; do
    if "$candidate" -c "import sys; sys.exit('%d.%d' % sys.version_info[:2] != '$pyver')" >/dev/null 2>&1; then
        compiler=$candidate
        break
    fi
done
if [ -n "$compiler" ]; then
    # unchecked-hash: zip timestamps are too coarse to validate .pyc files by
    # mtime, and the files never change under /var/task anyway. -s/-p record
    # /var/task paths instead of this build's random temporary folder.
    "$compiler" -m compileall -q -j 0 --invalidation-mode unchecked-hash -s "$root" -p /var/task "$root" >&2 \
        || echo "package.sh: warning: some files did not compile to bytecode; they will be compiled at import" >&2
else
    echo "package.sh: note: no Python $pyver here (python$pyver); skipping bytecode, so cold starts compile on import" >&2
fi

python3 - "$root" "$out" <<'PY' || die "could not write $out"
import os
import sys
import zipfile

root, out = sys.argv[1], sys.argv[2]
fixed_time = (1980, 1, 1, 0, 0, 0)


def entry(name, mode):
    info = zipfile.ZipInfo(name, date_time=fixed_time)
    info.create_system = 3  # Unix, so the mode bits below are honoured
    info.external_attr = mode << 16
    return info


count = 0
size = 0
tmp = out + ".tmp"
try:
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            rel = os.path.relpath(folder, root)
            if rel != ".":
                zf.writestr(entry(rel.replace(os.sep, "/") + "/", 0o40755), b"")
            for name in sorted(files):
                path = os.path.join(folder, name)
                arcname = os.path.relpath(path, root).replace(os.sep, "/")
                executable = arcname == "run.sh" or os.stat(path).st_mode & 0o111
                info = entry(arcname, 0o100755 if executable else 0o100644)
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(path, "rb") as f:
                    data = f.read()
                zf.writestr(info, data)
                count += 1
                size += len(data)
except BaseException:
    if os.path.exists(tmp):
        os.remove(tmp)
    raise
os.replace(tmp, out)
print(f"package.sh: wrote {out} ({count} files, {size / 1e6:.1f} MB unpacked)", file=sys.stderr)
PY
