#!/bin/sh
# The chat backend's Lambda handler: start the app on $PORT.
exec python3 "$(dirname "$0")/chat.py"
