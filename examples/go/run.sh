#!/bin/sh
# The function's handler: runs the compiled server (built by
# `go build -o server .`, see README.md) on 127.0.0.1:$PORT, as this process
# (exec), so SIGTERM reaches it.
#
# On Lambda (provided.al2023) the portside layer's /opt/bootstrap runs this
# from /var/task, which holds run.sh and server.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
exec "$here/server"
