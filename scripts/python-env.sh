#!/usr/bin/env bash
# Creates (or refreshes) the project's Python environment in .venv and puts it
# first on PATH. Source it:
#
#   . scripts/python-env.sh          everything the tests need (the dev set:
#                                    requirements-dev.txt); ./test.sh does this
#   . scripts/python-env.sh serve    only what serving the sample app needs
#                                    (requirements-serve.txt: Flask, gunicorn);
#                                    ./serve.sh does this
#   . scripts/python-env.sh dist     only what building the release files
#                                    needs (requirements-dist.txt: maturin,
#                                    actionlint); ./build.sh --dist does this
#
# Safe to run repeatedly: each set is reinstalled only when its requirement
# files changed since it was last installed (the dev set includes the others).
#
# Needs: python3 (3.11+) with the venv module, and pip access to PyPI.

_pe_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_pe_venv="$_pe_root/.venv"

_pe_fail() {
    echo "python-env: $*" >&2
}

_pe_set=${1:-dev}
case "$_pe_set" in
    dev) _pe_files="requirements-dev.txt requirements-serve.txt requirements-dist.txt sample-app/requirements.txt" ;;
    serve) _pe_files="requirements-serve.txt sample-app/requirements.txt" ;;
    dist) _pe_files="requirements-dist.txt" ;;
    *)
        _pe_fail "unknown set '$_pe_set': use '. scripts/python-env.sh' (dev, for the tests), '. scripts/python-env.sh serve' (Flask and gunicorn only) or '. scripts/python-env.sh dist' (the release tools)"
        unset _pe_root _pe_venv _pe_set
        return 2 2>/dev/null || exit 2
        ;;
esac

if ! command -v python3 >/dev/null 2>&1; then
    _pe_fail "python3 is not installed; install Python 3.11+ and run again"
    return 1 2>/dev/null || exit 1
fi

_pe_hash() {
    (cd "$_pe_root" && cat $1) | sha256sum | cut -d' ' -f1
}

_pe_want=$(_pe_hash "$_pe_files")
_pe_stamp="$_pe_venv/.requirements-$_pe_set.sha256"
if [ ! -x "$_pe_venv/bin/python" ] || [ "$(cat "$_pe_stamp" 2>/dev/null)" != "$_pe_want" ]; then
    echo "python-env: installing the $_pe_set Python packages into $_pe_venv" >&2
    python3 -m venv "$_pe_venv" || { _pe_fail "could not create $_pe_venv (is python3-venv installed?)"; return 1 2>/dev/null || exit 1; }
    (cd "$_pe_root" && "$_pe_venv/bin/pip" install --quiet --disable-pip-version-check -r "requirements-$_pe_set.txt") \
        || { _pe_fail "pip install failed; see the messages above"; return 1 2>/dev/null || exit 1; }
    echo "$_pe_want" > "$_pe_stamp"
    if [ "$_pe_set" = dev ]; then
        # dev includes serve and dist: they are up to date too.
        _pe_hash "requirements-serve.txt sample-app/requirements.txt" > "$_pe_venv/.requirements-serve.sha256"
        _pe_hash "requirements-dist.txt" > "$_pe_venv/.requirements-dist.sha256"
    fi
fi

export VIRTUAL_ENV="$_pe_venv"
case ":$PATH:" in
    *":$_pe_venv/bin:"*) ;;
    *) export PATH="$_pe_venv/bin:$PATH" ;;
esac
unset _pe_root _pe_venv _pe_stamp _pe_want _pe_set _pe_files
unset -f _pe_fail _pe_hash
