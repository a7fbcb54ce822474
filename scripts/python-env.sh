#!/usr/bin/env bash
# Creates (or refreshes) the project's Python environment in .venv and puts it
# first on PATH. Source it: `. scripts/python-env.sh`. Safe to run repeatedly:
# it reinstalls only when requirements-dev.txt or sample-app/requirements.txt
# changed since the last install.
#
# Needs: python3 (3.11+) with the venv module, and pip access to PyPI.

_pe_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_pe_venv="$_pe_root/.venv"
_pe_stamp="$_pe_venv/.requirements.sha256"

if ! command -v python3 >/dev/null 2>&1; then
    echo "python-env: python3 is not installed; install Python 3.11+ and run again" >&2
    return 1 2>/dev/null || exit 1
fi

_pe_want=$(cat "$_pe_root/requirements-dev.txt" "$_pe_root/sample-app/requirements.txt" | sha256sum | cut -d' ' -f1)
if [ ! -x "$_pe_venv/bin/python" ] || [ "$(cat "$_pe_stamp" 2>/dev/null)" != "$_pe_want" ]; then
    echo "python-env: installing Python tools into $_pe_venv" >&2
    python3 -m venv "$_pe_venv" || { echo "python-env: could not create $_pe_venv (is python3-venv installed?)" >&2; return 1 2>/dev/null || exit 1; }
    (cd "$_pe_root" && "$_pe_venv/bin/pip" install --quiet --disable-pip-version-check -r requirements-dev.txt) \
        || { echo "python-env: pip install failed; see the messages above" >&2; return 1 2>/dev/null || exit 1; }
    echo "$_pe_want" > "$_pe_stamp"
fi

export VIRTUAL_ENV="$_pe_venv"
case ":$PATH:" in
    *":$_pe_venv/bin:"*) ;;
    *) export PATH="$_pe_venv/bin:$PATH" ;;
esac
unset _pe_root _pe_venv _pe_stamp _pe_want
