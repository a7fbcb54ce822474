"""gunicorn settings for running the users API behind the portside adapter.

The same settings serve Lambda and a laptop; the notes say why each one
fits a Lambda sandbox, where the adapter is the only client and the whole
sandbox is frozen between invocations.
"""

import os

_port = os.environ.get("PORT", "").strip() or "8080"
if not (_port.isascii() and _port.isdigit() and 0 < int(_port) < 65536):
    raise SystemExit(f"gunicorn.conf.py: PORT must be a TCP port number, not {_port!r}")

# Loopback only: the adapter in the same sandbox is the only client.
bind = f"127.0.0.1:{_port}"

# Lambda sends a sandbox one request at a time, and a function gets one
# vCPU per 1,769 MB of memory: one sync worker is enough; WEB_CONCURRENCY=2
# buys some overlap locally or on a big function.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", "") or 1)

# No worker timeout. gunicorn's arbiter kills workers whose heartbeat looks
# stale; after Lambda thaws a sandbox frozen for minutes every heartbeat
# looks stale, and the worker would be killed under the request that just
# woke it. The function's own timeout bounds a request instead.
timeout = 0

# No keep-alive (the sync worker closes every connection after its response
# anyway; stated here so nobody "fixes" it by accident). A connection the
# adapter pooled before a freeze could be timed out by the server at the
# very moment the adapter reuses it after the thaw, resetting a request
# that might not be safe to resend. A fresh loopback connection per request
# costs well under a millisecond.
keepalive = 0

# Lambda gives the runtime at most two seconds to stop when a sandbox is
# shut down; there is never a request in flight then.
graceful_timeout = 2

# Import the app once, before forking: an import error stops gunicorn with
# the traceback instead of a worker boot loop, and the app is loaded before
# the port accepts requests (so readiness means ready). Connections (SQLite,
# boto3) are opened lazily in the worker.
preload_app = True

# API Gateway allows longer URLs than gunicorn's default 4 KB request line.
limit_request_line = 8190

# gunicorn 25+ opens a control socket under $HOME by default: pointless in a
# sandbox ($HOME is not writable on Lambda) and clashing between several
# local instances. Older versions ignore this unknown setting.
control_socket_disable = True

proc_name = "users-api"

# Everything, including the access log and the app's own loggers, goes to
# stderr (captured by CloudWatch Logs on Lambda, which adds timestamps);
# stdout stays unused.
access_log_format = '"%(r)s" %(s)s %(B)s %(M)sms'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(levelname)s [%(process)d] %(name)s: %(message)s"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
    },
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
    },
}
