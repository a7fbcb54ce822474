#!/bin/sh
# The SSE app's Lambda handler: start the app on $PORT.
exec python3 "$(dirname "$0")/sse.py"
