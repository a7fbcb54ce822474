"""gunicorn settings for a Lambda sandbox (see sample-app/gunicorn.conf.py
for the reasoning behind each)."""

import os

bind = f"127.0.0.1:{os.environ.get('PORT', '8080')}"  # the adapter is the only client
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))  # one request at a time per sandbox
timeout = 0  # after a thaw every heartbeat looks stale; the function timeout bounds requests
keepalive = 0
preload_app = True  # "ready" means ready; an import error stops gunicorn with its traceback
accesslog = "-"
errorlog = "-"
control_socket_disable = True  # no control socket under a read-only $HOME
worker_tmp_dir = "/tmp"
