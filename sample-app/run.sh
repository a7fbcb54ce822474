#!/bin/sh
# The function's handler: starts the users API under gunicorn on
# 127.0.0.1:$PORT and becomes that server (exec), so signals reach gunicorn.
#
# On Lambda the shim runs this from LAMBDA_TASK_ROOT (/var/task), which holds
# the app and its vendored dependencies; python3 is the managed runtime's.
# Locally it runs from sample-app/ with the project's .venv first on PATH.
#
# Environment: PORT (default 8080), USERS_TABLE or SQLITE_PATH (storage),
# WEB_CONCURRENCY (gunicorn workers, default 1). See README.md.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

# The app and the vendored packages live next to this script. boto3 comes
# with the managed runtime; on runtimes that keep it in LAMBDA_RUNTIME_DIR
# rather than in the interpreter's site-packages, that folder is searched
# last so nothing vendored is shadowed.
PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}${LAMBDA_RUNTIME_DIR:+:$LAMBDA_RUNTIME_DIR}"
export PYTHONPATH
export PYTHONUNBUFFERED=1

exec python3 -m gunicorn --config "$here/gunicorn.conf.py" "users_api.app:create_app()"
