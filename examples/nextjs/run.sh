#!/bin/sh
# The function's handler: starts the Next.js standalone server on
# 127.0.0.1:$PORT and becomes that process (exec), so SIGTERM reaches Node.
#
# On Lambda (nodejs20.x or later) the portside shim runs this from /var/task,
# which holds the contents of .next/standalone (server.js, .next/,
# node_modules/) next to this script; locally it runs the build in
# .next/standalone (examples/install.sh runs `next build`).
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
if [ -f "$here/server.js" ]; then
    server="$here/server.js"
else
    server="$here/.next/standalone/server.js"
fi
[ -f "$server" ] || { echo "run.sh: $server is missing; build the app first (npm ci && npx next build)" >&2; exit 1; }
# Next's server listens on HOSTNAME (0.0.0.0 by default): the adapter is the
# only client, so loopback only.
HOSTNAME=127.0.0.1
NEXT_TELEMETRY_DISABLED=1
export HOSTNAME NEXT_TELEMETRY_DISABLED
exec node "$server"
