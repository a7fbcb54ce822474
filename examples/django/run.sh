#!/bin/sh
# The function's handler: starts the Django project under gunicorn on
# 127.0.0.1:$PORT and becomes that server (exec), so SIGTERM reaches it.
#
# On Lambda the portside shim runs this from /var/task, which holds the
# project and the packages vendored from requirements.txt. Locally, put a
# Python with requirements.txt installed first on PATH (examples/install.sh
# makes examples/django/.venv).
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-shop.settings}"
export PYTHONPATH DJANGO_SETTINGS_MODULE PYTHONUNBUFFERED=1
exec python3 -m gunicorn --config "$here/gunicorn.conf.py" shop.wsgi:application
