#!/bin/sh
# On classic Lambda (the portside layer's shim runs this): the same command as
# anywhere else; the app reads AWS_LAMBDA_HTTP_ENDPOINT, which the shim exports.
exec python3 app.py
