#!/bin/sh
# The function's handler: starts the app under uvicorn on 127.0.0.1:$PORT and
# becomes that server (exec), so SIGTERM reaches uvicorn.
#
# On Lambda the portside shim runs this from /var/task, which holds main.py
# and the packages vendored from requirements.txt; python3 is the managed
# runtime's. Locally, put a Python with requirements.txt installed first on
# PATH (examples/install.sh makes examples/fastapi/.venv).
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH PYTHONUNBUFFERED=1
exec python3 -m uvicorn main:app --app-dir "$here" --host 127.0.0.1 --port "${PORT:-8080}" --no-access-log
