"""The same Web Functions contract from a second language: the Python app of
examples/web-function-python/ (standard library only, listening on
AWS_LAMBDA_HTTP_ENDPOINT) run directly and through each path of
web_support.PATHS, with the shared cases and the Web Functions ones."""

from cases import *  # noqa: F401,F403  the shared cases
from web_cases import *  # noqa: F401,F403  the Web Functions cases and the `through` paths

EXAMPLE = "web-function-python"
