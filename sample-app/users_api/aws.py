"""boto3 clients configured from the environment.

Nothing here is Lambda-specific: credentials and region come from the usual
variables (``AWS_REGION`` / ``AWS_DEFAULT_REGION``, the credential chain),
and boto3 itself honours ``AWS_ENDPOINT_URL`` and the per-service variants
(``AWS_ENDPOINT_URL_DYNAMODB``, ``AWS_ENDPOINT_URL_S3``), which is how the
tests point it at moto.

boto3 is imported lazily: in SQLite mode the app never pays for it.
"""

import os
import threading


def preload():
    """Imports boto3 now rather than on the first request.

    The app is built before gunicorn opens its port (preload_app), so on
    Lambda this moves the import (the bulk of boto3's start-up cost) into
    the function's init phase, ahead of the first request.
    """
    import boto3  # noqa: F401
    import botocore.config  # noqa: F401


def region():
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


def make_client(service: str):
    import boto3
    from botocore.config import Config

    config = Config(
        # Fail fast enough that a stuck call shows up well inside a Lambda
        # timeout, and retry throttling with the standard back-off.
        connect_timeout=3,
        read_timeout=10,
        retries={"mode": "standard", "max_attempts": 3},
    )
    # A session per client: boto3's default session is not thread-safe.
    return boto3.session.Session().client(service, region_name=region(), config=config)


class LazyClient:
    """Creates the client on first use, in the process that uses it.

    The app object is built before gunicorn forks its workers (preload), and
    a client's connection pool must not be shared across a fork.
    """

    def __init__(self, service: str, factory=make_client):
        self._service = service
        self._factory = factory
        self._lock = threading.Lock()
        self._client = None
        self._pid = None

    def get(self):
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                self._client = self._factory(self._service)
                self._pid = os.getpid()
            return self._client
