#!/bin/sh
# The function's handler: starts the Express app on 127.0.0.1:$PORT and
# becomes that process (exec), so SIGTERM reaches Node.
#
# On Lambda (nodejs20.x or later) the portside shim runs this from /var/task,
# which holds app.js and node_modules; node is the managed runtime's.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
exec node "$here/app.js"
